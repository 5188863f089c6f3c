"""Command line: ``python -m testdata_kit COMMAND``, one subcommand per tool, each in its own module."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

__all__ = ["COMMANDS", "main"]

#: name -> (module whose ``main(argv) -> int`` runs it, one-line help). Modules load only when used, so
#: ``--help`` stays fast and a missing optional dependency only affects its own command.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("testdata_kit.demo.job", "run the example suite twice against a fresh demo API and report leaks"),
    "serve-demo": ("testdata_kit.demo.server", "run the demo shop API until interrupted"),
    "lint": ("testdata_kit.lint", "find test-data mistakes: hard-coded ids, shared emails, real personal data"),
    "factories": ("testdata_kit.factory_check", "build every declared factory and trait, and report those that fail"),
    "run": ("testdata_kit.run.runner", "run a unittest suite in parallel worker processes, or one CI shard of it"),
    "check": ("testdata_kit.run.check", "run a suite once, again, shuffled, beside itself and split; report coupling"),
    "sweep": ("testdata_kit.sweep", "delete leftover test data: journals of dead runs, or stale marked rows"),
    "openapi": ("testdata_kit.openapi.command", "print the kinds of test data an OpenAPI/Swagger document describes"),
    "reset": ("testdata_kit.db.reset", "restore a test database to a named snapshot (dry run without --yes)"),
}

_USAGE = """usage: python -m testdata_kit COMMAND [ARGS...]

Test data tools for unittest suites.

commands:
{commands}

Run 'python -m testdata_kit COMMAND --help' for the options of one command.
"""


def _usage() -> str:
    width = max((len(name) for name in COMMANDS), default=0)
    lines = [f"  {name.ljust(width)}  {text}" for name, (_, text) in COMMANDS.items()]
    return _USAGE.format(commands="\n".join(lines) or "  (none)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand and return its exit code (2 for a usage error, as argparse does)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage(), end="")
        return 0 if args else 2
    if args[0] == "--version":
        from testdata_kit import __version__

        print(f"testdata_kit {__version__}")
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(
            f"python -m testdata_kit: unknown command {name!r}. Choose one of: {', '.join(COMMANDS)}.",
            file=sys.stderr,
        )
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    try:
        return int(module.main(rest))
    except SystemExit as exit_:
        # Some commands let argparse's exit out (--help, a usage error); main() returns a status either way.
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
