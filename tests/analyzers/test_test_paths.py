"""Test code by the frameworks' own naming or paths.tests, never by a folder name alone."""

from __future__ import annotations

import pytest

from bot.analyzers.test_paths import is_test_path, reason_if_test


@pytest.mark.parametrize("path", ["tests/test_a.py", "a_test.py", "pkg/x_test.go", "spec/models/user_spec.rb",
                                  "test/a_test.rb", "spec/spec_helper.rb", "web/a.spec.tsx", "conftest.py",
                                  "web/__tests__/a.js", "pkg/testdata/gen.go"])
def test_framework_named_tests(path: str) -> None:
    assert is_test_path(path)


@pytest.mark.parametrize("path", ["fixtures/views.py", "spec/support/helpers.rb", "e2e/app.ts", "testing/db.go",
                                  "tests/factories.py", "testdata/loader.py", "latest.ts", "contest.py"])
def test_a_folder_name_alone_is_not_a_test(path: str) -> None:
    assert not is_test_path(path)


def test_the_repository_config_names_more() -> None:
    assert reason_if_test("qa/suite/a.py", ["qa/**"]) == "test code (paths.tests 'qa/**')"
