"""code_span / code_text: untrusted values as one-line inline code nothing can end."""

from __future__ import annotations

from bot.core.code_span import GRAVE, code_span, code_text


def test_line_breaks_of_every_kind_become_one_space() -> None:
    assert code_text("a\nb\r\nc\u2028d\u0085e\t f") == "a b c d e f"


def test_backticks_cannot_end_the_span_and_long_values_are_clipped() -> None:
    assert code_span("x`y") == f"`x{GRAVE}y`"
    assert code_span("") == "`(empty)`"
    assert len(code_text("a" * 500, limit=20)) == 20
