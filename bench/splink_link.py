#!/usr/bin/env python3
"""The Splink side of bench/splink.sh, and the scorer both sides share.

  splink_link.py link REGISTRY LEAK --out MATCHES.csv [--timings T.json] [--model M.json]
                      [--max-pairs-u N] [--threshold P] [--map FIELD=COLUMN ...]
  splink_link.py score TRUTH.csv MATCHES.csv [--json]

`link` loads the registry CSV and a leak (CSV/TSV with header, or a JSON array of objects),
normalises both to the same columns with a hand-written mapping (below), links them with Splink
(DuckDB backend, link_only): comparisons from splink.comparison_library, blocking rules mirroring
leaktrace's own blocking keys, prior from deterministic rules, u by random sampling, m by EM; then
keeps the best registry person per leak row (highest match probability >= --threshold) and writes
MATCHES.csv with columns row,person_id (row = 0-based record index of the leak; person_id empty
when no match). Timings of each step go to --timings as JSON.

`score` compares a matches file (row,person_id[,...]; leaktrace's matches.csv or ours) with a
truth file (row,person_id; person_id empty for rows of nobody), over every row of the truth:
  p == t, both non-empty -> tp; p and t non-empty and different -> fp + fn; p only -> fp;
  t only -> fn; precision = tp/(tp+fp), recall = tp/(tp+fn), F1 their harmonic mean.
"""

import argparse
import csv
import json
import re
import sys
import time
import unicodedata
from pathlib import Path

T0 = time.perf_counter()

# --- common columns -------------------------------------------------------------------------
FIELDS = ["first_name", "surname", "dob", "postcode", "city", "email", "phone", "nir"]

# Registry column -> common field.
REGISTRY_MAP = {
    "first_name": "prenom",
    "surname": "nom",
    "dob": "date_naissance",
    "nir": "nir",
    "email": "email",
    "phone": "mobile",
    "postcode": "code_postal",
    "city": "commune",
}

# Hand-written mappings of the leak shapes benchmarked, by file stem: common field -> leak
# column ("full_name" -> a column holding "First LAST", split into first_name and surname).
# Deliberately unused, as leaktrace's analyze does not link on them either: app_dump's `id`
# (the person id itself: linking on it would be trivial), AGE/age (leaktrace fingerprints an age
# only given a reference date, which analyze does not pass), location, diploma, licence, ROME.
LEAK_MAPS = {
    "app_reshaped": {
        "surname": "NOM",
        "first_name": "PRENOM",
        "email": "MAIL",
        "phone": "PORTABLE",
        "postcode": "CP",
        "city": "VILLE",
    },
    "app_dump": {
        "first_name": "firstname",
        "surname": "lastname",
        "email": "email",
        "phone": "phone",
        "postcode": "zip",
        "city": "town",
    },
}


# --- normalisation (the same functions on both sides) ----------------------------------------
def fold(s):
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if not unicodedata.combining(c)).upper().strip()


def norm_name(s):
    """Folded, upper case, letters and digits only (JEAN-PIERRE == Jean Pierre == JEANPIERRE)."""
    return re.sub(r"[^A-Z0-9]", "", fold(s)) or None


def split_full_name(s):
    """'Jean-Pierre MARTIN' / 'MARTIN Jean-Pierre' -> (first, last): the upper-case words are the
    surname when the case tells; otherwise the first word is the first name."""
    words = s.split()
    if len(words) < 2:
        return (None, norm_name(s) if s.strip() else None)
    upper = [w for w in words if w.isupper() and len(w) > 1]
    if upper and len(upper) < len(words):
        last = " ".join(upper)
        first = " ".join(w for w in words if w not in upper)
    else:
        first, last = words[0], " ".join(words[1:])
    return norm_name(first), norm_name(last)


