"""Crash recovery for kinds derived from an OpenAPI document: a run killed with SIGKILL while it holds a chain
built from the demo API's own document is fully removed by ``python -m testdata_kit sweep --journal DIR --yes``."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from testdata_kit import demo, journal

ROOT = pathlib.Path(__file__).resolve().parent.parent
SUITE = ROOT / "tests" / "journal_suite"


class KilledOpenApiRunTests(unittest.TestCase):
    def setUp(self) -> None:
        self.server = demo.running().start()
        self.addCleanup(self.server.stop)
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.tmp = pathlib.Path(folder.name)
        self.journal = self.tmp / "journal"
        self.env = {**os.environ, "TDK_DEMO_URL": self.server.url, "PYTHONPATH": f"{ROOT}:{SUITE}",
                    "TESTDATA_JOURNAL": str(self.journal), "TDK_READY": str(self.tmp / "ready")}
        for name in ("TESTDATA_HTTP_VERIFY", "TESTDATA_PREFIX", "TESTDATA_SWEEP_TOKEN"):
            self.env.pop(name, None)

    def kill_while_holding(self) -> str:
        process = subprocess.Popen([sys.executable, "-m", "unittest", "case_openapi"], cwd=SUITE, env=self.env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: process.poll() is None and process.kill())
        deadline = time.monotonic() + 30
        while not (self.tmp / "ready").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                out, err = process.communicate()
                self.fail(f"the run never held its rows: {out}{err}")
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        out, err = process.communicate(timeout=30)
        self.assertEqual(process.returncode, -signal.SIGKILL)
        return out + err

    def sweep(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "testdata_kit", "sweep", "--journal", str(self.journal), "--yes"],
                              cwd=self.tmp, env=self.env, capture_output=True, text=True, timeout=60)

    def test_a_kind_journals_the_same_record_as_its_collection(self) -> None:
        from testdata_kit import Registry
        from testdata_kit.http import ApiClient

        with ApiClient.from_openapi(self.server.url + "/openapi.json", registry=Registry()) as api:
            product = api.openapi.collections["product"].post(name="P", price=2)
            self.addCleanup(api.openapi.collections["product"].delete, product)
            # Other keys (what a sweeper may trust) may join these; the deletion itself is these.
            record = api.openapi.factories["product"]._recovery(product)
            expected = {"method": "DELETE", "url": f"{self.server.url}/products/{product['id']}"}
            self.assertLessEqual(expected.items(), record.items(), record)
            tenant = api.collection("products", headers={"X-Tenant-ID": "3"})
            record = tenant.recovery({"id": 9})
            expected = {"method": "DELETE", "url": f"{self.server.url}/products/9", "headers": {"X-Tenant-ID": "3"}}
            self.assertLessEqual(expected.items(), record.items(), record)

    def test_a_killed_chain_is_fully_swept_from_the_journal(self) -> None:
        baseline = self.server.counts()
        output = self.kill_while_holding()
        held = {name: count - baseline[name] for name, count in self.server.counts().items()
                if count != baseline[name]}
        # The class's user, the scenario's user, product and order, and a discount.
        self.assertEqual(held, {"users": 2, "products": 1, "orders": 1, "discounts": 1}, output)
        pending = [entry for found in journal.scan(self.journal) for entry in found.pending()]
        self.assertEqual(len(pending), 5)
        self.assertTrue(all(entry.replayable for entry in pending), [entry.describe() for entry in pending])

        swept = self.sweep()
        self.assertEqual(swept.returncode, 0, swept.stdout + swept.stderr)
        self.assertEqual(self.server.counts(), baseline, swept.stdout + swept.stderr)
        self.assertEqual(list(self.journal.glob("*.jsonl")), [], "a fully replayed journal is removed")
        again = self.sweep()
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)


if __name__ == "__main__":
    unittest.main()
