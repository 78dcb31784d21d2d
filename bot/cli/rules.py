"""`scale-review rules list|test [DIR]`: the rules a review runs, and the repository rules' own tests.

`list` prints every built-in rule and every rule under DIR (default `.github/scale-review/rules`),
with id, language, severity and where it comes from. `test` runs each repository rule's `tests:`
(`fires` snippets must give a finding of the rule, `quiet` ones none). Exit codes: 0 all pass,
1 a test failed, 2 a rule file is invalid or DIR is missing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.analyzers.repo_rules import RULES_DIR, RepoRuleSet, parse_rule_files, run_rule_tests
from bot.review.pipeline import builtin_analyzers

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


def register(sub: Any) -> None:
    p = sub.add_parser("rules", help="list the rules, or run the repository rules' own tests")
    actions = p.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    for name, help_text, func in (
        ("list", "built-in and repository rules: id, language, severity, source", run_list),
        ("test", "run each repository rule's tests (fires / quiet snippets)", run_test),
    ):
        q = actions.add_parser(name, help=help_text)
        q.add_argument("dir", nargs="?", default=RULES_DIR, help=f"rules folder (default: {RULES_DIR})")
        q.set_defaults(func=func)


def builtin_rule_rows() -> list[tuple[str, str, str, str]]:
    """(id, language, severity, source) of every built-in rule."""
    rows = []
    for analyzer in builtin_analyzers():
        for rule in getattr(analyzer, "rules", []):
            languages = getattr(rule, "languages", None) or (analyzer.name,)
            rows.append((rule.id, ",".join(languages), rule.severity.value, "built-in"))
    return sorted(rows)


def read_dir(directory: Path) -> RepoRuleSet:
    ids = [row[0] for row in builtin_rule_rows()]
    files = sorted(p for p in directory.glob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
    pairs = [(str(p), p.read_text(encoding="utf-8", errors="replace")) for p in files]
    return parse_rule_files(pairs, ids)


def run_list(args: argparse.Namespace) -> int:
    rows = builtin_rule_rows()
    directory = Path(args.dir)
    rules = read_dir(directory) if directory.is_dir() else RepoRuleSet()
    rows += [(r.rule.id, ",".join(r.rule.languages), r.rule.severity.value, r.source) for r in rules.rules]
    width = max(len(r[0]) for r in rows)
    for rid, lang, severity, source in rows:
        print(f"{rid:<{width}}  {lang:<12}  {severity:<8}  {source}")
    for error in rules.errors:
        print(f"error: {error}", file=sys.stderr)
    return EXIT_INVALID if rules.errors else EXIT_OK


def run_test(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    if not directory.is_dir():
        print(f"scale-review rules test: {directory}: no such folder", file=sys.stderr)
        return EXIT_INVALID
    rules = read_dir(directory)
    for error in rules.errors:
        print(f"invalid: {error}")
    failed = 0
    for rule in rules.rules:
        failures = run_rule_tests(rule)
        count = len(rule.tests.fires) + len(rule.tests.quiet)
        if failures:
            failed += 1
            for failure in failures:
                print(f"FAIL {failure}")
        else:
            print(f"ok   {rule.rule.id} ({count} test{'s' if count != 1 else ''})")
    print(f"{len(rules.rules)} rule(s), {failed} failing, {len(rules.errors)} invalid")
    if rules.errors:
        return EXIT_INVALID
    return EXIT_FAILED if failed else EXIT_OK
