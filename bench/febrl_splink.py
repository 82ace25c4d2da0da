#!/usr/bin/env python3
"""The Splink side of bench/febrl.sh: link FEBRL4 (data/febrl/dataset4a.csv ↔ dataset4b.csv) with
a hand-written Splink configuration, and the truth file both tools are scored against.

  febrl_splink.py truth DATASET4B.csv TRUTH.csv
  febrl_splink.py link DATASET4A.csv DATASET4B.csv --out MATCHES.csv [--timings T.json]

`truth` writes row,person_id (row = 0-based record of dataset4b, person_id = the rec_id of its
original, rec-N-dup-0 -> rec-N-org). `link` writes the best dataset4a record per dataset4b row
with match probability >= --threshold (row,person_id,match_probability), for
bench/splink_link.py score. The configuration follows Splink's FEBRL4 example: name
comparisons on given name and surname, date of birth, soc_sec_id within two edits, street
number, postcode and suburb with term frequencies, address within Jaro-Winkler thresholds;
blocking on pairs of fields (and names swapped); prior from deterministic rules, u by random
sampling, m by EM blocked on the names then on date of birth.
"""

import argparse
import csv
import json
import sys
import time
from pathlib import Path

T0 = time.perf_counter()
COLS = ["given_name", "surname", "street_number", "address_1", "address_2", "suburb",
        "postcode", "state", "date_of_birth", "soc_sec_id"]


def read(path):
    import pandas as pd

    df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    df.columns = [c.strip() for c in df.columns]
    for c in COLS:
        df[c] = df[c].str.strip().replace({"": None})
    return df


def truth(args):
    df = read(args.b)
    with open(args.out, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["row", "person_id"])
        for i, rid in enumerate(df["rec_id"]):
            w.writerow([i, rid.strip().replace("-dup-0", "-org")])


def link(args):
    import duckdb
    import splink
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    timings = {"import": time.perf_counter() - T0}
    t = time.perf_counter()
    a, b = read(args.a), read(args.b)
    a["unique_id"] = a["rec_id"].str.strip()
    b["unique_id"] = ["L%06d" % i for i in range(len(b))]
    a, b = a.drop(columns=["rec_id"]), b.drop(columns=["rec_id"])
    timings["load"] = time.perf_counter() - t

    blocking = [
        block_on("given_name", "surname"),
        block_on("surname", "date_of_birth"),
        block_on("given_name", "date_of_birth"),
        block_on("soc_sec_id"),
        block_on("postcode", "street_number"),
        block_on("suburb", "address_1"),
        "l.given_name = r.surname and l.surname = r.given_name",
    ]
    settings = SettingsCreator(
        link_type="link_only",
        blocking_rules_to_generate_predictions=blocking,
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True,
                                     datetime_format="%Y%m%d", invalid_dates_as_null=True),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(
                term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]).configure(
                term_frequency_adjustments=True),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    t = time.perf_counter()
    con = duckdb.connect(":memory:")
    db_api = DuckDBAPI(connection=con)
    sa = db_api.register(a, dataset_display_name="febrl4a")
    sb = db_api.register(b, dataset_display_name="febrl4b")
    linker = Linker([sa, sb], settings, log_level=args.log_level)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")], recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=42)
    for rule in [block_on("given_name", "surname"), block_on("date_of_birth")]:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    timings["train"] = time.perf_counter() - t
    t = time.perf_counter()
    pred = linker.inference.predict(threshold_match_probability=args.threshold)
    best = con.sql(f"""
        with p as (
          select case when unique_id_l like 'L%' then unique_id_l else unique_id_r end as row_id,
                 case when unique_id_l like 'L%' then unique_id_r else unique_id_l end as person,
                 match_probability
          from {pred.physical_name})
        select row_id, person, match_probability as prob from p
        qualify row_number() over (partition by row_id
                                   order by match_probability desc, person) = 1
    """).df()
    by_row = {int(r.row_id[1:]): (r.person, r.prob) for r in best.itertuples()}
    with open(args.out, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["row", "person_id", "match_probability"])
        for i in range(len(b)):
            p, prob = by_row.get(i, ("", None))
            w.writerow([i, p, "" if prob is None else f"{prob:.6f}"])
    timings["predict"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - T0
    info = {"splink": splink.__version__, "duckdb": duckdb.__version__,
            "threshold": args.threshold, "rows_linked": len(by_row),
            "timings_s": {k: round(v, 3) for k, v in timings.items()}}
    if args.timings:
        Path(args.timings).write_text(json.dumps(info, indent=1))
    print(json.dumps(info), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    tr = sub.add_parser("truth")
    tr.add_argument("b")
    tr.add_argument("out")
    lk = sub.add_parser("link")
    lk.add_argument("a")
    lk.add_argument("b")
    lk.add_argument("--out", required=True)
    lk.add_argument("--timings")
    lk.add_argument("--threshold", type=float, default=0.5)
    lk.add_argument("--log-level", default="WARNING")
    args = ap.parse_args()
    truth(args) if args.cmd == "truth" else link(args)


if __name__ == "__main__":
    main()
