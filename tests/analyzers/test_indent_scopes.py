"""The enclosing-lines walker the code-path and mitigation checks share."""

from bot.analyzers.indent_scopes import enclosing_lines

SOURCE = "class A:\n    def f(self):\n\n        for x in items:\n            y = 1\n            load(x)\n"


def test_headers_innermost_first_from_the_line_itself() -> None:
    lines = SOURCE.splitlines()
    assert [t.strip() for _, t, _ in enclosing_lines(lines, 6)] == [
        "load(x)", "for x in items:", "def f(self):", "class A:"
    ]


def test_lookback_bounds_the_walk_and_bad_lines_give_nothing() -> None:
    lines = SOURCE.splitlines()
    assert [t.strip() for _, t, _ in enclosing_lines(lines, 6, lookback=3)] == ["load(x)", "for x in items:"]
    assert list(enclosing_lines(lines, 0)) == [] and list(enclosing_lines(lines, 99)) == []
