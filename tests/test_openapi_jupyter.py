"""Kinds from a document a third-party server publishes: Jupyter Server's own Swagger 2.0 at /api/spec.yaml.

The server is the ``jupyter-server`` PyPI package, installed by ``.ci/run`` in a venv of its own and named by
``TESTDATA_JUPYTER_SERVER`` (the path of its ``jupyter-server`` script). Without it these tests are skipped,
except in CI, where they fail.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import tempfile
import time
import unittest
from typing import Any, ClassVar

import requests

from testdata_kit import DataTestCase
from testdata_kit.http import ApiClient
from testdata_kit.kinds import Registry
from testdata_kit.openapi import DocumentError
from tests._support import problems, run_cases

EXECUTABLE = os.environ.get("TESTDATA_JUPYTER_SERVER", "")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@unittest.skipUnless(EXECUTABLE or os.environ.get("CI"), "set TESTDATA_JUPYTER_SERVER to a jupyter-server script")
class JupyterServerTests(unittest.TestCase):
    url: ClassVar[str]
    token: ClassVar[str]
    process: ClassVar[subprocess.Popen[bytes]]

    @classmethod
    def setUpClass(cls) -> None:
        if not EXECUTABLE:
            raise AssertionError("CI must set TESTDATA_JUPYTER_SERVER (see .ci/run)")
        folder = tempfile.TemporaryDirectory()
        cls.addClassCleanup(folder.cleanup)
        port, cls.token = _free_port(), secrets.token_hex(16)
        cls.url = f"http://127.0.0.1:{port}"
        cls.process = subprocess.Popen(
            [EXECUTABLE, "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
             "--ServerApp.port_retries=0", f"--IdentityProvider.token={cls.token}", "--ServerApp.allow_root=True",
             f"--ServerApp.root_dir={folder.name}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder.name,
        )
        cls.addClassCleanup(cls._stop)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{cls.url}/api/status", headers=cls.headers(), timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            if cls.process.poll() is not None:
                raise AssertionError(f"jupyter-server exited with {cls.process.returncode}")
            time.sleep(0.2)
        raise AssertionError("jupyter-server did not answer /api/status within 60 s")

    @classmethod
    def _stop(cls) -> None:
        cls.process.terminate()
        try:
            cls.process.wait(20)
        except subprocess.TimeoutExpired:
            cls.process.kill()
            cls.process.wait()

    @classmethod
    def headers(cls) -> dict[str, str]:
        return {"Authorization": f"token {cls.token}"}

    def terminals(self) -> list[Any]:
        answer = requests.get(f"{self.url}/api/terminals", headers=self.headers(), timeout=10)
        answer.raise_for_status()
        return list(answer.json())

    def test_terminals_from_the_servers_own_document_are_created_and_all_deleted(self) -> None:
        registry = Registry()
        sent: list[Any] = []

        def record(response: requests.Response, *args: Any, **kwargs: Any) -> None:
            if response.request.method == "POST" and response.request.body:
                sent.append(response.request.body)

        # The document names the terminal's id {terminal_id}, and its answer holds only "name": the derivation
        # flags it, and ids= supplies the one fact the document leaves out.
        # Jupyter answers DELETE 204 before the terminal's process has ended and left the list: a GET just after
        # may still show it. The default verification re-checks such an accepted deletion for a while (settle=)
        # before it would call it a leak, so each deletion is proven, not trusted.
        api = ApiClient.from_openapi(f"{self.url}/api/spec.yaml", registry=registry, headers=self.headers(),
                                     ids={"terminal": "name"}, hooks={"response": record})
        self.addCleanup(api.close)
        self.assertEqual(api.base_url, self.url)
        self.assertIn("terminal", api.openapi.kinds())
        before = self.terminals()
        during: list[int] = []

        class Inner(DataTestCase):
            def test_it(inner) -> None:
                first = inner.create("terminal")
                second = inner.create("terminal")
                inner.assertNotEqual(first["name"], second["name"])
                during.append(len(self.terminals()))

        Inner.registry = registry
        result, books = run_cases(Inner)
        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual(during, [len(before) + 2])
        self.assertEqual(self.terminals(), before, "each deletion was proven, so none is left to wait for")
        self.assertEqual((books.created, books.deleted, books.leaked), (2, 2, 0))
        # The document gives POST /api/terminals no body parameter, so nothing is invented for it.
        self.assertEqual([json.loads(body) for body in sent], [{}, {}])

    def test_without_credentials_the_document_cannot_be_fetched(self) -> None:
        with self.assertRaises(DocumentError) as caught:
            ApiClient.from_openapi(f"{self.url}/api/spec.yaml", registry=Registry())
        self.assertIn("spec.yaml: answered an HTML page (from http://127.0.0.1:", str(caught.exception))
        self.assertIn("/login?next=", str(caught.exception))
        self.assertIn("pass headers= if the API needs credentials", str(caught.exception))

    def test_without_ids_the_terminal_is_refused_with_the_reason(self) -> None:
        api = ApiClient.from_openapi(f"{self.url}/api/spec.yaml", registry=Registry(), headers=self.headers())
        self.addCleanup(api.close)
        self.assertIn("cannot locate the id: {terminal_id} of /api/terminals/{terminal_id} matches no field of "
                      "the created item (fields: last_activity, name)", str(api.openapi.refused["terminal"]))
