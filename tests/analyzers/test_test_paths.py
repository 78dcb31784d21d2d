"""Test code by the frameworks' own naming or paths.tests, never by a folder name alone."""

from __future__ import annotations

import pytest

from bot.analyzers.test_paths import is_test_path, reason_if_test


@pytest.mark.parametrize("path", ["tests/test_a.py", "a_test.py", "pkg/x_test.go", "spec/models/user_spec.rb",
                                  "test/a_test.rb", "spec/spec_helper.rb", "web/a.spec.tsx", "conftest.py",
                                  "web/__tests__/a.js", "pkg/testdata/gen.go", "spec/support/helpers.rb",
                                  "spec/support/capybara/matchers.rb", "features/step_definitions/claim_steps.rb",
                                  "features/support/env.rb"])
def test_framework_named_tests(path: str) -> None:
    assert is_test_path(path)


@pytest.mark.parametrize("path", ["fixtures/views.py", "spec/support/helpers.py", "e2e/app.ts", "testing/db.go",
                                  "tests/factories.py", "testdata/loader.py", "latest.ts", "contest.py",
                                  "app/features/step_definitions.rb", "lib/spec/support/x.rb"])
def test_a_folder_name_alone_is_not_a_test(path: str) -> None:
    assert not is_test_path(path)


def test_the_repository_config_names_more() -> None:
    assert reason_if_test("qa/suite/a.py", ["qa/**"]) == "test code (paths.tests 'qa/**')"


@pytest.mark.parametrize("path", ["tests/_site/apps/partner/migrations/0008_code.py",
                                  "spec/dummy/db/migrate/20240101_add_index.rb",
                                  "test/dummy/app/models/order.rb", "tests/testapp/migrations/0001_initial.py"])
def test_the_test_suites_own_application_is_test_code(path: str) -> None:
    assert is_test_path(path)


@pytest.mark.parametrize("path", ["src/app/migrations/0008_code.py", "db/migrate/20240101_add_index.rb",
                                  "app/tests/migrations/0001.py", "spec/models/dummy.rb", "tests/migrate_data.py"])
def test_production_migrations_stay_reviewed(path: str) -> None:
    assert not is_test_path(path)
