"""The diff model: statuses, head-side line maps, odd input, and property tests on the parser."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.diff import DiffError, FileStatus, parse_diff
from tests.support.gitrepo import GitRepo


@pytest.fixture()
def repo(tmp_path: Path) -> GitRepo:
    r = GitRepo(tmp_path / "r")
    r.write("a.py", "x = 1\ny = 2\n")
    r.write("old.py", "".join(f"line{i}\n" for i in range(20)))
    r.write("gone.py", "z = 1\n")
    r.write("run.sh", "echo hi\n")
    r.write("crlf.txt", b"a\r\nb\r\n")
    r.commit("base")
    return r


def _diff(repo: GitRepo) -> str:
    return repo.git("diff", "-M", "HEAD~1", "HEAD")


def test_statuses_and_lines(repo: GitRepo) -> None:
    repo.write("a.py", "x = 1\ny = 3\nz = 4")  # no trailing newline
    os.rename(repo.root / "old.py", repo.root / "new.py")
    with open(repo.root / "new.py", "a") as fh:
        fh.write("extra\n")
    repo.remove("gone.py")
    os.chmod(repo.root / "run.sh", 0o755)
    repo.write("blob.bin", b"\0\1\2\xff")
    repo.write("latin.py", b"caf\xe9 = 1\n")
    repo.write("crlf.txt", b"a\r\nc\r\n")
    repo.commit()
    cs = parse_diff(_diff(repo))
    by = {f.path: f for f in cs.files}
    assert by["a.py"].status == FileStatus.modified
    assert sorted(by["a.py"].added_lines) == [2, 3]
    assert sorted(by["a.py"].visible_lines) == [1, 2, 3]
    assert by["new.py"].status == FileStatus.renamed and by["new.py"].old_path == "old.py"
    assert sorted(by["new.py"].added_lines) == [21]
    assert by["gone.py"].status == FileStatus.deleted and not by["gone.py"].reviewable
    assert by["run.sh"].status == FileStatus.mode_only
    assert by["blob.bin"].status == FileStatus.binary
    assert by["latin.py"].status == FileStatus.added and sorted(by["latin.py"].added_lines) == [1]
    assert sorted(by["crlf.txt"].added_lines) == [2]


def test_bytes_with_invalid_utf8_parse(repo: GitRepo) -> None:
    repo.write("latin.py", b"caf\xe9 = 1\nother = 2\n")
    repo.commit()
    raw = repo.git("diff", "HEAD~1", "HEAD").encode("utf-8", "surrogateescape")
    cs = parse_diff(raw)
    assert cs.get("latin.py") is not None


def test_empty_diff_is_empty_changeset() -> None:
    assert parse_diff("").files == ()
    assert parse_diff(b"\n\n").files == ()


def test_garbage_is_a_clear_error() -> None:
    with pytest.raises(DiffError):
        parse_diff("this is not a diff\n@@ nonsense\n")


def test_comment_anchors_stay_inside_the_diff(repo: GitRepo) -> None:
    repo.write("old.py", "".join(f"line{i}\n" for i in range(20)).replace("line10\n", "changed\n"))
    repo.commit()
    f = parse_diff(_diff(repo)).get("old.py")
    assert f is not None
    assert f.touches(11, 11) and not f.touches(1, 5)
    assert f.can_comment(8) and f.can_comment(11) and not f.can_comment(2)
    assert f.can_comment_range(9, 12) and not f.can_comment_range(2, 11)
    assert f.anchor(1, 30) == (8, 14)
    assert f.anchor(1, 3) is None


def test_hundred_thousand_line_diff_parses_quickly() -> None:
    body = "".join(f"+v{i} = {i}\n" for i in range(100_000))
    header = "diff --git a/big.py b/big.py\nnew file mode 100644\n--- /dev/null\n+++ b/big.py\n"
    text = f"{header}@@ -0,0 +1,100000 @@\n{body}"
    started = time.perf_counter()
    cs = parse_diff(text)
    assert len(cs.files[0].added_lines) == 100_000
    assert time.perf_counter() - started < 30


_line = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=40)


@settings(max_examples=150, deadline=None)
@given(base=st.lists(_line, max_size=30), head=st.lists(_line, max_size=30))
def test_added_lines_match_difflib(base: list[str], head: list[str]) -> None:
    import difflib

    patch = list(difflib.unified_diff([b + "\n" for b in base], [h + "\n" for h in head], "a/f.py", "b/f.py", n=3))
    if not patch:
        return
    text = "diff --git a/f.py b/f.py\n" + "".join(patch)
    f = parse_diff(text).files[0]
    expected_added = set()
    for group in difflib.SequenceMatcher(None, base, head).get_grouped_opcodes(3):
        for tag, _i1, _i2, j1, j2 in group:
            if tag in ("replace", "insert"):
                expected_added.update(range(j1 + 1, j2 + 1))
    assert set(f.added_lines) == expected_added
    assert set(f.added_lines) <= set(f.visible_lines)
    assert all(1 <= n <= max(len(head), 1) for n in f.visible_lines)
    for n in f.visible_lines:
        assert f.can_comment(n)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_parser_never_raises_anything_but_diff_error(data: bytes) -> None:
    try:
        parse_diff(b"diff --git a/x b/x\n--- a/x\n+++ b/x\n" + data)
    except DiffError:
        pass


def test_a_removal_inside_a_range_touches_it(repo: GitRepo) -> None:
    repo.write("call.py", "r = get(\n    url,\n    timeout=5,\n)\n\nother = 1\n")
    repo.commit()
    repo.write("call.py", "r = get(\n    url,\n)\n\nother = 1\n")
    repo.commit()
    f = parse_diff(_diff(repo)).get("call.py")
    assert f is not None and not f.added_lines
    assert sorted(f.removal_points) == [3]
    assert f.touches(1, 3)  # the call lost an argument
    assert f.touches(3, 3) and f.touches(2, 2)  # the lines on either side of the removal
    assert not f.touches(4, 5)  # further away: untouched


def test_git_sections_cut_a_diff_losslessly_at_each_file_header() -> None:
    from bot.core.diff import git_sections

    diff = ("preamble\n"
            "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x\n+y\n"
            "diff --git a/old name.py b/new name.py\nrename from old name.py\nrename to new name.py\n")
    sections = git_sections(diff)
    assert [paths for paths, _ in sections] == [None, ("a.py", "a.py"), ("old name.py", "new name.py")]
    assert "".join(text for _, text in sections) == diff
    assert git_sections("") == [(None, "")]
