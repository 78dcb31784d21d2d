"""Django template loops: what each reads per row of a context variable."""

from __future__ import annotations

import time

from bot.facts.django_templates import read_django_template, template_name
from bot.facts.graph import RepoFacts

PAGE = """{% for order in orders %}
  {{ order.customer.name }} {% if order.invoice %}paid{% endif %}
  {% for line in order.lines.all %}{{ line.product.sku }}{% endfor %}
  {{ order.reference }}
{% endfor %}
{% for key, value in totals.items %}{{ value }}{% endfor %}
{{ order.not_in_a_loop }}
"""


def test_a_loop_records_the_reads_of_its_variable_up_to_its_endfor() -> None:
    facts = RepoFacts()
    read_django_template(PAGE, "shop/templates/shop/orders.html", facts)
    [loop] = [x for x in facts.django_templates["shop/orders.html"] if x.ivar == "orders"]
    assert loop.var == "order" and loop.line == 1
    assert set(loop.reads) == {"customer.name", "invoice", "lines.all", "reference"}
    assert "not_in_a_loop" not in loop.reads  # after the endfor


def test_template_names_are_the_path_after_templates() -> None:
    assert template_name("shop/templates/shop/orders.html") == "shop/orders.html"
    assert template_name("templates/base.html") == "base.html"
    assert template_name("shop/views.py") is None


def test_a_hostile_template_is_read_quickly_and_without_error() -> None:
    facts = RepoFacts()
    hostile = "{% for x in xs %}" + "{{ x.a.b " * 20_000 + "\n" + ("{% for y in ys %}{{ y.z }}\n" * 5_000)
    started = time.monotonic()
    read_django_template(hostile, "app/templates/h.html", facts)
    assert time.monotonic() - started < 2.0
