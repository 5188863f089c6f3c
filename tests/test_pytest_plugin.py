"""pytest-native use under real pytest: plain tests, the ``testdata`` fixture, ``fixture_for``, options, xdist,
pytest-randomly and ``--junitxml``."""

from __future__ import annotations

import collections
import importlib.util
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import textwrap
import unittest
from typing import Any

# pytest-asyncio (dev extra) warns, an error under -W error, in a folder that does not choose its loop scope.
ASYNCIO_LOOP_SCOPE = "-o asyncio_default_fixture_loop_scope=function"
ROOT = pathlib.Path(__file__).resolve().parent.parent


def has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


CONFTEST = '''
import itertools
import os

from testdata_kit import creates
from testdata_kit.pytest_plugin import fixture_for

_ids = itertools.count(1)


def log(*parts):
    with open(os.environ["TDK_LOG"], "a", encoding="utf-8") as handle:
        handle.write(" ".join(str(part) for part in parts) + "\\n")


@creates("pt_thing")
def pt_thing(label="t"):
    value = {"id": f"{os.getpid()}.{next(_ids)}", "label": label}
    log("create", label, value["id"])
    yield value
    log("delete", label, value["id"])


def refuse(value):
    raise RuntimeError("the API refused the delete")


@creates("pt_stuck", delete=refuse)
def pt_stuck():
    return {"id": 0}


per_test = fixture_for("pt_thing", name="per_test", label="function")
per_class = fixture_for("pt_thing", scope="class", name="per_class", label="class")
per_module = fixture_for("pt_thing", scope="module", name="per_module", label="module")
per_session = fixture_for("pt_thing", scope="session", name="per_session", label="session")
'''

PLAIN = '''
from conftest import log, pt_thing


def test_plain():
    pt_thing(label="plain-1")
    pt_thing(label="plain-2")
    log("end", "test_plain")


def test_fixture_api(testdata):
    testdata.create("pt_thing", label="fixture-1")
    s = testdata.scenario(workers=1).pt_thing(label="scenario")
    assert s.pt_thing["label"] == "scenario"
    log("end", "test_fixture_api")


def test_next():
    log("end", "test_next")
'''

SCOPES = '''
from conftest import log


def test_a(per_test, per_class, per_module, per_session):
    log("uses", "a", per_module["id"], per_session["id"])


def test_b(per_test, per_module, per_session):
    log("uses", "b", per_module["id"], per_session["id"])


class TestGrouped:
    def test_one(self, per_class):
        log("uses", "one", per_class["id"])

    def test_two(self, per_class):
        log("uses", "two", per_class["id"])
'''

OTHER = '''
from conftest import log


def test_c(per_module, per_session):
    log("uses", "c", per_module["id"], per_session["id"])
'''

FAKES = "".join(f'''

def test_fake_{n}(testdata):
    log("fake", "test_fake_{n}", testdata.fake.person.full_name().replace(" ", "_"))
''' for n in range(6))

UNITTEST_STYLE = '''
from conftest import pt_thing

from testdata_kit import DataTestCase


class Legacy(DataTestCase):
    def test_legacy(self):
        pt_thing(label="legacy")
'''

FAILING = '''
from conftest import log, pt_stuck, pt_thing


def test_refused_delete():
    pt_thing(label="fine")
    pt_stuck()


def test_fails(testdata):
    testdata.create("pt_thing", label="failing")
    testdata.fake.person.full_name()
    assert False, "the total is wrong"
'''


