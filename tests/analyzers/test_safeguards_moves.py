"""A safeguard that moved, was re-routed or left together with what it guarded stays quiet; one taken off
a statement that is still there is reported (issue 18: structural, not textual)."""

from __future__ import annotations

from bot.analyzers.change_context import ChangeContext, ChangedText
from bot.analyzers.safeguards import SafeguardAnalyzer
from bot.core.model import Finding
from tests.support.two_sides import file_input


def _sources(base: str, head: str, path: str = "app/views.py") -> list[str]:
    findings: list[Finding] = SafeguardAnalyzer().analyze(file_input(base, head, path))
    return [f.source for f in findings]


PREFETCH = '''def series(request, series):
    items = series.seriesbooks.prefetch_related(
        {entries}
    )
    return render(request, "series.html", {{"items": [i.book.title for i in items]}})
'''


def test_a_django_lookup_path_rerouted_through_the_same_relation_is_quiet() -> None:
    base = PREFETCH.format(entries='"book", "book__editions__authors"')
    rerouted = PREFETCH.format(entries='"book", "book__work__editions__authors"')
    deeper = PREFETCH.format(entries='"book__work", "book__work__editions__authors"')  # loads `book` too
    assert _sources(base, rerouted) == []
    assert _sources(base, deeper) == []


def test_a_lookup_path_dropped_from_the_list_is_still_reported() -> None:
    base = PREFETCH.format(entries='"book", "book__editions__authors"')
    head = PREFETCH.format(entries='"book"')
    assert _sources(base, head) == ["safeguard-eager-loading"]


SLICE_BASE = '''def first_rows(model, lookup):
    fields = []
    fields.append(Prefetch(lookup, model.objects.order_by()[:1], to_attr="first"))
    return fields
'''
SLICE_MOVED = '''def first_rows(model, lookup):
    fields = []
    related_qs = model.objects.order_by()
    fields.append(Prefetch(lookup, related_qs[:1], to_attr="first"))
    return fields
'''
SLICE_DROPPED = '''def first_rows(model, lookup):
    fields = []
    related_qs = model.objects.order_by()
    fields.append(Prefetch(lookup, related_qs, to_attr="first"))
    return fields
'''


def test_a_slice_moved_onto_a_queryset_variable_is_quiet_and_a_dropped_one_is_not() -> None:
    assert _sources(SLICE_BASE, SLICE_MOVED) == []
    assert _sources(SLICE_BASE, SLICE_DROPPED) == ["safeguard-limit"]


ITER_BASE = '''def purge(qs, batch_size):
    for obj in qs.iterator(chunk_size=1000):
        log(obj)
    return qs.delete()
'''
CHUNKED = '''def purge(qs, batch_size):
    pks = list(qs.values_list("pk", flat=True))
    for offset in range(0, len(pks), batch_size):
        for obj in qs.filter(pk__in=pks[offset : offset + batch_size]):
            log(obj)
    return qs.delete()
'''
PLAIN = '''def purge(qs, batch_size):
    for obj in qs:
        log(obj)
    return qs.delete()
'''


def test_iterator_replaced_by_hand_written_chunks_is_quiet_and_by_a_plain_loop_is_not() -> None:
    assert _sources(ITER_BASE, CHUNKED) == []
    assert _sources(ITER_BASE, PLAIN) == ["safeguard-batching"]


RB_BASE = '''class Backfill < ActiveRecord::Migration[7.1]
  def up
    Model.unscoped.limit(20).order(created_at: :desc).each do |model|
      model.touch
    end
  end
end
'''
RB_EMPTIED = '''class Backfill < ActiveRecord::Migration[7.1]
  def up
  end
end
'''
RB_UNLIMITED = '''class Backfill < ActiveRecord::Migration[7.1]
  def up
    Model.unscoped.order(created_at: :desc).each do |model|
      model.touch
    end
  end
end
'''


def test_a_loop_deleted_with_its_limit_is_quiet_and_a_loop_that_lost_its_limit_is_not() -> None:
    path = "db/data/20240101_backfill.rb"
    assert _sources(RB_BASE, RB_EMPTIED, path) == []
    assert _sources(RB_BASE, RB_UNLIMITED, path) == ["safeguard-limit"]


