"""Index-build lock findings weighed against the databases the project targets (pure).

"An index built without CONCURRENTLY locks the table against writes" is PostgreSQL behaviour, and so
is its fix. On MySQL/InnoDB 5.6+ adding a secondary or UNIQUE index is online DDL that lets reads and
writes continue (MySQL manual, "Online DDL Operations"), and SQLite serializes every writer anyway and
has no CONCURRENTLY. So, from the engines the head tree names (bot.facts.databases):

- none found, or PostgreSQL only: unchanged;
- MySQL and/or SQLite, no PostgreSQL: silenced (the claim is false there and there is nothing to
  change), with one summary note naming where the engine was read;
- PostgreSQL and another engine (a database-agnostic app or library): severity at most medium,
  confidence under the gate, and the evidence names the other engine (the fix must be PostgreSQL-specific);
- other engines without PostgreSQL: unchanged (their offline index builds do block writes).

A `.sql` file whose path names PostgreSQL is PostgreSQL's own migration: unchanged in a multi-engine project.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.analyzers.sql_script import CONSTRAINT_BUILDS_INDEX, CREATE_INDEX
from bot.core.model import Finding, Severity
from bot.facts.databases import ENGINE_NAMES, MYSQL, POSTGRESQL, SQLITE, DatabaseFacts

INDEX_LOCK_RULES = frozenset({CREATE_INDEX, CONSTRAINT_BUILDS_INDEX})
NO_CONCURRENT_NEED = frozenset({MYSQL, SQLITE})  # engines where the index-build lock claim does not hold
MULTI_ENGINE_SEVERITY = Severity.medium
MULTI_ENGINE_CONFIDENCE = 0.6  # under the default gate.min_confidence (0.8): shown, never blocks on its own
_POSTGRES_PATH = re.compile(r"(^|[/._-])(postgres|postgresql|pg|psql)([/._-]|$)", re.IGNORECASE)

MULTI_ENGINE_EVIDENCE = (
    " This project also runs on {others} ({where}); CONCURRENTLY is PostgreSQL-only: consider a "
    "PostgreSQL-specific migration (build the index concurrently only when the connection is PostgreSQL) "
    "or a release note telling PostgreSQL users the table is locked against writes while the index builds."
)
SILENCED_NOTE = (
    "{count} index-build lock finding(s) left out: this project targets {engines} only ({where}), where "
    "adding an index does not block writes the way PostgreSQL's CREATE INDEX does (MySQL/InnoDB builds it "
    "online; SQLite serializes writers anyway) and CONCURRENTLY does not exist."
)


def _names(engines: frozenset[str] | set[str]) -> str:
    names = sorted(ENGINE_NAMES.get(e, e) for e in engines)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _postgres_own_file(path: str) -> bool:
    return path.lower().endswith(".sql") and _POSTGRES_PATH.search(path) is not None


def _multi_engine(finding: Finding, facts: DatabaseFacts, engines: frozenset[str]) -> Finding:
    others = engines - {POSTGRESQL}
    where = "; ".join(facts.where(e, finding.path) for e in sorted(others))
    severity = MULTI_ENGINE_SEVERITY if finding.severity.rank > MULTI_ENGINE_SEVERITY.rank else finding.severity
    return finding.model_copy(
        update={
            "severity": severity,
            "confidence": min(finding.confidence, MULTI_ENGINE_CONFIDENCE),
            "evidence": finding.evidence + MULTI_ENGINE_EVIDENCE.format(others=_names(others), where=where),
        }
    )


def weigh_index_locks(
    findings: list[Finding], facts_of: Callable[[], DatabaseFacts]
) -> tuple[list[Finding], list[str]]:
    """The findings with index-build lock claims fitted to the project's engines, and the summary notes.
    `facts_of` is called only when there is such a finding (reading the tree costs nothing otherwise)."""
    if not any(f.source in INDEX_LOCK_RULES for f in findings):
        return findings, []
    facts = facts_of()
    out: list[Finding] = []
    silenced: dict[frozenset[str], list[Finding]] = {}
    for f in findings:
        engines = facts.engines_for(f.path) if f.source in INDEX_LOCK_RULES else frozenset()
        if not engines or engines == {POSTGRESQL}:
            out.append(f)
        elif POSTGRESQL not in engines and engines <= NO_CONCURRENT_NEED:
            silenced.setdefault(engines, []).append(f)
        elif POSTGRESQL in engines and not _postgres_own_file(f.path):
            out.append(_multi_engine(f, facts, engines))
        else:
            out.append(f)
    notes = [
        SILENCED_NOTE.format(
            count=len(gone), engines=_names(engines),
            where="; ".join(facts.where(e, gone[0].path) for e in sorted(engines)),
        )
        for engines, gone in silenced.items()
    ]
    return out, notes
