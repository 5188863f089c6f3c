"""unittest-parallel: its worker processes hand their accounts to the parent, which prints one total at exit.

unittest-parallel runs each test class (or module) in a pool process; each process would otherwise print its
own "created N, deleted N" line, glued to the progress dots, and no line would give the total.
"""

from __future__ import annotations

import atexit
import os
import sys

__all__ = ["TOTAL_ENV", "install", "worker_total_path"]

#: Set by the unittest-parallel parent for its workers: the file each one appends its account to.
TOTAL_ENV = "TESTDATA_PARALLEL_TOTAL"


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
    if not total["processes"] or not (total["created"] or total["leaked"]):
        return
    leaks, count = total["leaked"], total["processes"]
    line = (f"testdata_kit: created {total['created']}, deleted {total['deleted']}, leaked {len(leaks)}"
            + (f", kept {len(total['kept'])}" if total["kept"] else "")
            + f" (all {count} worker process{'es' if count != 1 else ''})")
    lines = [line] + [f"  leaked: {leak['resource']} in {leak['test']}: {leak['reason']}" for leak in leaks]
    lines += [f"  kept (TESTDATA_KEEP=failed): {text}" for text in total["kept"]]
    print("\n".join(lines), file=sys.stderr, flush=True)
