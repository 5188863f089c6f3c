"""Deleting a graph of resources children first: serially newest first, or by threads once deletions are slow.

A scenario's teardown is a graph: each resource waits for every resource made from it. Each node carries a
counter of the children still to delete; a deletion decrements its parents' counters, and a parent whose
counter reaches zero is ready. So every node is handled once and every link once: the cost is linear in the
size of the graph, whatever its shape.

Concurrent teardown starts on the calling thread, and starts its threads at the first deletion that takes
longer than :data:`SLOW` seconds: deletions that only touch memory never pay for threads (under the GIL they
would only slow down). The kinds found slow are remembered for the rest of the process, so the teardowns
that follow spread their deletions over the threads from the start.

An async teardown (:func:`arun`) has lanes instead of threads: coroutines of the test's event loop, one per
ready branch, each going on with the parent its deletion freed.
"""

from __future__ import annotations

import heapq
import threading
import time
from typing import Any

from testdata_kit import _interrupts

__all__ = ["SLOW", "Node", "arun", "run"]

#: A deletion running longer than this, in seconds, starts the threads of a concurrent teardown.
SLOW = 0.00025
# Kinds whose deletions proved slow in this process: their teardowns start the threads at once.
_slow_kinds: set[str] = set()
# How many of the first ready nodes are looked at for a kind known to be slow.
_LOOK_AHEAD = 64


class Node:
    """One resource of the graph: its parents (what it was made from) and its place in creation order."""

    __slots__ = ("parents", "rank", "resource", "round", "waiting")

    def __init__(self, resource: Any, parents: list[Node], rank: int) -> None:
        self.resource = resource
        self.parents = parents
        self.rank = rank
        self.waiting = 0
        self.round: object = None


def run(nodes: list[Node], workers: int) -> tuple[list[Node], list[BaseException]]:
    """Delete every node after its children; then retry the refused ones the same way, while that deletes some.

    A refused deletion (see :meth:`testdata_kit.Resource.attempt`) counts as done for the order of its round,
    so its parents get their turn; the next round tries again every node still refused, children first.

    :param workers: ``1`` deletes one at a time, newest first among the deletable (unittest's LIFO wherever
        LIFO is safe); more lets up to that many threads delete independent nodes at once.
    :returns: the nodes still refused after the last round that deleted something, and the errors of the
        deletions that failed otherwise (each already recorded as a leak).
    """
    errors: list[BaseException] = []
    pending = nodes
    while pending:
        refused = _round(pending, workers, errors)
        if len(refused) == len(pending):
            return refused, errors
        pending = refused
    return [], errors


async def arun(nodes: list[Node], workers: int) -> tuple[list[Node], list[BaseException]]:
    """Same as :func:`run`, except that each deletion is awaited (:meth:`testdata_kit.Resource.arelease`).

    Independent branches are awaited together, at most *workers* deletions at once, each node after its children.
    """
    errors: list[BaseException] = []
    pending = nodes
    while pending:
        refused = await _around(pending, workers, errors)
        if len(refused) == len(pending):
            return refused, errors
        pending = refused
    return [], errors


def _start(nodes: list[Node]) -> tuple[object, list[Node]]:
    """Count each node's children still to delete in this round; return the round's token and the ready nodes."""
    token = object()
    for node in nodes:
        node.round = token
        node.waiting = 0
    for node in nodes:
        for parent in node.parents:
            if parent.round is token:
                parent.waiting += 1
    return token, [node for node in nodes if not node.waiting]


def _round(nodes: list[Node], workers: int, errors: list[BaseException]) -> list[Node]:
    token, ready = _start(nodes)
    refused: list[Node] = []
    if workers <= 1 or len(nodes) <= 1:
        _serial(ready, token, errors, refused)
    else:
        _concurrent(ready, len(nodes), token, workers, errors, refused)
    return refused


def _attempt(node: Node, errors: list[BaseException], refused: list[Node], defer_interrupts: bool = True) -> None:
    # Pool threads do not defer interrupts: a signal reaches the main thread, which stops handing out
    # deletions, waits for those already running, and lets the interrupt unwind the test.
    try:
        if not node.resource.release(defer_interrupts=defer_interrupts, retry_in_scope=False):
            refused.append(node)
    except Exception as error:  # the ledger records the leak; the parents still get their turn
        errors.append(error)


async def _around(nodes: list[Node], workers: int, errors: list[BaseException]) -> list[Node]:
    import asyncio  # only async scenarios pay for it

    token, ready = _start(nodes)
    refused: list[Node] = []
    if workers <= 1 or len(nodes) <= 1:
        # One at a time, the newest deletable first: unittest's LIFO wherever LIFO is safe.
        heap = [(-node.rank, node) for node in ready]
        heapq.heapify(heap)
        while heap:
            node = heapq.heappop(heap)[1]
            await _aattempt(node, errors, refused)
            for parent in node.parents:
                if parent.round is token:
                    parent.waiting -= 1
                    if not parent.waiting:
                        heapq.heappush(heap, (-parent.rank, parent))
        return refused
    # Lanes, as the threads of a sync teardown: a lane deletes a node, then goes on with the first parent that
    # freed, so a chain runs in one coroutine. A task (and, in asyncio's debug mode, which
    # IsolatedAsyncioTestCase turns on, a stack capture) is paid only where the graph branches.
    slots = asyncio.Semaphore(workers)
    lanes: list[asyncio.Future[None]] = []

    async def lane(node: Node | None) -> None:
        while node is not None:
            async with slots:
                await _aattempt(node, errors, refused)
            following = None
            for parent in node.parents:
                if parent.round is token:
                    parent.waiting -= 1
                    if not parent.waiting:
                        if following is None:
                            following = parent
                        else:
                            lanes.append(asyncio.ensure_future(lane(parent)))
            node = following

    ready.sort(key=_newest_first)
    lanes.extend(asyncio.ensure_future(lane(node)) for node in ready[1:])
    try:
        await lane(ready[0])  # the newest in this coroutine, the others in lanes of their own
        while lanes:
            await lanes.pop()
    except asyncio.CancelledError:
        for task in lanes:
            task.cancel()
        raise
    return refused


