"""Hits to findings, shared by the SQL, Kubernetes and Dockerfile analyzers."""

from __future__ import annotations

from bot.analyzers.base import FileInput
from bot.analyzers.dockerfile import DockerfileAnalyzer
from bot.analyzers.rule_info import Hit, findings_from_hits
from bot.core.diff import FileChange, FileStatus


def _file(added: set[int]) -> FileInput:
    change = FileChange(path="Dockerfile", old_path=None, status=FileStatus.modified, added_lines=frozenset(added),
                        visible_lines=frozenset(added))
    return FileInput(change=change, text="")


def test_repeated_code_gets_distinct_stable_ids_and_untouched_hits_are_dropped() -> None:
    rules = {r.id: r for r in DockerfileAnalyzer().rules}
    rule_id = next(iter(rules))
    hits = [Hit(rule_id, 9, 9, "CMD  python app.py"), Hit(rule_id, 3, 3, "CMD python app.py"),
            Hit(rule_id, 5, 5, "CMD other")]
    found = findings_from_hits(rules, _file({3, 9}), hits, limit=10)
    assert [f.start_line for f in found] == [3, 9]
    assert len({f.id for f in found}) == 2
    again = findings_from_hits(rules, _file({3, 9}), list(reversed(hits)), limit=10)
    assert [f.id for f in again] == [f.id for f in found]
    assert len(findings_from_hits(rules, _file({3, 9}), hits, limit=1)) == 1
