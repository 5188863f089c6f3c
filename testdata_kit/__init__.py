"""testdata_kit: test data for unittest API suites that never collides and never leaks.

The core imports only the standard library. Integrations live in their own modules and are imported by path:
``testdata_kit.http`` (requests), ``testdata_kit.fake`` (mimesis), ``testdata_kit.db`` (snapshots).
"""

from testdata_kit.case import DataTestCase, TestDataMixin, uses
from testdata_kit.errors import (
    AlreadyGone,
    CleanupError,
    DeleterAnswerError,
    DuplicateKindError,
    FactoryProtocolError,
    InvalidValueError,
    LeakError,
    MissingExtraError,
    MissingKeyError,
    NoScopeError,
    RetryLater,
    TestDataError,
    UnknownKindError,
    UsageError,
)
from testdata_kit.kinds import Factory, Registry, create, creates, default_registry
from testdata_kit.ledger import summary
from testdata_kit.resources import GONE, Resource, atracked, track, tracked

__version__ = "0.1.0"

TYPE_CHECKING = False
if TYPE_CHECKING:
    from testdata_kit import unique
    from testdata_kit.aio import AsyncDataTestCase


def __getattr__(name: str) -> object:
    # ``testdata_kit.unique`` loads on first use: a suite that never makes a unique value does not pay for it.
    # So does AsyncDataTestCase, which imports asyncio: sync suites never load it.
    if name == "unique":
        import importlib

        return importlib.import_module("testdata_kit.unique")
    if name == "AsyncDataTestCase":
        from testdata_kit.aio import AsyncDataTestCase

        return AsyncDataTestCase
    raise AttributeError(f"module 'testdata_kit' has no attribute {name!r}")

__all__ = [
    "GONE",
    "AlreadyGone",
    "AsyncDataTestCase",
    "CleanupError",
    "DataTestCase",
    "DeleterAnswerError",
    "DuplicateKindError",
    "Factory",
    "FactoryProtocolError",
    "InvalidValueError",
    "LeakError",
    "MissingExtraError",
    "MissingKeyError",
    "NoScopeError",
    "Registry",
    "Resource",
    "RetryLater",
    "TestDataError",
    "TestDataMixin",
    "UnknownKindError",
    "UsageError",
    "__version__",
    "atracked",
    "create",
    "creates",
    "default_registry",
    "summary",
    "track",
    "tracked",
    "unique",
    "uses",
]
