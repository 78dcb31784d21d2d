"""Per-item calls to Go functions of the same package that query: across the package's files, two calls deep."""

from __future__ import annotations

from pathlib import Path

from bot.analyzers.go_package_io import _functions, io_functions
from tests.analyzers.test_differential import _review

RULE = "go-package-helper-query-per-item"

SERVICE = """package api

func (s *Service) ListMemos(ctx context.Context) ([]*Memo, error) {
\tmemos, err := s.Store.ListMemos(ctx, &store.FindMemo{})
\tif err != nil {
\t\treturn nil, err
\t}
\tvar out []*Memo
\tfor _, memo := range memos {
\t\tm, err := s.convert(ctx, memo)
\t\tif err != nil {
\t\t\treturn nil, err
\t\t}
\t\tout = append(out, m)
\t}
\tfor _, kind := range []string{"a", "b"} {
\t\t_, _ = s.convert(ctx, &store.Memo{Kind: kind})
\t}
\treturn out, nil
}
"""

CONVERTER = """package api

func (s *Service) convert(ctx context.Context, memo *store.Memo) (*Memo, error) {
\tm := &Memo{Name: memo.UID}
{extra}\treturn m, nil
}

func (s *Service) relations(ctx context.Context, uid string) ([]*Relation, error) {
\treturn s.Store.ListMemoRelations(ctx, &store.FindRelation{UID: uid})
}
"""


def _found(tmp_path: Path, before: dict[str, str], after: dict[str, str]) -> list[tuple[str, int]]:
    result = _review(tmp_path, before, after)
    return [(f.path, f.start_line) for f in result.findings if f.source == RULE]


def test_a_query_added_to_a_helper_that_a_loop_of_another_file_calls_per_item(tmp_path: Path) -> None:
    plain = CONVERTER.replace("{extra}", "")
    querying = CONVERTER.replace("{extra}", "\trels, _ := s.relations(ctx, memo.UID)\n\tm.Relations = rels\n")
    found = _found(tmp_path, {"api/service.go": SERVICE, "api/converter.go": plain},
                   {"api/service.go": SERVICE, "api/converter.go": querying})
    assert found == [("api/converter.go", 5)]


def test_a_new_loop_calling_an_io_helper_of_another_file_is_reported_at_the_call(tmp_path: Path) -> None:
    querying = CONVERTER.replace("{extra}", "\trels, _ := s.relations(ctx, memo.UID)\n\tm.Relations = rels\n")
    found = _found(tmp_path, {"api/converter.go": querying, "api/other.go": "package api\n"},
                   {"api/converter.go": querying, "api/service.go": SERVICE})
    assert found == [("api/service.go", 10)]  # the literal list loop at line 16 is bounded: quiet


def test_a_helper_without_io_or_a_loop_over_batches_stays_quiet(tmp_path: Path) -> None:
    plain = CONVERTER.replace("{extra}", "\tm.Title = strings.ToUpper(memo.UID)\n")
    batched = SERVICE.replace("range memos", "range batches")
    assert _found(tmp_path / "a", {"api/service.go": SERVICE, "api/converter.go": CONVERTER.replace("{extra}", "")},
                  {"api/service.go": SERVICE, "api/converter.go": plain}) == []
    querying = CONVERTER.replace("{extra}", "\trels, _ := s.relations(ctx, memo.UID)\n\tm.Relations = rels\n")
    assert _found(tmp_path / "b", {"api/converter.go": querying, "api/other.go": "package api\n"},
                  {"api/converter.go": querying, "api/service.go": batched}) == []


def test_io_is_direct_or_one_call_deeper_and_one_line_functions_end_where_they_end() -> None:
    text = (
        "package x\n\nfunc (a *App) Query() Resolver { return (*Query)(a) }\n\n"
        "func (a *App) formatNC(ctx context.Context, id string) (string, error) {\n"
        "\tn, err := a.NCStore.FindOne(ctx, id)\n\treturn n.Name, err\n}\n\n"
        "func (q *Query) formatDest(ctx context.Context, d Dest) (string, error) {\n"
        "\treturn (*App)(q).formatNC(ctx, d.ID)\n}\n\n"
        "func pure(s string) string {\n\treturn strings.TrimSpace(s)\n}\n"
    )
    io = io_functions(_functions("x.go", text))
    assert set(io) == {("App", "formatNC"), ("Query", "formatDest")}


def test_a_method_of_another_value_is_not_taken_for_the_package_method_of_that_name() -> None:
    text = (
        "package x\n\nfunc (s *Service) Run(ctx context.Context) error {\n\treturn s.Store.Save(ctx, s.x)\n}\n\n"
        "func (s *Replayer) ReplayAll(ctx context.Context, jobs []Job) {\n\tfor _, j := range jobs {\n"
        "\t\t_ = j.Run(ctx)\n\t\t_ = zap.Any(\"x\", j.GetContext())\n\t}\n}\n"
    )
    from bot.analyzers.go_package_io import _per_item_calls

    funcs = _functions("x.go", text)
    assert set(io_functions(funcs)) == {("Service", "Run")}
    calls = _per_item_calls("x.go", text.splitlines(), funcs)
    assert [key for _line, _w, key, _over in calls if key in io_functions(funcs)] == []