class PytestTestCase(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = pathlib.Path(tmp.name)
        self.log = self.dir / "events.log"
        self.write("conftest.py", CONFTEST)

    def write(self, name: str, source: str) -> None:
        (self.dir / name).write_text(textwrap.dedent(source), encoding="utf-8")

    def pytest(self, *args: str, code: int = 0, env: dict[str, str] | None = None) -> str:
        environ = {**os.environ, "TDK_LOG": str(self.log), "PYTHONPATH": str(ROOT), **(env or {})}
        for name in ("TESTDATA_SEED", "TESTDATA_KEEP", "TESTDATA_REPORT", "TESTDATA_RUN_ID", "PYTEST_ADDOPTS",
                     "PYTEST_XDIST_WORKER", "PYTEST_XDIST_TESTRUNUID", "PYTEST_CURRENT_TEST"):
            if name not in (env or {}):
                environ.pop(name, None)
        environ.setdefault("PYTEST_ADDOPTS", ASYNCIO_LOOP_SCOPE)
        self.log.unlink(missing_ok=True)
        process = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
            cwd=self.dir, env=environ, capture_output=True, text=True, timeout=180,
        )
        output = process.stdout + process.stderr
        self.assertEqual(process.returncode, code, output)
        return output

    def events(self) -> list[list[str]]:
        return [line.split() for line in self.log.read_text(encoding="utf-8").splitlines()]

    def fakes(self) -> dict[str, str]:
        return {test: value for kind, test, value in (e for e in self.events() if e[0] == "fake") if kind}


class PlainTests(PytestTestCase):
    def test_plain_tests_and_the_testdata_fixture_delete_newest_first_right_after_the_test(self) -> None:
        self.write("test_plain.py", PLAIN)
        out = self.pytest("-q", "test_plain.py")
        flow = [" ".join(e[:2]) for e in self.events()]
        self.assertEqual(flow, [
            "create plain-1", "create plain-2", "end test_plain", "delete plain-2", "delete plain-1",
            "create fixture-1", "create scenario", "end test_fixture_api", "delete scenario", "delete fixture-1",
            "end test_next",
        ])
        self.assertIn("testdata_kit: created 4, deleted 4, leaked 0", out)

    def test_a_refused_deletion_is_an_error_of_its_test_and_the_rest_is_still_deleted(self) -> None:
        self.write("test_failing.py", FAILING)
        out = self.pytest("-q", "-rE", "test_failing.py::test_refused_delete", code=1)
        self.assertIn("ERROR at teardown of test_refused_delete", out)
        self.assertIn("CleanupError: Could not delete <Resource pt_stuck id=0 test=test_refused_delete>: "
                      "RuntimeError: the API refused the delete", out)
        self.assertIn("1 passed, 1 error", out)
        self.assertIn(["delete", "fine"], [e[:2] for e in self.events()])
        self.assertIn("testdata_kit: created 2, deleted 1, leaked 1", out)

    def test_a_failing_test_shows_its_data_and_seed_in_a_report_section(self) -> None:
        self.write("test_failing.py", FAILING)
        out = self.pytest("test_failing.py::test_fails", "--testdata-seed", "77", code=1)
        self.assertIn("testdata_kit: details of test_failing.py::test_fails", out)
        self.assertIn("owns (not deleted yet): <Resource pt_thing id=", out)
        self.assertIn("python -m pytest --testdata-seed 77 test_failing.py::test_fails", out)
        self.assertIn("testdata_kit: fake values seeded with TESTDATA_SEED=77", out)

    def test_keep_option_keeps_the_data_of_failed_tests_only(self) -> None:
        self.write("test_failing.py", FAILING)
        self.write("test_plain.py", PLAIN)
        out = self.pytest("-q", "--testdata-keep", "test_failing.py::test_fails", "test_plain.py::test_plain", code=1)
        deleted = [e[1] for e in self.events() if e[0] == "delete"]
        self.assertEqual(deleted, ["plain-2", "plain-1"])
        self.assertIn("kept (TESTDATA_KEEP=failed): <Resource pt_thing", out)


