"""Load: 200 PR events across 20 PRs, with rapid pushes, through one receiver (`scale-review serve
--no-worker`) and two `scale-review worker` processes on PostgreSQL, against the fake GitHub.

Every PR ends with one completed check run (and one review) for its latest head, no check run is
left `in_progress`, no head is reviewed twice, no finding is posted twice, no delivery is lost.
"""

from __future__ import annotations

import time
from collections import Counter

from bench.load import run_load
from bot.render.comment import find_markers
from tests.conftest import PG_URL, require_postgres

PRS, EVENTS, BUDGET_SECONDS = 20, 200, 180


def test_200_events_with_rapid_pushes_through_one_receiver_and_two_workers(tmp_path):
    require_postgres()
    from tests.support.fakegithub import FakeGitHub

    started = time.monotonic()
    with FakeGitHub() as gh:
        report = run_load(gh, PG_URL, tmp_path, prs=PRS, events=EVENTS, workers=2, timeout=BUDGET_SECONDS - 10)
        runs = gh.check_runs()
        reviews = {key: gh.reviews(*_split(key)) for key in report.latest}
        comments = {key: gh.review_comments(*_split(key)) for key in report.latest}
    elapsed = time.monotonic() - started
    print(f"load: {report.as_dict()} total {elapsed:.1f} s")  # throughput and drain time for the report
    assert elapsed < BUDGET_SECONDS
    assert report.answers == {202: EVENTS + report.redeliveries}
    assert report.duplicates == report.redeliveries  # a redelivery is recognised, not run again
    assert set(report.workflows) == {"SUCCESS"} and report.workflows["SUCCESS"] >= EVENTS  # nothing lost
    assert [r for r in runs if r["status"] != "completed"] == []  # no superseded head left in_progress
    per_head = Counter(r["head_sha"] for r in runs)
    assert [h for h, n in per_head.items() if n > 1] == []  # no head got two check runs
    for key, head in report.latest.items():
        [latest_run] = [r for r in runs if r["head_sha"] == head]
        assert latest_run["conclusion"] == "failure", (key, latest_run["output"]["title"])
        assert [r["commit_id"] for r in reviews[key]].count(head) == 1, key
        assert len({r["commit_id"] for r in reviews[key]}) == len(reviews[key]), f"{key}: a head reviewed twice"
        markers = [i for c in comments[key] for i in find_markers(c["body"])]
        assert len(markers) == len(set(markers)), f"{key}: a finding posted twice"


def _split(key: str) -> tuple[str, int]:
    repo, number = key.split("#")
    return repo, int(number)
