"""The seed's snippet, verbatim, through ``chaser.django`` against ``chaser serve`` recording in PostgreSQL."""

import datetime
import json
import os
import secrets
import subprocess
import sys
import unittest
from decimal import Decimal

import harness

pg = harness.postgres_settings()
serve = None
database = None


def _admin():
    import psycopg2

    connection = psycopg2.connect(host=pg["HOST"], port=pg["PORT"] or None, user=pg["USER"], password=pg["PASSWORD"], dbname="postgres")
    connection.autocommit = True
    return connection


def setUpModule():
    global serve, database
    if pg is None:
        if os.environ.get("CHASER_REQUIRE_POSTGRES") == "1":
            raise RuntimeError("CHASER_TEST_POSTGRES is not set, and CHASER_REQUIRE_POSTGRES=1 says the Django tests must run")
        raise unittest.SkipTest("CHASER_TEST_POSTGRES is not set")
    database = "chaser_py_" + secrets.token_hex(6)
    admin = _admin()
    try:
        with admin.cursor() as cursor:
            cursor.execute("CREATE DATABASE " + database)
    finally:
        admin.close()
    net = os.environ["CHASER_TEST_POSTGRES"].rstrip(";") + ";Database=" + database
    serve = harness.Serve(net)

    import django
    from django.conf import settings

    from chaser.django import database_settings

    settings.configure(
        INSTALLED_APPS=["chaser.django"],
        DATABASES={"default": database_settings(net)},
        USE_TZ=True,
        TIME_ZONE="America/New_York",  # not UTC: a naive time must be read in it
        CHASER_API_URL=serve.url,
        CHASER_API_TOKEN=serve.token,
        BINANCE_FUTURES_STRING="binfut",
        SECRET_KEY="chaser-python-tests",  # Django's error reporter reads it
    )
    django.setup()


def tearDownModule():
    if serve is not None:
        serve.stop()
    if database is not None:
        from django.db import connections

        connections.close_all()
        admin = _admin()
        try:
            with admin.cursor() as cursor:
                cursor.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % database)
        finally:
            admin.close()


def _rows(sql, *args):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return cursor.fetchall()


def _ms(moment):
    return (moment - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)) // datetime.timedelta(milliseconds=1)