PACKED = '''def purge(qs, batch_size):
    pks = list(qs.values_list("pk", flat=True))
    start = 0
    for batch_length in pack(pks, batch_size):
        for obj in qs.filter(pk__in=pks[start : start + batch_length]):
            log(obj)
        start += batch_length
    return qs.delete()
'''


def test_hand_written_chunks_replaced_by_another_batching_loop_are_quiet() -> None:
    assert _sources(CHUNKED, PACKED) == []
    assert _sources(CHUNKED, PLAIN) == ["safeguard-batching"]


SCHEMA = '''ActiveRecord::Schema[7.1].define(version: 2026_01_01_000000) do
  create_table "devices", force: :cascade do |t|
    t.string "device_id"
    t.bigint "user_id"
{indexes}
  end
end
'''


def test_an_index_whose_columns_lead_another_kept_index_is_redundant_and_quiet() -> None:
    base = SCHEMA.format(indexes='    t.index ["device_id", "user_id"], name: "by_device_user"\n'
                         '    t.index ["device_id"], name: "by_device", unique: true')
    head = SCHEMA.format(indexes='    t.index ["device_id", "user_id"], name: "by_device_user"')
    assert _sources(base, head, "db/schema.rb") == []


MIGRATION = "class A < ActiveRecord::Migration[7.0]\n  def change\n{body}  end\nend\n"


def test_an_index_no_kept_index_leads_with_is_still_reported() -> None:
    base = SCHEMA.format(indexes='    t.index ["user_id", "device_id"], name: "by_user_device"\n'
                         '    t.index ["device_id"], name: "by_device"')
    head = SCHEMA.format(indexes='    t.index ["user_id", "device_id"], name: "by_user_device"')
    assert _sources(base, head, "db/schema.rb") == ["safeguard-index"]
    wide, narrow = "    add_index :devices, [:device_id, :user_id]\n", "    add_index :devices, :device_id\n"
    migration_base = MIGRATION.format(body=wide + narrow)
    migration_head = MIGRATION.format(body=wide)
    assert _sources(migration_base, migration_head, "db/migrate/20260101_a.rb") == []
    other_table = migration_head.replace("add_index :devices", "add_index :phones")
    assert _sources(migration_base, other_table, "db/migrate/20260101_a.rb") == ["safeguard-index"]


CHAIN = '''class PointsController < ApplicationController
  def index
{query}
    render json: points
  end
end
'''


def test_a_paginated_chain_cut_back_to_one_line_is_reported() -> None:
    base = CHAIN.format(query="    points = current_user\n             .points\n             .where(day: period)\n"
                              "             .order(:timestamp)\n             .page(params[:page])\n"
                              "             .per(params[:per_page] || 100)")
    head = CHAIN.format(query="    points = current_user.points.where(day: period)")
    assert _sources(base, head, "app/controllers/points_controller.rb") == ["safeguard-limit"]
    rewritten = CHAIN.format(query="    points = PointsQuery.new(current_user, period).call")
    assert _sources(base, rewritten, "app/controllers/points_controller.rb") == []


FEED_BASE = '''class TagsController < ApplicationController
  def feed
    @works = @tag.canonical? ? @tag.filtered_works : @tag.works
    @works = @works.visible_to_all.order(created_at: :desc).limit(25).includes(:tags, :language)
  end
end
'''
FEED_HEAD = '''class TagsController < ApplicationController
  def feed
    if @tag.canonical?
      @works = @tag.filtered_works.visible_to_all.order('created_at DESC').limit(25)
    else
      @works = @tag.works.visible_to_all.order('created_at DESC').limit(25)
    end
  end
end
'''


def test_an_eager_load_dropped_from_the_same_query_written_differently_is_reported() -> None:
    assert _sources(FEED_BASE, FEED_HEAD, "app/controllers/tags_controller.rb") == ["safeguard-eager-loading"]
    other_query = FEED_HEAD.replace("visible_to_all", "recent_public")  # the head reads another scope
    assert _sources(FEED_BASE, other_query, "app/controllers/tags_controller.rb") == []


