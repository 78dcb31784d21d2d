"""GitHubGateway: one installation's view of the GitHub API, built on PyGithub's requester.

Every method returns plain values (see `values.py`) and raises only `GitHubError`. Every HTTP call
is counted (`calls`), carries the delivery id (`X-GitHub-Delivery`), is retried by `GithubRetry`
(5xx, secondary limits with `retry-after`), and a 401 drops the cached token and retries once.
"""

from __future__ import annotations

import posixpath
from datetime import datetime
from typing import Any
from urllib.parse import quote

from bot.core.repo import MAX_FILE_BYTES, RepoAccessError, check_path
from bot.core.repo_config import CONFIG_PATH, MAX_RULE_FILE_BYTES
from bot.github.identity import AppIdentity
from bot.github.reads import (
    GRAPHQL_BATCH,
    ORG_CONFIG_REPO,
    SYMLINK,
    SYMLINK_MODE,
    blob_result,
    blob_text,
    config_query,
    config_variables,
    diff_from_files,
    files_query,
    folder_modes,
    partial_note,
    rule_files,
)
from bot.github.retry import GitHubError
from bot.github.transport import DIFF_MEDIA, RAW_MEDIA, GitHubTransport, next_link, split_link
from bot.github.values import Comparison, ConfigTexts, DeliveryInfo, DiffResult, PullInfo
from bot.render.sanitize import clip

MAX_PR_FILES = 3000  # the files API stops there
MAX_COMMENT_BODY = 65_536
MAX_HALVINGS = 3  # a failing GraphQL batch of 100 files is retried down to batches of 12
FILES_CAPPED = f" GitHub lists at most {MAX_PR_FILES:,} files of a pull request; later files were not seen."


