"""The sample suite under python -m unittest, pytest, pytest -n 2 and unittest-parallel: nothing is left behind."""

from __future__ import annotations

import collections
import importlib.util
import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

SUITE = pathlib.Path(__file__).resolve().parent / "runner_suite"
ROOT = SUITE.parent.parent
TESTS_IN_SUITE = 4


def has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


class RunnerTests(unittest.TestCase):
    def run_suite(self, *command: str) -> tuple[subprocess.CompletedProcess[str], list[tuple[str, ...]]]:
        with tempfile.TemporaryDirectory() as tmp:
            log = pathlib.Path(tmp, "cleanup.log")
            env = {**os.environ, "TDK_SAMPLE_LOG": str(log), "PYTHONPATH": str(ROOT)}
            env.pop("TESTDATA_REPORT", None)
            process = subprocess.run(
                [sys.executable, *command], cwd=SUITE, env=env, capture_output=True, text=True, timeout=180
            )
            lines = [tuple(line.split()) for line in log.read_text().splitlines()] if log.exists() else []
        self.assertEqual(process.returncode, 0, process.stdout + process.stderr)
        return process, lines

    def check_log(self, lines: list[tuple[str, ...]], processes: int | None = None) -> None:
        created = {(kind, ident) for _, action, kind, ident in lines if action == "create"}
        deleted = [(kind, ident) for _, action, kind, ident in lines if action == "delete"]
        self.assertTrue(created, "the suite created nothing")
        self.assertEqual(sorted(deleted), sorted(created), "every created resource is deleted exactly once")
        position = {(action, kind, ident): n for n, (_, action, kind, ident) in enumerate(lines)}
        kinds = collections.Counter(kind for kind, _ in created)
        self.assertEqual(kinds["sample_user"], 4)
        self.assertEqual(kinds["sample_order"], 1)
        for pid in {pid for pid, *_ in lines}:
            mine = [line for line in lines if line[0] == pid]
            # Longer-lived scopes end after shorter ones: run after module after class after test.
            last_delete = {kind: n for n, (_, action, kind, _) in enumerate(mine) if action == "delete"}
            if "sample_currency" in last_delete and "sample_tenant" in last_delete:
                self.assertGreater(last_delete["sample_currency"], last_delete["sample_tenant"])
            if "sample_catalog" in last_delete and "sample_tenant" in last_delete:
                self.assertGreater(last_delete["sample_tenant"], last_delete["sample_catalog"])
        # Within the chain test, children go first: order, then product, then user.
        (order_id,) = [ident for kind, ident in created if kind == "sample_order"]
        pid = order_id.split(".")[0]
        chain = [(kind, ident) for p, action, kind, ident in lines if p == pid and action == "delete"]
        at = chain.index(("sample_order", order_id))
        self.assertEqual([kind for kind, _ in chain[at:at + 3]], ["sample_order", "sample_product", "sample_user"])
        self.assertIn(("delete", "sample_order", order_id), position)
        if processes is not None:
            self.assertEqual(len({pid for pid, *_ in lines}), processes)

    def test_python_m_unittest(self):
        process, lines = self.run_suite("-m", "unittest", "case_shop")
        self.check_log(lines, processes=1)
        self.assertIn(f"Ran {TESTS_IN_SUITE} tests", process.stderr)
        self.assertIn("testdata_kit: created 10, deleted 10, leaked 0", process.stderr)

    @unittest.skipUnless(has("pytest"), "pytest is not installed (pip install 'testdata_kit[dev]')")
    def test_pytest_runs_module_cleanups_too(self):
        process, lines = self.run_suite("-m", "pytest", "-q", "-p", "no:cacheprovider", "case_shop.py")
        self.check_log(lines, processes=1)
        self.assertIn("testdata_kit: created 10, deleted 10, leaked 0", process.stdout)

    @unittest.skipUnless(has("xdist"), "pytest-xdist is not installed (pip install 'testdata_kit[dev]')")
    def test_pytest_xdist_sums_the_workers(self):
        process, lines = self.run_suite("-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "case_shop.py")
        self.check_log(lines)
        created = sum(1 for line in lines if line[1] == "create")
        self.assertIn(f"testdata_kit: created {created}, deleted {created}, leaked 0", process.stdout)

    @unittest.skipUnless(has("unittest_parallel"), "unittest-parallel is not installed")
    def test_unittest_parallel(self):
        process, lines = self.run_suite(
            "-m", "unittest_parallel", "-s", ".", "-t", ".", "-p", "case_*.py", "-j", "2", "--level", "class"
        )
        self.check_log(lines)
        self.assertIn(f"Ran {TESTS_IN_SUITE} tests", process.stderr)
        # One total for every worker, after unittest-parallel's verdict; no worker prints its own account.
        created = sum(1 for line in lines if line[1] == "create")
        accounts = [line for line in process.stderr.splitlines() if "testdata_kit: created" in line]
        self.assertEqual(len(accounts), 1, process.stderr)
        self.assertRegex(accounts[0], rf"^testdata_kit: created {created}, deleted {created}, leaked 0 \(all \d "
                                      rf"worker process(es)?\)$")
        self.assertLess(process.stderr.index("\nOK\n"), process.stderr.index(accounts[0]))


if __name__ == "__main__":
    unittest.main()
