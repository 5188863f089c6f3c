"""``python -m testdata_kit factories MODULE...``: build every declared factory and trait, and report failures."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from testdata_kit.factories import lint, registered

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m testdata_kit factories",
        description=(
            "Import the given modules, build every DataFactory they declare and each of its traits, and report "
            "the builds that fail, like FactoryBot.lint. Only build() runs, so nothing is created and no API is "
            "needed; fake values need the 'fake' extra."
        ),
    )
    parser.add_argument(
        "modules", nargs="+", metavar="MODULE", help="dotted module names, as python -m unittest takes them"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the factory lint and return 0 (all built), 1 (a build failed) or 2 (a module cannot be checked).

    :param argv: the arguments after ``factories``; ``None`` reads ``sys.argv[1:]``.
    """
    args = _parser().parse_args(argv)
    # As under ``python -m``: modules of the project in the current directory are importable by name.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    for name in args.modules:
        try:
            importlib.import_module(name)
        except ImportError as error:
            print(
                f"python -m testdata_kit factories: cannot import {name!r}: {error}. Give a dotted module name "
                f"importable from here, such as tests.factories.",
                file=sys.stderr,
            )
            return 2
        except Exception as error:  # the module itself fails: that is the user's code, not a lint finding
            where = traceback.extract_tb(error.__traceback__)[-1]
            print(
                f"python -m testdata_kit factories: importing {name!r} raised {type(error).__name__}: {error} "
                f"(at {where.filename}:{where.lineno}). Fix the module so that it imports, then run again.",
                file=sys.stderr,
            )
            return 2
    chosen = tuple(args.modules)
    factories = [f for f in registered() if f.__module__ in chosen or f.__module__.startswith(
        tuple(f"{name}." for name in chosen))]
    if not factories:
        print(
            f"python -m testdata_kit factories: no DataFactory is declared in {', '.join(chosen)}. Name the "
            f"modules that define your factories (abstract ones are skipped).",
            file=sys.stderr,
        )
        return 2
    failures = lint(factories)
    for failure in failures:
        print(f"FAILED {failure.factory.__module__}.{failure}")
    builds = sum(1 + len(factory._traits) for factory in factories)
    counted = f"{len(factories)} {'factory' if len(factories) == 1 else 'factories'}"
    print(f"{counted}, {builds} builds: {builds - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0
