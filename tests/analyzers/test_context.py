"""The code path a line sits on, from framework facts (file names alone never decide)."""

from __future__ import annotations

import pytest

from bot.analyzers.context import PathKind, classify

DJANGO_VIEW = """from django.shortcuts import render


def order_list(request):
    orders = Order.objects.all()
    return render(request, "orders.html", {"orders": orders})
"""
DRF = """from rest_framework import viewsets


class OrderViewSet(viewsets.ModelViewSet):
    def list(self, req):
        return Response([o.customer.name for o in Order.objects.all()])
"""
FLASK = """@app.route("/orders")
def orders():
    return jsonify([o.id for o in Order.query.all()])
"""
FASTAPI = """@router.get("/items")
async def items():
    return await load()
"""
CELERY = """from celery import shared_task


@shared_task
def rebuild():
    for o in Order.objects.all():
        o.save()
"""
COMMAND = """from django.core.management.base import BaseCommand


class Command(BaseCommand):
    def handle(self, *args, **options):
        for u in User.objects.all():
            Profile.objects.get(user=u)
"""
MIGRATION = """from django.db import migrations


class Migration(migrations.Migration):
    operations = []
"""
PYTEST = """import pytest


def test_orders(client):
    assert client.get("/orders").status_code == 200
"""
GO_HANDLER = """package api

func listOrders(w http.ResponseWriter, r *http.Request) {
\trows, _ := db.Query("select * from orders")
\t_ = rows
}

func helper() int {
\treturn 1
}
"""
EXPRESS = """const app = express();
app.get('/orders', async (req, res) => {
  res.json(await Order.findAll());
});
"""
RAILS_CONTROLLER = """class OrdersController < ApplicationController
  def index
    @orders = Order.all
  end
end
"""
SIDEKIQ = """class RebuildJob
  include Sidekiq::Job

  def perform(id)
    Order.find(id).touch
  end
end
"""
RAKE = """namespace :orders do
  task rebuild: :environment do
    Order.find_each(&:touch)
  end
end
"""


@pytest.mark.parametrize(
    ("path", "text", "line", "kind"),
    [
        ("shop/views.py", DJANGO_VIEW, 5, PathKind.request_handler),
        ("shop/api.py", DRF, 6, PathKind.request_handler),
        ("shop/web.py", FLASK, 3, PathKind.request_handler),
        ("shop/routes.py", FASTAPI, 3, PathKind.request_handler),
        ("shop/jobs.py", CELERY, 7, PathKind.background_task),
        ("shop/management/commands/rebuild.py", COMMAND, 7, PathKind.command),
        ("shop/migrations/0002_x.py", MIGRATION, 5, PathKind.migration),
        ("shop/tests/test_views.py", PYTEST, 5, PathKind.test),
        ("api/orders.go", GO_HANDLER, 4, PathKind.request_handler),
        ("web/server.js", EXPRESS, 3, PathKind.request_handler),
        ("app/controllers/orders_controller.rb", RAILS_CONTROLLER, 3, PathKind.request_handler),
        ("app/workers/rebuild_job.rb", SIDEKIQ, 5, PathKind.background_task),
        ("lib/tasks/orders.rake", RAKE, 3, PathKind.command),
    ],
)
def test_framework_facts_decide_the_kind(path: str, text: str, line: int, kind: PathKind) -> None:
    context = classify(path, text, line)
    assert context.kind == kind and context.strong


def test_a_seeding_command_is_a_seed_script() -> None:
    context = classify("shop/management/commands/populatedb.py", COMMAND, 7)
    assert context.kind == PathKind.seed_script


def test_rails_seeds_file_is_a_seed_script() -> None:
    assert classify("db/seeds.rb", "User.create!(name: 'a')\n", 1).kind == PathKind.seed_script


def test_a_file_name_alone_decides_nothing() -> None:
    plain = "def total(rows):\n    return sum(r.amount for r in rows)\n"
    assert classify("shop/tests/helpers.py", plain, 2).kind == PathKind.library
    assert classify("shop/seed_helpers.py", plain, 2).kind == PathKind.library
    assert classify("shop/views.py", plain, 2).kind == PathKind.library


def test_the_enclosing_go_function_decides_within_a_handler_file() -> None:
    assert classify("api/orders.go", GO_HANDLER, 9).kind == PathKind.request_handler  # file-level fallback
    assert classify("api/orders.go", GO_HANDLER, 4).evidence == "an HTTP handler signature"


def test_a_helper_next_to_a_task_uses_the_task_decorator_of_its_own_function() -> None:
    text = CELERY + "\n\ndef list_view(request):\n    return Order.objects.all()\n"
    assert classify("shop/mixed.py", text, 7).kind == PathKind.background_task
    assert classify("shop/mixed.py", text, 11).kind == PathKind.request_handler


def test_hostile_text_is_bounded() -> None:
    text = ("@" + "a." * 5_000 + "route(\n") * 50 + "x" * 1_000_000
    assert classify("x.py", text, 10).kind in set(PathKind)


