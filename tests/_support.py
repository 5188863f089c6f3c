"""Helpers for running small inner test suites against testdata_kit, with accounting kept apart."""

from __future__ import annotations

import io
import unittest
from collections.abc import Iterable
from typing import Any

from testdata_kit import ledger


def run_cases(*classes: type[unittest.TestCase], names: Iterable[str] | None = None) -> tuple[Any, Any]:
    """Run the given TestCase classes as one suite with a fresh ledger; return (result, ledger)."""
    loader = unittest.TestLoader()
    if names is None:
        suite = unittest.TestSuite(loader.loadTestsFromTestCase(cls) for cls in classes)
    else:
        suite = unittest.TestSuite(classes[0](name) for name in names)
    result = unittest.TextTestResult(io.StringIO(), descriptions=False, verbosity=0)
    with ledger.isolated() as books:
        suite.run(result)
        end_run(result)
    return result, books


def end_run(result: Any) -> None:
    """What the end of a run does to deletions still refused: one last attempt, each failure an error of its test."""
    from testdata_kit import _scopes

    for error in _scopes.final_attempt():
        owner = getattr(getattr(error, "resource", None), "owner", None)
        if not isinstance(owner, unittest.TestCase):
            owner = unittest.suite._ErrorHolder("end of the run")  # type: ignore[attr-defined]
        result.addError(owner, (type(error), error, error.__traceback__))


def problems(result: Any) -> list[str]:
    """Return the text of every error and failure, for assertion messages."""
    return [text for _, text in result.errors + result.failures]
