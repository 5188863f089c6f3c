"""Finding a unittest suite and cutting it into classes: discovery, shards and seeded shuffles.

The runner and ``check`` both work on *units*: all the selected tests of one TestCase class, in the order
unittest would run them. A unit never splits, so ``setUpClass`` runs once per class wherever it lands.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import unittest
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from testdata_kit.errors import TestDataError

__all__ = [
    "Discovery",
    "ShardError",
    "Unit",
    "add_discovery_arguments",
    "shard",
    "shard_from_env",
    "shuffle",
    "units_of",
]


class ShardError(TestDataError, ValueError):
    """A ``--shard`` value (or ``CI_NODE_INDEX``/``CI_NODE_TOTAL``) that does not name one of *n* shards."""

    def __init__(self, value: str, source: str) -> None:
        self.value = value
        self.source = source
        super().__init__(
            f"{source} {value!r} is not a shard: expected I/N with 1 <= I <= N, e.g. '1/4' for the first of "
            f"four machines (shards count from 1, as GitLab's CI_NODE_INDEX does)."
        )


@dataclass(frozen=True)
class Discovery:
    """What to load, in the terms of ``python -m unittest``: test names, or discovery from a directory.

    :param names: modules, classes, methods or ``.py`` paths, as ``python -m unittest NAME...`` takes them;
        when empty, tests are discovered from *start*.
    :param start: directory to start discovery from (``-s``).
    :param pattern: file name pattern of test modules (``-p``).
    :param top: top-level directory of the project (``-t``); defaults to *start*.
    :param keywords: ``-k`` substrings or fnmatch patterns a test name must match.
    """

    names: tuple[str, ...] = ()
    start: str = "."
    pattern: str = "test*.py"
    top: str | None = None
    keywords: tuple[str, ...] = field(default=())

    def load(self) -> unittest.TestSuite:
        """Import the test modules and return the suite, as ``python -m unittest`` would build it."""
        loader = unittest.TestLoader()
        if self.keywords:
            loader.testNamePatterns = [k if "*" in k else f"*{k}*" for k in self.keywords]
        if self.names:
            if "" not in sys.path and os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())  # python -m unittest NAME imports from the current directory
            return loader.loadTestsFromNames([_module_name(name) for name in self.names])
        return loader.discover(self.start, self.pattern, self.top)

    def tests(self) -> list[unittest.TestCase]:
        """Return every test of the suite, flattened, in run order."""
        return list(_flatten(self.load()))

    def as_args(self) -> list[str]:
        """Return the command-line arguments that select the same tests (for a subprocess)."""
        args = [*self.names, "-s", self.start, "-p", self.pattern]
        if self.top is not None:
            args += ["-t", self.top]
        for keyword in self.keywords:
            args += ["-k", keyword]
        return args

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Discovery:
        return cls(tuple(args.tests), args.start, args.pattern, args.top, tuple(args.keywords or ()))


def add_discovery_arguments(parser: argparse.ArgumentParser) -> None:
    """Add unittest's selection arguments: test names, ``-s``, ``-p``, ``-t`` and ``-k``."""
    group = parser.add_argument_group("selecting tests (as python -m unittest does)")
    group.add_argument(
        "tests", nargs="*", metavar="TEST",
        help="modules, classes or methods (pkg.test_mod.Class.test_x) or .py files; none: discover",
    )
    group.add_argument("-s", "--start-directory", dest="start", default=".", help="directory to discover in (.)")
    group.add_argument("-p", "--pattern", default="test*.py", help="test file pattern (test*.py)")
    group.add_argument("-t", "--top-level-directory", dest="top", default=None, help="project top directory")
    group.add_argument(
        "-k", dest="keywords", action="append", metavar="PATTERN",
        help="only tests whose name matches PATTERN (substring or fnmatch pattern); repeatable",
    )


