"""What a reply under one of the bot's inline comments asks for: a command for that one finding, or a question.

`/scale-review accept <reason>` and `/scale-review dismiss <reason>` (or `false-positive <reason>`) act on the
finding of the thread they are written in; `/scale-review explain` and any other text ask the specialist
about it. Pure: the text is bounded here and never echoed back unneutralised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.core.commands import MAX_REASON_CHARS, find_command_line, inline_code

MAX_REPLY_CHARS = 4_000
COMMAND_PREFIX = "/scale-review"

ReplyKind = Literal["accept", "dismiss", "explain", "question", "invalid"]

REPLY_COMMANDS = ("`/scale-review accept <reason>`, `/scale-review dismiss <reason>` (or `false-positive <reason>`), "
                  "`/scale-review explain`")
NO_MODEL_TEXT = "No model is configured for this App, so I cannot discuss this finding; in this thread I answer " \
    + REPLY_COMMANDS + "."
INVALID_REPLY_TEXT = "I could not read that: {error}. In this thread I answer " + REPLY_COMMANDS + "."
NEEDS_REASON = "`{word}` needs a reason, e.g. `/scale-review {word} the table holds 40 rows`"
UNKNOWN_WORD = "unknown sub-command {word}"

_FINDING_ID = re.compile(r"^SR-[0-9a-f]{6,40}$")
ACCEPT_WORDS = frozenset({"accept"})
DISMISS_WORDS = frozenset({"dismiss", "false-positive", "false_positive", "fp"})


@dataclass(frozen=True)
class ReplyAsk:
    kind: ReplyKind
    reason: str = ""  # accept / dismiss: why (bounded)
    text: str = ""  # explain / question: what was asked (bounded)
    error: str = ""

    @property
    def changes_gate(self) -> bool:
        return self.kind in ("accept", "dismiss")


def _reason(rest: list[str]) -> str:
    if rest and _FINDING_ID.match(rest[0]):  # `accept SR-… reason` (the command's form) works here too
        rest = rest[1:]
    return " ".join(rest)[:MAX_REASON_CHARS]


def parse_reply(body: str) -> ReplyAsk:
    """The ask of one reply's text (a command line anywhere outside quotes and code, else a question)."""
    text = (body or "")[:MAX_REPLY_CHARS]
    line = find_command_line(text)
    if line is None:
        return ReplyAsk("question", text=text.strip())
    words = line[len(COMMAND_PREFIX):].split()
    if not words:
        return ReplyAsk("explain", text=text.strip())
    head = words[0].lower()
    if head in ACCEPT_WORDS or head in DISMISS_WORDS:
        reason = _reason(words[1:])
        if not reason:
            return ReplyAsk("invalid", error=NEEDS_REASON.format(word=head if head in ACCEPT_WORDS else "dismiss"))
        return ReplyAsk("accept" if head in ACCEPT_WORDS else "dismiss", reason=reason)
    if head in ("explain", "why"):
        return ReplyAsk("explain", text=text.strip())
    return ReplyAsk("invalid", error=UNKNOWN_WORD.format(word=inline_code(words[0])))
