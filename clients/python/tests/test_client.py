"""The client against a real ``chaser serve`` on the embedded simulator, recording in SQLite."""

import http.server
import importlib.util
import json
import os
import tempfile
import threading
import time
import unittest
import urllib.request
from decimal import Decimal

import harness

import chaser
from chaser.client import decimal_text

serve = None


def setUpModule():
    global serve
    serve = harness.Serve(os.path.join(tempfile.mkdtemp(prefix="chaser-py-db-"), "chaser.db"))


def tearDownModule():
    if serve is not None:
        serve.stop()


def client(**kwargs):
    return chaser.Client(serve.url, serve.token, **kwargs)


class ConfigurationTests(unittest.TestCase):
    def test_the_token_comes_from_the_argument_or_the_environment_and_is_required(self):
        saved = os.environ.pop("CHASER_API_TOKEN", None)
        try:
            with self.assertRaises(chaser.ConfigurationError) as caught:
                chaser.Client(serve.url)
            self.assertIn("CHASER_API_TOKEN", str(caught.exception))
            os.environ["CHASER_API_TOKEN"] = serve.token
            self.assertEqual("BTCUSDT", chaser.Client(serve.url).create_order("BTCUSDT", 1, 200, "n")["symbol"])
        finally:
            os.environ.pop("CHASER_API_TOKEN", None)
            if saved is not None:
                os.environ["CHASER_API_TOKEN"] = saved

    def test_a_url_that_is_not_http_is_refused_naming_url(self):
        with self.assertRaises(chaser.ConfigurationError) as caught:
            chaser.Client("127.0.0.1:5080", "t")
        self.assertTrue(str(caught.exception).startswith("url:"))

    def test_a_wrong_token_is_an_authentication_error_that_does_not_carry_it(self):
        wrong = "not-the-token-" + serve.token[:4]
        with self.assertRaises(chaser.AuthenticationError) as caught:
            chaser.Client(serve.url, wrong).orders()
        self.assertEqual(401, caught.exception.status)
        self.assertNotIn(wrong, str(caught.exception))
        self.assertNotIn(wrong, repr(chaser.Client(serve.url, wrong)))

    def test_a_token_that_cannot_be_a_header_is_refused_without_quoting_it(self):
        for token in ("abc\ndef-secret", "abc def-secret", "abcdéf-secret"):
            with self.assertRaises(chaser.ConfigurationError) as caught:
                chaser.Client(serve.url, token).orders()
            self.assertNotIn("secret", str(caught.exception))
            self.assertTrue(str(caught.exception).startswith("token:"))

    def test_an_unreachable_server_is_retried_then_a_connection_error_saying_nothing_was_sent(self):
        lonely = chaser.Client("http://127.0.0.1:%d" % harness.free_port(), "t", retries=2, backoff=0.01)
        with self.assertRaises(chaser.ConnectionFailed) as caught:
            lonely.create_order("BTCUSDT", 1, 200, "n")
        self.assertFalse(caught.exception.sent)
        self.assertIn("could not connect", str(caught.exception))


