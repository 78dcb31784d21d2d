"""The GraphQL the App sends, answered from the fake's state; every request is first checked against GitHub's
published schema (`@octokit/graphql-schema`) when it is installed, as GitHub itself would.

Parsing is graphql-core's (aliases, variables, object arguments, inline fragments); execution is a small
resolver walk over plain dicts (a value may be a function of the field's arguments). Served:
- query: `repository(owner:, name:) { name nameWithOwner object(expression: "ref:path") { ... on Blob { text
  byteSize isBinary isTruncated oid } ... on Tree { entries { name mode type path oid } } }
  pullRequest(number:) { number reviewThreads(first:, after:) { nodes { id isResolved isOutdated path line
  viewerCanResolve viewerCanUnresolve viewerCanReply resolvedBy { login } comments(first:|last:, after:)
  { nodes { id databaseId body createdAt viewerDidAuthor author { login } } } } pageInfo totalCount } } }`
- mutation: `resolveReviewThread`, `unresolveReviewThread` (`{ thread { ... } }`) and
  `addPullRequestReviewThreadReply` (`{ comment { ... } }`), each alias run in turn; one refused or
  not found leaves `null` under its alias and an error whose `path` names it (GitHub's partial answer).
  `fake.graphql_refuse = {"resolveReviewThread": "Resource not accessible by integration"}` refuses a
  mutation (type FORBIDDEN), as GitHub does when the App lacks the permission; the threads then say
  `viewerCanResolve: false` unless `fake.refusal_shown_on_threads = False` (a refusal only the mutation tells).
Anything else is a GraphQL error (HTTP 200 with `errors`, as GitHub answers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)
from graphql.utilities import value_from_ast_untyped

from .gitdata import blob_sha
from .state import Commit, HttpError

if TYPE_CHECKING:
    from .fake import FakeGitHub

MAX_SELECTIONS = 2000
THREAD_PREFIX = "PRRT_fake"
COMMENT_PREFIX = "PRRC_fake"


@dataclass
class Field:
    name: str
    alias: str
    args: dict[str, Any] = field(default_factory=dict)
    children: list[Field] = field(default_factory=list)
    on: str | None = None  # set for an inline fragment


class GqlError(Exception):
    def __init__(self, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.message, self.kind = message, kind


def _fields(selection_set: SelectionSetNode | None, variables: dict[str, Any], count: list[int]) -> list[Field]:
    out: list[Field] = []
    for sel in selection_set.selections if selection_set else ():
        count[0] += 1
        if count[0] > MAX_SELECTIONS:
            raise GqlError("Query has too many selections")
        if isinstance(sel, InlineFragmentNode):
            on = sel.type_condition.name.value if sel.type_condition else None
            out.append(Field("...", "...", children=_fields(sel.selection_set, variables, count), on=on))
        elif isinstance(sel, FieldNode):
            args = {a.name.value: value_from_ast_untyped(a.value, variables) for a in sel.arguments or ()}
            out.append(Field(sel.name.value, sel.alias.value if sel.alias else sel.name.value, args,
                             _fields(sel.selection_set, variables, count)))
        else:
            raise GqlError("Named fragments are not served by the fake")
    return out


def _shape(value: Any, children: list[Field]) -> Any:
    if not children or value is None:
        return value
    if isinstance(value, list):
        return [_shape(v, children) for v in value]
    return _select(value, children)


def _select(values: dict[str, Any], fields: list[Field]) -> dict[str, Any]:
    typ = str(values.get("__typename", "?"))
    out: dict[str, Any] = {}
    for f in fields:
        if f.on is not None:
            if f.on == typ or f.on in values.get("_implements", ()):
                out.update(_select(values, f.children))
            continue
        if f.name not in values:
            raise GqlError(f"Field '{f.name}' doesn't exist on type '{typ}'")
        value = values[f.name]
        out[f.alias] = _shape(value(f.args) if callable(value) else value, f.children)
    return out


# ---- git objects --------------------------------------------------------------------------------
def _blob(fake: FakeGitHub, data: bytes) -> dict[str, Any]:
    sha = blob_sha(data)
    binary = b"\0" in data[:8000]
    return {"__typename": "Blob", "oid": sha, "byteSize": len(data), "isBinary": binary,
            "isTruncated": len(data) > fake.graphql_text_limit, "abbreviatedOid": sha[:7],
            "text": None if binary else data[: fake.graphql_text_limit].decode("utf-8", errors="replace")}


def _object(fake: FakeGitHub, repo_key: str, args: dict[str, Any]) -> dict[str, Any] | None:
    ref, sep, path = str(args.get("expression", "")).partition(":")
    if not sep:
        raise GqlError("object(expression:) wants 'ref:path' here")
    try:
        commit = fake.store.resolve(fake.store.repo(*repo_key.split("/")), ref)
    except HttpError:
        return None
    path = path.strip("/")
    if path in commit.tree:
        return _blob(fake, commit.tree[path])
    if any(p.startswith(path + "/") for p in commit.tree) or not path:
        return {"__typename": "Tree", "oid": commit.sha, "entries": _entries(fake, commit, path)}
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
            out.setdefault(name, {"__typename": "TreeEntry", "name": name, "path": prefix + name, "type": "tree",
                                  "mode": 0o40000, "object": {"__typename": "Tree", "oid": commit.sha}})
        else:
            mode = 0o120000 if path in commit.symlinks else 0o100644
            data = commit.tree[path]
            out[name] = {"__typename": "TreeEntry", "name": name, "path": path, "type": "blob", "mode": mode,
                         "oid": blob_sha(data), "object": _blob(fake, data)}
    return list(out.values())


# ---- review threads -----------------------------------------------------------------------------
def _connection(items: list[Any], args: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL connection page: `first`/`after` (cursor = index) or `last`."""
    start = int(args.get("after") or -1) + 1 if args.get("after") is not None else 0
    if args.get("first") is not None and args.get("last") is not None:
        raise GqlError("Passing both `first` and `last` to paginate a connection is not supported.")
    if args.get("last") is not None:
        start = max(start, len(items) - int(args["last"]))
        end = len(items)
    else:
        end = min(len(items), start + int(args.get("first") or 100))
    if int(args.get("first") or args.get("last") or 0) > 100:
        raise GqlError("Requesting more than 100 records on a connection is not allowed.")
    return {"__typename": "Connection", "nodes": items[start:end], "totalCount": len(items),
            "pageInfo": {"__typename": "PageInfo", "hasNextPage": end < len(items), "hasPreviousPage": start > 0,
                         "endCursor": str(end - 1) if end > start else None,
                         "startCursor": str(start) if end > start else None}}


