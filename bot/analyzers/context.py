"""The kind of code path a line sits on, from framework facts in the file (pure, bounded).

Request handler, background task, migration, management/cron command, test, seed or fixture script,
start-up hook (FastAPI/Starlette `on_event("startup")`, `lifespan`, `on_startup=[...]`,
`add_event_handler("startup", ...)`, Flask `before_first_request`, Quart `before_serving`, Sanic
`before_server_start`, Django `AppConfig.ready` and `post_migrate` receivers), or library (nothing
known). Evidence is framework syntax: route decorators, view and controller base classes, handler
signatures, task decorators, worker mixins, migration classes, command classes, test classes and
functions, start-up decorators and the hooks a file registers. A file name only adds weak evidence:
alone it never decides a kind.

For Python the enclosing function (its decorators, its class's bases, its name and first parameter)
is looked at first, then the file; other languages are judged by the enclosing function signature
(Go) and by the file. Every scan is bounded in lines and characters per line, and the patterns are
plain (no nested quantifiers), so hostile text costs linear time.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath

from bot.analyzers.indent_scopes import enclosing_lines

MAX_LINES = 20_000
MAX_LINE_CHARS = 400
STRONG = 2  # a framework fact
WEAK = 1  # a hint: a file name, a helper import


class PathKind(StrEnum):
    request_handler = "request_handler"
    background_task = "background_task"
    migration = "migration"
    command = "command"
    test = "test"
    seed_script = "seed_script"
    startup = "startup"
    library = "library"


@dataclass(frozen=True)
class PathContext:
    kind: PathKind
    evidence: str  # what decided it, for the finding's evidence line ("" for library)
    strong: bool  # decided by a framework fact (not by hints alone)


# file-level facts: (kind, weight, pattern, literals): every match of the pattern contains one of the literals,
# a substring test that spares most files the regex search (34 patterns per file otherwise)
_FILE_FACTS: tuple[tuple[PathKind, int, re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (k, w, re.compile(p, re.MULTILINE), literals)
    for k, w, p, literals in (
        # tests
        (
            PathKind.test,
            STRONG,
            r"^[ \t]*(?:import pytest|from pytest\b|import unittest|from unittest\b)",
            ("pytest", "unittest"),
        ),
        (PathKind.test, STRONG, r"^[ \t]*class \w+\([\w.]*TestCase\)", ("TestCase",)),
        # a Go test, or a shared test suite's helper taking the test's *testing.T / *testing.B
        (PathKind.test, STRONG, r"^func (?:\([^)\n]{0,80}\) )?\w+\([^)\n]{0,200}\*testing\.[TB]\b", ("testing.",)),
        (PathKind.test, STRONG, r"^[ \t]*(?:RSpec\.)?describe\b.*\bdo[ \t]*(?:\|\w+\|)?[ \t]*$", ("describe",)),
        (
            PathKind.test,
            STRONG,
            r"<[ \t]*(?:ActiveSupport::TestCase|ActionDispatch::IntegrationTest|Minitest::Test)",
            ("ActiveSupport::TestCase", "ActionDispatch::IntegrationTest", "Minitest::Test"),
        ),
        (PathKind.test, STRONG, r"^[ \t]*(?:describe|it|test)\([ \t]*['\"`]", ("describe(", "it(", "test(")),
        (PathKind.test, WEAK, r"^[ \t]*(?:assert |expect\()", ("assert ", "expect(")),
        # migrations
        (
            PathKind.migration,
            STRONG,
            r"^[ \t]*class Migration\(migrations\.Migration\)",
            ("class Migration(migrations.Migration)",),
        ),
        (PathKind.migration, STRONG, r"<[ \t]*ActiveRecord::Migration\b", ("ActiveRecord::Migration",)),
        (PathKind.migration, STRONG, r"^[ \t]*def upgrade\(\)", ("def upgrade()",)),
        (PathKind.migration, STRONG, r"implements MigrationInterface\b", ("implements MigrationInterface",)),
        (
            PathKind.migration,
            STRONG,
            r"^[ \t]*(?:exports\.up[ \t]*=|export (?:async )?function up\([ \t]*knex)",
            ("exports.up", "function up("),
        ),
        (PathKind.migration, STRONG, r"\bgoose\.AddMigration\w*\(", ("goose.AddMigration",)),
        # Go migration steps: a bun/database-sql/GORM/sqlx/pgx `Up`/`Down` method, or a gormigrate entry
        (
            PathKind.migration,
            STRONG,
            r"^func \([^)\n]{0,80}\) (?:Up|Down)\(ctx context\.Context, \w+ \*?(?:bun\.(?:DB|Tx|IDB)|sql\.(?:DB|Tx)|"
            r"gorm\.DB|sqlx\.(?:DB|Tx)|pgx\.Tx)\b|\bgormigrate\.Migration\{",
            ("Up(ctx", "Down(ctx", "gormigrate.Migration"),
        ),
        # commands
        (PathKind.command, STRONG, r"^[ \t]*class Command\([ \t]*[\w.]*BaseCommand[ \t]*\)", ("BaseCommand",)),
        (PathKind.command, STRONG, r"^[ \t]*(?:task|namespace)[ \t]+:?\w+.*\bdo\b", ("task", "namespace")),
        (
            PathKind.command,
            STRONG,
            r"^[ \t]*@(?:click\.command|click\.group|app\.command|typer\.\w+)\b",
            ("click.command", "click.group", "app.command", "typer."),
        ),
        (PathKind.command, STRONG, r"&cobra\.Command\{", ("&cobra.Command{",)),
        # a stand-alone script that boots the application itself, run by hand (`ruby script.rb`, `python x.py`)
        (
            PathKind.command,
            STRONG,
            r"^require(?:_relative)?[ \t(]+(?:File\.expand_path\()?['\"][\w./]*config/environment['\"]"
            r"|^django\.setup\(\)",
            ("config/environment", "django.setup()"),
        ),
        (PathKind.command, WEAK, r"^if __name__ == ['\"]__main__['\"]:", ("__main__",)),
        (PathKind.command, WEAK, r"^[ \t]*(?:import argparse|from argparse\b)", ("argparse",)),
        # seeds and fixtures
        (
            PathKind.seed_script,
            WEAK,
            r"^[ \t]*(?:from faker\b|import faker\b|require ['\"]faker['\"])|\bFaker::",
            ("faker", "Faker::"),
        ),
        (PathKind.seed_script, WEAK, r"\bfactory(?:_boy)?\b.*import|import.*\bfactory\b", ("factory",)),
        # background tasks
        (
            PathKind.background_task,
            STRONG,
            r"^[ \t]*@(?:shared_task|[\w.]*\.task|dramatiq\.actor|job)\b",
            ("shared_task", ".task", "dramatiq.actor", "job"),
        ),
        (PathKind.background_task, STRONG, r"^[ \t]*include Sidekiq::(?:Worker|Job)\b", ("include Sidekiq::",)),
        (
            PathKind.background_task,
            STRONG,
            r"<[ \t]*(?:ApplicationJob|ActiveJob::Base)\b",
            ("ApplicationJob", "ActiveJob::Base"),
        ),
        (PathKind.background_task, STRONG, r"\bnew Worker\([ \t]*['\"`]", ("new Worker(",)),
        # request handlers
        (
            PathKind.request_handler,
            STRONG,
            r"^[ \t]*@[\w.]*\.(?:route|get|post|put|patch|delete|api_route)\(",
            (".route(", ".get(", ".post(", ".put(", ".patch(", ".delete(", ".api_route("),
        ),
        (PathKind.request_handler, STRONG, r"^[ \t]*@api_view\b", ("@api_view",)),
        (
            PathKind.request_handler,
            STRONG,
            r"^[ \t]*class \w+\(.*\b(?:APIView|\w*ViewSet|GenericAPIView|View|"
            r"ListView|DetailView|TemplateView|FormView|ListAPIView|RetrieveAPIView)\b",
            ("class ",),
        ),
        (PathKind.request_handler, STRONG, r"^[ \t]*def \w+\([ \t]*request\b", ("request",)),
        (
            PathKind.request_handler,
            STRONG,
            r"<[ \t]*(?:ApplicationController|ActionController::(?:Base|API))\b",
            ("ApplicationController", "ActionController::"),
        ),
        (
            PathKind.request_handler,
            STRONG,
            r"\bw http\.ResponseWriter, \w+ \*http\.Request\b",
            ("http.ResponseWriter",),
        ),
        (
            PathKind.request_handler,
            STRONG,
            r"\bhttp\.HandleFunc\(|\bc \*gin\.Context\b|\bc echo\.Context\b",
            ("http.HandleFunc(", "*gin.Context", "echo.Context"),
        ),
        (
            PathKind.request_handler,
            STRONG,
            r"\b(?:app|router|server)\.(?:get|post|put|patch|delete|all)\([ \t]*['\"`]"
            r"[^'\"`]{0,200}['\"`][ \t]*,.{0,200}\breq\b",
            (".get(", ".post(", ".put(", ".patch(", ".delete(", ".all("),
        ),
        (
            PathKind.request_handler,
            STRONG,
            r"^[ \t]*@(?:Controller|Get|Post|Put|Patch|Delete)\(",
            ("@Controller(", "@Get(", "@Post(", "@Put(", "@Patch(", "@Delete("),
        ),
    )
)

# when a file shows several kinds, the one that bounds the risk the most wins
_PRIORITY = (
    PathKind.test,
    PathKind.migration,
    PathKind.seed_script,
    PathKind.command,
    PathKind.background_task,
    PathKind.request_handler,
)

_SEED_NAME = re.compile(
    r"(?:^|[_\-/])(?:seeds?|populate\w*|fixtures?|fake\w*|sample_?data|demo_?data|synthetic\w*|dummy_?data)(?:[_\-.]|$)"
)
_TEST_NAME = re.compile(
    r"^(?:test_.*\.py|.*_test\.(?:py|go|rb)|conftest\.py|.*_spec\.rb|.*\.(?:test|spec)\.[cm]?[jt]sx?)$"
)
_TEST_DIRS = frozenset({"test", "tests", "spec", "specs", "__tests__", "testing"})
_MIGRATION_DIRS = frozenset({"migrations", "migrate", "alembic", "versions"})

# Python: the enclosing function's own facts
_DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+(\w+)\s*\(\s*(\w*)")
_CLASS = re.compile(r"^(\s*)class\s+\w+\s*(?:\(([^)]{0,300})\))?")
_DECORATOR = re.compile(r"^\s*@([\w.]+)")
_ROUTE_DECORATOR = re.compile(r"\.(?:route|get|post|put|patch|delete|api_route|websocket)$|^api_view$|^action$")
_TASK_DECORATOR = re.compile(r"^shared_task$|\.task$|^task$|^dramatiq\.actor$|^actor$|^job$|^periodic_task$")
_VIEW_BASES = re.compile(r"\b(?:APIView|\w*ViewSet|GenericAPIView|View|\w+View|\w*Mixin)\b")
_STARTUP_DECORATOR = re.compile(
    r"^\s*@(?:[\w.]*\.(?:on_event\(\s*['\"]startup['\"]|before_first_request\b|before_serving\b"
    r"|before_server_start\b|on_startup\b)|receiver\(\s*(?:[\w.]*\.)?post_migrate\b)"
)
_CONTEXT_MANAGER = re.compile(r"^\s*@(?:contextlib\.)?asynccontextmanager\b")
# a function handed to the framework as a start-up hook in this file (the name is captured)
_STARTUP_REGISTRATION = re.compile(
    r"\blifespan\s*=\s*(\w+)\b|\badd_event_handler\(\s*['\"]startup['\"]\s*,\s*(\w+)"
    r"|\bon_startup\.append\(\s*(\w+)|\b(?:before_first_request|before_serving)\(\s*(\w+)\s*\)"
    r"|\bpost_migrate\.connect\(\s*(\w+)"
)
_ON_STARTUP_LIST = re.compile(r"\bon_startup\s*=\s*\[([^\]]{0,300})\]")
_GO_FUNC = re.compile(r"^func\s")
_GO_HANDLER = re.compile(r"http\.ResponseWriter|\*gin\.Context|echo\.Context|\*fiber\.Ctx")


def _lines(text: str) -> list[str]:
    return [line[:MAX_LINE_CHARS] for line in text.splitlines()[:MAX_LINES]]


def _name_hints(path: str) -> dict[PathKind, int]:
    parts = PurePosixPath(path.lower()).parts
    name = parts[-1] if parts else ""
    hints: dict[PathKind, int] = {}
    if _TEST_NAME.match(name) or any(p in _TEST_DIRS for p in parts[:-1]):
        hints[PathKind.test] = WEAK
    if any(p in _MIGRATION_DIRS or "migration" in p for p in parts[:-1]):
        hints[PathKind.migration] = WEAK
    if _SEED_NAME.search("/".join(parts)):
        hints[PathKind.seed_script] = WEAK
    if "management/commands" in "/".join(parts) or name.endswith(".rake"):
        hints[PathKind.command] = WEAK
    return hints


@functools.lru_cache(maxsize=16)  # several findings of one file ask about the same text
def _file_scores(path: str, text: str) -> dict[PathKind, int]:
    scores = dict(_name_hints(path))
    bounded = "\n".join(_lines(text))
    for kind, weight, pattern, literals in _FILE_FACTS:
        if kind in scores and scores[kind] >= STRONG + WEAK:
            continue
        if any(literal in bounded for literal in literals) and pattern.search(bounded):
            scores[kind] = scores.get(kind, 0) + weight
    # a command or a Rails seeds file whose name says it seeds the database is a seed script
    if scores.get(PathKind.seed_script, 0) and scores.get(PathKind.command, 0) >= STRONG:
        scores[PathKind.seed_script] = scores[PathKind.seed_script] + STRONG
    if path.endswith("db/seeds.rb") or "/db/seeds/" in f"/{path}":
        scores[PathKind.seed_script] = scores.get(PathKind.seed_script, 0) + STRONG
    return scores


@functools.lru_cache(maxsize=16)
def startup_hooks(text: str) -> frozenset[str]:
    """Names of functions this file hands to the framework as start-up hooks (`lifespan=f`,
    `on_startup=[f]`, `add_event_handler("startup", f)`, `before_first_request(f)`)."""
    bounded = "\n".join(_lines(text))
    names = {n for m in _STARTUP_REGISTRATION.finditer(bounded) for n in m.groups() if n}
    for listed in _ON_STARTUP_LIST.finditer(bounded):
        names.update(re.findall(r"\b(\w+)\b", listed.group(1)))
    return frozenset(names)


def _python_function_kind(lines: list[str], line: int, hooks: frozenset[str]) -> tuple[PathKind, str] | None:
    """The kind the enclosing function's own decorators, class or signature prove, if any."""
    innermost = ""
    for i, text, here in enclosing_lines(lines, line):
        match = _DEF.match(text)
        if match:
            innermost = innermost or match.group(2)
            found = _def_kind(lines, i, match.group(2), match.group(3), hooks)
            if found:
                return found
            continue
        cls = _CLASS.match(text)
        if cls:
            if innermost == "ready" and re.search(r"\bAppConfig\b", cls.group(2) or ""):
                return PathKind.startup, "AppConfig.ready (runs once at start-up)"
            return _class_kind(cls.group(2) or "")
        if here == 0:
            return None
    return None


