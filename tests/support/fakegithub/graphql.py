"""A tiny GraphQL subset: `repository(owner:, name:) { alias: object(expression: "ref:path") { ... } }`.

Enough for batched file reads: aliases, string/variable arguments, nested selections, inline
fragments `... on Blob` / `... on Tree`, and `__typename`. Anything else is a GraphQL error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .gitdata import blob_sha
from .state import Commit, HttpError

if TYPE_CHECKING:
    from .fake import FakeGitHub

_TOKEN = re.compile(r'\s*(?:(\.\.\.)|("(?:[^"\\]|\\.)*")|([A-Za-z_$][\w]*)|(-?\d+)|([{}():!,=\[\]]))')
MAX_SELECTIONS = 500


@dataclass
class Field:
    name: str
    alias: str
    args: dict[str, Any] = field(default_factory=dict)
    children: list[Field] = field(default_factory=list)
    on: str | None = None  # set for an inline fragment


def _tokens(text: str) -> list[str]:
    text = re.sub(r"#[^\n]*", "", text)
    out, pos = [], 0
    while pos < len(text.rstrip()):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise HttpError(200, f"Parse error near {text[pos:pos + 20]!r}")
        out.append(next(g for g in m.groups() if g is not None))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, tokens: list[str], variables: dict[str, Any]) -> None:
        self.t, self.i, self.vars, self.count = tokens, 0, variables, 0

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, expect: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expect is not None and tok != expect):
            raise HttpError(200, f"Parse error: expected {expect!r}, got {tok!r}")
        self.i += 1
        return tok

    def document(self) -> list[Field]:
        if self.peek() == "query":
            self.take()
            if self.peek() not in ("{", "("):
                self.take()
            if self.peek() == "(":
                depth = 0
                while True:
                    tok = self.take()
                    depth += tok == "("
                    depth -= tok == ")"
                    if depth == 0:
                        break
        return self.selections()

    def selections(self) -> list[Field]:
        self.take("{")
        out = []
        while self.peek() != "}":
            self.count += 1
            if self.count > MAX_SELECTIONS:
                raise HttpError(200, "Query has too many selections")
            out.append(self.selection())
        self.take("}")
        return out

    def selection(self) -> Field:
        if self.peek() == "...":
            self.take()
            self.take("on")
            typ = self.take()
            return Field("...", "...", children=self.selections(), on=typ)
        name = self.take()
        alias = name
        if self.peek() == ":":
            self.take()
            name = self.take()
        f = Field(name, alias)
        if self.peek() == "(":
            self.take()
            while self.peek() != ")":
                key = self.take()
                self.take(":")
                f.args[key] = self.value()
                if self.peek() == ",":
                    self.take()
            self.take(")")
        if self.peek() == "{":
            f.children = self.selections()
        return f

    def value(self) -> Any:
        tok = self.take()
        if tok == "$":
            tok = "$" + self.take()
        if tok.startswith("$"):
            return self.vars.get(tok[1:])
        if tok.startswith('"'):
            return json.loads(tok)
        if re.fullmatch(r"-?\d+", tok):
            return int(tok)
        return {"true": True, "false": False, "null": None}.get(tok, tok)


def _blob_values(fake: FakeGitHub, data: bytes, sha: str) -> dict[str, Any]:
    binary = b"\0" in data[:8000]
    truncated = len(data) > fake.graphql_text_limit
    return {
        "__typename": "Blob", "oid": sha, "byteSize": len(data), "isBinary": binary, "isTruncated": truncated,
        "text": None if binary else data[: fake.graphql_text_limit].decode("utf-8", errors="replace"),
        "abbreviatedOid": sha[:7],
    }


def _blob(fake: FakeGitHub, data: bytes, sha: str, fields: list[Field]) -> dict[str, Any]:
    return _select(_blob_values(fake, data, sha), fields, "Blob")


def _select(values: dict[str, Any], fields: list[Field], typ: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        if f.on is not None:
            if f.on == typ:
                out.update(_select(values, f.children, typ))
        elif f.name in values:
            value = values[f.name]
            if isinstance(value, list) and f.children:
                value = [_select(v, f.children, "TreeEntry") for v in value]
            elif isinstance(value, dict) and f.children:  # TreeEntry.object: a Blob or a Tree
                value = _select(value, f.children, str(value.get("__typename")))
            out[f.alias] = value
        else:
            raise HttpError(200, f"Field '{f.name}' doesn't exist on type '{typ}'")
    return out


def _object(fake: FakeGitHub, repo_key: str, f: Field) -> dict[str, Any] | None:
    expr = str(f.args.get("expression", ""))
    ref, sep, path = expr.partition(":")
    if not sep:
        raise HttpError(200, "object(expression:) wants 'ref:path' here")
    owner, name = repo_key.split("/")
    try:
        commit = fake.store.resolve(fake.store.repo(owner, name), ref)
    except HttpError:
        return None
    path = path.strip("/")
    if path in commit.tree:
        data = commit.tree[path]
        return _blob(fake, data, blob_sha(data), f.children)
    if any(p.startswith(path + "/") for p in commit.tree) or not path:
        return _select({"__typename": "Tree", "oid": commit.sha, "entries": _entries(fake, commit, path)},
                       f.children, "Tree")
    return None


def _entries(fake: FakeGitHub, commit: Commit, folder: str) -> list[dict[str, Any]]:
    """TreeEntry values of one folder; `mode` is an Int as in GitHub's schema (0o120000 = symlink); `object`
    is the entry's Blob (or a bare Tree)."""
    prefix = folder + "/" if folder else ""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(commit.tree):
        if not path.startswith(prefix):
            continue
        name, sep, _ = path[len(prefix):].partition("/")
        if sep:
            out.setdefault(name, {"name": name, "path": prefix + name, "type": "tree", "mode": 0o40000,
                                  "object": {"__typename": "Tree", "oid": commit.sha}})
        else:
            mode = 0o120000 if path in commit.symlinks else 0o100644
            data = commit.tree[path]
            out[name] = {"name": name, "path": path, "type": "blob", "mode": mode, "oid": blob_sha(data),
                         "object": _blob_values(fake, data, blob_sha(data))}
    return list(out.values())


