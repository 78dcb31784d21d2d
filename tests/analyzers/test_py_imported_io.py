"""Per-item calls to Python helpers of the repository that query: imported or local, one call deep."""

from __future__ import annotations

from pathlib import Path

from tests.analyzers.test_differential import _review

RULE = "py-helper-query-per-item"

HELPERS = '''from .models import Realm, Device


def device_to_dict(device):
    realm = Realm.query.filter_by(id=device.realm_id).first()
    return {"id": device.id, "realm": realm.name if realm else None}


def describe(device):
    return device_to_dict(device)


def label(device):
    return device.name.title()
'''

VIEW = '''from app.lib.devices import describe, device_to_dict, label


def list_devices(client_id):
    devices = get_client_devices(client_id)
    return {shown}
'''


def _found(tmp_path: Path, shown: str) -> list[int]:
    before = {"app/lib/devices.py": HELPERS, "app/api/clients.py": VIEW.format(shown="[]")}
    after = {"app/lib/devices.py": HELPERS, "app/api/clients.py": VIEW.format(shown=shown)}
    return [f.start_line for f in _review(tmp_path, before, after).findings if f.source == RULE]


def test_an_imported_helper_that_queries_called_per_item_is_reported(tmp_path: Path) -> None:
    assert _found(tmp_path / "a", "[device_to_dict(d) for d in devices]") == [6]
    assert _found(tmp_path / "b", "[describe(d) for d in devices]") == [6]  # one call deeper


def test_a_helper_that_does_not_query_or_a_literal_loop_stays_quiet(tmp_path: Path) -> None:
    assert _found(tmp_path / "a", "[label(d) for d in devices]") == []
    assert _found(tmp_path / "b", "[device_to_dict(d) for d in [first, second]]") == []
    assert _found(tmp_path / "c", "[device_to_dict(d) for d in batch]") == []


def test_a_local_helper_counts_too(tmp_path: Path) -> None:
    text = (
        "from app.models import Order\n\n\ndef owner(order):\n    return Order.objects.get(id=order.parent_id)\n\n\n"
        "def rows(orders):\n    out = []\n    for order in orders:\n        out.append(owner(order))\n    return out\n"
    )
    result = _review(tmp_path, {"app/views.py": "x = 1\n"}, {"app/views.py": text})
    assert [f.start_line for f in result.findings if f.source == RULE] == [11]


def test_per_item_loops_name_the_iterable_the_item_names_and_what_runs_per_item() -> None:
    import ast

    from bot.analyzers.py_loops import per_item_loops

    tree = ast.parse(
        "for a, b in rows:\n    f(a)\n"
        "x = [g(r) for r in rows if h(r)]\n"
        "y = {k: v(k) for k in keys}\n"
        "for i in range(3):\n    f(i)\n"
    )
    found = [(ast.unparse(it), names, [ast.unparse(n) for n in body])
             for it, names, body in per_item_loops(tree, lambda it: isinstance(it, ast.Call))]
    assert found == [("rows", {"a", "b"}, ["f(a)"]), ("rows", {"r"}, ["g(r)", "h(r)"]),
                     ("keys", {"k"}, ["k", "v(k)"])]
