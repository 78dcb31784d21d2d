"""Every GraphQL query and mutation the App can send, checked against GitHub's published schema
(`@octokit/graphql-schema`, `schema.graphql`) with graphql-core: fields, arguments, fragments, the declared
variable types, and the variables the App fills in.

The builders are listed in `DOCUMENTS`; a scan of `bot/` makes sure no `graphql(...)` call sends a document
built elsewhere, so a new query cannot skip this file. The fake GitHub checks every GraphQL request against the
same schema (tests/support/fakegithub/graphql.py), so every end-to-end test checks what it really sends.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.github import reads, threads
from tests.support import webhooks as wh
from tests.support.contract import GRAPHQL_FILE, ROOT, graphql_problems, graphql_schema, require_octokit
from tests.support.fakegithub.clients import make_gateway

SHA = "0123456789abcdef0123456789abcdef01234567"


def _files(count: int, dirs: int) -> tuple[str, dict[str, Any]]:
    variables: dict[str, Any] = {"owner": "acme", "name": "shop"}
    variables.update({f"e{i}": f"{SHA}:src/m{i}.py" for i in range(count)})
    variables.update({f"d{j}": f"{SHA}:src/d{j}" for j in range(dirs)})
    return reads.files_query(count, dirs), variables


def _resolve(count: int) -> tuple[str, dict[str, Any]]:
    return threads.resolve_mutation(count), {f"t{i}": f"PRRT_kwDOAbc{i}" for i in range(count)}


def _reply(count: int) -> tuple[str, dict[str, Any]]:
    variables: dict[str, Any] = {}
    for i in range(count):
        variables[f"t{i}"] = f"PRRT_kwDOAbc{i}"
        variables[f"b{i}"] = threads.RESOLVED_REPLY.format(sha=SHA[:12], id=f"SR-{i:010x}")
    return threads.reply_mutation(count), variables


# every document the product builds, with the variants its callers produce (bot/github/client.py reads
# 1..100 files per batch with up to one folder per file; threads resolve up to MAX_RESOLVE per push)
DOCUMENTS: dict[str, Callable[[], tuple[str, dict[str, Any]]]] = {
    "files_query(1) (read_link)": lambda: _files(1, 0),
    "files_query(2, 1)": lambda: _files(2, 1),
    "files_query(37, 5)": lambda: _files(37, 5),
    "files_query(100, 0)": lambda: _files(reads.GRAPHQL_BATCH, 0),
    "files_query(100, 100)": lambda: _files(reads.GRAPHQL_BATCH, reads.GRAPHQL_BATCH),
    "config_query": lambda: (reads.config_query(), reads.config_variables("acme", "shop", SHA)),
    "threads_query (first page)": lambda: (threads.threads_query(),
                                           {"owner": "acme", "name": "shop", "number": 7, "after": None}),
    "threads_query (next page)": lambda: (threads.threads_query(),
                                          {"owner": "acme", "name": "shop", "number": 7, "after": "Y3Vyc29yOjE="}),
    "resolve_mutation(1)": lambda: _resolve(1),
    "resolve_mutation(MAX_RESOLVE)": lambda: _resolve(threads.MAX_RESOLVE),
    "reply_mutation(1)": lambda: _reply(1),
    "reply_mutation(MAX_RESOLVE)": lambda: _reply(threads.MAX_RESOLVE),
}
# the builders above, by name: what a `.graphql(...)` / `.graphql_answer(...)` call in bot/ may send
BUILDERS = {"files_query", "config_query", "threads_query", "resolve_mutation", "reply_mutation"}
PASS_THROUGH = ("bot/github/transport.py", "query")  # `graphql()` hands its argument to `graphql_answer()`


@pytest.fixture(scope="module")
def schema() -> Any:
    require_octokit(GRAPHQL_FILE)
    return graphql_schema()


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_document_the_app_sends_is_valid_against_githubs_schema(schema: Any, name: str) -> None:
    query, variables = DOCUMENTS[name]()
    assert graphql_problems(query, variables, schema) == [], (name, query[:300])


def test_the_checker_refuses_what_github_would_refuse(schema: Any) -> None:
    """A check that accepts everything proves nothing: each of these is wrong in one way GitHub would refuse."""
    good_threads = threads.threads_query()
    good_vars = {"owner": "acme", "name": "shop", "number": 7, "after": None}
    bad: list[tuple[str, dict[str, Any], str]] = [
        ("query { repository(owner: \"a\", name: \"b\") { nope } }", {}, "Cannot query field 'nope'"),
        ("query { repository(owner: \"a\") { name } }", {}, "argument 'name' of type 'String!' is required"),
        (good_threads.replace("$number: Int!", "$number: String!"), good_vars, "String!"),
        (good_threads, {**good_vars, "number": "7"}, "Int cannot represent"),
        (good_threads, {"owner": "acme", "name": "shop"}, "'$number' of required type 'Int!' was not provided"),
        (good_threads.replace("isResolved", "resolved"), good_vars, "Cannot query field 'resolved'"),
        (threads.resolve_mutation(1).replace("threadId", "id"), {"t0": "x"}, "ResolveReviewThreadInput"),
        (threads.reply_mutation(1), {"t0": "x"}, "'$b0' of required type 'String!' was not provided"),
        ("mutation { resolveReviewThread(input: {threadId: \"x\"}) { isResolved } }", {}, "isResolved"),
        (reads.files_query(1).replace("... on Blob", "... on Tree"), {"owner": "a", "name": "b", "e0": "x"},
         "Cannot query field 'text' on type 'Tree'"),
        ("query { repository(owner: \"a\", name: \"b\") { name }", {}, "Syntax Error"),
    ]
    for query, variables, expected in bad:
        found = graphql_problems(query, variables, schema)
        assert found and any(expected in m for m in found), (expected, found)


def _sent_documents() -> list[tuple[str, str]]:
    """(file:line, how the document is built) for every `.graphql(...)` / `.graphql_answer(...)` call in bot/."""
    out = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("graphql", "graphql_answer") and node.args):
                first = node.args[0]
                built = (first.func.id if isinstance(first, ast.Call) and isinstance(first.func, ast.Name)
                         else ast.unparse(first))
                where = str(Path(path).relative_to(ROOT))
                if (where, built) != PASS_THROUGH:
                    out.append((f"{where}:{node.lineno}", built))
    return out


def test_no_graphql_document_is_sent_that_this_file_does_not_check() -> None:
    sent = _sent_documents()
    assert len(sent) >= 6  # read_link, _read_batch, get_configs, list_threads, resolve, reply
    assert {built for _, built in sent} <= BUILDERS, [s for s in sent if s[1] not in BUILDERS]
    assert BUILDERS <= {built for _, built in sent}  # and nothing listed here is dead


def test_the_fake_github_refuses_a_query_githubs_schema_refuses(fake_github: Any, schema: Any) -> None:
    gw = make_gateway(fake_github, installation_id=wh.INSTALLATION)
    data, errors = gw.graphql_answer("query($o: String!) { repository(owner: $o, name: \"shop\") { nope } }",
                                     {"o": "octo"})
    assert data == {} and any("Cannot query field 'nope' on type 'Repository'" in e["message"] for e in errors)
    # a valid document is answered (and a wrong variable type is not)
    query, variables = _files(1, 0)
    ok = gw.graphql(query, {**variables, "owner": "octo", "e0": "HEAD:README.md"})
    assert ok["repository"]["f0"]["text"] == "hi\n"
    _, errors = gw.graphql_answer(query, {**variables, "owner": "octo", "e0": 5})
    assert errors and "String cannot represent" in errors[0]["message"]


def test_a_review_and_a_push_that_fixes_a_finding_send_only_graphql_github_accepts(
        fake_github: Any, sqlite_backend: Any, schema: Any) -> None:
    """Through the receiver, the workflows and the fake: the file and config reads, the threads query, the
    resolve and the reply mutations, each re-checked here as GitHub received it."""
    from tests.conftest import ORDERS_HEAD
    from tests.support.service import app_settings, deliver, receiver, running_app, wait_result

    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    before = gh.store.repos[wh.REPO].pulls[7].head_sha
    with running_app(settings) as enq, receiver(settings, enq) as client:
        deliver(client, "pull_request", wh.pull_request("opened", head=before), delivery="gq-open")
        wait_result("gq-open")
        fixed = ORDERS_HEAD.replace("requests.get(url).json()", "requests.get(url, timeout=5).json()")
        after = gh.push(wh.REPO, 7, {"app/orders.py": fixed})
        deliver(client, "pull_request", wh.pull_request("synchronize", head=after, before=before), delivery="gq-fix")
        assert wait_result("gq-fix")["threads"]["resolved"]
    sent = [c.json for c in gh.calls_to("POST", r"/graphql$")]
    assert [(d["query"][:60], p) for d in sent if (p := graphql_problems(d["query"], d["variables"], schema))] == []
    seen = " ".join(d["query"] for d in sent)
    for field in ("object(expression:", "reviewThreads(", "resolveReviewThread(", "addPullRequestReviewThreadReply("):
        assert field in seen, field
    assert all(c.status == 200 and "errors" not in (c.json or {}) for c in gh.calls_to("POST", r"/graphql$"))
