"""One HTTP exchange as the collections' decision code sees it, and the two drivers that do its I/O.

The decisions of a collection (where an item lives, what proves a deletion, what to read back) are written
once, as generators that ``yield`` a :class:`Call` and receive its :class:`Answer` (or have the client's error
thrown in, such as :class:`~testdata_kit.http.ServerDownError`). :func:`drive` sends the calls through the
requests client, :func:`adrive` awaits them through the httpx one; neither decides anything.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from typing import Any, NamedTuple, TypeVar

from testdata_kit import _redact
from testdata_kit.http.errors import ApiError

__all__ = ["Answer", "Call", "Steps", "Wait", "adrive", "drive", "expect_json"]

T = TypeVar("T")


class Call(NamedTuple):
    """A request the decision code wants sent: method, absolute URL, headers, query parameters, JSON body."""

    method: str
    url: str
    headers: Mapping[str, str]
    params: Mapping[str, Any]
    json: Any = None


class Answer(NamedTuple):
    """What the decision code reads of a response, the same for requests and httpx."""

    method: str
    url: str
    status: int
    reason: str
    content: bytes
    headers: Mapping[str, str]
    #: Tries it took, retries included.
    attempts: int = 1

    @property
    def ok(self) -> bool:
        """Whether the status is below 400, as ``requests.Response.ok`` says."""
        return self.status < 400

    def json(self) -> Any:
        """The decoded JSON body; raises ``ValueError`` for a body that is not JSON."""
        return json.loads(self.content)


class Wait(NamedTuple):
    """A pause the decision code wants before its next call (a deletion the server finishes in the background)."""

    seconds: float


#: A decision: a generator that yields calls (or waits), is sent their answers, and returns its result.
Steps = Generator["Call | Wait", Answer, T]


def drive(steps: Steps[T], send: Callable[[Call], Answer]) -> T:
    """Run *steps* to its result, sending each call with *send*; an error of *send* is thrown into *steps*."""
    try:
        call = next(steps)
        while True:
            if isinstance(call, Wait):
                time.sleep(call.seconds)
                call = steps.send(None)  # type: ignore[arg-type]
                continue
            try:
                answer = send(call)
            except Exception as error:
                call = steps.throw(error)
            else:
                call = steps.send(answer)
    except StopIteration as stop:
        return stop.value


async def adrive(steps: Steps[T], send: Callable[[Call], Awaitable[Answer]]) -> T:
    """Same as :func:`drive`, awaiting each call."""
    try:
        call = next(steps)
        while True:
            if isinstance(call, Wait):
                import asyncio  # only the async driver waits this way

                await asyncio.sleep(call.seconds)
                call = steps.send(None)  # type: ignore[arg-type]
                continue
            try:
                answer = await send(call)
            except Exception as error:
                call = steps.throw(error)
            else:
                call = steps.send(answer)
    except StopIteration as stop:
        return stop.value


def expect_json(answer: Answer) -> Any:
    """Return the JSON body of a 2xx *answer*, or raise :class:`ApiError` with its status and an excerpt."""
    address = _redact.url(answer.url)
    if not answer.ok:
        problem = f"answered {answer.status} {answer.reason}"
        raise ApiError(answer.method, address, answer.status, _redact.body_excerpt(answer.content), problem)
    try:
        return answer.json()
    except ValueError:
        type_ = answer.headers.get("Content-Type", "no Content-Type")
        problem = f"answered with a body that is not JSON ({type_})"
        raise ApiError(answer.method, address, answer.status, _redact.body_excerpt(answer.content), problem) from None
