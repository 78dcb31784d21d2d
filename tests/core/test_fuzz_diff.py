"""The diff parser under generated, structure-aware input (hypothesis): real git diffs mutated line by line
(wrong hunk counts, huge or negative numbers, truncation, CR/CRLF, unicode and odd paths, binary and
rename headers). It either returns a ChangeSet whose anchors stay inside the diff or raises DiffError;
nothing else escapes, and every query on the result is total.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.diff import ChangeSet, DiffError, FileChange, parse_diff

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

paths = st.one_of(st.sampled_from(["app.py", "src/db/orders.py", "a b/c d.sql", "dir/ünïcode.go", ".github/x.yml",
                                   "a/b", "b/a", "-", "\"quoted\".py", "x\\ty"]),
                  st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=20))
numbers = st.one_of(st.integers(0, 40), st.integers(-3, 2**63), st.just(10**30))
body_lines = st.lists(st.tuples(st.sampled_from(["+", "-", " ", "\\", "", "@", "d", "+++ ", "--- "]),
                                st.text(max_size=30)).map(lambda t: t[0] + t[1].replace("\n", "")), max_size=15)


@st.composite
def hunks(draw: st.DrawFn) -> list[str]:
    header = "@@ -{},{} +{},{} @@{}".format(*(draw(numbers) for _ in range(4)), draw(st.text(max_size=10)))
    lines = draw(body_lines)
    if draw(st.booleans()):
        lines.append("\\ No newline at end of file")
    return [header.replace("\n", " ").replace("\r", " "), *lines]


@st.composite
def file_diffs(draw: st.DrawFn) -> list[str]:
    old, new = draw(paths), draw(paths)
    kind = draw(st.sampled_from(["modify", "add", "delete", "rename", "binary", "mode", "no-git-header"]))
    out = [] if kind == "no-git-header" else [f"diff --git a/{old} b/{new}"]
    if kind == "add":
        out += ["new file mode 100644", "index 0000000..e69de29", "--- /dev/null", f"+++ b/{new}"]
    elif kind == "delete":
        out += ["deleted file mode 100644", "index e69de29..0000000", f"--- a/{old}", "+++ /dev/null"]
    elif kind == "rename":
        out += ["similarity index 90%", f"rename from {old}", f"rename to {new}", f"--- a/{old}", f"+++ b/{new}"]
    elif kind == "binary":
        return [*out, f"Binary files a/{old} and b/{new} differ"]
    elif kind == "mode":
        return [*out, "old mode 100644", "new mode 100755"]
    else:
        out += ["index 83db48f..bf269f4 100644", f"--- a/{old}", f"+++ b/{new}"]
    for _ in range(draw(st.integers(0, 3))):
        out += draw(hunks())
    return out


@st.composite
def diffs(draw: st.DrawFn) -> str | bytes:
    lines = [line for _ in range(draw(st.integers(1, 4))) for line in draw(file_diffs())]
    for _ in range(draw(st.integers(0, 3))):  # mutate: drop, duplicate or replace a line
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["drop", "dup", "garbage"]))
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        else:
            lines[i] = draw(st.text(max_size=40)).replace("\n", "")
    sep = draw(st.sampled_from(["\n", "\r\n", "\r", "\n\n"]))
    text = sep.join(lines) + draw(st.sampled_from(["", "\n", sep]))
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]
    as_bytes = draw(st.sampled_from([None, "utf-8", "latin-1", "utf-16"]))
    return text.encode(as_bytes, "replace") if as_bytes else text


def in_order(f: FileChange) -> bool:
    """Hunks as git writes them: ascending and not overlapping on the head side."""
    visible = [n for h in f.hunks for n in h.visible]
    return visible == sorted(set(visible))


def exercise(change: ChangeSet) -> None:
    """Every query a review makes on the result; each must be total."""
    assert change.changed_lines >= 0 and len(change.paths) == len(change.files)
    for f in change.files:
        assert f.path and change.get(f.path) is not None
        assert f.added_lines <= f.visible_lines
        lines = sorted(f.visible_lines)
        probes = [1, 2, 10**6, *lines[:3], *lines[-3:]]
        for start in probes:
            for end in probes:
                f.touches(start, end)
                f.can_comment_range(start, end)
                anchored = f.anchor(start, end)
                if anchored is not None and in_order(f):  # an anchor is always a range GitHub accepts a comment on
                    assert f.can_comment_range(*anchored) and start <= anchored[0] <= anchored[1] <= end


@FUZZ
@given(diffs())
def test_mutated_git_diffs_parse_or_raise_diff_error_and_nothing_else(diff: str | bytes) -> None:
    try:
        change = parse_diff(diff)
    except DiffError as exc:
        assert str(exc).startswith("not a unified diff")
        return
    exercise(change)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=3000))
def test_arbitrary_text_parses_or_raises_diff_error(text: str) -> None:
    try:
        exercise(parse_diff(text))
    except DiffError:
        pass


OVERLAPPING = """diff --git a/x.py b/x.py
index 1111111..2222222 100644
--- a/x.py
+++ b/x.py
@@ -3,1 +3,1 @@
 c
@@ -1,2 +1,3 @@
+a
 b
 c
"""


def test_overlapping_hunks_are_a_diff_error_or_anchor_agrees_with_can_comment_range() -> None:
    try:
        f = parse_diff(OVERLAPPING).files[0]
    except DiffError:
        return  # fixed in the parser
    anchored = f.anchor(1, 3)
    assert anchored is None or f.can_comment_range(*anchored)  # or fixed in anchor()
