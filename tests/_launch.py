"""Starting a REST server nobody here wrote as a child process on a free loopback port, for the real-server tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
from typing import Any

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_binary(env: str, name: str, install: str) -> str:
    """Return the server's executable from ``$env`` or PATH; skip the test, or fail it when ``$CI`` is set.

    :param install: the command that installs it, for the message.
    """
    found = os.environ.get(env) or shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed; set {env} to its executable or install it with: {install}"
    if os.environ.get("CI"):
        raise RuntimeError(f"CI is set but {message} (.ci/run installs it)")
    raise unittest.SkipTest(message)


class ExternalServer:
    """A server process with its data in a temporary folder; ``with`` starts it and stops it.

    Subclasses set :attr:`ready_path` and implement :meth:`prepare` (write the data files, return the command)
    and :meth:`counts` (rows per table, read from the server's own store, not through its API).
    """

    ready_path = "/"

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.folder = ""
        self.process: subprocess.Popen[bytes] | None = None

    def prepare(self) -> list[str]:
        raise NotImplementedError

    def counts(self) -> dict[str, int]:
        raise NotImplementedError

    def __enter__(self) -> Any:
        self.folder = tempfile.mkdtemp(prefix="testdata-rest-")
        command = self.prepare()
        self.log = open(os.path.join(self.folder, "server.log"), "wb")  # closed in __exit__
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.folder)
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(self.url + self.ready_path, timeout=2).status_code < 500:
                    return self
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                with open(os.path.join(self.folder, "server.log"), errors="replace") as log:
                    output = log.read()[-2000:]
                self.__exit__()
                raise RuntimeError(f"{command[0]} did not start at {self.url}: {output}")
            time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None:
            self.log.close()
        self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)
