"""The demo shop API: a real HTTP service (stdlib only) that the examples, tests and benchmarks run against.

Start it in-process for tests::

    from testdata_kit import demo

    with demo.running(latency_ms=0) as server:
        ...  # server.url, server.counts(), server.deletions()

or as a process with ``python -m testdata_kit serve-demo --port 0``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from testdata_kit.demo._schema import DemoApiError

if TYPE_CHECKING:
    from testdata_kit.demo.server import DemoServer, RemoteHostError, running

__all__ = ["DemoApiError", "DemoServer", "RemoteHostError", "running"]

_FROM_SERVER = ("DemoServer", "RemoteHostError", "running")


def __getattr__(name: str) -> Any:
    # Imported on first use: importing server.py here would make `python -m testdata_kit.demo.server`
    # load that module twice (runpy warns about exactly this).
    if name in _FROM_SERVER:
        from testdata_kit.demo import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