def _module_name(name: str) -> str:
    # The same conversion python -m unittest applies, so "tests/test_x.py" works on the command line.
    if name.endswith(".py") and os.path.isfile(name):
        relative = os.path.relpath(os.path.normpath(name))
        if not relative.startswith(".."):
            return relative[:-3].replace("\\", ".").replace("/", ".")
    return name


def _flatten(suite: unittest.TestSuite | unittest.TestCase) -> Iterator[unittest.TestCase]:
    if isinstance(suite, unittest.TestSuite):
        for item in suite:
            yield from _flatten(item)
    else:
        yield suite


def class_key(test: unittest.TestCase) -> str:
    """Return ``module.Class``, the name that keeps a class's tests together in every process."""
    cls = type(test)
    return f"{cls.__module__}.{cls.__qualname__}"


def fingerprint(ids: Sequence[str]) -> str:
    """Return a short digest of the test ids, to make sure that every worker discovered the same suite."""
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]


@dataclass
class Unit:
    """The selected tests of one TestCase class: ``key`` is ``module.Class``, ``tests`` are suite positions."""

    key: str
    module: str
    tests: list[int]


def units_of(tests: Sequence[unittest.TestCase]) -> list[Unit]:
    """Group the flattened suite by class, keeping the order in which classes and tests first appear."""
    units: dict[str, Unit] = {}
    for position, test in enumerate(tests):
        key = class_key(test)
        if key not in units:
            units[key] = Unit(key, type(test).__module__, [])
        units[key].tests.append(position)
    return list(units.values())


def shard(units: Sequence[Unit], index: int, total: int) -> list[Unit]:
    """Return the units of shard *index* (1-based) of *total*, in their original order.

    Classes go, biggest first, to the shard with the fewest tests so far (ties: the lower shard, then the
    class name), so every machine that runs the same suite computes the same partition without talking to
    the others, and the shards' sizes differ by at most one class.
    """
    if not 1 <= index <= total:
        raise ShardError(f"{index}/{total}", "--shard")
    loads = [0] * total
    owner: dict[str, int] = {}
    for unit in sorted(units, key=lambda u: (-len(u.tests), u.key)):
        target = min(range(total), key=lambda s: (loads[s], s))
        loads[target] += len(unit.tests)
        owner[unit.key] = target
    return [unit for unit in units if owner[unit.key] == index - 1]


def parse_shard(value: str, source: str = "--shard") -> tuple[int, int]:
    """Parse ``I/N`` into ``(I, N)``, raising :class:`ShardError` for anything else."""
    index, slash, total = value.partition("/")
    try:
        parsed = int(index), int(total)
    except ValueError:
        raise ShardError(value, source) from None
    if not slash or not 1 <= parsed[0] <= parsed[1]:
        raise ShardError(value, source)
    return parsed


def shard_from_env(environ: dict[str, str] | os._Environ[str] = os.environ) -> tuple[int, int] | None:
    """Return the shard that ``CI_NODE_INDEX`` (1-based) and ``CI_NODE_TOTAL`` name, or ``None``."""
    index, total = environ.get("CI_NODE_INDEX", ""), environ.get("CI_NODE_TOTAL", "")
    if not index and not total:
        return None
    return parse_shard(f"{index}/{total}", "CI_NODE_INDEX/CI_NODE_TOTAL")


def shuffle(units: Sequence[Unit], seed: int | str) -> list[Unit]:
    """Return the units in a seeded random order: modules, classes within a module, tests within a class.

    Modules stay contiguous so that ``setUpModule`` still runs once; everything inside them moves. The same
    seed gives the same order on every machine and Python version (``random.Random`` hashes a str seed
    with SHA-512, never with ``hash()``).
    """
    rng = random.Random(seed)
    modules: dict[str, list[Unit]] = {}
    for unit in units:
        modules.setdefault(unit.module, []).append(unit)
    order = list(modules)
    rng.shuffle(order)
    result = []
    for module in order:
        classes = [Unit(u.key, u.module, list(u.tests)) for u in modules[module]]
        rng.shuffle(classes)
        for unit in classes:
            rng.shuffle(unit.tests)
        result += classes
    return result
