"""Values copied from untrusted code into finding text: one line, inside inline code, inert.

A container name, a table, an identifier or an SQL statement comes from the pull request. Put into
a finding's evidence as it is, a newline and a ```` ``` ```` fence would start a block GitHub acts on
(a one-click "Commit suggestion" the bot never produced), and a backtick would end the code span.
`code_text` flattens every line break to a space and replaces backticks with a look-alike (U+02CB);
`code_span` wraps that in single backticks, so the value always renders as one piece of code.
"""

from __future__ import annotations

import re

GRAVE = "\u02cb"  # MODIFIER LETTER GRAVE ACCENT: looks like a backtick, is not Markdown
MAX_VALUE_CHARS = 200
EMPTY = "(empty)"
_BREAKS = re.compile(r"[\s\u0085\u2028\u2029]+")


def code_text(value: str, limit: int = MAX_VALUE_CHARS) -> str:
    """`value` on one line, without backticks, at most `limit` characters (for inside a code span)."""
    flat = _BREAKS.sub(" ", value).strip().replace("`", GRAVE)
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return flat


def code_span(value: str, limit: int = MAX_VALUE_CHARS) -> str:
    """`value` as one inline code span that nothing inside can end or break."""
    return f"`{code_text(value, limit) or EMPTY}`"
