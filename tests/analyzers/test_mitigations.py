"""Mitigations already in place lower or silence a finding; the code path caps its severity."""

from __future__ import annotations

from pathlib import Path

from bot.analyzers.calibrate import LOWERED_CONFIDENCE, calibrate
from bot.analyzers.engine import analyze_change
from bot.analyzers.mitigations import Effect, find_mitigation, ignored_columns, loop_bound, model_path_for_table
from bot.core.diff import parse_diff
from bot.core.model import Category, Finding, Severity
from bot.core.repo import LocalGitRepo
from bot.core.repo_config import RepoConfig
from bot.review.pipeline import builtin_analyzers
from tests.support.gitrepo import GitRepo


def _finding(path: str, line: int, category: Category, source: str = "rule", end: int | None = None,
             severity: Severity = Severity.high, confidence: float = 0.9) -> Finding:
    return Finding(id="SR-x", category=category, severity=severity, path=path, start_line=line,
                   end_line=end or line, title="t", evidence="seen", risk="r", rollback="", monitoring="",
                   source=source, confidence=confidence)


LOOP = "def sync(items):\n    for x in {it}:\n        Thing.objects.get(pk=x)\n"


def test_loops_bounded_by_small_literals_or_slices_silence_per_item_findings() -> None:
    for bounded in ("range(5)", "items[:10]", "[1, 2, 3]", "('a', 'b')"):
        text = LOOP.format(it=bounded)
        assert loop_bound("a.py", text, 3), bounded
        mitigation = find_mitigation(_finding("a.py", 3, Category.n_plus_one), text)
        assert mitigation is not None and mitigation.effect == Effect.silence
    for unbounded in ("items", "range(n)", "items[:100000]", "Thing.objects.all()"):
        assert loop_bound("a.py", LOOP.format(it=unbounded), 3) is None, unbounded
    assert loop_bound("a.go", "for i := 0; i < 3; i++ {\n\tdb.Get(i)\n}\n", 2)
    assert loop_bound("a.rb", "5.times do\n  User.find(1)\nend\n", 2)
    assert loop_bound("a.js", "for (let i = 0; i < n; i++) {\n  await get(i);\n}\n", 2) is None


def test_a_bounded_loop_does_not_silence_other_categories() -> None:
    text = LOOP.format(it="range(5)")
    assert find_mitigation(_finding("a.py", 3, Category.missing_timeout), text) is None


def test_lock_timeout_in_the_migration_lowers_a_locking_finding() -> None:
    text = "SET lock_timeout = '5s';\nCREATE INDEX i ON orders (customer_id);\n"
    finding = _finding("db/migrate/1.sql", 2, Category.locking_migration, "sql-create-index-not-concurrently")
    calibrated = calibrate(finding, text)
    assert calibrated is not None
    assert calibrated.severity == Severity.low and calibrated.confidence == LOWERED_CONFIDENCE
    assert "lock_timeout" in calibrated.evidence
    assert calibrate(finding, "CREATE INDEX i ON orders (customer_id);\n") == finding.model_copy(
        update={"path_kind": "library"})



def test_lock_and_statement_timeouts_together_silence_lock_hold_findings_but_not_drops() -> None:
    text = "SET lock_timeout = '2s';\nSET statement_timeout = '30s';\nCREATE INDEX i ON orders (customer_id);\n"
    index = _finding("db/migrate/1.sql", 3, Category.locking_migration, "sql-create-index-not-concurrently")
    drop = _finding("db/migrate/1.sql", 3, Category.locking_migration, "sql-drop-column")
    assert calibrate(index, text) is None
    lowered = calibrate(drop, text)
    assert lowered is not None and lowered.severity == Severity.low

RAILS_DROP = """class RemoveLegacy < ActiveRecord::Migration[7.1]
  def change
    safety_assured { remove_column :line_items, :legacy_code }
  end
end
"""


