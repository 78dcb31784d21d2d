"""The check run `Scalability review`: started at once, kept informative, always completed.

Annotations go out in batches of 50 (GitHub's limit per request; each PATCH appends), the final
batch carries the conclusion and the buttons. Before each retry, and before starting, the run is
read back so a batch is never appended twice.
"""

from __future__ import annotations

from typing import Any

from bot.core.model import Finding, Review, Severity
from bot.github.client import GitHubGateway
from bot.render.sanitize import clip, one_line, strip_control

CHECK_NAME = "Scalability review"
MAX_OUTPUT_CHARS = 65_535
ANNOTATIONS_PER_REQUEST = 50
MAX_ANNOTATION_TITLE = 255
MAX_ANNOTATION_MESSAGE = 60_000
MAX_ANNOTATIONS = 1_000  # a budget: the summary lists the rest
IN_PROGRESS_TITLE = "Review in progress"
SUPERSEDED_TITLE = "Superseded"
FAILED_TITLE = "Review could not finish"
SUPERSEDED_SUMMARY = "Superseded by {sha}: a newer commit of this pull request is being reviewed instead."
ANNOTATION_MESSAGE = "{risk}\n\nRollback: {rollback}\nMonitor: {monitoring}"
ACCEPTED_SUFFIX = " (risk accepted)"
ACTION_RERUN = {"label": "Re-run", "description": "Review this commit again", "identifier": "rerun"}
ACTION_ACCEPT = {"label": "Accept risk", "description": "Accept these findings (write access)",
                 "identifier": "accept"}
LEVELS = {
    Severity.critical: "failure",
    Severity.high: "failure",
    Severity.medium: "warning",
    Severity.low: "notice",
    Severity.info: "notice",
}


def _runs_path(repo: str) -> str:
    return f"/repos/{repo}/check-runs"


def _ours(gw: GitHubGateway, run: dict[str, Any]) -> bool:
    """Our run: named `Scalability review` AND created by our App (`app.id`, or the client id when that
    is what GITHUB_APP_ID holds; in a workflow, GitHub Actions); another App's run of the same name never counts."""
    app = run.get("app") or {}
    if not gw.creds.app_id:  # a workflow token: no App id of our own (bot.github.identity.WorkflowIdentity)
        return run.get("name") == CHECK_NAME and gw.identity().is_app(app)
    return run.get("name") == CHECK_NAME and gw.creds.app_id in (str(app.get("id")), app.get("client_id"))


def our_check_runs(gw: GitHubGateway, repo: str, head_sha: str) -> list[dict[str, Any]]:
    """Our `Scalability review` runs on `head_sha`, newest first (one call)."""
    params = {"check_name": CHECK_NAME, **({"app_id": gw.creds.app_id} if gw.creds.app_id.isdigit() else {})}
    runs = gw.paginate(f"/repos/{repo}/commits/{head_sha}/check-runs", params, key="check_runs", max_pages=1)
    return sorted((r for r in runs if _ours(gw, r)), key=lambda r: -int(r["id"]))


def find_check_run(gw: GitHubGateway, repo: str, head_sha: str) -> dict[str, Any] | None:
    """Our newest `Scalability review` run on `head_sha`, or None (one call)."""
    runs = our_check_runs(gw, repo, head_sha)
    return runs[0] if runs else None


def review_stands(run: dict[str, Any]) -> bool:
    """Whether a run of ours already answers for its commit: in progress, or completed with a result
    (not superseded by a newer head, not cut short by an error). An automatic event for a commit whose
    run stands needs no second review."""
    if run.get("status") != "completed":
        return True
    return (run.get("output") or {}).get("title") not in (SUPERSEDED_TITLE, FAILED_TITLE)


def start_check_run(gw: GitHubGateway, repo: str, head_sha: str, *, external_id: str, summary: str,
                    details_url: str | None = None) -> int:
    """Our run for `head_sha`, `in_progress` with `summary`: reuses one not yet completed, else creates one."""
    output = {"title": IN_PROGRESS_TITLE, "summary": clip(summary or IN_PROGRESS_TITLE, MAX_OUTPUT_CHARS)}
    body: dict[str, Any] = {"status": "in_progress", "external_id": external_id, "output": output}
    if details_url:
        body["details_url"] = details_url
    existing = find_check_run(gw, repo, head_sha)
    if existing is not None and existing.get("status") != "completed":
        gw.write_carefully("PATCH", f"{_runs_path(repo)}/{existing['id']}", body, already_done=lambda: None)
        return int(existing["id"])

    def created() -> dict[str, Any] | None:
        run = find_check_run(gw, repo, head_sha)
        return run if run is not None and run.get("external_id") == external_id else None

    run = gw.write_carefully("POST", _runs_path(repo), {"name": CHECK_NAME, "head_sha": head_sha, **body},
                             already_done=created)
    return int(run["id"])


