"""YAML manifests as node trees with line numbers: lenient for Helm templates, safe against bombs.

`load_manifests` composes (never constructs) every document, so anchors and aliases stay shared
nodes and a billion-laughs file costs nothing; callers only walk fixed paths. Helm `{{ }}`
expressions become placeholders and whole-line directives become blank lines (same line numbers);
those lines are reported so checks can stay quiet where the template may fill things in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_YAML_CHARS = 1_000_000
MAX_DOCUMENTS = 500
MAX_MERGE_DEPTH = 5
TEMPLATE_PLACEHOLDER = "templated"
_EXPRESSION = re.compile(r"\{\{.*?\}\}")
_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Manifest:
    """One Kubernetes object: its node tree, kind and name."""

    root: MappingNode
    kind: str
    name: str


@dataclass
class ManifestFile:
    manifests: list[Manifest] = field(default_factory=list)
    templated_lines: frozenset[int] = frozenset()  # 1-based lines whose content a template decides
    error: str | None = None


def detemplate(text: str) -> tuple[str, frozenset[int]]:
    """Helm-style text made parseable: directives blanked, expressions replaced; the lines touched."""
    if "{{" not in text:
        return text, frozenset()
    out, touched = [], set()
    for number, line in enumerate(text.split("\n"), start=1):
        if "{{" not in line:
            out.append(line)
            continue
        stripped = line.strip()
        touched.add(number)
        if stripped.startswith("{{") and stripped.endswith("}}") and _EXPRESSION.sub("", stripped).strip() == "":
            out.append("")
        else:
            out.append(_EXPRESSION.sub(TEMPLATE_PLACEHOLDER, line).replace("{{", "").replace("}}", ""))
    return "\n".join(out), frozenset(touched)


def get(node: Node | None, key: str, depth: int = 0) -> Node | None:
    """The value of `key` in a mapping node (following `<<` merge keys), or None."""
    if not isinstance(node, MappingNode) or depth > MAX_MERGE_DEPTH:
        return None
    merges: list[Node] = []
    for k, v in node.value:
        if isinstance(k, ScalarNode) and k.value == key:
            return v
        if isinstance(k, ScalarNode) and k.value == "<<":
            merges.extend(v.value if isinstance(v, SequenceNode) else [v])
    for merged in merges:
        found = get(merged, key, depth + 1)
        if found is not None:
            return found
    return None


def path(node: Node | None, *keys: str) -> Node | None:
    for key in keys:
        node = get(node, key)
    return node


def scalar(node: Node | None) -> str | None:
    return node.value if isinstance(node, ScalarNode) else None


def first_line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def last_line(node: Node) -> int:
    """The last line holding the node's text (the end mark sits past it)."""
    end = node.end_mark
    line = int(end.line) + 1 if end.column > 0 else int(end.line)
    return max(line, first_line(node))


def _objects(root: Node) -> list[MappingNode]:
    """The document itself, or the items of a `kind: List`."""
    if not isinstance(root, MappingNode):
        return []
    if scalar(get(root, "kind")) == "List" and isinstance(get(root, "items"), SequenceNode):
        items = get(root, "items")
        return [i for i in items.value if isinstance(i, MappingNode)] if items is not None else []
    return [root]


def load_manifests(text: str) -> ManifestFile:
    """Every object with `apiVersion` and `kind` in a (multi-document) YAML text; never raises."""
    if len(text) > MAX_YAML_CHARS:
        return ManifestFile(error=f"over {MAX_YAML_CHARS:,} characters")
    clean, templated = detemplate(text)
    result = ManifestFile(templated_lines=templated)
    try:
        for index, root in enumerate(yaml.compose_all(clean, Loader=_LOADER)):
            if index >= MAX_DOCUMENTS:
                break
            for obj in _objects(root):
                kind, api = scalar(get(obj, "kind")), scalar(get(obj, "apiVersion"))
                if kind and api:
                    name = scalar(path(obj, "metadata", "name")) or "(unnamed)"
                    name = "(templated name)" if TEMPLATE_PLACEHOLDER in name else name
                    result.manifests.append(Manifest(obj, kind, name))
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        result.error = f"not valid YAML: {type(exc).__name__}"
    return result
