"""Regenerate `openapi_subset.json`: the request rules of the GitHub REST operations we call.

Source: GitHub's REST OpenAPI description as shipped in the npm package `@octokit/openapi`
(MIT licence), file `generated/api.github.com.json`. Usage:

    npm pack @octokit/openapi@23.0.2 && tar -xzf octokit-openapi-23.0.2.tgz package/generated/api.github.com.json
    python -m tests.support.fakegithub.build_openapi_subset package/generated/api.github.com.json

Only data is kept: for each operation its path template, method, parameters (name, in, required,
schema) and request-body schema, with every `$ref` inlined and prose annotations dropped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OPERATIONS = (
    "apps/create-installation-access-token", "apps/list-webhook-deliveries", "apps/redeliver-webhook-delivery",
    "apps/create-from-manifest", "apps/get-repo-installation", "apps/get-authenticated",
    "checks/create", "checks/update", "checks/get", "checks/list-for-ref", "checks/list-annotations",
    "pulls/get", "pulls/list-files", "pulls/create-review", "pulls/list-reviews", "pulls/list-review-comments",
    "pulls/get-review-comment", "pulls/create-reply-for-review-comment",
    "issues/create-comment", "issues/list-comments", "issues/update-comment", "issues/get-comment",
    "reactions/create-for-issue-comment", "repos/get-collaborator-permission-level", "repos/get-content",
    "repos/compare-commits-with-basehead", "repos/list-pull-requests-associated-with-commit", "repos/get",
    "git/get-tree", "git/get-blob",
)
MAX_DEPTH = 40
PROSE = ("description", "example", "examples", "title", "externalDocs")  # annotations only (str values)
OUT = Path(__file__).with_name("openapi_subset.json")


def _inline(node: Any, spec: dict[str, Any], depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError("reference cycle or too deep")
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            return _inline(target, spec, depth + 1)
        return {k: _inline(v, spec, depth + 1) for k, v in node.items()
                if not (k in PROSE and not isinstance(v, dict))}
    if isinstance(node, list):
        return [_inline(v, spec, depth + 1) for v in node]
    return node


def build(spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for template, item in spec["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or op.get("operationId") not in OPERATIONS:
                continue
            params = [_inline(p, spec) for p in item.get("parameters", []) + op.get("parameters", [])]
            body = (op.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema")
            out[op["operationId"]] = {
                "template": template, "method": method.upper(),
                "parameters": [{k: p[k] for k in ("name", "in", "required", "schema") if k in p} for p in params],
                "body": _inline(body, spec) if body else None,
                "body_required": bool((op.get("requestBody") or {}).get("required")),
            }
    missing = set(OPERATIONS) - set(out)
    if missing:
        raise SystemExit(f"operations not found: {sorted(missing)}")
    return out


if __name__ == "__main__":
    source = json.loads(Path(sys.argv[1]).read_text())
    OUT.write_text(json.dumps(build(source), indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")