FORM = '''class EvaluationForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["questionnaires"].queryset = Questionnaire.objects.general().prefetch_related({loads})
'''


def test_a_relation_now_loaded_through_its_through_model_is_quiet() -> None:
    base = FORM.format(loads='"questions"')
    through = FORM.format(loads='"question_assignments", "question_assignments__question"')
    assert _sources(base, through, "app/forms.py") == []
    other = FORM.format(loads='"question_assignments"')
    assert _sources(base, other, "app/forms.py") == ["safeguard-eager-loading"]


INDEX = '''def questionnaire_index(request):
{body}
    return render(request, "index.html", {{"questionnaires": questionnaires}})
'''


def test_a_prefetch_list_built_elsewhere_that_became_named_loads_is_quiet() -> None:
    base = INDEX.format(body='    prefetch_list = ("questions", "contributions__evaluation")\n'
                             '    questionnaires = Questionnaire.objects.general().prefetch_related(*prefetch_list)')
    named = INDEX.format(
        body='    questionnaires = Questionnaire.objects.filter(q).prefetch_related("questions", "contributions")'
    )
    assert _sources(base, named, "app/views.py") == []
    none = INDEX.format(body="    questionnaires = Questionnaire.objects.filter(q)")
    assert _sources(base, none, "app/views.py") == ["safeguard-eager-loading"]


VIEWS = '''def questionnaire_index(request):
    questionnaires = Questionnaire.objects.all(){load}
    return render(request, "index.html", {{"questionnaires": questionnaires}})


def questionnaire_view(request, pk):
    questionnaire = Questionnaire.objects.get(pk=pk)
    return render(request, "view.html", {{"questions": list(questionnaire.questions.all())}})
'''


def test_a_read_of_the_relation_in_another_view_of_the_file_does_not_make_the_removal_certain() -> None:
    base, head = VIEWS.format(load='.prefetch_related("questions")'), VIEWS.format(load="")
    [f] = SafeguardAnalyzer().analyze(file_input(base, head, "app/views.py"))
    assert f.confidence < 0.8 and "still used" not in f.evidence
    same = '''def questionnaire_index(request):
    questionnaires = Questionnaire.objects.all(){load}
    return render(request, "index.html", {{"rows": [q.questions.count() for q in questionnaires]}})
'''
    [g] = SafeguardAnalyzer().analyze(file_input(same.format(load='.prefetch_related("questions")'),
                                                 same.format(load=""), "app/views.py"))
    assert g.confidence >= 0.8 and "still used" in g.evidence


def test_a_capybara_first_with_a_css_selector_is_not_a_query_limit() -> None:
    base = "def heading?\n  page.first('h1.govuk-heading-xl', minimum: 0)\nend\n"
    head = "def heading?\n  patiently { page.find('h1.govuk-heading-xl') }\nend\n"
    assert _sources(base, head, "app/helpers/page_helper.rb") == []
    query_base = "def recent\n  Order.where(open: true).first(20)\nend\n"
    query_head = "def recent\n  Order.where(open: true)\nend\n"
    assert _sources(query_base, query_head, "app/models/order_query.rb") == ["safeguard-limit"]


def test_a_python_eager_load_handed_to_a_prefetch_object_built_above_is_quiet() -> None:
    base = INDEX.format(body='    questionnaires = Questionnaire.objects.all().prefetch_related("questions")')
    head = INDEX.format(body='    questions = Prefetch("questions", queryset=Question.objects.order_by("order"))\n'
                             '    questionnaires = Questionnaire.objects.all().prefetch_related(questions)')
    assert _sources(base, head, "app/views.py") == []


GO_QUERY = '''package store

func (s *Store) Pending(ctx context.Context) ([]Row, error) {
	return s.query(ctx, `SELECT id, payload FROM queue
		WHERE state = 'pending'
		ORDER BY created_at
		LIMIT 1000`)
}
'''
GO_MOVED = GO_QUERY.replace('''
		ORDER BY created_at
		LIMIT 1000`)''', '''
		ORDER BY created_at`)''')  # the snapshot this now reads is capped where it is written
GO_NEW_FILE = '''package store

const writeSnapshot = `INSERT INTO queue_snapshot SELECT id, payload FROM queue
	WHERE state = 'pending'
	ORDER BY created_at
	LIMIT 1000`
'''


