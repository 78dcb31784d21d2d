"""`/scale-review` comment commands: parsing and the texts the App answers with.

Whatever a command echoes back of the comment goes through `inline_code`: one bounded line in a code
span it cannot close, so a backtick cannot break out and an `@team` or a hidden marker stays inert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

COMMAND_PREFIX = "/scale-review"
MAX_REASON_CHARS = 500
MAX_FOCUS_AREAS = 8
MAX_SCANNED_LINES = 200
MAX_ECHO_CHARS = 40

CommandKind = Literal["run", "help", "full", "focus", "accept", "memory", "invalid"]

HELP_TEXT = """\
**scale-review commands** (write access needed for everything but `help`):

| command | what it does |
|---|---|
| `/scale-review` | review the pull request's current head again (what the specialist already found on it is reused) |
| `/scale-review full` | a full review: every changed file, the specialist reading it all again when it is enabled |
| `/scale-review focus db,cache` | a review that looks at these areas first |
| `/scale-review accept <finding-id> <reason>` | accept the risk of one finding; it no longer fails the check |
| `/scale-review memory` | list what this repository decided about findings (dismissed, accepted, withdrawn) |
| `/scale-review help` | this message |

Under one of the bot's inline comments, reply `/scale-review accept <reason>`, `/scale-review dismiss <reason>`
(or `false-positive <reason>`), or ask a question (`/scale-review explain`).
"""
# the one answer to someone without the permission: a fixed sentence (`needed` is a permission name
# from the repository config), never their own text, whatever they wrote
UNAUTHORISED_TEXT = (
    "Sorry, `/scale-review` commands and the **Accept risk** button need `{needed}` permission on this "
    "repository. Nothing was run."
)
INVALID_TEXT = "@{login} I could not read that command: {error}. Try `/scale-review help`."
ACCEPTED_TEXT = "Risk of `{finding_id}` accepted by @{login}: {reason}"
USAGE_ACCEPT = "use `/scale-review accept <finding-id> <reason>`, e.g. `accept SR-0123456789 cached upstream`"
UNKNOWN_SUBCOMMAND = "unknown sub-command {word}"
NOT_AN_AREA = "{token} is not an area name"
FOCUS_NEEDS_AREAS = "`focus` needs one or more areas, e.g. `focus db,cache`"

_FINDING_ID = re.compile(r"^SR-[0-9a-f]{6,40}$")
_AREA = re.compile(r"^[a-z0-9][a-z0-9_-]{0,29}$")
_BACKTICKS = re.compile(r"`+")
_ZWSP = "\u200b"


def inline_code(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    """`text` as one inert Markdown code span: a single line of at most `limit` printable characters,
    fenced with more backticks than any run inside (CommonMark), mentions and comment openers broken."""
    flat = "".join(ch for ch in " ".join(text.split()) if ch.isprintable())[:limit]
    flat = flat.replace("@", "@" + _ZWSP).replace("<!--", "<" + _ZWSP + "!--")
    flat = _BACKTICKS.sub(lambda run: run.group()[:3], flat)  # keeps the fence short
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(flat)), default=0) + 1)
    pad = " " if flat[:1] in ("`", " ") or flat[-1:] in ("`", " ") or not flat else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


@dataclass(frozen=True)
class Command:
    """One parsed command. `error` is set (and kind is "invalid") when the text cannot be used."""

    kind: CommandKind
    areas: tuple[str, ...] = ()
    finding_id: str = ""
    reason: str = ""
    error: str = ""
    words: tuple[str, ...] = field(default=(), compare=False)

    @property
    def is_paid(self) -> bool:
        """Whether the command starts work that costs API calls or model tokens."""
        return self.kind in ("run", "full", "focus", "accept")


def find_command_line(body: str) -> str | None:
    """The first line that starts with `/scale-review` outside quotes and code fences."""
    in_fence = False
    for line in body.splitlines()[:MAX_SCANNED_LINES]:
        text = line.strip()
        if text.startswith("```") or text.startswith("~~~"):
            in_fence = not in_fence
            continue
        if in_fence or text.startswith(">"):
            continue
        if text == COMMAND_PREFIX or text.startswith(COMMAND_PREFIX + " ") or text.startswith(COMMAND_PREFIX + "\t"):
            return text
    return None


def parse_command(body: str) -> Command | None:
    """Parse a comment body; None when it holds no `/scale-review` command at all."""
    line = find_command_line(body)
    if line is None:
        return None
    words = tuple(line[len(COMMAND_PREFIX) :].split())
    if not words or words[0].lower() in ("run", "review"):
        return Command("run", words=words)
    head, rest = words[0].lower(), words[1:]
    if head == "help":
        return Command("help", words=words)
    if head == "full":
        return Command("full", words=words)
    if head == "memory":
        return Command("memory", words=words)
    if head == "focus":
        return _parse_focus(rest, words)
    if head == "accept":
        return _parse_accept(rest, words)
    return Command("invalid", error=UNKNOWN_SUBCOMMAND.format(word=inline_code(words[0])), words=words)


def _parse_focus(rest: tuple[str, ...], words: tuple[str, ...]) -> Command:
    areas: list[str] = []
    for token in " ".join(rest).replace(",", " ").split():
        area = token.lower()
        if not _AREA.match(area):
            return Command("invalid", error=NOT_AN_AREA.format(token=inline_code(token)), words=words)
        if area not in areas:
            areas.append(area)
    if not areas:
        return Command("invalid", error=FOCUS_NEEDS_AREAS, words=words)
    return Command("focus", areas=tuple(areas[:MAX_FOCUS_AREAS]), words=words)


def _parse_accept(rest: tuple[str, ...], words: tuple[str, ...]) -> Command:
    if len(rest) < 2 or not _FINDING_ID.match(rest[0]):
        return Command("invalid", error=USAGE_ACCEPT, words=words)
    reason = " ".join(rest[1:])[:MAX_REASON_CHARS]
    return Command("accept", finding_id=rest[0], reason=reason, words=words)
