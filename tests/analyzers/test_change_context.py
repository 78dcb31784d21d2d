"""What a change offers one file's analysis: bounded, cached reads of the base and of head folders."""

from __future__ import annotations

from bot.analyzers import change_context as cc


class _Gone(Exception):
    pass


def test_a_folder_is_read_once_per_review_with_its_extension_only() -> None:
    reads: list[str] = []
    listing = [("pkg/a.go", "file"), ("pkg/b.go", "file"), ("pkg/notes.md", "file"), ("pkg/sub", "dir")]

    def read(path: str) -> str:
        reads.append(path)
        if path == "pkg/b.go":
            raise _Gone(path)
        return "package pkg\n"

    folder = cc.folder_reader(lambda _f: listing, read, (_Gone,))
    assert folder("pkg", ".go") == [("pkg/a.go", "package pkg\n")]
    assert folder("pkg", ".go") == [("pkg/a.go", "package pkg\n")]
    assert reads == ["pkg/a.go", "pkg/b.go"]  # cached: the second call read nothing


def test_folders_files_and_bytes_are_capped(monkeypatch) -> None:
    monkeypatch.setattr(cc, "MAX_FOLDERS", 2)
    monkeypatch.setattr(cc, "MAX_FOLDER_FILES", 3)
    many = [(f"pkg/f{i}.go", "file") for i in range(10)]
    folder = cc.folder_reader(lambda _f: many, lambda p: "x" * 10, (_Gone,))
    assert len(folder("a", ".go")) == 3
    assert len(folder("b", ".go")) == 3
    assert folder("c", ".go") == []  # a third folder is over the cap
    monkeypatch.setattr(cc, "MAX_FOLDER_BYTES", 15)
    small = cc.folder_reader(lambda _f: many, lambda p: "x" * 10, (_Gone,))
    assert len(small("a", ".go")) == 2  # the read that crosses the byte cap is the last
    unlisted = cc.folder_reader(lambda _f: (_ for _ in ()).throw(_Gone("no folder")), lambda p: "", (_Gone,))
    assert unlisted("x", ".go") == []


def test_a_change_rules_analyzer_binds_a_copy_of_its_own_kind_and_names_its_rules() -> None:
    from bot.analyzers.go_package_io import GoPackageIOAnalyzer

    default = GoPackageIOAnalyzer()
    context = cc.ChangeContext(files=(cc.ChangedText("a.go", None, "package a\n"),))
    bound = default.bind_change(context)
    assert type(bound) is GoPackageIOAnalyzer and bound is not default
    assert bound._context is context and default._context.files == ()
    assert bound.rule_ids() == ["go-package-helper-query-per-item"]