def test_safety_assured_lowers_and_ignored_columns_silences_a_rails_column_removal() -> None:
    finding = _finding("db/migrate/2_remove.rb", 3, Category.other, "sql-drop-column", severity=Severity.medium)
    lowered = find_mitigation(finding, RAILS_DROP, lambda table: frozenset())
    assert lowered is not None and lowered.effect == Effect.weaken
    silenced = find_mitigation(finding, RAILS_DROP, lambda table: frozenset({"legacy_code"}) if table == "line_items"
                               else frozenset())
    assert silenced is not None and silenced.effect == Effect.silence
    assert find_mitigation(finding, RAILS_DROP.replace("safety_assured { ", "").replace(" }", ""), None) is None


def test_ignored_columns_and_model_paths() -> None:
    model = "class LineItem < ApplicationRecord\n  self.ignored_columns += %w[legacy_code other]\nend\n"
    assert ignored_columns(model) == {"legacy_code", "other"}
    assert ignored_columns('self.ignored_columns = ["a", :b]') == {"a", "b"}
    assert model_path_for_table("line_items") == "app/models/line_item.rb"
    assert model_path_for_table("categories") == "app/models/category.rb"


def test_a_go_client_whose_transport_has_deadlines_is_lowered() -> None:
    text = ("package c\n\nvar client = &http.Client{\n\tTransport: &http.Transport{\n"
            "\t\tDialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,\n\t},\n}\n")
    finding = _finding("c/client.go", 3, Category.missing_timeout, "go-http-client-no-timeout", end=7)
    calibrated = calibrate(finding, text)
    assert calibrated is not None and calibrated.confidence < 0.8 and calibrated.severity == Severity.low


SEED = """from django.core.management.base import BaseCommand


class Command(BaseCommand):
    def handle(self, *args, **options):
        for user in User.objects.all():
            Profile.objects.get(user=user)
"""
VIEW = """from django.http import JsonResponse


def profiles(request):
    out = []
    for user in User.objects.all():
        out.append(Profile.objects.get(user=user).name)
    return JsonResponse(out, safe=False)
"""


def test_severity_follows_the_code_path() -> None:
    finding = _finding("shop/management/commands/populatedb.py", 7, Category.n_plus_one)
    seeded = calibrate(finding, SEED)
    assert seeded is not None and seeded.severity == Severity.low and seeded.path_kind == "seed_script"
    command = calibrate(finding.model_copy(update={"path": "shop/management/commands/rebuild.py"}), SEED)
    assert command is not None and command.severity == Severity.low and command.path_kind == "command"
    view = calibrate(_finding("shop/views.py", 7, Category.n_plus_one), VIEW)
    assert view is not None and view.severity == Severity.high and view.path_kind == "request_handler"


def test_the_engine_caps_a_per_item_query_in_a_seeding_command(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "r")
    repo.write("README.md", "x\n")
    base = repo.commit()
    repo.write("shop/management/commands/populatedb.py", SEED)
    repo.write("shop/views.py", VIEW)
    head = repo.commit()
    result = analyze_change(parse_diff(repo.git("diff", base, head)), LocalGitRepo(str(repo.root), head),
                            RepoConfig(), builtin_analyzers(), base_repo=LocalGitRepo(str(repo.root), base))
    by_path = {f.path: f for f in result.findings if f.category == Category.n_plus_one}
    assert by_path["shop/management/commands/populatedb.py"].severity == Severity.low
    assert by_path["shop/views.py"].severity.at_least(Severity.medium)
    assert by_path["shop/views.py"].path_kind == "request_handler"


def test_a_loop_over_a_module_level_literal_is_bounded() -> None:
    text = "TOPICS = [\n    {'slug': 'a'},\n    {'slug': 'b'},\n]\n\n\ndef forward(apps):\n" \
           "    for entry in TOPICS:\n        Topic.objects.get_or_create(slug=entry['slug'])\n"
    assert loop_bound("m.py", text, 9) == "the loop runs over TOPICS, a literal defined in this module"
    assert loop_bound("m.py", text.replace("TOPICS = [", "TOPICS = load(["), 9) is None
    assert loop_bound("m.py", text.replace("in TOPICS:", "in TOPICS.items():"), 9)


def test_ruby_relations_folded_with_or_are_one_query() -> None:
    text = ("def rates(reqs)\n  reqs.map do |r|\n    Rate.where(date: r.date)\n  end.reduce(:or).to_a\nend\n")
    mitigation = find_mitigation(_finding("app/models/feed.rb", 3, Category.n_plus_one), text)
    assert mitigation is not None and mitigation.effect == Effect.silence
    loaded = text.replace("end.reduce(:or).to_a", "end")
    assert find_mitigation(_finding("app/models/feed.rb", 3, Category.n_plus_one), loaded) is None


