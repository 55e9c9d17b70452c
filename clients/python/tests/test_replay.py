"""Orders created through the Python client and executed by ``chaser serve`` replay from the database to the same
decisions: ``chaser replay --order N`` against the database serve records in (SQLite)."""

import os
import subprocess
import tempfile
import unittest

import harness

import chaser

serve = None
database = None


def setUpModule():
    global serve, database
    database = os.path.join(tempfile.mkdtemp(prefix="chaser-py-replay-"), "chaser.db")
    serve = harness.Serve(database)


def tearDownModule():
    if serve is not None:
        serve.stop()


def replay(*args):
    return subprocess.run(["dotnet", harness.chaser_dll(), "replay", "--db", database] + list(args),
                          capture_output=True, text=True, timeout=120, env=dict(os.environ, DOTNET_NOLOGO="1"))


class ReplayTests(unittest.TestCase):
    def test_orders_created_by_the_client_and_executed_by_serve_replay_to_the_same_decisions(self):
        api = chaser.Client(serve.url, serve.token)
        created = api.create_orders([
            {"symbol": "BTCUSDT", "side": 1, "size": 3000, "size_type": "n", "strategy": "py-replay"},
            {"symbol": "ETHUSDT", "side": "sell", "size": "0.3", "size_type": "q", "strategy": "py-replay",
             "min_reprice_interval": "50ms", "time_limit": "2m"},
        ])
        final = api.execute_and_wait([o["id"] for o in created], timeout=120, poll_interval=0.2)
        self.assertEqual(["filled", "filled"], [o["status"] for o in final])
        for order in final:
            decisions = len(api.events(order["id"]))
            result = replay("--order", str(order["id"]))
            self.assertEqual(0, result.returncode, result.stdout + result.stderr)
            self.assertIn("the same %d decisions" % decisions, result.stdout)
            self.assertTrue(all(len(line) <= 80 for line in result.stdout.splitlines()), result.stdout)
            self.assertEqual("", result.stderr)

    def test_an_order_never_executed_is_refused_on_one_line(self):
        order = chaser.Client(serve.url, serve.token).create_orders([{"symbol": "BTCUSDT", "side": 1, "size": 500, "size_type": "n"}])[0]
        result = replay("--order", str(order["id"]))
        self.assertEqual(2, result.returncode, result.stdout + result.stderr)
        self.assertEqual(["chaser replay: option '--order': order %d has not started working (new): nothing to replay" % order["id"]],
                         result.stderr.splitlines())


if __name__ == "__main__":
    unittest.main()
