"""Tests for ``python -m testdata_kit run``: whole classes per worker, scopes, shards, shuffles, output, exit codes."""

from __future__ import annotations

import collections
import itertools
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import unittest
from xml.etree import ElementTree

from testdata_kit.run import _suite, runner

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Every test appends "event class-or-test pid worker seed run_id" to $RUNNER_LOG.
_LOGGING = """
import os
import unittest

def log(event, name):
    with open(os.environ["RUNNER_LOG"], "a", encoding="utf-8") as handle:
        handle.write(" ".join([event, name, str(os.getpid()), os.environ.get("TESTDATA_WORKER", "-"),
                               os.environ.get("TESTDATA_SEED", "-"), os.environ.get("TESTDATA_RUN_ID", "-")]) + "\\n")
"""


def _classes(prefix: str, count: int, tests: int) -> str:
    body = []
    for n in range(count):
        body.append(textwrap.dedent(f"""
            class {prefix}{n}(unittest.TestCase):
                @classmethod
                def setUpClass(cls):
                    log("setUpClass", cls.__qualname__)
            """))
        body += [f"    def test_{t}(self):\n        log('test', self.id())\n" for t in range(tests)]
    return _LOGGING + "".join(body)


_SCOPES = '''
import os
import itertools
import unittest

from testdata_kit import DataTestCase, create, creates

_ids = itertools.count()

def log(action, kind):
    with open(os.environ["RUNNER_LOG"], "a", encoding="utf-8") as handle:
        handle.write(f"{action} {kind} {os.getpid()}\\n")

def declare(kind):
    @creates(kind)
    def factory():
        log("create", kind)
        yield {"id": next(_ids)}
        log("delete", kind)
    return factory

declare("scoped_module%d")
declare("scoped_run%d")
item = declare("scoped_item%d")

def setUpModule():
    create("scoped_module%d", scope="module")
    create("scoped_run%d", scope="run")

class ScopeTests%d(DataTestCase):
    def test_item(self):
        self.assertTrue(item() is not None)
'''

_MIXED = '''
import os
import unittest

class Mixed(unittest.TestCase):
    def test_passes(self):
        pass

    def test_fails(self):
        self.assertEqual(1, 2)

    def test_errors(self):
        raise RuntimeError("boom")

    @unittest.skip("not today")
    def test_skipped(self):
        pass

class BrokenSetup(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        raise ValueError("no database")

    def test_a(self):
        pass

    def test_b(self):
        pass
'''