def test_a_bounded_loop_bounds_only_what_it_encloses() -> None:
    ended = "for (let i = 0; i < 5; i++) {\n  warm(i);\n}\n"
    ended += "for (const order of orders) {\n  await db.get(order.id);\n}\n"
    assert loop_bound("a.ts", ended, 5) is None  # the literal loop ended before the per-order loop began
    inner = "for i := 0; i < 3; i++ {\n\tfor _, u := range users {\n\t\tdb.Get(u)\n\t}\n}\n"
    assert loop_bound("a.go", inner, 3) is None  # bounded outside, per user inside
    outer = "users.each do |u|\n  3.times do\n    User.find(u.id)\n  end\nend\n"
    assert loop_bound("a.rb", outer, 3) is None  # bounded inside, per user outside
    nested = "for (let i = 0; i < 3; i++) {\n  if (ready) {\n    await get(i);\n  }\n}\n"
    assert loop_bound("a.js", nested, 3)


RB_CONSTANT_LOOP = """class RestoreAccreditation < ActiveRecord::Migration[8.1]
  PROVIDERS = [
    { name: "North", code: "5564" },
    { name: "South", code: "1504" },
  ].freeze

  def up
    PROVIDERS.each do |attrs|
      provider = Provider.find_by!(code: attrs[:code])
      provider.update!(name: attrs[:name])
    end
  end
end
"""


def test_a_ruby_loop_over_a_constant_bound_to_a_literal_is_bounded() -> None:
    assert loop_bound("db/data/1_restore.rb", RB_CONSTANT_LOOP, 9) == (
        "the loop runs over PROVIDERS, a literal collection of 2 bound once in this file")
    assert loop_bound("a.rb", RB_CONSTANT_LOOP.replace("PROVIDERS.each", "PROVIDERS.each_with_index.each"), 9)
    assert loop_bound("a.rb", "KINDS = %w[a b c].freeze\nKINDS.each do |k|\n  Kind.find_by(name: k)\nend\n", 3)
    # fires: the constant is loaded from the data, grown after its literal, or the loop is over a relation
    assert loop_bound("a.rb", RB_CONSTANT_LOOP.replace("PROVIDERS = [", "PROVIDERS = load(["), 9) is None
    grown = RB_CONSTANT_LOOP.replace("  def up\n", "  def up\n    PROVIDERS << extra\n")
    assert loop_bound("a.rb", grown, 10) is None
    assert loop_bound("a.rb", RB_CONSTANT_LOOP.replace("PROVIDERS.each", "Provider.all.each"), 9) is None
    rebound = RB_CONSTANT_LOOP.replace("  def up\n", "  def up\n    providers = Provider.all\n").replace(
        "PROVIDERS.each", "providers.each")
    assert loop_bound("a.rb", rebound, 10) is None


def test_js_and_go_loops_bounded_by_a_named_small_constant_or_literal() -> None:
    js = ("const CREATE_ATTEMPTS = 2;\nexport async function create() {\n"
          "  for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {\n    await redis.set(key(), v);\n  }\n}\n")
    assert loop_bound("a.ts", js, 4) == "the loop is bounded by CREATE_ATTEMPTS, the constant 2"
    assert loop_bound("a.ts", js.replace("= 2;", "= Number(env.ATTEMPTS);"), 4) is None
    assert loop_bound("a.ts", js.replace("= 2;", "= 5000;"), 4) is None
    kinds = "const KINDS = ['a', 'b'] as const;\nfor (const k of KINDS) {\n  await db.get(k);\n}\n"
    assert loop_bound("a.ts", kinds, 3)
    assert loop_bound("a.ts", kinds.replace("for (const k of KINDS)", "for (const k of rows)"), 3) is None
    go = ("const maxRetries = 3\n\nfunc f(db *sql.DB) {\n\tfor i := 0; i < maxRetries; i++ {\n"
          "\t\tdb.QueryRow(q)\n\t}\n}\n")
    assert loop_bound("a.go", go, 5) == "the loop is bounded by maxRetries, the constant 3"
    assert loop_bound("a.go", go.replace("maxRetries = 3", "maxRetries = cfg.N"), 5) is None
    names = "func f() {\n\tnames := []string{\"a\", \"b\"}\n\tfor _, n := range names {\n\t\tdb.Get(n)\n\t}\n}\n"
    assert loop_bound("a.go", names, 4)
    grown = names.replace("\tfor _, n", "\tnames = append(names, more...)\n\tfor _, n")
    assert loop_bound("a.go", grown, 5) is None


