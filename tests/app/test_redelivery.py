"""`scale-review redeliver`: failed deliveries of the last hours are redelivered once, against the fake GitHub.

`Hookshot` plays GitHub's delivery side: it POSTs a payload to our receiver under its GUID and records
the attempt (with the status GitHub saw) in the fake's delivery log, so a redelivery reaches the real
receiver and the durable queue.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from dbos import DBOS

from bot.app.redelivery import WINDOW_SECONDS, redeliver_failed, run_periodically
from bot.cli import main
from tests.support import webhooks as wh
from tests.support.fakegithub.clients import make_gateway
from tests.support.fakegithub.routes_app import iso
from tests.support.service import app_settings, deliver, receiver, running_app

HOUR = 3600.0


def ago(seconds: float) -> str:
    return iso(time.time() - seconds)


def factory(gh: Any) -> Any:
    return lambda: make_gateway(gh, installation_id=wh.INSTALLATION, delivery_id=None)


def seed_history(gh: Any) -> dict[str, int]:
    """A day of deliveries: two lost, one lost then delivered, one too old, 150 fine ones (two pages)."""
    too_old = gh.add_delivery("too-old", "pull_request", "opened", status_code=502, delivered_at=ago(80 * HOUR))
    ids = {"too-old": too_old}
    ids["recovered"] = gh.add_delivery("recovered", "pull_request", "synchronize", status_code=500,
                                       delivered_at=ago(5 * HOUR))
    gh.add_delivery("recovered", "pull_request", "synchronize", status_code=202, delivered_at=ago(4 * HOUR))
    ids["lost-pr"] = gh.add_delivery("lost-pr", "pull_request", "opened", status_code=502, delivered_at=ago(3 * HOUR))
    for i in range(150):
        gh.add_delivery(f"ok-{i}", "pull_request", "synchronize", status_code=202, delivered_at=ago(2 * HOUR))
    ids["lost-cmd"] = gh.add_delivery("lost-cmd", "issue_comment", "created", status_code=0, delivered_at=ago(HOUR))
    return ids


def test_failed_deliveries_in_the_window_are_redelivered_oldest_first_once_each(fake_github: Any) -> None:
    gh = fake_github
    ids = seed_history(gh)
    report = redeliver_failed(factory(gh), time.time() - 24 * HOUR)
    assert gh.store.redeliveries == ["lost-pr", "lost-cmd"]
    assert [(i.attempt.guid, i.attempt.id, i.outcome) for i in report.items] == [
        ("lost-pr", ids["lost-pr"], "redelivered"), ("lost-cmd", ids["lost-cmd"], "redelivered")]
    assert report.ok and report.skipped == 1 and not report.truncated
    lines = report.lines()
    assert lines[0].startswith("redelivered") and "lost-pr" in lines[0] and "pull_request.opened" in lines[0]
    assert "HTTP none" in lines[1]  # a timeout has no status code
    assert lines[-1].startswith("redelivered 2 of 2 failed deliveries") and "1 already delivered later" in lines[-1]
    assert gh.count("GET", r"/app/hook/deliveries$") == 2  # stopped at the window's start, pages followed


def test_dry_run_lists_and_changes_nothing(fake_github: Any) -> None:
    gh = fake_github
    seed_history(gh)
    report = redeliver_failed(factory(gh), time.time() - 24 * HOUR, dry_run=True)
    assert [i.outcome for i in report.items] == ["would redeliver"] * 2
    assert gh.store.redeliveries == [] and gh.count("POST", r"/attempts$") == 0
    assert report.lines()[-1].startswith("would redeliver 2 of 2")


def test_the_window_never_reaches_past_githubs_three_days(fake_github: Any) -> None:
    gh = fake_github
    seed_history(gh)
    report = redeliver_failed(factory(gh), since=0)
    assert report.since >= time.time() - WINDOW_SECONDS - 5
    assert "too-old" not in gh.store.redeliveries and len(gh.store.redeliveries) == 2


def test_a_failed_redelivery_is_reported_and_the_others_still_go(fake_github: Any) -> None:
    gh = fake_github
    ids = seed_history(gh)
    gh.fail("POST", rf"/deliveries/{ids['lost-pr']}/attempts$", status=422, body={"message": "Validation Failed"})
    report = redeliver_failed(factory(gh), time.time() - 24 * HOUR)
    assert not report.ok and [i.attempt.guid for i in report.failures] == ["lost-pr"]
    assert "422" in report.failures[0].error and "422" in report.items[0].line()
    assert gh.store.redeliveries == ["lost-cmd"]


def test_the_page_budget_stops_the_listing_and_says_so(fake_github: Any) -> None:
    gh = fake_github
    seed_history(gh)
    report = redeliver_failed(factory(gh), time.time() - 24 * HOUR, max_pages=1)
    assert report.truncated and any("stopped after" in line for line in report.lines())
    assert gh.count("GET", r"/app/hook/deliveries$") == 1


class Hookshot:
    """GitHub's delivery side: POST to the receiver under a GUID and log the attempt GitHub saw."""

    def __init__(self, gh: Any, client: Any) -> None:
        self.gh, self.client = gh, client
        self.payloads: dict[str, tuple[str, dict[str, Any]]] = {}
        self.answers: list[tuple[str, int, str]] = []
        self.sent_redeliveries = 0

    def send(self, guid: str, event: str, payload: dict[str, Any], *, receiver_down: bool = False,
             answer_lost: bool = False) -> None:
        self.payloads[guid] = (event, payload)
        status = 502
        if not receiver_down:
            r = deliver(self.client, event, payload, delivery=guid)
            self.answers.append((guid, r.status_code, r.json()["status"]))
            status = 0 if answer_lost else r.status_code
        self.gh.add_delivery(guid, event, payload.get("action"), status_code=status,
                             installation_id=wh.INSTALLATION, delivered_at=ago(0))

    def redeliver_asked(self) -> None:
        """Carry out the redeliveries the App asked for since the last call."""
        asked = self.gh.store.redeliveries[self.sent_redeliveries:]
        self.sent_redeliveries += len(asked)
        for guid in asked:
            self.send(guid, *self.payloads[guid])


