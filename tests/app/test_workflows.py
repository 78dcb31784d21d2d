"""The durable workflows on SQLite and on PostgreSQL: one review per delivery, supersession, failures."""

from __future__ import annotations

import time

from dbos import DBOS

from bot.app import workflows
from bot.app.review_flow import FAILED_TITLE
from bot.app.runtime import current_runtime
from tests.support import webhooks as wh
from tests.support.service import app_settings, review_job, running_app, wait_result


def head(gh, number=7):
    return gh.store.repos[wh.REPO].pulls[number].head_sha


def test_review_completes_and_a_redelivery_is_a_duplicate(fake_github, backend):
    gh = fake_github
    settings = app_settings(gh, backend.url)
    with running_app(settings, schema=backend.schema) as enq:
        assert enq.enqueue_now(review_job("wf-1", head(gh))) == "accepted"
        assert enq.enqueue_now(review_job("wf-1", head(gh))) == "duplicate"
        result = wait_result("wf-1")
        assert enq.enqueue_now(review_job("wf-1", head(gh))) == "duplicate"
    assert result["outcome"] == "failure", result
    [run] = gh.check_runs(wh.REPO)
    assert run["status"] == "completed" and run["conclusion"] == "failure"
    assert len(gh.reviews(wh.REPO, 7)) == 1


def test_queues_serialise_per_pr_and_rate_limit_per_installation(fake_github, backend):
    settings = app_settings(fake_github, backend.url, installation_reviews_per_minute=17)
    with running_app(settings, schema=backend.schema, worker=False):
        pr_queue = DBOS.retrieve_queue(workflows.PR_QUEUE)
        inst_queue = DBOS.retrieve_queue(workflows.INSTALLATION_QUEUE)
        assert pr_queue.partition_concurrency == 1
        assert inst_queue.partition_limiter == {"limit": 17, "period": 60.0}


def test_a_queued_review_of_an_older_head_is_dropped(fake_github, backend):
    gh = fake_github
    settings = app_settings(gh, backend.url)
    old = head(gh)
    with running_app(settings, schema=backend.schema, worker=False) as enq:  # nothing runs yet
        enq.enqueue_now(review_job("old-1", old))
        new = gh.push(wh.REPO, 7, {"app/extra.py": "x = 1\n"})
        enq.enqueue_now(review_job("new-1", new))
    with running_app(settings, schema=backend.schema):  # a worker starts and drains the queue
        assert wait_result("old-1")["outcome"] == "superseded"
        assert wait_result("new-1")["outcome"] == "failure"
    [run] = gh.check_runs(wh.REPO)
    assert run["head_sha"] == new and run["status"] == "completed"
    [review] = gh.reviews(wh.REPO, 7)
    assert review["commit_id"] == new


def test_a_running_review_stops_before_publishing_when_a_newer_head_arrives(fake_github, backend):
    gh = fake_github
    settings = app_settings(gh, backend.url)
    old = head(gh)
    gh.slow("POST", r"/check-runs$", seconds=1.5)  # the old review is busy creating its check run
    with running_app(settings, schema=backend.schema) as enq:
        enq.enqueue_now(review_job("run-old", old))
        deadline = time.monotonic() + 20
        while not gh.count("GET", r"/check-runs$") and time.monotonic() < deadline:
            time.sleep(0.02)
        new = gh.push(wh.REPO, 7, {"app/extra.py": "x = 1\n"})
        enq.enqueue_now(review_job("run-new", new))
        old_result = wait_result("run-old")
        new_result = wait_result("run-new")
    assert old_result["outcome"] == "superseded" and new_result["outcome"] == "failure"
    runs = {r["head_sha"]: r for r in gh.check_runs(wh.REPO)}
    assert runs[old]["status"] == "completed" and runs[old]["conclusion"] == "neutral"
    assert runs[old]["output"]["title"] == "Superseded" and new[:12] in runs[old]["output"]["summary"]
    assert runs[new]["conclusion"] == "failure"
    assert [r["commit_id"] for r in gh.reviews(wh.REPO, 7)] == [new]


def test_a_late_redelivery_of_an_older_push_does_not_stop_the_current_review(fake_github, sqlite_backend):
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    old = head(gh)
    new = gh.push(wh.REPO, 7, {"app/extra.py": "x = 1\n"})
    gh.slow("POST", r"/check-runs$", seconds=1.0)
    with running_app(settings) as enq:
        enq.enqueue_now(review_job("cur", new))
        while not gh.count("GET", r"/check-runs$"):
            time.sleep(0.02)
        enq.enqueue_now(review_job("stale", old))
        assert wait_result("cur")["outcome"] == "failure"
        assert wait_result("stale")["outcome"] == "superseded"
    assert [r["commit_id"] for r in gh.reviews(wh.REPO, 7)] == [new]


