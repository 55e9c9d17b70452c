"""The client against a real ``chaser serve`` on the embedded simulator, recording in SQLite."""

import http.server
import importlib.util
import json
import os
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request
from decimal import Decimal

import harness

import chaser
from chaser.client import decimal_text, duration_text

serve = None


def setUpModule():
    global serve
    serve = harness.Serve(os.path.join(tempfile.mkdtemp(prefix="chaser-py-db-"), "chaser.db"))


def tearDownModule():
    if serve is not None:
        serve.stop()


def client(**kwargs):
    return chaser.Client(serve.url, serve.token, **kwargs)


def reported(error):
    """What an error reporter shows of an exception (Django's debug page, Sentry): the repr of every local of every
    frame it and the exceptions it was raised from passed through."""
    text = []
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        text.append(str(error))
        tb = error.__traceback__
        while tb is not None:
            text.extend("%s=%r" % item for item in tb.tb_frame.f_locals.items())
            tb = tb.tb_next
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return "\n".join(text)


def _answer(handler, status, value):
    body = json.dumps(value).encode()
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up on the answer
    return True


class _Proxy:
    """A local HTTP server passing GETs on to chaser serve unless ``answer(handler)`` answered (it answers every
    POST) until closed."""

    def __init__(self, answer=None):
        upstream = serve.url

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if answer is not None and answer(self):
                    return
                request = urllib.request.Request(upstream + self.path, headers={"Authorization": self.headers["Authorization"] or ""})
                with urllib.request.urlopen(request) as real:
                    body = real.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                answer(self)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


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

    def test_no_frame_an_error_passed_through_holds_the_token(self):
        # Django's debug page and error trackers show every local of the failing frames: the client's held the
        # Authorization header (and __init__ the token) as text.
        failures = []
        for attempt in (
            lambda: client().order(987654321),
            lambda: chaser.Client("http://127.0.0.1:%d" % harness.free_port(), serve.token, retries=0).order(1),
            lambda: chaser.Client("ftp://127.0.0.1", serve.token),
            lambda: chaser.Client(serve.url, serve.token + " more"),
            lambda: chaser.Client(serve.url, serve.token, timeout="5"),
        ):
            try:
                attempt()
            except chaser.ChaserError as e:
                failures.append(e)
        for error in failures:
            with self.subTest(error=type(error).__name__):
                self.assertNotIn(serve.token, reported(error))
        self.assertEqual(5, len(failures))

    def test_a_redirect_never_carries_the_token(self):
        # A redirect to another host (a proxy's, a typo'd URL's) must not hand it the bearer token.
        seen = []

        def record(handler):
            seen.append(handler.headers["Authorization"])
            return _answer(handler, 200, [])

        elsewhere = _Proxy(record)

        def redirect(handler):
            handler.send_response(307)
            handler.send_header("Location", elsewhere.url + handler.path)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return True

        redirecting = _Proxy(redirect)
        try:
            chaser.Client(redirecting.url, serve.token).orders()
        except chaser.ChaserError:
            pass
        finally:
            redirecting.close()
            elsewhere.close()
        self.assertEqual([None], seen)

    def test_retries_and_backoff_that_are_not_counts_and_seconds_are_refused_naming_them(self):
        # They failed only when a connection did, as a TypeError comparing the attempt with "3".
        for name, value in (("retries", "3"), ("retries", -1), ("retries", 1.5), ("retries", True), ("backoff", "0.5"), ("backoff", -1), ("backoff", float("nan"))):
            with self.subTest(name=name, value=value):
                with self.assertRaises(chaser.ConfigurationError) as caught:
                    chaser.Client(serve.url, serve.token, **{name: value})
                self.assertTrue(str(caught.exception).startswith(name + ":"))

    def test_another_web_server_at_the_url_is_a_configuration_error_naming_url(self):
        # Its 200 page came back as text where orders were expected: wait() and create() failed on "string indices".
        def page(handler):
            body = b"<html>Sign in</html>"
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html; charset=utf-8")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return True

        other = _Proxy(page)
        try:
            for call in (lambda api: api.orders(), lambda api: api.create_order("BTCUSDT", 1, 200, "n"), lambda api: api.wait([1], timeout=5)):
                with self.assertRaises(chaser.ConfigurationError) as caught:
                    call(chaser.Client(other.url, serve.token))
                self.assertTrue(str(caught.exception).startswith("url: %s answered" % other.url), str(caught.exception))
                self.assertIn("text/html", str(caught.exception))
        finally:
            other.close()

    def test_a_timeout_that_is_not_seconds_is_refused_naming_timeout(self):
        # A setting read from the environment is text: it failed at the first request as a bare TypeError.
        for timeout in ("5", 0, -1, float("nan"), float("inf"), True):
            with self.subTest(timeout=timeout):
                with self.assertRaises(chaser.ConfigurationError) as caught:
                    chaser.Client(serve.url, serve.token, timeout=timeout)
                self.assertTrue(str(caught.exception).startswith("timeout:"))
        self.assertEqual([], chaser.Client(serve.url, serve.token, timeout=Decimal("2.5")).orders(strategy="py-none"))

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


