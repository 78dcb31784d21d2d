"""Generated Python code for the analyzer benchmark: a git repository whose head adds N lines per file.

The code is written here from templates (views, loops with queries, HTTP calls, async pollers, retry
loops, plain helpers), with names varied per file, so the analyzers see realistic, varied input.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

HEADER = '''"""Orders module {i}: views and background helpers."""

import asyncio
import logging
import time

import requests
from django.http import JsonResponse

from shop.models import Customer, Order, OrderItem

log = logging.getLogger(__name__)
'''

NEUTRAL = """

def format_amount_{i}_{k}(cents, currency="EUR"):
    units, rest = divmod(int(cents), 100)
    return f"{{units}}.{{rest:02d}} {{currency}}"


def chunk_{i}_{k}(items, size=100):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
"""

BLOCKS = (
    """

def order_summary_{i}_{k}(request, customer_id):
    customer = Customer.objects.get(pk=customer_id)
    lines = []
    for order in Order.objects.filter(customer=customer):
        items = OrderItem.objects.filter(order=order)
        lines.append({{"id": order.id, "total": sum(x.price for x in items)}})
    return JsonResponse({{"orders": lines}})
""",
    """

def fetch_rates_{i}_{k}(base="EUR"):
    resp = requests.get(f"https://rates.example.com/{{base}}")
    resp.raise_for_status()
    return resp.json()["rates"]
""",
    """

async def poll_status_{i}_{k}(client, job_id):
    for _ in range(10):
        status = await client.status(job_id)
        if status == "done":
            return status
        time.sleep(1)
    return "timeout"
""",
    """

def mark_shipped_{i}_{k}(order_ids):
    for order in Order.objects.filter(id__in=order_ids):
        order.status = "shipped"
        order.save()
""",
    """

def call_with_retry_{i}_{k}(url):
    for attempt in range(5):
        try:
            return requests.get(url, timeout=3)
        except requests.RequestException:
            log.warning("attempt %s failed", attempt)
            time.sleep(2)
    raise RuntimeError("gave up")
""",
    """

def post_event_{i}_{k}(payload):
    resp = requests.post("https://hooks.example.com/events", json=payload, timeout=5)
    return resp.status_code
""",
    """

async def gather_{i}_{k}(client, ids):
    await asyncio.sleep(0)
    return [await client.get(x) for x in ids[:50]]
""",
)


def added_block(i: int, lines: int) -> str:
    """Exactly `lines` lines of new code for file i: template blocks, padded with constants."""
    out: list[str] = []
    k = 0
    while True:
        block = BLOCKS[(i + k) % len(BLOCKS)].format(i=i, k=k).splitlines()
        if len(out) + len(block) > lines:
            break
        out.extend(block)
        k += 1
    out.extend(f"LIMIT_{i}_{n} = {n * 10}" for n in range(lines - len(out)))
    return "\n".join(out) + "\n"


def base_text(i: int, neutral_blocks: int = 2) -> str:
    return HEADER.format(i=i) + "".join(NEUTRAL.format(i=i, k=k) for k in range(neutral_blocks))


def _git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.invalid",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    }
    proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=True, text=True, env=env)
    return proc.stdout.strip()


def build_repo(root: Path, files: int, lines_per_file: int) -> tuple[str, str]:
    """A repo with `files` modules at base; head inserts `lines_per_file` lines into each. -> (base, head)."""
    root.mkdir(parents=True, exist_ok=True)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "commit.gpgsign", "false")
    paths = [root / "shop" / f"pkg{i % 10}" / f"orders_{i}.py" for i in range(files)]
    for i, p in enumerate(paths):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(base_text(i))
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    base = _git(root, "rev-parse", "HEAD")
    for i, p in enumerate(paths):
        text = p.read_text()
        cut = text.index("\n\ndef chunk_")  # insert in the middle of the module, not only at the end
        p.write_text(text[:cut] + "\n" + added_block(i, lines_per_file).rstrip("\n") + text[cut:])
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "head")
    return base, _git(root, "rev-parse", "HEAD")


def changed_lines(root: Path, base: str, head: str) -> int:
    total = 0
    for row in _git(root, "diff", "--numstat", base, head).splitlines():
        added, removed, _ = row.split("\t", 2)
        total += int(added) + int(removed)
    return total


def service_module(i: int, extra: int) -> str:
    """A ~120-line service module (the token benchmarks' PRs); `extra` adds a loop with a query per item."""
    lines = [f'"""Service {i}."""', "", "from app.db import session", ""]
    for k in range(18):
        lines += [f"def handler_{i}_{k}(request):", f"    item = session.get('table_{i}', request.id)",
                  f"    return {{'id': item.id, 'value': item.value * {k}}}", "", ""]
    for k in range(extra):
        lines += [f"def batch_{i}_{k}(ids):", "    out = []", "    for x in ids:",
                  f"        out.append(session.get('table_{i}', x))", "    return out", ""]
    return "\n".join(lines) + "\n"
