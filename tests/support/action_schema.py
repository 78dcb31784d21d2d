"""SchemaStore's JSON Schemas for GitHub Actions metadata (`github-action.json`) and workflows
(`github-workflow.json`), as published inside the npm package `@action-validator/core` (pinned in
.ci/run next to the octokit artefacts), which embeds both schema documents verbatim in its WebAssembly
module. `schema("github-action")` finds the document by its `$id` and parses it; a missing package
skips the test locally and fails it in CI (`require_octokit`)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from tests.support.contract import artefact, require_octokit

VALIDATOR_WASM = Path("@action-validator/core/action_validator_bg.wasm")
SCHEMA_ID = '"$id": "https://json.schemastore.org/{name}.json"'


def require_schemas() -> None:
    require_octokit(VALIDATOR_WASM)


@cache
def schema(name: str) -> dict[str, Any]:
    """The schema document whose `$id` is https://json.schemastore.org/<name>.json."""
    path = artefact(VALIDATOR_WASM)
    if path is None:
        raise FileNotFoundError(VALIDATOR_WASM)
    data = path.read_bytes()
    at = data.find(SCHEMA_ID.format(name=name).encode())
    if at < 0:
        raise LookupError(f"{name}.json is not in {path}")
    start = data.rfind(b"{", 0, at)
    document, _ = json.JSONDecoder().raw_decode(data[start:].decode("utf-8", "replace"))
    if not isinstance(document, dict):
        raise LookupError(f"{name}.json in {path} is not an object")
    return document
