"""Exceptions raised by testdata_kit: one root, small subclasses that carry the offending parts.

Every exception class the package defines subclasses :class:`TestDataError`, so ``except TestDataError``
catches them all; most also subclass the builtin a caller would expect (``ValueError``, ``TypeError``,
``KeyError``...), so that ``except ValueError`` keeps working. The one exception is
:class:`testdata_kit._interrupts.Interrupted`, a ``KeyboardInterrupt``: making it an ``Exception`` would let
``except Exception`` swallow an interrupt. Integrations define their own subclasses next to their code
(``testdata_kit.http.errors``, ``testdata_kit.db``...).
"""

from __future__ import annotations

import sys

# Names for annotations only. Importing typing would add a few milliseconds to ``import testdata_kit``, which
# unittest itself does not pay; type checkers treat this constant as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


__all__ = [
    "AlreadyGone",
    "CleanupError",
    "CleanupErrorGroup",
    "DeleterAnswerError",
    "DuplicateKindError",
    "FactoryProtocolError",
    "InvalidValueError",
    "LeakError",
    "MissingExtraError",
    "MissingKeyError",
    "NoScopeError",
    "RetryLater",
    "SettingError",
    "StoreUnreachable",
    "TestDataError",
    "UnknownKindError",
    "UsageError",
]


class TestDataError(Exception):
    """Root of every error testdata_kit raises."""

    # unittest's loader would otherwise try to collect a class whose name starts with "Test".
    __test__ = False


class UsageError(TestDataError, TypeError):
    """A call that passes the wrong kind of thing (a decorator on a non-test, an argument of the wrong type)."""


class InvalidValueError(TestDataError, ValueError):
    """An argument, setting or environment variable whose value cannot be used; the message names the fix."""


class SettingError(InvalidValueError):
    """A setting (a ``TESTDATA_*`` variable or a setup.cfg key) whose value cannot be used.

    :ivar setting: where it was set: ``TESTDATA_KEEP``, or ``journal-dir in setup.cfg``.
    :ivar value: the text as written.
    :ivar expected: what would be valid, or the fix.
    """

    def __init__(self, setting: str, value: str, expected: str, *, message: str | None = None) -> None:
        self.setting = setting
        self.value = value
        self.expected = expected
        equals = "=" if setting.startswith("TESTDATA_") else " = "
        super().__init__(message or f"{setting}{equals}{value!r} is not valid; expected {expected}.")


class MissingKeyError(TestDataError, KeyError):
    """A name or key that is not there. Unlike a plain ``KeyError``, its message prints without quotes."""

    def __str__(self) -> str:
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


class UnknownKindError(TestDataError, LookupError):
    """A kind name that no ``@creates`` declared."""

    def __init__(self, kind: str, known: list[str], needed_by: str | None = None) -> None:
        self.kind = kind
        self.known = known
        self.needed_by = needed_by
        choices = ", ".join(repr(k) for k in known) if known else "none yet"
        where = f" (in needs= of {needed_by!r})" if needed_by else ""
        super().__init__(
            f"Unknown kind {kind!r}{where}. Known kinds: {choices}. Declare it with @creates({kind!r}) "
            f"and import that module before the test runs."
        )


class DuplicateKindError(TestDataError, ValueError):
    """A second ``@creates`` for a kind that one registry already holds."""

    def __init__(self, kind: str, existing: Any, new: Any) -> None:
        self.kind = kind
        self.existing = existing
        self.new = new
        super().__init__(
            f"Kind {kind!r} is already declared by {_where(existing)}; {_where(new)} declares it again. "
            f"Rename one of them, or pass replace=True to @creates to override on purpose."
        )


class FactoryProtocolError(TestDataError, TypeError):
    """A factory that breaks the ``@creates`` contract (not callable, or a generator that misuses ``yield``)."""


class NoScopeError(TestDataError, RuntimeError):
    """A resource created where no test, class or explicit scope can own its cleanup."""

    def __init__(self, kind: str, message: str = "") -> None:
        self.kind = kind
        super().__init__(
            message
            or f"Cannot create {kind!r}: no test is running, so nothing would delete it. Create it inside a "
            f"DataTestCase test or setUpClass, or inside a pytest test or fixture (the testdata fixture: "
            f"testdata.create({kind!r})), or pass an explicit scope: "
            f"testdata_kit.create({kind!r}, scope='module') (or 'run', or scope='class' with owner=YourTestCase)."
        )


class CleanupError(TestDataError):
    """A deletion failed; the resource is reported as leaked."""

    def __init__(self, resource: Any, error: BaseException) -> None:
        self.resource = resource
        self.error = error
        super().__init__(f"Could not delete {resource!r}: {type(error).__name__}: {error}")