def test_a_failure_mid_review_still_completes_the_check_run(fake_github, backend):
    gh = fake_github
    gh.fail("GET", r"/pulls/7/reviews$", status=404, times=5)  # publishing cannot list reviews
    settings = app_settings(gh, backend.url)
    with running_app(settings, schema=backend.schema) as enq:
        enq.enqueue_now(review_job("broken", head(gh)))
        result = wait_result("broken")
    assert result["outcome"] == "error"
    [run] = gh.check_runs(wh.REPO)
    assert run["status"] == "completed" and run["conclusion"] == "neutral"
    assert run["output"]["title"] == FAILED_TITLE and "404" in run["output"]["summary"]


def test_secondary_rate_limit_is_waited_out(fake_github, sqlite_backend):
    gh = fake_github
    gh.secondary_rate_limit("POST", r"/pulls/7/reviews$", retry_after=1, times=1)
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq:
        enq.enqueue_now(review_job("limited", head(gh)))
        assert wait_result("limited")["outcome"] == "failure"
    assert len(gh.reviews(wh.REPO, 7)) == 1


def test_a_ten_file_pr_costs_at_most_thirteen_github_calls(fake_github, sqlite_backend):
    """Thirteen: the differential review reads the base side of the changed files in one more batched call; the
    team's rules folders (the repository's and the organisation's) and the base's .gitattributes come with the
    config in its one GraphQL query, so the base tree is never listed."""
    gh = fake_github
    files = {f"svc/mod{i}.py": (f"def f{i}():\n    return {i}\n",
                                f"import requests\n\n\ndef f{i}(url):\n    return requests.get(url).json()\n")
             for i in range(10)}
    gh.add_pull(wh.REPO, 20, files)
    with running_app(app_settings(gh, sqlite_backend.url)) as enq:
        runtime = current_runtime()
        runtime.gateway(0, "").identity()  # GET /app: once per process (cached in the runtime), not per review
        gh.reset_calls()
        enq.enqueue_now(review_job("ten-files", head(gh, 20), number=20))
        result = wait_result("ten-files")
    assert len(result["findings"]) >= 10
    assert result["calls"] == len(gh.calls) <= 13, [f"{c.method} {c.path}" for c in gh.calls]


def test_an_installation_over_its_rate_limit_waits_while_others_proceed(fake_github, sqlite_backend):
    gh = fake_github
    gh.add_pull(wh.REPO, 21, {"app/a.py": ("x = 1\n", "x = 2\n")})
    gh.add_installation(777, "other")
    gh.add_repo("other/app", {"README.md": "hi\n"}, installation_id=777)
    gh.add_pull("other/app", 1, {"b.py": ("y = 1\n", "y = 2\n")})
    settings = app_settings(gh, sqlite_backend.url, installation_reviews_per_minute=1, worker_concurrency=1)
    with running_app(settings) as enq:
        enq.enqueue_now(review_job("quota-1", head(gh)))
        enq.enqueue_now(review_job("quota-2", head(gh, 21), number=21))  # same installation: over its limit
        enq.enqueue_now(review_job("other-1", gh.store.repos["other/app"].pulls[1].head_sha, repo="other/app",
                                   number=1, installation_id=777))
        assert wait_result("other-1")["outcome"] == "success"  # not stuck behind installation 4242
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _finished("quota-1") and not _finished("quota-2"):
            time.sleep(0.05)
        time.sleep(1.0)
        # one of installation 4242's two reviews ran (the queue does not promise which first); the other waits
        done = sorted(d for d in ("quota-1", "quota-2") if _finished(d))
        assert len(done) == 1, done
        waiting = "quota-2" if done == ["quota-1"] else "quota-1"
        assert DBOS.retrieve_workflow(waiting).get_status().status == "PENDING"  # still waiting its turn
    ran = head(gh) if done == ["quota-1"] else head(gh, 21)
    assert {r["head_sha"] for r in gh.check_runs()} == {ran, gh.store.repos["other/app"].pulls[1].head_sha}


def _finished(delivery_id: str) -> bool:
    return DBOS.retrieve_workflow(delivery_id).get_status().status == "SUCCESS"


OLD_CALL = "import requests\n\n\ndef ping(url):\n    return requests.get(\n        url,\n    )\n"


def test_an_old_problem_the_pr_merely_touches_is_summarised_not_posted(fake_github, sqlite_backend):
    gh = fake_github
    touched = OLD_CALL.replace("        url,\n", "        url,\n        headers={'a': 'b'},\n")
    gh.add_pull(wh.REPO, 22, {"svc/ping.py": (OLD_CALL, touched)})
    with running_app(app_settings(gh, sqlite_backend.url)) as enq:
        enq.enqueue_now(review_job("touched", head(gh, 22), number=22))
        result = wait_result("touched")
    assert result["outcome"] == "success" and result["findings"] == []
    assert gh.review_comments(wh.REPO, 22) == []
    [run] = [r for r in gh.check_runs() if r["head_sha"] == head(gh, 22)]
    assert "<details><summary>1 finding already at the base" in run["output"]["summary"]
