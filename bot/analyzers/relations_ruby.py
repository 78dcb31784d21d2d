"""ActiveRecord rules on the model graph: associations read per record of a relation iterated without
`includes`/`preload`/`eager_load`, and whole tables loaded with `.all.each` instead of `find_each`.

Line-based and bounded: each regex sees one line of at most MAX_LINE characters, a block at most
MAX_BLOCK lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.analyzers.relation_hits import Hit
from bot.facts.graph import Model, RepoFacts
from bot.facts.other_orms import camelize, eager_names

MAX_LINE = 400
MAX_BLOCK = 200
_ASSIGN = re.compile(r"^\s*(@?\w+)\s*=\s*((?:\w+::)*([A-Z]\w*)\b(?:\.\w+[!?]?(?:\([^()]{0,300}\))?)*)\s*$")
_LOOP = re.compile(
    r"^(\s*+)(?:[@\w.:]++\s*+=\s*+)?(.{1,300}?)\.(each|map|flat_map|each_with_index|collect|each_with_object|find_each)"
    r"(?:\([^()]{0,40}\))?\s*(?:do\s*\|(\w+)|\{\s*\|(\w+))"
)
_DEF = re.compile(r"^\s*def\s+(\w+)")
_CONTROLLER = re.compile(r"^(.*?)app/controllers/(.+)_controller\.rb$")
_ALL_EACH = re.compile(r"\b((?:\w+::)*([A-Z]\w*))\.all\.(each|map)\b")
ALWAYS_QUERY = {"count", "sum", "pluck", "where", "exists?", "average", "maximum", "minimum", "find_by"}
LOADS = {"each", "size", "map", "length", "first", "last", "to_a", "any?", "empty?", "select", "sort_by", "group_by"}


_SYMBOL_LOOP = re.compile(r"\.(each|map|flat_map|collect|sum|sort_by|group_by|index_by|filter_map)\(\s*&:(\w+)\s*\)")
_RECEIVER_END = re.compile(r"(@?\w+(?:::\w+)*(?:\.\w+[!?]?(?:\([^()]{0,200}\))?){0,8})$")
_SEGMENT = re.compile(r"\.(\w+)(?:\([^()]{0,300}\))?")
MAX_HOPS = 4


@dataclass
class Chain:
    model: Model
    text: str
    line: int
    guessed: bool = False  # typed by a variable's name (`enterprise` -> Enterprise), not by a constant or an assignment


_COMMENT = re.compile(r"\s#(?![{]).*$|^\s*#.*$")


def _lines(text: str) -> list[str]:
    """Lines cut to MAX_LINE, trailing comments dropped (a `#` inside a string may cut it short: harmless)."""
    return [_COMMENT.sub("", line[:MAX_LINE]) for line in text.splitlines()]


_CONTINUED = re.compile(r"^\s*&?\.(?!\.)\w")  # `  .where(x)` / `  &.first`: the chain goes on from the line above
MAX_JOINED = 1000


def _logical(lines: list[str]) -> list[str]:
    """A method chain written one call per line (leading dots, the Ruby style guide's default) joined onto
    its first line, so `Post\n  .published\n  .each do |p|` reads as one loop; the lines it took stay
    empty, so every line keeps its number. A joined line is at most MAX_JOINED characters."""
    out = list(lines)
    head = -1
    for i, line in enumerate(lines):
        if head >= 0 and _CONTINUED.match(line) and len(out[head]) + len(line) <= MAX_JOINED:
            out[head] = out[head].rstrip() + line.strip()
            out[i] = ""
        elif line.strip():
            head = i
    return out


def _walk(model: Model, rest: str, facts: RepoFacts) -> tuple[Model, int] | None:
    """Follow association hops (`.supplied_products`) from `model`; None when a hop's target is unknown."""
    hops = 0
    for m in _SEGMENT.finditer(rest):
        rel = model.relations.get(m.group(1))
        if rel is None:
            continue  # a scope, a where, an order: same model
        target = facts.models.get(rel.target.rsplit("::", 1)[-1])
        if target is None or target.orm != "rails" or hops >= MAX_HOPS:
            return None
        model, hops = target, hops + 1
    return model, hops


def _chain_of(expr: str, env: dict[str, Chain], facts: RepoFacts, line: int) -> Chain | None:
    head = re.match(r"\s*(@?\w+(?:::\w+)*)", expr)
    if head is None:
        return None
    name = head.group(1)
    rest = expr[len(head.group(0)):]
    if name in env:
        prior = env[name]
        walked = _walk(prior.model, rest, facts)
        if walked is None:
            return None
        return Chain(walked[0], prior.text + rest, prior.line, prior.guessed)
    guessed = name[:1].islower() or name.startswith("@")
    model = facts.models.get(camelize(name.lstrip("@")) if guessed else name.rsplit("::", 1)[-1])
    if model is None or model.orm != "rails":
        return None
    walked = _walk(model, rest, facts)
    if walked is None or (guessed and walked[1] == 0):
        return None  # a record named like a model is not iterated itself: only its associations are
    return Chain(walked[0], expr, line, guessed)


def _symbol_loops(
    line: str, n: int, env: dict[str, Chain], facts: RepoFacts, touches: Callable[[int, int], bool]
) -> list[Hit]:
    """`records.flat_map(&:properties)`: the association read once per record, through a symbol block."""
    hits: list[Hit] = []
    for m in _SYMBOL_LOOP.finditer(line):
        receiver = _RECEIVER_END.search(line[: m.start()])
        chain = _chain_of(receiver.group(1), env, facts, n) if receiver else None
        if chain is None:
            continue
        rel = chain.model.relations.get(m.group(2))
        if rel is None:
            via = _method_reads(chain, m.group(2))
            if via:
                hits.append(_method_hit(chain, "record", {m.group(2): via}, n, touches))
            continue
        if m.group(2) in _eager(chain):
            continue
        hits.append(_hit(chain, "record", {m.group(2): n}, n, touches))
    return hits


def _method_needs(var: str, body: list[tuple[int, str]], chain: Chain, eager: set[str]) -> dict[str, list[str]]:
    """`var.latest_comment` in a loop body, where that instance method reads associations the chain does
    not eager-load: method -> those associations."""
    calls = re.compile(rf"\b{re.escape(var)}\.([a-z_]\w*[?!]?)")
    found: dict[str, list[str]] = {}
    for _n, text in body:
        for method in calls.findall(text):
            if method in chain.model.relations or method in found:
                continue
            reads = _method_reads(chain, method)
            if reads:
                found[method] = reads
    return found


def _method_hit(
    chain: Chain, var: str, via: dict[str, list[str]], line: int, touches: Callable[[int, int], bool]
) -> Hit:
    what = "; ".join(f"`{var}.{m}` reads " + ", ".join(f"`{a}`" for a in reads) for m, reads in list(via.items())[:3])
    evidence = (f"{what} on each {chain.model.name} record of `{chain.text.strip()[:120]}`, which does not "
                "`includes` it: one query per record")
    at = next((k for k in (chain.line, line) if touches(k, k)), line)
    return Hit("rb-association-per-record", at, at, evidence, 0.75 if chain.guessed else 0.8)


# Ruby and Active Record methods a model may override: calling one per record is not a read helper, and a
# bang method is a per-record write (another concern than eager loading)
CORE_METHODS = frozenset({
    "dup", "clone", "to_s", "to_param", "to_json", "as_json", "to_h", "inspect", "save", "update", "destroy",
    "delete", "valid?", "reload", "touch", "hash", "eql?",
})


def _method_reads(chain: Chain, method: str) -> list[str]:
    """The associations an instance method of the chain's model reads on its record, that the chain does
    not eager-load (`def current_role_appointment; current_role_appointments.first; end`)."""
    if method in CORE_METHODS or method.endswith("!"):
        return []
    reads = chain.model.method_reads.get(method, set())
    eager = _eager(chain)
    return sorted(a for a in reads if a in chain.model.relations and a not in eager and a != method)[:3]


def _eager(chain: Chain) -> set[str]:
    found = eager_names(chain.text) | chain.model.default_eager
    for scope in re.findall(r"\.(\w+)", chain.text):
        found |= chain.model.scopes.get(scope, set())
    return found


def _block(lines: list[str], start: int, indent: int, inline: str) -> list[tuple[int, str]]:
    """A `do |x|` block: the rest of its first line, then the lines indented deeper than it."""
    body = [(start + 1, inline)]
    for n in range(start + 1, min(len(lines), start + 1 + MAX_BLOCK)):
        text = lines[n]
        if text.strip() and len(text) - len(text.lstrip()) <= indent:
            break
        body.append((n + 1, text))
    return body


def _needed(var: str, body: list[tuple[int, str]], model: Model) -> dict[str, int]:
    reads = re.compile(rf"\b{re.escape(var)}\.(\w+)(?:\.(\w+[?!]?))?")
    needed: dict[str, int] = {}
    for n, text in body:
        for assoc, then in reads.findall(text):
            rel = model.relations.get(assoc)
            if rel is None:
                continue
            if rel.many and then not in LOADS and then not in ALWAYS_QUERY:
                continue
            needed.setdefault(assoc if then not in ALWAYS_QUERY else f"{assoc}.{then}", n)
    return needed


def n_plus_one_hits(
    text: str, path: str, facts: RepoFacts, touches: Callable[[int, int], bool],
    check: Callable[[], None] = lambda: None,
) -> list[Hit]:
    lines = _logical(_lines(text))
    env: dict[str, Chain] = {}
    hits: list[Hit] = []
    controller = _CONTROLLER.search(path)
    folder = f"{controller.group(1)}app/views/{controller.group(2)}" if controller else ""
    action = ""
    for i, line in enumerate(lines):
        check()
        if m := _LOOP.match(line):
            indent, expr, _verb, var_do, var_brace = m.groups()
            chain = _chain_of(expr, env, facts, i + 1)
            var = var_do or var_brace
            if chain is not None and var:
                inline = line[m.end():]
                body = _block(lines, i, len(indent), inline) if var_do else [(i + 1, inline)]
                needed = _needed(var, body, chain.model)
                eager = _eager(chain)
                missing = {a: n for a, n in needed.items() if "." in a or a not in eager}
                if missing:
                    hits.append(_hit(chain, var, missing, i + 1, touches))
                elif via := _method_needs(var, body, chain, eager):
                    hits.append(_method_hit(chain, var, via, i + 1, touches))
        hits.extend(_symbol_loops(line, i + 1, env, facts, touches))
        if m := _DEF.match(line):
            action = m.group(1)
        if m := _ASSIGN.match(line):
            chain = _chain_of(m.group(2), env, facts, i + 1)
            if chain is not None:
                env[m.group(1)] = chain
                if folder and m.group(1).startswith("@"):
                    hits.extend(_rendered(chain, m.group(1)[1:], folder, action, facts))
            else:
                env.pop(m.group(1), None)
    return hits


def _rendered(chain: Chain, ivar: str, folder: str, action: str, facts: RepoFacts) -> list[Hit]:
    """The action's template (or a partial of the controller) loops over `@ivar` reading associations."""
    hits: list[Hit] = []
    for loop in facts.view_loops.get(folder, []):
        name = loop.path.rsplit("/", 1)[-1]
        if loop.ivar != ivar or not (name.startswith(f"{action}.") or name.startswith("_")):
            continue
        body = [(n, f"{loop.var}.{read}") for read, n in loop.reads.items()]
        needed = _needed(loop.var, body, chain.model)
        eager = _eager(chain)
        missing = sorted(a for a in needed if "." in a or a not in eager)
        if missing:
            reads = ", ".join(f"`{loop.var}.{a}`" for a in missing[:6])
            evidence = (f"{loop.path} reads {reads} for each {chain.model.name} of `@{ivar}` "
                        f"(`{chain.text.strip()[:120]}`), which does not `includes` it")
            confidence = 0.75 if chain.guessed else 0.85
            hits.append(Hit("rb-association-per-record", chain.line, chain.line, evidence, confidence))
    return hits


def _hit(chain: Chain, var: str, missing: dict[str, int], line: int, touches: Callable[[int, int], bool]) -> Hit:
    names = sorted(missing)
    reads = ", ".join(f"`{var}.{a}`" for a in names[:6])
    always = [a for a in names if "." in a]
    why = "runs a query for every record even when loaded" if always else "is not in `includes`/`preload`"
    evidence = f"{reads} read per {chain.model.name} record of `{chain.text.strip()[:120]}`: the association {why}"
    places = [chain.line, line, *sorted(set(missing.values()))]
    at = next((n for n in places if touches(n, n)), line)
    # a chain typed by a variable's name may have been preloaded where the record was loaded: below the gate
    return Hit("rb-association-per-record", at, at, evidence, 0.75 if chain.guessed else 0.9)


def whole_table_hits(text: str, facts: RepoFacts) -> list[Hit]:
    hits: list[Hit] = []
    for n, line in enumerate(_lines(text), 1):
        for m in _ALL_EACH.finditer(line):
            model = facts.models.get(m.group(2))
            if model is None or model.orm != "rails":
                continue
            suggestion = line.replace(m.group(0), f"{m.group(1)}.find_each", 1) if m.group(3) == "each" else None
            hits.append(Hit("rb-all-each", n, n, f"`{m.group(0)}` loads every {model.name} row at once",
                            0.9, suggestion))
    return hits
