"""The tutorial's commands, run for real against the demo API: the legacy test fails, the refactored one passes
twice in a row, as four concurrent copies and under pytest -n 2, and leaves no row behind."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import subprocess
import sys
import unittest

from testdata_kit import demo

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"


class TutorialTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.server = demo.running().start()
        cls.addClassCleanup(cls.server.stop)
        cls.env = {**os.environ, "DEMO_API": cls.server.url, "PYTHONPATH": str(ROOT)}

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )

    def finish(self, process: subprocess.Popen[str]) -> tuple[int, str]:
        out, _ = process.communicate(timeout=120)
        return process.returncode, out

    def run_example(self, *args: str) -> tuple[int, str]:
        return self.finish(self.start(*args))

    def test_the_legacy_test_fails_on_a_fresh_api(self) -> None:
        code, out = self.run_example("-m", "unittest", "docs/examples/legacy_test.py")
        self.assertEqual(code, 1, out)
        self.assertIn("404 != 200", out)

    def test_lint_flags_the_legacy_test_and_nothing_in_the_refactored_one(self) -> None:
        code, out = self.run_example("-m", "testdata_kit", "lint", "docs/examples")
        self.assertEqual(code, 1, out)
        flagged = [line.split(": ")[1].split()[0] for line in out.splitlines() if line.startswith("docs/examples/")]
        self.assertEqual(flagged, ["TDK001", "TDK002"])
        self.assertNotIn("refactored_test.py", out)
        page = (ROOT / "docs" / "tutorial.rst").read_text(encoding="utf-8")
        for line in out.splitlines():
            self.assertIn(line, page, "the tutorial shows the lint output as it is")

    def test_the_refactored_test_passes_twice_and_leaves_nothing(self) -> None:
        for _ in range(2):
            code, out = self.run_example("-m", "unittest", "docs/examples/refactored_test.py")
            self.assertEqual(code, 0, out)
            self.assertIn("testdata_kit: created 1, deleted 1, leaked 0", out)
        self.assertEqual(self.server.counts()["users"], 0)

    def test_four_concurrent_copies_pass(self) -> None:
        copies = [self.start("-m", "unittest", "docs/examples/refactored_test.py") for _ in range(4)]
        for copy in copies:
            code, out = self.finish(copy)
            self.assertEqual(code, 0, out)
        self.assertEqual(self.server.counts()["users"], 0)

    @unittest.skipUnless(importlib.util.find_spec("xdist"), "pytest-xdist is not installed")
    def test_pytest_n_2(self) -> None:
        code, out = self.run_example(
            "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "docs/examples/refactored_test.py"
        )
        self.assertEqual(code, 0, out)
        self.assertIn("testdata_kit: created 1, deleted 1, leaked 0", out)
        self.assertEqual(self.server.counts()["users"], 0)


if __name__ == "__main__":
    unittest.main()