def _def_kind(
    lines: list[str], index: int, name: str, first_param: str, hooks: frozenset[str] = frozenset()
) -> tuple[PathKind, str] | None:
    if name in hooks:
        return PathKind.startup, f"{name}, registered as a start-up hook"
    j = index - 1
    while j >= 0 and _DECORATOR.match(lines[j]):
        deco = _DECORATOR.match(lines[j])
        assert deco is not None
        if _ROUTE_DECORATOR.search(deco.group(1)):
            return PathKind.request_handler, f"@{deco.group(1)}"
        if _TASK_DECORATOR.search(deco.group(1)):
            return PathKind.background_task, f"@{deco.group(1)}"
        if _STARTUP_DECORATOR.match(lines[j]):
            return PathKind.startup, f"@{deco.group(1)} (runs once at start-up)"
        if _CONTEXT_MANAGER.match(lines[j]) and "lifespan" in name:
            return PathKind.startup, f"{name}, an application lifespan"
        j -= 1
    if name.startswith("test_"):
        return PathKind.test, f"test function {name}"
    if first_param == "request":
        return PathKind.request_handler, f"{name}(request, ...)"
    return None


def _class_kind(bases: str) -> tuple[PathKind, str] | None:
    if re.search(r"\bBaseCommand\b", bases):
        return PathKind.command, "a management command"
    if re.search(r"TestCase\b", bases):
        return PathKind.test, "a TestCase"
    if re.search(r"\bmigrations\.Migration\b", bases):
        return PathKind.migration, "a migration"
    if _VIEW_BASES.search(bases):
        return PathKind.request_handler, "a view class"
    return None


