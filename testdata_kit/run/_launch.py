"""Starting ``python -m testdata_kit run`` for ``check``: forked from the check process when that is safe.

``check`` runs the suite six times. A new interpreter for each run pays Python's start and the import of the
runner again (about a fifth of a second each, as much as a plain ``python -m unittest`` of a small suite
costs); a fork of the check process starts with them done. The check process has imported no test module and
run no test, so a forked runner starts as clean as a new one. Forking is only safe on Linux, from a process
with a single thread; anywhere else a new interpreter is started, as before.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from typing import Any, TextIO

__all__ = ["RUNNER", "start"]

#: The command line of a runner started as a new interpreter.
RUNNER = (sys.executable, "-m", "testdata_kit.run.runner")


class _Forked:
    """The parts of :class:`subprocess.Popen` that ``check`` uses, for a forked runner."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.poll() is None and self._wait_exit(timeout):
            self.poll()
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.001
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(list(RUNNER), timeout or 0.0)
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
        assert self.returncode is not None
        return self.returncode

    def _wait_exit(self, timeout: float | None) -> bool:
        """Block until the child exits (then ``True``) or *timeout* passes; ``False`` where Linux's pidfd is missing.

        A sleeping poll wakes up to 20 ms after the exit; a mode of ``check`` lasts a fifth of a second.
        """
        try:
            fd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            return False
        try:
            if not select.select([fd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(list(RUNNER), timeout or 0.0)
        finally:
            os.close(fd)
        return True

    def kill(self) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


def _can_fork() -> bool:
    return sys.platform.startswith("linux") and threading.active_count() == 1


def start(args: Sequence[str], log: TextIO, environ: dict[str, str]) -> Any:
    """Start a runner with *args* (what follows ``run``), its output going to *log*, in *environ*.

    :returns: a :class:`subprocess.Popen`, or an object with the same ``poll``, ``wait``, ``kill`` and
        ``returncode`` for a forked runner.
    """
    if not _can_fork():
        return subprocess.Popen([*RUNNER, *args], stdout=log, stderr=subprocess.STDOUT, env=environ)
    from testdata_kit.run import runner  # imported before the fork, so that no runner imports it again

    for stream in (sys.stdout, sys.stderr, log):
        stream.flush()
    pid = os.fork()
    if pid:
        return _Forked(pid)
    code = 1
    try:  # the child: never return into the caller's code, and never run its atexit handlers
        os.environ.clear()
        os.environ.update(environ)
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        # The caller may have replaced sys.stdout or sys.stderr (redirect_stdout, a test runner's buffer):
        # the runner must write to the log, as a new interpreter would.
        sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
        code = runner.main(list(args))
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