class GitHubGateway(GitHubTransport):
    """GitHub for one installation: see `GitHubTransport` for the constructor arguments."""

    def get_pull(self, repo: str, number: int) -> PullInfo:
        data = self.get(f"/repos/{repo}/pulls/{number}")
        head_repo = (data["head"].get("repo") or {}).get("full_name")
        return PullInfo(number=data["number"], head_sha=data["head"]["sha"], base_sha=data["base"]["sha"],
                        base_ref=data["base"]["ref"], head_ref=data["head"]["ref"], draft=bool(data.get("draft")),
                        state=data.get("state", "open"), title=data.get("title") or "", body=data.get("body") or "",
                        author=(data.get("user") or {}).get("login", ""),
                        author_type=(data.get("user") or {}).get("type", "User"), head_repo=head_repo,
                        base_repo=(data["base"].get("repo") or {}).get("full_name", repo))

    def get_diff(self, repo: str, number: int) -> DiffResult:
        """The PR's unified diff; when GitHub answers 406 too_large, rebuilt from the files API."""
        try:
            _, data = self.request("GET", f"/repos/{repo}/pulls/{number}", headers={"Accept": DIFF_MEDIA})
            return DiffResult(text=str(data.get("data", "")))
        except GitHubError as err:
            if err.status != 406:
                raise
        files = self.paginate(f"/repos/{repo}/pulls/{number}/files", max_pages=MAX_PR_FILES // 100)
        text, missing = diff_from_files(files)
        note = partial_note(missing) + (FILES_CAPPED if len(files) >= MAX_PR_FILES else "")
        return DiffResult(text=text, source="files", missing=missing, note=note)

    def read_files(self, repo: str, ref: str, paths: list[str], *,
                   max_bytes: int = MAX_FILE_BYTES) -> dict[str, bytes | str]:
        """Contents of `paths` at `ref`: bytes, or a message saying why not (refused path, missing,
        binary, too big, symlink). One GraphQL call per 100 files; text GraphQL truncates is read over REST."""
        out: dict[str, bytes | str] = {}
        wanted: dict[str, str] = {}  # as asked -> normalised
        for path in dict.fromkeys(paths):
            try:
                wanted[path] = check_path(path)
            except RepoAccessError as exc:
                out[path] = str(exc)
        norms = list(dict.fromkeys(wanted.values()))
        got: dict[str, bytes | str] = {}
        for start in range(0, len(norms), GRAPHQL_BATCH):
            got.update(self._read_halving(repo, ref, norms[start : start + GRAPHQL_BATCH], max_bytes))
        out.update({asked: got[norm] for asked, norm in wanted.items()})
        return out

    def read_link(self, repo: str, ref: str, path: str) -> str:
        """The target a symlink at `path` points to (its blob's text); "" when there is none."""
        owner, name = repo.split("/", 1)
        variables = {"owner": owner, "name": name, "e0": f"{ref}:{check_path(path)}"}
        found = self.graphql(files_query(1), variables).get("repository") or {}
        return blob_text(found.get("f0")) or ""

    def _read_halving(self, repo: str, ref: str, batch: list[str], max_bytes: int,
                      depth: int = 0) -> dict[str, bytes | str]:
        """A batch GitHub keeps failing (too big an answer, a timeout) is read again in halves."""
        try:
            return self._read_batch(repo, ref, batch, max_bytes)
        except GitHubError as err:
            if not err.retryable or len(batch) < 2 or depth >= MAX_HALVINGS:
                raise
        half = len(batch) // 2
        return {**self._read_halving(repo, ref, batch[:half], max_bytes, depth + 1),
                **self._read_halving(repo, ref, batch[half:], max_bytes, depth + 1)}

    def _read_batch(self, repo: str, ref: str, batch: list[str], max_bytes: int) -> dict[str, bytes | str]:
        """One GraphQL call: the blobs, plus their folders' entries to tell symlinks apart."""
        owner, name = repo.split("/", 1)
        folders = sorted({posixpath.dirname(p) for p in batch})
        variables: dict[str, Any] = {"owner": owner, "name": name}
        variables.update({f"e{i}": f"{ref}:{p}" for i, p in enumerate(batch)})
        variables.update({f"d{j}": f"{ref}:{d}" for j, d in enumerate(folders)})
        found = self.graphql(files_query(len(batch), len(folders)), variables).get("repository") or {}
        modes: dict[str, int] = {}
        for j, folder in enumerate(folders):
            modes.update(folder_modes(folder, found.get(f"d{j}")))
        out: dict[str, bytes | str] = {}
        for i, path in enumerate(batch):
            if modes.get(path) == SYMLINK_MODE:
                out[path] = SYMLINK.format(path=path)
                continue
            result = blob_result(path, ref, found.get(f"f{i}"), max_bytes)
            out[path] = result if result is not None else self._raw_file(repo, ref, path)
        return out

    def _raw_file(self, repo: str, ref: str, path: str) -> bytes:
        # every segment quoted: a file named `x?foo`, `a#b` or with spaces or non-ASCII is read, not `x`
        _, data = self.request("GET", f"/repos/{repo}/contents/{quote(path, safe='/')}", params={"ref": ref},
                               headers={"Accept": RAW_MEDIA})
        return str(data.get("data", "")).encode("utf-8")

    def get_configs(self, repo: str, ref: str, path: str = CONFIG_PATH) -> ConfigTexts:
        """`.github/scale-review.yml` (or `path`) at `ref` (use the BASE sha) and the org `.github` repo's, in one
        call, with both rules folders and the repo's `.gitattributes` at `ref`."""
        owner, name = repo.split("/", 1)
        data = self.graphql(config_query(), config_variables(owner, name, ref, check_path(path)))
        repo_data, org_data = data.get("repo") or {}, data.get("org") or {}
        repo_rules, repo_errors = rule_files(repo_data.get("r"), "", MAX_RULE_FILE_BYTES)
        org_rules, org_errors = rule_files(org_data.get("r"), f"{owner}/{ORG_CONFIG_REPO}:", MAX_RULE_FILE_BYTES)
        return ConfigTexts(repo=blob_text(repo_data.get("c")), org=blob_text(org_data.get("c")),
                           repo_rules=repo_rules, org_rules=org_rules, rule_errors=repo_errors + org_errors,
                           gitattributes=blob_text(repo_data.get("a")))

    def get_config(self, repo: str, ref: str) -> str | None:
        """The repo's own config text at `ref`, or None (prefer `get_configs`, same single call)."""
        return self.get_configs(repo, ref).repo

    def get_permission(self, repo: str, login: str) -> str:
        """"admin", "write", "read" or "none" (a 404 means none)."""
        try:
            data = self.get(f"/repos/{repo}/collaborators/{quote(login, safe='')}/permission")
        except GitHubError as err:
            if err.status == 404:
                return "none"
            raise
        return str(data.get("permission") or "none")

    def add_reaction(self, repo: str, comment_id: int, content: str) -> None:
        self.request("POST", f"/repos/{repo}/issues/comments/{comment_id}/reactions", body={"content": content})

    def post_issue_comment(self, repo: str, number: int, body: str) -> int:
        """Post a conversation comment (clipped to GitHub's limit); a retry first looks for it."""
        text = clip(body, MAX_COMMENT_BODY)
        path = f"/repos/{repo}/issues/{number}/comments"

        def posted() -> dict[str, Any] | None:
            me = self.identity()
            mine = [c for c in self.paginate(path, max_pages=10) if me.wrote(c)]
            return next((c for c in reversed(mine) if c.get("body") == text), None)

        return int(self.write_carefully("POST", path, {"body": text}, already_done=posted)["id"])

    def compare_commits(self, repo: str, base: str, head: str) -> Comparison:
        """base...head in one call: whether head descends from base, and the diff (rebuilt from the patches)."""
        data = self.get(f"/repos/{repo}/compare/{base}...{head}", per_page=1)
        files = list(data.get("files") or [])
        text, missing = diff_from_files(files)
        return Comparison(status=str(data.get("status") or "unknown"), diff=text, files=len(files), missing=missing)

    def get_pull_numbers_for_sha(self, repo: str, sha: str) -> list[int]:
        """Open PRs whose head is `sha` (check_suite events of fork PRs carry none)."""
        pulls = self.paginate(f"/repos/{repo}/commits/{sha}/pulls", max_pages=3)
        return sorted(p["number"] for p in pulls if p.get("state") == "open" and p["head"]["sha"] == sha)

    def list_failed_deliveries(self, since: float, max_pages: int = 20) -> list[DeliveryInfo]:
        """Failed webhook deliveries newer than `since` (epoch seconds), newest first (App JWT)."""
        out: list[DeliveryInfo] = []
        path: str | None = "/app/hook/deliveries"
        params: dict[str, Any] = {"per_page": 100}
        for _ in range(max_pages):
            if path is None:
                break
            headers, items = self.app_request("GET", path, **params)
            for d in items or []:
                if _epoch(d.get("delivered_at", "")) < since:
                    return out
                if int(d.get("status_code") or 0) >= 400 or int(d.get("status_code") or 0) == 0:
                    out.append(DeliveryInfo.model_validate(d))
            path, params = split_link(next_link(headers.get("link", ""), self.api_url))
        return out

    def redeliver(self, delivery_id: int) -> None:
        self.app_request("POST", f"/app/hook/deliveries/{delivery_id}/attempts")

    def app_info(self) -> dict[str, Any]:
        """The App as GitHub knows it (`id`, `slug`, `name`): proves the key and id match (App JWT)."""
        _, data = self.app_request("GET", "/app")
        return {k: data.get(k) for k in ("id", "slug", "name", "client_id")}

    def identity(self) -> AppIdentity:
        """This App as GitHub attributes its work (id, client id, bot login): one `GET /app` per process."""
        def fetch() -> AppIdentity:
            info = self.app_info()
            if not info.get("id") or not info.get("slug"):
                raise GitHubError(502, "GET /app did not say which App this is")
            return AppIdentity(str(info["id"]), str(info.get("client_id") or ""), str(info["slug"]))

        return self.identity_cache.get(fetch)

    def installation_for_repo(self, repo: str) -> int:
        """The installation id of this App on `repo` (App JWT); GitHubError 404 when not installed."""
        _, data = self.app_request("GET", f"/repos/{repo}/installation")
        return int(data["id"])

    def edit_issue_comment(self, repo: str, comment_id: int, body: str) -> None:
        """Replace a conversation comment's body (a sticky comment); safe to repeat."""
        self.write_carefully("PATCH", f"/repos/{repo}/issues/comments/{comment_id}",
                             {"body": clip(body, MAX_COMMENT_BODY)}, already_done=lambda: None)


def _epoch(iso: str) -> float:
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0
