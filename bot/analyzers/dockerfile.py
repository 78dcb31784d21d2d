"""The Dockerfile analyzer: what the final image runs — dev servers, single-worker gunicorn, shell-form commands.

Only the last stage counts (earlier stages are build stages). Dockerfiles for development
(`Dockerfile.dev`, `.devcontainer/`, dev/test/example paths) are not reviewed. Findings point at the
CMD/ENTRYPOINT lines and are reported only when the change added one of them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from bot.analyzers.base import FileInput, NotAnalysed
from bot.analyzers.kubernetes import NON_PRODUCTION_REASON, non_production_path
from bot.analyzers.rule_info import RULES_DIR, Hit, RuleInfo, findings_from_hits, load_rule_infos
from bot.core.deadline import NEVER, Deadline
from bot.core.model import Finding

ANALYZER_NAME = "dockerfile"
RULES_FILE = RULES_DIR / "dockerfile.yml"
DEV_SERVER = "docker-dev-server"
SINGLE_WORKER = "docker-single-worker-gunicorn"
SHELL_FORM = "docker-shell-form-command"
MAX_TEXT_CHARS = 500_000
MAX_FINDINGS = 200
MAX_INSTRUCTIONS = 5_000
_DEV_SERVERS = (
    (re.compile(r"\bmanage\.py\s+runserver\b"), "Django runserver"),
    (re.compile(r"\bflask\s+run\b"), "flask run"),
    (re.compile(r"\b(npm|yarn|pnpm)\s+(run\s+)?(dev|start:dev|serve)\b"), "a dev script"),
    (re.compile(r"\b(nodemon|next\s+dev|ng\s+serve|webpack-dev-server|vite(?!\s+(build|preview)))\b"), "a dev server"),
    (re.compile(r"--reload\b"), "auto-reload"),
    (re.compile(r"\bphp\s+-S\b"), "PHP's built-in server"),
    (re.compile(r"\bpython[0-9.]*\s+-m\s+http\.server\b"), "python -m http.server"),
)
_GUNICORN_TUNED = re.compile(r"(^|\s)(-w|--workers|-c|--config|-k|--worker-class|--threads)(\s|=|$)")
_GUNICORN_ENV = re.compile(r"\b(WEB_CONCURRENCY|GUNICORN_CMD_ARGS)\b")
_CONTROL_OPERATOR = re.compile(r"&&|\|\||;|\||(?<![&>0-9])&(?!&)")
_INIT = re.compile(r"\b(tini|dumb-init|s6-svscan|supervisord)\b")


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case
    args: str  # continuation lines joined with spaces
    start_line: int
    end_line: int

    @property
    def exec_form(self) -> bool:
        return self.args.lstrip().startswith("[")


@functools.cache
def dockerfile_rules() -> tuple[RuleInfo, ...]:
    return load_rule_infos(RULES_FILE)


def is_dockerfile(path: str) -> bool:
    name = PurePosixPath(path).name.lower()
    return name == "dockerfile" or name.startswith("dockerfile.") or name.endswith(".dockerfile")


def is_dev_dockerfile(path: str) -> bool:
    p = PurePosixPath(path.lower())
    return ".devcontainer" in p.parts or bool(
        re.search(r"(^|[._-])(dev|devel|development|local|test)([._-]|$)", p.name)
    )


def parse_instructions(text: str, deadline: Deadline = NEVER) -> list[Instruction]:
    """Instructions with their line spans; comments and blank lines inside continuations are skipped."""
    out: list[Instruction] = []
    current: list[str] = []
    start = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        deadline.check()
        line = raw.rstrip("\r")
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and (not stripped or stripped.startswith("#")):
            continue
        if not current:
            start = number
        continued = line.rstrip().endswith("\\")
        current.append(line.rstrip()[:-1] if continued else line)
        if not continued:
            out.append(_instruction(" ".join(current), start, number))
            current = []
            if len(out) >= MAX_INSTRUCTIONS:
                return out
    if current:
        out.append(_instruction(" ".join(current), start, start + len(current) - 1))
    return out


def _instruction(joined: str, start: int, end: int) -> Instruction:
    keyword, _, args = joined.strip().partition(" ")
    return Instruction(keyword.upper(), " ".join(args.split()), start, end)


def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    froms = [i for i, ins in enumerate(instructions) if ins.keyword == "FROM"]
    return instructions[froms[-1] :] if froms else instructions


def dockerfile_hits(instructions: list[Instruction]) -> list[Hit]:
    stage = final_stage(instructions)
    commands = [ins for ins in stage if ins.keyword in ("CMD", "ENTRYPOINT")]
    if not commands:
        return []
    env = " ".join(ins.args for ins in stage if ins.keyword in ("ENV", "ARG"))
    entrypoint = next((c for c in reversed(commands) if c.keyword == "ENTRYPOINT"), None)
    cmd = next((c for c in reversed(commands) if c.keyword == "CMD"), None)
    hits: list[Hit] = []
    for command in [c for c in (entrypoint, cmd) if c is not None]:
        hits.extend(_command_hits(command, env))
    main = entrypoint or cmd
    if main is not None and _runs_under_a_shell(main):
        hits.append(_hit(SHELL_FORM, main, instruction=main.keyword))
    return hits


def _command_hits(command: Instruction, env: str) -> list[Hit]:
    text = _plain(command.args)
    for pattern, label in _DEV_SERVERS:
        if pattern.search(text):
            return [_hit(DEV_SERVER, command, server=label)]
    if re.search(r"\bgunicorn\b", text) and not _GUNICORN_TUNED.search(text) and not _GUNICORN_ENV.search(env):
        return [_hit(SINGLE_WORKER, command)]
    return []


def _plain(args: str) -> str:
    """Exec-form arguments as one space-separated string: ["a", "-w", "4"] -> a -w 4."""
    return re.sub(r"[\[\],\"']", " ", args)


def _shell_script(ins: Instruction) -> str | None:
    """The shell script PID 1 runs: the shell form's text, or the argument of ["sh", "-c", ...]."""
    if not ins.exec_form:
        return ins.args
    words = _plain(ins.args).split()
    if len(words) >= 3 and PurePosixPath(words[0]).name in ("sh", "bash", "ash") and words[1] == "-c":
        return " ".join(words[2:])
    return None


