"""Static analyzers: ast-grep rules as YAML data, plus plain parsers for SQL, manifests and Dockerfiles."""

from __future__ import annotations

from bot.analyzers.base import Analyzer


def default_analyzers() -> list[Analyzer]:
    """Every built-in analyzer, in the order they run."""
    from bot.analyzers.astgrep import AstGrepAnalyzer
    from bot.analyzers.dockerfile import DockerfileAnalyzer
    from bot.analyzers.go_package_io import GoPackageIOAnalyzer
    from bot.analyzers.kubernetes import KubernetesAnalyzer
    from bot.analyzers.py_imported_io import PyImportedIOAnalyzer
    from bot.analyzers.relations import RelationsAnalyzer
    from bot.analyzers.safeguards import SafeguardAnalyzer
    from bot.analyzers.sql_migrations import SqlMigrationAnalyzer

    return [
        AstGrepAnalyzer.load_builtin(),
        SqlMigrationAnalyzer(),
        KubernetesAnalyzer(),
        DockerfileAnalyzer(),
        SafeguardAnalyzer(),
        RelationsAnalyzer(),
        GoPackageIOAnalyzer(),
        PyImportedIOAnalyzer(),
    ]
