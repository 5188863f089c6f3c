"""unittest-parallel: its worker processes hand their accounts to the parent, which prints one total at exit.

unittest-parallel runs each test class (or module) in a pool process; each process would otherwise print its
own "created N, deleted N" line, glued to the progress dots, and no line would give the total.
"""

from __future__ import annotations

import atexit
import os
import sys

from testdata_kit._env import PARALLEL_TOTAL_ENV as TOTAL_ENV

__all__ = ["install", "worker_total_path"]


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


def _print_total(path: str) -> None:
    from testdata_kit import ledger

    try:
        total = ledger.read_reports(path)
    finally:
        os.unlink(path)
    count = total["processes"]
    if not count or not (total["created"] or total["leaked"]):
        return
    lines = ledger.totals_lines(total)
    lines[0] += f" (all {count} worker process{'es' if count != 1 else ''})"
    print("\n".join(lines), file=sys.stderr, flush=True)
