"""python3 manage.py seed: the seed's snippet, verbatim, printing the post-trade table, the mids and the trades."""
from django.conf import settings
from django.core.management.base import BaseCommand

from chaser.django.models import Order


class Command(BaseCommand):
    help = "Buys 15,000 USDT of BTCUSDT through Chaser, as the seed did, and prints df(), mids and trades."

    def handle(self, *args, **options):
        order = Order.objects.create(exchange=settings.BINANCE_FUTURES_STRING, symbol="BTCUSDT", _type="l", sz=15_000,
                                     sz_type="n", liquidated=False, reduce_only=False, price_expected=0, strategy="test")
        orders = Order.objects.filter(id__in=[order.id])
        orders.execute()
        self.stdout.write(str(orders.df()))
        self.stdout.write("mids: %s …" % orders[0].mids[:3])
        self.stdout.write("trades: %s …" % orders[0].trades[:3])