class SeedSnippetTests(unittest.TestCase):
    def test_the_seed_snippet_verbatim(self):
        from django.conf import settings

        from chaser.django.models import Order  # was: from main.models import Order

        # ---- the seed's snippet, as the issue gives it ----
        order = Order.objects.create(exchange=settings.BINANCE_FUTURES_STRING, symbol="BTCUSDT", _type="l", sz=15_000,
                                     sz_type="n", liquidated=False, reduce_only=False, price_expected=0, strategy="test")
        orders = Order.objects.filter(id__in=[order.id])
        orders.execute()        # works them concurrently on Chaser, returns when every one is final
        df = orders.df()        # the post-trade table: id, created_at, completed_at, exchange, …, strategy, liquidated, side, slippage
        mids = orders[0].mids   # [(63235.95, 1727171284697), …]   (mid, exchange time in ms)
        trades = orders[0].trades  # [(63317.2, 0.014, 1727171378370), …]   (price, qty, exchange time in ms)
        # ----

        # The order as Chaser stored it: the seed's fields mapped onto its columns.
        stored = _rows("SELECT exchange, symbol, type, size, size_type, side, liquidated, reduce_only, price_expected, strategy, status, filled_qty, avg_price FROM orders WHERE id = %s", order.id)
        self.assertEqual(("binfut", "BTCUSDT", "limit", Decimal(15000), "n", 1, False, False, Decimal(0), "test", "filled"), stored[0][:11])
        self.assertEqual((Decimal(15000), "n", 1, "l" if False else "limit"), (order.sz, order.sz_type, order.side, order._type))

        # df(): one row, the columns, the row's values.
        self.assertEqual(["id", "created_at", "completed_at", "exchange"], list(df.columns[:4]))
        self.assertEqual(["strategy", "liquidated", "side", "slippage", "implementation_shortfall", "implementation_shortfall_bps"], list(df.columns[-6:]))
        self.assertEqual(1, len(df))
        row = df.iloc[0]
        self.assertEqual((order.id, "binfut", "BTCUSDT", "filled", "test", False, 1), (row["id"], row["exchange"], row["symbol"], row["status"], row["strategy"], row["liquidated"], row["side"]))
        self.assertAlmostEqual(float(stored[0][11]), row["filled_qty"])
        self.assertAlmostEqual(float(stored[0][12]), row["avg_price"])
        self.assertIsNotNone(row["completed_at"])
        report = _rows("SELECT arrival_mid, avg_price FROM orders WHERE id = %s", order.id)[0]
        expected_slippage = float((report[1] - report[0]) / report[0])
        self.assertAlmostEqual(expected_slippage, row["slippage"], places=6)
        from chaser.django import client as chaser_client

        reported = chaser_client().report_rows(ids=[order.id])[0]
        self.assertEqual(float(reported["implementation_shortfall"]), row["implementation_shortfall"])
        self.assertEqual(float(reported["implementation_shortfall_bps"]), row["implementation_shortfall_bps"])

        # trades is the fills table, mids the mids table, in the seed's shapes.
        fills = _rows("SELECT price, qty, exchange_time FROM fills WHERE order_id = %s ORDER BY exchange_time, id", order.id)
        self.assertTrue(fills)
        self.assertEqual([(float(p), float(q), _ms(t)) for p, q, t in fills], trades)
        # Every fill is stored by the time execute() returns: they add up to the order's filled quantity, exactly.
        self.assertEqual(stored[0][11], sum(q for _, q, _ in fills))
        # The engine goes on sampling the book for the markouts after the order ended (60 s while serve runs), so the
        # table read now may have grown since `mids` was read: what `mids` gave is the table's beginning, exactly.
        sampled = _rows("SELECT mid, exchange_time FROM mids WHERE order_id = %s ORDER BY received_time, id", order.id)
        self.assertTrue(mids)
        self.assertGreaterEqual(len(sampled), len(mids))
        self.assertEqual([(float(m), _ms(t)) for m, t in sampled][:len(mids)], mids)
        self.assertTrue(all(isinstance(m, float) and isinstance(t, int) for m, t in mids))
        self.assertTrue(all(isinstance(p, float) and isinstance(q, float) and isinstance(t, int) for p, q, t in trades))

        # The related rows.
        self.assertEqual(len(fills), orders[0].fills.count())
        self.assertGreater(orders[0].child_orders.count(), 0)
        self.assertGreater(orders[0].mid_rows.count(), 0)


class ErrorPageTests(unittest.TestCase):
    def test_djangos_error_page_never_shows_the_token(self):
        # The debug page (DEBUG=True, the example desk's default) lists every local of every frame: the client's
        # held the Authorization header, chaser.django.client() and Client.__init__ the token.
        from django.test import override_settings
        from django.views.debug import ExceptionReporter

        import chaser
        from chaser.django.models import Order

        pages = []
        # Not found (an HTTP error), a URL that is not http (refused building the client), nobody listening.
        for url in (serve.url, "ftp://127.0.0.1", "http://127.0.0.1:%d" % harness.free_port()):
            with override_settings(CHASER_API_URL=url):
                try:
                    Order(pk=987654321).cancel()
                except chaser.ChaserError:
                    pages.append(ExceptionReporter(None, *sys.exc_info()).get_traceback_html())
        self.assertEqual(3, len(pages))
        for page in pages:
            self.assertNotIn(serve.token, page)


    def test_without_the_setting_the_token_comes_from_the_environment(self):
        from django.test import override_settings

        import chaser
        from chaser.django.models import Order

        saved = os.environ.get("CHASER_API_TOKEN")
        os.environ["CHASER_API_TOKEN"] = serve.token
        try:
            with override_settings(CHASER_API_TOKEN=None):
                with self.assertRaises(chaser.NotFoundError):  # authenticated: the order is just not there
                    Order(pk=987654321).cancel()
        finally:
            if saved is None:
                os.environ.pop("CHASER_API_TOKEN", None)
            else:
                os.environ["CHASER_API_TOKEN"] = saved


