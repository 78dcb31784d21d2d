"""Check runs: create, update (annotations append), get, list for a ref, list annotations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .routes_repo import _public, repo_of
from .routing import Req, Resp, paginate, route
from .state import HttpError

if TYPE_CHECKING:
    from .fake import FakeGitHub

STATUSES = {"queued", "in_progress", "completed"}
CONCLUSIONS = {"action_required", "cancelled", "failure", "neutral", "success", "skipped", "timed_out"}
LEVELS = {"notice", "warning", "failure"}
MAX_OUTPUT = 65535
MAX_ANNOTATIONS = 50
MAX_MESSAGE = 64 * 1024


def _invalid(message: str) -> HttpError:
    return HttpError(422, "Invalid request.", [message])


def _check_annotation(a: Any) -> str | None:
    if not isinstance(a, dict):
        return "annotation must be an object"
    for key in ("path", "start_line", "end_line", "annotation_level", "message"):
        if key not in a:
            return f"annotation is missing {key}"
    if a["annotation_level"] not in LEVELS:
        return f"annotation_level {a['annotation_level']!r} is not one of {sorted(LEVELS)}"
    if not isinstance(a["start_line"], int) or not isinstance(a["end_line"], int) or a["start_line"] < 1:
        return "start_line/end_line must be positive integers"
    if a["end_line"] < a["start_line"]:
        return "end_line must not precede start_line"
    if ("start_column" in a or "end_column" in a) and a["start_line"] != a["end_line"]:
        return "start_column/end_column are only allowed when start_line equals end_line"
    if len(str(a.get("title") or "")) > 255:
        return "annotation title is longer than 255 characters"
    if len(a["message"]) > MAX_MESSAGE or len(str(a.get("raw_details") or "")) > MAX_MESSAGE:
        return "annotation message or raw_details is longer than 64 KB"
    return None


def _check_output(output: Any) -> str | None:
    if not isinstance(output, dict):
        return "output must be an object"
    if not output.get("title") or not output.get("summary"):
        return "output needs title and summary"
    for key in ("summary", "text"):
        if len(output.get(key) or "") > MAX_OUTPUT:
            return f"output.{key} is longer than {MAX_OUTPUT} characters"
    annotations = output.get("annotations") or []
    if len(annotations) > MAX_ANNOTATIONS:
        return f"more than {MAX_ANNOTATIONS} annotations in one request"
    return next((e for e in (_check_annotation(a) for a in annotations) if e), None)


def _check_actions(actions: Any) -> str | None:
    if not isinstance(actions, list) or len(actions) > 3:
        return "at most 3 actions"
    for act in actions:
        if not isinstance(act, dict) or not all(act.get(k) for k in ("label", "description", "identifier")):
            return "each action needs label, description and identifier"
        if len(act["label"]) > 20 or len(act["description"]) > 40 or len(act["identifier"]) > 20:
            return "action label/identifier max 20, description max 40 characters"
    return None


def _apply(fake: FakeGitHub, run: dict[str, Any], data: dict[str, Any]) -> None:
    """Validate everything first, then change the run (all-or-nothing, like GitHub)."""
    status, conclusion = data.get("status"), data.get("conclusion")
    if status is not None and status not in STATUSES:
        raise _invalid(f"status {status!r} is not valid")
    if conclusion is not None and conclusion not in CONCLUSIONS:
        raise _invalid(f"conclusion {conclusion!r} is not valid")
    if status == "completed" and conclusion is None and not run.get("conclusion"):
        raise _invalid("conclusion is required when status is completed")
    if conclusion is not None and status not in (None, "completed"):
        raise _invalid("a conclusion requires status completed")
    error = (_check_output(data["output"]) if "output" in data else None) or (
        _check_actions(data["actions"]) if "actions" in data else None)
    if error:
        raise _invalid(error)
    for key in ("name", "external_id", "details_url", "started_at", "completed_at"):
        if key in data:
            run[key] = data[key]
    if status is not None:
        run["status"] = status
    if conclusion is not None:
        run["status"], run["conclusion"] = "completed", conclusion
    if "output" in data:
        out = data["output"]
        annotations = fake.store.annotations.setdefault(run["id"], [])
        annotations.extend(out.get("annotations") or [])
        run["output"] = {"title": out.get("title"), "summary": out.get("summary"), "text": out.get("text"),
                         "annotations_count": len(annotations)}
    if "actions" in data:
        run["actions"] = data["actions"]


@route("POST", "/repos/{owner}/{repo}/check-runs")
def create_check_run(fake: FakeGitHub, req: Req) -> Resp:
    repo = repo_of(fake, req)
    data = req.body_json()
    if not data.get("name") or not data.get("head_sha"):
        raise _invalid("name and head_sha are required")
    if data["head_sha"] not in fake.store.commits:
        raise _invalid("No commit found for SHA: " + str(data["head_sha"]))
    rid = fake.store.next_id()
    run: dict[str, Any] = {"id": rid, "name": data["name"], "head_sha": data["head_sha"], "status": "queued",
                           "conclusion": None, "external_id": "",
                           "app": fake.app_object(),
                           "output": {"title": None, "summary": None, "text": None, "annotations_count": 0},
                           "actions": [], "_repo": repo.full_name}
    _apply(fake, run, data)
    fake.store.check_runs[rid] = run
    return Resp(201, _public(run))


def _run(fake: FakeGitHub, req: Req) -> dict[str, Any]:
    repo = repo_of(fake, req)
    run = fake.store.check_runs.get(int(req.params["check_run_id"]))
    if run is None or run["_repo"] != repo.full_name:
        raise HttpError(404, "Not Found")
    return run


@route("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}")
def update_check_run(fake: FakeGitHub, req: Req) -> Resp:
    run = _run(fake, req)
    _apply(fake, run, req.body_json())
    return Resp(200, _public(run))


@route("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}")
def get_check_run(fake: FakeGitHub, req: Req) -> Resp:
    return Resp(200, _public(_run(fake, req)))


@route("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations")
def list_annotations(fake: FakeGitHub, req: Req) -> Resp:
    run = _run(fake, req)
    return paginate(fake, req, list(fake.store.annotations.get(run["id"], [])))


@route("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs")
def list_for_ref(fake: FakeGitHub, req: Req) -> Resp:
    repo = repo_of(fake, req)
    sha = fake.store.resolve(repo, req.params["ref"]).sha
    name, app_id = req.q("check_name"), req.q("app_id")
    runs = [_public(r) for r in fake.store.check_runs.values()
            if r["_repo"] == repo.full_name and r["head_sha"] == sha
            and (name is None or r["name"] == name) and (app_id is None or str(r["app"]["id"]) == app_id)]
    runs.sort(key=lambda r: -r["id"])
    return paginate(fake, req, runs, wrap="check_runs")