def _cancel_unless_final(api, order_id):
    # It may end between the look and the cancel (CI saw a 409 "already filled" here): final either way is the aim.
    if api.order(order_id)["status"] not in chaser.FINAL_STATUSES:
        try:
            api.cancel(order_id)
        except chaser.ConflictError:
            if api.order(order_id)["status"] not in chaser.FINAL_STATUSES:
                raise


class LostWaitTests(unittest.TestCase):
    def test_a_wait_ends_by_its_timeout_when_the_server_does_not_answer(self):
        # Each poll took the request timeout, and was retried: a wait of 1 s on a hung server lasted minutes.
        def hang(handler):
            time.sleep(8)
            return _answer(handler, 200, [])

        hung = _Proxy(hang)
        try:
            started = time.monotonic()
            with self.assertRaises(chaser.WaitTimeout) as caught:
                chaser.Client(hung.url, serve.token, timeout=6, retries=3, backoff=0.2).wait([7], timeout=1, poll_interval=0.1)
            self.assertLess(time.monotonic() - started, 3)
            self.assertEqual([7], caught.exception.pending)
        finally:
            hung.close()

    def test_an_execute_whose_answer_is_lost_after_the_claim_waits_for_the_orders(self):
        # The connection broke after Chaser had claimed the orders: execute_and_wait raised "outcome unknown" while
        # they worked on; a second execute would only be refused.
        def claim_then_hang_up(handler):
            if handler.command != "POST":
                return False
            body = handler.rfile.read(int(handler.headers["Content-Length"]))
            request = urllib.request.Request(serve.url + handler.path, data=body, method="POST",
                                             headers={"Authorization": handler.headers["Authorization"], "Content-Type": "application/json"})
            urllib.request.urlopen(request).close()
            handler.close_connection = True  # no answer: the client sees the connection close
            return True

        api = client()
        order = api.create_order("ETHUSDT", 1, 150, "n", strategy="py-lost-answer")
        proxy = _Proxy(claim_then_hang_up)
        try:
            final = chaser.Client(proxy.url, serve.token, backoff=0.01).execute_and_wait([order["id"]], timeout=120, poll_interval=0.2)
        finally:
            proxy.close()
        self.assertEqual("filled", final[0]["status"])

    def test_more_than_one_claim_of_orders_claims_none_when_one_is_not_new(self):
        # Past 1,000 ids the orders are claimed in several requests: the first claimed (and started) its orders
        # before the second was refused for an order already filled.
        ids = list(range(1, 1_202))
        claimed = []

        def venue(handler):
            if handler.command == "POST":
                claimed.append(handler.path)
                return _answer(handler, 202, {"ids": [], "status": "working"})
            asked = [int(i) for i in urllib.parse.parse_qs(urllib.parse.urlsplit(handler.path).query)["ids"][0].split(",")]
            return _answer(handler, 200, [{"id": i, "status": "filled" if i == 1_150 else "new"} for i in asked])

        stub = _Proxy(venue)
        try:
            with self.assertRaises(chaser.ConflictError) as caught:
                chaser.Client(stub.url, serve.token).execute_and_wait(ids, timeout=5)
        finally:
            stub.close()
        self.assertEqual([], claimed)
        self.assertEqual([1_150], caught.exception.ids)
        self.assertIn("order 1150 is filled", str(caught.exception))

    def test_losing_chaser_while_waiting_names_the_orders_left_working(self):
        # chaser serve killed mid-execute(): the user saw only "GET /api/orders: could not connect", not that their
        # order was claimed and may still rest on the exchange.
        api = client()
        order = api.create_order("BTCUSDT", 1, 900_000, "n", strategy="py-lost")
        api.execute([order["id"]])
        proxy = _Proxy()
        try:
            with self.assertRaises(chaser.ConnectionLost) as caught:
                chaser.Client(proxy.url, serve.token, retries=1, backoff=0.01).wait([order["id"]], poll_interval=0.1, progress=lambda orders: proxy.close())
        finally:
            _cancel_unless_final(api, order["id"])
        error = caught.exception
        self.assertIsInstance(error, chaser.ConnectionFailed)
        self.assertEqual([order["id"]], error.pending)
        self.assertIn("order(s) not final when last seen: %d" % order["id"], str(error))
        self.assertIn("may still rest on the exchange", str(error))
        api.wait([order["id"]], timeout=60, poll_interval=0.2)

    def test_an_interrupted_wait_warns_that_the_orders_keep_working(self):
        api = client()
        order = api.create_order("BTCUSDT", 1, 900_000, "n", strategy="py-interrupt")
        api.execute([order["id"]])

        def interrupt(orders):
            raise KeyboardInterrupt

        try:
            with self.assertLogs("chaser", "WARNING") as logged:
                with self.assertRaises(KeyboardInterrupt):
                    api.wait([order["id"]], poll_interval=0.1, progress=interrupt)
        finally:
            _cancel_unless_final(api, order["id"])
        self.assertIn("order(s) %d keep working on Chaser" % order["id"], logged.output[0])
        api.wait([order["id"]], timeout=60, poll_interval=0.2)


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

    @unittest.skipUnless(importlib.util.find_spec("numpy"), "numpy is not installed (python3-pandas brings it)")
    def test_sizes_sides_and_flags_from_a_data_frame_are_numbers(self):
        # They failed in json.dumps: "Object of type int64 is not JSON serializable".
        import numpy

        api = client()
        order = api.create_order("ETHUSDT", numpy.int64(-1), numpy.float64(0.05), "q", reduce_only=numpy.bool_(False), price_expected=numpy.int64(3400))
        self.assertEqual((-1, Decimal("0.05"), False, Decimal(3400)), (order["side"], order["size"], order["reduce_only"], order["price_expected"]))
        self.assertEqual(Decimal(200), api.create_order("BTCUSDT", 1, numpy.int32(200), "n")["size"])
        self.assertEqual("0.25", decimal_text(numpy.float32(0.25), "size"))

    def test_a_naive_deadline_is_refused_naming_it_and_a_time_limit_may_be_a_timedelta(self):
        # A naive datetime reached Chaser without an offset and was read as UTC: datetime.now() + 10 minutes in New
        # York was already past, in Singapore eight hours away.
        import datetime

        api = client()
        for call in (
            lambda: api.create_order("BTCUSDT", 1, 200, "n", deadline=datetime.datetime.now() + datetime.timedelta(minutes=10)),
            lambda: api.report(since=datetime.datetime(2026, 11, 30, 9, 0)),
        ):
            with self.assertRaises(ValueError) as caught:
                call()
            self.assertRegex(str(caught.exception), r"^(deadline|since): .* has no time zone")
        deadline = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=-5))).replace(microsecond=0) + datetime.timedelta(minutes=10)
        order = api.create_order("BTCUSDT", 1, 200, "n", deadline=deadline, time_limit=datetime.timedelta(minutes=10), strategy="py-times")
        self.assertEqual(deadline.astimezone(datetime.timezone.utc).isoformat(), order["deadline"])
        self.assertEqual(600_000, order["time_limit_ms"])
        api.cancel(order["id"])

    def test_the_deadline_action_and_reprice_interval_pass_through_and_a_bad_one_is_named(self):
        import datetime

        api = client()
        order = api.create_order(
            "BTCUSDT", 1, 200, "n", strategy="py-pacing", time_limit="5m", deadline_action="take",
            min_reprice_interval=datetime.timedelta(seconds=1, milliseconds=500),
        )
        self.assertEqual(("take", 1_500, 300_000), (order["deadline_action"], order["min_reprice_interval_ms"], order["time_limit_ms"]))
        self.assertEqual(("take", 1_500), (api.order(order["id"])["deadline_action"], api.order(order["id"])["min_reprice_interval_ms"]))
        api.cancel(order["id"])
        self.assertEqual(("cancel", None), (lambda o: (o["deadline_action"], o["min_reprice_interval_ms"]))(api.create_order("BTCUSDT", 1, 200, "n", strategy="py-pacing")))

        # A fraction of a millisecond goes out as it is, for Chaser to refuse by name, never rounded away here.
        self.assertEqual("0.5ms", duration_text(datetime.timedelta(microseconds=500)))
        with self.assertRaises(chaser.ValidationError) as caught:
            api.create_orders([
                {"symbol": "BTCUSDT", "side": 1, "size": 200, "size_type": "n", "strategy": "py-pacing-bad", "min_reprice_interval": datetime.timedelta(microseconds=500)},
                {"symbol": "BTCUSDT", "side": 1, "size": 200, "size_type": "n", "strategy": "py-pacing-bad", "deadline_action": "take"},
            ])
        self.assertEqual(["[0].min_reprice_interval", "[1].deadline_action"], sorted(caught.exception.errors))
        self.assertEqual([], api.orders(strategy="py-pacing-bad"))

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
        # Implementation shortfall (USDT): the fills' cost beyond the arrival mid, the fees, the remainder's opportunity cost.
        for r in rows:
            side = 1 if r["side"] == "buy" else -1
            shortfall = side * (r["filled_notional"] - r["arrival_mid"] * r["filled_qty"]) + r["fees"] + r["opportunity_cost"]
            self.assertIsInstance(r["implementation_shortfall"], Decimal)
            self.assertLess(abs(r["implementation_shortfall"] - shortfall), Decimal("0.00000002"))
            self.assertIsNotNone(r["implementation_shortfall_bps"])
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
        # The order waits its turn behind a big one on its symbol and side, so that it cannot have filled by the
        # cancel: alone, 900,000 USDT sometimes filled within the half second (then the cancel was a 409).
        ahead = api.create_order("BTCUSDT", 1, 900_000, "n", strategy="py-timeout")
        order = api.create_order("BTCUSDT", 1, 300, "n", strategy="py-timeout")
        api.execute([ahead["id"]])
        api.execute([order["id"]])
        try:
            with self.assertRaises(chaser.WaitTimeout) as caught:
                api.wait([order["id"]], timeout=0.3, poll_interval=0.1)
            self.assertEqual([order["id"]], caught.exception.pending)
            self.assertEqual("canceling", api.cancel(order["id"])["status"])
            self.assertEqual("canceled", api.wait([order["id"]], timeout=60, poll_interval=0.2)[0]["status"])
        finally:
            _cancel_unless_final(api, ahead["id"])
        api.wait([ahead["id"]], timeout=60, poll_interval=0.2)

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