_FACT_EXAMPLES = (
    "require_relative '../config/environment'\n",
    "django.setup()\n",
    "import pytest\n",
    "from unittest import mock\n",
    "class T(unittest.TestCase):\n",
    "func TestX(t *testing.T) {\n",
    "RSpec.describe User do\n",
    "describe 'x' do |y|\n",
    "class UserTest < ActiveSupport::TestCase\n",
    "  it('works', () => {\n",
    "test(`x`, () => 1)\n",
    "    assert x == 1\n",
    "expect(x).toBe(1)\n",
    "class Migration(migrations.Migration):\n",
    "class AddX < ActiveRecord::Migration[7.0]\n",
    "def upgrade():\n",
    "export class X implements MigrationInterface {\n",
    "exports.up = function(knex) {\n",
    "export async function up(knex) {\n",
    "goose.AddMigrationContext(up, down)\n",
    "class Command(BaseCommand):\n",
    "task :import do\n",
    "  namespace :db do\n",
    "@click.command()\n",
    "@typer.run\n",
    "var rootCmd = &cobra.Command{\n",
    "if __name__ == '__main__':\n",
    "import argparse\n",
    "from faker import Faker\n",
    "require 'faker'\n",
    "Faker::Name.name\n",
    "import factory\n",
    "from factory_boy import x\n",
    "@shared_task\n",
    "@app.task(bind=True)\n",
    "@dramatiq.actor\n",
    "@job\n",
    "  include Sidekiq::Job\n",
    "class X < ApplicationJob\n",
    "new Worker('q', async job => 1)\n",
    "@app.route('/x')\n",
    "@router.get('/x')\n",
    "@api_view(['GET'])\n",
    "class V(generics.ListAPIView):\n",
    "def index(request):\n",
    "class A < ApplicationController\n",
    "func h(w http.ResponseWriter, r *http.Request) {\n",
    'http.HandleFunc("/", h)\n',
    "func h(c *gin.Context) {\n",
    "app.get('/x', async (req, res) => {\n",
    "@Controller('users')\n",
    "@Get(':id')\n",
    "func (m *addTuples) Up(ctx context.Context, db *bun.DB) error {\n",
    "var m = gormigrate.Migration{\n",
)


def test_every_file_fact_is_tried_only_on_text_holding_one_of_its_literals() -> None:
    """The substring test before each file-level pattern never hides a match (examples and the repository's own
    sources and fixtures)."""
    from pathlib import Path

    from bot.analyzers.context import _FILE_FACTS

    root = Path(__file__).parents[2]
    corpus = list(_FACT_EXAMPLES) + [
        p.read_text(encoding="utf-8", errors="replace")
        for p in sorted((root / "tests" / "fixtures").rglob("*")) + sorted((root / "bot").rglob("*.py"))
        if p.is_file()
    ]
    matched = 0
    for _, _, pattern, literals in _FILE_FACTS:
        for text in corpus:
            if pattern.search(text):
                matched += 1
                assert any(literal in text for literal in literals), (pattern.pattern, text[:200])
    assert all(any(p.search(t) for t in _FACT_EXAMPLES) for _, _, p, _ in _FILE_FACTS)  # each one exercised
    assert matched > len(_FILE_FACTS)


RUBY_SCRIPT = """# Usage: ruby synthetic_data.rb data.jsonl
require_relative '../config/environment'

File.foreach(ARGV[0]) do |line|
  Intake.create!(JSON.parse(line))
end
"""


def test_a_script_that_boots_the_application_itself_is_a_command_or_a_seed_script() -> None:
    assert classify("scripts/backfill_intakes.rb", RUBY_SCRIPT, 5).kind == PathKind.command
    assert classify("scripts/synthetic_data.rb", RUBY_SCRIPT, 5).kind == PathKind.seed_script
    python = "import django\n\ndjango.setup()\n\nfor o in Order.objects.all():\n    o.save()\n"
    assert classify("tools/reindex.py", python, 6).kind == PathKind.command
    # the application's own code mentions its environment file without booting it
    assert classify("app/models/intake.rb", "class Intake < ApplicationRecord\nend\n", 1).kind == PathKind.library


def test_a_seeds_folder_at_the_repository_root_is_a_seed_script() -> None:
    text = "Offence.all.each do |o|\n  o.fee_schemes.each { |f| puts f.name }\nend\n"
    assert classify("db/seeds/schemas/clean_offences.rb", text, 2).kind == PathKind.seed_script
    assert classify("engines/billing/db/seeds/plans.rb", text, 2).kind == PathKind.seed_script


def test_a_shared_go_test_suite_taking_testing_t_is_test_code() -> None:
    suite = (
        "package test\n\nimport \"testing\"\n\n"
        "func RunAllTests(t *testing.T, ds storage.Datastore) {\n\tfor _, tk := range keys {\n"
        "\t\tds.Write(ctx, store, nil, []*TupleKey{tk})\n\t}\n}\n"
    )
    assert classify("pkg/storage/test/collation.go", suite, 7).kind == PathKind.test
    assert classify("pkg/bench/run.go", "func (s *Suite) Bench(b *testing.B, n int) {\n}\n", 1).kind == PathKind.test


def test_a_go_migration_step_is_a_migration() -> None:
    step = "package sqlmigration\n\nfunc (m *addTuples) Up(ctx context.Context, db *bun.DB) error {\n\treturn nil\n}\n"
    assert classify("pkg/sqlmigration/117_add_tuples.go", step, 4).kind == PathKind.migration
