"""A per-item query over what the caller handed in is shown but does not gate; over stored rows it still does."""

from __future__ import annotations

import re

import pytest

from bot.analyzers.calibrate import CALLER_SIZED_CONFIDENCE, calibrate
from bot.analyzers.loop_sources import caller_sized
from bot.core.model import Category, Finding, Severity


def _finding(line: int, confidence: float = 0.85) -> Finding:
    return Finding(id="SR-x", category=Category.n_plus_one, severity=Severity.high, path="app/services.py",
                   start_line=line, end_line=line, title="t", evidence="seen", risk="r", rollback="", monitoring="",
                   source="py-django-query-in-loop", confidence=confidence)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


PARAMETER = '''\
def validate_subscriptions(vendors, products_by_vendor):
    for vendor_name in vendors:
        if not Vendor.objects.filter(name=vendor_name.strip()).exists():
            raise ValidationError("unknown vendor")
    for vendor_name, product_names in products_by_vendor.items():
        for product_name in product_names:
            if not Product.objects.filter(vendor__name=vendor_name, name=product_name).exists():
                raise ValidationError("unknown product")
'''

NORMALISED = '''\
class Widget:
    def validate_config(self, config):
        cleaned = super().validate_config(config)
        automation_ids = self._normalize_ids(
            cleaned.get("automation_ids", [])
        )
        organization = self.request.current_organization
        for automation_id in automation_ids:
            automation = Automation.objects.filter(id=automation_id, organization=organization).first()
'''

REQUEST = '''\
def add_members(request):
    emails = [e.strip().lower() for e in request.data.get("emails", [])]
    for email in emails:
        User.objects.get(email=email)
'''


@pytest.mark.parametrize(("text", "needle", "named"), [
    (PARAMETER, "Vendor.objects", "`vendors`, passed in by the caller"),
    (PARAMETER, "Product.objects", "`products_by_vendor`, passed in by the caller"),
    (NORMALISED, "Automation.objects", "`config`, passed in by the caller"),
    (REQUEST, "User.objects", "the request's data"),
])
def test_loops_over_the_callers_input_lose_the_gate_but_stay_visible(text: str, needle: str, named: str) -> None:
    line = _line_of(text, needle)
    why = caller_sized(text.splitlines(), line, 200)
    assert why is not None and named in why
    calibrated = calibrate(_finding(line), text)
    assert calibrated is not None
    assert calibrated.confidence == CALLER_SIZED_CONFIDENCE < 0.8
    assert calibrated.severity == Severity.high  # the problem is real; only its size is out of sight
    assert "not gating" in calibrated.evidence


_Q = "        Log.objects.get(pk=x)\n"
STORED = {
    "a queryset": "def f(project):\n    for x in Task.objects.filter(project=project):\n" + _Q,
    "a relation of the input": "def f(order):\n    for x in order.lines:\n" + _Q,
    "a helper that fetches": "def f(org):\n    users = get_active_users(org)\n    for x in users:\n" + _Q,
    "a rows parameter": "def action(self, request, queryset):\n    for x in queryset:\n" + _Q,
    "a module global": "def f():\n    for x in PENDING:\n" + _Q,
    "the object's state": "def f(self):\n    for x in self.items:\n" + _Q,
    "a list filled in a loop": "def f(xs):\n    ids = []\n    for y in xs:\n        ids.append(y)\n"
                               "    for x in ids:\n" + _Q,
    "a while loop": "def f(xs):\n    while xs:\n        Log.objects.get(pk=xs.pop())\n",
    "a session query": "def f(s, ids):\n    rows = s.execute(q).all()\n    for x in rows:\n" + _Q,
}


@pytest.mark.parametrize("name", sorted(STORED))
def test_loops_that_may_run_over_stored_rows_keep_their_gate(name: str) -> None:
    text = STORED[name]
    line = _line_of(text, "Log.objects")
    assert caller_sized(text.splitlines(), line, 200) is None, name
    calibrated = calibrate(_finding(line), text)
    assert calibrated is not None and calibrated.confidence == 0.85, name


