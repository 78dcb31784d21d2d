from django.http import JsonResponse

from orders.models import Order


def order_detail(request, order_id):
    order = Order.objects.select_related("customer").get(pk=order_id)
    return JsonResponse({"id": order.id, "customer": order.customer.name})
