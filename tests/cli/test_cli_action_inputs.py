"""`scale-review action`'s inputs and decisions, in process: GitHub's `INPUT_` names, flags, bad values,
who may not write, and when the job fails."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from bot.cli import main
from bot.cli.action import blocking, gate_failed, read_only_reason
from bot.cli.action_inputs import ActionInputs, WorkflowEnv, add_input_flags, input_env_name, read_inputs
from bot.core.model import Acceptance, Conclusion, Finding, Review, Severity
from bot.render.job_summary import JobReport


def flags(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_input_flags(parser)
    return parser.parse_args(list(argv))


def test_input_names_keep_their_hyphens_as_github_sets_them() -> None:
    assert input_env_name("fail-on") == "INPUT_FAIL-ON"
    assert input_env_name("sarif-file") == "INPUT_SARIF-FILE"
    assert input_env_name("anthropic-api-key") == "INPUT_ANTHROPIC-API-KEY"


def test_inputs_come_from_the_environment_and_a_flag_wins() -> None:
    env = {"INPUT_FAIL-ON": "High", "INPUT_SARIF-FILE": "out/sr.sarif", "INPUT_MAX-COST-USD": "0.5",
           "INPUT_CONFIG": "ci/scale-review.yml", "INPUT_MODE": "summary", "INPUT_ANTHROPIC-API-KEY": "k1"}
    problems: list[str] = []
    got = read_inputs(flags("--fail-on", "critical"), env, problems)
    assert problems == []
    assert got == ActionInputs(fail_on="critical", config_path="ci/scale-review.yml", anthropic_api_key="k1",
                               max_cost_usd=0.5, sarif_file="out/sr.sarif", mode="summary")
    assert "k1" not in repr(got)


def test_empty_inputs_mean_the_defaults() -> None:
    problems: list[str] = []
    got = read_inputs(flags(), {"INPUT_FAIL-ON": "", "INPUT_MODE": ""}, problems)
    assert problems == [] and got == ActionInputs()


@pytest.mark.parametrize(("env", "expected"), [
    ({"INPUT_MODE": "post-everything"}, "mode='post-everything'"),
    ({"INPUT_FAIL-ON": "severe"}, "fail-on='severe'"),
    ({"INPUT_MAX-COST-USD": "nan"}, "max-cost-usd='nan'"),
    ({"INPUT_MAX-COST-USD": "500"}, "max-cost-usd='500'"),
    ({"INPUT_CONFIG": "../../etc/passwd"}, "'..' leads outside the repository"),
    ({"INPUT_CONFIG": "/etc/scale-review.yml"}, "absolute paths"),
])
def test_bad_inputs_are_named(env: dict[str, str], expected: str) -> None:
    problems: list[str] = []
    read_inputs(flags(), env, problems)
    assert len(problems) == 1 and expected in problems[0]


def test_outside_a_workflow_every_missing_variable_is_named(monkeypatch: Any, capsys: Any, tmp_path: Any) -> None:
    for name in ("GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_REPOSITORY", "GITHUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INPUT_MODE", "loud")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    assert main(["action"]) == 2
    assert "GITHUB_TOKEN is not set" in (tmp_path / "summary.md").read_text()
    err = capsys.readouterr().err
    for name in ("GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_REPOSITORY", "GITHUB_TOKEN", "mode='loud'"):
        assert name in err
    assert all(line.startswith("::error title=scale-review::") for line in err.splitlines())


def _wf(event: str = "pull_request", actor: str = "alice") -> WorkflowEnv:
    return WorkflowEnv(event_name=event, event_path="e.json", repository="octo/shop", token="t", actor=actor)


def _pr(head: str | None) -> dict[str, Any]:
    return {"pull_request": {"head": {"repo": {"full_name": head} if head else None},
                             "base": {"repo": {"full_name": "octo/shop"}}}}


def test_who_may_not_write() -> None:
    same, fork = _pr("octo/shop"), _pr("forker/shop")
    assert read_only_reason(_wf(), ActionInputs(), same) is None
    assert "fork (forker/shop)" in (read_only_reason(_wf(), ActionInputs(), fork) or "")
    assert "deleted fork" in (read_only_reason(_wf(), ActionInputs(), _pr(None)) or "")
    assert "Dependabot" in (read_only_reason(_wf(actor="dependabot[bot]"), ActionInputs(), same) or "")
    assert "mode: summary" in (read_only_reason(_wf(), ActionInputs(mode="summary"), same) or "")
    # pull_request_target runs in the base repository with its token: it may write (the model stays off)
    assert read_only_reason(_wf("pull_request_target"), ActionInputs(), fork) is None
    hostile = _pr("evil/x::set-env name=A::b\n::error::")
    assert "\n" not in (read_only_reason(_wf(), ActionInputs(), hostile) or "\n")
    assert "::" not in (read_only_reason(_wf(), ActionInputs(), hostile) or "::")


def _finding(fid: str, severity: str, confidence: float = 0.9) -> Finding:
    return Finding(id=fid, category="missing_timeout", severity=Severity(severity), path="a.py", start_line=1,
                   end_line=1, title="t", evidence="e", risk="r", rollback="b", monitoring="m",
                   confidence=confidence, source="x")


def test_the_job_fails_only_when_fail_on_asks() -> None:
    review = Review(findings=[_finding("SR-1", "high"), _finding("SR-2", "critical", 0.3)],
                    conclusion=Conclusion.failure, min_confidence=0.8)
    report = JobReport(mode="published", version="x", review=review)
    assert not gate_failed(ActionInputs(), report)
    assert gate_failed(ActionInputs(fail_on="gate"), report)
    assert gate_failed(ActionInputs(fail_on="high"), report)
    assert not gate_failed(ActionInputs(fail_on="critical"), report)  # the critical one is not confident
    accepted = review.model_copy(update={"accepted": [Acceptance(finding_id="SR-1", by="m", reason="ok")]})
    assert blocking(accepted, Severity.medium) == []
    assert gate_failed(ActionInputs(fail_on="high"), JobReport(mode="published", version="x", outcome="error"))
    assert not gate_failed(ActionInputs(fail_on="high"), JobReport(mode="published", version="x", outcome="skipped"))
