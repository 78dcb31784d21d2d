"""Credential-shaped strings, found and masked before text leaves the process (logs, the model provider).

One list of shapes serves both: the log redactor (bot/app/logging_setup.py) and the diff, task and
tool output sent to the model (bot/specialist). Shapes: AWS access key ids and secret keys, GitHub,
Slack, Stripe, Google, Anthropic/OpenAI tokens, PEM private-key blocks, JWTs, `Bearer`/`token` header
values, and high-entropy literals assigned to names like `secret`, `password`, `token`, `api_key`.
Every pattern is linear in the text (bounded repetitions, no nested quantifiers): the text is hostile.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

MASK = "[masked secret]"
MIN_ENTROPY_BITS = 3.0  # per character, for a literal assigned to a secret-sounding name
MIN_ASSIGNED_CHARS = 8

SHAPES: tuple[re.Pattern[str], ...] = (
    # PEM private keys (a line prefix such as a diff's `+` may start each body line)
    re.compile(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----.*?(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY"
               r"( BLOCK)?-----|\Z)", re.DOTALL),
    re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16}\b"),  # AWS access key id
    re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})"),  # GitHub
    re.compile(r"\bxox[abprse]-[A-Za-z0-9-]{10,250}"),  # Slack tokens
    re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/]{20,100}"),  # Slack webhooks
    re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,250}|\bwhsec_[A-Za-z0-9]{16,250}"),  # Stripe
    re.compile(r"\bAIza[0-9A-Za-z_\-]{35}|\bya29\.[0-9A-Za-z_\-]{20,500}"),  # Google API key, OAuth token
    re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{16,250}|\bsk-(?:proj-)?[A-Za-z0-9]{32,250}"),  # Anthropic, OpenAI
    re.compile(r"\beyJ[A-Za-z0-9_\-]{8,2000}\.eyJ[A-Za-z0-9_\-]{8,4000}\.[A-Za-z0-9_\-]{0,2000}"),  # JWT
    re.compile(r"(?i)\b(?:bearer|token)[ \t]+[A-Za-z0-9_\-.=]{16,2000}"),  # Authorization header values
)
# name = "literal" (Python, JS, Ruby, Go, YAML, .env, JSON): a secret-sounding name, then the value
_ASSIGNED = re.compile(
    r"(?i)\b[\w.-]{0,40}?(?:secret|passw(?:or)?d|passwd|pwd|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key"
    r"|auth[_-]?key|credentials?|client[_-]?secret)[\w.-]{0,40}?['\"]?[ \t]{0,5}(?::=|=>|[=:])[ \t]{0,5}"
    r"(?:(['\"])([^'\"\s]{8,500})\1|([A-Za-z0-9+/_\-=]{16,500})\b)"
)


@dataclass(frozen=True)
class Masked:
    text: str
    count: int


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values()) if value else 0.0


def _looks_secret(value: str) -> bool:
    if len(value) < MIN_ASSIGNED_CHARS or entropy(value) < MIN_ENTROPY_BITS:
        return False
    lowered = value.lower()
    if "://" in value or lowered.startswith(("/", "./", "os.environ", "env", "settings.", "config.", "process.env",
                                             "${", "{{", "<", "%(")):
        return False  # a URL, a path, a reference to where the secret really lives
    return not (value.isidentifier() and not any(c.isdigit() for c in value))


def _mask_lines(matched: str, mask: str) -> str:
    """A multi-line match keeps its line structure (a diff stays a diff): each line keeps its first
    character when that is a diff prefix, the rest is the mask on the first line only."""
    lines = matched.split("\n")
    out = [mask]
    for line in lines[1:]:
        out.append(line[:1] if line[:1] in "+- " else "")
    return "\n".join(out)


def mask_credentials(text: str, mask: str = MASK) -> Masked:
    """`text` with every credential-shaped string replaced by `mask`, and how many were replaced."""
    count = 0

    def whole(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return _mask_lines(m.group(0), mask)

    for shape in SHAPES:
        text = shape.sub(whole, text)

    def assigned(m: re.Match[str]) -> str:
        nonlocal count
        group = 2 if m.group(2) is not None else 3
        value = m.group(group)
        if mask in value or not _looks_secret(value):
            return m.group(0)
        count += 1
        start, end = m.start(group) - m.start(0), m.end(group) - m.start(0)
        return m.group(0)[:start] + mask + m.group(0)[end:]

    text = _ASSIGNED.sub(assigned, text)
    return Masked(text, count)