class FixtureScopeTests(PytestTestCase):
    def test_kinds_as_fixtures_live_as_long_as_their_scope(self) -> None:
        self.write("test_scopes.py", SCOPES)
        self.write("test_scopes_other.py", OTHER)
        out = self.pytest("-q", "test_scopes.py", "test_scopes_other.py")
        events = self.events()
        created = collections.Counter(e[1] for e in events if e[0] == "create")
        self.assertEqual(created, {"function": 2, "class": 2, "module": 2, "session": 1}, events)
        uses = {e[1]: e[2:] for e in events if e[0] == "uses"}
        self.assertEqual(uses["a"][0], uses["b"][0], "one module resource per module")
        self.assertNotEqual(uses["a"][0], uses["c"][0])
        self.assertEqual({uses["a"][1], uses["b"][1], uses["c"][1]}, {uses["a"][1]}, "one session resource")
        self.assertEqual(uses["one"], uses["two"], "one class resource per class")
        # The first module's resource is deleted after its last test and before the next module starts.
        position = {(e[0], e[2] if e[0] != "uses" else e[1]): n for n, e in enumerate(events)}
        self.assertLess(position["uses", "two"], position["delete", uses["a"][0]])
        self.assertLess(position["delete", uses["a"][0]], position["uses", "c"])
        self.assertEqual(events[-1][:2], ["delete", "session"])
        self.assertIn("testdata_kit: created 7, deleted 7, leaked 0", out)


class SeedTests(PytestTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.write("test_fakes.py", "from conftest import log\n" + FAKES)

    def test_the_seed_option_replays_fake_values_and_is_printed(self) -> None:
        out = self.pytest("--testdata-seed", "1234", "test_fakes.py")
        self.assertIn("testdata_kit: fake values seeded with TESTDATA_SEED=1234", out)
        first = self.fakes()
        self.assertEqual(len(first), 6)
        self.pytest("-q", "test_fakes.py", env={"TESTDATA_SEED": "1234"})
        self.assertEqual(self.fakes(), first, "--testdata-seed means TESTDATA_SEED")
        self.pytest("-q", "--testdata-seed", "99", "test_fakes.py")
        self.assertNotEqual(self.fakes(), first)

    def test_a_random_run_seed_is_printed_and_replays_the_run(self) -> None:
        out = self.pytest("test_fakes.py")
        seed = re.search(r"TESTDATA_SEED=(\d+)", out)
        self.assertIsNotNone(seed, out)
        first = self.fakes()
        self.pytest("-q", "--testdata-seed", seed[1] if seed else "", "test_fakes.py")
        self.assertEqual(self.fakes(), first)

    @unittest.skipUnless(has("pytest_randomly"), "pytest-randomly is not installed (pip install 'testdata_kit[dev]')")
    def test_pytest_randomly_shuffles_but_never_changes_the_values(self) -> None:
        # pytest-randomly reseeds random and mimesis' global seed before each test; our providers ignore both.
        base = self.pytest("-q", "--testdata-seed", "5", "test_fakes.py")
        self.assertIn("6 passed", base)
        expected = self.fakes()
        for randomly_seed in ("1", "2"):
            self.pytest_randomly(randomly_seed)
            self.assertEqual(self.fakes(), expected, f"--randomly-seed={randomly_seed}")

    def pytest_randomly(self, randomly_seed: str) -> None:
        environ = {**os.environ, "TDK_LOG": str(self.log), "PYTHONPATH": str(ROOT)}
        for name in ("TESTDATA_SEED", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_TESTRUNUID"):
            environ.pop(name, None)
        environ["PYTEST_ADDOPTS"] = ASYNCIO_LOOP_SCOPE
        self.log.unlink(missing_ok=True)
        process = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "randomly", "-v",
             f"--randomly-seed={randomly_seed}", "--testdata-seed", "5", "test_fakes.py"],
            cwd=self.dir, env=environ, capture_output=True, text=True, timeout=180,
        )
        self.assertEqual(process.returncode, 0, process.stdout + process.stderr)
        self.assertIn(f"Using --randomly-seed={randomly_seed}", process.stdout)
        self.assertIn("testdata_kit: fake values seeded with TESTDATA_SEED=5 (replay: --testdata-seed 5); "
                      "--randomly-seed only changes the order, not these values", process.stdout)

    @unittest.skipUnless(has("xdist"), "pytest-xdist is not installed (pip install 'testdata_kit[dev]')")
    def test_xdist_workers_use_the_seed_the_header_printed(self) -> None:
        self.pytest("-q", "--testdata-seed", "8", "test_fakes.py")
        expected = self.fakes()
        out = self.pytest("-n", "2", "test_fakes.py")
        seed = re.search(r"TESTDATA_SEED=(\d+)", out)
        self.assertIsNotNone(seed, out)
        replay = self.fakes()
        self.pytest("-q", "--testdata-seed", seed[1] if seed else "", "test_fakes.py")
        self.assertEqual(self.fakes(), replay, "the printed seed replays what the workers drew")
        self.pytest("-q", "-n", "2", "--testdata-seed", "8", "test_fakes.py")
        self.assertEqual(self.fakes(), expected)


