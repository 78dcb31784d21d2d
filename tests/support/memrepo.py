"""An in-memory RepoView and a diff that adds whole files: analyzer and engine tests without git."""

from __future__ import annotations

from bot.core.deadline import NEVER, Deadline
from bot.core.diff import ChangeSet, parse_diff
from bot.core.repo import Entry, RepoAccessError, TextMatch, glob_match, search_lines


class MemoryRepo:
    """Files held in a dict; `read_text` refuses what is not there, like the real views."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = dict(files)

    def read_text(self, path: str) -> str:
        if path not in self.files:
            raise RepoAccessError(f"{path}: no such file")
        if "\x00" in self.files[path]:
            raise RepoAccessError(f"{path}: binary file")
        return self.files[path]

    def list_files(self, glob: str | None = None) -> list[str]:
        return sorted(p for p in self.files if glob_match(p, glob))

    def list_folder(self, path: str) -> list[Entry]:
        return [Entry(p, "file", len(t)) for p, t in sorted(self.files.items()) if p.startswith(path)]

    def search_text(
        self, pattern: str, glob: str | None = None, max_results: int = 100, deadline: Deadline = NEVER
    ) -> list[TextMatch]:
        return search_lines(self, pattern, glob, max_results, deadline)


def added_files_diff(files: dict[str, str]) -> str:
    """A git diff that adds each file whole."""
    parts = []
    for path, text in files.items():
        lines = text.splitlines()
        parts.append(f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
                     f"@@ -0,0 +1,{len(lines)} @@\n" + "".join(f"+{line}\n" for line in lines))
    return "".join(parts)


def added_files(files: dict[str, str]) -> tuple[ChangeSet, MemoryRepo]:
    return parse_diff(added_files_diff(files)), MemoryRepo(files)
