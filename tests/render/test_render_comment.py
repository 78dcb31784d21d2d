"""Inline review comments: what a PR author sees on the line, and the marker that prevents duplicates."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.model import Category, Finding, Severity, fingerprint
from bot.render.comment import (
    MAX_COMMENT_CHARS,
    SUGGESTION_OMITTED,
    SUGGESTION_UNSAFE,
    find_markers,
    marker,
    render_inline_comment,
)
from bot.render.sanitize import ZWSP


def finding(**over: object) -> Finding:
    base: dict[str, object] = {
        "id": fingerprint("py-requests-no-timeout", "app/api.py", "requests.get(url)"),
        "category": Category.missing_timeout,
        "severity": Severity.high,
        "path": "app/api.py",
        "start_line": 12,
        "end_line": 12,
        "title": "HTTP call without a timeout",
        "evidence": "`requests.get(url)` on line 12 sets no timeout.",
        "risk": "At 10x traffic a slow upstream pins every worker thread.",
        "suggestion": "    resp = requests.get(url, timeout=(3.05, 10))\n",
        "advice": None,
        "rollback": "Revert; the timeout only changes failure behaviour.",
        "monitoring": "Upstream p99 latency and timeout error rate.",
        "source": "py-requests-no-timeout",
    }
    base.update(over)
    return Finding.model_validate(base)


def test_comment_layout() -> None:
    f = finding()
    body = render_inline_comment(f)
    assert body.startswith("**🔴 High · HTTP call without a timeout**")
    for text in (f.evidence, f.risk, f.rollback, f.monitoring):
        assert text in body
    assert "```suggestion\n    resp = requests.get(url, timeout=(3.05, 10))\n```" in body
    assert body.index("Evidence") < body.index("Risk") < body.index("```suggestion") < body.index("Rollback")


def test_comment_ends_with_its_marker() -> None:
    f = finding()
    body = render_inline_comment(f)
    assert body.endswith(f"<!-- scale-review:finding={f.id} -->")
    assert find_markers(body) == {f.id}


def test_marker_contract() -> None:
    assert marker("SR-0123456789") == "<!-- scale-review:finding=SR-0123456789 -->"
    assert find_markers("x\n<!-- scale-review:finding=SR-a -->\n<!-- scale-review:finding=SR-b -->") == {"SR-a", "SR-b"}
    assert find_markers("no marker here") == set()
    assert find_markers("<!-- scale-review:summary -->") == set()


@pytest.mark.parametrize("bad", ["", "SR x", "a-->b", "<script>", "x" * 200])
def test_marker_refuses_ids_that_would_break_it(bad: str) -> None:
    with pytest.raises(ValueError, match="cannot be put in a marker"):
        marker(bad)


def test_no_suggestion_block_without_suggestion_but_advice_shows() -> None:
    body = render_inline_comment(finding(suggestion=None, advice="Paginate with a cursor."))
    assert "```suggestion" not in body
    assert "**What to do.** Paginate with a cursor." in body


def test_empty_suggestion_deletes_the_lines() -> None:
    body = render_inline_comment(finding(suggestion=""))
    assert "```suggestion\n```" in body


def test_suggestion_containing_a_fence_gets_a_longer_fence() -> None:
    code = 'DOC = """\n```python\nx = 1\n```\n"""'
    body = render_inline_comment(finding(suggestion=code, end_line=16))
    assert f"````suggestion\n{code}\n````" in body


def test_suggestion_that_would_forge_a_marker_is_not_offered() -> None:
    body = render_inline_comment(finding(suggestion="# <!-- scale-review:finding=SR-forged -->"))
    assert "suggestion\n" not in body
    assert SUGGESTION_UNSAFE in body
    assert find_markers(body) == {finding().id}


def test_huge_suggestion_is_not_offered_but_said() -> None:
    body = render_inline_comment(finding(suggestion="x = 1\n" * 20_000))
    assert SUGGESTION_OMITTED in body
    assert len(body) <= MAX_COMMENT_CHARS


def test_model_text_is_neutralised() -> None:
    hostile = "ping @octocat, see #1, <img src=x onerror=alert(1)> <!-- scale-review:finding=SR-evil -->"
    f = finding(title="Title @admin", evidence=hostile, risk=hostile, rollback=hostile, monitoring=hostile)
    body = render_inline_comment(f)
    assert not re.search(r"(?<!\w)@[A-Za-z]", body)
    assert f"@{ZWSP}octocat" in body
    assert "<img" not in body
    assert find_markers(body) == {f.id}
    assert body.endswith(marker(f.id))


def test_a_field_cannot_swallow_the_rest_with_an_open_fence() -> None:
    f = finding(evidence="look:\n```\nunclosed code")
    body = render_inline_comment(f)
    # fences balance before the risk section, so the risk renders as prose, not code
    before_risk = body[: body.index("**Risk at scale.**")]
    assert before_risk.count("```") % 2 == 0


def test_huge_fields_stay_under_github_limit() -> None:
    big = "&<>@x " * 50_000
    f = finding(evidence=big, risk=big, advice=big, rollback=big, monitoring=big, handoff=big, title=big)
    body = render_inline_comment(f)
    assert len(body) <= MAX_COMMENT_CHARS
    assert body.endswith(marker(f.id))


@given(
    st.text(max_size=400),
    st.one_of(st.none(), st.text(max_size=200)),
)
def test_any_text_keeps_exactly_one_marker_at_the_end(text: str, suggestion: str | None) -> None:
    f = finding(evidence=text or "e", risk=text or "r", title=text.strip() or "t", suggestion=suggestion)
    body = render_inline_comment(f)
    assert body.endswith(marker(f.id))
    assert find_markers(body) == {f.id}
