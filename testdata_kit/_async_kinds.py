"""Async factories: awaiting an ``async def`` factory, and the async deleter that finishes it.

:meth:`testdata_kit.Factory.amake` calls :func:`make`; the tracking around it is
:func:`testdata_kit.resources.atracked`'s, the async twin of the one creation path.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Callable
from typing import Any

from testdata_kit.errors import FactoryProtocolError

__all__ = ["make"]


async def make(
    kind: str, func: Callable[..., Any], delete: Callable[[Any], object] | None, where: str,
    args: tuple[Any, ...], kwargs: dict[str, Any],
) -> tuple[Any, Callable[[], Any]]:
    """Await the factory *func*; return the value and an async zero-argument deleter.

    An async generator is advanced to its one ``yield``; a coroutine function is awaited and *delete* (sync or
    async) gets its value.

    :param where: the factory's name and place, for the error raised when it does not yield exactly once.
    :raises FactoryProtocolError: an async generator that returned without yielding.
    """
    if not inspect.isasyncgenfunction(func):
        assert delete is not None  # @creates refuses a coroutine function without delete=
        value = await func(*args, **kwargs)
        return value, functools.partial(_delete, delete, value)
    generator = func(*args, **kwargs)
    try:
        value = await generator.__anext__()
    except StopAsyncIteration:
        raise FactoryProtocolError(
            f"Generator factory {kind!r} ({where}) returned without yielding. "
            f"Yield the created resource exactly once, and delete it after the yield."
        ) from None
    return value, functools.partial(_finish, kind, where, generator)


async def _delete(delete: Callable[[Any], object], value: Any) -> None:
    result = delete(value)
    if inspect.isawaitable(result):
        await result


async def _finish(kind: str, where: str, generator: AsyncGenerator[Any, None]) -> None:
    try:
        await generator.__anext__()
    except StopAsyncIteration:
        return
    await generator.aclose()
    raise FactoryProtocolError(
        f"Generator factory {kind!r} ({where}) yielded more than once. Yield the created resource "
        f"exactly once; put the deletion after that single yield."
    )
