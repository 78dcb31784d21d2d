"""The repository's own rules: loaded from its rules folder, each bad rule one clear line, bounded."""

from __future__ import annotations

import textwrap
import time

from bot.analyzers.base import FileInput
from bot.analyzers.repo_rules import (
    MAX_FILE_BYTES,
    MAX_FILES,
    MAX_RULES,
    RepoRulesAnalyzer,
    RuleFiles,
    changed_rule_files,
    combine_rule_files,
    load_repo_rules,
    parse_rule_files,
    run_rule_tests,
)
from bot.core.diff import FileChange, FileStatus
from bot.core.repo import Entry, RepoAccessError, TextMatch

RULE = textwrap.dedent(
    """
    id: team-billing-client-deadline
    language: python
    category: missing_timeout
    severity: high
    confidence: 0.9
    title: Billing client call without a deadline
    description: Our billing client waits forever unless given deadline=.
    evidence: "`billing.$METHOD(...)` has no deadline="
    risk: A slow billing backend pins every worker at 10x traffic.
    advice: Pass deadline=5.
    rollback: Remove the argument.
    monitoring: billing latency p99
    add_argument: deadline=5
    rule:
      all:
        - pattern: billing.$METHOD($$$ARGS)
        - not: {has: {field: arguments, has: {kind: keyword_argument, has: {field: name, regex: ^deadline$}}}}
    tests:
      fires: ["billing.charge(order)\\n"]
      quiet: ["billing.charge(order, deadline=5)\\n"]
    """
)


def parse(*files: tuple[str, str], builtin: tuple[str, ...] = ("py-requests-no-timeout",)):  # type: ignore[no-untyped-def]
    return parse_rule_files(files, builtin)


def new_file(path: str, text: str) -> FileInput:
    lines = frozenset(range(1, text.count("\n") + 2))
    change = FileChange(path=path, old_path=None, status=FileStatus.added, added_lines=lines, visible_lines=lines,
                        additions=len(lines))
    return FileInput(change=change, text=text)


def test_a_valid_rule_loads_finds_suggests_and_says_it_is_the_repositorys_own() -> None:
    result = parse((".github/scale-review/rules/billing.yml", RULE))
    assert result.errors == []
    [rule] = result.rules
    [finding] = RepoRulesAnalyzer(result.rules).analyze(new_file("app/pay.py", "import billing\nbilling.charge(o)\n"))
    assert (finding.source, finding.start_line, finding.severity.value) == ("team-billing-client-deadline", 2, "high")
    assert finding.suggestion == "billing.charge(o, deadline=5)"
    assert "repository's own rules" in (finding.advice or "")
    assert run_rule_tests(rule) == []


def test_each_kind_of_bad_rule_gets_one_line_and_the_others_still_load() -> None:
    good = RULE

    def variant(rule_id: str, old: str = "", new: str = "") -> str:
        return RULE.replace("team-billing-client-deadline", rule_id).replace(old, new) if old else RULE.replace(
            "team-billing-client-deadline", rule_id
        )

    files = [
        ("r/a-broken.yml", "id: x\n  title: [unclosed\n"),
        ("r/b-unknown-key.yml", variant("k1", "severity:", "colour: red\nseverity:")),
        ("r/c-builtin-clash.yml", variant("py-requests-no-timeout")),
        ("r/d-bad-kind.yml", variant("k2", "kind: keyword_argument", "kind: no_such_kind")),
        ("r/e-bad-pattern.yml", variant("k3", "billing.$METHOD($$$ARGS)", "billing.charge(((")),
        ("r/f-python-regex.yml", variant("k4", "rule:", "prefilter: '(a+)+$'\nrule:")),
        ("r/g-good.yml", good),
        ("r/h-duplicate.yml", good),
    ]
    result = parse(*files)
    assert [r.rule.id for r in result.rules] == ["team-billing-client-deadline"]
    errors = "\n".join(result.errors)
    assert len(result.errors) == 7, errors
    assert "r/a-broken.yml: does not parse as YAML" in errors
    assert "r/b-unknown-key.yml: invalid rule k1 (r/b-unknown-key.yml): unknown key 'colour'" in errors
    assert "r/c-builtin-clash.yml: py-requests-no-timeout: id already used by a built-in rule" in errors
    assert "r/d-bad-kind.yml: invalid rule k2:" in errors and "no_such_kind" in errors
    assert "r/e-bad-pattern.yml: invalid rule k3: pattern 'billing.charge(((' does not parse as python" in errors
    assert "r/f-python-regex.yml: invalid rule k4: 'prefilter' is for built-in rules only" in errors
    assert "r/h-duplicate.yml: team-billing-client-deadline: id already used by r/g-good.yml" in errors
    assert all("\n" not in e and "Stack backtrace" not in e for e in result.errors)


