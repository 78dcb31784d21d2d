"""`--format json`: scripts rely on these exact keys (design.md Interfaces)."""

from __future__ import annotations

import json

from bot.core.model import Acceptance, Category, CoverageStatus, FileCoverage, Finding, Review, Severity
from bot.core.policy import finalize
from bot.core.repo_config import RepoConfig
from bot.render.json_out import render_json
from bot.render.markdown import render_summary

CONTRACT_KEYS = {"conclusion", "summary", "findings", "stats"}
EXTRA_KEYS = {"title", "verdict", "fail_on", "min_confidence", "coverage", "notes", "accepted", "pre_existing",
              "dismissed"}
FINDING_KEYS = {
    "id", "category", "severity", "path", "start_line", "end_line", "title", "evidence", "risk",
    "suggestion", "rollback", "monitoring", "confidence", "source",
}


def finding() -> Finding:
    return Finding(
        id="SR-abcdef0123",
        category=Category.unbounded_query,
        severity=Severity.critical,
        path="api/list.py",
        start_line=3,
        end_line=5,
        title="List endpoint returns every row",
        evidence="`Item.objects.all()` is returned unpaginated; ünïcode kept",
        risk="Response size grows with the table.",
        suggestion=None,
        advice="Paginate.",
        rollback="Revert.",
        monitoring="Response bytes of GET /items.",
        confidence=0.9,
        source="py-unbounded-all",
    )


def make_review() -> Review:
    f = finding()
    r = Review(
        findings=[f],
        coverage=[FileCoverage(path="api/list.py", status=CoverageStatus.reviewed, analyzers=("ast-grep",))],
        notes=["a note"],
        accepted=[Acceptance(finding_id=f.id, by="alice", reason="admin only")],
        stats={"seconds": 0.5, "files": 1},
    )
    return finalize(r, RepoConfig())


def test_top_level_keys_are_exactly_the_contract_plus_extras() -> None:
    data = json.loads(render_json(make_review()))
    assert set(data) == CONTRACT_KEYS | EXTRA_KEYS


def test_values() -> None:
    r = make_review()
    data = json.loads(render_json(r))
    assert data["conclusion"] == "success"
    assert data["summary"] == render_summary(r)
    assert data["verdict"].startswith("accepted by @alice")
    assert data["fail_on"] == "high"
    assert data["stats"] == {"seconds": 0.5, "files": 1}
    assert data["coverage"] == [{"path": "api/list.py", "status": "reviewed", "reason": "", "analyzers": ["ast-grep"]}]
    assert data["notes"] == ["a note"]
    assert data["accepted"] == [{"finding_id": "SR-abcdef0123", "by": "alice", "reason": "admin only"}]
    assert data["title"] == "1 critical"


def test_finding_shape() -> None:
    (item,) = json.loads(render_json(make_review()))["findings"]
    assert FINDING_KEYS <= set(item)
    assert item["severity"] == "critical" and item["category"] == "unbounded_query"
    assert (item["start_line"], item["end_line"]) == (3, 5)
    assert item["suggestion"] is None
    assert item["evidence"].endswith("ünïcode kept")


def test_empty_review_is_valid_json_with_contract_keys() -> None:
    data = json.loads(render_json(finalize(Review(), RepoConfig())))
    assert data["conclusion"] == "success"
    assert data["findings"] == []
    assert CONTRACT_KEYS <= set(data)