def update_check_progress(gw: GitHubGateway, repo: str, check_run_id: int, summary: str) -> None:
    """Replace the in-progress summary (what is being done now)."""
    output = {"title": IN_PROGRESS_TITLE, "summary": clip(summary or IN_PROGRESS_TITLE, MAX_OUTPUT_CHARS)}
    gw.write_carefully("PATCH", f"{_runs_path(repo)}/{check_run_id}", {"status": "in_progress", "output": output},
                       already_done=lambda: None)


def annotation(f: Finding, accepted: bool = False) -> dict[str, Any]:
    """One check-run annotation (plain text; lines on the head side)."""
    title = one_line(f.title, MAX_ANNOTATION_TITLE - len(ACCEPTED_SUFFIX) - 10) + (ACCEPTED_SUFFIX if accepted else "")
    message = ANNOTATION_MESSAGE.format(risk=f.risk, rollback=f.rollback, monitoring=f.monitoring)
    out: dict[str, Any] = {
        "path": f.path, "start_line": f.start_line, "end_line": max(f.end_line, f.start_line),
        "annotation_level": "notice" if accepted else LEVELS[f.severity],
        "title": f"[{f.severity.value}] {title}"[:MAX_ANNOTATION_TITLE],
        "message": clip(strip_control(message), MAX_ANNOTATION_MESSAGE),
    }
    if f.suggestion:
        out["raw_details"] = clip(strip_control(f.suggestion), MAX_ANNOTATION_MESSAGE)
    return out


def _batches(items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    chunks = [items[i : i + ANNOTATIONS_PER_REQUEST] for i in range(0, len(items), ANNOTATIONS_PER_REQUEST)]
    return chunks or [[]]


def _get_run(gw: GitHubGateway, repo: str, check_run_id: int) -> dict[str, Any]:
    return dict(gw.get(f"{_runs_path(repo)}/{check_run_id}"))


def complete_check_run(gw: GitHubGateway, repo: str, check_run_id: int, review: Review, *, summary_md: str,
                       title: str, text: str | None = None) -> None:
    """Conclusion, title, summary, every annotation (50 per PATCH) and the buttons.

    Reads the run once first: a completed run is left alone, and annotations already appended by
    an interrupted earlier attempt are not sent again.
    """
    run = _get_run(gw, repo, check_run_id)
    if run.get("status") == "completed":
        return
    accepted = {a.finding_id for a in review.accepted}
    items = [annotation(f, f.id in accepted) for f in review.findings[:MAX_ANNOTATIONS]]
    already = int((run.get("output") or {}).get("annotations_count") or 0)
    batches = _batches(items[already:]) if already < len(items) else [[]]
    output = {"title": clip(title, 1000), "summary": clip(summary_md, MAX_OUTPUT_CHARS)}
    if text:
        output["text"] = clip(text, MAX_OUTPUT_CHARS)
    actions = [ACTION_RERUN] + ([ACTION_ACCEPT] if any(f.id not in accepted for f in review.findings) else [])
    path = f"{_runs_path(repo)}/{check_run_id}"
    count = already
    for i, batch in enumerate(batches):
        body: dict[str, Any] = {"output": {**output, "annotations": batch}}
        if i == len(batches) - 1:
            body.update(status="completed", conclusion=review.conclusion.value, actions=actions)
        target = count + len(batch)

        def landed(target: int = target, final: bool = i == len(batches) - 1) -> dict[str, Any] | None:
            now = _get_run(gw, repo, check_run_id)
            count_now = int((now.get("output") or {}).get("annotations_count") or 0)
            return now if count_now >= target and (not final or now.get("status") == "completed") else None

        gw.write_carefully("PATCH", path, body, already_done=landed)
        count = target


def conclude_check_run(gw: GitHubGateway, repo: str, check_run_id: int, conclusion: str, title: str,
                       summary: str) -> None:
    """Complete the run with a conclusion and a short output (errors, skips); safe to repeat."""
    body = {"status": "completed", "conclusion": conclusion,
            "output": {"title": clip(title, 1000), "summary": clip(summary or title, MAX_OUTPUT_CHARS)},
            "actions": [ACTION_RERUN]}
    gw.write_carefully("PATCH", f"{_runs_path(repo)}/{check_run_id}", body, already_done=lambda: None)


def conclude_superseded(gw: GitHubGateway, repo: str, check_run_id: int, newer_sha: str) -> None:
    """`neutral`, "superseded by <sha>": an older review stops before publishing."""
    conclude_check_run(gw, repo, check_run_id, "neutral", SUPERSEDED_TITLE,
                       SUPERSEDED_SUMMARY.format(sha=newer_sha[:12]))