def _runs_under_a_shell(ins: Instruction) -> bool:
    """PID 1 stays a shell that does not forward SIGTERM: a compound script without exec, trap or an init.

    Modern shells exec a single simple command themselves, so only scripts with control operators count.
    """
    script = _shell_script(ins)
    if script is None or _INIT.search(script) or re.search(r"\b(exec|trap)\b", script):
        return False
    return bool(_CONTROL_OPERATOR.search(script))


def _hit(rule_id: str, ins: Instruction, **values: str) -> Hit:
    command = ins.args if len(ins.args) <= 100 else ins.args[:99] + "…"
    return Hit(rule_id, ins.start_line, ins.end_line, f"{ins.keyword} {ins.args}", {"command": command, **values})


class DockerfileAnalyzer:
    """Analyzer protocol implementation for Dockerfiles."""

    name = ANALYZER_NAME
    max_text_chars = MAX_TEXT_CHARS  # the engine reports a longer file as not reviewed

    def __init__(self) -> None:
        self.rules: list[RuleInfo] = list(dockerfile_rules())
        self._by_id = {r.id: r for r in self.rules}

    def rule_ids(self) -> list[str]:
        return [r.id for r in self.rules]

    def supports(self, path: str, text: str) -> bool:
        return is_dockerfile(path)

    def skip_reason(self, path: str) -> str | None:
        """A development Dockerfile or one under a dev/test/example path is not checked (coverage says so)."""
        if is_dev_dockerfile(path) or non_production_path(path):
            return NON_PRODUCTION_REASON
        return None

    def analyze(self, file: FileInput) -> list[Finding]:
        if not file.change.changed or len(file.text) > MAX_TEXT_CHARS:
            return []
        if is_dev_dockerfile(file.path) or non_production_path(file.path):
            return []
        try:
            hits = dockerfile_hits(parse_instructions(file.text, file.deadline))
        except Exception as exc:  # hostile input (or a parser bug) must not sink the review, nor pass as read
            raise NotAnalysed(f"parse error ({type(exc).__name__})") from exc
        return findings_from_hits(self._by_id, file, hits, MAX_FINDINGS)
