"""GitHubGateway against the fake over real HTTP: reads, fallbacks, faults, and exact call counts."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from bot.core.diff import parse_diff
from bot.github.retry import GitHubError
from tests.support.fakegithub import FakeGitHub
from tests.support.fakegithub.clients import make_gateway

REPO = "acme/shop"
BASE = "".join(f"v{i} = {i}\n" for i in range(1, 31))
HEAD = BASE.replace("v3 = 3\n", "v3 = 33\n").replace("v25 = 25\n", "v25 = 2525\n")
CONFIG_BASE = "fail_on: medium\n"
CONFIG_PR = "fail_on: critical\n"  # what a PR would like the gate to be


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_repo(REPO, {".github/scale-review.yml": CONFIG_BASE, "README.md": "hi\n"})
        fake.add_pull(REPO, 7, {"app.py": (BASE, HEAD), "new.py": (None, "x = 1\n"),
                                "logo.png": (None, b"\x89PNG\0\0binary"),
                                ".github/scale-review.yml": (CONFIG_BASE, CONFIG_PR)},
                      title="Speed up", body="please review", user="alice", draft=True)
        yield fake


def test_get_pull_returns_plain_values(gh: FakeGitHub) -> None:
    pull = make_gateway(gh).get_pull(REPO, 7)
    pr = gh.store.repos[REPO].pulls[7]
    assert (pull.head_sha, pull.base_sha, pull.draft, pull.author) == (pr.head_sha, pr.base_sha, True, "alice")
    assert pull.title == "Speed up" and not pull.is_fork
    assert pull.model_dump_json()  # checkpointable


def test_fork_pulls_are_recognised(gh: FakeGitHub) -> None:
    gw = make_gateway(gh)
    pr = gh.store.repos[REPO].pulls[7]
    pr.head_repo = "mallory/shop"
    assert gw.get_pull(REPO, 7).is_fork
    pr.head_repo = None  # the fork was deleted
    pull = gw.get_pull(REPO, 7)
    assert pull.is_fork and pull.head_repo is None


def test_every_call_carries_the_delivery_id_and_is_counted(gh: FakeGitHub) -> None:
    gw = make_gateway(gh, delivery_id="abc-123")
    gw.get_pull(REPO, 7)
    gw.get_diff(REPO, 7)
    gw.get_permission(REPO, "nobody")
    assert {c.headers.get("x-github-delivery") for c in gh.calls} == {"abc-123"}
    assert gw.calls == len(gh.calls) == 4


def test_diff_media_type(gh: FakeGitHub) -> None:
    diff = make_gateway(gh).get_diff(REPO, 7)
    assert diff.source == "diff" and diff.missing == []
    changes = parse_diff(diff.text)
    assert sorted(changes.paths) == [".github/scale-review.yml", "app.py", "logo.png", "new.py"]
    assert changes.get("app.py").added_lines == frozenset({3, 25})  # type: ignore[union-attr]


def test_too_large_diff_falls_back_to_files_and_names_what_is_missing(gh: FakeGitHub) -> None:
    gw = make_gateway(gh)
    full = parse_diff(gw.get_diff(REPO, 7).text)
    pr = gh.store.repos[REPO].pulls[7]
    pr.diff_too_large = True
    pr.no_patch.add("new.py")  # GitHub sometimes omits a large file's patch
    gh.push(REPO, 7, {"README.md": None})
    pr.no_patch.add("README.md")  # a deleted file without a patch: nothing was missed
    diff = gw.get_diff(REPO, 7)
    assert diff.source == "files"
    assert sorted(diff.missing) == ["logo.png", "new.py"]
    assert "new.py" in diff.note and "too large" in diff.note
    rebuilt = parse_diff(diff.text)
    assert rebuilt.get("app.py") == full.get("app.py")
    assert rebuilt.get(".github/scale-review.yml") == full.get(".github/scale-review.yml")
    assert gh.count("GET", r"/pulls/7$") == 2 and gh.count("GET", r"/pulls/7/files$") == 1


def test_read_files_is_one_graphql_call_with_clear_refusals(gh: FakeGitHub) -> None:
    pr = gh.store.repos[REPO].pulls[7]
    files = {f"pkg/m{i}.py": f"print({i})\n" for i in range(10)}
    gh.push(REPO, 7, {**files, "big.txt": "z" * 3000, "huge.bin": "y" * 6000})
    gh.graphql_text_limit = 1000  # big.txt comes back truncated: read over REST
    gw = make_gateway(gh)
    gw.get_pull(REPO, 7)
    gh.reset_calls()
    got = gw.read_files(REPO, pr.head_sha, [*files, "logo.png", "missing.py", "../etc/passwd", ".env", "big.txt",
                                            "huge.bin", "pkg"], max_bytes=4000)
    assert all(got[p] == t.encode() for p, t in files.items())
    assert got["big.txt"] == b"z" * 3000
    assert "binary" in str(got["logo.png"])
    assert "no such file" in str(got["missing.py"])
    assert "outside the repository" in str(got["../etc/passwd"])
    assert "secrets" in str(got[".env"])
    assert "over the 4,000-byte limit" in str(got["huge.bin"])
    assert "folder" in str(got["pkg"])
    assert gh.count("POST", r"/graphql$") == 1 and gh.count("GET", r"/contents/big.txt$") == 1
    assert gw.calls - 2 == len(gh.calls) == 2  # minus the token and the earlier get_pull


def test_a_batch_github_keeps_failing_is_read_in_halves(gh: FakeGitHub) -> None:
    files = {f"pkg/m{i}.py": f"print({i})\n" for i in range(8)}
    head_sha = gh.push(REPO, 7, files)
    gw = make_gateway(gh)
    gh.fail("POST", r"/graphql$", 502, times=5)  # the whole batch fails through every retry
    got = gw.read_files(REPO, head_sha, list(files))
    assert got == {p: t.encode() for p, t in files.items()}
    assert [len(c.json["variables"]) for c in gh.calls_to("POST", r"/graphql$") if c.status == 200] == [2 + 4 + 1] * 2
    assert gw.calls == len(gh.calls)


def test_read_files_refuses_symlinks(gh: FakeGitHub) -> None:
    gh.add_repo("acme/links", {"real.py": "x = 1\n"}, symlinks={"link.py": "real.py", "up.py": "../../etc/passwd"})
    sha = gh.store.repos["acme/links"].branches["main"]
    got = make_gateway(gh).read_files("acme/links", sha, ["real.py", "link.py", "./up.py"])
    assert got["real.py"] == b"x = 1\n"
    assert "symlink" in str(got["link.py"]) and "symlink" in str(got["./up.py"])
    assert gh.count("POST", r"/graphql$") == 1


def test_truncated_graphql_text_is_read_over_rest(gh: FakeGitHub) -> None:
    pr = gh.store.repos[REPO].pulls[7]
    gh.graphql_text_limit = 10
    got = make_gateway(gh).read_files(REPO, pr.head_sha, ["app.py"])
    assert got["app.py"] == HEAD.encode()
    assert gh.count("GET", r"/contents/app.py$") == 1


def test_config_comes_from_the_base_ref_and_the_org_repo_in_one_call(gh: FakeGitHub) -> None:
    pr = gh.store.repos[REPO].pulls[7]
    gw = make_gateway(gh)
    texts = gw.get_configs(REPO, pr.base_sha)
    assert texts.repo == CONFIG_BASE and texts.org is None
    gh.add_repo("acme/.github", {".github/scale-review.yml": "drafts: true\n"})
    texts = gw.get_configs(REPO, pr.base_sha)
    assert texts.org == "drafts: true\n"
    assert gw.get_config(REPO, pr.head_sha) == CONFIG_PR
    assert gh.count("POST", r"/graphql$") == 3


def test_both_rules_folders_and_gitattributes_come_with_the_config_in_the_same_call(gh: FakeGitHub) -> None:
    rules = ".github/scale-review/rules"
    gh.add_repo(REPO, {".github/scale-review.yml": CONFIG_BASE, ".gitattributes": "gen/** linguist-generated\n",
                       f"{rules}/a.yml": "id: a\n", f"{rules}/notes.md": "not a rule\n",
                       f"{rules}/sub/b.yml": "id: b\n", f"{rules}/big.yml": "#" * 300_000,
                       f"{rules}/bin.yaml": b"\0\1binary"})
    gh.add_repo("acme/.github", {f"{rules}/org.yaml": "id: org\n"})
    texts = make_gateway(gh).get_configs(REPO, gh.store.repos[REPO].branches["main"])
    assert texts.repo_rules == [(f"{rules}/a.yml", "id: a\n")]  # only the folder's own *.yml / *.yaml files
    assert texts.org_rules == [(f"acme/.github:{rules}/org.yaml", "id: org\n")]
    assert texts.rule_errors == [f"{rules}/big.yml: not read, over 256,000 bytes",
                                 f"{rules}/bin.yaml: could not be read as text"]
    assert texts.gitattributes == "gen/** linguist-generated\n"
    assert gh.count("POST", r"/graphql$") == 1 and len(gh.calls) == 2  # the token, then the one query


def test_permission_levels(gh: FakeGitHub) -> None:
    gh.set_permission(REPO, "alice", "write")
    gh.set_permission(REPO, "reader", "read")
    gw = make_gateway(gh)
    assert [gw.get_permission(REPO, u) for u in ("alice", "reader", "stranger")] == ["write", "read", "none"]


def test_502_then_success_is_retried_and_counted(gh: FakeGitHub) -> None:
    gw = make_gateway(gh)
    gh.fail("GET", r"/pulls/7$", 502, times=2)
    assert gw.get_pull(REPO, 7).number == 7
    assert [c.status for c in gh.calls_to("GET", r"/pulls/7$")] == [502, 502, 200]
    assert gw.calls == len(gh.calls) == 4


def test_secondary_rate_limit_with_retry_after_then_success(gh: FakeGitHub) -> None:
    gw = make_gateway(gh)
    gh.secondary_rate_limit("POST", r"/graphql$", retry_after=2)
    started = time.monotonic()
    assert gw.get_configs(REPO, gh.store.repos[REPO].pulls[7].base_sha).repo == CONFIG_BASE
    assert time.monotonic() - started < 2  # the test scale turns 2 s into 2 ms
    assert [c.status for c in gh.calls_to("POST", r"/graphql$")] == [403, 200]
    assert gw.calls == len(gh.calls)


def test_primary_rate_limit_waits_for_the_reset_then_succeeds(gh: FakeGitHub) -> None:
    gw = make_gateway(gh)  # max_rate_limit_wait=5 s: a later reset raises instead of blocking the worker

    def exhausted(seconds: int) -> None:
        gh.fail("GET", r"/pulls/7$", 403, body={"message": "API rate limit exceeded for installation ID 1."},
                headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + seconds)})

    exhausted(3)
    started = time.monotonic()
    assert gw.get_pull(REPO, 7).number == 7
    assert time.monotonic() - started < 1  # ~4 s of waiting, scaled down for the test
    assert [c.status for c in gh.calls_to("GET", r"/pulls/7$")] == [403, 200]
    exhausted(3600)
    with pytest.raises(GitHubError) as info:
        gw.get_pull(REPO, 7)
    assert info.value.status == 403 and info.value.retryable  # the workflow step retries later
    assert gw.calls == len(gh.calls)


def test_persistent_failure_raises_a_plain_error_after_the_retry_budget(gh: FakeGitHub) -> None:
    gw = make_gateway(gh)
    gh.fail("GET", r"/pulls/7$", 503, times=100)
    with pytest.raises(GitHubError) as info:
        gw.get_pull(REPO, 7)
    assert info.value.status == 503 and info.value.retryable
    assert gh.count("GET", r"/pulls/7$") == 5  # 1 + 4 retries
    assert gw.calls == len(gh.calls)


def test_a_plain_githubretry_is_counted_too(gh: FakeGitHub) -> None:
    from github import GithubRetry

    from bot.github.auth import AppCredentials, TokenCache
    from bot.github.client import GitHubGateway

    gw = GitHubGateway(gh.url, AppCredentials(str(gh.app_id), gh.private_key_pem), 1, token_cache=TokenCache(),
                       retry=GithubRetry(total=3, backoff_factor=0), seconds_between_requests=0,
                       seconds_between_writes=0)
    gh.fail("GET", r"/pulls/7$", 502, times=2)
    assert gw.get_pull(REPO, 7).number == 7 and gw.calls == len(gh.calls) == 4


def test_github_unreachable_is_a_retryable_error() -> None:
    with FakeGitHub() as gone:
        gw = make_gateway(gone)
    for call in (lambda: gw.get_pull(REPO, 7), lambda: gw.app_info()):
        with pytest.raises(GitHubError) as info:
            call()
        assert info.value.status == 0 and info.value.retryable


def test_errors_survive_a_checkpoint() -> None:
    import pickle

    err = pickle.loads(pickle.dumps(GitHubError(403, "You have exceeded a secondary rate limit", 7.0)))
    assert (err.status, err.retry_after, err.retryable) == (403, 7.0, True)


def test_repeated_reads_are_conditional_and_304s_do_not_spend_the_rate_limit(gh: FakeGitHub) -> None:
    from bot.github.auth import TokenCache
    from bot.github.conditional import ResponseCache

    responses, tokens = ResponseCache(), TokenCache()
    first = make_gateway(gh, cache=tokens, responses=responses)
    pull, diff = first.get_pull(REPO, 7), first.get_diff(REPO, 7)
    spent = dict(gh.rate_used)
    second = make_gateway(gh, cache=tokens, responses=responses)  # another step of the same review
    assert second.get_pull(REPO, 7) == pull and second.get_diff(REPO, 7) == diff
    statuses = [c.status for c in gh.calls_to("GET", r"/pulls/7$")]
    assert statuses == [200, 200, 304, 304] and responses.hits == 2
    assert gh.rate_used == spent and second.calls == 2  # still calls, but free ones
    gh.push(REPO, 7, {"app.py": HEAD + "v31 = 31\n"})
    assert second.get_pull(REPO, 7).head_sha != pull.head_sha  # changed: a full answer again
    gh.add_installation(2, "other")
    gh.add_repo("other/shop", {"a.py": "x\n"}, installation_id=2)
    other = make_gateway(gh, 2, cache=tokens, responses=responses)
    other.get_permission("other/shop", "nobody")
    assert all("if-none-match" not in c.headers for c in gh.calls_to("GET", r"^/repos/other/"))


def test_a_forbidden_answer_is_not_retried(gh: FakeGitHub) -> None:
    gw = make_gateway(gh)
    gh.fail("GET", r"/pulls/7$", 403, body={"message": "Resource not accessible by integration"})
    with pytest.raises(GitHubError) as info:
        gw.get_pull(REPO, 7)
    assert info.value.status == 403 and not info.value.retryable
    assert gh.count("GET", r"/pulls/7$") == 1


def test_a_slow_answer_times_out_and_the_retry_succeeds(gh: FakeGitHub) -> None:
    gw = make_gateway(gh, timeout=1)
    gw.get_pull(REPO, 7)
    gh.slow("GET", r"/pulls/7$", 2.5)
    assert gw.get_pull(REPO, 7).number == 7
    assert gh.count("GET", r"/pulls/7$") == 3
    assert gw.calls == len(gh.calls)


def test_comments_reactions_compare_and_commit_lookup(gh: FakeGitHub) -> None:
    gw = make_gateway(gh)
    pr = gh.store.repos[REPO].pulls[7]
    cid = gw.post_issue_comment(REPO, 7, "Scale review started")
    gw.add_reaction(REPO, cid, "eyes")
    gw.add_reaction(REPO, cid, "eyes")
    assert gh.reactions(cid) == ["eyes"]
    assert [c["body"] for c in gh.issue_comments(REPO, 7)] == ["Scale review started"]
    new_head = gh.push(REPO, 7, {"app.py": HEAD + "v31 = 31\n"})
    assert gw.get_pull_numbers_for_sha(REPO, new_head) == [7]
    assert gw.get_pull_numbers_for_sha(REPO, pr.heads[0]) == []
    ahead = gw.compare_commits(REPO, pr.heads[0], new_head)
    assert ahead.status == "ahead" and ahead.complete
    incremental = parse_diff(ahead.diff)
    assert incremental.paths == ["app.py"] and incremental.files[0].added_lines == frozenset({31})
    assert gw.compare_commits(REPO, new_head, pr.heads[0]).status == "behind"
    rewritten = gh.push(REPO, 7, {"app.py": HEAD + "v32 = 32\n"}, onto=pr.heads[0])
    assert gw.compare_commits(REPO, new_head, rewritten).status == "diverged"
    gh.compare_no_patch.add("app.py")
    assert not gw.compare_commits(REPO, pr.heads[0], new_head).complete


def test_a_comment_whose_answer_was_lost_is_not_posted_twice(gh: FakeGitHub) -> None:
    gw = make_gateway(gh)
    gh.fail("POST", r"/issues/7/comments$", 502, apply=True)
    cid = gw.post_issue_comment(REPO, 7, "Only people with write access can run `/scale-review`.")
    assert [c["id"] for c in gh.issue_comments(REPO, 7)] == [cid]
    gh.fail("POST", r"/issues/7/comments$", 502)  # this time nothing landed: posted on the retry
    gw.post_issue_comment(REPO, 7, "x" * 70_000)
    bodies = [c["body"] for c in gh.issue_comments(REPO, 7)]
    assert len(bodies) == 2 and len(bodies[1]) == 65_536


def test_failed_deliveries_and_redelivery_use_the_app_jwt(gh: FakeGitHub) -> None:
    gh.add_delivery("old", "pull_request", "opened", status_code=500, delivered_at="2020-01-01T00:00:00Z")
    for i in range(120):
        gh.add_delivery(f"ok-{i}", "pull_request", "synchronize", delivered_at="2026-01-02T00:00:00Z")
    did = gh.add_delivery("lost", "issue_comment", "created", status_code=503, delivered_at="2026-01-03T00:00:00Z")
    gw = make_gateway(gh)
    failed = gw.list_failed_deliveries(since=1_700_000_000)  # 2023-11
    assert [d.guid for d in failed] == ["lost"] and failed[0].id == did
    gw.redeliver(did)
    assert gh.store.redeliveries == ["lost"]
    assert all(c.headers["authorization"].count(".") == 2 for c in gh.calls_to(path=r"^/app/hook"))
    assert gh.count("GET", r"/app/hook/deliveries$") == 2  # cursor pagination followed


def test_app_identity_and_installation_lookup(gh: FakeGitHub) -> None:
    gw = make_gateway(gh)
    assert gw.app_info()["id"] == gh.app_id
    assert gw.installation_for_repo(REPO) == 1
    with pytest.raises(GitHubError) as info:
        gw.installation_for_repo("acme/elsewhere")
    assert info.value.status == 404


def test_sticky_comment_is_edited_and_the_edit_retried(gh: FakeGitHub) -> None:
    gw = make_gateway(gh)
    cid = gw.post_issue_comment(REPO, 7, "first")
    gh.fail("PATCH", rf"/issues/comments/{cid}$", 502)
    gw.edit_issue_comment(REPO, cid, "second")
    assert [c["body"] for c in gh.issue_comments(REPO, 7)] == ["second"]


def test_enterprise_server_paths(gh: FakeGitHub) -> None:
    with FakeGitHub(prefix="/api/v3") as ghes:
        ghes.add_pull(REPO, 3, {"a.py": ("a\n", "b\n")})
        gw = make_gateway(ghes)
        pull = gw.get_pull(REPO, 3)
        assert gw.read_files(REPO, pull.head_sha, ["a.py"]) == {"a.py": b"b\n"}
        assert ghes.url.endswith("/api/v3") and ghes.count("POST", r"^/graphql$") == 1