def test_a_retry_loop_that_stops_on_success_is_bounded() -> None:
    retry = ("async function take(redis, max) {\n  for (let attempt = 0; attempt < max; attempt++) {\n"
             "    const ok = await redis.set(k(), v, 'NX');\n    if (ok === 'OK') return ok;\n  }\n}\n")
    assert loop_bound("a.ts", retry, 3) == "a retry loop: it stops at the first success, bounded by its attempts"
    # fires: the same counted loop without an exit on success, or a counter that is not an attempt
    assert loop_bound("a.ts", retry.replace("    if (ok === 'OK') return ok;\n", ""), 3) is None
    assert loop_bound("a.ts", retry.replace("attempt", "i"), 3) is None


HATCHET_LIKE = """func backfill(ctx context.Context, db *sql.DB, partitions []string) error {
\tfor _, partition := range partitions {
\t\tvar last int64
\t\tfor {
\t\t\tstmt := fmt.Sprintf(`
\t\t\t\tUPDATE %s SET done = true WHERE id IN (
\t\t\t\t\tSELECT id FROM %s WHERE id > $1 ORDER BY id LIMIT $2
\t\t\t\t) RETURNING id`, partition, partition)
\t\t\trows, err := db.QueryContext(ctx, stmt, last, batchSize)
\t\t\tif err != nil {
\t\t\t\treturn err
\t\t\t}
\t\t\tn := count(rows, &last)
\t\t\tif n < batchSize {
\t\t\t\tbreak
\t\t\t}
\t\t}
\t}
\treturn nil
}
"""


def test_a_keyset_paginated_batch_loop_runs_one_query_per_batch() -> None:
    finding = _finding("migrate/1.go", 9, Category.n_plus_one, "go-query-in-loop")
    mitigation = find_mitigation(finding, HATCHET_LIKE)
    assert mitigation is not None and mitigation.effect == Effect.silence
    assert "stmt pages with LIMIT" in mitigation.why
    inline = "for {\n\trows, _ := db.Query(\"SELECT id FROM t WHERE id > $1 LIMIT $2\", last, 500)\n}\n"
    assert find_mitigation(_finding("a.go", 2, Category.n_plus_one), inline) is not None
    js = ("for (const table of tables) {\n  while (true) {\n"
          "    const rows = await db.select().from(table).where(gt(table.id, last)).limit(500);\n"
          "    if (rows.length < 500) break;\n  }\n}\n")
    assert find_mitigation(_finding("a.ts", 3, Category.n_plus_one), js) is not None
    rb = "users.each do |u|\n  loop do\n    batch = Event.where(user: u).where('id > ?', n).limit(1000)\n  end\nend\n"
    assert find_mitigation(_finding("a.rb", 3, Category.n_plus_one), rb) is not None
    # fires: no LIMIT, or the innermost loop walks a collection (one query per item, LIMIT or not)
    assert find_mitigation(finding, HATCHET_LIKE.replace(" LIMIT $2", "")) is None
    per_item = "for _, id := range ids {\n\trows, _ := db.Query(\"SELECT * FROM t WHERE a = $1 LIMIT 1\", id)\n}\n"
    assert find_mitigation(_finding("a.go", 2, Category.n_plus_one), per_item) is None
    js_of = "for (const id of ids) {\n  await db.query('SELECT * FROM t WHERE a = $1 LIMIT 1', [id]);\n}\n"
    assert find_mitigation(_finding("a.ts", 2, Category.n_plus_one), js_of) is None


SAME_OBJECT = """def attach_series(work, edition, series_list):
    for series in series_list:
        instance = find_series(series)
        work.series = None
        work.save()
        self.touched.save(update_fields=["at"])
        link(
            work=work,
            series=series,
        )
"""