def _go_sources(files: tuple[ChangedText, ...]) -> list[str]:
    analyzer = SafeguardAnalyzer().bind_change(ChangeContext(files=files))
    return [f.source for f in analyzer.analyze(file_input(GO_QUERY, GO_MOVED, "store/queue.go"))]


def test_a_limit_moved_into_another_file_of_the_same_change_is_quiet() -> None:
    this = ChangedText("store/queue.go", GO_QUERY, GO_MOVED)
    assert _go_sources((this, ChangedText("store/snapshot.go", None, GO_NEW_FILE))) == []
    # the limit was already in the other file at base: nothing moved, the removal stands
    already = ChangedText("store/snapshot.go", GO_NEW_FILE, GO_NEW_FILE + "\n// touched\n")
    assert _go_sources((this, already)) == ["safeguard-limit"]
    assert _go_sources((this,)) == ["safeguard-limit"]


def test_a_limit_of_another_size_added_elsewhere_is_no_move() -> None:
    this = ChangedText("store/queue.go", GO_QUERY, GO_MOVED)
    other = ChangedText("store/snapshot.go", None, GO_NEW_FILE.replace("LIMIT 1000", "LIMIT 50000"))
    assert _go_sources((this, other)) == ["safeguard-limit"]


def test_an_iterator_wrapped_in_list_was_no_batching_and_its_removal_is_quiet() -> None:
    base = ("def channels(request):\n"
            "    rows = list(Conversation.objects.filter(active=True).iterator())\n"
            "    return [r.name for r in rows]\n")
    head = base.replace(".iterator())", ")")
    assert _sources(base, head) == []
    streamed = ("def channels(request):\n"
                "    for r in Conversation.objects.filter(active=True).iterator(chunk_size=500):\n"
                "        send(r)\n")
    assert _sources(streamed, streamed.replace(".iterator(chunk_size=500)", "")) == ["safeguard-batching"]


def test_a_string_cut_with_mb_chars_limit_is_not_a_query_limit() -> None:
    base = "def user_agent(request)\n  request.user_agent.to_s.mb_chars.limit(SIZE).to_s\nend\n"
    head = base.replace(".mb_chars.limit(SIZE).to_s", ".truncate_bytes(SIZE, omission: '')")
    assert _sources(base, head, "app/services/browser_cache.rb") == []
    query = "def recent\n  Post.order(:id).limit(50).to_a\nend\n"
    assert _sources(query, query.replace(".limit(50)", ""), "app/services/posts.rb") == ["safeguard-limit"]


def test_a_string_fields_max_length_is_no_limit_but_a_list_fields_is() -> None:
    base = ("class Migration(migrations.Migration):\n"
            "    operations = [\n"
            "        migrations.AddField(model_name='doc', name='url', field=models.CharField(max_length=1000)),\n"
            "    ]\n")
    assert _sources(base, base.replace("max_length=1000", "blank=True"), "docs/migrations/0060_doc.py") == []
    listed = ("class ImportSerializer(serializers.Serializer):\n"
              "    ids = serializers.ListField(child=serializers.IntegerField(), max_length=500)\n")
    assert _sources(listed, listed.replace(", max_length=500", ""), "api/serializers.py") == ["safeguard-limit"]


DJANGO_META = '''from django.db import models


class Entry(models.Model):
    docket = models.ForeignKey("Docket", on_delete=models.CASCADE)
    date_filed = models.DateField()
    entry_index = models.IntegerField()

    class Meta:
        indexes = [
            models.Index(fields={fields}, name="entry_docket_order_idx"),
        ]
'''


def test_an_index_whose_columns_are_reordered_is_reworked_not_removed() -> None:
    base = DJANGO_META.format(fields='["docket", "date_filed", "entry_index"]')
    reordered = DJANGO_META.format(fields='["date_filed", "docket", "entry_index"]')
    narrowed = DJANGO_META.format(fields='["date_filed"]')
    assert _sources(base, reordered, "cl/search/models.py") == []
    assert _sources(base, narrowed, "cl/search/models.py") == ["safeguard-index"]
