"""`scale-review memory list|revoke`: the same database the service writes, settings passed in."""

from __future__ import annotations

import io

from bot.app.memory_store import store_for_url
from bot.cli import build_parser
from bot.cli.memory import EXIT_CONFIG, EXIT_MISSING, EXIT_OK, run_memory
from bot.core.settings import Settings


def run(settings, *argv):
    out, err = io.StringIO(), io.StringIO()
    code = run_memory(settings, build_parser().parse_args(["memory", *argv]), out, err)
    return code, out.getvalue(), err.getvalue()


def test_list_and_revoke_entries_the_service_recorded(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'sr.db'}")
    store = store_for_url(settings.database_url)
    store.migrate()
    entry, _ = store.record(repo="octo/shop", rule="py-requests-no-timeout", fingerprint="MF-1",
                            finding_id="SR-aaaaaaaaaa", kind="dismiss", by="maintainer",
                            reason="capped\nupstream", pr=7, comment_id=5)
    code, out, _ = run(settings, "list", "--repo", "octo/shop")
    assert code == EXIT_OK
    assert out.split("\t")[0] == str(entry.id) and "py-requests-no-timeout" in out and "capped upstream" in out
    assert run(settings, "revoke", "--repo", "octo/shop", str(entry.id))[0] == EXIT_OK
    assert "no memory entries" in run(settings, "list", "--repo", "octo/shop")[1]
    assert "(revoked)" in run(settings, "list", "--repo", "octo/shop", "--all")[1]
    code, _, err = run(settings, "revoke", "--repo", "octo/shop", str(entry.id))
    assert code == EXIT_MISSING and "no live memory entry" in err
    assert run(settings, "list", "--repo", "not-a-repo")[0] == EXIT_CONFIG
