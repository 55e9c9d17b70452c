"""Runs the Python tests (unittest) and writes their counts for .ci/run: ``run.py [RESULTS.json]``.

Exit 0 when every test passed; a module that cannot even be imported or set up counts as failed.
"""

import json
import os
import signal
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def _terminated(*_):
    import harness

    harness.stop_all()
    os._exit(143)


def count(result):
    """Tests passed, failed and skipped, each test once: a test whose subtests failed three times is one failed test
    (counted per failure, it was three, and took two passes off the others); a module whose setup failed is one."""
    ran_failed, not_run = set(), set()
    for test, _ in result.failures + result.errors + [(t, None) for t in result.unexpectedSuccesses]:
        test = getattr(test, "test_case", test)  # a subtest's failure is its test's
        (not_run if isinstance(test, unittest.suite._ErrorHolder) else ran_failed).add(test.id())
    skipped = len({getattr(t, "test_case", t).id() for t, _ in result.skipped} - ran_failed)
    passed = result.testsRun - len(ran_failed) - skipped - len(result.expectedFailures)
    return {"passed": passed, "failed": len(ran_failed) + len(not_run), "skipped": skipped}


def main(argv):
    # A SIGTERM (CI's timeout) stops every chaser serve the tests started, then ends the run: raised as an
    # exception it would only fail the test at hand.
    signal.signal(signal.SIGTERM, _terminated)
    started = time.monotonic()
    suite = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    counts = dict(count(result), seconds=round(time.monotonic() - started, 1))
    print("python tests: %(passed)d passed, %(failed)d failed, %(skipped)d skipped in %(seconds)s s" % counts)
    if len(argv) > 1:
        with open(argv[1], "w") as out:
            json.dump(counts, out)
    return 0 if counts["failed"] == 0 and counts["passed"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
