"""`scale-review redeliver [--since HOURS] [--dry-run]`: ask GitHub to redeliver recent failed deliveries.

Exit codes: 0 every failed delivery was redelivered (or none failed), 1 some redeliveries (or the
listing) failed, 2 configuration error (missing App id/key, or GitHub refused the App's credentials).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from bot.core.settings import Settings

EXIT_OK, EXIT_PROBLEMS, EXIT_CONFIG = 0, 1, 2
MAX_HOURS = 72.0  # GitHub keeps deliveries for 3 days
BAD_SINCE = "scale-review: --since must be more than 0 and at most {max:g} hours (GitHub keeps deliveries 3 days)"
LISTING_FAILED = "scale-review: could not list the App's deliveries: {error}"
CREDENTIALS_REFUSED = ("scale-review: GitHub refused the App's credentials ({error}); check GITHUB_APP_ID and "
                       "GITHUB_PRIVATE_KEY")
CONFIG_STATUSES = (401, 403, 404)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("redeliver", help="ask GitHub to redeliver the App's recent failed deliveries")
    parser.add_argument("--since", type=float, default=24.0, metavar="HOURS",
                        help="look back this many hours (default 24, at most 72)")
    parser.add_argument("--dry-run", action="store_true", help="list what would be redelivered, change nothing")
    parser.set_defaults(func=cmd_redeliver)


def gateway_factory(settings: Settings) -> Any:
    """A factory of App-authenticated gateways (deliveries need the App JWT, no installation)."""
    from bot.github.auth import AppCredentials, TokenCache
    from bot.github.client import GitHubGateway

    creds = AppCredentials(settings.github_app_id, settings.github_private_key.get_secret_value())
    return lambda: GitHubGateway(settings.github_api_url, creds, 0, token_cache=TokenCache(),
                                 delivery_id=None, seconds_between_requests=0, seconds_between_writes=0.1)


def cmd_redeliver(args: argparse.Namespace) -> int:
    from bot.app.logging_setup import configure_logging
    from bot.app.redelivery import redeliver_failed
    from bot.cli.service import load_settings
    from bot.github.retry import GitHubError

    if not 0 < args.since <= MAX_HOURS:
        print(BAD_SINCE.format(max=MAX_HOURS), file=sys.stderr)
        return EXIT_CONFIG
    settings = load_settings(need_secret=False)
    if settings is None:
        return EXIT_CONFIG
    configure_logging(settings.log_level, settings.log_format)  # logs on stderr, the report on stdout
    try:
        report = redeliver_failed(gateway_factory(settings), time.time() - args.since * 3600, args.dry_run)
    except GitHubError as exc:
        if exc.status in CONFIG_STATUSES:
            print(CREDENTIALS_REFUSED.format(error=exc), file=sys.stderr)
            return EXIT_CONFIG
        print(LISTING_FAILED.format(error=exc), file=sys.stderr)
        return EXIT_PROBLEMS
    except ValueError as exc:  # the key does not parse
        print(CREDENTIALS_REFUSED.format(error=exc), file=sys.stderr)
        return EXIT_CONFIG
    for line in report.lines():
        print(line)
    return EXIT_OK if report.ok else EXIT_PROBLEMS
