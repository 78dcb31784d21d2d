"""Pydantic model -> a self-contained JSON schema for a tool's `input_schema`.

Inlines `$defs` references (enums, nested models) and drops pydantic's titles, so the schema the
model sees is small and has no references to resolve.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

_MAX_DEPTH = 20


def _inline(node: Any, defs: dict[str, Any], depth: int = 0) -> Any:
    if depth > _MAX_DEPTH:
        raise ValueError("tool schema nests too deeply")
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = dict(defs[ref.split("/")[-1]])
            target.update({k: v for k, v in node.items() if k != "$ref"})
            return _inline(target, defs, depth + 1)
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):  # property names are data, keep them all
                out[key] = {name: _inline(v, defs, depth + 1) for name, v in value.items()}
            elif key not in ("title", "$defs"):
                out[key] = _inline(value, defs, depth + 1)
        return out
    if isinstance(node, list):
        return [_inline(v, defs, depth + 1) for v in node]
    return node


def tool_schema(model: type[BaseModel]) -> dict[str, Any]:
    raw = model.model_json_schema()
    schema = _inline(raw, raw.get("$defs", {}))
    schema.pop("description", None)  # the tool's description carries it
    return schema
