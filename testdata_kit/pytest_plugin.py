"""pytest plugin: runs unittest module cleanups and run-scoped cleanups, and prints the leak summary.

pytest honours ``addCleanup`` and ``addClassCleanup`` but never runs ``addModuleCleanup`` callbacks
(pytest-dev/pytest#14958), so module-scoped test data would leak. This plugin, registered through the
``pytest11`` entry point, runs them once, after the last test of their module in the session's run order.

unittest keeps one process-global list of module cleanups, and pytest may leave a module and come back to it
(a reordering plugin such as pytest-randomly, or a ``-k`` mix): running the whole list at every module
boundary would delete a module's data while later tests of that module still need it, and run other modules'
cleanups early. So each cleanup is attributed to the module whose test was running when it was registered,
and a module's cleanups run at the teardown of its last test; whatever is left runs at the end of the session.
Under pytest-xdist each worker sends its accounting to the controller, which prints one summary.

It also makes pytest a first-class host without ``TestCase``: plain test functions and fixtures own what they
create, the ``testdata`` fixture, :func:`fixture_for`, and the ``--testdata-seed``/``--testdata-keep`` options
(their hooks live in ``testdata_kit._pytest_data``; see the pytest how-to).
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
from testdata_kit.errors import TestDataError

__all__ = ["TestData", "fixture_for", "testdata"]

_totals: dict[str, Any] | None = None
# The registered module cleanups (unittest's own entries, by identity) and the module that registered each.
_owners: dict[int, tuple[object, str]] = {}
# For the session's run order: each item's position, and the position of each module's last item.
_order: tuple[dict[int, int], dict[str, int]] | None = None
_order_of: object = None


def _module_of(item: Any) -> str:
    module = getattr(item, "module", None)
    return getattr(module, "__name__", None) or item.nodeid.partition("::")[0]


def _positions(item: Any) -> tuple[dict[int, int], dict[str, int]]:
    global _order, _order_of
    if _order is None or _order_of is not item.session:
        _order_of = item.session
        items = item.session.items
        _order = ({id(each): n for n, each in enumerate(items)}, {_module_of(each): n for n, each in enumerate(items)})
    return _order


def _adopt(module: str) -> None:
    # Module cleanups registered since the last look belong to the module whose test just ran.
    for entry in unittest.case._module_cleanups:  # type: ignore[attr-defined]
        _owners.setdefault(id(entry), (entry, module))


def _run_module_cleanups(module: str) -> None:
    """Run *module*'s cleanups, newest first, as ``doModuleCleanups`` does: all of them, then raise the first error.

    They stay in unittest's list until they run, so an interrupt's unwinding still finds every one.
    """
    pending = unittest.case._module_cleanups  # type: ignore[attr-defined]
    mine = [entry for entry in pending if _owners.get(id(entry), (None, module))[1] == module]
    if not mine:
        return
    others = [entry for entry in pending if all(entry is not own for own in mine)]
    pending[:] = mine
    try:
        unittest.case.doModuleCleanups()
    finally:
        for entry in mine:
            _owners.pop(id(entry), None)
        pending[:] = others + pending


def pytest_sessionstart(session: Any) -> None:
    # An unusable setting (TESTDATA_KEEP=yes, a journal folder that cannot be written) stops the session once,
    # with its message, instead of failing every test that creates data.
    from testdata_kit import _settings

    try:
        _settings.check_start()
    except TestDataError as error:
        raise pytest.UsageError(str(error)) from None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: Any, nextitem: Any) -> Generator[None, None, None]:
    yield
    module = _module_of(item)
    _adopt(module)
    position, last = _positions(item)
    # The module is done when no later item of the run order belongs to it. Under pytest-xdist a worker runs
    # only some items, in run order: it is done with the module once it moves past the module's last item.
    if nextitem is None or position.get(id(nextitem), -1) > last.get(module, -1):
        # Raises the first failing module cleanup, after running all of them, just as unittest does;
        # the ledger has already recorded every failed deletion for the summary.
        _run_module_cleanups(module)


def pytest_sessionfinish(session: Any) -> None:
    failed = False
    _owners.clear()
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
    for line in ledger.totals_lines(_totals):
        terminalreporter.write_line(line)
