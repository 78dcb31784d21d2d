"""The hostile tests of issue 14: each one reproduces an attack a pull request (or a commenter) could
make, and fails on the code before its fix. All carry the `security` marker (`pytest -m security`);
they also run in the normal `python -m pytest`. README "Security" lists what each defends."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/security/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.security)
