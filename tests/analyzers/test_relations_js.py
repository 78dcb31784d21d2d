"""Sequelize association getters and TypeORM lazy relations awaited per loop item, through the model graph."""

from __future__ import annotations

from pathlib import Path

from bot.analyzers.base import FileInput
from bot.analyzers.relations import RelationsAnalyzer
from bot.core.model import Category
from bot.facts import build_facts
from tests.support.analyzer_fixtures import change_for
from tests.support.memory_repo import MemoryRepo

PROJECT = Path(__file__).resolve().parents[1] / "fixtures" / "facts" / "node_go"
FACTS = build_facts(MemoryRepo.from_folder(PROJECT))

FIRES = """import { Task, Order } from "../models";

export async function report(projectIds: number[]) {
  const tasks = await Task.findAll({ where: { projectId: projectIds } });
  const rows = [];
  for (const task of tasks) {
    const project = await task.getProject();
    rows.push([task.title, project.name]);
  }
  return rows;
}

export async function shipping(orders: Order[]) {
  return Promise.all(orders.map(async (order) => {
    const warehouse = await order.warehouse;
    return warehouse.city;
  }));
}
"""

QUIET = """import { Task, Project } from "../models";

export async function report(projectIds: number[]) {
  const tasks = await Task.findAll({ where: { projectId: projectIds }, include: [Project] });
  return tasks.map((task) => [task.title, task.project.name]);
}

export async function one(task: Task) {
  const project = await task.getProject();
  return project.name;
}

export async function users(api: { getUser(id: number): Promise<unknown> }, ids: number[]) {
  for (const id of ids) {
    await api.getUser(id);
  }
}
"""


def run(text: str, path: str = "src/services/report.ts", facts=FACTS):  # noqa: ANN001, ANN201
    analyzer = RelationsAnalyzer().bind_facts(lambda: facts)
    if not analyzer.supports(path, text):
        return []
    return analyzer.analyze(FileInput(change=change_for(text, path), text=text))


def test_a_getter_or_lazy_relation_awaited_per_item_is_an_n_plus_one() -> None:
    found = run(FIRES)
    assert [(f.source, f.start_line) for f in found] == [
        ("js-association-per-record", 7),
        ("js-association-per-record", 15),
    ]
    assert all(f.category is Category.n_plus_one for f in found)
    assert "Task.project" in found[0].evidence and "Order.warehouse" in found[1].evidence


def test_an_include_a_single_record_or_an_unknown_getter_stays_quiet() -> None:
    assert run(QUIET) == []


def test_without_sequelize_or_typeorm_models_nothing_is_read() -> None:
    from bot.facts import RepoFacts

    assert run(FIRES, facts=RepoFacts()) == []