class TimeZoneTests(unittest.TestCase):
    def test_exchange_times_in_ms_are_the_instants_under_use_tz_false_across_a_clock_change(self):
        # With USE_TZ=False Django reads naive local times: 01:30 on the night New York's clocks go back is two
        # instants an hour apart (pytz refused it: AmbiguousTimeError; zoneinfo takes the first).
        from chaser.django.models import Order

        order = Order.objects.create(symbol="BTCUSDT", _type="l", sz=300, sz_type="n", strategy="py-tz")
        first, second = "2026-11-01T05:30:00.123+00:00", "2026-11-01T06:30:00.456+00:00"  # 01:30 EDT, 01:30 EST
        # Rows Chaser would record, planted: the simulator's clock does not pass a clock change.
        for trade_id, at in enumerate((first, second), 1):
            _rows("INSERT INTO mids (order_id, bid, ask, mid, exchange_time, received_time) VALUES (%s, 1, 3, 2, %s, %s) RETURNING id", order.pk, at, at)
            _rows("INSERT INTO fills (order_id, client_order_id, trade_id, price, qty, fee, fee_asset, is_maker, exchange_time, received_time) "
                  "VALUES (%s, 'c', %s, 2, 0.001, 0, 'USDT', true, %s, %s) RETURNING id", order.pk, trade_id, at, at)
        ms = [_ms(datetime.datetime.fromisoformat(at)) for at in (first, second)]
        script = (
            "import json, sys; import django; from django.conf import settings; "
            "from chaser.django import database_settings; "
            "settings.configure(INSTALLED_APPS=['chaser.django'], DATABASES={'default': database_settings(sys.argv[1])}, USE_TZ=False, TIME_ZONE='America/New_York'); "
            "django.setup(); from chaser.django.models import Order; o = Order.objects.get(pk=int(sys.argv[2])); "
            "print(json.dumps({'mids': o.mids, 'trades': o.trades}))"
        )
        net = os.environ["CHASER_TEST_POSTGRES"].rstrip(";") + ";Database=" + database
        done = subprocess.run(
            [sys.executable, "-c", script, net, str(order.pk)], capture_output=True, text=True, timeout=60,
            env=dict(os.environ, PYTHONPATH=os.path.abspath(os.path.join(harness.HERE, ".."))),
        )
        self.assertEqual(0, done.returncode, done.stderr[-2000:])
        read = json.loads(done.stdout)
        self.assertEqual([[2.0, ms[0]], [2.0, ms[1]]], read["mids"])
        self.assertEqual([[2.0, 0.001, ms[0]], [2.0, 0.001, ms[1]]], read["trades"])


class FrameTests(unittest.TestCase):
    def test_df_without_polars_or_pandas_names_both(self):
        import sys

        from chaser.django.models import Order

        saved = {name: sys.modules.get(name) for name in ("polars", "pandas")}
        sys.modules.update(polars=None, pandas=None)  # what an interpreter without them imports
        try:
            with self.assertRaises(ImportError) as caught:
                Order.objects.all().df()
        finally:
            for name, module in saved.items():
                if module is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = module
        self.assertIn("polars", str(caught.exception))
        self.assertIn("pandas", str(caught.exception))