@unittest.skipUnless(has("xdist"), "pytest-xdist is not installed (pip install 'testdata_kit[dev]')")
class XdistTests(PytestTestCase):
    def test_data_is_deleted_in_each_worker_and_the_summary_sums_them(self) -> None:
        self.write("test_plain.py", PLAIN)
        self.write("test_scopes.py", SCOPES)
        out = self.pytest("-n", "2", "test_plain.py", "test_scopes.py")
        events = self.events()
        created = [e[2] for e in events if e[0] == "create"]
        deleted = [e[2] for e in events if e[0] == "delete"]
        self.assertEqual(sorted(created), sorted(deleted))
        self.assertIn(f"testdata_kit: created {len(created)}, deleted {len(created)}, leaked 0", out)


class JunitTests(PytestTestCase):
    @unittest.skipUnless(has("junitparser"), "junitparser is not installed (pip install 'testdata_kit[dev]')")
    def test_junitxml_carries_counts_seed_and_the_failing_tests_details(self) -> None:
        import junitparser

        self.write("test_plain.py", PLAIN)
        self.write("test_failing.py", FAILING)
        self.write("test_legacy.py", UNITTEST_STYLE)
        junit = self.dir / "junit.xml"
        self.pytest("-q", "--testdata-seed", "31", f"--junitxml={junit}", "test_plain.py", "test_legacy.py",
                    "test_failing.py::test_fails", code=1)
        cases: dict[str, Any] = {}
        for suite in junitparser.JUnitXml.fromfile(str(junit)):
            for case in suite:
                found = case.child(junitparser.Properties)
                cases[case.name] = {p.name: p.value for p in found.iterchildren(junitparser.Property)} if found else {}
        self.assertEqual(
            {key: cases["test_plain"][f"testdata_kit.{key}"] for key in ("created", "deleted", "leaked", "seed")},
            {"created": "2", "deleted": "2", "leaked": "0", "seed": "31"},
        )
        self.assertEqual(cases["test_fails"]["testdata_kit.deleted"], "1")
        self.assertEqual((cases["test_legacy"]["testdata_kit.created"], cases["test_legacy"]["testdata_kit.deleted"]),
                         ("1", "1"), "a DataTestCase under pytest carries them too")
        self.assertIn("owns (not deleted yet): <Resource pt_thing", cases["test_fails"]["testdata_kit.details"])


class DocsExampleTests(unittest.TestCase):
    """The how-to's example project runs as printed, alone, under xdist and under pytest-randomly."""

    def run_example(self, *args: str) -> str:
        example = ROOT / "docs" / "examples" / "pytest_shop"
        environ = {**os.environ, "PYTHONPATH": str(ROOT)}
        for name in ("TESTDATA_SEED", "TESTDATA_REPORT", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER",
                     "PYTEST_XDIST_TESTRUNUID"):
            environ.pop(name, None)
        environ["PYTEST_ADDOPTS"] = ASYNCIO_LOOP_SCOPE
        process = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=example,
                                 env=environ, capture_output=True, text=True, timeout=180)
        output = process.stdout + process.stderr
        self.assertEqual(process.returncode, 0, output)
        self.assertIn("5 passed", output)
        self.assertRegex(output, r"testdata_kit: created (\d+), deleted \1, leaked 0")
        return output

    def test_the_example_runs(self) -> None:
        self.run_example("-p", "no:randomly")

    @unittest.skipUnless(has("xdist") and has("pytest_randomly"), "needs pytest-xdist and pytest-randomly")
    def test_the_example_runs_under_xdist_and_randomly(self) -> None:
        self.run_example("-n", "2", "-p", "randomly")

if __name__ == "__main__":
    unittest.main()
