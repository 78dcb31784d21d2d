"""A rule's config trimmed for one file: the `not:` and `any:` branches its text rules out are left out (speed only).

ast-grep compiles every regex of a rule on every `find_all`, those of a `not:` or of an `any:` branch included. A
sub-rule whose requirement (bot.analyzers.rule_requires) the file's text fails matches no node of the file: an
`any:` branch that cannot match adds nothing to the `any`, and a `not:` of it excludes nothing, so both can go and
the rule matches the same nodes, with the same metavariables, for less compiling. A `not:` stays when it is its
mapping's only matcher; an `any:` keeps all its branches when none could match. The trimmed configs are cached
per rule by which branches were left out: files alike share one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.analyzers.rule_requires import Requirement, as_requirement, rule_requirement

Path = tuple[Any, ...]
Site = tuple[Path, Requirement]  # where a `not:` value or an `any:` branch sits, and what its text needs
MATCHERS = frozenset(
    {"kind", "pattern", "regex", "has", "inside", "follows", "precedes", "all", "any", "matches", "nthChild", "range"}
)


def trim_sites(config: Mapping[str, Any]) -> tuple[Site, ...]:
    """The `not:` values and `any:` branches of a rule config (as written: before its regexes are rewritten) that a
    file's text can rule out."""
    utils = config.get("utils")
    utils = utils if isinstance(utils, dict) else {}
    sites: list[Site] = []

    def walk(node: Any, path: Path) -> None:
        if isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, (*path, i))
            return
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            if key == "not" and MATCHERS & (set(node) - {"not"}):
                need = as_requirement(rule_requirement(value, utils))
                if need is not None:
                    sites.append(((*path, "not"), need))
            if key == "any" and isinstance(value, list) and len(value) > 1:
                for i, branch in enumerate(value):
                    need = as_requirement(rule_requirement(branch, utils))
                    if need is not None:
                        sites.append(((*path, "any", i), need))
            walk(value, (*path, key))

    walk(dict(config), ())
    return tuple(sites)


def dead_sites(sites: tuple[Site, ...], text: str, memo: dict[str, bool]) -> frozenset[int]:
    """The sites whose sub-rule cannot match anything in `text`."""
    return frozenset(i for i, (_, need) in enumerate(sites) if not need.holds(text, memo))


def trimmed(config: dict[str, Any], sites: tuple[Site, ...], dead: frozenset[int]) -> dict[str, Any]:
    """`config` without the dead sites (copies only the mappings and lists on the way to them)."""
    drops: dict[Path, set[Any]] = {}
    for i in dead:
        path = sites[i][0]
        drops.setdefault(path[:-1], set()).add(path[-1])
    on_the_way = {parent[:n] for parent in drops for n in range(len(parent) + 1)}

    def rebuild(node: Any, path: Path) -> Any:
        if path not in on_the_way:
            return node
        gone = drops.get(path, set())
        if isinstance(node, dict):
            return {k: rebuild(v, (*path, k)) for k, v in node.items() if k not in gone}
        if isinstance(node, list):
            kept = [rebuild(v, (*path, i)) for i, v in enumerate(node) if i not in gone]
            return kept or [rebuild(v, (*path, i)) for i, v in enumerate(node)]
        return node

    out = rebuild(config, ())
    assert isinstance(out, dict)
    return out