def test_saving_the_same_object_on_every_pass_is_not_a_per_item_write() -> None:
    for line in (5, 6):
        mitigation = find_mitigation(_finding("a.py", line, Category.per_item_writes, "py-save-in-loop"), SAME_OBJECT)
        assert mitigation is not None and mitigation.effect == Effect.silence, line
        assert "saved on every pass" in mitigation.why
    # fires: the loop's own item, an object bound in the loop body, one reached through the item
    for saved in ("series.save()", "instance.save()", "series.book.save()"):
        text = SAME_OBJECT.replace("work.save()", saved)
        assert find_mitigation(_finding("a.py", 5, Category.per_item_writes, "py-save-in-loop"), text) is None, saved
    rebound = SAME_OBJECT.replace("        instance = find_series(series)\n", "        work = series.work\n")
    assert find_mitigation(_finding("a.py", 5, Category.per_item_writes, "py-save-in-loop"), rebound) is None
    nested = "def f(works):\n    for w in works:\n        for s in w.series.all():\n            w.save()\n"
    assert find_mitigation(_finding("a.py", 4, Category.per_item_writes, "py-save-in-loop"), nested) is None
    keyed = "def f(rows, by_id):\n    for r in rows:\n        by_id[r.id].save()\n"
    assert find_mitigation(_finding("a.py", 3, Category.per_item_writes, "py-save-in-loop"), keyed) is None


def test_one_row_lookups_and_loops_that_walk_items_are_not_batches() -> None:
    lookup = "while (queue.length) {\n  await db.query('SELECT * FROM t WHERE id = $1 LIMIT 1', [queue.shift()]);\n}\n"
    assert find_mitigation(_finding("a.ts", 2, Category.n_plus_one), lookup) is None
    one = "while (more) {\n  await db.query('SELECT * FROM t WHERE id = $1 LIMIT 1', [next()]);\n}\n"
    assert find_mitigation(_finding("a.ts", 2, Category.n_plus_one), one) is None
    rows = "for rows.Next() {\n\tdb.QueryRow(\"SELECT a FROM t WHERE b = $1 LIMIT $2\", id, n)\n}\n"
    assert find_mitigation(_finding("a.go", 2, Category.n_plus_one), rows) is None
    walk = ("for (let i = 0; i < ids.length; i++) {\n"
            "  await db.query('SELECT * FROM t WHERE a = $1 LIMIT 50', [ids[i]]);\n}\n")
    assert find_mitigation(_finding("a.ts", 2, Category.n_plus_one), walk) is None


def test_retry_words_inside_other_words_are_not_retries() -> None:
    walk = ("func f(entries []E) {\n\tfor i := 0; i < len(entries); i++ {\n\t\tif db.Get(entries[i]) != nil {\n"
            "\t\t\treturn\n\t\t}\n\t}\n}\n")
    assert loop_bound("a.go", walk, 3) is None
    retry = walk.replace("i < len(entries); i++", "attempt < maxAttempts; attempt++").replace("i := 0", "attempt := 0")
    assert loop_bound("a.go", retry, 3) == "a retry loop: it stops at the first success, bounded by its attempts"


PARTITIONS = """func rebuild(ctx context.Context, conn *pgx.Conn, parts []string) error {
\tfor _, p := range parts {
\t\tcreate := fmt.Sprintf(`CREATE INDEX CONCURRENTLY IF NOT EXISTS %s_idx ON %s (created_at)`, p, p)
\t\tif _, err := conn.Exec(ctx, create); err != nil {
\t\t\treturn err
\t\t}
\t\tif _, err := conn.Exec(ctx, "ALTER INDEX parent_idx ATTACH PARTITION "+p+"_idx"); err != nil {
\t\t\treturn err
\t\t}
\t}
\treturn nil
}
"""


