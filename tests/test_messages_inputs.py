"""Bad input, as a new user types it: every row is one clear message, the right exit status, no traceback.

Each row runs a real process (a command, ``python -m unittest`` or ``python -m pytest`` on a two-test suite) in a
folder of its own, with the environment variables and files it names, and checks three things a user sees:
the exit status, that standard error holds no traceback, and the words of the message (the value and the fix).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import unittest
from dataclasses import dataclass, field

#: The suite the settings rows run: two tests that create data, so the journal and the report are used.
SUITE = '''
from testdata_kit import DataTestCase, Registry, creates

kinds = Registry()


@creates("note", registry=kinds)
def note():
    yield {"id": 1}


class Notes(DataTestCase):
    registry = kinds

    def test_one(self):
        self.create("note")

    def test_two(self):
        self.create("note")
'''

#: Exit status of a unittest run that failed, and of a pytest session refused at its start (a usage error).
#: From Python 3.12, ``python -m unittest`` exits with 5 when no test ran, even after an error: a run stopped by a
#: bad setting runs none.
UNITTEST_FAILED = 5 if sys.version_info >= (3, 12) else 1
PYTEST_USAGE = 4

UNITTEST = ("-m", "unittest", "test_suite")
# pytest-asyncio, when installed, warns at configure time about a setting these folders lack; under -W error
# that warning would be pytest's internal error instead of the message under test.
PYTEST = ("-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:asyncio", "test_suite.py")


@dataclass
class Row:
    name: str
    argv: tuple[str, ...]
    status: int
    words: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    absent: tuple[str, ...] = ()


def cmd(*argv: str) -> tuple[str, ...]:
    return ("-m", "testdata_kit", *argv)


def cfg(text: str) -> dict[str, str]:
    return {"setup.cfg": text}


def cfg_suite(text: str) -> dict[str, str]:
    return {"setup.cfg": text, "test_suite.py": SUITE}


BOOLEAN = "expected true or false (also yes/no, on/off, 1/0)"
PREFIX_RULE = "it needs at least 3 characters, a leading letter"
SUITE_FILES = {"test_suite.py": SUITE, "afile": "not a folder\n"}

ROWS = [
    # The settings of a run: one error at the start, naming the setting, the value and the fix.
    Row("keep_yes", UNITTEST, UNITTEST_FAILED, ("TESTDATA_KEEP='yes' is not valid", "'failed'", "Ran 0 tests"),
        env={"TESTDATA_KEEP": "yes"}),
    Row("keep_always", UNITTEST, UNITTEST_FAILED, ("TESTDATA_KEEP='always'", "'failed'"),
        env={"TESTDATA_KEEP": "always"}),
    Row("interrupts_maybe", UNITTEST, UNITTEST_FAILED, ("TESTDATA_INTERRUPTS='maybe' is not valid", BOOLEAN),
        env={"TESTDATA_INTERRUPTS": "maybe"}),
    Row("fsync_maybe", UNITTEST, UNITTEST_FAILED, ("TESTDATA_JOURNAL_FSYNC='maybe' is not valid", BOOLEAN),
        env={"TESTDATA_JOURNAL_FSYNC": "maybe"}),
    Row("fsync_maybe_in_setup_cfg", UNITTEST, UNITTEST_FAILED,
        ("[testdata_kit] journal-fsync = 'maybe' is not valid", BOOLEAN),
        files=cfg_suite("[testdata_kit]\njournal-dir = journal\njournal-fsync = maybe\n")),
    Row("journal_in_proc", UNITTEST, UNITTEST_FAILED,
        ("TESTDATA_JOURNAL='/proc/nope' is not valid", "point it at a writable folder", "Ran 0 tests"),
        env={"TESTDATA_JOURNAL": "/proc/nope"}, absent=("FileNotFoundError",)),
    Row("journal_is_a_file", UNITTEST, UNITTEST_FAILED,
        ("TESTDATA_JOURNAL='afile' is not valid", "it is a file"), env={"TESTDATA_JOURNAL": "afile"},
        files=SUITE_FILES, absent=("FileExistsError",)),
    Row("journal_dir_is_a_file", UNITTEST, UNITTEST_FAILED,
        ("journal-dir in setup.cfg = 'afile' is not valid", "it is a file"),
        files={**SUITE_FILES, "setup.cfg": "[testdata_kit]\njournal-dir = afile\n"}),
    Row("journal_dir_in_proc", UNITTEST, UNITTEST_FAILED, ("journal-dir in setup.cfg = '/proc/nope/j'",),
        files=cfg_suite("[testdata_kit]\njournal-dir = /proc/nope/j\n")),
    # The journal store: a URL with a password never shows it.
    Row("journal_store_unknown_scheme", UNITTEST, UNITTEST_FAILED,
        ("TESTDATA_JOURNAL_STORE='mysql://ci:***@db.example/j' is not valid", "postgresql://, postgres://, redis://, "
         "rediss://, s3://"), env={"TESTDATA_JOURNAL_STORE": "mysql://ci:s3cr3t@db.example/j"}, absent=("s3cr3t",)),
    Row("journal_store_and_dir_differ", UNITTEST, UNITTEST_FAILED,
        ("TESTDATA_JOURNAL_STORE = 'postgresql://ci:***@127.0.0.1:1/j' and TESTDATA_JOURNAL = 'journal' name two "
         "different journal stores", "Keep one of them"),
        env={"TESTDATA_JOURNAL_STORE": "postgresql://ci:s3cr3t@127.0.0.1:1/j", "TESTDATA_JOURNAL": "journal"},
        absent=("s3cr3t",)),
    Row("journal_store_down", UNITTEST, UNITTEST_FAILED,
        ("the journal store postgresql://ci:***@127.0.0.1:1/j cannot be reached", "Check that PostgreSQL is up at "
         "127.0.0.1:1", "set journal-store-fallback (TESTDATA_JOURNAL_STORE_FALLBACK) to a folder"),
        env={"TESTDATA_JOURNAL_STORE": "postgresql://ci:s3cr3t@127.0.0.1:1/j"}, absent=("s3cr3t",)),
    Row("journal_store_in_proc", UNITTEST, UNITTEST_FAILED,
        ("TESTDATA_JOURNAL_STORE='file:///proc/nope' is not valid", "point it at a writable folder"),
        env={"TESTDATA_JOURNAL_STORE": "file:///proc/nope"}),
    Row("journal_store_fallback_is_a_file", UNITTEST, UNITTEST_FAILED,
        ("TESTDATA_JOURNAL_STORE_FALLBACK='afile' is not valid", "it is a file"),
        env={"TESTDATA_JOURNAL_STORE": "postgresql://127.0.0.1:1/j", "TESTDATA_JOURNAL_STORE_FALLBACK": "afile"},
        files=SUITE_FILES),
    Row("journal_lease_word", UNITTEST, UNITTEST_FAILED,
        ("TESTDATA_JOURNAL_LEASE='soon' is not valid", "seconds a run's lease lasts without a heartbeat, at least 1"),
        env={"TESTDATA_JOURNAL_LEASE": "soon"}),
    Row("journal_lease_in_setup_cfg", UNITTEST, UNITTEST_FAILED, ("journal-lease = '0.5' is not valid", "at least 1"),
        files=cfg_suite("[testdata_kit]\njournal-store = journal\njournal-lease = 0.5\n")),
    Row("journal_clock_skew_negative", UNITTEST, UNITTEST_FAILED,
        ("TESTDATA_JOURNAL_CLOCK_SKEW='-5' is not valid", "seconds of clock difference between machines, 0 or more"),
        env={"TESTDATA_JOURNAL_CLOCK_SKEW": "-5"}),
    Row("hostname_with_a_space", UNITTEST, UNITTEST_FAILED,
        ("TESTDATA_HOSTNAME='ci runner' is not valid", "a host name without spaces"),
        env={"TESTDATA_HOSTNAME": "ci runner"}),
    Row("sweep_journal_store_unknown_scheme", cmd("sweep", "--journal", "ftp://u:s3cr3t@h/j"), 2,
        ("--journal", "'ftp://u:***@h/j' is not valid", "s3://"), absent=("s3cr3t",)),
    Row("sweep_journal_store_down", cmd("sweep", "--journal", "postgresql://ci:s3cr3t@127.0.0.1:1/j"), 2,
        ("the journal store postgresql://ci:***@127.0.0.1:1/j cannot be reached", "Nothing was replayed."),
        absent=("s3cr3t",)),
    Row("report_in_missing_folder", UNITTEST, UNITTEST_FAILED,
        ("TESTDATA_REPORT='/nonexistent/dir/r.jsonl' is not valid", "create the folder first"),
        env={"TESTDATA_REPORT": "/nonexistent/dir/r.jsonl"}, absent=("Exception ignored",)),
    Row("report_cannot_be_written", UNITTEST, 1,
        ("OK", "the account could not be written to TESTDATA_REPORT=/dev/full", "No space left on device"),
        env={"TESTDATA_REPORT": "/dev/full"}, absent=("Exception ignored",)),
    Row("report_is_a_folder", UNITTEST, UNITTEST_FAILED, ("TESTDATA_REPORT='.' is not valid", "name a file inside it"),
        env={"TESTDATA_REPORT": "."}),
    Row("teardown_workers_zero", UNITTEST, UNITTEST_FAILED,
        ("TESTDATA_TEARDOWN_WORKERS='0' is not valid", "1 for serial teardown"),
        env={"TESTDATA_TEARDOWN_WORKERS": "0"}),
    Row("teardown_workers_word", UNITTEST, UNITTEST_FAILED, ("TESTDATA_TEARDOWN_WORKERS='two'", "a whole number"),
        env={"TESTDATA_TEARDOWN_WORKERS": "two"}),
    Row("prefix_too_short", UNITTEST, UNITTEST_FAILED, ("Marker prefix 'x' from TESTDATA_PREFIX", PREFIX_RULE),
        env={"TESTDATA_PREFIX": "x"}),
    Row("prefix_leading_digit", UNITTEST, UNITTEST_FAILED, ("Marker prefix '1abc' from TESTDATA_PREFIX",),
        env={"TESTDATA_PREFIX": "1abc"}),
    Row("marker_prefix_in_setup_cfg", UNITTEST, UNITTEST_FAILED, ("Marker prefix 'ab' from marker-prefix in",),
        files=cfg_suite("[testdata_kit]\nmarker-prefix = ab\n")),
    Row("setup_cfg_line_without_equals", UNITTEST, UNITTEST_FAILED,
        ("cannot be parsed as an ini file", "'journal-dir journal", "Fix: write each line as 'key = value'"),
        files=cfg_suite("[testdata_kit]\njournal-dir journal\n")),
    Row("setup_cfg_without_section", UNITTEST, UNITTEST_FAILED,
        ("cannot be parsed", "Fix: put a section header such as [testdata_kit] above the first key"),
        files=cfg_suite("marker-prefix = qa-\n")),
    Row("setup_cfg_duplicate_key", UNITTEST, UNITTEST_FAILED,
        ("cannot be parsed", "'journal-dir'", "Fix: keep one of the two lines"),
        files=cfg_suite("[testdata_kit]\njournal-dir = a\njournal-dir = b\n")),
    Row("setup_cfg_not_utf8", UNITTEST, UNITTEST_FAILED, ("cannot be parsed", "Fix: save the file as UTF-8"),
        files=cfg_suite("[testdata_kit]\nmarker-prefix = qa-\n# caf\udce9\n")),
    Row("pytest_keep_yes", PYTEST, PYTEST_USAGE, ("ERROR: TESTDATA_KEEP='yes' is not valid", "'failed'"),
        env={"TESTDATA_KEEP": "yes"}),
    Row("pytest_journal_in_proc", PYTEST, PYTEST_USAGE, ("TESTDATA_JOURNAL='/proc/nope'",),
        env={"TESTDATA_JOURNAL": "/proc/nope"}),
    Row("pytest_report_in_missing_folder", PYTEST, PYTEST_USAGE, ("TESTDATA_REPORT='/nonexistent/r.jsonl'",),
        env={"TESTDATA_REPORT": "/nonexistent/r.jsonl"}),
    # The dispatcher.
    Row("no_command", cmd(), 2, ("usage: python -m testdata_kit COMMAND",)),
    Row("unknown_command", cmd("swep"), 2, ("unknown command 'swep'", "Choose one of:", "sweep")),
    # serve-demo
    Row("demo_db_in_missing_folder", cmd("serve-demo", "--db", "/nonexistent/dir/x.db"), 2,
        ("--db '/nonexistent/dir/x.db'", "the folder /nonexistent/dir does not exist", "leave --db out")),
    Row("demo_db_not_sqlite", cmd("serve-demo", "--db", "afile"), 2,
        ("--db 'afile' cannot be opened as a SQLite database", "file is not a database"), files=SUITE_FILES),
    Row("demo_port_too_big", cmd("serve-demo", "--port", "99999"), 2, ("port 99999 must be between 0",)),
    Row("demo_port_negative", cmd("serve-demo", "--port", "-3"), 2, ("port -3 must be between 0",)),
    Row("demo_port_word", cmd("serve-demo", "--port", "abc"), 2, ("--port: invalid int value: 'abc'",)),
    Row("demo_latency_negative", cmd("serve-demo", "--latency", "-1"), 2, ("latency_ms -1.0 must be zero or more",)),
    Row("demo_fail_rate_above_one", cmd("serve-demo", "--fail-rate", "2"), 2, ("fail_rate 2.0 must be a probability",)),
    Row("demo_latency_infinite", cmd("serve-demo", "--latency", "inf"), 2, ("latency_ms inf must be zero or more",)),
    Row("demo_fail_first_nan", cmd("serve-demo", "--fail-first", "nan"), 2,
        ("fail_first_seconds nan must be zero or more seconds",)),
    Row("demo_job_latency_nan", cmd("demo", "--latency", "nan"), 2, ("latency_ms nan must be zero or more",)),
    Row("demo_hang_rate_above_one", cmd("serve-demo", "--hang-rate", "5"), 2, ("hang_rate 5.0 must be a probability",)),
    Row("demo_fail_methods_unknown", cmd("serve-demo", "--fail-methods", "XYZ"), 2,
        ("fail_methods ['XYZ'] must name some of: GET, POST",)),
    Row("demo_remote_host", cmd("serve-demo", "--host", "8.8.8.8"), 2,
        ("Refusing to listen on '8.8.8.8'", "--allow-remote")),
    Row("demo_addressing_unknown", cmd("serve-demo", "--addressing", "nope"), 2,
        ("invalid choice: 'nope'", "'path', 'query'")),
    Row("demo_job_unknown_suite", cmd("demo", "--suite", "nope"), 2, ("--suite 'nope' cannot be run",)),
    Row("demo_job_negative_latency", cmd("demo", "--latency", "-3"), 2, ("latency_ms -3.0 must be zero or more",)),
    Row("demo_job_unknown_option", cmd("demo", "--bogus"), 2, ("unrecognized arguments: --bogus",)),
    # reset
    Row("reset_without_target", cmd("reset"), 2, ("one of the arguments --dsn --sqlite is required",)),
    Row("reset_missing_sqlite_file", cmd("reset", "--sqlite", "/nonexistent.db", "--snapshot", "a"), 2,
        ("SQLite database '/nonexistent.db' does not exist; check the path",)),
    Row("reset_bad_snapshot_name", cmd("reset", "--sqlite", "afile", "--snapshot", "Bad Name"), 2,
        ("Invalid snapshot name 'Bad Name'", "lower-case letters"), files=SUITE_FILES),
    Row("reset_unreadable_dsn", cmd("reset", "--dsn", "not a dsn", "--list"), 2,
        ("connection string 'not a dsn' cannot be read", "postgresql://USER@HOST:PORT/DBNAME"),
        absent=("ProgrammingError",)),
    Row("reset_unknown_strategy", cmd("reset", "--dsn", "postgresql://localhost/x", "--strategy", "nope", "--list"), 2,
        ("invalid choice: 'nope'", "'template', 'truncate'")),
    Row("reset_missing_config", cmd("reset", "--config", "/nonexistent.cfg", "--dsn", "postgresql://localhost/x",
                                    "--list"), 2, ("config file '/nonexistent.cfg' does not exist",)),
    Row("reset_server_down", cmd("reset", "--dsn", "postgresql://127.0.0.1:1/x", "--list"), 1,
        ("127.0.0.1:1", "Check that the server runs")),
    Row("reset_production_host", cmd("reset", "--dsn", "postgresql://db.prod.example.com/x", "--list"), 1,
        ("Refusing to reset a database on host 'db.prod.example.com'", "TESTDATA_ALLOWED_HOSTS")),
    # lint and factories
    Row("lint_missing_path", cmd("lint", "/nonexistent"), 2, ("path '/nonexistent' does not exist",)),
    Row("lint_unknown_code", cmd("lint", "--select", "XYZ", "."), 2, ("unknown code 'XYZ'", "TDK001")),
    Row("lint_unknown_option", cmd("lint", "--bogus"), 2, ("unrecognized arguments: --bogus",)),
    Row("factories_unknown_module", cmd("factories", "nope.module"), 2,
        ("cannot import 'nope.module'", "dotted module name")),
    Row("factories_no_module", cmd("factories"), 2, ("the following arguments are required: MODULE",)),
    Row("factories_module_raises", cmd("factories", "boommod"), 2,
        ("importing 'boommod' raised RuntimeError: boom", "Fix the module so that it imports"),
        files={"boommod.py": "raise RuntimeError('boom')\n"}),
    Row("openapi_not_utf8", cmd("openapi", "bin.json"), 2,
        ("is not UTF-8 text", "Save the document as UTF-8 JSON or YAML"), files={"bin.json": "\udcff\udcfe{}"}),
    # openapi
    Row("openapi_missing_document", cmd("openapi", "/nonexistent.yaml"), 2,
        ("OpenAPI document /nonexistent.yaml: does not exist", "Pass the path of a .json, .yaml or .yml file")),
    Row("openapi_unreadable_document", cmd("openapi", "bad.yaml"), 2, ("is neither JSON nor YAML", "line 2"),
        files={"bad.yaml": "not: [valid\n"}),
    Row("openapi_no_document", cmd("openapi"), 2, ("the following arguments are required: DOCUMENT",)),
    # run and check
    Row("run_zero_workers", cmd("run", "--workers", "0"), 2, ("'0' is not a number of workers", "-j 4")),
    Row("run_word_workers", cmd("run", "--workers", "abc"), 2, ("'abc' is not a number of workers",)),
    Row("run_shard_out_of_range", cmd("run", "--shard", "3/2"), 2, ("--shard '3/2' is not a shard", "'1/4'")),
    Row("run_missing_pattern", cmd("run", "-k"), 2, ("argument -k: expected one argument",)),
    Row("check_unknown_mode", cmd("check", "--modes", "nope"), 2, ("unknown mode 'nope'", "once, again")),
    Row("check_zero_workers", cmd("check", "--workers", "0"), 2, ("'0' is not a whole number >= 1",)),
    Row("run_with_keep_yes", cmd("run"), 2, ("run: error: TESTDATA_KEEP='yes' is not valid", "'failed'"),
        env={"TESTDATA_KEEP": "yes"}, files={"test_suite.py": SUITE}),
    Row("check_with_journal_in_proc", cmd("check"), 2, ("check: error: TESTDATA_JOURNAL='/proc/nope'",),
        env={"TESTDATA_JOURNAL": "/proc/nope"}, files={"test_suite.py": SUITE}),
    Row("demo_with_bad_teardown_workers", cmd("demo"), 2, ("TESTDATA_TEARDOWN_WORKERS='-1'",),
        env={"TESTDATA_TEARDOWN_WORKERS": "-1"}),
    # sweep
    Row("sweep_bad_ttl", cmd("sweep", "--ttl", "3x"), 2, ("'3x' is not valid", "a duration such as 24h")),
    Row("sweep_negative_ttl", cmd("sweep", "--ttl", "-5s"), 2, ("'-5s'", "a duration"),
        absent=("expected one argument",)),
    Row("sweep_short_prefix", cmd("sweep", "--prefix", "ab", "--url", "http://127.0.0.1:1"), 2,
        ("Marker prefix 'ab' from --prefix is unsafe", "Pass another --prefix")),
    Row("sweep_missing_config", cmd("sweep", "--config", "/nonexistent.cfg"), 2,
        ("config file '/nonexistent.cfg' does not exist",)),
    Row("sweep_ttl_in_setup_cfg", cmd("sweep"), 2, ("ttl = 'soon' is not valid", "a duration such as 24h"),
        files=cfg("[testdata_kit]\nttl = soon\n")),
    Row("sweep_missing_journal_folder", cmd("sweep", "--journal", "/nonexistent"), 2,
        ("the journal folder /nonexistent does not exist", "--journal DIR")),
    Row("sweep_url_without_scheme", cmd("sweep", "--url", "not-a-url"), 2,
        ("--url 'not-a-url' is not a URL", "http://127.0.0.1:8000"),
        absent=("Refusing to sweep ''",)),
    Row("sweep_url_key_without_scheme", cmd("sweep"), 2,
        ("sweep-url '127.0.0.1:8000' in setup.cfg is not a URL", "with its scheme"),
        files=cfg("[testdata_kit]\nsweep-url = 127.0.0.1:8000\n"), absent=("TESTDATA_ALLOWED_HOSTS",)),
    Row("sweep_url_without_collections", cmd("sweep", "--url", "http://127.0.0.1:1"), 2,
        ("no collections are configured", "[testdata_kit:collections.NAME]"),
        absent=("needs --url",)),
]


def _clean_environ(extra: dict[str, str]) -> dict[str, str]:
    # The rows must not inherit the settings of whoever runs this suite (a CI journal, a report file).
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("TESTDATA_", "PYTEST_", "COV_"))}
    environ.update(extra)
    return environ


def _run(row: Row) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as folder:
        files = dict(row.files)
        if row.argv[:2] == ("-m", "unittest") or row.argv[:2] == ("-m", "pytest"):
            files.setdefault("test_suite.py", SUITE)
        for name, text in files.items():
            with open(os.path.join(folder, name), "w", encoding="utf-8", errors="surrogateescape") as handle:
                handle.write(text)
        return subprocess.run(
            [sys.executable, *row.argv], cwd=folder, env=_clean_environ(row.env), capture_output=True, text=True,
            timeout=60, check=False, stdin=subprocess.DEVNULL,
        )


class BadInputTable(unittest.TestCase):
    """One test per row of :data:`ROWS`."""

    def test_the_table_is_large_and_its_names_unique(self):
        self.assertGreaterEqual(len(ROWS), 60)
        self.assertEqual(len({row.name for row in ROWS}), len(ROWS))


def _make(row: Row):  # type: ignore[no-untyped-def]
    def test(self: BadInputTable) -> None:
        done = _run(row)
        output = done.stderr + done.stdout  # unittest and pytest report on different streams
        context = f"{' '.join(row.argv)} with {row.env or 'no settings'}:\n{output}"
        self.assertEqual(done.returncode, row.status, context)
        self.assertNotIn("Traceback", done.stderr, context)
        for words in row.words:
            self.assertIn(words, output, context)
        for words in row.absent:
            self.assertNotIn(words, output, context)

    test.__name__ = f"test_{row.name}"
    test.__doc__ = f"{' '.join(row.argv[2:] if row.argv[:2] == ('-m', 'testdata_kit') else row.argv)}"
    return test


for _row in ROWS:
    setattr(BadInputTable, f"test_{_row.name}", _make(_row))
del _row


class MarkerPrefixOrder(unittest.TestCase):
    """The variable wins over the key, in runs and in the sweeper; the help and both reference pages say so."""

    DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "reference")

    def test_the_code_lets_the_variable_win(self) -> None:
        code = "from testdata_kit import unique, sweep; print(unique.current_prefix(), sweep.load_config().prefix)"
        done = _run(Row("order", ("-c", code), 0, (), env={"TESTDATA_PREFIX": "fromenv-"},
                        files=cfg("[testdata_kit]\nmarker-prefix = fromkey-\n")))
        self.assertEqual(done.stdout, "fromenv- fromenv-\n", done.stderr)

    def test_the_reference_pages_say_the_variable_wins(self) -> None:
        with open(os.path.join(self.DOCS, "cli.rst"), encoding="utf-8") as handle:
            cli = " ".join(handle.read().split())
        with open(os.path.join(self.DOCS, "config.rst"), encoding="utf-8") as handle:
            config = " ".join(handle.read().split())
        self.assertIn("(default: ``$TESTDATA_PREFIX``, else the ``marker-prefix`` key, else ``test-``)", cli)
        self.assertIn("then ``$TESTDATA_PREFIX``, then this key, then ``test-``", config)

    def test_sweep_help_says_the_variable_wins(self) -> None:
        done = _run(Row("help", cmd("sweep", "--help"), 0, ()))
        text = re.sub(r"-\s+", "-", " ".join(done.stdout.split()))  # argparse wraps "marker-prefix" at its hyphen
        start = text.index("--prefix PREFIX")
        self.assertLess(text.index("TESTDATA_PREFIX", start), text.index("marker-prefix", start), text[start:])
