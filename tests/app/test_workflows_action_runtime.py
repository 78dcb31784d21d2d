"""What the GitHub Action changes in the App's Runtime, through the real durable review: the config file's
path (read at the BASE commit), a ceiling on model spend, fork code kept from the model, the review observer."""

from __future__ import annotations

import dataclasses
from typing import Any

from bot.app.review_flow import FORK_STATIC_NOTE
from bot.app.runtime import current_runtime, install_runtime
from bot.core.model import Review
from tests.conftest import PR_FILES
from tests.support import webhooks as wh
from tests.support.fakemodel import FakeModel, Reply, tool
from tests.support.service import app_settings, review_job, running_app, wait_result


def _adjust(**changes: Any) -> None:
    install_runtime(dataclasses.replace(current_runtime(), **changes))


def test_the_config_path_is_read_at_the_base_commit(fake_github: Any, sqlite_backend: Any) -> None:
    gh = fake_github
    pull = gh.add_pull(wh.REPO, 8, {**PR_FILES, "ci/scale-review.yml": ("fail_on: critical\n", "fail_on: info\n")})
    seen: list[Review] = []
    with running_app(app_settings(gh, sqlite_backend.url)) as enq:
        _adjust(config_path="ci/scale-review.yml", on_review=seen.append)
        enq.enqueue_now(review_job("cfg-1", pull.head_sha, number=8))
        result = wait_result("cfg-1")
    assert result["outcome"] == "success"  # the base says critical; the head's `info` changes nothing
    [review] = seen
    assert review.fail_on == "critical" and any(f.severity == "high" for f in review.findings)


def test_a_cost_ceiling_under_the_config_stops_the_model_before_it_is_paid(fake_github: Any,
                                                                            sqlite_backend: Any) -> None:
    gh = fake_github
    model = FakeModel([Reply([tool("finish_review", summary="done")])])
    head = gh.store.repos[wh.REPO].pulls[7].head_sha
    with running_app(app_settings(gh, sqlite_backend.url), model_client=model.client()) as enq:
        _adjust(max_cost_usd=0.0001)
        enq.enqueue_now(review_job("cost-1", head))
        wait_result("cost-1")
    assert model.calls == 0
    assert "cost budget of $0.00" in gh.check_runs(wh.REPO)[0]["output"]["summary"]


def test_fork_code_never_reaches_the_model_when_the_runtime_says_so(fake_github: Any, sqlite_backend: Any) -> None:
    gh = fake_github
    gh.store.repos[wh.REPO].pulls[7].head_repo = "forker/shop"
    model = FakeModel([Reply([tool("finish_review", summary="done")])])
    head = gh.store.repos[wh.REPO].pulls[7].head_sha
    with running_app(app_settings(gh, sqlite_backend.url), model_client=model.client()) as enq:
        _adjust(model_on_forks=False)
        enq.enqueue_now(review_job("fork-1", head))
        wait_result("fork-1")
    assert model.calls == 0
    assert FORK_STATIC_NOTE in gh.check_runs(wh.REPO)[0]["output"]["summary"]
