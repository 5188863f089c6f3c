"""Tests for shared reference data: loaded once, checksummed, the mutating test named."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import unittest
from typing import Any

from testdata_kit.db.reference import ReferenceData, ReferenceDataMutatedError, table_checksum


def load_countries(conn: Any) -> None:
    conn.executemany("INSERT INTO countries VALUES (?, ?)", [("FR", "France"), ("JP", "Japan")])


# A suite run as its own process, with the reference data checked once, at the end of the run.
RUN_CHECK_SUITE = textwrap.dedent("""
    import sqlite3, sys, unittest
    from testdata_kit.db.reference import ReferenceData

    conn = sqlite3.connect(sys.argv[1])

    def load(c):
        c.executemany("INSERT INTO countries VALUES (?, ?)", [("FR", "France"), ("JP", "Japan")])

    reference = ReferenceData(conn, ["countries", "currencies"], load, check="run")

    @reference
    class Shipping(unittest.TestCase):
        def test_reads(self):
            self.assertEqual(len(conn.execute("SELECT * FROM countries").fetchall()), 2)

    class Billing(reference, unittest.TestCase):
        def test_renames(self):
            conn.execute("UPDATE countries SET name = 'Nippon' WHERE code = 'JP'")
            conn.commit()

        def test_reads_after(self):
            conn.execute("SELECT * FROM countries").fetchall()

    program = unittest.main(argv=["suite"], exit=False)
    print(f"suite ok={program.result.wasSuccessful()}", flush=True)
""")


def run_case(case: type[unittest.TestCase]) -> unittest.TestResult:
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(case)
    return unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(suite)


class ReferenceDataTests(unittest.TestCase):
    def setUp(self) -> None:
        self.conn = sqlite3.connect(":memory:")
        self.addCleanup(self.conn.close)
        self.conn.execute("CREATE TABLE countries (code TEXT PRIMARY KEY, name TEXT)")
        self.conn.execute("CREATE TABLE currencies (code TEXT PRIMARY KEY)")
        self.conn.commit()
        self.loads = 0

    def counting_load(self, conn: Any) -> None:
        self.loads += 1
        load_countries(conn)

    def test_loads_once_and_skips_when_data_is_already_there(self) -> None:
        ref = ReferenceData(self.conn, ["countries"], self.counting_load)
        ref.ensure_loaded()
        ref.ensure_loaded()
        self.assertEqual(self.loads, 1)
        # A second object (another process, or after a snapshot restore) finds the rows and does not reload.
        ReferenceData(self.conn, ["countries"], self.counting_load).ensure_loaded()
        self.assertEqual(self.loads, 1)
        self.assertEqual(self.conn.execute("SELECT count(*) FROM countries").fetchone(), (2,))

    def test_checksum_ignores_row_order_and_sees_any_change(self) -> None:
        load_countries(self.conn)
        first = table_checksum(self.conn, "countries")
        self.conn.execute("DELETE FROM countries")
        self.conn.executemany("INSERT INTO countries VALUES (?, ?)", [("JP", "Japan"), ("FR", "France")])
        self.assertEqual(table_checksum(self.conn, "countries"), first)
        self.conn.execute("UPDATE countries SET name = 'Nippon' WHERE code = 'JP'")
        self.assertNotEqual(table_checksum(self.conn, "countries"), first)

    def test_class_check_names_the_test_and_table_that_changed(self) -> None:
        ref = ReferenceData(self.conn, ["countries", "currencies"], load_countries, check="class")
        conn = self.conn

        @ref
        class Inner(unittest.TestCase):
            def test_a_reads(self) -> None:
                conn.execute("SELECT * FROM countries").fetchall()

            def test_b_renames(self) -> None:
                conn.execute("UPDATE countries SET name = 'Nippon' WHERE code = 'JP'")
                conn.commit()

            def test_c_reads(self) -> None:
                conn.execute("SELECT * FROM countries").fetchall()

        result = run_case(Inner)
        self.assertEqual(len(result.errors), 1, result.errors)
        message = result.errors[0][1]
        self.assertIn("ReferenceDataMutatedError", message)
        self.assertIn("Inner.test_b_renames changed countries", message)
        self.assertNotIn("test_c_reads", message)
        self.assertNotIn("test_a_reads", message)

    def test_clean_class_passes(self) -> None:
        ref = ReferenceData(self.conn, ["countries"], load_countries)

        class Inner(ref, unittest.TestCase):  # type: ignore[misc]
            def test_reads(self) -> None:
                pass

        result = run_case(Inner)
        self.assertTrue(result.wasSuccessful(), result.errors)

    def test_run_check_names_the_mutating_test_when_the_process_ends(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        path, script = os.path.join(tmp.name, "ref.db"), os.path.join(tmp.name, "suite.py")
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE countries (code TEXT PRIMARY KEY, name TEXT)")
            conn.execute("CREATE TABLE currencies (code TEXT PRIMARY KEY)")
        conn.close()
        with open(script, "w", encoding="utf-8") as handle:
            handle.write(RUN_CHECK_SUITE)
        done = subprocess.run([sys.executable, script, path], capture_output=True, text=True, timeout=60,
                              check=False)
        # Every test passed: the check waited for the end of the run, after unittest's own report.
        self.assertEqual(done.stdout, "suite ok=True\n", done.stderr)
        report = done.stderr[done.stderr.index("Shared reference data was mutated"):]
        self.assertEqual(report.splitlines()[1], "  - __main__.Billing.test_renames changed countries")
        self.assertNotIn("test_reads", report)
        self.assertNotIn("currencies", report)

    def test_without_per_test_records_only_the_scope(self) -> None:
        ref = ReferenceData(self.conn, ["countries"], load_countries, per_test=False)
        with self.assertRaises(ReferenceDataMutatedError) as ctx, ref:
            self.conn.execute("DELETE FROM countries")
            self.conn.commit()
        self.assertEqual(ctx.exception.changes, [("the with block", ["countries"])])

    def test_decorator_rejects_a_plain_class(self) -> None:
        ref = ReferenceData(self.conn, ["countries"])
        with self.assertRaisesRegex(TypeError, r"^Can only decorate unittest.TestCase subclasses, not .*Make it"):
            ref(object)

    def test_invalid_table_name_is_refused_up_front(self) -> None:
        with self.assertRaisesRegex(ValueError, r"Invalid table name 'countries; DROP TABLE x'"):
            ReferenceData(self.conn, ["countries; DROP TABLE x"])


if __name__ == "__main__":
    unittest.main()
