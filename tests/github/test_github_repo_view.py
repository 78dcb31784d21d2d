"""GitHubRepo: the RepoView of a GitHub commit keeps LocalGitRepo's sandbox and reads in batches."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.core.repo import RepoAccessError
from bot.github.repo_view import GitHubRepo
from tests.support.fakegithub import FakeGitHub
from tests.support.fakegithub.clients import make_gateway

REPO = "acme/shop"
API = r"^/(graphql|repos)"  # everything but minting the token


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        files = {f"svc/m{i}.py": f"def f{i}():\n    return db.query({i})\n" for i in range(12)}
        files.update({"README.md": "# shop\n", ".env": "SECRET=1\n", "deploy/key.pem": "-----BEGIN\n",
                      "data/big.csv": "x" * 5000, "docs/guide.md": "use db.query carefully\n"})
        fake.add_repo(REPO, files, symlinks={"svc/link.py": "m1.py", "evil.py": "../../etc/passwd",
                                             "docs/up.md": "../README.md"})
        yield fake


@pytest.fixture
def view(gh: FakeGitHub) -> GitHubRepo:
    sha = gh.store.repos[REPO].branches["main"]
    return GitHubRepo(make_gateway(gh), REPO, sha, max_bytes=4000)


def test_lists_files_and_folders_without_secrets(view: GitHubRepo) -> None:
    files = view.list_files()
    assert "svc/m0.py" in files and ".env" not in files and "deploy/key.pem" not in files
    assert view.list_files("**/*.md") == ["README.md", "docs/guide.md", "docs/up.md"]
    kinds = {e.path: e.kind for e in view.list_folder("svc")}
    assert kinds["svc/link.py"] == "symlink" and kinds["svc/m3.py"] == "file"
    with pytest.raises(RepoAccessError, match="no such folder"):
        view.list_folder("nowhere")


def test_reads_follow_symlinks_only_inside_the_snapshot(view: GitHubRepo) -> None:
    assert view.read_text("svc/link.py") == view.read_text("svc/m1.py")
    assert view.read_text("docs/up.md") == "# shop\n"
    with pytest.raises(RepoAccessError, match="outside the repository"):
        view.read_text("evil.py")


@pytest.mark.parametrize(("path", "reason"), [
    ("../outside.py", "outside the repository"),
    ("/etc/passwd", "absolute"),
    (".env", "secrets"),
    ("deploy/key.pem", "secrets"),
    ("data/big.csv", "over the 4,000-byte limit"),
    ("svc", "is a folder"),
    ("svc/missing.py", "no such file"),
    (".git/config", ".git folder"),
])
def test_refusals_say_why(view: GitHubRepo, path: str, reason: str) -> None:
    with pytest.raises(RepoAccessError, match=reason):
        view.read_text(path)


def test_search_reads_in_one_batch(gh: FakeGitHub, view: GitHubRepo) -> None:
    gh.reset_calls()
    hits = view.search_text(r"db\.query\(1\d?\)", "svc/*.py")
    assert sorted(h.path for h in hits) == ["svc/m1.py", "svc/m10.py", "svc/m11.py"]  # the symlink is not repeated
    assert all(h.line == 2 for h in hits)
    assert gh.count("GET", r"/git/trees/") == 1 and gh.count("POST", r"/graphql$") == 1
    view.read_text("svc/m5.py")
    assert len(gh.calls_to(path=API)) == 2  # cached


def test_prefetched_changed_files_need_no_listing(gh: FakeGitHub, view: GitHubRepo) -> None:
    gh.reset_calls()
    view.prefetch(["svc/m1.py", "svc/m2.py", "svc/link.py", "README.md", "gone.py"])
    assert view.read_text("svc/m2.py").startswith("def f2")
    assert [c.path for c in gh.calls_to(path=API)] == ["/graphql"]  # one batch, no tree listing
    assert view.read_text("svc/link.py") == view.read_text("svc/m1.py")  # symlinks still resolved safely
    with pytest.raises(RepoAccessError, match="no such file"):
        view.read_text("gone.py")


def test_a_search_budget_caps_the_files_read(gh: FakeGitHub) -> None:
    sha = gh.store.repos[REPO].branches["main"]
    view = GitHubRepo(make_gateway(gh), REPO, sha, max_search_files=3)
    assert len(view.search_text("db.query", "svc/*.py")) == 3
    with pytest.raises(RepoAccessError, match="invalid regular expression"):
        view.search_text("(")
