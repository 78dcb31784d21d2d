"""Model and analyzer text made safe to post on GitHub or print in a terminal.

Everything a finding carries may come from the pull request or from a model reading it, so it is
data, never markup: outside code, @-mentions are broken with a zero-width space so nobody is
pinged, `#123` / `GH-123` cross-references are broken so no issue is spammed with back-links, and
`&`, `<` and `>` are escaped so no raw HTML or entity renders, and links, images and bare URLs are
broken (`](`, `][`, `]:`, `://`, `www.` get a zero-width space) so nothing links or loads from the
text. Inside code nothing renders, but a hidden `<!-- scale-review:` marker could still be forged
there, so `<!--` is broken everywhere. An unclosed code fence is closed, so a field can never swallow
the rest of the comment, and no fence anywhere in the text may be a ```` ```suggestion ```` block
(its info string becomes `text`): only the bot's own validated suggestion is one.
"""

from __future__ import annotations

import re

ZWSP = "\u200b"
MARKER_PREFIX = "<!-- scale-review:"

_MENTION = re.compile(r"(?<!\w)@(?=[A-Za-z0-9])")
_ISSUE_REF = re.compile(r"#(?=\d)")
_GH_REF = re.compile(r"(?<![\w])(GH)-(?=\d)", re.IGNORECASE)
_HTML_COMMENT = re.compile(r"<!--")
_LINK = re.compile(r"\](?=[(\[:])|(?<=[A-Za-z]):(?=//)|(?<![\w.])(www)\.(?=\w)", re.IGNORECASE)
_SUGGESTION_FENCE = re.compile(r"(`{3,}|~{3,})([ \t]*)suggestion", re.IGNORECASE)
_FENCE_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_BACKTICKS = re.compile(r"`+")
# C0/C1 control characters except tab and newline (terminal escape injection), and bidi overrides
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
MAX_FIELD_CHARS = 20_000
# any character (or `gh-`) that neutralize might change; text without one is returned as it is
_MAY_CHANGE = re.compile(
    r"[&<>@#`~\]\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]|gh-|:/|www\.", re.IGNORECASE
)


def _neutralize_prose(text: str) -> str:
    """Text outside any code: escape HTML, break mentions and cross-references."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MENTION.sub("@" + ZWSP, text)
    text = _ISSUE_REF.sub("#" + ZWSP, text)
    text = _LINK.sub(_break_link, text)
    return _GH_REF.sub(lambda m: m.group(1) + ZWSP + "-", text)


def _break_link(m: re.Match[str]) -> str:
    """`](`, `][`, `]:` (links, images, reference definitions), `://` and `www.` (autolinks), broken."""
    return (m.group(1) + ZWSP + ".") if m.group(1) else m.group(0) + ZWSP


def neutralize_code(text: str) -> str:
    """Text inside code renders verbatim; only a hidden-marker opener must not survive."""
    return _HTML_COMMENT.sub("<!-" + ZWSP + "-", text)


def _neutralize_inline(line_block: str) -> str:
    """A run of non-fenced lines: code spans stay code, the rest is prose."""
    out: list[str] = []
    pos = 0
    while pos < len(line_block):
        opener = _BACKTICKS.search(line_block, pos)
        if opener is None:
            break
        closer = _find_closing_run(line_block, opener.end(), len(opener.group(0)))
        if closer is None:
            # an unmatched backtick run is literal text in CommonMark
            out.append(_neutralize_prose(line_block[pos : opener.end()]))
            pos = opener.end()
            continue
        out.append(_neutralize_prose(line_block[pos : opener.start()]))
        out.append(neutralize_code(line_block[opener.start() : closer]))
        pos = closer
    out.append(_neutralize_prose(line_block[pos:]))
    return "".join(out)


def _find_closing_run(text: str, start: int, length: int) -> int | None:
    """End index of the next backtick run of exactly `length`, or None."""
    for m in _BACKTICKS.finditer(text, start):
        if len(m.group(0)) == length:
            return m.end()
    return None


def _is_closing_fence(line: str, fence: str) -> bool:
    stripped = line.strip()
    return (
        len(line) - len(line.lstrip(" ")) <= 3
        and len(stripped) >= len(fence)
        and set(stripped) == {fence[0]}
    )


def neutralize(text: str) -> str:
    """Free text from a model or an analyzer, made safe to embed in a GitHub Markdown body."""
    if not text:
        return ""
    if _MAY_CHANGE.search(text) is None:  # the common case: plain prose (most of a long summary)
        return text[:MAX_FIELD_CHARS]
    return _neutralize_full(text)


def _neutralize_full(text: str) -> str:
    text = strip_control(text)[:MAX_FIELD_CHARS]
    lines = text.split("\n")
    out: list[str] = []
    prose: list[str] = []
    fence: str | None = None
    for line in lines:
        if fence is None:
            m = _FENCE_OPEN.match(line)
            if m and not (m.group(2)[0] == "`" and "`" in m.group(3)):
                if prose:
                    out.append(_neutralize_inline("\n".join(prose)))
                prose = []
                fence = m.group(2)
                out.append(neutralize_code(line))
            else:
                prose.append(line)
        else:
            out.append(neutralize_code(line))
            if _is_closing_fence(line, fence):
                fence = None
    if prose:
        out.append(_neutralize_inline("\n".join(prose)))
    if fence is not None:
        out.append(fence)  # close what the text left open
    return _SUGGESTION_FENCE.sub(r"\1\2text", "\n".join(out))


def one_line(text: str, limit: int = 300) -> str:
    """A neutralized single line for a table cell or a heading: no newlines, no pipes, clipped."""
    flat = " ".join(strip_control(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return neutralize(flat).replace("|", "\\|")


def strip_control(text: str) -> str:
    """Remove control characters (terminal escape sequences, bidi overrides); keep tab and newline."""
    return _CONTROL.sub("", text.replace("\r\n", "\n"))


def clip(text: str, limit: int) -> str:
    """Shorten text to at most `limit` characters, saying that it was cut."""
    if len(text) <= limit:
        return text
    note = f"… ({len(text) - limit:,} more characters cut)"
    return text[: max(0, limit - len(note))].rstrip() + note


def neutralize_clipped(text: str, limit: int) -> str:
    """`neutralize` whose output is at most `limit` characters (escaping can grow text)."""
    raw_limit = limit
    for _ in range(8):  # escaping grows text at most 5x, so a few shrinks always suffice
        out = neutralize(clip(text, raw_limit))
        if len(out) <= limit:
            return out
        raw_limit = max(0, raw_limit * limit // len(out) - 64)
    return neutralize(clip(text, 0))[:limit]
