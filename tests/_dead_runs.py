"""Helpers for sweep tests: the demo API with rows a dead run left, its journal written as the run would have."""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import pathlib
import socket
import subprocess
import sys
import tempfile
import unittest
from typing import Any

import requests

from testdata_kit import _run, demo, sweep
from testdata_kit.journal._store import boot_id

OLD = datetime.datetime(2021, 3, 1, tzinfo=datetime.timezone.utc)
RUN, WORKER = "deadrn", "p1"
#: The demo API's users, products and orders as sweep collections; an order is owned by its user and product.
COLLECTIONS = """[testdata_kit:collections.users]
marker-fields = email, name
prefix-param = prefix
list-query = limit=500
[testdata_kit:collections.products]
marker-fields = name
list-query = limit=500
[testdata_kit:collections.orders]
owner-fields = user_id -> users, product_id -> products
parents = users, products
prefix-param = prefix
list-query = limit=500
"""


def dead_pid() -> int:
    """The pid of a process that has ended, so a journal naming it on this host belongs to a dead run."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def marker(run: str = RUN, worker: str = WORKER) -> str:
    return f"test-{_run.base36(1614556800)}-{run}-{worker}-{_run.random_token(8)}"


class DemoApiCase(unittest.TestCase):
    """A demo API per test (switches from :attr:`demo_options`), an HTTP session to it and a temporary folder."""

    demo_options: dict[str, Any] = {}

    def setUp(self) -> None:
        self.server = demo.running(**self.demo_options).start()
        self.addCleanup(self.server.stop)
        self.http = requests.Session()
        self.addCleanup(self.http.close)
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = pathlib.Path(tmp.name)


class DeadRunCase(DemoApiCase):
    """:class:`DemoApiCase` with a journal folder and a config with collections."""

    item = "{path}/{id}"

    def setUp(self) -> None:
        super().setUp()
        self.journals = self.tmp / "journal"
        self.journals.mkdir()
        self.config = self.tmp / "sweep.cfg"
        self.configure(collections=True)

    def configure(self, *, collections: bool, item: str | None = None) -> None:
        text = "[testdata_kit]\nttl = 1h\n"
        if collections:
            text += (f"[testdata_kit:collections.users]\nmarker-fields = email\nitem = {item or self.item}\n"
                     f"list-query = limit=50\n")
        self.config.write_text(text)

    def user(self, email: str | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
        with self.http.post(f"{self.server.url}/users", json={"email": email or f"{marker()}@example.com",
                                                              "name": "Left"}, headers=headers) as response:
            self.assertEqual(response.status_code, 201, response.text)
            row = response.json()
        row = row[0] if isinstance(row, list) else row
        self.server.backdate("users", row["id"], OLD)
        return row

    def remaining(self) -> int:
        return self.server.counts()["users"]

    def write_journal(self, records: list[dict[str, Any]], *, tail: bytes = b"", version: Any = 1,
                      name: str = "deadrn-host-1-abc.jsonl") -> pathlib.Path:
        header = {"op": "open", "v": version, "run": RUN, "pid": dead_pid(), "host": socket.gethostname(),
                  "boot": boot_id(), "worker": WORKER, "started": 1.0, "heartbeat": 10}
        if version is None:
            del header["v"]
        path = self.journals / name
        path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in [header, *records]) + tail)
        return path

    def entry(self, number: int, row: dict[str, Any] | None, *, url: str | None = None,
              headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """The records of one creation: its intent and, when *row* is given, its confirmation with a recovery."""
        records: list[dict[str, Any]] = [{"op": "intent", "n": number, "kind": "users", "scope": "test",
                                          "test": "t.T.test_x"}]
        if row is not None:
            recovery: dict[str, Any] = {"method": "DELETE", "url": url or f"{self.server.url}/users/{row['id']}"}
            if headers:
                recovery["headers"] = headers
            records.append({"op": "made", "n": number, "id": row["id"], "recovery": recovery})
        return records

    def sweep(self, *args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = sweep.main(["--config", str(self.config), *args])
        return status, out.getvalue(), err.getvalue()

    def sweep_journal(self, *args: str, url: bool = True) -> tuple[int, str, str]:
        extra = ("--url", self.server.url) if url else ()
        return self.sweep("--journal", str(self.journals), "--yes", *extra, *args)

