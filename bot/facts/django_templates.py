"""Loops of Django (and Jinja) templates over a context variable, with what each reads per item (pure, bounded).

`{% for order in orders %} ... {{ order.customer.name }} ... {% endfor %}` renders one row per order and reads
`customer.name` on each: a relation read per row when the view's queryset does not load it. Only loops over a
plain context name (`orders`, `orders.all`, `page_obj`) are kept; reads are `var.a` or `var.a.b` inside `{{ }}`
and `{% %}` tags of the loop's body, up to its `{% endfor %}` (nested loops are followed to their end). Each line
is read at most once per loop, the body at most MAX_BODY_LINES lines, at most MAX_LOOPS loops per template.
"""

from __future__ import annotations

import re

from bot.facts.graph import RepoFacts, ViewLoop

MAX_BODY_LINES = 200
MAX_LOOPS = 40  # loops read per template
MAX_LINE_CHARS = 2000

_FOR = re.compile(r"\{%-?\s*for\s+(\w+)(?:\s*,\s*\w+)?\s+in\s+(\w+)(?:\.all)?\s*(?:\|[^%]{0,80})?-?%\}")
_ANY_FOR = re.compile(r"\{%-?\s*for\b")
_END_FOR = re.compile(r"\{%-?\s*endfor\s*-?%\}")
_TAG = re.compile(r"\{\{.{0,300}?\}\}|\{%.{0,300}?%\}")
_TEMPLATE = re.compile(r"(?:^|/)templates/(.+\.(?:html|txt|jinja2?|j2|xml))$")


def template_name(path: str) -> str | None:
    """The name a view renders `path` by ("shop/orders.html" for `shop/templates/shop/orders.html`)."""
    match = _TEMPLATE.search(path)
    return match.group(1) if match else None


def read_django_template(text: str, path: str, facts: RepoFacts) -> None:
    name = template_name(path)
    if name is None or "{%" not in text:
        return
    lines = [line[:MAX_LINE_CHARS] for line in text.splitlines()]
    loops = 0
    for n, line in enumerate(lines):
        if loops >= MAX_LOOPS:
            return
        for m in _FOR.finditer(line):
            loops += 1
            var, context = m.group(1), m.group(2)
            loop = ViewLoop(path, n + 1, context, var)
            reads = re.compile(rf"(?<![\w.]){re.escape(var)}\.(\w+)(?:\.(\w+))?")
            depth = 0
            for k in range(n, min(len(lines), n + MAX_BODY_LINES)):
                text_k = lines[k][m.end() :] if k == n else lines[k]
                for tag in _TAG.finditer(text_k):
                    chunk = tag.group(0)
                    if _ANY_FOR.match(chunk):
                        depth += 1
                    elif _END_FOR.match(chunk):
                        depth -= 1
                        if depth < 0:
                            break
                    for attr, then in reads.findall(chunk):
                        loop.reads.setdefault(f"{attr}.{then}" if then else attr, k + 1)
                if depth < 0:
                    break
            if loop.reads:
                facts.django_templates.setdefault(name, []).append(loop)
