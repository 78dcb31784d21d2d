"""Static analyzers: ast-grep rules as YAML data, plus plain parsers for SQL and manifests."""

from __future__ import annotations

from bot.analyzers.base import Analyzer


def default_analyzers() -> list[Analyzer]:
    """Every built-in analyzer, in the order they run."""
    analyzers: list[Analyzer] = []
    try:
        from bot.analyzers.astgrep import AstGrepAnalyzer
    except ImportError:  # pragma: no cover - filled in by the rule-pack work
        pass
    else:
        analyzers.append(AstGrepAnalyzer.load_builtin())
    try:
        from bot.analyzers.sql_migrations import SqlMigrationAnalyzer
    except ImportError:  # pragma: no cover
        pass
    else:
        analyzers.append(SqlMigrationAnalyzer())
    try:
        from bot.analyzers.kubernetes import KubernetesAnalyzer
    except ImportError:  # pragma: no cover
        pass
    else:
        analyzers.append(KubernetesAnalyzer())
    try:
        from bot.analyzers.dockerfile import DockerfileAnalyzer
    except ImportError:  # pragma: no cover
        pass
    else:
        analyzers.append(DockerfileAnalyzer())
    return analyzers
