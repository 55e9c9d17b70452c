"""The runner's counts, which .ci/run adds to its closing line."""

import io
import unittest

import run


class _Sample(unittest.TestCase):
    def test_passes(self):
        pass

    def test_passes_too(self):
        pass

    def test_three_subtests_fail(self):
        for n in range(3):
            with self.subTest(n=n):
                self.fail("subtest %d" % n)

    def test_errors(self):
        raise RuntimeError("boom")

    @unittest.skip("not here")
    def test_skipped(self):
        pass


class _BrokenModuleSetup(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        raise RuntimeError("no database")

    def test_never_runs(self):
        pass


class CountTests(unittest.TestCase):
    def test_each_test_is_counted_once_whatever_its_subtests(self):
        # Counted per failure, the three subtests were three failures and passed went from 2 to 0.
        suite = unittest.TestSuite([unittest.defaultTestLoader.loadTestsFromTestCase(_Sample), unittest.defaultTestLoader.loadTestsFromTestCase(_BrokenModuleSetup)])
        result = unittest.TextTestRunner(stream=io.StringIO()).run(suite)
        self.assertEqual({"passed": 2, "failed": 3, "skipped": 1}, run.count(result))


def load_tests(loader, tests, pattern):
    # Only CountTests: the samples fail on purpose and run inside it.
    return loader.loadTestsFromTestCase(CountTests)