class RunnerTestCase(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = pathlib.Path(tmp.name)
        self.log = self.dir / "events.log"

    def write(self, name: str, source: str) -> None:
        (self.dir / name).write_text(source, encoding="utf-8")

    def command(self, *args: str, env: dict[str, str] | None = None) -> tuple[list[str], dict[str, str]]:
        """The runner's command line over this test's folder, and its environment."""
        environ = {**os.environ, "RUNNER_LOG": str(self.log), "PYTHONPATH": str(ROOT), **(env or {})}
        for name in ("TESTDATA_RUN_ID", "TESTDATA_SEED", "TESTDATA_WORKER", "TESTDATA_REPORT",
                     "CI_NODE_INDEX", "CI_NODE_TOTAL"):
            if name not in (env or {}):
                environ.pop(name, None)
        return [sys.executable, "-m", "testdata_kit.run.runner", *args, "-s", str(self.dir), "-p", "case_*.py"], environ

    def run_cli(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        argv, environ = self.command(*args, env=env)
        return subprocess.run(argv, cwd=self.dir, env=environ, capture_output=True, text=True, timeout=120)

    def events(self) -> list[list[str]]:
        return [line.split() for line in self.log.read_text(encoding="utf-8").splitlines()]

    def ran_ids(self, json_path: pathlib.Path) -> list[str]:
        data = json.loads(json_path.read_text(encoding="utf-8"))
        return [entry["id"] for entry in data["tests"] if not entry["fixture"]]


class ParallelTests(RunnerTestCase):
    def test_classes_stay_whole_and_workers_share_seed_and_run_id(self):
        self.write("case_one.py", _classes("Alpha", 3, 3))
        self.write("case_two.py", _classes("Beta", 3, 3))
        process = self.run_cli("-j", "3", "--seed", "4711")
        self.assertEqual(process.returncode, 0, process.stderr)
        events = self.events()
        setups = collections.Counter(name for event, name, *_ in events if event == "setUpClass")
        self.assertEqual(set(setups.values()), {1}, "setUpClass runs once per class")
        self.assertEqual(len(setups), 6)
        pids_of_class = collections.defaultdict(set)
        for event, name, pid, *_ in events:
            if event == "test":
                pids_of_class[name.rsplit(".", 1)[0]].add(pid)
        self.assertTrue(all(len(pids) == 1 for pids in pids_of_class.values()), pids_of_class)
        workers = {pid: worker for _, _, pid, worker, _, _ in events}
        self.assertGreater(len(workers), 1, "the classes were spread over several processes")
        self.assertEqual(len(set(workers.values())), len(workers), "each worker process has its own token")
        self.assertEqual({seed for *_, seed, _ in events}, {"4711"})
        self.assertEqual(len({run_id for *_, run_id in events}), 1)
        self.assertIn("Ran 18 tests", process.stderr)
        self.assertEqual(process.stderr.strip().splitlines()[-1], "18 passed, 0 failed")

    def test_module_and_run_scopes_end_in_every_worker(self):
        for n in range(4):
            self.write(f"case_scope{n}.py", _SCOPES.replace("%d", str(n)))
        process = self.run_cli("-j", "2")
        self.assertEqual(process.returncode, 0, process.stderr)
        created = collections.Counter((kind, pid) for action, kind, pid in self.events() if action == "create")
        deleted = collections.Counter((kind, pid) for action, kind, pid in self.events() if action == "delete")
        self.assertEqual(deleted, created, "every worker deleted what it created, run scope included")
        self.assertEqual(len({pid for _, pid in created}), 2)
        self.assertEqual(sum(n for (kind, _), n in created.items() if kind.startswith("scoped_run")), 4)
        self.assertIn("testdata_kit: created 12, deleted 12, leaked 0", process.stderr)

    def test_a_crashed_worker_is_reported_and_the_others_carry_on(self):
        self.write("case_crash.py", _LOGGING + textwrap.dedent("""
            class Crashes(unittest.TestCase):
                def test_exit(self):
                    os._exit(3)

            class Survives(unittest.TestCase):
                def test_fine(self):
                    log("test", self.id())
            """))
        process = self.run_cli("-j", "2")
        self.assertEqual(process.returncode, 1)
        self.assertIn("exited with code 3 while running case_crash.Crashes", process.stderr)
        self.assertEqual(process.stderr.strip().splitlines()[-1], "1 passed, 1 failed")


class ShardTests(RunnerTestCase):
    def test_the_shards_together_are_the_suite_with_no_overlap(self):
        self.write("case_one.py", _classes("Alpha", 4, 2))
        self.write("case_two.py", _classes("Beta", 3, 3))
        whole = self.dir / "whole.json"
        self.assertEqual(self.run_cli("-j", "1", "--json", str(whole)).returncode, 0)
        everything = self.ran_ids(whole)
        self.assertEqual(len(everything), 17)
        shards = []
        for index in (1, 2, 3):
            path = self.dir / f"shard{index}.json"
            process = self.run_cli("-j", "1", "--shard", f"{index}/3", "--json", str(path))
            self.assertEqual(process.returncode, 0, process.stderr)
            shards.append(self.ran_ids(path))
        combined = [test_id for shard in shards for test_id in shard]
        self.assertEqual(sorted(combined), sorted(everything), "no test missed and none run twice")
        self.assertTrue(all(shards), "every shard got some classes")
        classes = [{test_id.rsplit(".", 1)[0] for test_id in shard} for shard in shards]
        self.assertFalse(classes[0] & classes[1] or classes[1] & classes[2] or classes[0] & classes[2])
        from_env = self.dir / "env.json"
        self.run_cli("--json", str(from_env), env={"CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "3"})
        self.assertEqual(self.ran_ids(from_env), shards[1], "CI_NODE_INDEX/CI_NODE_TOTAL pick the same shard")

    def test_partition_is_balanced_and_independent_of_the_order_of_classes(self):
        units = [_suite.Unit(f"m.C{n}", "m", list(range(n * 10, n * 10 + n % 3 + 1))) for n in range(10)]
        parts = [_suite.shard(units, i, 3) for i in (1, 2, 3)]
        sizes = [sum(len(u.tests) for u in part) for part in parts]
        self.assertLessEqual(max(sizes) - min(sizes), 3)
        reordered = [_suite.shard(list(reversed(units)), i, 3) for i in (1, 2, 3)]
        self.assertEqual([{u.key for u in p} for p in parts], [{u.key for u in p} for p in reordered])

    def test_an_empty_shard_passes_but_an_empty_suite_does_not(self):
        self.write("case_one.py", _classes("Alpha", 1, 1))
        process = self.run_cli("--shard", "2/2")
        self.assertEqual(process.returncode, 0, process.stderr)
        self.assertIn("shard 2/2 is empty", process.stderr)
        (self.dir / "case_one.py").unlink()
        process = self.run_cli()
        self.assertEqual(process.returncode, runner.NO_TESTS_EXIT)
        self.assertIn("NO TESTS RAN", process.stderr)


class ShuffleTests(RunnerTestCase):
    def order(self, *args: str) -> list[str]:
        self.log.unlink(missing_ok=True)
        process = self.run_cli("-j", "1", *args)
        self.assertEqual(process.returncode, 0, process.stderr)
        return [name for event, name, *_ in self.events() if event == "test"]

    def test_same_seed_same_order_and_classes_stay_together(self):
        self.write("case_one.py", _classes("Alpha", 4, 4))
        self.write("case_two.py", _classes("Beta", 2, 4))
        plain = self.order()
        first = self.order("--shuffle", "--seed", "11")
        self.assertEqual(self.order("--shuffle", "--seed", "11"), first)
        self.assertNotEqual(first, plain)
        self.assertEqual(sorted(first), sorted(plain))
        self.assertNotEqual(self.order("--shuffle", "--seed", "12"), first)
        runs = [key for key, _ in itertools.groupby(n.rsplit(".", 1)[0] for n in first)]
        self.assertEqual(len(runs), 6, "each class runs as one block")

    def test_the_seed_is_printed_for_replay(self):
        self.write("case_one.py", _classes("Alpha", 1, 1))
        process = self.run_cli("--shuffle", "--seed", "99")
        self.assertIn("replay with --shuffle --seed 99", process.stderr)


class OutputTests(RunnerTestCase):
    def test_summary_count_line_junit_and_exit_code(self):
        self.write("case_mixed.py", _MIXED)
        junit = self.dir / "results.xml"
        process = self.run_cli("-j", "2", "--junit-xml", str(junit))
        self.assertEqual(process.returncode, 1)
        # str(test) gained the method name in 3.11; the runner prints what unittest prints on each version.
        self.assertRegex(process.stderr, r"FAIL: test_fails \(case_mixed\.Mixed(\.test_fails)?\) \[worker w\d\]")
        self.assertIn("ERROR: setUpClass (case_mixed.BrokenSetup)", process.stderr)
        self.assertIn("Ran 4 tests in ", process.stderr)
        self.assertIn("FAILED (failures=1, errors=2, skipped=1)", process.stderr)
        self.assertEqual(process.stderr.strip().splitlines()[-1], "1 passed, 4 failed, 1 skipped")
        root = ElementTree.parse(junit).getroot()
        self.assertEqual((root.get("failures"), root.get("skipped")), ("1", "1"))
        cases = {(case.get("classname"), case.get("name")): case for case in root.iter("testcase")}
        self.assertIsNotNone(cases["case_mixed.Mixed", "test_errors"].find("error"))
        self.assertIn("no database", cases["case_mixed.BrokenSetup", "setUpClass"].find("error").text)

    def test_a_passing_run_exits_zero_and_says_ok(self):
        self.write("case_one.py", _classes("Alpha", 2, 1))
        process = self.run_cli("-v")
        self.assertEqual(process.returncode, 0)
        self.assertRegex(process.stderr, r"test_0 \(case_one\.Alpha1(\.test_0)?\) \.\.\. ok")
        self.assertIn("\nOK\n", process.stderr)


    @unittest.skipUnless(hasattr(os, "mkfifo"), "needs a named pipe")
    def test_a_signal_while_the_reports_are_written_ends_the_run_by_it_after_them_without_a_traceback(self):
        self.write("case_one.py", _classes("Alpha", 1, 1))
        junit = self.dir / "results.xml"
        os.mkfifo(junit)  # the runner waits in open() until this test reads it: after its summary, in its reports
        argv, environ = self.command("-j", "1", "--junit-xml", str(junit))
        process = subprocess.Popen(argv, cwd=self.dir, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        assert process.stderr is not None
        seen = []
        for line in process.stderr:
            seen.append(line)
            if line.startswith("1 passed, 0 failed"):
                break
        process.send_signal(signal.SIGINT)
        written: list[str] = []

        def read() -> None:
            with open(junit, encoding="utf-8") as report:
                written.append(report.read())

        reader = threading.Thread(target=read)
        reader.start()  # only now: the runner's open() of the report returns once a reader opened it too
        stderr = "".join(seen) + process.communicate(timeout=60)[1]
        reader.join(timeout=10)
        if reader.is_alive():  # the runner died without opening its report: let the reader's open() return
            os.close(os.open(junit, os.O_WRONLY | os.O_NONBLOCK))
            reader.join()
        self.assertEqual(process.returncode, -signal.SIGINT, stderr)
        self.assertNotIn("Traceback", stderr)
        self.assertEqual(ElementTree.fromstring(written[0]).get("tests"), "1", "the report is written whole first")


if __name__ == "__main__":
    unittest.main()