def _viewer_wrote(fake: FakeGitHub, c: dict[str, Any]) -> bool:
    return (c["user"]["login"] == fake.bot_login and c.get("_app") in (None, fake.app_id)
            and c["user"].get("type") == "Bot")


def _comment(fake: FakeGitHub, c: dict[str, Any]) -> dict[str, Any]:
    login, bot = c["user"]["login"], c["user"].get("type") == "Bot"
    # GraphQL names a bot by its slug, without REST's `[bot]` suffix
    author = {"__typename": "Bot" if bot else "User", "login": login.removesuffix("[bot]") if bot else login}
    return {"__typename": "PullRequestReviewComment", "id": f"{COMMENT_PREFIX}{c['id']}", "databaseId": c["id"],
            "fullDatabaseId": str(c["id"]), "body": c["body"],
            "createdAt": c.get("created_at") or "2026-01-01T00:00:00Z",
            "path": c["path"], "line": c.get("line"), "viewerDidAuthor": _viewer_wrote(fake, c), "author": author}


def thread_comments(fake: FakeGitHub, root_id: int) -> list[dict[str, Any]]:
    return [c for c in fake.store.review_comments.values() if c["id"] == root_id or c.get("in_reply_to_id") == root_id]


def _thread(fake: FakeGitHub, root: dict[str, Any], pr_head: str) -> dict[str, Any]:
    resolved, by = bool(root.get("_resolved")), root.get("_resolved_by")
    can_write = "resolveReviewThread" not in fake.graphql_refuse or not fake.refusal_shown_on_threads
    comments = [_comment(fake, c) for c in thread_comments(fake, root["id"])]
    return {"__typename": "PullRequestReviewThread", "id": f"{THREAD_PREFIX}{root['id']}", "isResolved": resolved,
            "isCollapsed": resolved, "isOutdated": root["commit_id"] != pr_head, "path": root["path"],
            "line": root.get("line"), "startLine": root.get("start_line"), "diffSide": root.get("side", "RIGHT"),
            "viewerCanResolve": can_write and not resolved, "viewerCanUnresolve": can_write and resolved,
            "viewerCanReply": True,
            "resolvedBy": ({"__typename": "User", "login": by} if resolved and by and not by.endswith("[bot]")
                           else None),
            "comments": lambda args: _connection(comments, args)}


def _pull_request(fake: FakeGitHub, repo_key: str, args: dict[str, Any]) -> dict[str, Any] | None:
    pr = fake.store.repos[repo_key].pulls.get(int(args.get("number") or 0))
    if pr is None:
        raise GqlError(f"Could not resolve to a PullRequest with the number of {args.get('number')}.", "NOT_FOUND")
    key = (repo_key, pr.number)
    roots = [c for c in fake.store.review_comments.values() if c["_key"] == key and not c.get("in_reply_to_id")]
    threads = [_thread(fake, c, pr.head_sha) for c in sorted(roots, key=lambda c: c["id"])]
    return {"__typename": "PullRequest", "number": pr.number, "headRefOid": pr.head_sha,
            "reviewThreads": lambda a: _connection(threads, a)}