def test_bounds_on_files_and_sizes() -> None:
    result = parse(("r/big.yml", "# x\n" * (MAX_FILE_BYTES // 4 + 1)))
    assert result.errors == [f"r/big.yml: not read, over {MAX_FILE_BYTES:,} bytes"]


SLOW = RULE.replace("team-billing-client-deadline", "team-slow").replace("add_argument: deadline=5\n", "").replace(
    """  all:
    - pattern: billing.$METHOD($$$ARGS)
    - not: {has: {field: arguments, has: {kind: keyword_argument, has: {field: name, regex: ^deadline$}}}}
""",
    # every identifier looks for another one anywhere in the module: quadratic, a minute on 3,000 lines
    """  kind: identifier
  inside: {kind: module, stopBy: end, has: {kind: identifier, regex: ^never_there$, stopBy: end}}
""").replace("tests:", "unused_tests:").split("unused_tests:")[0]


def test_a_rule_built_to_be_slow_is_stopped_mid_file_named_and_the_others_still_run() -> None:
    rules = parse(("r/billing.yml", RULE), ("r/slow.yml", SLOW))
    assert rules.errors == [] and [r.rule.id for r in rules.rules] == ["team-billing-client-deadline", "team-slow"]
    big = "import billing\nbilling.charge(o)\n" + "".join(f"x{i} = y{i} + z{i}\n" for i in range(3000))
    analyzer = RepoRulesAnalyzer(rules.rules, seconds_per_rule=0.5)
    try:
        started = time.perf_counter()
        first = analyzer.analyze(new_file("a.py", big))
        elapsed = time.perf_counter() - started
        second = analyzer.analyze(new_file("b.py", "billing.charge(o)\n"))
    finally:
        analyzer.close()
    assert [f.source for f in first] == ["team-billing-client-deadline"]  # the other rule still ran on the file
    assert [f.source for f in second] == ["team-billing-client-deadline"]  # and on the next one; the slow one not
    assert elapsed < 15, elapsed  # unbounded, the slow rule alone takes about a minute on this file
    assert analyzer.stopped == ["team-slow"]
    assert analyzer.stopped_notes() == ["repository rule team-slow stopped: over its 0.5 s budget"]


def test_a_rule_over_its_time_across_files_is_stopped_for_the_rest_of_the_review() -> None:
    rules = parse(("r/billing.yml", RULE)).rules
    analyzer = RepoRulesAnalyzer(rules, seconds_per_rule=5.0)
    try:
        assert len(analyzer.analyze(new_file("a.py", "billing.charge(o)\n"))) == 1
        analyzer.spent["team-billing-client-deadline"] = 5.0  # as if earlier files had used its budget
        analyzer.stopped.append("team-billing-client-deadline")
        assert analyzer.analyze(new_file("b.py", "billing.charge(o)\n")) == []
    finally:
        analyzer.close()


def test_the_file_limit_holds() -> None:
    files = [(f"r/{i:02}.yml", RULE.replace("team-billing-client-deadline", f"r{i}")) for i in range(MAX_FILES + 2)]
    result = parse(*files)
    assert len(result.rules) == MAX_FILES
    assert result.errors == [f"r/{i:02}.yml: not read, over the {MAX_FILES}-file limit" for i in (50, 51)]


def test_failing_rule_tests_are_reported() -> None:
    broken = RULE.replace('fires: ["billing.charge(order)\\n"]', 'fires: ["charge(order)\\n"]')
    [rule] = parse(("r/x.yml", broken)).rules
    assert run_rule_tests(rule) == ["team-billing-client-deadline: tests.fires[1] gave no finding"]


class _View:
    """A repository view over a dict of files (the base branch in a review)."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def read_text(self, path: str) -> str:
        if path not in self.files:
            raise RepoAccessError(f"{path}: not found")
        return self.files[path]

    def list_files(self, glob: str | None = None) -> list[str]:
        return sorted(p for p in self.files if glob is None or p.startswith(glob.split("*")[0]))

    def list_folder(self, path: str) -> list[Entry]:
        return []

    def search_text(self, pattern: str, glob: str | None = None, max_results: int = 100) -> list[TextMatch]:
        return []


def test_rules_come_from_the_view_they_are_given_and_changed_rule_files_are_named() -> None:
    view = _View({".github/scale-review/rules/billing.yml": RULE, "app.py": "x = 1\n",
                  ".github/scale-review/rules/old/broken.yml": "id: [\n"})  # only the folder's own files, as in the App
    loaded = load_repo_rules(view, [])
    assert [r.rule.id for r in loaded.rules] == ["team-billing-client-deadline"] and loaded.errors == []
    assert load_repo_rules(_View({}), []).rules == []
    changed = [".github/scale-review/rules/new.yml", "app.py", ".github/scale-review.yml",
               ".github/scale-review/rules/old/x.yml"]
    assert changed_rule_files(changed) == [".github/scale-review/rules/new.yml"]


def test_the_published_rule_schema_is_current_and_accepts_the_example() -> None:
    import json
    from pathlib import Path

    import jsonschema
    import yaml

    from bot.analyzers.repo_rules import rule_json_schema, rule_json_schema_text

    published = Path(__file__).resolve().parents[2] / "schema" / "scale-review-rule.schema.json"
    assert published.read_text(encoding="utf-8") == rule_json_schema_text(), (
        "schema/scale-review-rule.schema.json is stale; regenerate it: python -c "
        "'from bot.analyzers.repo_rules import rule_json_schema_text as t; print(t(), end=\"\")' "
        "> schema/scale-review-rule.schema.json"
    )
    schema = json.loads(published.read_text(encoding="utf-8"))
    jsonschema.validate(yaml.safe_load(RULE), schema)
    assert rule_json_schema()["additionalProperties"] is False
    with __import__("pytest").raises(jsonschema.ValidationError):
        jsonschema.validate({**yaml.safe_load(RULE), "colour": "red"}, schema)


def test_org_rules_apply_and_a_repository_rule_of_the_same_id_overrides_one() -> None:
    org_only = RULE.replace("team-billing-client-deadline", "org-rule")
    org_same = RULE.replace("severity: high", "severity: low")
    files = RuleFiles(repo=(("r/billing.yml", RULE),),
                      org=(("octo/.github:r/org.yml", org_only), ("octo/.github:r/billing.yml", org_same),
                           ("octo/.github:r/clash.yml", RULE.replace("team-billing-client-deadline", "org-rule"))),
                      errors=("octo/.github:r/x.yml: could not be read as text",))
    result = combine_rule_files(files, ["py-requests-no-timeout"])
    assert [(r.rule.id, r.origin, r.rule.severity.value) for r in result.rules] == [
        ("team-billing-client-deadline", "repository", "high"), ("org-rule", "organisation", "high")]
    assert result.notes == ["r/billing.yml: team-billing-client-deadline overrides the organisation's rule of the "
                            "same id (octo/.github:r/billing.yml)"]
    assert result.errors == ["octo/.github:r/x.yml: could not be read as text",
                             "octo/.github:r/org.yml: org-rule: id already used by octo/.github:r/clash.yml"]
    [finding] = RepoRulesAnalyzer([result.rules[1]]).analyze(new_file("a.py", "billing.charge(o)\n"))
    assert "organisation's own rules" in (finding.advice or "")


def test_the_rule_limit_holds_across_the_repository_and_the_organisation() -> None:
    many = "\n---\n".join(RULE.replace("team-billing-client-deadline", f"r{i}") for i in range(MAX_RULES))
    files = RuleFiles(repo=(("r/many.yml", many),), org=(("o:r/one.yml", RULE),))
    result = combine_rule_files(files, [])
    assert len(result.rules) == MAX_RULES
    assert result.errors == [f"o:r/one.yml: team-billing-client-deadline: not loaded, over the {MAX_RULES}-rule limit"]
    over = parse(("r/many.yml", many + "\n---\n" + RULE))
    assert len(over.rules) == MAX_RULES
    assert over.errors == [f"r/many.yml: team-billing-client-deadline: not loaded, over the {MAX_RULES}-rule limit"]
