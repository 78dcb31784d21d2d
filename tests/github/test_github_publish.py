"""Publishing against the fake: check-run lifecycle, one review per run, anchors, markers, retries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.core.diff import parse_diff
from bot.core.model import Acceptance, Category, Conclusion, Finding, Review, Severity
from bot.github.client import GitHubGateway
from bot.github.publish import (
    CHECK_NAME,
    complete_check_run,
    conclude_superseded,
    outdated_findings,
    post_review,
    start_check_run,
    update_check_progress,
)
from bot.render.comment import find_markers
from bot.render.sanitize import ZWSP
from tests.support.fakegithub import FakeGitHub
from tests.support.fakegithub.clients import make_gateway

REPO = "acme/shop"
NEW = "".join(f"row_{i} = load({i})\n" for i in range(1, 101))  # a new file: every line is in the diff
BASE = "".join(f"v{i} = {i}\n" for i in range(1, 41))
HEAD = BASE.replace("v5 = 5\n", "v5 = 55\nv5b = 56\n")  # one hunk around lines 2..9


def finding(n: int, path: str = "new.py", start: int | None = None, end: int | None = None,
            severity: Severity = Severity.high, **extra: object) -> Finding:
    line = start if start is not None else n
    fields: dict[str, object] = {"title": f"Query in a loop #{n}", "evidence": "seen here", "risk": "grows with rows",
                                 "rollback": "revert", "monitoring": "db qps", "source": "test-rule", **extra}
    return Finding(id=f"SR-{n:010x}", category=Category.n_plus_one, severity=severity, path=path,
                   start_line=line, end_line=end if end is not None else line, **fields)  # type: ignore[arg-type]


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_pull(REPO, 9, {"new.py": (None, NEW), "app.py": (BASE, HEAD)})
        yield fake


@pytest.fixture
def gw(gh: FakeGitHub) -> GitHubGateway:
    return make_gateway(gh)


def head(gh: FakeGitHub) -> str:
    return gh.store.repos[REPO].pulls[9].head_sha


def changes(gh: FakeGitHub):  # type: ignore[no-untyped-def]
    return parse_diff(gh.pull_diff(REPO, 9))


def test_check_run_lifecycle_with_120_annotations(gh: FakeGitHub, gw: GitHubGateway) -> None:
    rid = start_check_run(gw, REPO, head(gh), external_id="acme/shop#9@x", summary="Reading the diff")
    assert start_check_run(gw, REPO, head(gh), external_id="acme/shop#9@x", summary="again") == rid
    update_check_progress(gw, REPO, rid, "Running analyzers on 2 files")
    [run] = gh.check_runs(REPO)
    assert (run["name"], run["status"], run["output"]["summary"]) == (CHECK_NAME, "in_progress",
                                                                      "Running analyzers on 2 files")
    review = Review(findings=[finding(i, start=(i % 100) + 1) for i in range(120)], conclusion=Conclusion.failure)
    gh.reset_calls()
    complete_check_run(gw, REPO, rid, review, summary_md="## Summary", title=review.title())
    assert gh.count("PATCH", rf"/check-runs/{rid}$") == 3
    [run] = gh.check_runs(REPO)
    assert (run["status"], run["conclusion"], run["output"]["title"]) == ("completed", "failure", "120 high")
    assert len(run["annotations"]) == 120 and run["annotations"][0]["annotation_level"] == "failure"
    assert [a["identifier"] for a in run["actions"]] == ["rerun", "accept"]
    complete_check_run(gw, REPO, rid, review, summary_md="## Summary", title=review.title())
    assert gh.count("PATCH", rf"/check-runs/{rid}$") == 3  # already completed: left alone


def test_a_completed_run_is_not_reused(gh: FakeGitHub, gw: GitHubGateway) -> None:
    rid = start_check_run(gw, REPO, head(gh), external_id="e1", summary="s")
    complete_check_run(gw, REPO, rid, Review(), summary_md="ok", title="No scalability findings")
    again = start_check_run(gw, REPO, head(gh), external_id="e2", summary="s")
    assert again != rid and len(gh.check_runs(REPO)) == 2
    run = gh.check_runs(REPO)[0]
    assert run["conclusion"] == "success" and [a["identifier"] for a in run["actions"]] == ["rerun"]


def test_a_lost_patch_answer_does_not_duplicate_annotations(gh: FakeGitHub, gw: GitHubGateway) -> None:
    rid = start_check_run(gw, REPO, head(gh), external_id="e", summary="s")
    gh.fail("PATCH", rf"/check-runs/{rid}$", 502, apply=True)  # first batch lands, its answer is lost
    gh.secondary_rate_limit("PATCH", rf"/check-runs/{rid}$", retry_after=1)  # then the second is throttled
    review = Review(findings=[finding(i, start=i + 1) for i in range(70)], conclusion=Conclusion.failure)
    complete_check_run(gw, REPO, rid, review, summary_md="s", title="t")
    [run] = gh.check_runs(REPO)
    assert len(run["annotations"]) == 70 and run["status"] == "completed"
    assert gw.calls == len(gh.calls)


def test_superseded_run_is_neutral_and_names_the_newer_sha(gh: FakeGitHub, gw: GitHubGateway) -> None:
    rid = start_check_run(gw, REPO, head(gh), external_id="e", summary="s")
    newer = gh.push(REPO, 9, {"app.py": HEAD + "v41 = 41\n"})
    conclude_superseded(gw, REPO, rid, newer)
    [run] = gh.check_runs(REPO)
    assert run["conclusion"] == "neutral" and newer[:12] in run["output"]["summary"]


def test_40_findings_give_30_inline_comments_and_10_in_the_body(gh: FakeGitHub, gw: GitHubGateway) -> None:
    review = Review(findings=[finding(i, start=i + 1) for i in range(40)])
    result = post_review(gw, REPO, 9, head(gh), review, changes(gh))
    assert len(result.inline) == 30 and len(result.in_body) == 10
    [posted] = gh.reviews(REPO, 9)
    assert posted["state"] == "COMMENTED" and posted["commit_id"] == head(gh)
    comments = gh.review_comments(REPO, 9)
    assert len(comments) == 30
    assert all(len(find_markers(c["body"])) == 1 for c in comments)
    assert find_markers(posted["body"]) == {f.id for f in review.findings}
    assert all(f"({fid})" in posted["body"] for fid in result.in_body)


def test_a_finding_outside_the_diff_is_never_sent_inline(gh: FakeGitHub, gw: GitHubGateway) -> None:
    inside = finding(1, path="app.py", start=5, end=6)
    outside = finding(2, path="app.py", start=30)
    elsewhere = finding(3, path="untouched.py", start=1)
    review = Review(findings=[inside, outside, elsewhere])
    result = post_review(gw, REPO, 9, head(gh), review, changes(gh))
    assert result.inline == [inside.id] and sorted(result.outside_diff) == sorted([outside.id, elsewhere.id])
    [comment] = gh.review_comments(REPO, 9)
    assert (comment["path"], comment["start_line"], comment["line"]) == ("app.py", 5, 6)
    assert gh.count("POST", r"/reviews$") == 1  # no 422 on the way


def test_markers_deduplicate_across_runs_and_fixed_findings_are_reported(gh: FakeGitHub,
                                                                          gw: GitHubGateway) -> None:
    a, b, c = finding(1, start=1), finding(2, start=2), finding(3, start=3)
    first = post_review(gw, REPO, 9, head(gh), Review(findings=[a, b]), changes(gh))
    assert sorted(first.inline) == sorted([a.id, b.id]) and first.existing_ids == []
    gh.push(REPO, 9, {"app.py": HEAD + "v41 = 41\n"})
    second_review = Review(findings=[a, c])
    second = post_review(make_gateway(gh), REPO, 9, head(gh), second_review, changes(gh))
    assert second.inline == [c.id] and second.already_posted == [a.id]
    assert outdated_findings(second.existing_ids, second_review) == [b.id]
    bodies = [cm["body"] for cm in gh.review_comments(REPO, 9)]
    assert sum(a.id in body for body in bodies) == 1
    third = post_review(gw, REPO, 9, head(gh), second_review, changes(gh))
    assert third.review_id is None and len(gh.reviews(REPO, 9)) == 2  # nothing new: no review at all


def test_a_review_whose_answer_was_lost_is_not_posted_twice(gh: FakeGitHub, gw: GitHubGateway) -> None:
    gh.fail("POST", r"/pulls/9/reviews$", 502, apply=True)
    result = post_review(gw, REPO, 9, head(gh), Review(findings=[finding(1)]), changes(gh))
    assert len(gh.reviews(REPO, 9)) == 1 and result.review_id == gh.reviews(REPO, 9)[0]["id"]
    assert gh.count("POST", r"/reviews$") == 1 and gw.calls == len(gh.calls)


def test_a_throttled_review_is_retried_after_retry_after(gh: FakeGitHub, gw: GitHubGateway) -> None:
    gh.secondary_rate_limit("POST", r"/pulls/9/reviews$", retry_after=1)
    result = post_review(gw, REPO, 9, head(gh), Review(findings=[finding(1)]), changes(gh))
    assert result.inline and len(gh.reviews(REPO, 9)) == 1
    assert [c.status for c in gh.calls_to("POST", r"/reviews$")] == [403, 200]


def test_never_approves_and_neutralises_text(gh: FakeGitHub, gw: GitHubGateway) -> None:
    hostile = finding(1, start=4, title="@acme/admins <img src=x onerror=alert(1)> see #12")
    post_review(gw, REPO, 9, head(gh), Review(findings=[hostile]), changes(gh), event="APPROVE")
    [posted] = gh.reviews(REPO, 9)
    [comment] = gh.review_comments(REPO, 9)
    assert posted["state"] == "COMMENTED"
    for text in (comment["body"], posted["body"]):
        assert "@acme" not in text.replace("@" + ZWSP, "") and "<img" not in text


def test_suggestions_span_the_range_and_are_dropped_when_the_anchor_is_clamped(gh: FakeGitHub,
                                                                               gw: GitHubGateway) -> None:
    exact = finding(1, path="app.py", start=5, end=6, suggestion="v5 = 5\n")
    clamped = finding(2, path="app.py", start=6, end=20, suggestion="gone\n")  # lines 10..20 are not shown
    post_review(gw, REPO, 9, head(gh), Review(findings=[exact, clamped]), changes(gh))
    by_id = {next(iter(find_markers(c["body"]))): c for c in gh.review_comments(REPO, 9)}
    assert "```suggestion\nv5 = 5\n```" in by_id[exact.id]["body"]
    assert by_id[clamped.id]["start_line"] == 6 and "```suggestion" not in by_id[clamped.id]["body"]


def test_accepted_findings_are_not_commented(gh: FakeGitHub, gw: GitHubGateway) -> None:
    f = finding(1)
    review = Review(findings=[f], accepted=[Acceptance(finding_id=f.id, by="alice", reason="known")])
    assert post_review(gw, REPO, 9, head(gh), review, changes(gh)).review_id is None


def test_a_stale_changeset_falls_back_to_the_body_instead_of_failing(gh: FakeGitHub, gw: GitHubGateway) -> None:
    stale = parse_diff("diff --git a/new.py b/new.py\n--- a/new.py\n+++ b/new.py\n@@ -300,2 +300,3 @@\n x\n+y\n z\n")
    result = post_review(gw, REPO, 9, head(gh), Review(findings=[finding(1, start=301)]), stale)
    assert result.inline == [] and result.in_body == [finding(1).id]
    [posted] = gh.reviews(REPO, 9)
    assert finding(1).id in find_markers(posted["body"]) and gh.review_comments(REPO, 9) == []


def test_a_huge_review_body_stays_under_githubs_limit(gh: FakeGitHub, gw: GitHubGateway) -> None:
    long_path = "deep/" * 35 + "x.py"
    many = [finding(i, start=(i % 100) + 1, title="slow " * 40) for i in range(200)]
    outside = [finding(1000 + i, path=long_path, start=1, title="far " * 40) for i in range(300)]
    result = post_review(gw, REPO, 9, head(gh), Review(findings=many + outside + many[:5]), changes(gh))
    [posted] = gh.reviews(REPO, 9)
    assert len(result.inline) == 30 and len(posted["body"]) <= 65_536
    assert len(gh.review_comments(REPO, 9)) == 30  # duplicates of an id are posted once


def test_calls_for_a_whole_review_of_a_10_file_pr(gh: FakeGitHub) -> None:
    """What the review workflow does, end to end, counted by the fake. Target: at most 12."""
    files = {f"svc/m{i}.py": ("".join(f"a{j} = {j}\n" for j in range(20)),
                              "".join(f"a{j} = {j * 2}\n" for j in range(20))) for i in range(10)}
    gh.add_repo(REPO, {".github/scale-review.yml": "fail_on: high\n"})
    gh.add_pull(REPO, 10, files)
    gw = make_gateway(gh)
    gw.identity_cache.get(lambda: make_gateway(gh).identity())  # who the App is: one GET /app per process
    gh.reset_calls()
    pull = gw.get_pull(REPO, 10)
    gw.get_configs(REPO, pull.base_sha)
    rid = start_check_run(gw, REPO, pull.head_sha, external_id=f"{REPO}#10@{pull.head_sha}", summary="Reviewing")
    diff = parse_diff(gw.get_diff(REPO, 10).text)
    contents = gw.read_files(REPO, pull.head_sha, diff.paths)
    assert len(contents) == 10 and all(isinstance(v, bytes) for v in contents.values())
    review = Review(findings=[finding(i, path=f"svc/m{i}.py", start=3) for i in range(10)],
                    conclusion=Conclusion.failure)
    assert gw.get_pull(REPO, 10).head_sha == pull.head_sha  # still the head? (before publishing)
    post_review(gw, REPO, 10, pull.head_sha, review, diff)
    complete_check_run(gw, REPO, rid, review, summary_md="## Summary", title=review.title())
    assert gw.calls == len(gh.calls)
    print(f"\nGitHub calls for one review of a 10-file PR: {gw.calls}")
    assert gw.calls <= 12