async def _aattempt(node: Node, errors: list[BaseException], refused: list[Node]) -> None:
    try:
        if not await node.resource.arelease(retry_in_scope=False):
            refused.append(node)
    except Exception as error:  # the ledger records the leak; the parents still get their turn
        errors.append(error)


def _newest_first(node: Node) -> int:
    return -node.rank


def _serial(ready: list[Node], token: object, errors: list[BaseException], refused: list[Node]) -> None:
    heap = [(-node.rank, node) for node in ready]
    heapq.heapify(heap)
    while heap:
        node = heapq.heappop(heap)[1]
        _attempt(node, errors, refused)
        for parent in node.parents:
            if parent.round is token:
                parent.waiting -= 1
                if not parent.waiting:
                    heapq.heappush(heap, (-parent.rank, parent))


def _concurrent(
    ready: list[Node], count: int, token: object, workers: int, errors: list[BaseException], refused: list[Node],
) -> None:
    _Pool(ready, count, token, errors, refused).run(min(workers, count))


def _free(node: Node, token: object, ready: list[Node]) -> Node | None:
    """Count *node* done for its parents; queue the parents now ready, except the first, which is returned."""
    following = None
    for parent in node.parents:
        if parent.round is token:
            parent.waiting -= 1
            if not parent.waiting:
                if following is None:
                    following = parent
                else:
                    ready.append(parent)
    return following


class _Pool:
    """Threads that take ready nodes, delete them, and free their parents, until every node is done.

    The calling thread deletes first, by itself, which is all the GIL allows for deletions that only touch
    memory, and costs no thread. At the first deletion that runs longer than :data:`SLOW` (a server), the
    threads start and take over; the kind is remembered, so that later teardowns with a kind known to be slow
    start their threads at once (until one of its deletions is fast again).
    """

    def __init__(
        self, ready: list[Node], left: int, token: object, errors: list[BaseException], refused: list[Node],
    ) -> None:
        self.ready = ready
        self.left = left
        self.token = token
        self.errors = errors
        self.refused = refused
        self.stop = False
        self.cond = threading.Condition(threading.Lock())
        self.done = threading.Event()
        self.threads: list[threading.Thread] = []

    def run(self, workers: int) -> None:
        first = self.ready[-_LOOK_AHEAD:]
        if not (_slow_kinds and any(node.resource.kind in _slow_kinds for node in first)) and self.inline():
            return
        try:
            # Started with interrupts held: an interrupt inside Thread.start() would leave a thread that the
            # joins below cannot wait for (RuntimeError), hiding the interrupt.
            with _interrupts.held():
                for number in range(min(workers, self.left)):
                    thread = threading.Thread(target=self.work, name=f"teardown-{number}", daemon=True)
                    thread.start()
                    self.threads.append(thread)
            self.done.wait()
        finally:
            # Also after an interrupt: no new deletion starts; those running finish and are recorded.
            with self.cond:
                self.stop = True
                self.cond.notify_all()
            for thread in self.threads:
                thread.join()

    def inline(self) -> bool:
        """Delete on the calling thread while deletions are fast; return ``False`` when one proved slow."""
        ready, token, clock = self.ready, self.token, time.perf_counter
        while ready:
            node = ready.pop()
            started = clock()
            _attempt(node, self.errors, self.refused)
            slow = clock() - started > SLOW
            self.left -= 1
            following = _free(node, token, ready)
            if following is not None:
                ready.append(following)
            if slow:
                _slow_kinds.add(node.resource.kind)
                if self.left:
                    return False
        return True

    def work(self) -> None:
        cond, token, clock = self.cond, self.token, time.perf_counter
        node: Node | None = None
        while True:
            if node is not None and self.stop:
                return
            if node is None:
                with cond:
                    while not self.ready and self.left and not self.stop:
                        cond.wait()
                    if self.stop or not self.ready:
                        return
                    node = self.ready.pop()
            started = clock()
            _attempt(node, self.errors, self.refused, False)
            if clock() - started <= SLOW:
                # Found slow once by a hiccup (a garbage collection, a busy machine): inline next time.
                _slow_kinds.discard(node.resource.kind)
            with cond:
                self.left -= 1
                before = len(self.ready)
                # The first freed parent stays on this thread: a chain needs no hand-over.
                following = _free(node, token, self.ready)
                if len(self.ready) > before:
                    cond.notify(len(self.ready) - before)
                if not self.left:
                    self.done.set()
                    cond.notify_all()
            node = following
