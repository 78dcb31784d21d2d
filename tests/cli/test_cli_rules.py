"""`scale-review rules list|test`: what a team sees of its own rules, and the exit codes scripts rely on."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.analyzers.test_repo_rules import RULE


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_rules_test_passes_fails_and_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path / "good", "billing.yml", RULE)
    assert main(["rules", "test", str(good)]) == 0
    assert "ok   team-billing-client-deadline (2 tests)" in capsys.readouterr().out

    failing = write(tmp_path / "failing", "billing.yml", RULE.replace("order, deadline=5)", "order, timeout=5)"))
    assert main(["rules", "test", str(failing)]) == 1
    assert "FAIL team-billing-client-deadline: tests.quiet[1] gave 1 finding(s)" in capsys.readouterr().out

    invalid = write(tmp_path / "invalid", "broken.yml", "id: [\n")
    assert main(["rules", "test", str(invalid)]) == 2
    assert "invalid: " in capsys.readouterr().out

    assert main(["rules", "test", str(tmp_path / "missing")]) == 2


def test_rules_list_shows_built_in_and_repository_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write(tmp_path / "rules", "billing.yml", RULE)
    assert main(["rules", "list", str(folder)]) == 0
    out = capsys.readouterr().out
    assert any(line.split()[:3] == ["py-requests-no-timeout", "python", "high"] and line.endswith("built-in")
               for line in out.splitlines())
    assert any(line.startswith("team-billing-client-deadline") and line.endswith("billing.yml")
               for line in out.splitlines())
