"""Recall per category, language and safeguard kind from `scale-review eval --format json` reports.

    python3 bench/recall_report.py bench/cases/mined-python-ruby.jsonl:bench/cases/after-python-ruby.json \
        bench/cases/mined-go-ts.jsonl:bench/cases/after-go-ts.json

Each argument pairs a cases file (for the `safeguard` key, which the report does not carry) with the
report of one eval run over it. Prints found/positives per group and false alarms per negative case;
`--baseline` pairs print the same figures side by side ("before → after").
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any


def load(pair: str) -> list[dict[str, Any]]:
    cases_file, report_file = pair.split(":", 1)
    safeguards = {}
    for line in Path(cases_file).read_text(encoding="utf-8").splitlines():
        if line.strip():
            case = json.loads(line)
            safeguards[case["id"]] = case.get("safeguard", "none")
    report = json.loads(Path(report_file).read_text(encoding="utf-8"))
    rows = []
    for case in report["cases"]:
        rows.append({**case, "safeguard": safeguards.get(case["id"], "none")})
    return rows


def language_group(language: str) -> str:
    return "js/ts" if language in ("javascript", "typescript", "tsx") else language


def tally(rows: list[dict[str, Any]]) -> dict[str, dict[str, tuple[int, int]]]:
    groups: dict[str, dict[str, list[int]]] = {"category": defaultdict(lambda: [0, 0]),
                                               "language": defaultdict(lambda: [0, 0]),
                                               "safeguard": defaultdict(lambda: [0, 0])}
    for row in rows:
        if row["kind"] != "positive" or row["status"] == "skipped":
            continue
        found = int(row["status"] == "found")
        for key, value in (("category", row["category"]), ("language", language_group(row["language"])),
                           ("safeguard", row["safeguard"])):
            groups[key][value][0] += found
            groups[key][value][1] += 1
        groups["category"]["ALL"][0] += found
        groups["category"]["ALL"][1] += 1
    return {k: {g: (v[0], v[1]) for g, v in sorted(d.items())} for k, d in groups.items()}


def false_alarms(rows: list[dict[str, Any]]) -> tuple[int, int]:
    negatives = [r for r in rows if r["kind"] == "negative" and r["status"] != "skipped"]
    return sum(len(r.get("outside", [])) + len(r.get("matched", [])) for r in negatives), len(negatives)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pairs", nargs="+", help="CASES.jsonl:REPORT.json")
    parser.add_argument("--baseline", nargs="*", default=[], help="CASES.jsonl:REPORT.json of the run to compare")
    args = parser.parse_args()
    after_rows = [r for p in args.pairs for r in load(p)]
    before = tally([r for p in args.baseline for r in load(p)]) if args.baseline else None
    after = tally(after_rows)
    for key, groups in after.items():
        print(f"recall per {key}:")
        for group, (found, total) in groups.items():
            line = f"  {group:<24} {found}/{total} ({found / total:.0%})"
            if before is not None:
                b = before[key].get(group, (0, 0))
                line = f"  {group:<24} {b[0]}/{b[1]} → {found}/{total} ({found / total:.0%})"
            print(line)
    alarms, negatives = false_alarms(after_rows)
    print(f"false alarms: {alarms} on {negatives} negative cases ({alarms / max(negatives, 1):.2f} per case)")


if __name__ == "__main__":
    main()
