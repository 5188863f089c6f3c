"""The environment sweeper against the demo API: exactly the stale test rows go, children before parents."""

from __future__ import annotations

import contextlib
import datetime
import http.server
import io
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from unittest import mock

from testdata_kit import _run, demo, journal, ledger, sweep, unique
from testdata_kit.guard import HostNotAllowedError
from testdata_kit.http import ApiClient
from testdata_kit.sweep import CollectionSettings, ListingError
from testdata_kit.sweep._listing import pages
from testdata_kit.sweep._seen import SeenRows
from tests._dead_runs import COLLECTIONS, DemoApiCase

ROOT = pathlib.Path(__file__).resolve().parent.parent
SUITE = ROOT / "tests" / "journal_suite"
OLD = datetime.datetime(2021, 3, 1, tzinfo=datetime.timezone.utc)
CONFIG = "[testdata_kit]\nttl = 1h\njournal-dir = {journal}\n" + COLLECTIONS


def marker(run: str, when: int) -> str:
    return f"test-{_run.base36(when)}-{run}-p1-{_run.random_token(8)}"


class EnvironmentSweepTests(DemoApiCase):
    def setUp(self):
        super().setUp()
        self.config = self.tmp / "sweep.cfg"
        self.config.write_text(CONFIG.format(journal=self.tmp / "journal"))

    def post(self, collection, body, backdate=True):
        with self.http.post(f"{self.server.url}/{collection}", json=body) as response:
            self.assertEqual(response.status_code, 201, response.text)
            row = response.json()
        if backdate:
            self.server.backdate(collection, row["id"], OLD)
        return row

    def sweep(self, *args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = sweep.main(["--url", self.server.url, "--config", str(self.config), *args])
        return status, out.getvalue(), err.getvalue()

    def populate(self) -> tuple[set[tuple[str, int]], set[tuple[str, int]]]:
        """Make 1,000 unmarked rows, a live run's rows, young test rows and stale test rows; return (stale, others)."""
        stale, others = set(), set()
        for n in range(1000):
            row = self.post("users", {"email": f"customer{n}@shop.example", "name": f"Customer {n} test-ish"})
            others.add(("users", row["id"]))
        live = journal.Journal(self.tmp / "journal", run_id="livrun", heartbeat=0)
        self.addCleanup(live.close)
        old = 1614556800  # 2021-03-01
        for run, bucket in (("livrun", others), ("deadrn", stale)):
            user = self.post("users", {"email": f"{marker(run, old)}@example.com", "name": "T"})
            product = self.post("products", {"name": f"Lamp {marker(run, old)}", "price": 5})
            order = self.post("orders", {"user_id": user["id"], "product_id": product["id"]})
            bucket.update({("users", user["id"]), ("products", product["id"]), ("orders", order["id"])})
        young = self.post("users", {"email": unique.email(), "name": "Young"}, backdate=False)
        others.add(("users", young["id"]))
        real = next(iter(sorted(others)))[1]
        product = self.post("products", {"name": f"Mug {marker('deadrn', old)}", "price": 3})
        order = self.post("orders", {"user_id": real, "product_id": product["id"]})
        stale.update({("products", product["id"]), ("orders", order["id"])})
        return stale, others

    def test_deletes_exactly_the_stale_test_rows_children_first(self):
        stale, _ = self.populate()
        before = self.server.counts()
        status, out, err = self.sweep()
        self.assertEqual((status, self.server.counts()), (0, before), "a dry run deletes nothing")
        self.assertIn("dry run", err)
        self.assertRegex(out, r"orders +2 +2 +1 +0 +0")

        status, out, err = self.sweep("--yes")
        self.assertEqual(status, 0, out + err)
        deleted = {(d["collection"], d["id"]) for d in self.server.deletions()}
        self.assertEqual(deleted, stale)
        collections = [d["collection"] for d in self.server.deletions()]
        self.assertEqual(collections[:2], ["orders", "orders"], "children before their parents")
        self.assertRegex(out, r"users +1 +1 +1 +1 +0")
        self.assertRegex(out, r"total +5 +5 +3 +1 +0")

    def test_progress_is_reported_on_long_listings(self):
        self.populate()
        _, _, err = self.sweep()
        self.assertRegex(err, r"sweep: listing users: 500/100\d rows")

    def test_a_failed_delete_is_reported_and_exits_non_zero(self):
        user = self.post("users", {"email": f"{marker('deadrn', 1614556800)}@example.com", "name": "T"})
        product = self.post("products", {"name": "Real lamp", "price": 5})
        self.post("orders", {"user_id": user["id"], "product_id": product["id"]})
        self.config.write_text("[testdata_kit]\nttl = 1h\n[testdata_kit:collections.users]\nmarker-fields = email\n")
        status, out, _ = self.sweep("--yes")
        self.assertEqual(status, 1)
        self.assertRegex(out, r"failed: users: id \d+: DELETE http://127\.0\.0\.1:\d+/users/\d+ failed \(1 attempt\): "
                              r"status 409")

    def test_a_full_disk_under_the_swept_rows_file_stops_the_sweep_with_exit_2_and_a_second_sweep_ends_it(self):
        for n in range(400):
            self.post("users", {"email": f"{marker('deadrn', 1614556800)}@example.com", "name": f"T{n}"})
        self.config.write_text("[testdata_kit]\nttl = 1h\n[testdata_kit:collections.users]\nmarker-fields = email\n"
                               "list-query = limit=500\n")

        class FullDisk(SeenRows):
            # SQLite's own "database or disk is full": the file may not grow beyond its schema's pages, so the
            # sweep runs out of room once a page of counted rows is full.
            def __init__(self) -> None:
                super().__init__()
                self._db.execute("PRAGMA max_page_count = 3")

        with mock.patch("testdata_kit.sweep._environment.SeenRows", FullDisk):
            status, out, err = self.sweep("--yes")
        self.assertEqual(status, 2, out + err)
        self.assertIn("sweep: cannot keep the list of rows already swept in its temporary file (SQLite: database or "
                      "disk is full). Free some disk space, or point SQLITE_TMPDIR (or TMPDIR) at a writable folder "
                      "with room, then sweep again", err)
        self.assertNotIn("Traceback", err)
        left = self.server.counts()["users"]
        self.assertTrue(0 < left < 400, f"{left} rows left: the sweep should stop part-way")
        status, out, err = self.sweep("--yes")
        self.assertEqual((status, self.server.counts()["users"]), (0, 0), out + err)
        self.assertRegex(out, rf"users +{left} +{left} ")

    def test_refuses_a_host_outside_the_allowed_list_and_a_short_prefix(self):
        status, _, err = self.sweep("--url", "http://prod.example.com", "--yes")
        self.assertEqual(status, 2)
        self.assertIn("Refusing to sweep 'prod.example.com' (http://prod.example.com): it is neither loopback nor "
                      "an allowed host", err)
        self.assertIn(f"to allowed-hosts in the [testdata_kit] section of {self.config}.", err)
        status, _, err = self.sweep("--prefix", "t", "--yes")
        self.assertEqual(status, 2)
        self.assertIn("Marker prefix 't' from --prefix is unsafe", err)
        self.assertEqual(self.server.deletions(), [])

    def test_the_marker_prefix_follows_the_rules_of_unique(self):
        """A prefix the runs cannot make is one the sweeper refuses, whichever source it comes from."""
        self.addCleanup(unique.configure)
        plain = self.config.read_text()
        for prefix in ("qa*", "qa test", "ab", "1qa-", "qa-", "Q.a_1-"):
            try:
                unique.configure(prefix=prefix)
            except ValueError:
                usable = False
            else:
                usable = True
            with_key = plain.replace("[testdata_kit]\n", f"[testdata_kit]\nmarker-prefix = {prefix}\n", 1)
            for args, env, text in ((("--prefix", prefix), {}, plain), ((), {"TESTDATA_PREFIX": prefix}, plain),
                                    ((), {}, with_key)):
                self.config.write_text(text)
                with self.subTest(prefix=prefix, args=args, env=env), mock.patch.dict(os.environ, env):
                    status, _, err = self.sweep(*args)
                    self.assertEqual(status == 2, not usable, err)
                    self.assertEqual(f"Marker prefix {prefix!r} from" in err, not usable, err)
        self.assertEqual(self.server.deletions(), [])

    def test_a_bad_prefix_in_the_environment_is_a_clear_error_unless_replaced(self):
        with mock.patch.dict(os.environ, {"TESTDATA_PREFIX": "ab"}):
            status, out, err = self.sweep("--yes")
            self.assertEqual((status, out), (2, ""))
            self.assertIn("Marker prefix 'ab' from TESTDATA_PREFIX is unsafe", err)
            self.assertNotIn("Traceback", err)
            status, _, err = self.sweep("--prefix", "test-")
            self.assertEqual(status, 0, err)

    def test_a_bad_ttl_option_is_a_command_line_error(self):
        with self.assertRaises(SystemExit) as caught, contextlib.redirect_stderr(io.StringIO()) as err:
            sweep.main(["--ttl", "3x", "--config", str(self.config)])
        self.assertEqual(caught.exception.code, 2)
        self.assertIn("error: argument --ttl: '3x' is not valid", err.getvalue())
        self.assertNotIn("<no file>", err.getvalue())

    def test_the_ttl_option_replaces_the_key(self):
        self.post("users", {"email": unique.email(), "name": "Young"}, backdate=False)
        for ttl, found in (("1h", 0), ("0", 1)):
            with self.subTest(ttl=ttl):
                _, out, _ = self.sweep("--ttl", ttl)
                self.assertRegex(out, rf"users +{found} ")

    def test_allowed_hosts_from_the_environment_let_a_named_host_through(self):
        settings = sweep.load_config(str(self.config))
        with mock.patch.dict(os.environ, {"TESTDATA_ALLOWED_HOSTS": "staging.example.com"}):
            settings = sweep.load_config(str(self.config))
        sweep.check_safe(settings, "https://staging.example.com/api")
        with self.assertRaises(HostNotAllowedError):
            sweep.check_safe(settings, "https://staging.example.com.evil.test/api")


class UnreachableApiTests(unittest.TestCase):
    """An API that cannot be listed stops the sweep with a message naming the URL, never with a traceback."""

    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.config = pathlib.Path(tmp.name, "sweep.cfg")
        self.config.write_text("[testdata_kit]\n[testdata_kit:collections.users]\nmarker-fields = email\n")

    def free_port(self) -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]

    def test_connection_refused(self):
        url = f"http://127.0.0.1:{self.free_port()}"
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            status = sweep.main(["--url", url, "--config", str(self.config)])
        self.assertEqual(status, 2)
        self.assertIn(f"sweep: cannot reach the API: GET {url}/users failed: Connection refused.", err.getvalue())
        self.assertNotIn("Traceback", err.getvalue())

    def test_in_a_subprocess_there_is_no_traceback_either(self):
        url = f"http://127.0.0.1:{self.free_port()}"
        done = subprocess.run([sys.executable, "-m", "testdata_kit", "sweep", "--url", url, "--config",
                               str(self.config)], capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn(f"GET {url}/users failed", done.stderr)
        self.assertNotIn("Traceback", done.stderr)

    def test_no_answer_in_time(self):
        with socket.socket() as silent:  # listens, so the connection is made, but never answers
            silent.bind(("127.0.0.1", 0))
            silent.listen()
            url = f"http://127.0.0.1:{silent.getsockname()[1]}"
            api = ApiClient(url, timeout=0.2, retry_seconds=0)
            self.addCleanup(api.close)
            with self.assertRaises(ListingError) as caught:
                next(pages(api, CollectionSettings("users", "/users"), "test-", print))
        self.assertIn(f"GET {url}/users failed: no answer within 0.2 s.", str(caught.exception))

    def test_an_answer_that_is_not_json(self):
        class Page(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"<html>welcome</html>"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
        thread = threading.Thread(target=server.serve_forever)
        thread.start()
        self.addCleanup(server.server_close)
        self.addCleanup(thread.join)
        self.addCleanup(server.shutdown)
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            status = sweep.main(["--url", f"http://127.0.0.1:{server.server_port}", "--config", str(self.config)])
        self.assertEqual(status, 2)
        self.assertIn("sweep: GET /users answered 200 without a JSON body: '<html>welcome</html>'", err.getvalue())


class JournalDirectoryTests(unittest.TestCase):
    """Runs and ``sweep`` agree on the journal directory: ``$TESTDATA_JOURNAL``, else ``journal-dir``."""

    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = pathlib.Path(tmp.name)
        self.from_env, self.from_key = self.tmp / "env-journal", self.tmp / "key-journal"
        (self.tmp / "setup.cfg").write_text(f"[testdata_kit]\njournal-dir = {self.from_key}\n")
        self.from_key.mkdir()
        self.addCleanup(os.chdir, os.getcwd())
        os.chdir(self.tmp)

    def sweep_journal(self, *args: str) -> str:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            self.assertEqual(sweep.main(["--journal", *args]), 0)
        return out.getvalue()

    def test_the_environment_comes_first_for_both(self):
        with mock.patch.dict(os.environ, {"TESTDATA_JOURNAL": str(self.from_env)}):
            run = journal.start(ledger.Ledger())
            run.on_intent(1, "user", "test", None)
            run.close()  # a finished run with an entry left: sweep --journal reports it
            self.assertEqual(run.path.parent, self.from_env)
            self.assertEqual(sweep.load_config().journal_dir, str(self.from_env))
            self.assertIn(f"not replayable: user id unknown (<test>) in {run.path.name}", self.sweep_journal())
            self.assertNotIn("not replayable", self.sweep_journal(str(self.from_key)), "--journal DIR wins")
        with mock.patch.dict(os.environ):
            os.environ.pop("TESTDATA_JOURNAL", None)
            self.assertEqual(sweep.load_config().journal_dir, str(self.from_key))
            self.assertEqual(journal.configured_directory(), str(self.from_key))


class JournalSweepTests(DemoApiCase):
    """``python -m testdata_kit sweep --journal`` on real runs of journal_suite/case_hold.py against the demo API."""

    def setUp(self):
        super().setUp()
        self.journal = self.tmp / "journal"
        self.config = self.tmp / "sweep.cfg"
        self.config.write_text("[testdata_kit]\n")  # no collections: only what the journals say gets deleted
        # Each suite process is a run of its own, whatever runner (or pytest-xdist worker) runs this test.
        inherited = {k: v for k, v in os.environ.items()
                     if k not in (_run.RUN_ID_ENV, _run.WORKER_ENV) and not k.startswith("PYTEST_XDIST")}
        self.env = {**inherited, "TDK_DEMO_URL": self.server.url, "TESTDATA_JOURNAL": str(self.journal),
                    "PYTHONPATH": os.pathsep.join([str(ROOT), str(SUITE)])}

    def rows(self) -> set[tuple[str, int]]:
        found = set()
        for collection in ("users", "products", "orders"):
            with self.http.get(f"{self.server.url}/{collection}", params={"limit": 500}) as response:
                self.assertEqual(response.status_code, 200, response.text)
                found.update((collection, item["id"]) for item in response.json()["items"])
        return found

    def hold(self, name: str, **env: str) -> subprocess.Popen:
        """Start case_hold as a run of its own and return once it holds its rows (``NAME.go`` lets it end)."""
        ready = self.tmp / f"{name}.ready"
        process = subprocess.Popen(
            [sys.executable, "-m", "unittest", "case_hold"], cwd=SUITE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
            env={**self.env, "TDK_READY": str(ready), "TDK_GO": str(self.tmp / f"{name}.go"), **env})
        self.addCleanup(self.reap, process)
        deadline = time.monotonic() + 20
        while not ready.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                self.fail(f"run {name} never held its rows: {self.reap(process)}")
            time.sleep(0.02)
        return process

    def reap(self, process: subprocess.Popen) -> tuple[str, str]:
        if process.returncode is not None:
            return "", ""
        if process.poll() is None:
            process.kill()
        return process.communicate()

    def journal_of(self, process: subprocess.Popen) -> pathlib.Path:
        (path,) = [j.path for j in journal.scan(self.journal) if (j.header or {}).get("pid") == process.pid]
        return path

    def sweep(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "testdata_kit", "sweep", "--journal", str(self.journal), "--config",
             str(self.config), *args], env=self.env, cwd=self.tmp, capture_output=True, text=True, timeout=60)

    def test_replays_the_dead_run_and_leaves_the_live_run_alone(self):
        baseline = self.rows()
        dead = self.hold("dead")
        dead_rows = self.rows() - baseline
        dead_journal = self.journal_of(dead)
        self.reap(dead)  # SIGKILL: no cleanup, no close record
        self.assertEqual(dead.returncode, -signal.SIGKILL)
        live = self.hold("live")
        live_rows = self.rows() - baseline - dead_rows
        live_journal = self.journal_of(live)
        live_records = live_journal.read_bytes()
        self.assertEqual({c for c, _ in dead_rows}, {"users", "products", "orders"})
        self.assertEqual(len(live_rows), len(dead_rows), "both runs hold the same rows")

        swept = self.sweep("--yes")
        self.assertEqual(swept.returncode, 0, swept.stdout + swept.stderr)
        self.assertEqual({(d["collection"], d["id"]) for d in self.server.deletions()}, dead_rows)
        self.assertEqual(self.rows(), baseline | live_rows, "the live run's rows are untouched")
        self.assertRegex(swept.stdout, r"total +4 +4 +4 +0 +0", "found, deleted, skipped-live")
        self.assertFalse(dead_journal.exists(), "a fully replayed journal is removed")
        self.assertEqual(live_journal.read_bytes(), live_records, "the live run's journal is untouched")
        self.assertIsNone(live.poll(), "the live run is still running")

        (self.tmp / "live.go").touch()
        out, err = live.communicate(timeout=30)
        self.assertEqual(live.returncode, 0, out + err)
        self.assertEqual(self.rows(), baseline, "the live run deleted its own rows")
        self.assertEqual(len(self.server.deletions()), len(dead_rows) + len(live_rows))
        self.assertFalse(live_journal.exists(), "a run that released everything removes its journal")

    def test_what_cannot_be_replayed_is_listed_and_kept(self):
        run = self.hold("dead", TDK_PLAIN="1")
        path = self.journal_of(run)
        self.reap(run)
        (plain,) = [e for e in journal.read(path).pending() if e.kind == "jr_plain_user"]
        listed = (rf"not replayable: jr_plain_user id={plain.ident!r} \(case_hold\.HoldTests\.test_holds\) "
                  rf"in {path.name}")

        dry = self.sweep()
        self.assertEqual(dry.returncode, 0, "a dry run succeeds")
        self.assertRegex(dry.stdout, listed)

        for attempt in ("first", "second"):
            swept = self.sweep("--yes")
            self.assertEqual(swept.returncode, 1, f"{attempt} sweep: an entry could not be replayed")
            self.assertRegex(swept.stdout, listed + ": its kind has no recover=; configure collections to sweep it "
                                             "by marker")
            self.assertEqual(self.rows(), {("users", plain.ident)}, "only the unreplayable row is left")
            self.assertTrue(path.exists(), "the journal is kept")
            kept = journal.read(path)
            self.assertEqual([e.describe() for e in kept.pending()], [plain.describe()], "the entry is not dropped")


class SeenRowsTests(unittest.TestCase):
    """The sweep's on-disk memory of the rows it passed takes any id a JSON listing can hold."""

    def test_ids_a_json_listing_can_hold_stay_distinct_and_are_found_again(self):
        ids = ["7", "07", "\ud800", "\ud800x", "\udfff", "naïve", "a\x00b", "x" * 5000]
        with SeenRows() as seen:
            for ident in ids[::2]:
                seen.count("users", ident)
                seen.judge("users", ident, "stale")
            self.assertEqual([seen.counted("users", i) for i in ids], [True, False] * 4)
            self.assertEqual([seen.verdict("users", i) for i in ids], ["stale", None] * 4)
            self.assertFalse(seen.counted("orders", "7"), "each collection has its own ids")
            seen.uncount("users", "7")
            self.assertFalse(seen.counted("users", "7"))


class SecretTests(unittest.TestCase):
    def test_no_token_in_the_journal_nor_in_any_output(self):
        secret = "tok-" + _run.random_token(16)
        with demo.running() as server, tempfile.TemporaryDirectory() as tmp:
            config = pathlib.Path(tmp, "sweep.cfg")
            config.write_text(CONFIG.format(journal=pathlib.Path(tmp, "journal")))
            env = {**os.environ, "TDK_DEMO_URL": server.url, "TDK_SECRET": secret, "PYTHONPATH": f"{ROOT}:{SUITE}",
                   "TESTDATA_JOURNAL": str(pathlib.Path(tmp, "journal")), "TESTDATA_SWEEP_TOKEN": secret,
                   "TDK_READY": str(pathlib.Path(tmp, "ready"))}
            process = subprocess.Popen([sys.executable, "-m", "unittest", "-v", "case_busy"], cwd=SUITE, env=env,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and "/products/" not in "".join(
                    p.read_text() for p in pathlib.Path(tmp, "journal").glob("*.jsonl")):
                time.sleep(0.01)
            process.send_signal(signal.SIGKILL)
            outputs = list(process.communicate())
            journals = "".join(p.read_text() for p in pathlib.Path(tmp, "journal").glob("*.jsonl"))
            self.assertIn("/products/", journals, "the journal holds the replayable product URLs")
            swept = subprocess.run([sys.executable, "-m", "testdata_kit.sweep", "--journal", "--yes", "--url",
                                    server.url, "--config", str(config)], env=env, capture_output=True, text=True,
                                   timeout=60, cwd=tmp)
            outputs += [swept.stdout, swept.stderr]
            self.assertEqual(swept.returncode, 0, swept.stdout + swept.stderr)
            self.assertEqual(sum(server.counts().values()), 0)
        for text in [journals, *outputs]:
            self.assertNotIn(secret, text)


if __name__ == "__main__":
    unittest.main()
