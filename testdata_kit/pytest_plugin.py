"""pytest plugin: runs unittest module cleanups and run-scoped cleanups, and prints the leak summary.

pytest honours ``addCleanup`` and ``addClassCleanup`` but never runs ``addModuleCleanup`` callbacks
(pytest-dev/pytest#14958), so module-scoped test data would leak. This plugin, registered through the
``pytest11`` entry point, runs them when the last test of a module has been torn down. Under pytest-xdist
each worker sends its accounting to the controller, which prints one summary for the whole session.
"""

from __future__ import annotations

import unittest.case
from collections.abc import Generator
from typing import Any

import pytest

from testdata_kit import _scopes, ledger
from testdata_kit._pytest_data import (  # noqa: F401  (pytest finds hooks and fixtures by name here)
    TestData,
    fixture_for,
    pytest_addoption,
    pytest_configure,
    pytest_configure_node,
    pytest_fixture_setup,
    pytest_report_header,
    pytest_runtest_call,
    pytest_runtest_makereport,
    pytest_runtest_setup,
    testdata,
)

__all__ = ["TestData", "fixture_for", "testdata"]

_totals: dict[str, Any] | None = None


def _module_of(item: Any) -> Any:
    return getattr(item, "module", None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: Any, nextitem: Any) -> Generator[None, None, None]:
    yield
    if nextitem is None or _module_of(nextitem) is not _module_of(item):
        # Raises the first failing module cleanup, after running all of them, just as unittest does;
        # the ledger has already recorded every failed deletion for the summary.
        unittest.case.doModuleCleanups()


def pytest_sessionfinish(session: Any) -> None:
    failed = False
    try:
        unittest.case.doModuleCleanups()
    except Exception as module_error:  # an error here must not cost the run scope and the summary
        print(f"testdata_kit: module cleanup failed: {module_error}")
        failed = True
    for error in _scopes.run_cleanups():
        print(f"testdata_kit: run-scope cleanup failed: {error}")
        failed = True
    if failed and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    books = ledger.current()
    books.close()
    _scopes.mark_finished()
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["testdata_kit"] = books.as_dict()
    else:
        _add(books.as_dict())
    # Tools that read $TESTDATA_REPORT get each process's account under pytest too (the summary prints below).
    books.write_report(echo=False)
    if _totals and _totals["leaked"] and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_testnodedown(node: Any, error: Any) -> None:
    part = getattr(node, "workeroutput", {}).get("testdata_kit")
    if part:
        _add(part)


def _add(part: dict[str, Any]) -> None:
    global _totals
    if _totals is None:
        _totals = {"created": 0, "deleted": 0, "kept": [], "leaked": []}
    for key in ("created", "deleted"):
        _totals[key] += part[key]
    _totals["kept"] += part["kept"]
    _totals["leaked"] += part["leaked"]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _totals or not (_totals["created"] or _totals["leaked"]):
        return
    leaks = _totals["leaked"]
    terminalreporter.write_line(
        f"testdata_kit: created {_totals['created']}, deleted {_totals['deleted']}, leaked {len(leaks)}"
        + (f", kept {len(_totals['kept'])}" if _totals["kept"] else "")
    )
    for leak in leaks:
        terminalreporter.write_line(f"  leaked: {leak['resource']} in {leak['test']}: {leak['reason']}")
    for text in _totals["kept"]:
        terminalreporter.write_line(f"  kept (TESTDATA_KEEP=failed): {text}")