class BusyServerTests(unittest.TestCase):
    def test_a_wait_rides_out_a_busy_database_and_the_rate_limit(self):
        # Chaser answers 503 (database busy) and 429 with Retry-After; the wait polls again instead of giving up
        # while the orders work on. A local server plays those answers, then passes the poll on to the real one.
        api = client()
        order = api.create_order("BTCUSDT", 1, 200, "n")
        api.execute([order["id"]])
        answers = [(503, "Database unavailable"), (429, "Too many requests")]

        class Flaky(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if answers:
                    status, title = answers.pop(0)
                    body = json.dumps({"status": status, "title": title}).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/problem+json")
                    self.send_header("Retry-After", "1")
                else:
                    request = urllib.request.Request(serve.url + self.path, headers={"Authorization": self.headers["Authorization"]})
                    with urllib.request.urlopen(request) as real:
                        body = real.read()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            flaky = chaser.Client("http://127.0.0.1:%d" % server.server_address[1], serve.token)
            started = time.monotonic()
            final = flaky.wait([order["id"]], timeout=120, poll_interval=0.2)
            self.assertEqual("filled", final[0]["status"])
            self.assertEqual([], answers)
            self.assertGreaterEqual(time.monotonic() - started, 2)  # each Retry-After was waited out
        finally:
            server.shutdown()
            server.server_close()


class OrderTests(unittest.TestCase):
    def test_an_order_is_stored_exactly_as_given_and_read_back_with_decimals(self):
        api = client()
        order = api.create_order("ETHUSDT", "buy", Decimal("0.123"), "q", strategy="py-exact", price_expected=3400.5)
        self.assertEqual(Decimal("0.123"), order["size"])
        self.assertIsInstance(order["size"], Decimal)
        self.assertEqual(Decimal("3400.5"), order["price_expected"])
        self.assertEqual((1, "new", "binfut", "limit"), (order["side"], order["status"], order["exchange"], order["type"]))
        self.assertEqual(order, api.order(order["id"]))
        self.assertEqual([order["id"]], [o["id"] for o in api.orders(strategy="py-exact")])

    @unittest.skipUnless(importlib.util.find_spec("numpy"), "numpy is not installed (python3-pandas brings it)")
    def test_ids_from_a_data_frame_are_ids(self):
        import numpy

        api = client()
        order = api.create_order("BTCUSDT", 1, 200, "n")
        self.assertEqual(order, api.order(numpy.int64(order["id"])))
        self.assertEqual([order["id"]], [o["id"] for o in api.orders(ids=numpy.array([order["id"]]))])
        with self.assertRaises(ValueError):
            api.order(True)

    def test_floats_go_out_as_plain_decimals_never_exponents(self):
        self.assertEqual("0.00001", decimal_text(1e-05, "size"))
        self.assertEqual("15000", decimal_text(15_000, "size"))
        self.assertEqual("0.1", decimal_text(0.1, "size"))
        self.assertEqual("0.000000000000000001", decimal_text(Decimal("1E-18"), "size"))
        with self.assertRaises(ValueError):
            decimal_text(float("nan"), "size")

    def test_bad_orders_raise_validation_errors_naming_each_field_and_nothing_is_stored(self):
        api = client()
        with self.assertRaises(chaser.ValidationError) as caught:
            api.create_orders([
                {"symbol": "BTCUSDT", "side": 1, "size": 200, "size_type": "n", "strategy": "py-bad"},
                {"symbol": "BTCUSDT", "side": 1, "size": "1,000", "size_type": "n", "strategy": "py-bad", "type": "market"},
            ])
        error = caught.exception
        self.assertEqual(400, error.status)
        self.assertEqual(["[1].size", "[1].type"], sorted(error.errors))
        self.assertIn("[1].size: uses ',': use '.' as the decimal point", str(error))
        self.assertEqual([], api.orders(strategy="py-bad"))
        with self.assertRaises(chaser.ValidationError) as caught:
            api.create_order("NOPEUSDT", 1, 200, "n")
        self.assertEqual({"symbol": ["NOPEUSDT is not traded on this exchange"]}, caught.exception.errors)
        with self.assertRaises(chaser.ValidationError) as caught:
            api.create_order("BTCUSDT", 1, True, "n")
        self.assertIn("size", caught.exception.errors)
        with self.assertRaises(chaser.ValidationError) as caught:
            api.orders(status="done")
        self.assertIn("status", caught.exception.errors)

    def test_execute_waits_with_progress_and_the_rows_read_back_agree(self):
        api = client()
        created = api.create_orders([
            {"symbol": "BTCUSDT", "side": 1, "size": 1500, "size_type": "n", "strategy": "py-exec"},
            {"symbol": "ETHUSDT", "side": "buy", "size": "0.4", "size_type": "q", "strategy": "py-exec"},
        ])
        ids = [o["id"] for o in created]
        seen = []
        final = api.execute_and_wait(ids, timeout=120, progress=lambda orders: seen.append([o["status"] for o in orders]), poll_interval=0.2)
        self.assertEqual(ids, [o["id"] for o in final])
        self.assertEqual(["filled", "filled"], [o["status"] for o in final])
        self.assertEqual(["filled", "filled"], seen[-1])
        self.assertGreaterEqual(len(seen), 2)
        for order in final:
            fills = api.fills(order["id"])
            self.assertTrue(fills)
            self.assertEqual(order["filled_qty"], sum(f["qty"] for f in fills))
            self.assertEqual(order["filled_notional"], sum(f["qty"] * f["price"] for f in fills))
            self.assertTrue(api.mids(order["id"]))
            self.assertTrue(api.child_orders(order["id"]))
            self.assertTrue(api.events(order["id"]))
        self.assertEqual(Decimal("0.4"), final[1]["filled_qty"])

        # Once is once: a second execute is a conflict naming the ids, an unknown id is not found.
        with self.assertRaises(chaser.ConflictError) as caught:
            api.execute(ids)
        self.assertEqual(ids, caught.exception.ids)
        with self.assertRaises(chaser.NotFoundError):
            api.execute([ids[0], 987654321])
        with self.assertRaises(chaser.NotFoundError):
            api.order(987654321)

        rows = api.report_rows(ids=ids)
        self.assertEqual(ids, sorted(r["id"] for r in rows))
        self.assertTrue(all(r["slippage"] is not None for r in rows))
        csv = api.report_csv(ids=ids).splitlines()
        self.assertEqual(3, len(csv))
        self.assertTrue(csv[0].startswith("id,symbol,side,strategy,status"))

    def test_two_executes_of_the_same_orders_at_once_work_them_once(self):
        api = client()
        ids = [o["id"] for o in api.create_orders([{"symbol": "BTCUSDT", "side": 1, "size": 300, "size_type": "n"}] * 3)]
        outcomes = []

        def run():
            try:
                api.execute(ids)
                outcomes.append("accepted")
            except chaser.ConflictError:
                outcomes.append("conflict")

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(["accepted", "conflict"], sorted(outcomes))
        final = api.wait(ids, timeout=120, poll_interval=0.2)
        self.assertEqual(["filled"] * 3, [o["status"] for o in final])
        for order in final:
            self.assertLessEqual(order["filled_notional"], Decimal(300))

    def test_a_failed_order_raises_with_its_reason(self):
        api = client()
        # Reduce-only buys need a short position; these tests only ever buy, so the exchange rejects it.
        order = api.create_order("BTCUSDT", 1, 200, "n", reduce_only=True, strategy="py-fail")
        ok = api.create_order("ETHUSDT", 1, 100, "n", strategy="py-fail")
        with self.assertRaises(chaser.ExecutionFailed) as caught:
            api.execute_and_wait([order["id"], ok["id"]], timeout=120, poll_interval=0.2)
        error = caught.exception
        self.assertEqual([order["id"]], list(error.failures))
        self.assertIn("ReduceOnly", error.failures[order["id"]])
        self.assertIn("order %d:" % order["id"], str(error))
        self.assertEqual({"failed", "filled"}, {o["status"] for o in error.orders})

    def test_a_wait_past_its_timeout_names_the_orders_still_working_and_cancel_ends_them(self):
        api = client()
        # Far above what the simulated book fills in a second.
        order = api.create_order("BTCUSDT", 1, 900_000, "n", strategy="py-timeout")
        api.execute([order["id"]])
        with self.assertRaises(chaser.WaitTimeout) as caught:
            api.wait([order["id"]], timeout=0.5, poll_interval=0.1)
        self.assertEqual([order["id"]], caught.exception.pending)
        self.assertEqual("canceling", api.cancel(order["id"])["status"])
        self.assertEqual("canceled", api.wait([order["id"]], timeout=60, poll_interval=0.2)[0]["status"])

    def test_a_new_order_is_canceled_at_once_and_a_final_one_is_a_conflict(self):
        api = client()
        order = api.create_order("BTCUSDT", 1, 200, "n")
        self.assertEqual({"id": order["id"], "status": "canceled"}, api.cancel(order["id"]))
        with self.assertRaises(chaser.ConflictError):
            api.cancel(order["id"])
        with self.assertRaises(ValueError):
            api.cancel("1")

    def test_the_openapi_document_is_served(self):
        document = client().openapi()
        self.assertEqual("bearer", document["components"]["securitySchemes"]["bearer"]["scheme"])
        self.assertIn("/api/orders/execute", document["paths"])


if __name__ == "__main__":
    unittest.main()
