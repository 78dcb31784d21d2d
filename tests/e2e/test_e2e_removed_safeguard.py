"""A pull request that only deletes lines: from the signed POST to the inline comment GitHub accepted.

The file has no added line, so the review must read its base side, see the safeguard go, and anchor the
comment on a surviving (context) line of the hunk, on the RIGHT side, where GitHub takes it.
"""

from __future__ import annotations

import pytest

from bot.core.diff import parse_diff
from tests.support import webhooks as wh
from tests.support.contract import RestDescription, require_octokit
from tests.support.service import app_settings, deliver, receiver, running_app, wait_result

BASE = '''import requests


def push_endpoint(url, body):
    response = requests.post(
        url,
        json=body,
        timeout=10,
    )
    response.raise_for_status()
    return response.json()
'''
HEAD = BASE.replace("        timeout=10,\n", "")

RUBY_BASE = '''class PostsController < ApplicationController
  def index
    @posts = Post
      .includes(:author)
      .order(created_at: :desc)
      .limit(50)
    render json: @posts.map { |post| { title: post.title, author: post.author.name } }
  end
end
'''
RUBY_HEAD = RUBY_BASE.replace("      .includes(:author)\n", "")


def _review(gh, sqlite_backend, number: int, path: str, base: str, head: str, delivery: str):
    pr = gh.add_pull(wh.REPO, number, {path: (base, head)})
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        payload = wh.pull_request("opened", number=number, head=pr.head_sha, base=pr.base_sha)
        assert deliver(client, "pull_request", payload, delivery=delivery).status_code == 202
        result = wait_result(delivery)
    return pr, result


def _context_lines(gh, number: int, path: str) -> set[int]:
    """Head lines GitHub shows as context (neither added nor removed) in the PR's diff of `path`."""
    change = next(f for f in parse_diff(gh.pull_diff(wh.REPO, number)).files if f.path == path)
    assert not change.added_lines, "the change must be deletions only"
    return {n for n in range(1, 400) if change.can_comment_range(n, n)}


@pytest.mark.parametrize(
    ("path", "base", "head", "rule", "removed"),
    [
        ("app/push.py", BASE, HEAD, "safeguard-timeout", "timeout"),
        ("app/controllers/posts_controller.rb", RUBY_BASE, RUBY_HEAD, "safeguard-eager-loading", "author"),
    ],
    ids=["python-timeout", "ruby-includes"],
)
def test_a_pure_deletion_is_commented_on_a_context_line_github_accepts(
    fake_github, sqlite_backend, path, base, head, rule, removed
):
    gh = fake_github
    pr, result = _review(gh, sqlite_backend, 9, path, base, head, "pr-deletion-1")
    assert result["outcome"] in ("failure", "neutral", "success")
    [review] = gh.reviews(wh.REPO, 9)
    comments = [c for c in gh.review_comments(wh.REPO, 9) if c["path"] == path]
    ours = [c for c in comments if rule in c["body"] or removed in c["body"]]
    assert ours, f"no inline comment for the removed safeguard; got {[c['body'][:80] for c in comments]}"
    context = _context_lines(gh, 9, path)
    for c in ours:
        assert c["side"] == "RIGHT"
        assert c["line"] in context  # a surviving line of the hunk: the only kind a pure deletion offers
        if c.get("start_line"):
            assert c["start_line"] in context and c["start_line"] <= c["line"]
        assert removed in c["body"]  # the removed text is quoted as evidence
    # the fake refuses (422) a comment outside the diff, so reaching here means GitHub would take it
    posted = gh.calls_to("POST", r"/pulls/9/reviews$")
    assert posted and all(call.status == 200 for call in posted)


def test_the_review_request_of_a_pure_deletion_matches_githubs_description(fake_github, sqlite_backend):
    require_octokit()
    gh = fake_github
    _review(gh, sqlite_backend, 9, "app/push.py", BASE, HEAD, "pr-deletion-2")
    [call] = gh.calls_to("POST", r"/pulls/9/reviews$")
    path = f"/repos/{wh.REPO}/pulls/9/reviews"
    assert RestDescription.load().problem("POST", path, call.json) is None
