"""FakeGitHub: the object tests hold. Seeding, fault scripting, recorded calls and state queries."""

from __future__ import annotations

import functools
import json
import re
import secrets
import threading
import time
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import routes_app, routes_checks, routes_pulls, routes_repo, seed  # noqa: F401 - registers routes
from .server import (
    SECONDARY_LIMIT_MESSAGE,
    Call,
    Fault,
    dispatch,
    encode,
    error_body,
    etag_of,
    parse_request,
    rate_headers,
    start_server,
)
from .state import HttpError, Pull, Repo, Store, Token

Files = dict[str, str | bytes | None]


def _load_graphql_schema() -> None:
    from tests.support.contract import graphql_schema

    graphql_schema()


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _b(v: str | bytes) -> bytes:
    return v.encode() if isinstance(v, str) else v


@functools.cache
def _shared_rsa_pair() -> tuple[str, str]:
    """One key pair per test process: generating 2048-bit keys costs ~0.1 s per fake."""
    return _rsa_pair()


def _rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


class FakeGitHub:
    """A stateful GitHub REST (+ tiny GraphQL) server on 127.0.0.1; see the package docstring."""

    def __init__(self, *, app_id: int = 4242, app_slug: str = "scale-review", prefix: str = "",
                 token_ttl: float = 3600.0, fresh_key: bool = False) -> None:
        self.app_id = app_id
        self.app_slug = app_slug
        self.client_id = f"Iv23fake{app_id}"
        self.private_key_pem, self.public_key_pem = _rsa_pair() if fresh_key else _shared_rsa_pair()
        self.prefix = prefix.rstrip("/")
        self.token_ttl = token_ttl
        self.jwt_leeway = 0
        self.rate_limit = 5000
        self.rate_reset = time.time() + 3600
        self.rate_used: dict[str, int] = {}
        self.graphql_text_limit = 512_000
        self.compare_no_patch: set[str] = set()  # files whose `patch` the compare API omits
        self.writes_per_minute: int | None = None  # e.g. 80: GitHub's content-creation secondary limit
        self.write_times: dict[int, list[float]] = {}
        self.enforce_contract = True  # check requests against GitHub's OpenAPI description and GraphQL schema
        self.graphql_refuse: dict[str, str] = {}  # mutation name -> message (FORBIDDEN), e.g. no permission
        self.refusal_shown_on_threads = True  # a refused resolveReviewThread makes viewerCanResolve false
        self.lock = threading.RLock()
        self.store = Store()
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.store.installations[1] = {"id": 1, "account": {"login": "acme", "type": "Organization"}}
        _load_graphql_schema()  # once per process (~2 s) here, not inside a request a client may time out on
        self._server, self._thread = start_server(self)
        host, port = self._server.server_address[:2]
        self.origin = f"http://{host}:{port}"
        self.url = self.origin + self.prefix

    # ---- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeGitHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def bot_login(self) -> str:
        return f"{self.app_slug}[bot]"

    # ---- request handling ------------------------------------------------------------------------
    def _handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes]:
        req = parse_request(method, raw_path, headers, body, self.prefix)
        call = Call(req.method, req.path, req.query, req.headers, req.json)
        with self.lock:
            self.calls.append(call)
            fault = self._take_fault(req.method, req.path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.apply:
            try:
                dispatch(self, req)
            except HttpError:
                pass
        if fault is not None and fault.status is not None:
            call.status = fault.status
            payload = fault.body if fault.body is not None else error_body(fault.status, "Injected fault")
            raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            return fault.status, {**rate_headers(self, req), "Content-Type": "application/json", **fault.headers}, raw
        try:
            resp = dispatch(self, req)
        except HttpError as err:
            call.status = err.status
            hdrs = {**rate_headers(self, req), "Content-Type": "application/json; charset=utf-8", **err.headers}
            return err.status, hdrs, json.dumps(error_body(err.status, err.message, err.errors)).encode()
        status, hdrs, payload = encode(resp)
        if req.method == "GET" and status == 200:
            hdrs["ETag"] = etag_of(payload)
            if req.headers.get("if-none-match") == hdrs["ETag"]:
                call.status = 304
                return 304, {**rate_headers(self, req, consume=False), "ETag": hdrs["ETag"]}, b""
        call.status = status
        return status, {**rate_headers(self, req), **hdrs}, payload

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for i, f in enumerate(self.faults):
            if f.matches(method, path):
                f.times -= 1
                if f.times <= 0:
                    del self.faults[i]
                return f
        return None

    # ---- fault injection -------------------------------------------------------------------------
    def fail(self, method: str, path: str, status: int | None = 502, *, headers: dict[str, str] | None = None,
             body: Any = None, times: int = 1, delay: float = 0.0, apply: bool = False) -> Fault:
        """Queue a scripted answer for the next `times` requests whose path matches regex `path`.

        `method` may be "*". `status=None` with `delay` only slows the real answer down (timeouts).
        `apply=True`: the request takes effect, only the answer is lost (a 502 after the write).
        """
        fault = Fault(method, path, status, dict(headers or {}), body, times, delay, apply)
        with self.lock:
            self.faults.append(fault)
        return fault

    def secondary_rate_limit(self, method: str, path: str, *, retry_after: int = 1, times: int = 1) -> Fault:
        """403 with `retry-after` and GitHub's secondary-rate-limit message."""
        return self.fail(method, path, 403, headers={"retry-after": str(retry_after)},
                         body=error_body(403, SECONDARY_LIMIT_MESSAGE), times=times)

    def slow(self, method: str, path: str, seconds: float, times: int = 1) -> Fault:
        return self.fail(method, path, None, delay=seconds, times=times)

    # ---- recorded calls --------------------------------------------------------------------------
    def calls_to(self, method: str | None = None, path: str | None = None) -> list[Call]:
        """Recorded calls, filtered by method and a regex searched in the path."""
        with self.lock:
            return [c for c in self.calls
                    if (method is None or c.method == method) and (path is None or re.search(path, c.path))]

    def count(self, method: str | None = None, path: str | None = None) -> int:
        return len(self.calls_to(method, path))

    def reset_calls(self) -> None:
        with self.lock:
            self.calls.clear()

    # ---- seeding ---------------------------------------------------------------------------------
    def add_installation(self, installation_id: int, account: str = "acme") -> None:
        with self.lock:
            self.store.installations[installation_id] = {"id": installation_id,
                                                         "account": {"login": account, "type": "Organization"}}

    def add_repo(self, full_name: str, files: Files | None = None, *, default_branch: str = "main",
                 installation_id: int = 1, symlinks: dict[str, str] | None = None) -> str:
        """Create (or re-seed) a repo whose default branch holds `files` (and `symlinks`: path ->
        target); returns the commit sha."""
        owner, name = full_name.split("/")
        tree = {p: _b(v) for p, v in (files or {}).items() if v is not None}
        tree.update({p: t.encode() for p, t in (symlinks or {}).items()})
        with self.lock:
            repo = self.store.repos.setdefault(full_name.lower(), Repo(owner, name, default_branch))
            repo.installation_id = installation_id
            parent = repo.branches.get(default_branch)
            sha = self.store.add_commit(parent, tree, frozenset(symlinks or ()))
            repo.branches[default_branch] = sha
        return sha

    def add_pull(self, full_name: str, number: int, files: dict[str, tuple[str | bytes | None, str | bytes | None]],
                 *, title: str = "A change", body: str = "", user: str = "octocat", user_type: str = "User",
                 draft: bool = False, head_ref: str = "feature", base_files: Files | None = None) -> Pull:
        """Seed PR `number`: `files` maps path -> (base text or None, head text or None).

        The base commit is the repo's default branch plus `base_files` and the base sides; the head
        commit applies the head sides. Creates the repo if needed.
        """
        if full_name.lower() not in self.store.repos:
            self.add_repo(full_name)
        with self.lock:
            repo = self.store.repos[full_name.lower()]
            base_tree = dict(self.store.commits[repo.branches[repo.default_branch]].tree)
            base_tree.update({p: _b(v) for p, v in (base_files or {}).items() if v is not None})
            for path, (old, _new) in files.items():
                if old is None:
                    base_tree.pop(path, None)
                else:
                    base_tree[path] = _b(old)
            base_sha = self.store.add_commit(repo.branches[repo.default_branch], base_tree)
            repo.branches[repo.default_branch] = base_sha
            head_tree = dict(base_tree)
            self._apply(head_tree, {p: new for p, (_old, new) in files.items()})
            head_sha = self.store.add_commit(base_sha, head_tree)
            repo.branches[head_ref] = head_sha
            pr = Pull(number, head_sha, base_sha, head_ref, repo.default_branch, title, body, user, user_type,
                      draft, heads=[head_sha])
            repo.pulls[number] = pr
        return pr

    def add_pull_from_git(self, full_name: str, number: int, root: str, base: str, head: str,
                          **kw: Any) -> Pull:
        """Seed PR `number` with a local repository's change base..head (revisions of the repo at
        `root`): the base tree becomes the default branch; other arguments as for `add_pull`."""
        self.add_repo(full_name, dict(seed.tree_files(root, base)))
        files = {p: (old, new) for p, (old, new) in seed.changed_files(root, base, head).items()}
        return self.add_pull(full_name, number, files, **kw)  # type: ignore[arg-type]

    @staticmethod
    def _apply(tree: dict[str, bytes], changes: Files) -> None:
        for path, new in changes.items():
            if new is None:
                tree.pop(path, None)
            else:
                tree[path] = _b(new)

    def push(self, full_name: str, number: int, files: Files, *, onto: str | None = None) -> str:
        """A new head commit on the PR (synchronize): path -> new text (None deletes). Returns the sha.
        `onto`: the new commit's parent instead of the head (a force push that rewrites history)."""
        with self.lock:
            repo = self.store.repos[full_name.lower()]
            pr = repo.pulls[number]
            tree = dict(self.store.commits[pr.head_sha].tree)
            self._apply(tree, files)
            sha = self.store.add_commit(onto or pr.head_sha, tree)
            pr.head_sha = sha
            pr.heads.append(sha)
            repo.branches[pr.head_ref] = sha
        return sha

    def set_permission(self, full_name: str, login: str, permission: str) -> None:
        with self.lock:
            self.store.repos[full_name.lower()].permissions[login] = permission

    def add_delivery(self, guid: str, event: str, action: str | None = None, *, status_code: int = 200,
                     installation_id: int = 1, delivered_at: str = "2026-01-01T00:00:00Z") -> int:
        with self.lock:
            did = self.store.next_id()
            self.store.deliveries.append({
                "id": did, "guid": guid, "delivered_at": delivered_at, "redelivery": False, "duration": 0.1,
                "status": "OK" if status_code < 400 else "failed", "status_code": status_code, "event": event,
                "action": action, "installation_id": installation_id, "repository_id": None,
            })
        return did

    def add_manifest_code(self, code: str) -> None:
        with self.lock:
            self.store.manifest_codes.add(code)

    # ---- tokens ----------------------------------------------------------------------------------
    def issue_token(self, installation_id: int) -> Token:
        tok = Token("ghs_" + secrets.token_urlsafe(27), installation_id, time.time() + self.token_ttl)
        self.store.tokens[tok.token] = tok
        return tok

    def expire_tokens(self) -> None:
        """Every token issued so far now answers 401 (the client still believes it valid)."""
        with self.lock:
            for tok in self.store.tokens.values():
                tok.expires_at = 0

    # ---- state queries ---------------------------------------------------------------------------
    def check_runs(self, full_name: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r, annotations=list(self.store.annotations.get(r["id"], [])))
                    for r in self.store.check_runs.values() if full_name in (None, r["_repo"])]

    def reviews(self, full_name: str, number: int) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.store.reviews.values() if r["_key"] == (full_name.lower(), number)]

    def review_comments(self, full_name: str, number: int) -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in self.store.review_comments.values() if c["_key"] == (full_name.lower(), number)]

    def add_review_reply(self, full_name: str, number: int, parent_id: int, body: str, user: str = "octocat",
                         user_type: str = "User") -> int:
        """Seed a reply in an inline comment's thread (a person answering the bot); returns its id."""
        with self.lock:
            return routes_pulls.new_review_reply(self, (full_name.lower(), number), parent_id, body, user, user_type)

    def add_review_comment(self, full_name: str, number: int, path: str, line: int, body: str,
                           user: str = "octocat") -> int:
        """Seed a person's inline comment starting a thread on `path:line` of the PR's head."""
        with self.lock:
            pr = self.store.pull(*full_name.split("/"), number)
            cid = self.store.next_id()
            self.store.review_comments[cid] = {
                "id": cid, "pull_request_review_id": None, "path": path, "line": line, "side": "RIGHT",
                "start_line": None, "start_side": None, "body": body, "commit_id": pr.head_sha,
                "original_commit_id": pr.head_sha, "user": routes_repo._user(user), "in_reply_to_id": None,
                "_key": (full_name.lower(), number),
            }
            return cid

    def issue_comments(self, full_name: str, number: int) -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in self.store.issue_comments.values() if c["_key"] == (full_name.lower(), number)]

    def reactions(self, comment_id: int) -> list[str]:
        with self.lock:
            return [r["content"] for r in self.store.reactions.get(comment_id, [])]

    def add_issue_comment(self, full_name: str, number: int, body: str, user: str = "octocat",
                          user_type: str = "User", *, by_app: dict[str, Any] | None = None) -> int:
        """Seed a conversation comment (e.g. a `/scale-review` command); returns its id. `by_app` (an
        `app_object`): written by that App, as GitHub shows it (its bot user, `performed_via_github_app`)."""
        if by_app is not None:
            user, user_type = f"{by_app['slug']}[bot]", "Bot"
        with self.lock:
            return routes_repo.new_issue_comment(self, full_name.lower(), number, body, user, user_type, by_app)

    def new_review_reply(self, root: dict[str, Any], body: str, login: str, user_type: str = "User",
                         app_id: int | None = None) -> dict[str, Any]:
        """A reply in the thread `root` opens (call with the lock held)."""
        cid = self.store.next_id()
        reply = {**{k: root[k] for k in ("path", "line", "side", "start_line", "start_side", "commit_id",
                                         "original_commit_id", "_key")},
                 "id": cid, "pull_request_review_id": None, "body": body, "in_reply_to_id": root["id"],
                 "user": routes_repo._user(login, user_type), "created_at": _now_iso(), "_app": app_id}
        self.store.review_comments[cid] = reply
        return reply

    def add_thread_reply(self, comment_id: int, body: str, user: str = "octocat") -> int:
        """Seed a person's reply in the review thread that comment `comment_id` opens; returns its id."""
        with self.lock:
            return int(self.new_review_reply(self.store.review_comments[comment_id], body, user)["id"])

    def set_thread_resolved(self, comment_id: int, resolved: bool, by: str = "octocat") -> None:
        """A person resolves (or re-opens) the review thread that comment `comment_id` opens."""
        with self.lock:
            root = self.store.review_comments[comment_id]
            root["_resolved"], root["_resolved_by"] = resolved, by if resolved else None

    def thread_state(self, comment_id: int) -> tuple[bool, list[str]]:
        """(resolved, the bodies of its comments in order) of the thread comment `comment_id` opens."""
        from .graphql import thread_comments

        with self.lock:
            root = self.store.review_comments[comment_id]
            return bool(root.get("_resolved")), [c["body"] for c in thread_comments(self, comment_id)]

    # ---- other Apps ------------------------------------------------------------------------------
    def app_object(self, app_id: int | None = None, slug: str | None = None) -> dict[str, Any]:
        """GitHub's `integration` object (a check run's `app`, a comment's `performed_via_github_app`)
        for our App, or for another one when `app_id`/`slug` are given."""
        app_id = self.app_id if app_id is None else app_id
        slug = slug or (self.app_slug if app_id == self.app_id else f"app-{app_id}")
        return {"id": app_id, "slug": slug, "node_id": f"A_fake{app_id}", "client_id": f"Iv23fake{app_id}",
                "owner": {"login": "acme", "id": 1, "type": "Organization"}, "name": slug,
                "description": "", "external_url": f"https://example.invalid/{slug}",
                "html_url": f"https://github.com/apps/{slug}", "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z", "permissions": {}, "events": []}

    def add_review(self, full_name: str, number: int, body: str, *, by_app: dict[str, Any] | None = None,
                   user: str = "octocat", state: str = "COMMENTED") -> int:
        """Seed a submitted review by a person or by another App (`by_app`: its bot user writes it;
        GitHub's review objects carry no App field, only the author)."""
        login, user_type = (f"{by_app['slug']}[bot]", "Bot") if by_app is not None else (user, "User")
        with self.lock:
            pr = self.store.pull(*full_name.split("/"), number)
            rid = self.store.next_id()
            self.store.reviews[rid] = {
                "id": rid, "user": routes_repo._user(login, user_type), "body": body, "commit_id": pr.head_sha,
                "state": state, "submitted_at": "2026-01-01T00:00:00Z", "_key": (full_name.lower(), number),
                "_app": (by_app or {}).get("id"),
            }
        return rid

    def add_check_run(self, full_name: str, head_sha: str, name: str, *, by_app: dict[str, Any],
                      status: str = "completed", conclusion: str | None = "success",
                      output: dict[str, Any] | None = None, external_id: str = "") -> int:
        """Seed a check run another App (or ours, `app_object()`) created on `head_sha`."""
        with self.lock:
            repo = self.store.repo(*full_name.split("/"))
            rid = self.store.next_id()
            out = {"title": None, "summary": None, "text": None, "annotations_count": 0, **(output or {})}
            self.store.check_runs[rid] = {
                "id": rid, "name": name, "head_sha": head_sha, "status": status,
                "conclusion": conclusion if status == "completed" else None, "external_id": external_id,
                "app": by_app, "output": out, "actions": [], "_repo": repo.full_name,
            }
        return rid

    def pull_diff(self, full_name: str, number: int) -> str:
        with self.lock:
            owner, name = full_name.split("/")
            return self.store.pull_diff(self.store.pull(owner, name, number))