def test_a_schema_statement_per_partition_is_not_a_per_item_write() -> None:
    for line in (4, 7):
        mitigation = find_mitigation(_finding("idx/rebuild.go", line, Category.per_item_writes, "go-write-in-loop"),
                                     PARTITIONS)
        assert mitigation is not None and mitigation.effect == Effect.silence
        assert "schema or maintenance statement" in mitigation.why
    rows = PARTITIONS.replace("CREATE INDEX CONCURRENTLY IF NOT EXISTS %s_idx ON %s (created_at)",
                              "UPDATE %s SET archived = true WHERE id = $1")
    assert find_mitigation(_finding("idx/rebuild.go", 4, Category.per_item_writes, "go-write-in-loop"), rows) is None


def test_a_javascript_loop_over_a_counted_array_is_bounded_by_its_count() -> None:
    poll = "for (const _ of {it}) {{\n  const status = await this.checkStatus(id);\n  await sleep(20000);\n}}\n"
    for bounded in ("Array(27).keys()", "[...Array(5).keys()]", "new Array(3)", "Array.from({ length: 4 })"):
        assert loop_bound("a.ts", poll.format(it=bounded), 2), bounded
    for unbounded in ("Array(n).keys()", "Array(100000).keys()", "items"):
        assert loop_bound("a.ts", poll.format(it=unbounded), 2) is None, unbounded


def test_a_typescript_parameter_type_is_not_read_as_a_literal_binding() -> None:
    # `ids: string[], opts: Options = {}` once read as `ids` bound to the empty literal `{}`
    text = ("export async function check(ids: string[], opts: Options = {}): Promise<void> {\n"
            "  for (const id of ids) {\n    await prisma.vendor.findUnique({ where: { id } });\n  }\n}\n")
    assert loop_bound("a.ts", text, 3) is None


STATEMENT_HELPER = """func rebuild(ctx context.Context, conn *pgx.Conn, partitions []string) error {
\tfor _, partition := range partitions {
\t\tcreate, attach, err := childStatements(partition)
\t\tif err != nil {
\t\t\treturn err
\t\t}
\t\tif _, err = conn.Exec(ctx, create); err != nil {
\t\t\treturn err
\t\t}
\t}
\treturn nil
}

func childStatements(partition string) (create, attach string, err error) {
\tcreate = fmt.Sprintf(`CREATE INDEX CONCURRENTLY IF NOT EXISTS %s_idx ON %s (created_at)`, partition, partition)
\tattach = fmt.Sprintf(`ALTER INDEX parent_idx ATTACH PARTITION %s_idx`, partition)
\treturn create, attach, nil
}
"""


def test_a_schema_statement_built_by_a_helper_of_the_file_is_not_a_per_item_write() -> None:
    finding = _finding("idx/rebuild.go", 7, Category.per_item_writes, "go-write-in-loop")
    mitigation = find_mitigation(finding, STATEMENT_HELPER)
    assert mitigation is not None and mitigation.effect == Effect.silence and "create" in mitigation.why
    rows = STATEMENT_HELPER.replace("CREATE INDEX CONCURRENTLY IF NOT EXISTS %s_idx ON %s (created_at)",
                                    "UPDATE %s SET archived = true WHERE id = $1")
    assert find_mitigation(finding, rows) is None


def test_a_loop_bounded_by_an_options_small_default_is_bounded() -> None:
    text = ("async function run({\n  key,\n  maxBucketsPerRun = 24,\n}: Options): Promise<void> {\n"
            "  for (let index = 0; index < maxBucketsPerRun; index += 1) {\n"
            "    await this.jobStore.acquireBucketAt(key, index);\n  }\n}\n")
    assert loop_bound("a.ts", text, 6)
    assert loop_bound("a.ts", text.replace("= 24,", "= 100000,"), 6) is None


TABS = """class TabsController < ApplicationController
  def destination_tabs
    current_course.assessment_categories{eager}.flat_map do |category|
      category.tabs.map do |tab|
        {{ id: tab.id, title: tab.title }}
      end
    end
  end
end
"""


def test_an_association_the_outer_loop_includes_is_not_loaded_per_item() -> None:
    finding = _finding("app/controllers/tabs_controller.rb", 4, Category.n_plus_one, "rb-association-in-each")
    assert calibrate(finding, TABS.format(eager=".includes(:tabs)")) is None
    assert calibrate(finding, TABS.format(eager=".includes(:owner)")) is not None
    assert calibrate(finding, TABS.format(eager="")) is not None
