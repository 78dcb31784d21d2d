"""The relations analyzer: N+1, unbounded and unindexed queries found through the repository model graph.

It needs the graph of the head commit (bot/facts/). The engine hands it over with `bind_facts(provider)`,
which returns a bound copy, so one default instance can serve concurrent reviews. Unbound, the analyzer
knows only the models declared in the file it reads.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

from bot.analyzers import relations_django as dj
from bot.analyzers.base import FileInput
from bot.analyzers.model_methods import model_method_hits
from bot.analyzers.relation_hits import Hit, is_offline_path, is_test_path
from bot.analyzers.relation_membership import membership_hits
from bot.analyzers.relations_js import CANDIDATE, association_hits
from bot.analyzers.relations_python import n_plus_one_hits
from bot.analyzers.relations_ruby import n_plus_one_hits as rb_n_plus_one_hits
from bot.analyzers.relations_ruby import whole_table_hits
from bot.analyzers.rule_info import Hit as RuleHit
from bot.analyzers.rule_info import RuleInfo, findings_from_hits, load_rule_infos
from bot.core.model import Finding, Severity
from bot.facts import RepoFacts, link_graph, read_source

ANALYZER_NAME = "relations"
RULES_FILE = Path(__file__).parent / "rules" / "relations.yml"
MAX_TEXT_CHARS = 600_000
MAX_FINDINGS = 30
MAX_DETAIL_CHARS = 600  # the evidence sentence: one line, bounded (it is prose with its own code spans)
_PY_HINTS = ("objects", "Serializer", "Admin", "query", "select(", "ViewSet", "APIView", "models")
_RB_HINTS = (".each", ".map", ".all", "includes", ".where")

FactsProvider = Callable[[], RepoFacts]
LANGUAGES = {"py": ("python",), "rb": ("ruby",), "js": ("javascript", "typescript", "tsx")}
_ERB = re.compile(r"(^|/)app/views/.+\.erb$")
_ERB_OPEN = re.compile(r"<%[=#-]?")
_ERB_CLOSE = re.compile(r"-?%>")
_JS_LANGUAGES = {".js": "javascript", ".jsx": "javascript", ".mjs": "javascript", ".cjs": "javascript",
                 ".ts": "typescript", ".tsx": "tsx"}


@dataclass(frozen=True)
class RelationRule(RuleInfo):
    """A rule of this analyzer, with the languages it reads (for coverage: `scale-review eval`)."""

    languages: tuple[str, ...] = ()


def load_rules() -> list[RelationRule]:
    return [
        RelationRule(**{f.name: getattr(r, f.name) for f in fields(r)}, languages=LANGUAGES[r.id.split("-")[0]])
        for r in load_rule_infos(RULES_FILE)
    ]


def _deadline_check(file: FileInput) -> Callable[[], None]:
    """The file's deadline check where the engine passes one (`FileInput.deadline`), else a no-op."""
    check = getattr(getattr(file, "deadline", None), "check", None)
    return check if callable(check) else (lambda: None)


class RelationsAnalyzer:
    """Analyzer protocol implementation over the model graph (Python and Ruby sources)."""

    name = ANALYZER_NAME
    needs_facts = True

    def __init__(self, facts_provider: FactsProvider | None = None) -> None:
        self.rules: list[RelationRule] = load_rules()
        self._by_id = {r.id: r for r in self.rules}
        self._provider = facts_provider

    def bind_facts(self, provider: FactsProvider) -> RelationsAnalyzer:
        """A copy of this analyzer that reads the graph from `provider` (called at most when needed)."""
        return RelationsAnalyzer(provider)

    def rule_ids(self) -> list[str]:
        return [r.id for r in self.rules]

    def supports(self, path: str, text: str) -> bool:
        if is_test_path(path):
            return False
        if path.endswith(".py"):
            return any(h in text for h in _PY_HINTS)
        if _ERB.search(path):
            return ".each" in text or ".map" in text
        if path.endswith(tuple(_JS_LANGUAGES)):
            return CANDIDATE.search(text) is not None
        return path.endswith(".rb") and ("app/controllers/" in path or any(h in text for h in _RB_HINTS))

    def analyze(self, file: FileInput) -> list[Finding]:
        if len(file.text) > MAX_TEXT_CHARS or not file.change.added_lines:
            return []
        facts = self._facts_with(file)
        if not facts.models:
            return []
        check = _deadline_check(file)
        js = next((lang for ext, lang in _JS_LANGUAGES.items() if file.path.endswith(ext)), None)
        if js is not None:
            hits = association_hits(file.text, js, facts, file.change.touches, check)
        elif file.path.endswith(".py"):
            hits = self._python(file, facts, check)
        else:
            hits = self._ruby(file, facts, check)
        first = {(h.rule, h.start_line, h.end_line): h for h in reversed(hits)}  # one per rule and place
        rule_hits = [self._rule_hit(h, file) for h in first.values()]
        return findings_from_hits(self._by_id, file, rule_hits, MAX_FINDINGS)

    def _facts_with(self, file: FileInput) -> RepoFacts:
        """The head graph, with what the file itself declares read again from its text (that text wins)."""
        graph = self._provider() if self._provider is not None else RepoFacts()
        local = RepoFacts()
        read_source(file.path, file.text, local)
        if not (local.models or local.serializers or local.admins):
            return graph
        local.merge(graph)
        link_graph(local)
        return local

    def _python(self, file: FileInput, facts: RepoFacts, check: Callable[[], None]) -> list[Hit]:
        try:
            tree = ast.parse(file.text)
        except (SyntaxError, ValueError, RecursionError):
            return []
        settings_known = bool(facts.settings) or any("settings" in p for p in facts.files_read)
        return [
            *n_plus_one_hits(tree, file.text, facts, file.change.touches, check),
            *dj.method_field_queries(tree, facts),
            *dj.admin_columns(tree, facts, file.path),
            *dj.whole_table_loops(tree, file.text, facts, file.path),
            *dj.unpaginated_lists(tree, facts, settings_known),
            *dj.unindexed_lookups(tree, facts, file.path),
            *model_method_hits(tree, facts, file.change.touches),
            *membership_hits(tree, facts),
        ]

    def _ruby(self, file: FileInput, facts: RepoFacts, check: Callable[[], None]) -> list[Hit]:
        if _ERB.search(file.path):
            # a template's own loops, read as Ruby: tags taken out (a loop tag's indentation stays below its body's)
            ruby = "\n".join(_ERB_CLOSE.sub(" ", _ERB_OPEN.sub("", line)) for line in file.text.splitlines())
            return rb_n_plus_one_hits(ruby, file.path, facts, file.change.touches, check)
        loops = rb_n_plus_one_hits(file.text, file.path, facts, file.change.touches, check)
        return [*loops, *whole_table_hits(file.text, facts)]

    def _rule_hit(self, hit: Hit, file: FileInput) -> RuleHit:
        lines = file.text.splitlines()[hit.start_line - 1 : hit.end_line]
        rule = self._by_id[hit.rule]
        severity = Severity(hit.severity) if hit.severity else None
        if is_offline_path(file.path):
            severity = Severity.low
        elif hit.confidence < 0.8 and rule.severity.at_least(Severity.high):
            severity = Severity.medium
        return RuleHit(
            hit.rule, hit.start_line, hit.end_line, "\n".join(lines)[:2000],
            {"detail": " ".join(hit.evidence.split())[:MAX_DETAIL_CHARS]}, hit.suggestion, severity, hit.confidence,
        )