def _go_function_kind(lines: list[str], line: int) -> tuple[PathKind, str] | None:
    for i in range(min(line, len(lines)) - 1, -1, -1):
        if _GO_FUNC.match(lines[i]):
            if lines[i].startswith("func Test"):
                return PathKind.test, "a Go test function"
            if _GO_HANDLER.search(lines[i]):
                return PathKind.request_handler, "an HTTP handler signature"
            return None
    return None


def classify(path: str, text: str, line: int | None = None) -> PathContext:
    """The code path `line` of `path` sits on (the whole file's when `line` is None)."""
    lines = _lines(text)
    if line is not None and path.endswith(".py"):
        found = _python_function_kind(lines, line, startup_hooks(text))
    elif line is not None and path.endswith(".go"):
        found = _go_function_kind(lines, line)
    else:
        found = None
    scores = dict(_file_scores(path, text))
    # a seed script or a test stays one whatever handler-like function it defines
    for bounding in (PathKind.test, PathKind.seed_script):
        if scores.get(bounding, 0) >= STRONG and (found is None or found[0] != bounding):
            found = None
    if found is not None:
        return PathContext(found[0], found[1], True)
    for kind in _PRIORITY:
        score = scores.get(kind, 0)
        if score >= STRONG:
            return PathContext(kind, _describe(kind), score >= STRONG)
    return PathContext(PathKind.library, "", False)


def _describe(kind: PathKind) -> str:
    return {
        PathKind.test: "test code",
        PathKind.migration: "a schema migration",
        PathKind.seed_script: "a seed or fixture script",
        PathKind.command: "a command-line or scheduled command",
        PathKind.background_task: "a background task",
        PathKind.request_handler: "a request handler",
        PathKind.startup: "start-up code",
        PathKind.library: "",
    }[kind]