def _repository(fake: FakeGitHub, f: Field, installation_id: int | None) -> dict[str, Any] | None:
    key = f"{f.args.get('owner')}/{f.args.get('name')}".lower()
    repo = fake.store.repos.get(key)
    if repo is None or repo.installation_id != installation_id:
        return None
    out: dict[str, Any] = {}
    for child in f.children:
        if child.name == "object":
            out[child.alias] = _object(fake, key, child)
        elif child.name in ("nameWithOwner", "name", "__typename"):
            out[child.alias] = {"nameWithOwner": repo.full_name, "name": repo.name,
                                "__typename": "Repository"}[child.name]
        else:
            raise HttpError(200, f"Field '{child.name}' doesn't exist on type 'Repository'")
    return out


def execute(fake: FakeGitHub, query: str, variables: dict[str, Any], installation_id: int | None) -> dict[str, Any]:
    """Run the query; GraphQL answers 200 with `errors` for bad queries, as GitHub does."""
    try:
        fields = _Parser(_tokens(query), variables).document()
        data: dict[str, Any] = {}
        errors = []
        for f in fields:
            if f.name != "repository":
                raise HttpError(200, f"Field '{f.name}' doesn't exist on type 'Query'")
            data[f.alias] = _repository(fake, f, installation_id)
            if data[f.alias] is None:
                errors.append({"type": "NOT_FOUND", "path": [f.alias],
                               "message": f"Could not resolve to a Repository with the name "
                                          f"'{f.args.get('owner')}/{f.args.get('name')}'."})
    except HttpError as err:
        return {"errors": [{"message": err.message}]}
    return {"data": data, "errors": errors} if errors else {"data": data}
