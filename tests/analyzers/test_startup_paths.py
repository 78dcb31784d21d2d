"""Start-up code: per-item findings in a start-up hook or in a one-off data fix that start-up code imports are
capped at medium and never gate; the same code in a request handler keeps its severity."""

from __future__ import annotations

from pathlib import Path

from bot.analyzers.calibrate import LOWERED_CONFIDENCE, calibrate
from bot.analyzers.context import PathKind, classify
from bot.analyzers.engine import analyze_change
from bot.core.diff import parse_diff
from bot.core.model import Category, Finding, Severity
from bot.core.repo import LocalGitRepo
from bot.core.repo_config import RepoConfig
from bot.review.pipeline import builtin_analyzers
from tests.support.gitrepo import GitRepo

BODY = """    for group in session.query(Group).all():
        admin = session.query(User).filter(User.group_id == group.id).first()
        admin.touched = True
"""
HOOK = "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.on_event(\"startup\")\ndef fix_groups():\n" + BODY
ROUTE = HOOK.replace('@app.on_event("startup")', '@app.get("/groups")')
LINE = 9


def _finding(path: str, line: int) -> Finding:
    return Finding(id="SR-x", category=Category.n_plus_one, severity=Severity.high, path=path, start_line=line,
                   end_line=line, title="t", evidence="seen", risk="r", rollback="", monitoring="",
                   source="py-sqlalchemy-query-in-loop", confidence=0.8)


def test_a_start_up_hook_caps_a_per_item_query_and_a_route_does_not() -> None:
    capped = calibrate(_finding("app/main.py", LINE), HOOK)
    assert capped is not None and capped.path_kind == "startup"
    assert capped.severity == Severity.medium and capped.confidence == LOWERED_CONFIDENCE
    assert "start-up code" in capped.evidence and "on_event" in capped.evidence
    route = calibrate(_finding("app/main.py", LINE), ROUTE)
    assert route is not None and route.path_kind == "request_handler"
    assert route.severity == Severity.high and route.confidence == 0.8


def test_functions_handed_to_the_framework_as_start_up_hooks() -> None:
    plain = "def fix_groups(session):\n" + BODY
    for registration in ("app = FastAPI(lifespan=fix_groups)\n", "app = Starlette(on_startup=[fix_groups])\n",
                         'app.add_event_handler("startup", fix_groups)\n', "app.before_first_request(fix_groups)\n"):
        assert classify("app/main.py", plain + "\n\n" + registration, 3).kind == PathKind.startup, registration
    assert classify("app/main.py", plain, 3).kind == PathKind.library
    ready = ("from django.apps import AppConfig\n\n\nclass ShopConfig(AppConfig):\n    def ready(self):\n"
             "        for g in Group.objects.all():\n            g.members.count()\n")
    assert classify("shop/apps.py", ready, 7).kind == PathKind.startup
    assert classify("shop/apps.py", ready.replace("def ready", "def other"), 7).kind == PathKind.library
    receiver = ("from django.db.models.signals import post_migrate\n\n\n@receiver(post_migrate)\n"
                "def backfill(sender, **kwargs):\n    for g in Group.objects.all():\n        g.members.count()\n")
    assert classify("shop/signals.py", receiver, 7).kind == PathKind.startup
    assert classify("shop/signals.py", receiver.replace("post_migrate)", "post_save)"), 7).kind == PathKind.library


FIX = "def fix_groups(session):\n" + BODY
INIT_DB = ("from app.db.fixes.fix_groups import fix_groups\n\n\ndef init_db(session):\n"
           "    run_migrations()\n    fix_groups(session)\n")
API = ("from fastapi import APIRouter\n\nfrom app.db.fixes.fix_groups import fix_groups\n\n"
       "router = APIRouter()\n\n\n@router.post(\"/repair\")\ndef repair(session):\n    fix_groups(session)\n")


def _review(tmp_path: Path, files: dict[str, str]) -> list[Finding]:
    repo = GitRepo(tmp_path / "r")
    repo.write("README.md", "x\n")
    for path, text in files.items():
        if path != "app/db/fixes/fix_groups.py":
            repo.write(path, text)
    base = repo.commit()
    repo.write("app/db/fixes/fix_groups.py", files["app/db/fixes/fix_groups.py"])
    head = repo.commit()
    result = analyze_change(parse_diff(repo.git("diff", base, head)), LocalGitRepo(str(repo.root), head),
                            RepoConfig(), builtin_analyzers(), base_repo=LocalGitRepo(str(repo.root), base))
    return [f for f in result.findings if f.category == Category.n_plus_one]


def test_a_data_fix_module_that_start_up_code_imports_is_capped(tmp_path: Path) -> None:
    found = _review(tmp_path, {"app/db/fixes/fix_groups.py": FIX, "app/db/init_db.py": INIT_DB})
    assert found and all(f.path_kind == "startup" for f in found)
    assert all(f.severity == Severity.medium and f.confidence <= LOWERED_CONFIDENCE for f in found)
    assert "init_db() in app/db/init_db.py" in found[0].evidence


def test_the_same_fix_also_called_by_a_request_handler_is_not_capped(tmp_path: Path) -> None:
    found = _review(tmp_path, {"app/db/fixes/fix_groups.py": FIX, "app/db/init_db.py": INIT_DB,
                               "app/api/repair.py": API})
    assert found and all(f.path_kind == "library" and f.severity == Severity.high for f in found)


def test_a_fix_folder_alone_decides_nothing(tmp_path: Path) -> None:
    found = _review(tmp_path, {"app/db/fixes/fix_groups.py": FIX})
    assert found and all(f.path_kind == "library" and f.severity == Severity.high for f in found)
