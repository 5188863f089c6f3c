"""Per-test seeds for fake values and the failure note that tells how to get the same values back."""

from __future__ import annotations

import os
import sys
import unittest

from testdata_kit import _run

# Names for annotations only. Importing typing would add a few milliseconds to ``import testdata_kit``, which
# unittest itself does not pay; type checkers treat this constant as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["failure_note", "mark_used", "provider_seed", "reporting_result", "test_id", "test_seed"]

# Set on a test instance once it has drawn fake values; only those tests get a seed note on failure.
USED_ATTR = _USED_ATTR = "_testdata_fake_used"
_NO_TEST = ""


def test_id(test: unittest.TestCase | None) -> str:
    """Return the id that seeds *test*'s values: ``test.id()``, the same in every runner and worker."""
    return _NO_TEST if test is None else test.id()


_prefix: tuple[str, Any] | None = None


def test_seed(test_name: str, run_seed: str | None = None) -> int:
    """Return the 64-bit seed of one test: ``sha256(f"{run_seed}:{test_id}")``, never ``hash()``.

    ``hash()`` of a string changes with ``PYTHONHASHSEED``; a digest is the same in every process.

    :param test_name: the test id, or ``""`` for values drawn outside any test.
    :param run_seed: defaults to :func:`testdata_kit._run.run_seed`.
    """
    global _prefix
    seed = _run.run_seed() if run_seed is None else run_seed
    prefix = _prefix
    if prefix is None or prefix[0] != seed:
        import hashlib  # here, not at the top: DataTestCase imports this module, and the core must import fast

        # The digest of the run seed's part is computed once; each test only adds its id to a copy.
        prefix = _prefix = (seed, hashlib.sha256(f"{seed}:".encode()))
    digest = prefix[1].copy()
    digest.update(test_name.encode())
    return int.from_bytes(digest.digest()[:8], "big")


_salts: dict[str, int] = {}


def provider_salt(provider: str) -> int:
    """Return the number a provider's name mixes into the test seed: the first 8 bytes of ``sha256(provider)``."""
    salt = _salts.get(provider)
    if salt is None:
        import hashlib

        salt = _salts[provider] = int.from_bytes(hashlib.sha256(provider.encode()).digest()[:8], "big")
    return salt


def provider_seed(seed: int, provider: str) -> int:
    """Return the seed of one provider inside a test, so that providers never run in lockstep.

    It is the test seed XOR :func:`provider_salt`: one digest per provider name and process, not one per test,
    because a test's first use of a provider is paid on every test.
    """
    return seed ^ provider_salt(provider)


def mark_used(test: unittest.TestCase) -> None:
    """Remember that *test* drew fake values, so its failure report carries the seed."""
    setattr(test, _USED_ATTR, True)


def _command(test: unittest.TestCase, run_seed: str) -> str:
    import shlex

    # pytest names the running test in this variable; its node id is what reruns exactly this test there.
    current = os.environ.get("PYTEST_CURRENT_TEST")
    # The variable leaks into subprocesses and into suites a pytest test runs itself, so it only counts when
    # it names this very test.
    node = current.rsplit(" (", 1)[0] if current else ""
    parts = node.split("::")
    if len(parts) >= 2 and parts[-1].split("[")[0] == test._testMethodName and parts[-2] == type(test).__name__:
        return f"{_run.RUN_SEED_ENV}={shlex.quote(run_seed)} python -m pytest {shlex.quote(node)}"
    return f"{_run.RUN_SEED_ENV}={shlex.quote(run_seed)} python -m unittest {shlex.quote(test.id())}"


def failure_note(test: unittest.TestCase, *, always: bool = False) -> str | None:
    """Return the note that reproduces *test*'s fake values, or ``None`` if it drew none.

    :param always: return the note even when the test drew no fake values.
    """
    # A subtest reports under its parent test, whose id seeded the values.
    test = getattr(test, "test_case", test)
    if not (always or test.__dict__.get(_USED_ATTR)):
        return None
    seed = _run.run_seed()
    return (
        f"testdata_kit: fake values of {test.id()} came from {_run.RUN_SEED_ENV}={seed} "
        f"(test seed {test_seed(test.id()):016x}). Same values again: {_command(test, seed)}"
    )


def _add_note(error: BaseException, note: str) -> None:
    if note not in getattr(error, "__notes__", ()):
        if sys.version_info >= (3, 11):
            error.add_note(note)
        else:  # 3.10 has no add_note; tracebacks there do not print notes, see _append_to_report.
            error.__notes__ = [*getattr(error, "__notes__", ()), note]  # type: ignore[attr-defined]


class _ReportingResult:
    """A result wrapper that adds the seed note to every failure or error of one test."""

    def __init__(self, result: Any, test: unittest.TestCase) -> None:
        self._result = result
        self._test = test

    def __getattr__(self, name: str) -> Any:
        return getattr(self._result, name)

    def _report(self, method: str, test: Any, err: Any, *extra: Any) -> None:
        from testdata_kit import _details

        note = "\n".join(part for part in (failure_note(self._test), _details.failure_text(self._test)) if part)
        if note and isinstance(err, tuple) and isinstance(err[1], BaseException):
            _add_note(err[1], note)
        getattr(self._result, method)(test, *extra, err)
        if note:
            _append_to_report(self._result, extra[0] if extra else test, note)

    def addFailure(self, test: Any, err: Any) -> None:
        self._report("addFailure", test, err)

    def addError(self, test: Any, err: Any) -> None:
        self._report("addError", test, err)

    def addSubTest(self, test: Any, subtest: Any, err: Any) -> None:
        if err is None:
            self._result.addSubTest(test, subtest, err)
        else:
            self._report("addSubTest", test, err, subtest)


def _append_to_report(result: Any, test: Any, note: str) -> None:
    # TestResult stores formatted text at once; Python 3.10 drops notes from it, so add the line there.
    for bucket in (getattr(result, "failures", None), getattr(result, "errors", None)):
        if isinstance(bucket, list) and bucket and isinstance(bucket[-1], tuple) and len(bucket[-1]) == 2:
            failed, text = bucket[-1]
            if failed is test and isinstance(text, str) and note not in text:
                bucket[-1] = (failed, f"{text}\n{note}\n")


def reporting_result(result: Any, test: unittest.TestCase) -> Any:
    """Wrap *result* so that failures and errors of *test* show the seed that reproduces its fake values.

    ``DataTestCase.run`` calls this; the wrapper forwards everything else to *result* unchanged.
    """
    if result is None or isinstance(result, _ReportingResult):
        return result
    return _ReportingResult(result, test)