def _repository(fake: FakeGitHub, args: dict[str, Any], installation_id: int | None) -> dict[str, Any]:
    key = f"{args.get('owner')}/{args.get('name')}".lower()
    repo = fake.store.repos.get(key)
    if repo is None or repo.installation_id != installation_id:
        raise GqlError(f"Could not resolve to a Repository with the name '{args.get('owner')}/{args.get('name')}'.",
                       "NOT_FOUND")
    return {"__typename": "Repository", "name": repo.name, "nameWithOwner": repo.full_name,
            "object": lambda a: _object(fake, key, a), "pullRequest": lambda a: _pull_request(fake, key, a)}


# ---- mutations ----------------------------------------------------------------------------------
def _root_comment(fake: FakeGitHub, node_id: Any, installation_id: int | None) -> dict[str, Any]:
    text = str(node_id or "")
    root = None
    if text.startswith(THREAD_PREFIX) and text[len(THREAD_PREFIX):].isdigit():
        root = fake.store.review_comments.get(int(text[len(THREAD_PREFIX):]))
    repo = fake.store.repos.get(root["_key"][0]) if root else None
    if root is None or root.get("in_reply_to_id") or repo is None or repo.installation_id != installation_id:
        raise GqlError(f"Could not resolve to a node with the global id of '{text[:100]}'", "NOT_FOUND")
    return root


def _refuse(fake: FakeGitHub, mutation: str) -> None:
    if mutation in fake.graphql_refuse:
        raise GqlError(fake.graphql_refuse[mutation], "FORBIDDEN")


def _resolve(fake: FakeGitHub, args: dict[str, Any], inst: int | None, resolved: bool) -> dict[str, Any]:
    _refuse(fake, "resolveReviewThread" if resolved else "unresolveReviewThread")
    root = _root_comment(fake, (args.get("input") or {}).get("threadId"), inst)
    root["_resolved"], root["_resolved_by"] = resolved, fake.bot_login if resolved else None
    pr = fake.store.pull(*root["_key"][0].split("/"), root["_key"][1])
    return {"__typename": "ResolveReviewThreadPayload", "clientMutationId": None,
            "thread": _thread(fake, root, pr.head_sha)}


def _reply(fake: FakeGitHub, args: dict[str, Any], inst: int | None) -> dict[str, Any]:
    _refuse(fake, "addPullRequestReviewThreadReply")
    data = args.get("input") or {}
    root = _root_comment(fake, data.get("pullRequestReviewThreadId"), inst)
    body = str(data.get("body") or "")
    if not body or len(body) > 65_536:
        raise GqlError("Body can't be blank" if not body else "Body is too long (maximum is 65536 characters)",
                       "UNPROCESSABLE")
    created = fake.new_review_reply(root, body, fake.bot_login, "Bot", fake.app_id)
    return {"__typename": "AddPullRequestReviewThreadReplyPayload", "clientMutationId": None,
            "comment": _comment(fake, created)}


def _mutation_root(fake: FakeGitHub, inst: int | None) -> dict[str, Callable[[dict[str, Any]], Any]]:
    return {"resolveReviewThread": lambda a: _resolve(fake, a, inst, True),
            "unresolveReviewThread": lambda a: _resolve(fake, a, inst, False),
            "addPullRequestReviewThreadReply": lambda a: _reply(fake, a, inst)}


def _schema_problems(fake: FakeGitHub, query: str, variables: dict[str, Any]) -> list[str]:
    """GitHub's schema check of the request (only when the npm artefact is installed and the contract is on)."""
    from tests.support.contract import graphql_problems, graphql_schema

    if not fake.enforce_contract or graphql_schema() is None:
        return []
    return graphql_problems(query, variables)


def execute(fake: FakeGitHub, query: str, variables: dict[str, Any], installation_id: int | None) -> dict[str, Any]:
    """Run the document; GraphQL answers 200 with `errors` for bad queries, as GitHub does."""
    problems = _schema_problems(fake, query, variables)
    if problems:
        return {"errors": [{"message": m, "extensions": {"source": "schema.graphql"}} for m in problems]}
    try:
        ops = [d for d in parse(query).definitions if isinstance(d, OperationDefinitionNode)]
        if len(ops) != 1:
            raise GqlError("The fake serves documents of exactly one operation")
        op = ops[0]
        fields = _fields(op.selection_set, variables, [0])
    except GraphQLError as err:
        return {"errors": [{"message": err.message}]}
    except GqlError as err:
        return {"errors": [{"message": err.message}]}
    kind = op.operation.value
    root: dict[str, Callable[[dict[str, Any]], Any]] = (
        _mutation_root(fake, installation_id) if kind == "mutation"
        else {"repository": lambda a: _repository(fake, a, installation_id)})
    data: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for f in fields:  # a mutation's fields run in turn, each on the state the previous one left
        resolver = root.get(f.name)
        if resolver is None:
            return {"errors": [{"message": f"Field '{f.name}' doesn't exist on type '{kind.capitalize()}'"}]}
        try:
            data[f.alias] = _shape(resolver(f.args), f.children)
        except GqlError as err:
            if err.kind is None:
                return {"errors": [{"message": err.message}]}
            data[f.alias] = None
            errors.append({"type": err.kind, "path": [f.alias], "message": err.message})
    return {"data": data, "errors": errors} if errors else {"data": data}
