"""Generated and vendored code: which changed files nobody writes by hand, and why.

Three kinds of evidence, in order: the base branch's `.gitattributes` (`linguist-generated`,
`linguist-vendored`, their `=false` / `-` overrides, `-diff`), a generated-file marker in the first
lines of the file (`Code generated ... DO NOT EDIT.`, `@generated`), and the well-known generated
names (protobuf and gRPC stubs, lockfiles, minified bundles, source maps).

A change must not be able to hide itself: the attributes come from the base branch only, and a
marker counts only when the base side of the file carried it too (a new file's marker counts, and
the caller names such files in the summary). Database migrations are never left out, even where a
framework wrote them: that is where locking problems live.

Pure: text in, a reason or None out. Bounded: at most MAX_ATTRIBUTE_LINES lines of attributes, the
marker looked for in the first MARKER_CHARS characters, globs matched by fnmatch (no backtracking
regular expression built from repository text).
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass

MAX_ATTRIBUTE_LINES = 2000
MARKER_CHARS = 2000
MARKER_LINES = 8

# Go's convention (https://go.dev/s/generatedcode) and the `@generated` tag of Facebook's tools,
# protoc plugins and many others; both looked for in comments near the top of the file.
_GO_MARKER = re.compile(r"^// Code generated .{0,200} DO NOT EDIT\.$")
_AT_GENERATED = re.compile(r"(?:#|//|/\*|\*|--|<!--)[^\n]{0,200}@generated\b")

_GENERATED_NAMES = (
    "*_pb2.py", "*_pb2.pyi", "*_pb2_grpc.py", "*.pb.go", "*_grpc.pb.go", "*.pb.gw.go", "*_pb.js", "*_pb.d.ts",
    "*_grpc_pb.js", "*_grpc_pb.d.ts", "*.pb.ts", "*.pb.cc", "*.pb.h", "*.min.js", "*.min.css", "*.map",
    "*.bundle.js", "*.chunk.js",
)
_LOCKFILES = frozenset({
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb", "gemfile.lock",
    "poetry.lock", "pipfile.lock", "uv.lock", "pdm.lock", "go.sum", "cargo.lock", "composer.lock", "mix.lock",
})


@dataclass(frozen=True)
class _Line:
    pattern: str
    attrs: dict[str, bool]  # attribute -> set (True) or unset (False)


def _parse_attribute(token: str) -> tuple[str, bool] | None:
    if token.startswith("-"):
        return token[1:], False
    if token.startswith("!"):
        return token[1:], False
    name, _, value = token.partition("=")
    if value.lower() in ("false", "0"):
        return name, False
    return name, True


_WATCHED = ("linguist-generated", "linguist-vendored", "diff")


def parse_gitattributes(text: str) -> list[_Line]:
    """The lines of a `.gitattributes` that set or unset an attribute we honour (later lines win)."""
    out: list[_Line] = []
    for raw in text.splitlines()[:MAX_ATTRIBUTE_LINES]:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pattern, *tokens = line.split()
        attrs: dict[str, bool] = {}
        for token in tokens:
            parsed = _parse_attribute(token)
            if parsed and parsed[0] in _WATCHED:
                attrs[parsed[0]] = parsed[1]
        if attrs:
            out.append(_Line(pattern, attrs))
    return out


def _matches(path: str, pattern: str) -> bool:
    """gitattributes pattern matching: a pattern without a slash matches the name at any depth; one with a
    slash is anchored at the root; `**/` and `/**` match any number of folders."""
    pattern = pattern.lstrip("/") if pattern.startswith("/") else pattern
    if "/" not in pattern.rstrip("/"):
        return fnmatch.fnmatchcase(posixpath.basename(path), pattern)
    if pattern.endswith("/**"):
        return path.startswith(pattern[:-2]) or fnmatch.fnmatchcase(path, pattern[:-3] + "/*")
    if pattern.startswith("**/"):
        tail = pattern[3:]
        parts = path.split("/")
        return any(fnmatch.fnmatchcase("/".join(parts[i:]), tail) for i in range(len(parts)))
    return fnmatch.fnmatchcase(path, pattern)


def attribute_reason(path: str, attributes: list[_Line]) -> str | None:
    """Why the base's `.gitattributes` leaves this file out, or None."""
    state: dict[str, bool] = {}
    for line in attributes:
        if _matches(path, line.pattern):
            state.update(line.attrs)
    if state.get("linguist-generated"):
        return "generated (.gitattributes linguist-generated)"
    if state.get("linguist-vendored"):
        return "vendored (.gitattributes linguist-vendored)"
    if state.get("diff") is False:
        return "not diffable (.gitattributes -diff)"
    return None


def has_marker(text: str | None) -> bool:
    """A generated-file marker in the first lines of the text."""
    if not text:
        return False
    head = text[:MARKER_CHARS].splitlines()[:MARKER_LINES]
    return any(_GO_MARKER.match(line.strip()) or _AT_GENERATED.search(line) for line in head)


def name_reason(path: str) -> str | None:
    """A well-known generated name: protobuf/gRPC stubs, lockfiles, minified bundles, source maps."""
    name = posixpath.basename(path)
    if name.lower() in _LOCKFILES:
        return "lockfile"
    for glob in _GENERATED_NAMES:
        if fnmatch.fnmatchcase(name, glob):
            return f"generated ({glob})"
    return None


def generated_reason(
    path: str,
    *,
    head_text: str | None,
    base_text: str | None,
    is_new: bool,
    attributes: list[_Line],
    is_migration: bool,
) -> str | None:
    """Why a changed file is left out as generated or vendored, or None when it is reviewed."""
    return path_reason(path, attributes, is_migration) or marker_reason(
        head_text=head_text, base_text=base_text, is_new=is_new, is_migration=is_migration
    )


def path_reason(path: str, attributes: list[_Line], is_migration: bool) -> str | None:
    """What the path alone says (attributes, well-known names): known before any text is read."""
    if is_migration:
        return None
    return attribute_reason(path, attributes) or name_reason(path)


def marker_reason(*, head_text: str | None, base_text: str | None, is_new: bool, is_migration: bool) -> str | None:
    """A generated-file marker, honoured only when the base had it too (or the file is new)."""
    if not is_migration and has_marker(head_text) and (is_new or has_marker(base_text)):
        return "generated (marker in the file's first lines)"
    return None
