"""The import structure: packages sit on floors and import only their own floor or the floors below.

core <- analyzers, facts, render, specialist, github <- review <- app, eval, handlers <- cli

Every `import` and `from ... import` is read from the syntax tree, lazy imports inside functions
included, so a shortcut taken in a function body fails here as surely as one at the top.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FLOORS: dict[str, int] = {
    "bot": 0,  # bot/__init__.py: the version only
    "bot.core": 0,
    "bot.analyzers": 1,
    "bot.facts": 1,
    "bot.render": 1,
    "bot.specialist": 1,
    "bot.github": 1,
    "bot.review": 2,
    "bot.app": 3,
    "bot.eval": 3,
    "handlers": 3,
    "bot.cli": 4,
}


def package_of(module: str) -> str:
    """The floor-bearing package a dotted module name belongs to."""
    parts = module.split(".")
    if parts[0] == "handlers":
        return "handlers"
    if len(parts) >= 2 and f"bot.{parts[1]}" in FLOORS:
        return f"bot.{parts[1]}"
    return "bot"


def module_name(path: Path) -> str:
    """Dotted name; a package's `__init__` keeps its last part so relative imports resolve from it."""
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def imported_modules(source: str, module: str) -> Iterator[str]:
    """Project modules (bot.*, handlers.*) a source imports, relative imports resolved."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                base = parts[: len(parts) - node.level]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield target
            for alias in node.names:  # `from bot import tracing` imports the module bot.tracing
                yield f"{target}.{alias.name}"


def violations(files: dict[str, str]) -> list[str]:
    """`importer -> imported` pairs where a lower floor imports a higher one."""
    found = []
    for module, source in sorted(files.items()):
        own = FLOORS[package_of(module)]
        for target in imported_modules(source, module):
            if not (target == "handlers" or target.startswith(("bot.", "handlers."))):
                continue
            if FLOORS[package_of(target)] > own:
                found.append(f"{module} -> {target}")
    return sorted(set(found))


def project_sources() -> dict[str, str]:
    paths = [*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("handlers").rglob("*.py")]
    return {module_name(p): p.read_text(encoding="utf-8") for p in paths}


def test_every_package_has_a_floor() -> None:
    """A new package under bot/ must be given its floor here before it can be imported from."""
    packages = {p.name for p in ROOT.joinpath("bot").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert {f"bot.{name}" for name in packages} <= set(FLOORS)


def test_imports_run_one_way() -> None:
    assert violations(project_sources()) == []


def test_bot_top_level_stays_small() -> None:
    modules = [p for p in ROOT.joinpath("bot").glob("*.py")]
    assert len(modules) <= 12, sorted(p.name for p in modules)


def test_a_lower_floor_importing_a_higher_one_is_caught() -> None:
    files = {
        "bot.core.model": "def f():\n    from bot.app import workflows\n",
        "bot.render.markdown": "from ..review.pipeline import assemble_review\n",
        "bot.app.server": "from bot.core import model\nimport handlers\n",
    }
    assert violations(files) == [
        "bot.core.model -> bot.app",
        "bot.core.model -> bot.app.workflows",
        "bot.render.markdown -> bot.review.pipeline",
        "bot.render.markdown -> bot.review.pipeline.assemble_review",
    ]
