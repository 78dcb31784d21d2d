"""Issue 14 item 11: raw file reads quote every path segment. Hostile file names: `x?foo` (read as `x`
before the fix), `#`, spaces, `%`, non-ASCII; each must read its own file from the fake GitHub."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.github.repo_view import GitHubRepo
from tests.support.fakegithub import FakeGitHub
from tests.support.fakegithub.clients import make_gateway

REPO = "octo/shop"
FILES = {
    "x": "the wrong file\n",
    "x?foo": "x question foo\n",
    "a#b.py": "a hash b\n",
    "dir with space/file name.py": "spaces\n",
    "100%.py": "percent\n",
    "100%25.py": "percent two five\n",
    "ünï/cödé.py": "unicode\n",
    "q/x?ref=main&y.py": "query-looking\n",
}


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.graphql_text_limit = 0  # every text comes from the raw contents endpoint
        fake.add_repo(REPO, FILES)
        yield fake


@pytest.mark.parametrize("path", sorted(FILES))
def test_a_raw_read_gets_the_file_it_names(gh: FakeGitHub, path: str) -> None:
    sha = gh.store.repos[REPO].branches["main"]
    view = GitHubRepo(make_gateway(gh), REPO, sha)
    assert view.read_text(path) == FILES[path]
    raw = [c for c in gh.calls if "/contents/" in c.path]
    assert raw, "the read must go through the raw contents endpoint"
