"""Evaluation cases: a JSON-lines file of reverted fixes, each labelled with where the problem is.

One object a line: `id, repo, fix_commit, parent, kind (positive|negative), category, language,
anti_pattern_locations [{path, start_line, end_line}], summary`. Loading validates every line and
fails with the line number, so a broken cases file never yields a silently partial evaluation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_CASES = 5000
MAX_CASES_FILE_BYTES = 20_000_000
KINDS = ("positive", "negative")
ERR_LINE = "{path}:{line}: {what}"
ERR_NOT_FOUND = "{path}: cases file not found"
ERR_TOO_BIG = "{path}: cases file is over {limit:,} bytes"
ERR_TOO_MANY = "{path}: more than {limit:,} cases"
ERR_DUPLICATE = "duplicate case id {id!r}"
ERR_UNKNOWN_ONLY = "unknown case id(s): {ids}"


class CaseFileError(ValueError):
    """The cases file is missing or malformed; the message names the file and line."""


@dataclass(frozen=True)
class Location:
    """A labelled range on the head side (1-based, inclusive)."""

    path: str
    start_line: int
    end_line: int


@dataclass(frozen=True)
class Case:
    id: str
    repo: str  # owner/name
    fix_commit: str
    parent: str
    kind: str  # positive | negative
    category: str
    language: str
    locations: tuple[Location, ...]
    summary: str = ""

    @property
    def positive(self) -> bool:
        return self.kind == "positive"

    @property
    def mirror_name(self) -> str:
        """The folder name of this repository's mirror: `owner+name`."""
        return self.repo.replace("/", "+")


def _text(raw: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValueError(f"'{key}' must be a non-empty string")
    return value


def _location(raw: Any, index: int) -> Location:
    if not isinstance(raw, dict):
        raise ValueError(f"anti_pattern_locations[{index}] must be an object")
    path = raw.get("path")
    start, end = raw.get("start_line"), raw.get("end_line")
    if not isinstance(path, str) or not path or path.startswith("/") or ".." in path.split("/"):
        raise ValueError(f"anti_pattern_locations[{index}].path must be a relative path inside the repository")
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or isinstance(end, bool):
        raise ValueError(f"anti_pattern_locations[{index}] lines must be integers")
    if start < 1 or end < start:
        raise ValueError(f"anti_pattern_locations[{index}] needs 1 <= start_line <= end_line")
    return Location(path, start, end)


def parse_case(raw: Any) -> Case:
    """One JSON object -> Case, or ValueError saying which field is wrong."""
    if not isinstance(raw, dict):
        raise ValueError("each line must be a JSON object")
    repo = _text(raw, "repo")
    if repo.count("/") != 1 or repo.startswith("/") or repo.endswith("/") or ".." in repo:
        raise ValueError(f"'repo' must look like owner/name, got {repo!r}")
    kind = _text(raw, "kind")
    if kind not in KINDS:
        raise ValueError(f"'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    locs_raw = raw.get("anti_pattern_locations", [])
    if not isinstance(locs_raw, list):
        raise ValueError("'anti_pattern_locations' must be a list")
    locations = tuple(_location(x, i) for i, x in enumerate(locs_raw))
    if kind == "positive" and not locations:
        raise ValueError("a positive case needs at least one anti_pattern_location")
    return Case(
        id=_text(raw, "id"),
        repo=repo,
        fix_commit=_text(raw, "fix_commit"),
        parent=_text(raw, "parent", required=False),
        kind=kind,
        category=_text(raw, "category"),
        language=_text(raw, "language"),
        locations=locations,
        summary=_text(raw, "summary", required=False),
    )


def load_cases(path: str | Path) -> list[Case]:
    """Every case of a JSON-lines file, validated; CaseFileError on the first bad line."""
    p = Path(path)
    if not p.is_file():
        raise CaseFileError(ERR_NOT_FOUND.format(path=p))
    if p.stat().st_size > MAX_CASES_FILE_BYTES:
        raise CaseFileError(ERR_TOO_BIG.format(path=p, limit=MAX_CASES_FILE_BYTES))
    cases: list[Case] = []
    seen: set[str] = set()
    text = p.read_text(encoding="utf-8-sig", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(cases) >= MAX_CASES:
            raise CaseFileError(ERR_TOO_MANY.format(path=p, limit=MAX_CASES))
        try:
            case = parse_case(json.loads(line))
        except (ValueError, json.JSONDecodeError) as exc:
            raise CaseFileError(ERR_LINE.format(path=p, line=number, what=exc)) from exc
        if case.id in seen:
            raise CaseFileError(ERR_LINE.format(path=p, line=number, what=ERR_DUPLICATE.format(id=case.id)))
        seen.add(case.id)
        cases.append(case)
    return cases


def select_cases(cases: list[Case], only: list[str] | None) -> list[Case]:
    """The cases named in `only` (all when empty), in file order; CaseFileError for unknown ids."""
    if not only:
        return cases
    known = {c.id for c in cases}
    unknown = [x for x in only if x not in known]
    if unknown:
        raise CaseFileError(ERR_UNKNOWN_ONLY.format(ids=", ".join(unknown)))
    wanted = set(only)
    return [c for c in cases if c.id in wanted]