def norm_city(s):
    s = re.sub(r"[-'’.]", " ", fold(s))
    s = re.sub(r"\bCEDEX\b.*$", "", s)
    s = re.sub(r"\bSTE\b", "SAINTE", s)
    s = re.sub(r"\bST\b", "SAINT", s)
    return re.sub(r"\s+", " ", s).strip() or None


def norm_postcode(s):
    d = re.sub(r"\D", "", s)
    if len(d) == 4:  # lost its leading zero in a spreadsheet
        d = "0" + d
    return d if len(d) == 5 else None


def norm_email(s):
    s = s.strip().lower()
    return s if "@" in s else None


def norm_phone(s):
    """National format, ten digits: +33 6 12 34 56 78 / 0033612345678 / 612345678 -> 0612345678."""
    d = re.sub(r"\D", "", s)
    if d.startswith("0033"):
        d = "0" + d[4:]
    elif d.startswith("33") and len(d) == 11:
        d = "0" + d[2:]
    elif len(d) == 9:
        d = "0" + d
    return d if len(d) == 10 else None


def norm_nir(s):
    s = re.sub(r"[\s.\-]", "", s).upper()
    return s if re.fullmatch(r"[12]\d{2}\d{2}(\d{2}|2A|2B)\d{6}(\d{2})?", s) else None


_DATE_PATTERNS = [
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})"), ("y", "m", "d")),
    (re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), ("y", "m", "d")),
]


def norm_dob(s):
    s = s.strip()
    for rx, order in _DATE_PATTERNS:
        m = rx.match(s)
        if m:
            v = dict(zip(order, (int(x) for x in m.groups())))
            if 1 <= v["m"] <= 12 and 1 <= v["d"] <= 31:
                return f"{v['y']:04d}-{v['m']:02d}-{v['d']:02d}"
    return None


NORMALISERS = {
    "first_name": norm_name,
    "surname": norm_name,
    "dob": norm_dob,
    "postcode": norm_postcode,
    "city": norm_city,
    "email": norm_email,
    "phone": norm_phone,
    "nir": norm_nir,
}


def normalise(df, mapping, ids):
    """A pandas frame with unique_id and every common field (None where unmapped or invalid)."""
    import pandas as pd

    out = pd.DataFrame({"unique_id": ids})
    cols = {}
    for field in FIELDS:
        cols[field] = [None] * len(df)
    for field, col in mapping.items():
        if col not in df.columns:
            raise SystemExit(f"column {col!r} (for {field}) not in {list(df.columns)}")
        values = df[col].fillna("").astype(str).tolist()
        if field == "full_name":
            firsts, lasts = zip(*(split_full_name(v) if v else (None, None) for v in values))
            cols["first_name"], cols["surname"] = list(firsts), list(lasts)
        else:
            f = NORMALISERS[field]
            cols[field] = [f(v) if v.strip() else None for v in values]
    for field in FIELDS:
        out[field] = pd.Series(cols[field], dtype="object")
    return out


def read_leak(path):
    import pandas as pd

    path = Path(path)
    if path.suffix.lower() == ".json":
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if isinstance(data, dict):  # {"rows": [...]} and the like
            data = next(v for v in data.values() if isinstance(v, list))
        return pd.json_normalize(data).astype(str).replace({"nan": "", "None": ""})
    sep = "\t" if path.suffix.lower() == ".tsv" else None
    return pd.read_csv(path, dtype=str, keep_default_na=False, sep=sep, engine="python"
                       if sep is None else "c")


