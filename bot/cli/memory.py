"""`scale-review memory list|revoke --repo OWNER/NAME`: what a repository decided about findings, on the server.

Reads the same database as the service (DATABASE_URL; on PostgreSQL, `--schema` when the service runs with
another DBOS system schema). Exit codes: 0 ok, 1 no such entry to revoke, 2 configuration error.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from bot.core.settings import Settings, SettingsError

EXIT_OK, EXIT_MISSING, EXIT_CONFIG = 0, 1, 2
NO_ENTRIES = "no memory entries for {repo}"
REVOKED = "revoked entry {id} of {repo}: findings with that code are raised again"
NOT_FOUND = "scale-review: {repo} has no live memory entry {id}"
BAD_REPO = "scale-review: --repo must be OWNER/NAME"
SETTINGS_PROBLEM = "scale-review: {problem}"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("memory", help="list or revoke what a repository decided about findings")
    sub = parser.add_subparsers(dest="memory_command", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="the repository's memory entries")
    listing.add_argument("--repo", required=True, metavar="OWNER/NAME")
    listing.add_argument("--all", action="store_true", help="include revoked entries")
    revoke = sub.add_parser("revoke", help="stop an entry counting (findings with its code are raised again)")
    revoke.add_argument("--repo", required=True, metavar="OWNER/NAME")
    revoke.add_argument("id", type=int)
    revoke.add_argument("--by", default="cli", help="who revokes it (kept with the entry)")
    for p in (listing, revoke):
        p.add_argument("--schema", default=None, help="PostgreSQL: the DBOS system schema (default dbos)")
    parser.set_defaults(func=cmd_memory)


def cmd_memory(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        for problem in exc.problems:
            print(SETTINGS_PROBLEM.format(problem=problem), file=sys.stderr)
        return EXIT_CONFIG
    return run_memory(settings, args, sys.stdout, sys.stderr)


def run_memory(settings: Settings, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bot.app.memory_store import store_for_url
    from bot.review.memory_text import render_memory_lines

    if args.repo.count("/") != 1 or not all(args.repo.split("/")):
        print(BAD_REPO, file=err)
        return EXIT_CONFIG
    store = store_for_url(settings.database_url, args.schema)
    store.migrate()
    if args.memory_command == "list":
        entries = store.entries(args.repo, include_revoked=args.all)
        for line in render_memory_lines(entries) or [NO_ENTRIES.format(repo=args.repo)]:
            print(line, file=out)
        return EXIT_OK
    if not store.revoke(args.repo, args.id, args.by):
        print(NOT_FOUND.format(repo=args.repo, id=args.id), file=err)
        return EXIT_MISSING
    print(REVOKED.format(id=args.id, repo=args.repo), file=out)
    return EXIT_OK
