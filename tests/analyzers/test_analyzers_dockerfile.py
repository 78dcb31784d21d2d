"""Dockerfiles: dev servers, single-worker gunicorn and shell-form commands in the final image, at exact lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.analyzers.base import FileInput
from bot.analyzers.dockerfile import DockerfileAnalyzer, is_dockerfile, parse_instructions
from bot.core.diff import FileChange, FileStatus
from bot.core.model import Finding

FIXTURES = Path(__file__).parents[1] / "fixtures" / "docker"
QUIET = sorted(p for p in (FIXTURES / "quiet").rglob("Dockerfile*"))
EXPECTED = {
    "web/Dockerfile": {(12, "docker-dev-server")},
    "api/Dockerfile": {(7, "docker-single-worker-gunicorn")},
    "jobs/Dockerfile": {(3, "docker-shell-form-command")},
    "worker/Dockerfile": {(5, "docker-shell-form-command")},
}


def run(path: str, text: str, added: set[int] | None = None) -> list[Finding]:
    n = text.count("\n") + 1
    lines = frozenset(added if added is not None else range(1, n + 1))
    change = FileChange(path=path, old_path=None, status=FileStatus.added, added_lines=lines, visible_lines=lines)
    return DockerfileAnalyzer().analyze(FileInput(change=change, text=text))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fire_fixture_reports_exactly_the_expected_lines(name: str) -> None:
    text = (FIXTURES / "fire" / name).read_text()
    assert {(f.start_line, f.source) for f in run(name, text)} == EXPECTED[name]


@pytest.mark.parametrize("fixture", QUIET, ids=lambda p: str(p.relative_to(FIXTURES / "quiet")))
def test_quiet_fixture_reports_nothing(fixture: Path) -> None:
    path = str(fixture.relative_to(FIXTURES / "quiet"))
    assert DockerfileAnalyzer().supports(path, "")
    assert run(path, fixture.read_text()) == []


def test_every_rule_has_a_firing_fixture() -> None:
    fired = {rule for lines in EXPECTED.values() for _, rule in lines}
    assert fired == set(DockerfileAnalyzer().rule_ids())


def test_continued_instruction_spans_its_lines_and_reports_when_any_is_added() -> None:
    text = (FIXTURES / "fire/api/Dockerfile").read_text()
    found = run("api/Dockerfile", text, added={9})
    assert {(f.start_line, f.end_line) for f in found} == {(7, 9)}
    assert run("api/Dockerfile", text, added={3}) == []


def test_parse_instructions_skips_comments_inside_continuations() -> None:
    text = 'FROM x\nRUN a \\\n  # note\n  && b\n\nCMD ["c"]\n'
    assert [(i.keyword, i.args, i.start_line, i.end_line) for i in parse_instructions(text)] == [
        ("FROM", "x", 1, 1),
        ("RUN", "a && b", 2, 4),
        ("CMD", '["c"]', 6, 6),
    ]


@pytest.mark.parametrize(
    ("path", "yes"),
    [("Dockerfile", True), ("deploy/api.Dockerfile", True), ("Dockerfile.prod", True), ("docker-compose.yml", False)],
)
def test_dockerfile_paths(path: str, yes: bool) -> None:
    assert is_dockerfile(path) is yes


@pytest.mark.parametrize(
    "text",
    ["", "\\", "CMD", "FROM\nCMD [\n", "RUN x \\\n" * 10_000, "\x00\ufffd CMD gunicorn", "FROM a\n" + "CMD x\n" * 6000],
)
def test_hostile_dockerfiles_never_raise(text: str) -> None:
    assert isinstance(run("Dockerfile", text), list)


def test_default_analyzers_include_the_dockerfile_analyzer() -> None:
    from bot.analyzers import default_analyzers

    assert any(isinstance(a, DockerfileAnalyzer) for a in default_analyzers())