class CreateTests(unittest.TestCase):
    def test_a_negative_sz_sells_and_a_side_that_disagrees_is_refused_naming_side(self):
        import chaser
        from chaser.django.models import Order

        sell = Order.objects.create(exchange="binance_futures", symbol="ETHUSDT", _type="l", sz=-500, sz_type="n", strategy="py-django")
        self.assertEqual((-1, Decimal(500), "binfut"), (sell.side, sell.sz, sell.exchange))
        explicit = Order.objects.create(symbol="ETHUSDT", _type="l", sz=-500, sz_type="n", side=-1, strategy="py-django")
        self.assertEqual(-1, explicit.side)
        count = Order.objects.count()
        with self.assertRaises(chaser.ValidationError) as caught:
            Order.objects.create(symbol="BTCUSDT", _type="l", sz=15_000, sz_type="n", side=-1)
        self.assertEqual(["side"], list(caught.exception.errors))
        self.assertEqual(count, Order.objects.count())

    def test_sz_as_text_or_decimal_keeps_its_sign_and_its_digits(self):
        from chaser.django.models import Order

        sell = Order.objects.create(symbol="ETHUSDT", _type="l", sz="-0.123", sz_type="q", strategy="py-django")
        self.assertEqual((-1, Decimal("0.123")), (sell.side, sell.sz))
        buy = Order.objects.create(symbol="ETHUSDT", _type="l", sz=Decimal("0.05"), sz_type="q", strategy="py-django")
        self.assertEqual((1, Decimal("0.05")), (buy.side, buy.sz))
        tenth = Order.objects.create(symbol="ETHUSDT", _type="l", sz=-0.1, sz_type="q", strategy="py-django")
        self.assertEqual((-1, Decimal("0.1")), (tenth.side, tenth.sz))

    def test_bulk_create_is_all_or_none_and_names_the_seed_field_with_its_index(self):
        import chaser
        from chaser.django.models import Order

        count = Order.objects.count()
        with self.assertRaises(chaser.ValidationError) as caught:
            Order.objects.bulk_create([
                Order(symbol="BTCUSDT", _type="l", sz=300, sz_type="n", strategy="py-bulk"),
                Order(symbol="BTCUSDT", _type="l", sz=0, sz_type="n", strategy="py-bulk"),
            ])
        self.assertEqual(["[1].sz"], list(caught.exception.errors))
        self.assertEqual(count, Order.objects.count())
        with self.assertRaises(chaser.ValidationError) as caught:
            Order.objects.create(symbol="BTCUSDT", _type="l", sz=float("nan"), sz_type="n")
        self.assertEqual(["sz"], list(caught.exception.errors))
        made = Order.objects.bulk_create([
            Order(symbol="BTCUSDT", _type="l", sz=300, sz_type="n", strategy="py-bulk"),
            Order(symbol="ETHUSDT", _type="l", sz=-0.2, sz_type="q", strategy="py-bulk"),
        ])
        self.assertEqual([(1, Decimal(300)), (-1, Decimal("0.2"))], [(o.side, o.sz) for o in made])
        self.assertEqual([o.pk for o in made], list(Order.objects.filter(strategy="py-bulk").values_list("pk", flat=True)))

    def test_sz_as_text_without_a_leading_digit_is_a_buy(self):
        # ".5" was refused as "side: required" while "-.5" sold: the sign came only from text starting with a digit.
        from chaser.django.models import Order

        half = Order.objects.create(symbol="ETHUSDT", _type="l", sz=".5", sz_type="q", strategy="py-django")
        self.assertEqual((1, Decimal("0.5")), (half.side, half.sz))
        plus = Order.objects.create(symbol="ETHUSDT", _type="l", sz="+.25", sz_type="q", strategy="py-django")
        self.assertEqual((1, Decimal("0.25")), (plus.side, plus.sz))

    def test_the_deadline_action_and_reprice_interval_are_created_through_chaser_and_read_back(self):
        import chaser
        from chaser.django.models import Order

        order = Order.objects.create(symbol="BTCUSDT", _type="l", sz=300, sz_type="n", strategy="py-pacing", time_limit_ms=120_000, deadline_action="take", min_reprice_interval_ms=750)
        self.assertEqual(("take", 750, 120_000), (order.deadline_action, order.min_reprice_interval_ms, order.time_limit_ms))
        self.assertEqual([("take", 750)], _rows("SELECT deadline_action, min_reprice_interval_ms FROM orders WHERE id = %s", order.id))
        order.cancel()
        plain = Order.objects.create(symbol="BTCUSDT", _type="l", sz=300, sz_type="n", strategy="py-pacing")
        self.assertEqual(("cancel", None), (plain.deadline_action, plain.min_reprice_interval_ms))
        plain.cancel()
        with self.assertRaises(chaser.ValidationError) as caught:
            Order.objects.create(symbol="BTCUSDT", _type="l", sz=300, sz_type="n", min_reprice_interval_ms=-1)
        self.assertEqual(["min_reprice_interval_ms"], list(caught.exception.errors))
        with self.assertRaises(chaser.ValidationError) as caught:
            Order.objects.create(symbol="BTCUSDT", _type="l", sz=300, sz_type="n", min_reprice_interval="11m")
        self.assertEqual(["min_reprice_interval"], list(caught.exception.errors))

    def test_a_naive_deadline_is_in_djangos_time_zone(self):
        from django.utils import timezone

        from chaser.django.models import Order

        naive = datetime.datetime(2030, 1, 2, 9, 30)
        order = Order.objects.create(symbol="BTCUSDT", _type="l", sz=300, sz_type="n", deadline=naive, strategy="py-django")
        self.assertEqual(timezone.make_aware(naive, timezone.get_default_timezone()), order.deadline)
        self.assertNotEqual(naive.replace(tzinfo=datetime.timezone.utc), order.deadline)

    def test_a_sliced_query_executes(self):
        from chaser.django.models import Order

        order = Order.objects.create(symbol="ETHUSDT", _type="l", sz=150, sz_type="n", strategy="py-slice")
        final = Order.objects.filter(strategy="py-slice")[:1].execute(timeout=120)
        self.assertEqual([(order.id, "filled")], [(o["id"], o["status"]) for o in final])

    def test_one_order_executes_and_a_query_cancels(self):
        from chaser.django.models import Order

        order = Order.objects.create(symbol="ETHUSDT", _type="l", sz=-120, sz_type="n", strategy="py-one")
        final = order.execute(timeout=120)
        self.assertEqual(("filled", "filled"), (final["status"], order.status))
        self.assertTrue(order.trades)
        self.assertEqual(order.filled_qty, sum(f.qty for f in order.fills.all()))
        waiting = Order.objects.create(symbol="ETHUSDT", _type="l", sz=-120, sz_type="n", strategy="py-cancel")
        self.assertEqual([{"id": waiting.pk, "status": "canceled"}], Order.objects.filter(strategy__in=["py-one", "py-cancel"]).cancel())
        self.assertEqual("canceled", Order.objects.get(pk=waiting.pk).status)

    def test_an_order_created_through_django_and_executed_by_serve_replays_to_the_same_decisions(self):
        from chaser.django.models import Order

        order = Order.objects.create(symbol="BTCUSDT", _type="l", sz=900, sz_type="n", strategy="py-replay")
        self.assertEqual("filled", order.execute(timeout=120)["status"])
        decisions = _rows("SELECT count(*) FROM events WHERE order_id = %s", order.id)[0][0]
        net = os.environ["CHASER_TEST_POSTGRES"].rstrip(";") + ";Database=" + database
        result = subprocess.run(["dotnet", harness.chaser_dll(), "replay", "--order", str(order.id), "--db", net],
                                capture_output=True, text=True, timeout=120, env=dict(os.environ, DOTNET_NOLOGO="1"))
        self.assertEqual(0, result.returncode, result.stdout + result.stderr)
        self.assertIn("the same %d decisions" % decisions, result.stdout)

    def test_chaser_validates_and_names_the_seed_field(self):
        import chaser
        from chaser.django.models import Order

        count = Order.objects.count()
        cases = [
            (dict(exchange="binance", symbol="BTCUSDT", _type="l", sz=15_000, sz_type="n"), "exchange", "must be the string 'binfut'"),
            (dict(symbol="BTCUSDT", _type="m", sz=15_000, sz_type="n"), "_type", "must be 'limit' (or 'l')"),
            (dict(symbol="BTCUSDT", _type="l", sz=0, sz_type="n"), "sz", "must be greater than zero"),
            (dict(symbol="BTCUSDT", _type="l", sz=15_000, sz_type="x"), "sz_type", "'n' (notional"),
            (dict(symbol="NOPEUSDT", _type="l", sz=15_000, sz_type="n"), "symbol", "not traded"),
            (dict(symbol="BTCUSDT", _type="l", sz=0.0000001, sz_type="q"), "sz", ""),
        ]
        for fields, field, reason in cases:
            with self.subTest(field=field):
                with self.assertRaises(chaser.ValidationError) as caught:
                    Order.objects.create(**fields)
                self.assertIn(field, caught.exception.errors)
                self.assertIn(reason, caught.exception.errors[field][0])
        with self.assertRaises(TypeError) as caught:
            Order.objects.create(symbol="BTCUSDT", sz=100, sz_type="n", status="filled")
        self.assertIn("status", str(caught.exception))
        self.assertEqual(count, Order.objects.count())

    def test_the_rows_are_chasers_to_write(self):
        from django.db.utils import NotSupportedError

        from chaser.django.models import Order

        order = Order.objects.create(symbol="BTCUSDT", _type="l", sz=300, sz_type="n", strategy="py-ro")
        order.status = "filled"
        with self.assertRaises(NotSupportedError):
            order.save()
        with self.assertRaises(NotSupportedError):
            Order.objects.filter(pk=order.pk).update(status="filled")
        with self.assertRaises(NotSupportedError):
            Order.objects.filter(pk=order.pk).delete()
        self.assertEqual("new", Order.objects.get(pk=order.pk).status)
        self.assertEqual("canceled", order.cancel()["status"])

        # save() of a new instance creates it through Chaser, as create() does.
        fresh = Order(symbol="ETHUSDT", _type="l", sz=Decimal("0.05"), sz_type="q", strategy="py-ro")
        fresh.save()
        self.assertIsNotNone(fresh.pk)
        self.assertEqual((Decimal("0.05"), 1, "new"), (fresh.sz, fresh.side, Order.objects.get(pk=fresh.pk).status))


if __name__ == "__main__":
    unittest.main()
