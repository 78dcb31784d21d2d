"""`rb-association-in-each` weighed against the repository's Rails models (pure given the model graph).

The rule guesses from the shape `item.things.each` inside another loop that `things` is a has_many association.
The model graph (bot/facts/) knows every association name the models declare (classes and concerns). When the
project has ActiveRecord models, read in full, and none declares `things` (nor a well-known gem adds it), the
receiver is a plain Ruby object (YAML-backed reference data, a struct, an array attribute): no query, dropped.
When the model named after the receiver (`order.items` -> Order) declares it, the guess is confirmed: its
confidence rises to CONFIRMED_CONFIDENCE. Anything else is left as the rule reported it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.core.model import Finding
from bot.facts.graph import RepoFacts
from bot.facts.other_orms import camelize

RULE = "rb-association-in-each"
CONFIRMED_CONFIDENCE = 0.7
MAX_LINE = 400
# associations added by widely used gems' macros rather than by has_many/has_one lines
GEM_ASSOCIATIONS = frozenset({
    "versions",  # paper_trail has_paper_trail
    "audits", "associated_audits", "own_and_associated_audits",  # audited
    "taggings", "tags", "base_tags", "tag_taggings",  # acts_as_taggable_on
    "slugs",  # friendly_id history
    "roles",  # rolify
    "children", "descendants", "ancestors", "siblings", "subtree", "path",  # ancestry, closure_tree
    "self_and_descendants", "self_and_ancestors",  # awesome_nested_set, closure_tree
    "translations",  # globalize, mobility
    "notifications", "noticed_events",  # noticed
    "attachments", "blobs",  # Active Storage
})
_RECEIVER = re.compile(
    r"(@?[a-z_]\w*)\.([a-z_]\w*)\.(?:each|map|flat_map|collect|each_with_index|sum|select|reject|find)\b"
)
_PARTIAL = re.compile(r"app/models/|unread|cap\b")


def weigh_association_reads(
    findings: list[Finding], texts: dict[str, str], facts: Callable[[], RepoFacts]
) -> list[Finding]:
    """The findings with each `rb-association-in-each` checked against the model graph (built only when one is
    there): dropped when no model declares the association, raised when the receiver's model does."""
    if not any(f.source == RULE for f in findings):
        return findings
    graph = facts()
    out: list[Finding] = []
    for f in findings:
        if f.source != RULE:
            out.append(f)
            continue
        verdict = _weigh(f, texts.get(f.path, ""), graph)
        if verdict is not None:
            out.append(verdict)
    return out


def _weigh(finding: Finding, text: str, graph: RepoFacts) -> Finding | None:
    lines = text.splitlines()
    if not 0 < finding.start_line <= len(lines):
        return finding
    match = _RECEIVER.search(lines[finding.start_line - 1][:MAX_LINE])
    if match is None:
        return finding
    receiver, name = match.group(1).lstrip("@"), match.group(2)
    rails = [m for m in graph.models.values() if m.orm == "rails"]
    if not rails or any(_PARTIAL.search(note) for note in graph.not_read):
        return finding  # no ActiveRecord models known, or not all of them read: the guess stands
    model = graph.models.get(camelize(receiver))
    if model is not None and model.orm == "rails" and name in model.relations:
        confirmed = f" ({model.name} declares `{name}`)"
        return finding.model_copy(update={"confidence": max(finding.confidence, CONFIRMED_CONFIDENCE),
                                          "evidence": finding.evidence + confirmed})
    if name in graph.rails_associations or name in GEM_ASSOCIATIONS or name.endswith(("_attachments", "_blobs")):
        return finding
    return None
