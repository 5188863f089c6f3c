"""unittest-parallel: its worker processes hand their accounts to the parent, which prints one total at exit.

unittest-parallel runs each test class (or module) in a pool process; each process would otherwise print its
own "created N, deleted N" line, glued to the progress dots, and no line would give the total.
"""

from __future__ import annotations

import atexit
import os
import sys

from testdata_kit._env import PARALLEL_TOTAL_ENV as TOTAL_ENV

# Names for annotations only: the core imports this module, and importing typing costs milliseconds.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["install", "send", "worker_total_path"]


def _in_worker() -> bool:
    mp = sys.modules.get("multiprocessing")
    return mp is not None and mp.parent_process() is not None


def install() -> None:
    """In the unittest-parallel parent, export the file workers report to and print the total at exit.

    Called when testdata_kit is imported while ``unittest_parallel.main`` is loaded: discovery imports the
    test modules in the parent before the pool starts, so the workers inherit the variable.
    """
    if _in_worker() or os.environ.get(TOTAL_ENV):
        return
    import tempfile

    handle, path = tempfile.mkstemp(prefix="testdata-parallel-", suffix=".jsonl")
    os.close(handle)
    os.environ[TOTAL_ENV] = path
    atexit.register(_print_total, path)


def worker_total_path() -> str | None:
    """Return the file this process reports its account to, when it is a unittest-parallel worker."""
    return os.environ.get(TOTAL_ENV) if _in_worker() else None


# What this worker has sent so far: each task sends what changed since, so that the parent can simply add.
_sent: dict[str, Any] = {"created": 0, "deleted": 0, "kept": 0, "leaked": 0, "by_kind": {}}


def send(books: Any) -> bool:
    """Append what *books* recorded since the last call to the parent's file; ``False`` outside a worker.

    Called at the end of each unittest-parallel task and at the worker's exit: a pool may terminate a worker
    before its exit handlers run, and by the end of a task its test, class and module data are settled.
    """
    path = worker_total_path()
    if path is None:
        return False
    now = books.as_dict()
    by_kind = {}
    for kind, counts in now["by_kind"].items():
        before = _sent["by_kind"].get(kind, {})
        by_kind[kind] = {key: value - before.get(key, 0) for key, value in counts.items()}
    part = {
        "pid": now["pid"], "created": now["created"] - _sent["created"], "deleted": now["deleted"] - _sent["deleted"],
        "kept": now["kept"][_sent["kept"]:], "leaked": now["leaked"][_sent["leaked"]:], "by_kind": by_kind,
    }
    _sent.update(created=now["created"], deleted=now["deleted"], kept=len(now["kept"]), leaked=len(now["leaked"]),
                 by_kind=now["by_kind"])
    if part["created"] or part["deleted"] or part["kept"] or part["leaked"]:
        import json

        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(part) + "\n")
    return True


def _print_total(path: str) -> None:
    from testdata_kit import ledger

    try:
        total = ledger.read_reports(path)
        import json

        pids = set()
        with open(path, encoding="utf-8") as handle:
            # A worker sends one line per task; the processes are the distinct pids.
            for line in handle:
                try:
                    pids.add(json.loads(line).get("pid"))
                except ValueError:  # read_reports skipped it too
                    continue
        count = len(pids)
    finally:
        os.unlink(path)
    if not count or not (total["created"] or total["leaked"]):
        return
    lines = ledger.totals_lines(total)
    lines[0] += f" (all {count} worker process{'es' if count != 1 else ''})"
    print("\n".join(lines), file=sys.stderr, flush=True)