class DeleterAnswerError(TestDataError):
    """A deleter returned an HTTP answer that does not prove the deletion (a 4xx or 5xx status).

    A deleter that returns what ``requests.delete(...)`` or an httpx client answered, without checking it, would
    otherwise count a refused deletion as done. The *status* attribute lets a refusal such as 409 be retried
    after the rest of the scope, like any refused deletion.
    """

    def __init__(self, deleter: str, status: int, reason: str) -> None:
        self.deleter = deleter
        self.status = status
        self.reason = reason
        gone = status in (404, 410)
        why = ("a 404 or 410 at an address the test built may mean a wrong address, not a deleted row"
               if gone else "the server did not delete it")
        super().__init__(
            f"{deleter} returned HTTP {status} {reason}".rstrip() + f": not proof of deletion ({why}). Make the "
            f"deleter raise when the deletion fails (response.raise_for_status(), or raise AlreadyGone when you "
            f"checked the row is gone), or use an HTTP collection (api.collection(...)), which verifies."
        )


class RetryLater(TestDataError):
    """Raised by a deleter: the deletion is refused for now; it is tried again after the rest of its scope.

    Raise it when the store refuses because of something that later deletions may resolve (a row that another
    row still references, a lock, a server that does not answer). The resource stays pending; it is retried after
    the other deletions of its scope, pass after pass, and once more at the end of the run; only then is it a leak.
    """



if sys.version_info >= (3, 11):

    class _Grouping(TestDataError, ExceptionGroup):  # noqa: F821 (a builtin from Python 3.11 on)
        def __new__(cls, message: str, errors: list[Any]) -> Any:
            return super().__new__(cls, message, errors)

else:

    class _Grouping(TestDataError):
        def __new__(cls, message: str, errors: list[Any]) -> Any:
            return super().__new__(cls, message)


class CleanupErrorGroup(CleanupError, _Grouping):
    """Several deletions of one test failed: one error of the test, holding each :class:`CleanupError`.

    unittest and pytest then report every failed deletion as an error of the test that owned the data, after
    the test's own failure (pytest keeps only one error per test phase). On Python 3.11 and later it is also
    an :class:`ExceptionGroup`, so its traceback shows each failure and ``except* CleanupError`` takes them.

    :param errors: the failed deletions, oldest first; ``errors`` holds them.
    """

    def __new__(cls, errors: list[Any]) -> Any:
        return super().__new__(cls, _group_message(errors), list(errors))

    def __init__(self, errors: list[Any]) -> None:
        self.errors = list(errors)
        self.resource = None
        self.error = self.errors[0] if self.errors else self
        Exception.__init__(self, _group_message(self.errors), self.errors)

    def __str__(self) -> str:
        return _group_message(self.errors)

    def derive(self, excs: Any) -> Any:
        return CleanupErrorGroup(list(excs))


def _group_message(errors: list[Any]) -> str:
    # From Python 3.11 the traceback lists each error of the group under this line.
    lines = "".join(f"\n  - {error}" for error in errors) if sys.version_info < (3, 11) else ""
    return f"{len(errors)} deletions failed; each resource is reported as leaked{':' if lines else ''}{lines}"


class AlreadyGone(TestDataError):
    """Raised by a deleter to say the resource no longer exists; counted as a successful delete."""


class LeakError(TestDataError, AssertionError):
    """Resources were created and neither deleted nor deliberately kept."""

    def __init__(self, leaks: list[Any]) -> None:
        self.leaks = leaks
        lines = "\n".join(f"  - {leak}" for leak in leaks)
        super().__init__(f"{len(leaks)} resource(s) leaked:\n{lines}")


class StoreUnreachable(TestDataError, ConnectionError):
    """The journal store (a database, a Redis, a bucket, a folder) cannot be reached or written.

    :ivar url: the store's URL with credentials masked (what the message shows).
    :ivar cause: what the engine said, one line.
    :ivar fix: what to do about it.
    """

    def __init__(self, url: str, cause: str, fix: str) -> None:
        self.url = url
        self.cause = cause
        self.fix = fix
        stop = "" if cause.endswith((".", "?", "!")) else "."
        super().__init__(f"the journal store {url} cannot be reached: {cause}{stop} {fix}")


class MissingExtraError(TestDataError, ImportError):
    """An optional dependency is not installed."""

    def __init__(self, module: str, extra: str, feature: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(
            f"{feature} needs the {module!r} package, which is not installed. "
            f"Install it with: pip install 'testdata_kit[{extra}]'"
        )


def _where(obj: Any) -> str:
    module = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None) or repr(obj)
    return f"{module}.{name}" if module else name
