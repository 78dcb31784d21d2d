"""The repository's own rules: `.github/scale-review/rules/*.yml`, in the built-in pack's format.

Read from the base branch (the caller passes a RepoView of the base, or the files already read: the
App reads them with the config), so a pull request can neither add a rule that gates itself nor remove
one that gates it. The organisation's `.github` repository may hold the same folder: its rules apply
too, and a repository rule with the same id replaces the organisation's (`combine_rule_files`, which
says so in a note). Only the files directly in the folder are read. Every file, document and rule is checked
on its own: a file that does not parse, an unknown key, an id that clashes with a built-in rule or
another file, an invalid ast-grep rule, or a pattern that does not parse in its language gives one
line (file, rule id, what is wrong) and every other rule still runs.

Bounds: MAX_FILES files of at most MAX_FILE_BYTES, MAX_RULES rules, and RULE_SECONDS_PER_REVIEW of
matching per rule per review, after which the rule is stopped for the rest of the review and named;
the rules run in a child process (bot.analyzers.rule_sandbox), so a rule is stopped mid-file too.
Repository text never reaches Python's backtracking regular-expression engine: `prefilter` and
`exclude_paths` (Python regexes) are for built-in rules only; ast-grep's own `regex` is linear-time.

A rule may carry its own tests: `tests: {fires: [snippet, ...], quiet: [snippet, ...]}` in the rule's
language; `run_rule_tests` checks them (the `scale-review rules test` command).
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

import yaml
from ast_grep_py import Config, SgRoot

from bot.analyzers.astgrep import AstGrepAnalyzer
from bot.analyzers.base import FileInput
from bot.analyzers.matching import whole_file_change
from bot.analyzers.rule_pack import (
    AST_GREP_KEYS,
    REQUIRED_TEXT,
    SUPPORTED_LANGUAGES,
    AstGrepRule,
    RulePackError,
    load_yaml_documents,
    parse_rule,
)
from bot.analyzers.rule_sandbox import RuleSandbox
from bot.core.model import Category, Finding, Severity
from bot.core.repo import RepoAccessError, RepoView
from bot.core.repo_config import MAX_RULE_FILE_BYTES, RULES_DIR

ANALYZER_NAME = "repository-rules"
MAX_FILES = 50
MAX_FILE_BYTES = MAX_RULE_FILE_BYTES
MAX_RULES = 200
MAX_TESTS_PER_RULE = 50
RULE_SECONDS_PER_REVIEW = 2.0
MAX_ERROR_CHARS = 300
BUILTIN_ONLY_KEYS = ("prefilter", "exclude_paths")
OWN_RULE_NOTE = "This is one of the repository's own rules (.github/scale-review/rules/)."
ORG_RULE_NOTE = "This is one of the organisation's own rules (its .github repository, .github/scale-review/rules/)."
REPOSITORY, ORGANISATION = "repository", "organisation"
OVERRIDES = "{path}: {rule_id} overrides the organisation's rule of the same id ({org_path})"


@dataclass(frozen=True)
class RuleTests:
    fires: tuple[str, ...] = ()
    quiet: tuple[str, ...] = ()


@dataclass(frozen=True)
class RepoRule:
    rule: AstGrepRule
    tests: RuleTests
    source: str  # the file it came from
    origin: str = REPOSITORY  # or ORGANISATION: the org's `.github` repository


@dataclass
class RepoRuleSet:
    rules: list[RepoRule] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one line each: file, rule id, what is wrong
    notes: list[str] = field(default_factory=list)  # one line each: a repository rule overriding the org's


@dataclass(frozen=True)
class RuleFiles:
    """Rule files read ahead of the review (the App reads both folders in its one config query): the
    repository's at the base ref, the organisation's `.github` repository's, and one line per file that
    could not be read."""

    repo: tuple[tuple[str, str], ...] = ()
    org: tuple[tuple[str, str], ...] = ()
    errors: tuple[str, ...] = ()


def _one_line(text: str) -> str:
    """An error text on one bounded line (ast-grep's errors carry a backtrace after their cause)."""
    text = text.split("Stack backtrace:")[0]
    line = " ".join(text.split())
    return line if len(line) <= MAX_ERROR_CHARS else line[: MAX_ERROR_CHARS - 1] + "…"


def _tests(raw: Any, where: str) -> RuleTests:
    if raw is None:
        return RuleTests()
    if not isinstance(raw, dict) or set(raw) - {"fires", "quiet"}:
        raise RulePackError(f"invalid rule {where}: 'tests' must be a mapping with 'fires' and/or 'quiet' lists")
    lists = {}
    for key in ("fires", "quiet"):
        items = raw.get(key) or []
        if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
            raise RulePackError(f"invalid rule {where}: 'tests.{key}' must be a list of code snippets")
        lists[key] = tuple(items[:MAX_TESTS_PER_RULE])
    return RuleTests(fires=lists["fires"], quiet=lists["quiet"])


def _patterns(node: Any) -> Iterable[str]:
    """Every `pattern` string inside an ast-grep rule mapping."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            elif key == "pattern" and isinstance(value, dict) and isinstance(value.get("context"), str):
                yield value["context"]
            else:
                yield from _patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from _patterns(item)


def _check_matcher(rule: AstGrepRule) -> None:
    """Raise RulePackError when ast-grep refuses the rule or a pattern does not parse in its language."""
    for lang in rule.languages:
        for pattern in _patterns(rule.config):
            # metavariables ($X, $$$ARGS) parsed as identifiers, as ast-grep itself does with its expando character
            if SgRoot(pattern.replace("$", "µ"), lang).root().find(kind="ERROR") is not None:
                raise RulePackError(f"invalid rule {rule.id}: pattern {pattern[:80]!r} does not parse as {lang}")
        try:
            SgRoot("", lang).root().find_all(cast(Config, rule.config))
        except (RuntimeError, ValueError, TypeError, KeyError) as exc:
            raise RulePackError(f"invalid rule {rule.id}: {_one_line(str(exc))}") from exc


def _parse_document(doc: Any, source: str) -> RepoRule:
    if isinstance(doc, dict):
        rule_id = doc.get("id", "?")
        for key in BUILTIN_ONLY_KEYS:
            if key in doc:
                raise RulePackError(
                    f"invalid rule {rule_id}: '{key}' is for built-in rules only (a Python regular expression); "
                    "use ast-grep's `regex` inside `rule`"
                )
        tests = _tests(doc.get("tests"), str(rule_id))
        doc = {k: v for k, v in doc.items() if k != "tests"}
    else:
        tests = RuleTests()
    rule = parse_rule(doc, source)
    _check_matcher(rule)
    return RepoRule(rule=rule, tests=tests, source=source)


def parse_rule_files(
    files: Iterable[tuple[str, str]], builtin_ids: Iterable[str], origin: str = REPOSITORY
) -> RepoRuleSet:
    """Rules from (path, text) pairs; every problem becomes one line of `errors`, never an exception."""
    out = RepoRuleSet()
    taken = {rid: "a built-in rule" for rid in builtin_ids}
    for index, (path, text) in enumerate(sorted(files)):
        if index >= MAX_FILES:
            out.errors.append(f"{path}: not read, over the {MAX_FILES}-file limit")
            continue
        if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
            out.errors.append(f"{path}: not read, over {MAX_FILE_BYTES:,} bytes")
            continue
        try:
            docs = load_yaml_documents(text)
        except yaml.YAMLError as exc:
            out.errors.append(f"{path}: does not parse as YAML: {_one_line(str(exc))}")
            continue
        for doc in docs:
            rule_id = doc.get("id", "?") if isinstance(doc, dict) else "?"
            if len(out.rules) >= MAX_RULES:
                out.errors.append(f"{path}: {rule_id}: not loaded, over the {MAX_RULES}-rule limit")
                continue
            try:
                parsed = _parse_document(doc, path)
            except RulePackError as exc:
                out.errors.append(f"{path}: {_one_line(str(exc))}")
                continue
            if parsed.rule.id in taken:
                out.errors.append(f"{path}: {parsed.rule.id}: id already used by {taken[parsed.rule.id]}")
                continue
            taken[parsed.rule.id] = path
            out.rules.append(replace(parsed, origin=origin))
    return out


def combine_rule_files(files: RuleFiles, builtin_ids: Iterable[str]) -> RepoRuleSet:
    """The organisation's rules and the repository's: a repository rule with the id of an organisation rule
    replaces it (and a note says so); a clash with a built-in rule, or inside one folder, is an error."""
    ids = list(builtin_ids)
    org = parse_rule_files(files.org, ids, ORGANISATION)
    own = parse_rule_files(files.repo, ids)
    out = RepoRuleSet(rules=list(own.rules), errors=[*files.errors, *org.errors, *own.errors])
    by_id = {r.rule.id: r.source for r in own.rules}
    for rule in org.rules:
        if rule.rule.id in by_id:
            out.notes.append(OVERRIDES.format(path=by_id[rule.rule.id], rule_id=rule.rule.id, org_path=rule.source))
        elif len(out.rules) >= MAX_RULES:
            out.errors.append(f"{rule.source}: {rule.rule.id}: not loaded, over the {MAX_RULES}-rule limit")
        else:
            out.rules.append(rule)
    return out


def load_repo_rules(view: RepoView, builtin_ids: Iterable[str], directory: str = RULES_DIR) -> RepoRuleSet:
    """The rules directly in `directory` of a repository view (the base branch's, in a review)."""
    try:
        paths = [p for p in view.list_files(f"{directory}/**")
                 if p.endswith((".yml", ".yaml")) and posixpath.dirname(p) == directory.rstrip("/")]
    except RepoAccessError as exc:
        return RepoRuleSet(errors=[f"{directory}: could not be listed: {exc}"])
    files: list[tuple[str, str]] = []
    errors: list[str] = []
    for path in sorted(paths)[: MAX_FILES + 1]:
        try:
            files.append((path, view.read_text(path)))
        except RepoAccessError as exc:
            errors.append(f"{path}: could not be read: {exc}")
    result = parse_rule_files(files, builtin_ids)
    result.errors[:0] = errors
    return result


def changed_rule_files(paths: Iterable[str], directory: str = RULES_DIR) -> list[str]:
    """Rule files a change touches: they take effect once merged, and the summary says so."""
    folder = directory.rstrip("/")
    return sorted(p for p in paths if posixpath.dirname(p) == folder and posixpath.splitext(p)[1] in (".yml", ".yaml"))


class RepoRulesAnalyzer(AstGrepAnalyzer):
    """The repository's rules, run like the built-in pack but in a child process (bot.analyzers.rule_sandbox),
    each stopped once it spends its time budget, even in the middle of a file. `close()` ends the process."""

    name = ANALYZER_NAME

    def __init__(self, rules: Sequence[RepoRule], seconds_per_rule: float = RULE_SECONDS_PER_REVIEW) -> None:
        marked = [replace(r.rule, advice=f"{r.rule.advice} {own_rule_note(r)}") for r in rules]
        super().__init__(marked)
        self.team_rules = [replace(r, rule=m) for r, m in zip(rules, marked, strict=True)]  # with source, origin
        self.seconds_per_rule = seconds_per_rule
        self.spent: dict[str, float] = {}
        self.stopped: list[str] = []
        self._sandbox: RuleSandbox | None = None

    def analyze(self, file: FileInput) -> list[Finding]:
        if not [r for r in self.candidates(file) if r.id not in self.stopped]:
            return []  # no process started for a file none of the rules may match
        self._sandbox = self._sandbox or RuleSandbox(self.rules)
        findings, stopped = self._sandbox.run(file, set(self.stopped), self._left, self._spend)
        self.stopped += [rid for rid in stopped if rid not in self.stopped]
        return findings

    def _left(self, rule_id: str) -> float:
        return max(0.0, self.seconds_per_rule - self.spent.get(rule_id, 0.0))

    def _spend(self, rule_id: str, seconds: float) -> None:
        self.spent[rule_id] = self.spent.get(rule_id, 0.0) + seconds
        if self.spent[rule_id] >= self.seconds_per_rule and rule_id not in self.stopped:
            self.stopped.append(rule_id)

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def __getstate__(self) -> dict[str, Any]:  # a forked worker (CLI --workers) starts its own process
        return {**self.__dict__, "_sandbox": None}

    def stopped_notes(self) -> list[str]:
        return [f"repository rule {rid} stopped: over its {self.seconds_per_rule:g} s budget" for rid in self.stopped]


def own_rule_note(rule: RepoRule) -> str:
    """What marks a finding as the team's own rule's, in its advice."""
    return ORG_RULE_NOTE if rule.origin == ORGANISATION else OWN_RULE_NOTE


_SNIPPET_SUFFIX = {"python": "py", "javascript": "js", "typescript": "ts", "tsx": "tsx", "go": "go", "ruby": "rb"}


def run_rule_tests(rule: RepoRule) -> list[str]:
    """What fails in a rule's own tests: a `fires` snippet without a finding, a `quiet` one with one."""
    analyzer = AstGrepAnalyzer([rule.rule])
    failures = []
    for kind, snippets in (("fires", rule.tests.fires), ("quiet", rule.tests.quiet)):
        for n, snippet in enumerate(snippets, 1):
            path = f"snippet.{_SNIPPET_SUFFIX.get(rule.rule.languages[0], 'txt')}"
            snippet_file = FileInput(change=whole_file_change(path, snippet), text=snippet)
            found = [f for f in analyzer.analyze(snippet_file) if f.source == rule.rule.id]
            if kind == "fires" and not found:
                failures.append(f"{rule.rule.id}: tests.fires[{n}] gave no finding")
            if kind == "quiet" and found:
                failures.append(f"{rule.rule.id}: tests.quiet[{n}] gave {len(found)} finding(s)")
    return failures



def rule_json_schema() -> dict[str, Any]:
    """The JSON Schema of one repository rule document (published as schema/scale-review-rule.schema.json)."""
    text = {"type": "string", "minLength": 1}
    snippets = {"type": "array", "items": {"type": "string"}, "maxItems": MAX_TESTS_PER_RULE}
    properties: dict[str, Any] = {
        "id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$", "description": "unique rule id"},
        "language": {
            "oneOf": [
                {"enum": list(SUPPORTED_LANGUAGES)},
                {"type": "array", "items": {"enum": list(SUPPORTED_LANGUAGES)}, "minItems": 1},
            ]
        },
        "category": {"enum": [c.value for c in Category]},
        "severity": {"enum": [s.value for s in Severity]},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        **{key: text for key in REQUIRED_TEXT},
        **{key: {"type": "object", "description": "ast-grep rule configuration"} for key in AST_GREP_KEYS},
        "fix": {"type": "string", "description": "ast-grep replacement template for the matched node"},
        "add_argument": {"type": "string", "description": "keyword argument appended to the matched call"},
        "report": {"type": "string", "description": "metavariable whose node is the reported location"},
        "tests": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"fires": snippets, "quiet": snippets},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "scale-review repository rule (.github/scale-review/rules/*.yml, one YAML document per rule)",
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "language", "category", "severity", "rule", *REQUIRED_TEXT],
        "properties": properties,
    }


def rule_json_schema_text() -> str:
    return json.dumps(rule_json_schema(), indent=2, sort_keys=True) + "\n"
