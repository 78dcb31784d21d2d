"""ast-grep rule pack: YAML data files (`rules/<language>/*.yml`) -> validated AstGrepRule objects.

One YAML document per rule (a file may hold several, separated by `---`). Loading validates every
field and fails with the file and the rule id, so a broken rule never ships silently.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from bot.analyzers.rule_regex import ascii_config
from bot.analyzers.rule_requires import Requirement, requirement
from bot.analyzers.rule_trim import Site, dead_sites, trim_sites, trimmed
from bot.core.model import Category, Severity

BUILTIN_RULES_DIR = Path(__file__).parent / "rules"
SUPPORTED_LANGUAGES = ("python", "javascript", "typescript", "tsx", "go", "ruby")
MAX_RULE_FILES = 500
REQUIRED_TEXT = ("title", "description", "evidence", "risk", "advice", "rollback", "monitoring")
AST_GREP_KEYS = ("rule", "constraints", "utils", "transform")
OPTIONAL_KEYS = ("fix", "add_argument", "report", "confidence", "language", "prefilter", "exclude_paths")
SHARED_UTILS_FILE = "_utils.yml"
ERR_PREFIX = "invalid rule {where}: {what}"


class RulePackError(ValueError):
    """A rule file is not a valid rule."""


@dataclass(frozen=True)
class AstGrepRule:
    """One static rule: what to match (ast-grep config) and what to say about it."""

    id: str
    languages: tuple[str, ...]
    category: Category
    severity: Severity
    title: str
    description: str
    evidence: str  # template; `$NAME` is replaced by the matched metavariable's text
    risk: str
    advice: str
    rollback: str
    monitoring: str
    confidence: float
    config: dict[str, Any] = field(hash=False, compare=False)  # rule/constraints/utils/transform
    fix: str | None = None  # ast-grep style replacement template for the matched node
    add_argument: str | None = None  # keyword argument appended to the matched call, e.g. "timeout=10"
    report: str | None = None  # metavariable whose node is the reported location (default: the match)
    prefilter: re.Pattern[str] | None = None  # a file whose text does not match cannot match the rule (speed only)
    exclude_paths: re.Pattern[str] | None = None  # files whose path matches are out of the rule's scope
    path: str = ""
    # what a file's text must contain for the rule to match, from its regexes (bot.analyzers.rule_requires)
    requires: Requirement | None = field(default=None, hash=False, compare=False)
    # the `not:` and `any:` branches a file's text can rule out (bot.analyzers.rule_trim), and the configs trimmed
    # of them so far, by which were left out
    trims: tuple[Site, ...] = field(default=(), hash=False, compare=False)
    trimmed_configs: dict[frozenset[int], dict[str, Any]] = field(
        default_factory=dict, hash=False, compare=False, repr=False
    )

    def may_match(self, text: str, memo: dict[str, bool] | None = None) -> bool:
        """Cheap text test before parsing work: False only when the rule cannot match. `memo`: regex results on
        this text, shared by the rules tested on it."""
        if self.prefilter is not None and self.prefilter.search(text) is None:
            return False
        return self.requires is None or self.requires.holds(text, memo)

    def config_for(self, text: str, memo: dict[str, bool] | None = None) -> dict[str, Any]:
        """The ast-grep config to run on a file with this text: `config` without the branches the text rules out
        (the same matches, compiled faster)."""
        if not self.trims:
            return self.config
        dead = dead_sites(self.trims, text, {} if memo is None else memo)
        if not dead:
            return self.config
        found = self.trimmed_configs.get(dead)
        if found is None:
            found = self.trimmed_configs[dead] = trimmed(self.config, self.trims, dead)
        return found

    def applies_to(self, path: str) -> bool:
        """False for paths the rule excludes (e.g. SQL list-query rules skip data migrations)."""
        return self.exclude_paths is None or self.exclude_paths.search(path) is None

    @property
    def language(self) -> str:
        """The primary language (the first one listed)."""
        return self.languages[0]


def _fail(where: str, what: str) -> RulePackError:
    return RulePackError(ERR_PREFIX.format(where=where, what=what))


def _languages(raw: Any, where: str) -> tuple[str, ...]:
    langs = [raw] if isinstance(raw, str) else raw
    if not isinstance(langs, list) or not langs or not all(isinstance(x, str) for x in langs):
        raise _fail(where, "'language' must be a language name or a list of them")
    unknown = [x for x in langs if x not in SUPPORTED_LANGUAGES]
    if unknown:
        raise _fail(where, f"unsupported language {unknown[0]!r} (one of {', '.join(SUPPORTED_LANGUAGES)})")
    return tuple(langs)


def _enum_value(enum: Any, raw: Any, key: str, where: str) -> Any:
    try:
        return enum(raw)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise _fail(where, f"{key} {raw!r} is not one of: {allowed}") from None


def _confidence(raw: Any, where: str) -> float:
    if not isinstance(raw, int | float) or not 0.0 <= float(raw) <= 1.0:
        raise _fail(where, "'confidence' must be a number between 0 and 1")
    return float(raw)


def _optional_str(doc: dict[str, Any], key: str, where: str) -> str | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        raise _fail(where, f"'{key}' must be a string")
    return value


def _regex(doc: dict[str, Any], key: str, where: str) -> re.Pattern[str] | None:
    raw = _optional_str(doc, key, where)
    if raw is None:
        return None
    try:
        return re.compile(raw)
    except re.error as exc:
        raise _fail(where, f"'{key}' is not a valid regular expression: {exc}") from None


def parse_rule(doc: Any, source: str) -> AstGrepRule:
    """Validate one YAML document into a rule; raise RulePackError saying what is wrong."""
    if not isinstance(doc, dict):
        raise _fail(source, "a rule must be a mapping")
    rule_id = doc.get("id")
    if not isinstance(rule_id, str) or not rule_id:
        raise _fail(source, "missing 'id'")
    where = f"{rule_id} ({source})"
    known = {"id", "category", "severity", *REQUIRED_TEXT, *AST_GREP_KEYS, *OPTIONAL_KEYS}
    extra = sorted(set(doc) - known)
    if extra:
        raise _fail(where, f"unknown key {extra[0]!r}")
    if not isinstance(doc.get("rule"), dict):
        raise _fail(where, "'rule' must be an ast-grep rule mapping")
    for key in REQUIRED_TEXT:
        if not isinstance(doc.get(key), str) or not doc[key].strip():
            raise _fail(where, f"missing text field '{key}'")
    if doc.get("fix") is not None and doc.get("add_argument") is not None:
        raise _fail(where, "use either 'fix' or 'add_argument', not both")
    return AstGrepRule(
        id=rule_id,
        languages=_languages(doc.get("language"), where),
        category=_enum_value(Category, doc.get("category"), "category", where),
        severity=_enum_value(Severity, doc.get("severity"), "severity", where),
        title=doc["title"].strip(),
        description=doc["description"].strip(),
        evidence=doc["evidence"].strip(),
        risk=doc["risk"].strip(),
        advice=doc["advice"].strip(),
        rollback=doc["rollback"].strip(),
        monitoring=doc["monitoring"].strip(),
        confidence=_confidence(doc.get("confidence", 0.8), where),
        config={k: doc[k] for k in AST_GREP_KEYS if k in doc},
        fix=_optional_str(doc, "fix", where),
        add_argument=_optional_str(doc, "add_argument", where),
        report=_optional_str(doc, "report", where),
        prefilter=_regex(doc, "prefilter", where),
        exclude_paths=_regex(doc, "exclude_paths", where),
        path=source,
    )


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A safe YAML loader (libyaml's parser when available) that refuses duplicate keys."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    keys = [loader.construct_object(k, deep=deep) for k, _ in node.value]
    dupes = sorted({str(k) for k in keys if keys.count(k) > 1})
    if dupes:
        raise yaml.constructor.ConstructorError(
            None, None, f"duplicate key {dupes[0]!r} (use `all:` to combine rules)", node.start_mark
        )
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def load_yaml_documents(text: str) -> list[Any]:
    """Every non-empty YAML document of a text, refusing duplicate keys."""
    return [d for d in yaml.load_all(text, Loader=_StrictLoader) if d is not None]  # noqa: S506 - safe loader


def load_rule_file(path: Path) -> list[AstGrepRule]:
    """Every rule in one YAML file (documents separated by `---`)."""
    try:
        docs = load_yaml_documents(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise _fail(str(path), f"not valid YAML: {exc}") from exc
    return [parse_rule(doc, str(path)) for doc in docs]


def load_shared_utils(directory: Path) -> dict[str, Any]:
    """Named ast-grep utility rules shared by every rule file of one language directory."""
    path = directory / SHARED_UTILS_FILE
    if not path.is_file():
        return {}
    try:
        docs = load_yaml_documents(path.read_text(encoding="utf-8"))
        utils = docs[0] if docs else {}
    except yaml.YAMLError as exc:
        raise _fail(str(path), f"not valid YAML: {exc}") from exc
    if not isinstance(utils, dict) or not all(isinstance(v, dict) for v in utils.values()):
        raise _fail(str(path), "shared utils must map names to ast-grep rules")
    return utils


def _referenced(node: Any) -> set[str]:
    """Names a rule refers to with `matches: <name>`."""
    if isinstance(node, dict):
        found = {node["matches"]} if isinstance(node.get("matches"), str) else set()
        for value in node.values():
            found |= _referenced(value)
        return found
    if isinstance(node, list):
        return set().union(*(_referenced(v) for v in node)) if node else set()
    return set()


def _with_utils(rule: AstGrepRule, shared: dict[str, Any]) -> AstGrepRule:
    """Attach only the shared utils the rule uses (transitively): ast-grep compiles every
    attached util on each `find_all`, so unused ones cost time on every file."""
    own = rule.config.get("utils", {})
    available = {**shared, **own}
    wanted: set[str] = set()
    pending = _referenced({k: v for k, v in rule.config.items() if k != "utils"})
    while pending:
        name = pending.pop()
        if name in wanted or name not in available:
            continue
        wanted.add(name)
        pending |= _referenced(available[name])
    if not wanted and "utils" not in rule.config:
        return rule
    config = dict(rule.config)
    config["utils"] = {name: available[name] for name in sorted(wanted)}
    if not config["utils"]:
        del config["utils"]
    return replace(rule, config=config)


def load_rule_dir(root: Path) -> list[AstGrepRule]:
    """Every rule under `root` (`<language>/*.yml`), sorted by id; ids must be unique.

    `<language>/_utils.yml` (a mapping of names to ast-grep rules) is shared by the rules of
    that directory, which refer to them with `matches: <name>`.
    """
    files = sorted(p for p in root.glob("*/*.yml") if not p.name.startswith("_"))[:MAX_RULE_FILES]
    shared = {d: load_shared_utils(d) for d in sorted({p.parent for p in files})}
    rules: list[AstGrepRule] = []
    seen: dict[str, str] = {}
    for path in files:
        for parsed in load_rule_file(path):
            rule = _with_utils(parsed, shared[path.parent])
            # the text it needs, read from the regexes as written (before the ASCII classes, which Python lacks)
            rule = replace(rule, config=ascii_config(rule.config), requires=requirement(rule.config),
                           trims=trim_sites(rule.config))
            if rule.id in seen:
                raise _fail(f"{rule.id} ({path})", f"duplicate id, first defined in {seen[rule.id]}")
            seen[rule.id] = str(path)
            rules.append(rule)
    return sorted(rules, key=lambda r: r.id)


@functools.cache
def builtin_rules() -> tuple[AstGrepRule, ...]:
    """The shipped rule pack, loaded once per process."""
    return tuple(load_rule_dir(BUILTIN_RULES_DIR))
