"""One object as a TestCase class decorator or a mixin: the setUpClass/setUp hooks that snapshots and reference
data share."""

from __future__ import annotations

import functools
import unittest
from typing import Protocol, TypeVar

from testdata_kit.errors import UsageError

_T = TypeVar("_T", bound=type)


class Hooks(Protocol):
    """What a decorated class calls: once when the class is set up, and before each test's own setUp."""

    def _start_class(self, cls: type) -> None: ...

    def _start_test(self, test: unittest.TestCase) -> None: ...


def decorate_testcase(cls: _T, hooks: Hooks) -> _T:
    """Wrap *cls*'s ``setUpClass`` and ``setUp`` so that they call *hooks*; refuse anything but a TestCase."""
    if not (isinstance(cls, type) and issubclass(cls, unittest.TestCase)):
        raise UsageError(
            f"Can only decorate unittest.TestCase subclasses, not {cls!r}. Make it a TestCase, or use the object "
            f"as a context manager inside the test."
        )
    case: type[unittest.TestCase] = cls
    original_class = cls.__dict__.get("setUpClass")
    original_setup = cls.__dict__.get("setUp")

    @functools.wraps(cls.setUpClass)
    def setUpClass(klass: type[unittest.TestCase]) -> None:
        if original_class is not None:
            original_class.__func__(klass)
        else:
            super(case, klass).setUpClass()  # type: ignore[misc]
        hooks._start_class(klass)

    @functools.wraps(cls.setUp)
    def setUp(test: unittest.TestCase) -> None:
        # Before the user's setUp, so that what it writes is undone even when it fails half-way.
        hooks._start_test(test)
        if original_setup is not None:
            original_setup(test)
        else:
            super(case, test).setUp()  # type: ignore[misc]

    case.setUpClass = classmethod(setUpClass)  # type: ignore[assignment,method-assign]
    case.setUp = setUp  # type: ignore[assignment,method-assign]
    return cls


def make_mixin(hooks: Hooks, name: str) -> type:
    """Return a mixin class whose ``setUpClass`` and ``setUp`` call *hooks*, then the next class in the MRO."""

    class Mixin:
        @classmethod
        def setUpClass(cls) -> None:
            super().setUpClass()  # type: ignore[misc]
            hooks._start_class(cls)

        def setUp(self) -> None:
            hooks._start_test(self)  # type: ignore[arg-type]
            super().setUp()  # type: ignore[misc]

    Mixin.__qualname__ = Mixin.__name__ = name
    Mixin.__doc__ = f"Calls {hooks!r} when the class is set up and before each test."
    return Mixin


