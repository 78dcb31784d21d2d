"""Which changed files are test code, by the test frameworks' own naming (or the repository's config).

A folder name alone is not enough: code moved under `fixtures/`, `spec/`, `testing/` or `e2e/` is still
code a production path may import, so it is reviewed. A file is test code when its own name follows a
test framework's convention (pytest `test_*.py`/`*_test.py`/`conftest.py`, Go `*_test.go`, RSpec
`*_spec.rb`, Minitest `*_test.rb`, Jest/Vitest/Mocha `*.test.ts`/`*.spec.js`), when it sits where a
framework itself looks for tests by default (Jest's `__tests__/`, Go's ignored `testdata/` for Go
files, RSpec's `spec/support/` and Cucumber's `features/step_definitions/` and `features/support/` for Ruby),
or when the repository's configuration (`paths.tests`, read from the base branch) says so.

One folder convention is enough on its own: the application a test suite builds for itself. Rails engines
and gems test against a generated `test/dummy/` or `spec/dummy/` app (`rails plugin new` makes one), and
Django libraries keep a test project under a top-level `tests/` folder; the migrations of those apps
never run against a production table, so a locking-migration finding there is noise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath

from bot.core.repo import glob_match

TEST_FILE = re.compile(
    r"^(test_[^/]*\.py|[^/]*_test\.(py|go|rb)|conftest\.py|[^/]*_spec\.rb|"
    r"(spec|rails|test)_helper\.rb|[^/]*\.(test|spec)\.[cm]?[jt]sx?)$"
)
_JS_TS = re.compile(r"\.[cm]?[jt]sx?$")
_TEST_ROOTS = frozenset({"test", "tests", "spec"})
_MIGRATION_FOLDERS = ("migrations", "migrate")
_CUCUMBER = frozenset({"step_definitions", "support"})  # the folders Cucumber loads Ruby from by default
TEST_REASON = "test code ({why})"


def reason_if_test(path: str, config_globs: Sequence[str] = ()) -> str | None:
    """Why `path` is test code, or None when it is not (then it is reviewed)."""
    parts = PurePosixPath(path).parts
    name = parts[-1] if parts else ""
    if TEST_FILE.match(name):
        return TEST_REASON.format(why="test file name")
    folders = parts[:-1]
    if "__tests__" in folders and _JS_TS.search(name):
        return TEST_REASON.format(why="Jest __tests__ folder")
    if "testdata" in folders and name.endswith(".go"):
        return TEST_REASON.format(why="Go testdata folder")
    if name.endswith(".rb") and len(folders) >= 2 and folders[0] == "spec" and folders[1] == "support":
        return TEST_REASON.format(why="RSpec's spec/support, loaded by the spec helper")
    if name.endswith(".rb") and len(folders) >= 2 and folders[0] == "features" and folders[1] in _CUCUMBER:
        return TEST_REASON.format(why="Cucumber's features folder")
    if len(folders) >= 2 and folders[0] in _TEST_ROOTS and folders[1] == "dummy":
        return TEST_REASON.format(why="the test suite's dummy application")
    if folders and folders[0] in _TEST_ROOTS and any(f in _MIGRATION_FOLDERS for f in folders[1:]):
        return TEST_REASON.format(why="a migration of the test suite's own application")
    for glob in config_globs:
        if glob_match(path, glob):
            return TEST_REASON.format(why=f"paths.tests '{glob}'")
    return None


def is_test_path(path: str, config_globs: Sequence[str] = ()) -> bool:
    """A test file by its framework's naming, or by the repository's `paths.tests`."""
    return reason_if_test(path, config_globs) is not None
