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


def main(argv):
    # A SIGTERM (CI's timeout) stops every chaser serve the tests started, then ends the run: raised as an
    # exception it would only fail the test at hand.
    signal.signal(signal.SIGTERM, _terminated)
    started = time.monotonic()
    suite = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped - len(result.expectedFailures)
    counts = {"passed": max(passed, 0), "failed": failed, "skipped": skipped, "seconds": round(time.monotonic() - started, 1)}
    print("python tests: %(passed)d passed, %(failed)d failed, %(skipped)d skipped in %(seconds)s s" % counts)
    if len(argv) > 1:
        with open(argv[1], "w") as out:
            json.dump(counts, out)
    return 0 if failed == 0 and counts["passed"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
