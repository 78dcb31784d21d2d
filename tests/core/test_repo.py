"""LocalGitRepo: reads the head revision only, and refuses anything outside the snapshot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.core.repo import LocalGitRepo, RepoAccessError, check_path, glob_match, is_secret_path
from tests.support.gitrepo import GitRepo


@pytest.fixture()
def repo(tmp_path: Path) -> GitRepo:
    r = GitRepo(tmp_path / "r")
    r.write("app/views.py", "def index():\n    return 1\n")
    r.write("app/models.py", "class User:\n    pass\n")
    r.write(".env", "SECRET=1\n")
    r.write("certs/server.pem", "-----BEGIN PRIVATE KEY-----\n")
    r.write("keys/id_rsa", "private\n")
    r.write("img.png", b"\x89PNG\0\0\0binary")
    r.write("big.txt", "x" * 2_000_000)
    os.symlink("/etc/passwd", r.root / "escape")
    os.symlink("../../outside", r.root / "app" / "up")
    os.symlink("models.py", r.root / "app" / "alias.py")
    os.symlink("../.env", r.root / "app" / "env_link")
    r.commit("base")
    r.write("app/views.py", "def index():\n    return 2\n")
    r.commit("head")
    return r


@pytest.fixture()
def view(repo: GitRepo) -> LocalGitRepo:
    return LocalGitRepo(str(repo.root), "HEAD")


def test_reads_the_requested_revision(repo: GitRepo, view: LocalGitRepo) -> None:
    assert "return 2" in view.read_text("app/views.py")
    assert "return 1" in LocalGitRepo(str(repo.root), "HEAD~1").read_text("app/views.py")


def test_uncommitted_changes_are_not_seen(repo: GitRepo, view: LocalGitRepo) -> None:
    repo.write("app/views.py", "edited on disk\n")
    assert "return 2" in view.read_text("app/views.py")


@pytest.mark.parametrize(
    "path, reason",
    [
        ("../../etc/passwd", "'..'"),
        ("app/../../x", "'..'"),
        ("/etc/passwd", "absolute"),
        (".env", "secrets"),
        ("certs/server.pem", "secrets"),
        ("keys/id_rsa", "secrets"),
        (".git/config", ".git"),
        ("escape", "outside"),
        ("app/up", "outside"),
        ("app/env_link", "secrets"),
        ("img.png", "binary"),
        ("big.txt", "limit"),
        ("nope.py", "no such file"),
        ("app", "folder"),
        ("a\0b", "NUL"),
    ],
)
def test_refusals_say_why(view: LocalGitRepo, path: str, reason: str) -> None:
    with pytest.raises(RepoAccessError, match=reason):
        view.read_text(path)


def test_symlink_inside_the_repo_is_followed(view: LocalGitRepo) -> None:
    assert "class User" in view.read_text("app/alias.py")


def test_listing_hides_secrets(view: LocalGitRepo) -> None:
    files = view.list_files()
    assert "app/views.py" in files
    assert ".env" not in files and "certs/server.pem" not in files and "keys/id_rsa" not in files
    assert view.list_files("**/*.py") == ["app/alias.py", "app/models.py", "app/views.py"]
    names = [e.path for e in view.list_folder("app")]
    assert "app/views.py" in names
    assert [e.path for e in view.list_folder("")][:3] == ["app", "certs", "keys"]


def test_search_text(view: LocalGitRepo) -> None:
    hits = view.search_text(r"class \w+", "**/*.py")
    assert {(h.path, h.line) for h in hits} == {("app/models.py", 1), ("app/alias.py", 1)}
    with pytest.raises(RepoAccessError, match="invalid regular expression"):
        view.search_text("(", None)


def test_prefetch_matches_single_reads(repo: GitRepo) -> None:
    a = LocalGitRepo(str(repo.root))
    a.prefetch(["app/views.py", "app/models.py", "img.png"])
    b = LocalGitRepo(str(repo.root))
    assert a.read_text("app/models.py") == b.read_text("app/models.py")
    assert a.read_text("app/views.py") == b.read_text("app/views.py")


def test_unknown_revision(repo: GitRepo) -> None:
    with pytest.raises(RepoAccessError):
        LocalGitRepo(str(repo.root), "no-such-branch")


def test_path_helpers() -> None:
    assert check_path("./a//b.py") == "a/b.py"
    assert is_secret_path("config/.env.production") and not is_secret_path(".env.example")
    assert glob_match("a.py", "**/*.py") and glob_match("x/y/a.py", "**/*.py") and not glob_match("a.js", "*.py")