def test_nothing_lost_while_down_and_a_double_redelivery_is_a_202_duplicate(fake_github: Any,
                                                                             sqlite_backend: Any) -> None:
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    head = gh.store.repos[wh.REPO].pulls[7].head_sha
    with running_app(settings, worker=False) as enq, receiver(settings, enq) as client:
        hook = Hookshot(gh, client)
        hook.send("while-down", "pull_request", wh.pull_request("opened", head=head), receiver_down=True)
        hook.send("answer-lost", "issue_comment", wh.issue_comment("/scale-review"), answer_lost=True)
        hook.send("fine", "pull_request", wh.pull_request("synchronize", head=head))
        assert hook.answers == [("answer-lost", 202, "accepted"), ("fine", 202, "accepted")]

        first = redeliver_failed(factory(gh), time.time() - HOUR)
        # GitHub's log lags: a second run before the redeliveries land asks for them again
        second = redeliver_failed(factory(gh), time.time() - HOUR)
        assert [i.attempt.guid for i in first.items] == [i.attempt.guid for i in second.items] == [
            "while-down", "answer-lost"]
        hook.redeliver_asked()
        assert hook.answers[2:] == [("while-down", 202, "accepted"), ("answer-lost", 202, "duplicate"),
                                    ("while-down", 202, "duplicate"), ("answer-lost", 202, "duplicate")]
        third = redeliver_failed(factory(gh), time.time() - HOUR)  # the log now shows them delivered
        assert third.items == [] and third.skipped == 2 and len(gh.store.redeliveries) == 4
        workflows = sorted(w.workflow_id for w in DBOS.list_workflows())
    assert workflows == ["answer-lost", "fine", "while-down"]  # each GUID stored once, as its workflow id


def test_run_periodically_repeats_until_stopped_and_survives_a_listing_failure(fake_github: Any) -> None:
    gh = fake_github
    gh.add_delivery("lost", "pull_request", "opened", status_code=502, delivered_at=ago(60))
    gh.fail("GET", r"/app/hook/deliveries$", status=404, times=1)  # first run: GitHub refuses; logged, not raised
    stop = threading.Event()
    runs = run_periodically(factory(gh), stop, every_seconds=0.01, lookback_seconds=HOUR, first_after_seconds=0,
                            max_runs=3)
    assert runs == 3 and gh.store.redeliveries == ["lost", "lost"]  # run 2 and 3 (the log never shows success)
    stop.set()
    assert run_periodically(factory(gh), stop, every_seconds=0.01, first_after_seconds=0, max_runs=3) == 0


def test_a_periodic_redelivery_thread_stops_promptly_when_serve_shuts_down(fake_github: Any) -> None:
    stop = threading.Event()
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(run_periodically(
        factory(fake_github), stop, every_seconds=60, first_after_seconds=0)), daemon=True)
    worker.start()
    deadline = time.monotonic() + 5
    while fake_github.count("GET", r"/app/hook/deliveries$") == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    worker.join(timeout=2)
    assert not worker.is_alive() and result == [1]


@pytest.fixture
def app_env(fake_github: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("GITHUB_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET", "SCALE_REVIEW_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_APP_ID", str(fake_github.app_id))
    monkeypatch.setenv("GITHUB_PRIVATE_KEY", fake_github.private_key_pem)
    monkeypatch.setenv("GITHUB_API_URL", fake_github.url)
    return fake_github


def test_cli_redeliver_prints_one_line_per_delivery_and_a_total(app_env: Any, capsys: Any) -> None:
    seed_history(app_env)
    assert main(["redeliver", "--since", "24", "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 and out[0].startswith("would redeliver") and "lost-pr" in out[0]
    assert app_env.store.redeliveries == []
    assert main(["redeliver", "--since", "2"]) == 0  # only lost-cmd (1 h ago) is that recent
    out = capsys.readouterr().out.splitlines()
    assert app_env.store.redeliveries == ["lost-cmd"] and out[-1].startswith("redelivered 1 of 1")


def test_cli_redeliver_exits_1_when_a_redelivery_fails(app_env: Any, capsys: Any) -> None:
    app_env.add_delivery("lost", "pull_request", "opened", status_code=502, delivered_at=ago(60))
    app_env.fail("POST", r"/attempts$", status=422, body={"message": "Validation Failed"})
    assert main(["redeliver"]) == 1
    assert "failed" in capsys.readouterr().out


def test_cli_redeliver_configuration_errors_exit_2(app_env: Any, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: Any) -> None:
    assert main(["redeliver", "--since", "100"]) == 2
    assert "at most 72 hours" in capsys.readouterr().err
    monkeypatch.setenv("GITHUB_APP_ID", "999999")  # not this key's App: GitHub refuses the JWT
    assert main(["redeliver"]) == 2
    assert "refused the App's credentials" in capsys.readouterr().err
    monkeypatch.delenv("GITHUB_APP_ID")
    assert main(["redeliver"]) == 2
    assert "GITHUB_APP_ID" in capsys.readouterr().err
    assert app_env.store.redeliveries == []
