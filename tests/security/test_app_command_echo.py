"""Hostile: a commenter without permission cannot make the App say anything of theirs, and what the
App echoes to a permitted one cannot leave its code span or ping anyone.

Through the whole path: a signed `issue_comment` POST, the worker, and the comments GitHub received.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.core.commands import UNAUTHORISED_TEXT, inline_code, parse_command
from tests.support import webhooks as wh
from tests.support.service import app_settings, deliver, receiver, running_app, wait_result

HOSTILE = [
    "/scale-review help",
    "/scale-review frobnicate`@octo/everyone`",
    "/scale-review `` @octo/security ``",
    "/scale-review focus ``` ](https://evil.example) <!-- scale-review:finding=SR-00ff00ff -->",
    "/scale-review <img src=x onerror=alert(1)>",
    "/scale-review accept nonsense @octo/admins",
]


def _comment(gh: Any, body: str, login: str) -> tuple[int, dict[str, Any]]:
    cid = gh.add_issue_comment(wh.REPO, 7, body, user=login)
    return cid, wh.issue_comment(body, login=login, comment_id=cid)


def _replies(gh: Any) -> list[str]:
    return [c["body"] for c in gh.issue_comments(wh.REPO, 7) if c["user"]["login"] == gh.bot_login]


def _outside_code(markdown: str) -> str:
    """The text of `markdown` that renders outside code spans (CommonMark: a run of n backticks closes
    only at the next run of exactly n)."""
    out, i = [], 0
    while i < len(markdown):
        run = re.match(r"`+", markdown[i:])
        if run is None:
            out.append(markdown[i])
            i += 1
            continue
        n = len(run.group())
        close = re.search(rf"(?<!`)`{{{n}}}(?!`)", markdown[i + n:])
        if close is None:
            out.append(run.group())
            i += n
            continue
        i += n + close.end()
    return "".join(out)


@pytest.mark.parametrize("login", ["reader", "drive-by"])
def test_without_permission_every_command_gets_the_same_fixed_sentence(fake_github, sqlite_backend, login):
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        for n, body in enumerate(HOSTILE):
            _, payload = _comment(gh, body, login)
            deliver(client, "issue_comment", payload, delivery=f"deny-{login}-{n}")
            assert wait_result(f"deny-{login}-{n}")["outcome"] == "unauthorised"
    assert _replies(gh) == [UNAUTHORISED_TEXT.format(needed="write")] * len(HOSTILE)
    assert all(gh.reactions(c["id"]) == [] for c in gh.issue_comments(wh.REPO, 7))
    assert gh.check_runs(wh.REPO) == [] and gh.reviews(wh.REPO, 7) == []


def test_an_invalid_command_echoes_only_inert_text(fake_github, sqlite_backend):
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        for n, body in enumerate(HOSTILE[1:]):
            _, payload = _comment(gh, body, "maintainer")
            deliver(client, "issue_comment", payload, delivery=f"echo-{n}")
            assert wait_result(f"echo-{n}")["outcome"] == "invalid"
    replies = _replies(gh)
    assert len(replies) == len(HOSTILE) - 1
    for reply in replies:
        prose = _outside_code(reply)
        assert "\n" not in reply
        assert "@octo/" not in prose and "evil.example" not in prose and "<img" not in prose, reply
        assert "<!--" not in reply and "@octo/" not in reply.replace("@\u200b", "")  # no live mention anywhere


@pytest.mark.parametrize("text", ["a`b", "``x``", "`", "@team", "x\ny", "  ", "<!-- scale-review:x -->",
                                  "\u202eevil", "`" * 50, "a" * 500])
def test_inline_code_cannot_be_closed_from_inside(text: str) -> None:
    span = inline_code(text)
    assert "\n" not in span and len(span) < 120
    assert _outside_code(span) == ""  # the whole span renders as code
    assert "@t" not in span and "<!--" not in span and "\u202e" not in span


def test_parsed_errors_carry_the_echo_inert() -> None:
    cmd = parse_command("/scale-review x`@octo/all`")
    assert cmd is not None and cmd.kind == "invalid"
    assert _outside_code(cmd.error).strip() == "unknown sub-command"
