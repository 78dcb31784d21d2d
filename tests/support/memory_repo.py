"""A RepoView over a dict of files (or a fixture folder), for tests of code that reads a repository."""

from __future__ import annotations

from pathlib import Path

from bot.core.repo import Entry, RepoAccessError, TextMatch, check_path, glob_match, search_lines


class MemoryRepo:
    def __init__(self, files: dict[str, str], rev: str = "rev-1", root: str = "memory") -> None:
        self.files = files
        self.rev = rev
        self.root = root
        self.reads: list[str] = []

    @classmethod
    def from_folder(cls, folder: Path, rev: str = "rev-1") -> MemoryRepo:
        files = {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}
        return cls(files, rev, root=str(folder))

    def read_text(self, path: str) -> str:
        norm = check_path(path)
        if norm not in self.files:
            raise RepoAccessError(f"{path}: no such file")
        self.reads.append(norm)
        return self.files[norm]

    def read_bytes(self, path: str) -> bytes:
        return self.read_text(path).encode()

    def list_files(self, glob: str | None = None) -> list[str]:
        return sorted(p for p in self.files if glob_match(p, glob))

    def list_folder(self, path: str) -> list[Entry]:
        prefix = path.rstrip("/") + "/" if path not in ("", ".") else ""
        return [Entry(p, "file", len(t)) for p, t in self.files.items() if p.startswith(prefix)]

    def search_text(self, pattern: str, glob: str | None = None, max_results: int = 100) -> list[TextMatch]:
        return search_lines(self, pattern, glob, max_results)