# --- link -----------------------------------------------------------------------------------
def link(args):
    import duckdb
    import pandas as pd
    import splink
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    timings = {"import": time.perf_counter() - T0}
    t = time.perf_counter()
    reg_raw = pd.read_csv(args.registry, dtype=str, keep_default_na=False)
    leak_raw = read_leak(args.leak)
    mapping = dict(LEAK_MAPS.get(Path(args.leak).stem, {}))
    for kv in args.map or []:
        k, v = kv.split("=", 1)
        mapping[k] = v
    if not mapping:
        raise SystemExit(f"no column mapping for {args.leak}: add one to LEAK_MAPS or use --map")
    reg = normalise(reg_raw, REGISTRY_MAP, reg_raw["person_id"].tolist())
    leak = normalise(leak_raw, mapping, [f"L{i:09d}" for i in range(len(leak_raw))])
    timings["load_normalise"] = time.perf_counter() - t

    # Compare and block only on fields the leak holds (an all-null column teaches nothing).
    present = {f for f in FIELDS if leak[f].notna().mean() > 0.05}
    comparisons = []
    if "first_name" in present:
        comparisons.append(cl.NameComparison("first_name").configure(
            term_frequency_adjustments=True))
    if "surname" in present:
        comparisons.append(cl.NameComparison("surname").configure(
            term_frequency_adjustments=True))
    if "dob" in present:
        comparisons.append(cl.DateOfBirthComparison("dob", input_is_string=True))
    if "email" in present:
        comparisons.append(cl.EmailComparison("email"))
    if "phone" in present:
        comparisons.append(cl.ExactMatch("phone"))
    if "postcode" in present:
        comparisons.append(cl.ExactMatch("postcode").configure(term_frequency_adjustments=True))
    if "city" in present:
        comparisons.append(cl.ExactMatch("city").configure(term_frequency_adjustments=True))
    if "nir" in present:
        comparisons.append(cl.ExactMatch("nir"))

    # leaktrace's blocking keys: nir, email, phone, surname+dob, first name+dob,
    # surname+first name+postcode (it also has a phonetic one: names' phonetic codes + year).
    candidates = [
        (("nir",), block_on("nir")),
        (("email",), block_on("email")),
        (("phone",), block_on("phone")),
        (("surname", "dob"), block_on("surname", "dob")),
        (("first_name", "dob"), block_on("first_name", "dob")),
        (("first_name", "surname", "postcode"), block_on("first_name", "surname", "postcode")),
    ]
    blocking = [br for cols, br in candidates if set(cols) <= present]
    deterministic = [br for cols, br in candidates
                     if set(cols) <= present and cols != ("first_name", "dob")]

    settings = SettingsCreator(
        link_type="link_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    t = time.perf_counter()
    con = duckdb.connect(":memory:")
    db_api = DuckDBAPI(connection=con)
    reg_sdf = db_api.register(reg, dataset_display_name="registry")
    leak_sdf = db_api.register(leak, dataset_display_name="leak")
    linker = Linker([reg_sdf, leak_sdf], settings, log_level=args.log_level)
    timings["setup"] = time.perf_counter() - t

    t = time.perf_counter()
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.9)
    timings["train_prior"] = time.perf_counter() - t
    t = time.perf_counter()
    linker.training.estimate_u_using_random_sampling(max_pairs=args.max_pairs_u, seed=42)
    timings["train_u"] = time.perf_counter() - t
    t = time.perf_counter()
    # Two EM sessions that together train every comparison: blocked on e-mail (trains names,
    # phone, places, dob, nir), then on the names (trains e-mail, phone, places, ...).
    em_rules = []
    if "email" in present:
        em_rules.append(block_on("email"))
    elif "phone" in present:
        em_rules.append(block_on("phone"))
    elif "nir" in present:
        em_rules.append(block_on("nir"))
    if {"first_name", "surname"} <= present:
        em_rules.append(block_on("first_name", "surname"))
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    timings["train_em"] = time.perf_counter() - t
    timings["train"] = timings["train_prior"] + timings["train_u"] + timings["train_em"]
    if args.model:
        linker.misc.save_model_to_json(args.model, overwrite=True)

    t = time.perf_counter()
    pred = linker.inference.predict(threshold_match_probability=args.threshold)
    timings["predict"] = time.perf_counter() - t

    t = time.perf_counter()
    # Best registry person per leak row (ties: lowest person id, for determinism).
    best = con.sql(f"""
        with p as (
          select case when unique_id_l like 'L%' then unique_id_l else unique_id_r end as leak_id,
                 case when unique_id_l like 'L%' then unique_id_r else unique_id_l end as person,
                 match_probability
          from {pred.physical_name})
        select leak_id, person, match_probability as prob,
               count(*) over (partition by leak_id) as n
        from p
        qualify row_number() over (partition by leak_id
                                   order by match_probability desc, person) = 1
    """).df()
    by_row = {int(r.leak_id[1:]): (r.person, r.prob) for r in best.itertuples()}
    with open(args.out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["row", "person_id", "match_probability"])
        for i in range(len(leak)):
            p, prob = by_row.get(i, ("", None))
            w.writerow([i, p, "" if prob is None else f"{prob:.6f}"])
    timings["best_match_write"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - T0

    info = {
        "splink": splink.__version__,
        "duckdb": duckdb.__version__,
        "pandas": pd.__version__,
        "leak": str(args.leak),
        "leak_rows": len(leak),
        "registry_rows": len(reg),
        "mapping": mapping,
        "fields_compared": sorted(present),
        "blocking_rules": [br.get_blocking_rule("duckdb").blocking_rule_sql for br in blocking],
        "max_pairs_u": args.max_pairs_u,
        "threshold": args.threshold,
        "pairs_above_threshold": int(best["n"].sum()) if len(best) else 0,
        "rows_linked": len(by_row),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }
    if args.timings:
        Path(args.timings).write_text(json.dumps(info, indent=1))
    print(json.dumps(info, indent=1), file=sys.stderr)


# --- score ----------------------------------------------------------------------------------
def score(truth_path, matches_path):
    with open(truth_path, newline="") as fh:
        truth = {int(r["row"]): r["person_id"].strip() for r in csv.DictReader(fh)}
    with open(matches_path, newline="") as fh:
        pred = {int(r["row"]): (r.get("person_id") or "").strip() for r in csv.DictReader(fh)}
    tp = fp = fn = 0
    for row, t in truth.items():
        p = pred.get(row, "")
        if p and p == t:
            tp += 1
        elif p and t:
            fp += 1
            fn += 1
        elif p:
            fp += 1
        elif t:
            fn += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"rows": len(truth), "tp": tp, "fp": fp, "fn": fn,
            "precision": precision, "recall": recall, "f1": f1}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    lk = sub.add_parser("link", help="link a leak to the registry with Splink")
    lk.add_argument("registry")
    lk.add_argument("leak")
    lk.add_argument("--out", required=True, help="matches CSV to write (row,person_id,...)")
    lk.add_argument("--timings", help="JSON file for versions, settings and step timings")
    lk.add_argument("--model", help="save the trained Splink model (JSON) here")
    lk.add_argument("--max-pairs-u", type=float, default=1e7,
                    help="max_pairs of estimate_u_using_random_sampling (default 1e7)")
    lk.add_argument("--threshold", type=float, default=0.5,
                    help="threshold_match_probability of predict (default 0.5)")
    lk.add_argument("--map", action="append", metavar="FIELD=COLUMN",
                    help="override/add a leak column mapping (fields: full_name, "
                    + ", ".join(FIELDS) + ")")
    lk.add_argument("--log-level", default="WARNING", help="Splink log level (default WARNING)")
    sc = sub.add_parser("score", help="F1 of a matches file against a truth file")
    sc.add_argument("truth")
    sc.add_argument("matches")
    sc.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.cmd == "link":
        link(args)
    else:
        s = score(args.truth, args.matches)
        if args.json:
            print(json.dumps(s))
        else:
            print(f"F1 {s['f1']:.4f} (precision {s['precision']:.4f}, recall {s['recall']:.4f}; "
                  f"tp {s['tp']}, fp {s['fp']}, fn {s['fn']}, rows {s['rows']})")


if __name__ == "__main__":
    main()
