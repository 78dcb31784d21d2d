import time

import requests
from django.http import JsonResponse

from orders.models import Customer, Order


def order_detail(request, order_id):
    order = Order.objects.select_related("customer").get(pk=order_id)
    return JsonResponse({"id": order.id, "customer": order.customer.name})


def export_orders(request):
    rows = []
    for order in Order.objects.filter(status="paid"):
        customer = Customer.objects.get(pk=order.customer_id)
        rows.append({"id": order.id, "customer": customer.name})
    return JsonResponse({"orders": rows})


def notify_shipping(order_ids):
    for order_id in order_ids:
        requests.post("https://shipping.example.com/notify", json={"order": order_id})


async def refresh_rates():
    while True:
        try:
            return requests.get("https://rates.example.com/latest", timeout=5).json()
        except requests.RequestException:
            time.sleep(5)
