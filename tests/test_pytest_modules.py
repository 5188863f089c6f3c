"""Under pytest, a module that the run order leaves and re-enters keeps its module-scoped data until its last test.

unittest keeps one process-global list of module cleanups; the pytest plugin must run each module's own
cleanups once, after that module's last test in the session's order, not at every module boundary.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import subprocess
import sys
import tempfile
import textwrap
import unittest

ROOT = pathlib.Path(__file__).resolve().parent.parent

CONFTEST = '''
def pytest_collection_modifyitems(items):
    # The first class of mod_a, then mod_b, then the second class of mod_a: pytest re-enters mod_a.
    rank = {"mod_a.py::First": 0, "mod_b.py": 1, "mod_a.py::Second": 2}
    items.sort(key=lambda item: next(r for prefix, r in rank.items() if item.nodeid.startswith(prefix)))
'''

MODULE = '''
import os

from testdata_kit import DataTestCase, create, creates

NAME = "{name}"
live = set()


def log(*words):
    with open(os.environ["TDK_LOG"], "a") as handle:
        handle.write(" ".join(words) + "\\n")


@creates(NAME + "_thing")
def thing(label):
    live.add(label)
    log("create", label)
    yield label
    live.discard(label)
    log("delete", label)


class First(DataTestCase):
    def test_first(self):
        create(NAME + "_thing", NAME + "-module-data", scope="module")
        log("test", NAME + ".First")


class Second(DataTestCase):
    def test_second(self):
        log("test", NAME + ".Second", "sees" if NAME + "-module-data" in live else "lost", "its data")
'''


@unittest.skipUnless(importlib.util.find_spec("pytest"), "pytest is not installed (pip install 'testdata_kit[dev]')")
class ReenteredModuleTests(unittest.TestCase):
    def test_module_cleanups_run_once_after_the_modules_last_test(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            folder = pathlib.Path(tmp)
            (folder / "conftest.py").write_text(CONFTEST)
            (folder / "mod_a.py").write_text(textwrap.dedent(MODULE.format(name="a")))
            (folder / "mod_b.py").write_text(textwrap.dedent(MODULE.format(name="b")))
            log = folder / "events.log"
            env = {**os.environ, "TDK_LOG": str(log), "PYTHONPATH": str(ROOT)}
            env.pop("TESTDATA_REPORT", None)
            # The conftest chooses the run order; pytest-randomly (in the dev extra) would shuffle it again.
            process = subprocess.run(
                [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-p", "no:randomly", "mod_a.py",
                 "mod_b.py"],
                cwd=folder, env=env, capture_output=True, text=True, timeout=180,
            )
            events = log.read_text().splitlines() if log.exists() else []
        output = process.stdout + process.stderr
        self.assertEqual(process.returncode, 0, output)
        # The order pytest ran: mod_a's first class, all of mod_b, mod_a's second class.
        self.assertEqual(
            [line for line in events if line.startswith("test")],
            ["test a.First", "test b.First", "test b.Second sees its data", "test a.Second sees its data"],
        )
        # Each module's data is deleted once, right after that module's last test: b's before a's second class.
        self.assertEqual(
            events,
            [
                "create a-module-data", "test a.First",
                "create b-module-data", "test b.First", "test b.Second sees its data", "delete b-module-data",
                "test a.Second sees its data", "delete a-module-data",
            ],
        )
        self.assertIn("testdata_kit: created 2, deleted 2, leaked 0", output)


if __name__ == "__main__":
    unittest.main()
