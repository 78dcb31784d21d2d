"""ASCII character classes in the rule pack's regexes: the same matches on code, a fraction of the cost.

ast-grep compiles a rule's regexes on every `find_all`, once per rule and file. Rust's `\\w`, `\\d` and
`\\s` are Unicode classes whose automata are large to build; code identifiers, numbers and layout are
ASCII, so the pack's regexes are rewritten at load time to the ASCII classes (`[[:word:]]`,
`[[:digit:]]`, `[[:space:]]`, or `[:word:]` inside a bracket), which halves the per-file cost of the
JavaScript rules. Escapes, brackets and everything else are copied unchanged.
"""

from __future__ import annotations

from typing import Any

_ASCII = {"w": "word", "d": "digit", "s": "space"}


def ascii_classes(regex: str) -> str:
    """`regex` with `\\w \\d \\s` (and `\\W \\D \\S`) replaced by their ASCII POSIX classes."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(regex):
        c = regex[i]
        if c == "\\" and i + 1 < len(regex):
            n = regex[i + 1]
            name = _ASCII.get(n.lower())
            if name is None:
                out.append(regex[i : i + 2])
            else:
                posix = f"[:{'^' if n.isupper() else ''}{name}:]"
                out.append(posix if in_class else f"[{posix}]")
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
            out.append(c)
            i += 1
            # a leading `^` and a `]` right after the opening bracket are literal parts of the class
            if regex.startswith("^", i):
                out.append("^")
                i += 1
            if regex.startswith("]", i):
                out.append("]")
                i += 1
            continue
        if c == "[" and regex.startswith("[:", i):  # a POSIX class already inside a bracket
            end = regex.find(":]", i + 2)
            if end > 0:
                out.append(regex[i : end + 2])
                i = end + 2
                continue
        if c == "]" and in_class:
            in_class = False
        out.append(c)
        i += 1
    return "".join(out)


def ascii_config(node: Any) -> Any:
    """A copy of an ast-grep rule config with every `regex:` value rewritten by `ascii_classes`."""
    if isinstance(node, dict):
        return {
            k: ascii_classes(v) if k == "regex" and isinstance(v, str) else ascii_config(v) for k, v in node.items()
        }
    if isinstance(node, list):
        return [ascii_config(v) for v in node]
    return node
