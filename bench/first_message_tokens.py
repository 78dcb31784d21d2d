"""Benchmark: the size of the specialist's first request, before and after a code change (facts, verdicts).

Two pull requests are reviewed through the CLI path (`review_local`, scripted model that finishes at once,
tokens = characters / 4 as in tests/support/fakemodel.py): a small Django change (models plus a view with a
relation read per row and a client built per request: one confident and one low-confidence finding) and the
10-file service change of bench/specialist_tokens.py (no data model, confident findings only). Printed per
PR: the first request's input tokens (system prompt, tool definitions and the first message), the first
message's tokens, and the tokens of its facts block and of its list of findings to judge.

Run: .venv/bin/python bench/first_message_tokens.py [--code /work/main]
     (--code imports the product from another checkout, e.g. main, to compare the same PRs before a change)
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

parser = argparse.ArgumentParser()
parser.add_argument("--code", default=str(Path(__file__).resolve().parents[1]), help="checkout to import from")
ARGS = parser.parse_args()
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, ARGS.code)  # first: the product and its test fakes come from there

from synth_python import service_module as module  # noqa: E402

from bot.review.local_review import review_local  # noqa: E402
from tests.support.fakemodel import FakeModel, Reply, tokens, tool  # noqa: E402
from tests.support.gitrepo import GitRepo  # noqa: E402

MODELS = (
    "from django.db import models\n\n\n"
    "class Customer(models.Model):\n    name = models.CharField(max_length=9)\n\n\n"
    "class Order(models.Model):\n"
    "    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)\n"
    "    status = models.CharField(max_length=9, db_index=True)\n"
)
VIEW = (
    "import requests\nfrom shop.models import Order\n\n\n"
    "def names(request):\n"
    "    return [o.customer.name for o in Order.objects.filter(status='open')]\n\n\n"
    "def ping(request):\n"
    "    session = requests.Session()\n"
    "    return session.get('https://example.com', timeout=5).status_code\n"
)


def django_pr(root: Path) -> tuple[GitRepo, str]:
    g = GitRepo(root)
    g.write("shop/models.py", MODELS)
    g.write("shop/views.py", "")
    g.commit("base")
    g.branch("feature")
    g.write("shop/views.py", VIEW)
    g.commit("Add views")
    return g, "main"




def services_pr(root: Path) -> tuple[GitRepo, str]:
    g = GitRepo(root)
    g.write("app/__init__.py", "")
    g.write("app/db.py", "session = None\n")
    for i in range(10):
        g.write(f"app/service_{i}.py", module(i, 0))
    g.commit("base")
    g.branch("feature")
    for i in range(10):
        g.write(f"app/service_{i}.py", module(i, 3))
    g.commit("the pull request")
    return g, "main"


def block(task: str, name: str) -> str:
    m = re.search(rf"<untrusted-{name}-([0-9a-f]+)>(.*?)</untrusted-{name}-\1>", task, re.S)
    return m.group(2) if m else ""


def measure(g: GitRepo, base: str) -> dict[str, Any]:
    fake = FakeModel([Reply([tool("finish_review", summary="done")])])
    review_local(str(g.root), base, use_llm=True, env={}, model_client=fake.client())
    usage = fake.usages[0]
    task = fake.requests[0]["messages"][0]["content"][0]["text"]
    return {
        "request": usage["input_tokens"] + usage["cache_read_input_tokens"] + usage["cache_creation_input_tokens"],
        "message": tokens(task), "facts": tokens(block(task, "facts")), "judge": tokens(block(task, "judge")),
    }


def main() -> None:
    print(f"code: {ARGS.code}")
    print(f"{'pull request':<28}{'request':>10}{'message':>10}{'facts':>8}{'judge':>8}   (input tokens)")
    for name, make in (("django view (1 file)", django_pr), ("10 service modules", services_pr)):
        with tempfile.TemporaryDirectory() as tmp:
            g, base = make(Path(tmp) / "repo")
            m = measure(g, base)
        print(f"{name:<28}{m['request']:>10,}{m['message']:>10,}{m['facts']:>8,}{m['judge']:>8,}")


if __name__ == "__main__":
    main()
