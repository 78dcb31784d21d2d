"""A fake GitHub REST API (plus a small GraphQL subset) served over real HTTP on 127.0.0.1.

PyGithub (or any HTTP client) talks to it through `GITHUB_API_URL = fake.url`; nothing is patched.

    from tests.support.fakegithub import FakeGitHub
    with FakeGitHub() as gh:                       # starts a ThreadingHTTPServer on a free port
        gh.add_repo("acme/shop", {"README.md": "hi\\n"})
        pr = gh.add_pull("acme/shop", 7, {"app.py": ("old\\n", "new\\n")})
        ...  # run code against gh.url with AppCredentials(str(gh.app_id), gh.private_key_pem)
        assert gh.count("POST", r"/pulls/7/reviews$") == 1

Our client on it: `tests.support.fakegithub.clients.make_gateway(fake, installation_id=1, cache=, delivery_id=,
wait_scale=0.001, timeout=5)` and `fast_retry()` (a CountingRetry whose waits are scaled down).

Construction: `FakeGitHub(app_id=4242, app_slug="scale-review", prefix="", token_ttl=3600, fresh_key=False)`
(the App key pair is generated once per process unless `fresh_key=True`).
`prefix="/api/v3"` serves GHES-style paths (GraphQL then lives at `/api/graphql`).

Attributes: `url` (REST root), `app_id`, `client_id`, `private_key_pem` (PKCS#1, as GitHub hands out),
`public_key_pem`, `bot_login` (`<slug>[bot]`), `token_ttl`, `jwt_leeway`, `rate_limit`,
`graphql_text_limit` (bytes of Blob.text before `isTruncated`), `store` (raw state; hold `lock`).

Seeding:
- `add_repo(full_name, files={path: text|bytes}, default_branch="main", installation_id=1,
  symlinks={path: target}) -> sha` (re-seeding adds a commit on the default branch)
- `add_pull(full_name, number, files={path: (base|None, head|None)}, title=, body=, user=, user_type=,
  draft=, head_ref=, base_files=) -> Pull` (base and head commits, diff computed with difflib in git's
  format; `Pull.diff_too_large = True` makes the diff media type answer 406 too_large;
  `Pull.no_patch.add(path)` drops that file's `patch` from the files API; `Pull.head_repo` = "owner/name"
  makes it a fork PR, None a deleted fork; `Pull.state`, `.draft`, `.title`, `.body` are live)
- `add_pull_from_git(full_name, number, root, base, head, **add_pull_kwargs) -> Pull`: the change
  base..head of a local git repository (its base tree becomes the default branch)
- `push(full_name, number, {path: text|None}) -> new head sha` (a synchronize)
- `set_permission(full_name, login, "admin"|"write"|"read"|"none")` (unset logins get 404)
- `add_installation(id, account)`, `add_delivery(guid, event, action, status_code=)`,
  `add_manifest_code(code)`, `add_issue_comment(full_name, number, body, user=, user_type=) -> id`
- `expire_tokens()`: every issued installation token now gets 401.
- Review threads (each inline comment of a review opens one): `add_thread_reply(comment_id, body, user=)
  -> id`, `set_thread_resolved(comment_id, resolved, by=)` (a person resolves or re-opens it),
  `thread_state(comment_id) -> (resolved, [bodies])`; `graphql_refuse = {"resolveReviewThread": message}`
  refuses that mutation (FORBIDDEN; `viewerCanResolve` false unless `refusal_shown_on_threads = False`).
- Other Apps: `app_object(app_id=None, slug=None)` is GitHub's `integration` object (ours by default);
  `add_review(full_name, n, body, by_app=app | user=)`, `add_issue_comment(..., by_app=app)` and
  `add_check_run(full_name, sha, name, by_app=app, status=, conclusion=, output=)` seed work of another
  App as GitHub shows it: its bot user `<slug>[bot]` as author, `performed_via_github_app` on comments,
  `app` on check runs (reviews carry no App field). What our App's token creates names our App; each
  stored item keeps the creator's id in `_app`.

Faults (a queue; the first matching fault answers, `times` counts down):
- `fail(method, path_regex, status=502, headers=, body=, times=1, delay=0, apply=False)`; `method` may
  be "*"; `status=None` only delays the real answer; `apply=True` lets the request take effect and
  only replaces the answer (a write whose response was lost).
- `secondary_rate_limit(method, path_regex, retry_after=1, times=1)`: 403 + `retry-after` + GitHub's message.
- `slow(method, path_regex, seconds, times=1)`.
- `writes_per_minute = N`: more than N writes (POST/PATCH/PUT/DELETE, GraphQL aside) by one installation
  within 60 s get GitHub's secondary-limit 403 with `retry-after` (off by default).

Recorded calls: `calls` (list of `Call(method, path, query, headers, json, status)`; header names lower
case; `path` without the prefix), `calls_to(method=None, path=None)`, `count(method, path)`, `reset_calls()`.

State queries: `check_runs(full_name)` (each with its `annotations`), `reviews(full_name, n)`,
`review_comments(full_name, n)`, `issue_comments(full_name, n)`, `reactions(comment_id)`,
`pull_diff(full_name, n)`, `store.redeliveries` (guids).

GitHub's contract: every request whose operation is in `openapi_subset.json` (extracted from GitHub's
OpenAPI description by `build_openapi_subset.py`) is validated against its parameter and body schemas
first; a violation answers 422 naming the operation. GraphQL documents and their variables are checked
against `@octokit/graphql-schema` when installed (a violation answers 200 with `errors`, as GitHub does).
`fake.enforce_contract = False` switches both off.

Rules enforced, as GitHub does: a valid installation token (or the App JWT, RS256-verified against the
generated key, `iss` = app id or client id, lifetime <= 10 min) on every route but manifest conversion;
rate-limit headers on every answer; check runs: <= 50 annotations per request (appended per PATCH),
summary/text <= 65,535 chars, <= 3 actions with label/identifier <= 20 and description <= 40, valid
status/conclusion pairs; reviews: all-or-nothing 422 when a comment's `line` is not in the diff on its
side, `start_line` is not before `line` or in another hunk, `position` is used, or a body exceeds
65,536 chars; issue comment bodies <= 65,536; reactions 201 new / 200 existing; list endpoints paginate
with `Link` headers (`per_page` <= 100).

Routes: GET /app, GET /app/installations, GET /repos/{o}/{r}/installation,
POST /app/installations/{id}/access_tokens, GET /app/hook/deliveries (cursor),
POST /app/hook/deliveries/{id}/attempts, POST /app-manifests/{code}/conversions,
POST /graphql (see graphql.py: `repository { object(expression:) pullRequest(number:) { reviewThreads } }`,
a Tree's entries carry `object` (Blob or Tree);
mutations `resolveReviewThread`, `unresolveReviewThread`, `addPullRequestReviewThreadReply`; every request
is first checked against GitHub's GraphQL schema when `@octokit/graphql-schema` is installed),
GET /repos/{o}/{r}, GET .../contents/{path}?ref= (JSON base64, or raw with a `raw` Accept),
GET .../git/trees/{sha}?recursive=1, GET .../git/blobs/{sha},
GET .../pulls/{n} (JSON, or the diff with `Accept: application/vnd.github.diff`), GET .../pulls/{n}/files,
GET .../commits/{sha}/pulls, GET .../compare/{base}...{head} (JSON or diff),
POST/GET .../pulls/{n}/reviews, GET .../pulls/{n}/comments, POST/GET .../issues/{n}/comments,
GET/PATCH .../issues/comments/{id}, POST .../issues/comments/{id}/reactions,
GET .../collaborators/{login}/permission, POST .../check-runs, GET/PATCH .../check-runs/{id},
GET .../check-runs/{id}/annotations, GET .../commits/{ref}/check-runs?check_name=&app_id=.
"""

from .fake import FakeGitHub
from .server import SECONDARY_LIMIT_MESSAGE, Call, Fault
from .state import Pull

__all__ = ["FakeGitHub", "Call", "Fault", "Pull", "SECONDARY_LIMIT_MESSAGE"]
