"""Pure helpers for reads: GraphQL queries for batched file reads and configs, and rebuilding a
unified diff from the files API when GitHub refuses the diff media type."""

from __future__ import annotations

from typing import Any

from bot.core.repo import MAX_FILE_BYTES
from bot.core.repo_config import CONFIG_PATH, RULES_DIR

BLOB_FIELDS = "__typename ... on Blob { text byteSize isBinary isTruncated }"
TREE_FIELDS = "... on Tree { entries { name mode } }"
GRAPHQL_BATCH = 100  # object() aliases per GraphQL request
SYMLINK_MODE = 0o120000
ORG_CONFIG_REPO = ".github"
NOT_FOUND = "{path}: no such file at {ref}"
IS_FOLDER = "{path}: is a folder"
BINARY = "{path}: binary file"
SYMLINK = "{path}: is a symlink (not followed here)"
TOO_BIG = "{path}: {size:,} bytes is over the {limit:,}-byte limit"
DIFF_PARTIAL = ("GitHub refused the full diff as too large; the review used the per-file patches, "
                "and {n} file(s) had none: {files}")
DIFF_REBUILT = "GitHub refused the full diff as too large; the review used the per-file patches."


def files_query(count: int, dirs: int = 0) -> str:
    """A query reading `count` objects ($e0..) and the entry modes of `dirs` folders ($d0..) of one repo."""
    params = ["$owner: String!", "$name: String!"] + [f"$e{i}: String!" for i in range(count)]
    params += [f"$d{j}: String!" for j in range(dirs)]
    fields = [f"f{i}: object(expression: $e{i}) {{ {BLOB_FIELDS} }}" for i in range(count)]
    fields += [f"d{j}: object(expression: $d{j}) {{ {TREE_FIELDS} }}" for j in range(dirs)]
    return f"query({', '.join(params)}) {{ repository(owner: $owner, name: $name) {{ {' '.join(fields)} }} }}"


def folder_modes(folder: str, obj: Any) -> dict[str, int]:
    """path -> git mode of each entry of a GraphQL Tree object (empty when it is not a tree)."""
    if not isinstance(obj, dict):
        return {}
    prefix = folder + "/" if folder else ""
    return {prefix + str(e.get("name")): int(e.get("mode") or 0) for e in obj.get("entries") or []}


GITATTRIBUTES = ".gitattributes"
RULE_SUFFIXES = (".yml", ".yaml")
RULES_TREE = f"... on Tree {{ entries {{ name type object {{ {BLOB_FIELDS} }} }} }}"


def config_query() -> str:
    """One query for everything the review reads at the base before the diff: the repo's config, rules folder
    and `.gitattributes` (at the base ref), and the org `.github` repo's config and rules folder (at HEAD)."""
    return (
        "query($owner: String!, $name: String!, $orgName: String!, $expr: String!, $orgExpr: String!, "
        "$rulesExpr: String!, $orgRulesExpr: String!, $attrExpr: String!) { "
        f"repo: repository(owner: $owner, name: $name) {{ c: object(expression: $expr) {{ {BLOB_FIELDS} }} "
        f"r: object(expression: $rulesExpr) {{ {RULES_TREE} }} a: object(expression: $attrExpr) {{ {BLOB_FIELDS} }} }} "
        f"org: repository(owner: $owner, name: $orgName) {{ c: object(expression: $orgExpr) {{ {BLOB_FIELDS} }} "
        f"r: object(expression: $orgRulesExpr) {{ {RULES_TREE} }} }} "
        "}"
    )


def config_variables(owner: str, name: str, ref: str, path: str = CONFIG_PATH) -> dict[str, str]:
    """`path`: the repository's config file (the Action's `config` input moves it); the org's stays put."""
    return {"owner": owner, "name": name, "orgName": ORG_CONFIG_REPO, "expr": f"{ref}:{path}",
            "orgExpr": f"HEAD:{CONFIG_PATH}", "rulesExpr": f"{ref}:{RULES_DIR}", "orgRulesExpr": f"HEAD:{RULES_DIR}",
            "attrExpr": f"{ref}:{GITATTRIBUTES}"}


def rule_files(obj: Any, label: str, limit: int) -> tuple[list[tuple[str, str]], list[str]]:
    """The `*.yml`/`*.yaml` files directly in a rules folder (a GraphQL Tree with its blobs): (path, text)
    pairs and one line per file that could not be read whole. `label` prefixes each path (the org's repo)."""
    files: list[tuple[str, str]] = []
    errors: list[str] = []
    if not isinstance(obj, dict):
        return files, errors
    for entry in obj.get("entries") or []:
        name = str(entry.get("name") or "")
        if entry.get("type") != "blob" or not name.endswith(RULE_SUFFIXES):
            continue
        path = f"{label}{RULES_DIR}/{name}"
        blob = entry.get("object") or {}
        size = int(blob.get("byteSize") or 0)
        text = blob_text(blob)
        if size > limit:
            errors.append(f"{path}: not read, over {limit:,} bytes")
        elif text is None or blob.get("isTruncated"):
            errors.append(f"{path}: could not be read as text")
        else:
            files.append((path, text))
    return files, errors


def blob_result(path: str, ref: str, obj: Any, limit: int = MAX_FILE_BYTES) -> bytes | str | None:
    """A GraphQL object -> bytes, an error message, or None when the text must be fetched over REST."""
    if obj is None:
        return NOT_FOUND.format(path=path, ref=ref[:12])
    if obj.get("__typename") != "Blob":
        return IS_FOLDER.format(path=path)
    size = int(obj.get("byteSize") or 0)
    if size > limit:
        return TOO_BIG.format(path=path, size=size, limit=limit)
    if obj.get("isBinary"):
        return BINARY.format(path=path)
    if obj.get("isTruncated") or obj.get("text") is None:
        return None
    return str(obj["text"]).encode("utf-8")


def blob_text(obj: Any) -> str | None:
    if not isinstance(obj, dict) or obj.get("__typename") != "Blob" or obj.get("isBinary"):
        return None
    text = obj.get("text")
    return text if isinstance(text, str) else None


def _file_header(item: dict[str, Any]) -> list[str]:
    path = str(item["filename"])
    old = str(item.get("previous_filename") or path)
    status = item.get("status")
    lines = [f"diff --git a/{old} b/{path}"]
    if status == "renamed":
        lines += [f"rename from {old}", f"rename to {path}"]
    if status == "added":
        lines.append("new file mode 100644")
    if status == "removed":
        lines.append("deleted file mode 100644")
    lines.append("--- /dev/null" if status == "added" else f"--- a/{old}")
    lines.append("+++ /dev/null" if status == "removed" else f"+++ b/{path}")
    return lines


def diff_from_files(files: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """Unified diff text from files-API items with `patch`; returns (diff, files without a patch)."""
    parts: list[str] = []
    missing: list[str] = []
    for item in files:
        patch = item.get("patch")
        if not patch:
            pure_rename = item.get("status") == "renamed" and not item.get("changes")
            if item.get("status") != "removed" and not pure_rename:  # nothing to review in either
                missing.append(str(item["filename"]))
            continue
        parts.append("\n".join(_file_header(item)) + "\n" + str(patch).rstrip("\n") + "\n")
    return "".join(parts), missing


def partial_note(missing: list[str], shown: int = 20) -> str:
    if not missing:
        return DIFF_REBUILT
    listed = ", ".join(missing[:shown]) + (f" and {len(missing) - shown} more" if len(missing) > shown else "")
    return DIFF_PARTIAL.format(n=len(missing), files=listed)