def test_no_loop_and_other_languages_are_left_alone() -> None:
    assert caller_sized(["def f(x):", "    Log.objects.get(pk=x)"], 2, 200) is None
    ruby = _finding(2).model_copy(update={"path": "app/x.rb"})
    calibrated = calibrate(ruby, "items.each do |x|\n  Log.find(x)\nend\n")
    assert calibrated is not None and calibrated.confidence == 0.85


OTHER_INPUT = {
    "app/controllers/subscriptions_controller.rb": (
        "class SubscriptionsController < ApplicationController\n"
        "  def create\n"
        "    params[:vendor_ids].each do |id|\n"
        "      Vendor.find(id)\n"
        "    end\n"
        "  end\n"
        "end\n"),
    "app/services/check.rb": (
        "def validate(names, products)\n"
        "  names.uniq.each do |name|\n"
        "    products.each { |p| Product.where(name: name, code: p).exists? }\n"
        "  end\n"
        "end\n"),
    "store/vendors.go": (
        "func (s *Store) Validate(ctx context.Context, req *Request) error {\n"
        "\tfor _, id := range req.VendorIDs {\n"
        "\t\tif err := s.db.QueryRowContext(ctx, q, id).Scan(&v); err != nil {\n"
        "\t\t\treturn err\n"
        "\t\t}\n"
        "\t}\n"
        "\treturn nil\n"
        "}\n"),
    "src/routes/vendors.ts": (
        "router.post('/vendors', async (req, res) => {\n"
        "  for (const id of req.body.vendorIds) {\n"
        "    await prisma.vendor.findUnique({ where: { id } });\n"
        "  }\n"
        "});\n"),
    "src/services/check.ts": (
        "export async function validate(ids: string[], opts: Options = {}): Promise<void> {\n"
        "  for (const id of ids) {\n"
        "    await prisma.vendor.findUnique({ where: { id } });\n"
        "  }\n"
        "}\n"),
}

OTHER_STORED = {
    "app/services/sync.rb": "def sync(account)\n  account.users.each do |u|\n    Log.where(user: u).count\n"
                            "  end\nend\n",
    "app/services/all.rb": "def sync\n  User.all.each do |u|\n    Log.where(user: u).count\n  end\nend\n",
    "store/rows.go": (
        "func (s *Store) Sync(ctx context.Context) error {\n"
        "\tids := s.pending(ctx)\n"
        "\tfor _, id := range ids {\n"
        "\t\ts.db.QueryRowContext(ctx, q, id)\n"
        "\t}\n"
        "\treturn nil\n"
        "}\n"),
    "src/jobs/sync.ts": (
        "export async function sync(): Promise<void> {\n"
        "  const users = await prisma.user.findMany();\n"
        "  for (const u of users) {\n"
        "    await prisma.log.count({ where: { userId: u.id } });\n"
        "  }\n"
        "}\n"),
    "src/jobs/poll.ts": (
        "export async function poll(ids: string[]): Promise<void> {\n"
        "  while (ids.length) {\n"
        "    await prisma.log.count({ where: { id: ids.pop() } });\n"
        "  }\n"
        "}\n"),
}

_QUERY_LINE = re.compile(r"find\(|where\(|QueryRow|findUnique|\.count\(")


def _other(path: str, line: int) -> Finding:
    return _finding(line).model_copy(update={"path": path, "confidence": 0.8})


@pytest.mark.parametrize("path", sorted(OTHER_INPUT))
def test_ruby_go_and_javascript_loops_over_the_callers_input_lose_the_gate(path: str) -> None:
    text = OTHER_INPUT[path]
    line = next(i for i, t in enumerate(text.splitlines(), 1) if _QUERY_LINE.search(t))
    calibrated = calibrate(_other(path, line), text)
    assert calibrated is not None and calibrated.confidence == CALLER_SIZED_CONFIDENCE, path
    assert "not gating" in calibrated.evidence


@pytest.mark.parametrize("path", sorted(OTHER_STORED))
def test_ruby_go_and_javascript_loops_over_stored_rows_keep_the_gate(path: str) -> None:
    text = OTHER_STORED[path]
    line = next(i for i, t in enumerate(text.splitlines(), 1) if _QUERY_LINE.search(t))
    calibrated = calibrate(_other(path, line), text)
    assert calibrated is not None and calibrated.confidence == 0.8, path
