"""A two-model Django shop (an Order with a ForeignKey to its Customer), the model graph the facts tests and the
first-message token benchmark review a change against."""

from __future__ import annotations

SHOP_MODELS = (
    "from django.db import models\n\n\n"
    "class Customer(models.Model):\n    name = models.CharField(max_length=9)\n\n\n"
    "class Order(models.Model):\n"
    "    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)\n"
    "    status = models.CharField(max_length=9, db_index=True)\n"
)
