"""Two pages: the post-trade table of the latest orders, and the seed's snippet run on a POST."""
import html

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect

import chaser
from chaser.django.models import Order


def orders(request):
    latest = Order.objects.order_by("-id")[:50]
    frame = Order.objects.filter(id__in=[o.id for o in latest]).df() if latest else None
    # pandas renders with to_html, polars with its notebook HTML.
    table = "<p>No orders yet.</p>" if frame is None else frame.to_html(index=False) if hasattr(frame, "to_html") else frame._repr_html_()
    return HttpResponse(
        "<!doctype html><title>Chaser desk</title><h1>Orders</h1>"
        '<form method="post" action="seed"><button>Buy 15,000 USDT of BTCUSDT (the seed\'s order)</button></form>' + table
    )


def seed(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    order = Order.objects.create(exchange=settings.BINANCE_FUTURES_STRING, symbol="BTCUSDT", _type="l", sz=15_000,
                                 sz_type="n", liquidated=False, reduce_only=False, price_expected=0, strategy="test")
    try:
        Order.objects.filter(id__in=[order.id]).execute(timeout=300)
    except chaser.ChaserError as e:
        return HttpResponse("<p>%s</p>" % html.escape(str(e)), status=502)
    return redirect("orders")
