"""The gate: which conclusion a maintainer sees for each combination, and the verdict that says why."""

from __future__ import annotations

import pytest

from bot.core.model import Acceptance, Category, Conclusion, Finding, Review, Severity
from bot.core.policy import apply_acceptances, decide, finalize
from bot.core.repo_config import RepoConfig, load_repo_config


def finding(severity: Severity, n: int = 0, path: str = "app/views.py") -> Finding:
    return Finding(
        id=f"SR-{severity.value[:3]}{n:07d}",
        category=Category.n_plus_one,
        severity=severity,
        path=path,
        start_line=10 + n,
        end_line=10 + n,
        title=f"{severity.value} finding {n}",
        evidence="e",
        risk="r",
        rollback="b",
        monitoring="m",
        source="py-orm-in-loop",
    )


DEFAULT = RepoConfig()


def test_no_findings_succeeds() -> None:
    assert decide([], DEFAULT) == (Conclusion.success, "no findings at or above high")


def test_finding_at_threshold_fails_with_count() -> None:
    conclusion, verdict = decide([finding(Severity.high, 1), finding(Severity.critical, 2)], DEFAULT)
    assert conclusion == Conclusion.failure
    assert verdict == "2 findings at or above high: merge blocked"


def test_one_finding_is_singular() -> None:
    assert decide([finding(Severity.high)], DEFAULT)[1] == "1 finding at or above high: merge blocked"


def test_findings_below_threshold_do_not_block() -> None:
    conclusion, verdict = decide([finding(Severity.medium), finding(Severity.low, 1)], DEFAULT)
    assert conclusion == Conclusion.success
    assert verdict == "2 findings below high: merge not blocked"


@pytest.mark.parametrize(
    ("fail_on", "severity", "expected"),
    [
        (Severity.medium, Severity.medium, Conclusion.failure),
        (Severity.medium, Severity.low, Conclusion.success),
        (Severity.critical, Severity.high, Conclusion.success),
        (Severity.critical, Severity.critical, Conclusion.failure),
        (Severity.info, Severity.info, Conclusion.failure),
    ],
)
def test_config_fail_on_sets_the_threshold(fail_on: Severity, severity: Severity, expected: Conclusion) -> None:
    config, errors = load_repo_config(f"fail_on: {fail_on.value}\n")
    assert errors == []
    assert decide([finding(severity)], config)[0] == expected


def test_fail_on_argument_overrides_config() -> None:
    config, _ = load_repo_config("fail_on: critical\n")
    assert decide([finding(Severity.medium)], config)[0] == Conclusion.success
    conclusion, verdict = decide([finding(Severity.medium)], config, fail_on=Severity.medium)
    assert conclusion == Conclusion.failure
    assert verdict == "1 finding at or above medium: merge blocked"


def test_accepted_blocking_finding_passes_and_names_who() -> None:
    f = finding(Severity.high)
    accepted = [Acceptance(finding_id=f.id, by="alice", reason="batch job, runs nightly")]
    conclusion, verdict = decide([f], DEFAULT, accepted=accepted)
    assert conclusion == Conclusion.success
    assert verdict == "accepted by @alice: 1 finding at or above high; nothing else blocks the merge"


def test_partial_acceptance_still_fails() -> None:
    a, b = finding(Severity.high, 1), finding(Severity.critical, 2)
    conclusion, verdict = decide([a, b], DEFAULT, accepted=[Acceptance(finding_id=a.id, by="alice", reason="ok")])
    assert conclusion == Conclusion.failure
    assert verdict == "1 finding at or above high: merge blocked"


def test_acceptance_of_unknown_id_changes_nothing() -> None:
    f = finding(Severity.high)
    accepted = [Acceptance(finding_id="SR-doesnotexist", by="mallory", reason="x")]
    assert decide([f], DEFAULT, accepted=accepted)[0] == Conclusion.failure


def test_degraded_without_blocking_findings_is_neutral() -> None:
    conclusion, verdict = decide([finding(Severity.low)], DEFAULT, degraded="model budget spent")
    assert conclusion == Conclusion.neutral
    assert verdict == "review incomplete: model budget spent; 1 finding below high: merge not blocked"
    assert decide([], DEFAULT, degraded="diff too large")[1] == "review incomplete: diff too large; no findings"


def test_degraded_review_still_fails_on_a_blocking_finding() -> None:
    conclusion, verdict = decide([finding(Severity.critical)], DEFAULT, degraded="diff too large")
    assert conclusion == Conclusion.failure
    assert verdict == "1 finding at or above high: merge blocked (review incomplete: diff too large)"


def test_degraded_with_accepted_blocking_finding_is_neutral() -> None:
    f = finding(Severity.high)
    accepted = [Acceptance(finding_id=f.id, by="bob", reason="known")]
    assert decide([f], DEFAULT, accepted=accepted, degraded="timeout")[0] == Conclusion.neutral


def test_apply_acceptances_splits_by_id() -> None:
    a, b = finding(Severity.high, 1), finding(Severity.low, 2)
    open_, done = apply_acceptances([a, b], [Acceptance(finding_id=b.id, by="x", reason="y")])
    assert open_ == [a]
    assert done == [b]


def test_finalize_fills_conclusion_verdict_fail_on_and_sorts() -> None:
    low, crit = finding(Severity.low, 1), finding(Severity.critical, 2)
    review = finalize(Review(findings=[low, crit]), DEFAULT, fail_on=Severity.critical)
    assert review.conclusion == Conclusion.failure
    assert review.verdict == "1 finding at or above critical: merge blocked"
    assert review.fail_on == Severity.critical
    assert [f.id for f in review.findings] == [crit.id, low.id]


def test_finalize_uses_review_acceptances_and_records_degraded_note() -> None:
    f = finding(Severity.high)
    review = Review(findings=[f], accepted=[Acceptance(finding_id=f.id, by="@carol", reason="temporary")])
    done = finalize(review, DEFAULT)
    assert done.conclusion == Conclusion.success
    assert done.verdict.startswith("accepted by @carol:")
    degraded = finalize(Review(), DEFAULT, degraded="GitHub rate limit")
    assert degraded.conclusion == Conclusion.neutral
    assert degraded.notes == ["Review incomplete: GitHub rate limit"]
    assert finalize(degraded, DEFAULT, degraded="GitHub rate limit").notes == degraded.notes


def test_finalize_takes_fail_on_from_config() -> None:
    config, _ = load_repo_config("fail_on: medium\n")
    review = finalize(Review(findings=[finding(Severity.medium)]), config)
    assert (review.conclusion, review.fail_on) == (Conclusion.failure, Severity.medium)


def test_only_confident_findings_block() -> None:
    unsure = finding(Severity.critical, 1).model_copy(update={"confidence": 0.6})
    conclusion, verdict = decide([unsure], DEFAULT)
    assert conclusion == Conclusion.success
    assert verdict == "1 finding at or above high with confidence below 80%: shown, merge not blocked"
    sure = finding(Severity.high, 2).model_copy(update={"confidence": 0.8})
    assert decide([unsure, sure], DEFAULT)[0] == Conclusion.failure


def test_gate_min_confidence_is_configurable() -> None:
    config, errors = load_repo_config("gate:\n  min_confidence: 0.5\n")
    assert not errors and config.gate.min_confidence == 0.5
    unsure = finding(Severity.high, 1).model_copy(update={"confidence": 0.6})
    assert decide([unsure], config)[0] == Conclusion.failure
    _, errors = load_repo_config("gate:\n  min_confidence: 2\n")
    assert errors and "min_confidence" in errors[0]
    assert finalize(Review(findings=[unsure]), config).min_confidence == 0.5
