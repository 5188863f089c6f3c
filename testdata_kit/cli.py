"""Command line: ``python -m testdata_kit COMMAND``, one subcommand per tool, each in its own module."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from testdata_kit.errors import TestDataError

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

#: Commands that run a test suite, and so read the settings of a run (TESTDATA_KEEP, TESTDATA_JOURNAL...).
_RUNS_SUITES = ("run", "check", "demo")

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


def _join_negative_values(args: list[str]) -> list[str]:
    """Write ``--ttl -5s`` as ``--ttl=-5s``, so that the option's own check refuses the value by name.

    argparse takes a word starting with ``-`` for an option unless it is a plain number, and would answer
    "expected one argument". No option name starts with a digit, so such a word is always a value.
    """
    joined: list[str] = []
    for word in args:
        if (joined and joined[-1].startswith("--") and "=" not in joined[-1] and len(word) > 1
                and word[0] == "-" and (word[1].isdigit() or word[1] == ".")):
            joined[-1] = f"{joined[-1]}={word}"
        else:
            joined.append(word)
    return joined


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
    name, rest = args[0], _join_negative_values(args[1:])
    if name not in COMMANDS:
        print(
            f"python -m testdata_kit: unknown command {name!r}. Choose one of: {', '.join(COMMANDS)}.",
            file=sys.stderr,
        )
        return 2
    if name in _RUNS_SUITES:
        # An unusable setting would fail every worker's first test alike: say it once, before any starts.
        from testdata_kit import _settings

        try:
            _settings.check_start()
        except TestDataError as error:
            print(f"python -m testdata_kit {name}: error: {error}", file=sys.stderr)
            return 2
    module = importlib.import_module(COMMANDS[name][0])
    try:
        return int(module.main(rest))
    except TestDataError as error:
        # A command that let one through still ends with the message, not a traceback: 2 for a value that
        # cannot be used, 1 for what the outside world refused.
        print(f"python -m testdata_kit {name}: error: {error}", file=sys.stderr)
        return 2 if isinstance(error, ValueError) else 1
    except SystemExit as exit_:
        # Some commands let argparse's exit out (--help, a usage error); main() returns a status either way.
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
