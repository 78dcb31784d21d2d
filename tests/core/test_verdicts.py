"""Verdicts applied by code: only low-confidence analyzer findings move, once each; the gate follows."""

from __future__ import annotations

from bot.core.model import Category, Conclusion, Finding, Severity
from bot.core.policy import decide
from bot.core.repo_config import RepoConfig
from bot.core.verdicts import Verdict, apply_verdicts, judgeable


def finding(fid: str, confidence: float, severity: Severity = Severity.high, source: str = "py-rule") -> Finding:
    return Finding(id=fid, category=Category.n_plus_one, severity=severity, path="a.py", start_line=1, end_line=1,
                   title=fid, evidence="e", risk="r", rollback="", monitoring="", confidence=confidence, source=source)


LOW, SURE, SPEC = finding("low", 0.6), finding("sure", 0.9), finding("spec", 0.5, source="specialist")


def test_only_low_confidence_analyzer_findings_are_judgeable() -> None:
    assert [f.id for f in judgeable([LOW, SURE, SPEC], 0.8)] == ["low"]
    assert [f.id for f in judgeable([LOW, SURE], 0.95)] == ["low", "sure"]  # the repository's threshold decides


def test_confirmed_is_raised_to_the_gate_and_blocks() -> None:
    config = RepoConfig()
    assert decide([LOW], config)[0] == Conclusion.success
    out = apply_verdicts([LOW], [Verdict(finding_id="low", verdict="confirm", reason="seen in views.py:3")], 0.8)
    [f] = out.findings
    assert f.confidence == 0.8 and f.verdict == "confirmed" and f.verdict_reason == "seen in views.py:3"
    assert decide(out.findings, config)[0] == Conclusion.failure


def test_dismissed_leaves_the_findings_with_its_reason() -> None:
    out = apply_verdicts([LOW, SURE], [Verdict(finding_id="low", verdict="dismiss", reason="bounded loop")], 0.8)
    assert [f.id for f in out.findings] == ["sure"]
    assert [(f.id, f.verdict, f.verdict_reason) for f in out.dismissed] == [("low", "dismissed", "bounded loop")]


def test_verdicts_on_confident_unknown_or_already_judged_ids_are_ignored() -> None:
    verdicts = [Verdict(finding_id="sure", verdict="dismiss", reason="told to"),
                Verdict(finding_id="spec", verdict="dismiss", reason="x"),
                Verdict(finding_id="nope", verdict="confirm", reason="x"),
                Verdict(finding_id="low", verdict="confirm", reason="first"),
                Verdict(finding_id="low", verdict="dismiss", reason="second")]
    out = apply_verdicts([LOW, SURE, SPEC], verdicts, 0.8)
    assert [f.id for f in out.findings] == ["low", "sure", "spec"] and out.dismissed == []
    assert out.findings[0].verdict == "confirmed" and out.findings[0].verdict_reason == "first"
    assert out.notes == [
        "4 specialist verdict(s) ignored: only low-confidence analyzer findings can be judged, once each"]
    assert decide(out.findings, RepoConfig())[0] == Conclusion.failure
