"""F1 of a leaktrace matches.csv against the generator's truth file.

Usage: python3 bench/f1.py TRUTH.csv MATCHES.csv   (both with `row` and `person_id` columns)
"""
import csv
import sys

truth = {r["row"]: r["person_id"] for r in csv.DictReader(open(sys.argv[1]))}
tp = fp = fn = 0
for r in csv.DictReader(open(sys.argv[2])):
    t, p = truth[r["row"]], r["person_id"]
    if p and p == t: tp += 1
    elif p and t: fp += 1; fn += 1
    elif p: fp += 1
    elif t: fn += 1
pr, rc = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
print(f"F1 {2 * pr * rc / max(pr + rc, 1e-9):.4f} (precision {pr:.4f}, recall {rc:.4f}; tp {tp}, fp {fp}, fn {fn})")
