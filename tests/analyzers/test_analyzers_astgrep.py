"""The ast-grep analyzer engine: diff-awareness, suggestions, fingerprints, hostile input, rule loading."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from ast_grep_py import SgRoot
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.analyzers import default_analyzers
from bot.analyzers.astgrep import MAX_TEXT_CHARS, AstGrepAnalyzer, is_test_path, language_for
from bot.analyzers.base import FileInput
from bot.analyzers.engine import analyze_change
from bot.analyzers.rule_pack import RulePackError, builtin_rules, load_rule_dir, parse_rule
from bot.core.diff import FileChange, FileStatus, parse_diff
from bot.core.model import Category, Severity
from bot.core.repo import LocalGitRepo
from bot.core.repo_config import RepoConfig
from tests.support.gitrepo import GitRepo
from tests.support.rules_harness import scan

ANALYZER = AstGrepAnalyzer.load_builtin()

VIEW = """\
import requests


def profile(user_id):
    old = requests.get("https://a.example/old")
    new = requests.get("https://a.example/new")
    return old, new
"""

MULTILINE = """\
import requests


class Client:
    def push(self, payload):
        return requests.post(
            "https://hooks.example/events",
            json=payload,
        )
"""


def change(path: str, added: set[int]) -> FileChange:
    return FileChange(
        path=path,
        old_path=None,
        status=FileStatus.modified,
        added_lines=frozenset(added),
        visible_lines=frozenset(added),
        additions=len(added),
    )


def minimal_rule(**over: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "id": "py-test-rule",
        "language": "python",
        "category": "missing_timeout",
        "severity": "high",
        "title": "t",
        "description": "d",
        "evidence": "`$F` called",
        "risk": "r",
        "advice": "a",
        "rollback": "rb",
        "monitoring": "m",
        "rule": {"pattern": "$F()"},
    }
    doc.update(over)
    return doc


# --- the pack --------------------------------------------------------------------------------


def test_builtin_pack_loads_once_with_unique_ids_and_complete_text() -> None:
    rules = builtin_rules()
    assert builtin_rules() is rules
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids)) >= 25
    assert ANALYZER.rule_ids() == ids
    for rule in rules:
        assert isinstance(rule.category, Category) and isinstance(rule.severity, Severity)
        assert rule.id.split("-")[0] in {"py", "js", "go", "rb"}, rule.id
        for text in (rule.title, rule.description, rule.evidence, rule.risk, rule.advice, rule.rollback):
            assert text and "\n\n" not in text
        assert rule.fix is None or rule.add_argument is None


def test_default_analyzers_include_the_ast_grep_pack() -> None:
    assert any(a.name == "ast-grep" for a in default_analyzers())


@pytest.mark.parametrize(
    ("path", "lang"),
    [
        ("app/views.py", "python"),
        ("web/src/a.jsx", "javascript"),
        ("srv/index.mjs", "javascript"),
        ("srv/index.cjs", "javascript"),
        ("srv/app.ts", "typescript"),
        ("ui/App.tsx", "tsx"),
        ("cmd/main.go", "go"),
        ("app/models/user.rb", "ruby"),
        ("README.md", None),
        ("dist/app.min.js", None),
        ("types/index.d.ts", None),
    ],
)
def test_language_by_suffix(path: str, lang: str | None) -> None:
    assert language_for(path) == lang
    assert ANALYZER.supports(path, "") is (lang is not None)


def test_test_paths_are_recognised() -> None:
    test_paths = (
        "tests/test_views.py",
        "pkg/store_test.go",
        "web/a.test.ts",
        "conftest.py",
        "web/__tests__/a.ts",
    )
    for path in test_paths:
        assert is_test_path(path), path
    # a folder name alone does not make code a test (tests/security/test_hidden_code.py)
    for path in ("app/views.py", "pkg/store.go", "web/latest.ts", "contest.py", "app/tests/helpers.py",
                 "internal/testutil/db.go", "fixtures/views.py"):
        assert not is_test_path(path), path


def test_test_files_get_no_findings() -> None:
    assert scan(ANALYZER, "app/tests/test_client.py", VIEW) == []
    assert scan(ANALYZER, "app/client.py", VIEW)


# --- diff-awareness --------------------------------------------------------------------------


def test_only_matches_touching_added_lines_are_reported() -> None:
    found = ANALYZER.analyze(FileInput(change=change("app/views.py", {6}), text=VIEW))
    assert [(f.source, f.start_line) for f in found] == [("py-requests-no-timeout", 6)]


def test_nothing_is_reported_when_the_change_adds_lines_elsewhere() -> None:
    assert ANALYZER.analyze(FileInput(change=change("app/views.py", {1, 2, 7}), text=VIEW)) == []


def test_context_outside_the_diff_still_counts() -> None:
    text = "import time\n\n\nasync def handler():\n    x = 1\n    time.sleep(2)\n"
    found = ANALYZER.analyze(FileInput(change=change("app/h.py", {6}), text=text))
    assert [(f.source, f.start_line) for f in found] == [("py-blocking-call-in-async", 6)]


def test_end_to_end_through_the_engine_on_a_git_change(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "r")
    repo.write("app/views.py", VIEW.replace('    new = requests.get("https://a.example/new")\n', ""))
    base = repo.commit("base")
    repo.write("app/views.py", VIEW)
    head = repo.commit("head")
    diff = repo.git("diff", base, head)
    result = analyze_change(parse_diff(diff), LocalGitRepo(str(repo.root), head), RepoConfig(), [ANALYZER])
    assert [(f.path, f.start_line, f.source) for f in result.findings] == [
        ("app/views.py", 6, "py-requests-no-timeout")
    ]
    assert result.errors == []


# --- suggestions -----------------------------------------------------------------------------


def test_single_line_fix_keeps_indentation_and_parses() -> None:
    (finding,) = ANALYZER.analyze(FileInput(change=change("app/views.py", {5}), text=VIEW))
    assert finding.suggestion == '    old = requests.get("https://a.example/old", timeout=10)'


def test_multiline_fix_adds_an_indented_argument_line_that_parses() -> None:
    (finding,) = scan(ANALYZER, "app/client.py", MULTILINE)
    assert (finding.start_line, finding.end_line) == (6, 9)
    assert finding.suggestion == (
        "        return requests.post(\n"
        '            "https://hooks.example/events",\n'
        "            json=payload,\n"
        "            timeout=10,\n"
        "        )"
    )
    lines = MULTILINE.splitlines()
    patched = "\n".join(lines[:5] + finding.suggestion.splitlines() + lines[9:])
    assert SgRoot(patched, "python").root().find(kind="ERROR") is None


def test_template_fix_rewrites_len_into_count() -> None:
    text = "def n(user):\n    return len(Order.objects.filter(owner=user))\n"
    (finding,) = scan(ANALYZER, "app/stats.py", text)
    assert finding.source == "py-len-queryset"
    assert finding.suggestion == "    return Order.objects.filter(owner=user).count()"


def test_a_fix_that_would_not_parse_gives_no_suggestion() -> None:
    broken = AstGrepAnalyzer([parse_rule(minimal_rule(fix="$F(("), "inline")])
    (finding,) = scan(broken, "app/x.py", "def f():\n    go()\n")
    assert finding.suggestion is None
    assert finding.advice == "a"


def test_rules_without_fix_give_advice_only() -> None:
    text = "for i in ids:\n    Order.objects.get(pk=i)\n"
    (finding,) = scan(ANALYZER, "app/loop.py", text)
    assert finding.source == "py-django-query-in-loop"
    assert finding.suggestion is None and finding.advice


# --- findings --------------------------------------------------------------------------------


def test_evidence_names_the_matched_code() -> None:
    (finding,) = ANALYZER.analyze(FileInput(change=change("app/views.py", {6}), text=VIEW))
    assert "requests.get(...)" in finding.evidence
    assert finding.category == Category.missing_timeout and finding.severity == Severity.high


def test_fingerprints_survive_moved_lines_and_differ_by_path() -> None:
    before = {f.id for f in scan(ANALYZER, "app/views.py", VIEW)}
    moved = VIEW.replace("import requests\n", "import requests\nimport json\n\n\nX = 1\n")
    after = scan(ANALYZER, "app/views.py", moved)
    assert {f.id for f in after} == before
    assert {f.start_line for f in after} == {9, 10}
    assert {f.id for f in scan(ANALYZER, "app/other.py", VIEW)}.isdisjoint(before)


def test_identical_code_twice_gets_two_distinct_ids() -> None:
    text = "import requests\nrequests.get(u)\nrequests.get(u)\n"
    found = scan(ANALYZER, "app/twice.py", text)
    assert [f.start_line for f in found] == [2, 3]
    assert len({f.id for f in found}) == 2


# --- hostile input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("app/broken.py", "def f(:\n    requests.get(url\n  for x in\n"),
        ("app/bad.py", "x = '\ufffd\ufffd'\nimport requests\nrequests.get('\ufffd')\n"),
        ("app/bin.go", "package x\x00\x01\x02 func {{{\n"),
        ("app/empty.ts", ""),
        ("app/only_comment.rb", "# just a comment"),
    ],
)
def test_broken_source_does_not_raise(path: str, text: str) -> None:
    found = scan(ANALYZER, path, text)
    assert all(f.path == path for f in found)


def test_replacement_chars_still_get_findings_at_the_right_line() -> None:
    text = "x = '\ufffd'\nimport requests\nrequests.get('\ufffd\ufffd')\n"
    assert [(f.source, f.start_line) for f in scan(ANALYZER, "app/bad.py", text)] == [("py-requests-no-timeout", 3)]


def test_files_over_the_size_cap_are_skipped_quickly() -> None:
    text = "import requests\n" + "x = 1\n" * (MAX_TEXT_CHARS // 6 + 10) + "requests.get(u)\n"
    started = time.perf_counter()
    assert scan(ANALYZER, "app/huge.py", text) == []
    assert time.perf_counter() - started < 5


def test_a_large_file_under_the_cap_is_scanned_in_bounded_time() -> None:
    body = "".join(f"def f{i}(ids):\n    for i in ids:\n        Order.objects.get(pk=i)\n" for i in range(3000))
    started = time.perf_counter()
    found = scan(ANALYZER, "app/big.py", body)
    assert len(found) == 200  # capped per rule
    assert time.perf_counter() - started < 20


# --- loading errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"category": "slowness"}, "category 'slowness' is not one of"),
        ({"severity": "urgent"}, "severity 'urgent' is not one of"),
        ({"language": "cobol"}, "unsupported language 'cobol'"),
        ({"risk": ""}, "missing text field 'risk'"),
        ({"confidence": 3}, "'confidence' must be a number between 0 and 1"),
        ({"fixx": "x"}, "unknown key 'fixx'"),
        ({"fix": "a", "add_argument": "b"}, "either 'fix' or 'add_argument'"),
        ({"rule": "pattern"}, "'rule' must be an ast-grep rule mapping"),
    ],
)
def test_invalid_rules_are_refused_with_the_reason(over: dict[str, object], message: str) -> None:
    with pytest.raises(RulePackError, match="py-test-rule") as err:
        parse_rule(minimal_rule(**over), "rules/python/x.yml")
    assert message in str(err.value)


def test_duplicate_yaml_keys_and_ids_are_refused(tmp_path: Path) -> None:
    (tmp_path / "python").mkdir()
    rule_file = tmp_path / "python" / "a.yml"
    rule_file.write_text("id: a\nid: b\n")
    with pytest.raises(RulePackError, match="duplicate key 'id'"):
        load_rule_dir(tmp_path)
    import yaml

    doc = yaml.safe_dump(minimal_rule())
    rule_file.write_text(doc + "---\n" + doc)
    with pytest.raises(RulePackError, match="duplicate id"):
        load_rule_dir(tmp_path)


def test_shared_utils_are_available_to_rules(tmp_path: Path) -> None:
    import yaml

    (tmp_path / "python").mkdir()
    (tmp_path / "python" / "_utils.yml").write_text("is-go:\n  regex: ^go\\(\n")
    rule = minimal_rule(rule={"pattern": "$F()", "matches": "is-go"})
    (tmp_path / "python" / "r.yml").write_text(yaml.safe_dump(rule))
    analyzer = AstGrepAnalyzer(load_rule_dir(tmp_path))
    found = scan(analyzer, "app/x.py", "go()\nstop()\n")
    assert [(f.start_line, f.evidence) for f in found] == [(1, "`go` called")]


def test_rule_path_exclusions_apply() -> None:
    text = 'def up(cur):\n    cur.execute("SELECT id, name FROM users")\n'
    assert [f.source for f in scan(ANALYZER, "app/reports.py", text)] == ["py-sql-unbounded-select"]
    assert scan(ANALYZER, "app/migrations/0042_backfill.py", text) == []
    assert scan(ANALYZER, "alembic/versions/abc_backfill.py", text) == []


def test_prefilter_and_path_regexes_are_validated() -> None:
    with pytest.raises(RulePackError, match="'prefilter' is not a valid regular expression"):
        parse_rule(minimal_rule(prefilter="(unclosed"), "x.yml")
    with pytest.raises(RulePackError, match="'exclude_paths' is not a valid regular expression"):
        parse_rule(minimal_rule(exclude_paths="[z-a]"), "x.yml")


def test_prefilter_skips_files_that_cannot_match() -> None:
    rule = parse_rule(minimal_rule(prefilter=r"\bgo\(", rule={"pattern": "go()"}), "x.yml")
    assert rule.may_match("go()") and not rule.may_match("stop()")
    analyzer = AstGrepAnalyzer([rule])
    assert scan(analyzer, "app/x.py", "stop()\n") == []
    assert [f.start_line for f in scan(analyzer, "app/x.py", "stop()\ngo()\n")] == [2]


def test_the_per_rule_cap_counts_reported_findings_not_matches() -> None:
    body = "".join(f"def f{i}(ids):\n    for i in ids:\n        Order.objects.get(pk=i)\n" for i in range(500))
    last = body.count("\n")  # the query line of the last function
    found = ANALYZER.analyze(FileInput(change=change("app/big.py", {last}), text=body))
    assert [(f.source, f.start_line) for f in found] == [("py-django-query-in-loop", last)]


def test_crlf_files_get_lf_suggestions_on_the_right_lines() -> None:
    text = "import requests\r\n\r\ndef f():\r\n    return requests.get(u)\r\n"
    (finding,) = scan(ANALYZER, "app/win.py", text)
    assert (finding.start_line, finding.suggestion) == (4, "    return requests.get(u, timeout=10)")


SNIPPETS = [
    "import requests\n",
    "for i in ids:\n",
    "    Order.objects.get(pk=i)\n",
    "    requests.post(u, json=x)\n",
    "async def h(request):\n",
    "    time.sleep(1)\n",
    "def f(\n",
    "    \ufffd)\n",
    '    cur.execute("SELECT * FROM t")\n',
    "class V(ListView):\n",
    "        while True:\n",
    "x = len(Order.objects.filter(a=1))\n",
]


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(st.sampled_from(SNIPPETS), min_size=1, max_size=25),
    added=st.sets(st.integers(min_value=1, max_value=30), max_size=10),
)
def test_any_mix_of_lines_never_raises_and_reports_only_added_lines(lines: list[str], added: set[int]) -> None:
    text = "".join(lines)
    found = ANALYZER.analyze(FileInput(change=change("app/fuzz.py", added), text=text))
    for f in found:
        assert any(f.start_line <= n <= f.end_line for n in added)
        assert 1 <= f.start_line <= f.end_line <= text.count("\n") + 1


def test_every_prefilter_is_fast_on_a_large_file_without_matches() -> None:
    text = "value = compute(1)\n" * 60_000  # ~1 MB, none of the prefilters' keywords
    for rule in builtin_rules():
        started = time.perf_counter()
        rule.may_match(text)
        assert time.perf_counter() - started < 0.5, f"{rule.id}: prefilter is not linear"


def test_the_fuzz_snippets_make_findings_on_added_lines() -> None:
    """The property above is not vacuous: the snippets, all added, give findings it checks."""
    text = "".join(SNIPPETS[:4])
    added = set(range(1, text.count("\n") + 1))
    found = ANALYZER.analyze(FileInput(change=change("app/fuzz.py", added), text=text))
    assert {f.source for f in found} >= {"py-django-query-in-loop"}
    assert all(1 <= f.start_line <= f.end_line <= text.count("\n") for f in found)
