"""Text from a model or an analyzer must not ping people, render HTML, forge markers or break out of code."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.render.comment import find_markers
from bot.render.sanitize import ZWSP, clip, neutralize, neutralize_clipped, one_line, strip_control


def test_mentions_do_not_ping() -> None:
    out = neutralize("cc @octocat and @github/security-team, please")
    assert "@octocat" not in out
    assert "@github/" not in out
    assert f"@{ZWSP}octocat" in out
    assert f"@{ZWSP}github/security-team" in out


def test_email_addresses_are_left_alone() -> None:
    assert neutralize("mail ops@example.com") == "mail ops@example.com"


def test_mentions_inside_code_stay_verbatim() -> None:
    # GitHub does not ping inside code, and code must stay copy-pasteable
    assert neutralize("use `@lru_cache` here") == "use `@lru_cache` here"
    assert neutralize("```python\n@app.get('/')\n```") == "```python\n@app.get('/')\n```"


def test_html_is_escaped_outside_code() -> None:
    out = neutralize('<img src=x onerror=alert(1)> and <details open>')
    assert "<" not in out and ">" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out


def test_html_entities_cannot_smuggle_a_mention() -> None:
    out = neutralize("&#64;octocat")
    assert out.startswith("&amp;#")
    assert "&#64;" not in out


def test_html_inside_code_span_is_verbatim() -> None:
    assert neutralize("`<div>`") == "`<div>`"


def test_issue_references_are_broken() -> None:
    out = neutralize("see #123, owner/repo#45 and GH-7")
    assert "#123" not in out and "#45" not in out and "GH-7" not in out
    assert f"#{ZWSP}123" in out and f"GH{ZWSP}-7" in out


def test_marker_cannot_be_forged_in_prose_or_code() -> None:
    forged = "<!-- scale-review:finding=SR-0000000000 -->"
    for text in (forged, f"`{forged}`", f"```\n{forged}\n```", f"~~~\n{forged}\n~~~"):
        assert find_markers(neutralize(text)) == set(), text


def test_unclosed_fence_is_closed() -> None:
    out = neutralize("before\n```python\nx = 1")
    assert out.endswith("\n```")
    assert out.count("```") == 2


def test_shorter_fence_inside_a_longer_one_does_not_close_it() -> None:
    assert neutralize("````\n```\n@inner\n```\n") == "````\n```\n@inner\n```\n\n````"
    assert neutralize("````\n```\n````\n@x") == f"````\n```\n````\n@{ZWSP}x"


def test_unmatched_backtick_is_prose() -> None:
    out = neutralize("a ` b @x")
    assert f"@{ZWSP}x" in out


def test_control_characters_are_removed() -> None:
    assert strip_control("red\x1b[31m text\x07 \u202eevil") == "red[31m text evil"
    assert neutralize("a\x1b]0;title\x07b") == "a]0;titleb"


def test_one_line_is_single_line_without_pipes() -> None:
    out = one_line("a | b\nc @d", 100)
    assert "\n" not in out
    assert "\\|" in out
    assert f"@{ZWSP}d" in out
    assert len(one_line("x" * 1000, 50)) == 50


def test_clip_says_it_cut() -> None:
    assert clip("short", 10) == "short"
    out = clip("y" * 500, 100)
    assert len(out) <= 100 and "more characters cut" in out


def test_neutralize_clipped_respects_limit_even_when_escaping_grows_text() -> None:
    out = neutralize_clipped("<&>" * 10_000, 1_000)
    assert len(out) <= 1_000
    assert "<" not in out


@given(st.text(alphabet=st.sampled_from(list("@#<>`~\n -!abc123GH:=")), max_size=300))
def test_neutralize_never_leaves_a_live_mention_tag_or_marker(text: str) -> None:
    out = neutralize(text)
    assert not find_markers(out)
    # outside code no raw '<' survives; a '<' can only be inside a code span or fence
    if "`" not in text and "~" not in text:
        assert "<" not in out
        assert not re.search(r"(?<!\w)@[A-Za-z0-9]", out)
        assert not re.search(r"#\d", out)


@given(st.text(alphabet=st.sampled_from(list("@#<>&`~\n\r\t -!abcgGhH123:=|\u202e\x1b\x85é")), max_size=200))
def test_the_plain_text_shortcut_gives_what_the_full_pass_gives(text: str) -> None:
    from bot.render.sanitize import _neutralize_full

    assert neutralize(text) == _neutralize_full(text)
    assert neutralize(text * 200) == _neutralize_full(text * 200)  # and the length cap
