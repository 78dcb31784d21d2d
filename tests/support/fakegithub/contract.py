"""GitHub's own request rules, from its OpenAPI description (see build_openapi_subset.py).

The fake checks every request against them before its handler runs, so a body GitHub would refuse
(a bad `conclusion`, a fourth action button, a 21-character label, reaction `thumbsup`, event
`LGTM`, an unknown field where none are allowed) fails every test that sends it, not just ours.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30WriteValidator

from .routing import Req
from .state import HttpError

SUBSET = Path(__file__).with_name("openapi_subset.json")


def source() -> str:
    """"npm" when GitHub's full description is installed (tests/support/contract.py), else "extract" (the fallback)."""
    from tests.support.contract import rest_spec

    return "npm" if rest_spec() is not None else "extract"


@cache
def operations() -> dict[str, dict[str, Any]]:
    """The rules of our operations: from the installed npm description when present, else the extract."""
    from tests.support.contract import rest_spec

    from .build_openapi_subset import build

    spec = rest_spec()
    if spec is not None:
        return build(spec)
    data: dict[str, dict[str, Any]] = json.loads(SUBSET.read_text())
    return data


def segments_match(template: str, path: str) -> int | None:
    """Number of literal segments matched, or None. A last `{path}` parameter may span slashes."""
    t_parts, p_parts = template.strip("/").split("/"), path.strip("/").split("/")
    if t_parts[-1] == "{path}" and len(p_parts) >= len(t_parts):
        p_parts = p_parts[: len(t_parts) - 1] + ["/".join(p_parts[len(t_parts) - 1 :])]
    if len(t_parts) != len(p_parts):
        return None
    literals = 0
    for t, p in zip(t_parts, p_parts, strict=True):
        if t.startswith("{") and t.endswith("}"):
            if not p:  # a parameter never matches an empty segment
                return None
            continue
        if t != p:
            return None
        literals += 1
    return literals


def operation_for(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    best: tuple[int, str, dict[str, Any]] | None = None
    for op_id, op in operations().items():
        if op["method"] != method:
            continue
        score = segments_match(op["template"], path)
        if score is not None and (best is None or score > best[0]):
            best = (score, op_id, op)
    return (best[1], best[2]) if best else None


def _query_value(raw: str, schema: dict[str, Any]) -> Any:
    if schema.get("type") == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw
    return raw


def check(req: Req) -> str | None:
    """None when GitHub's description accepts the request, else the operation id and the reason."""
    found = operation_for(req.method, req.path)
    if found is None:
        return None
    op_id, op = found
    for param in op["parameters"]:
        if param["in"] != "query" or param["name"] not in req.query:
            continue
        schema = param.get("schema") or {}
        value = _query_value(req.query[param["name"]][0], schema)
        error = next(iter(OAS30WriteValidator(schema).iter_errors(value)), None)
        if error is not None:
            return f"{op_id}: query parameter {param['name']}: {error.message}"
    body = op.get("body")
    if body is None or (req.json is None and not op["body_required"]):
        return None
    error = next(iter(OAS30WriteValidator(body).iter_errors(req.json)), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "body"
        return f"{op_id}: {where}: {error.message}"[:1000]
    return None


def enforce(req: Req) -> None:
    problem = check(req)
    if problem is not None:
        raise HttpError(422, "Invalid request.", [problem])
