"""Lint for test-data mistakes: the file runner, ``python -m testdata_kit lint`` and the flake8 plugin.

The rules themselves live in :mod:`testdata_kit.lint._rules`; this module decides which files to read,
which codes to report (``lint-select``/``lint-ignore`` in ``[testdata_kit]``, ``# noqa`` comments) and how
to print them, in flake8's ``path:line:col: CODE message`` form.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import importlib.util
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from testdata_kit import __version__
from testdata_kit.config import Config, ConfigError, load
from testdata_kit.lint._rules import RULES, Finding, check_tree

__all__ = [
    "DEFAULT_EXCLUDE",
    "LINT_KEYS",
    "PARSE_ERROR",
    "RULES",
    "Finding",
    "Flake8Plugin",
    "lint_paths",
    "lint_source",
    "main",
]

#: The keys of ``[testdata_kit]`` this tool owns.
LINT_KEYS = frozenset({"lint-select", "lint-ignore", "lint-exclude"})
#: Directory and file patterns never linted unless ``lint-exclude`` replaces them.
DEFAULT_EXCLUDE = (".git", "__pycache__", ".tox", ".nox", ".venv", "venv", "build", "dist", "*.egg-info", ".eggs")
#: Reported for a file that cannot be read, decoded, parsed or checked; not a rule, so not in RULES.
PARSE_ERROR = "TDK000"
#: Starts the reason of a TDK000 finding when the lint itself failed on a file; the run then exits 2.
INTERNAL_ERROR = "internal error in the lint (please report it):"

# Same shape as flake8's: a bare noqa comment silences every code on the line, one with codes only those.
_NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)


class Flake8Plugin:
    """The rules as a flake8 plugin: ``flake8 --select TDK`` reports the same findings as the CLI.

    flake8 applies its own ``--select``/``--ignore`` and ``# noqa``; the ``lint-*`` keys of
    ``[testdata_kit]`` are read only by ``python -m testdata_kit lint``.

    :param tree: the module's AST, handed over by flake8.
    """

    name = "testdata_kit"
    version = __version__

    def __init__(self, tree: ast.AST) -> None:
        self._tree = tree

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        """Yield ``(line, col, "TDKnnn message", type)`` for every finding, as flake8 expects."""
        try:
            found = check_tree(self._tree)
        except RecursionError:
            found = [_unreadable("an expression is nested too deeply to check (RecursionError); split it up")]
        except Exception as error:
            found = [_internal(error)]
        for finding in found:
            yield finding.line, finding.col, finding.message, type(self)


def _silenced(finding: Finding, lines: Sequence[str]) -> bool:
    if not 0 < finding.line <= len(lines):
        return False
    match = _NOQA.search(lines[finding.line - 1])
    if match is None:
        return False
    codes = match.group("codes")
    return codes is None or finding.code in {c.upper() for c in re.split(r"[,\s]+", codes) if c}


def _selected(code: str, select: Iterable[str], ignore: Iterable[str]) -> bool:
    return any(code.startswith(s) for s in select) and not any(code.startswith(i) for i in ignore)


def _unreadable(reason: str, line: int = 1, col: int = 0) -> Finding:
    return Finding(line, col, PARSE_ERROR, f"{PARSE_ERROR} {reason}, so nothing in it was checked")


def _internal(error: BaseException) -> Finding:
    return _unreadable(f"{INTERNAL_ERROR} {type(error).__name__}: {error}")


def lint_source(
    source: str, *, select: Iterable[str] = ("TDK",), ignore: Iterable[str] = (), filename: str = "<string>"
) -> list[Finding]:
    """Return the findings for one module's source text, after ``# noqa`` and code selection.

    A module that cannot be parsed or checked gives one ``TDK000`` finding with the reason instead; it is
    reported whatever *select* says, unless *ignore* names it.

    :param source: the Python source.
    :param select: code prefixes to report (``"TDK"`` is all of them).
    :param ignore: code prefixes to drop, applied after *select*.
    :param filename: used only in syntax error messages.
    """
    select, ignore = tuple(select), tuple(ignore)
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as error:
        finding = _unreadable(
            f"cannot parse the file: {error.msg}", error.lineno or 1, max((error.offset or 1) - 1, 0)
        )
        return _keep_unreadable([finding], ignore)
    except (RecursionError, MemoryError, ValueError) as error:
        return _keep_unreadable([_unreadable(f"cannot parse the file: {type(error).__name__}: {error}")], ignore)
    try:
        found = check_tree(tree)
    except RecursionError:
        reason = "an expression is nested too deeply to check (RecursionError); split it up"
        return _keep_unreadable([_unreadable(reason)], ignore)
    except Exception as error:
        return _keep_unreadable([_internal(error)], ignore)
    lines = source.splitlines()
    return [f for f in found if _selected(f.code, select, ignore) and not _silenced(f, lines)]


def _keep_unreadable(findings: list[Finding], ignore: Sequence[str]) -> list[Finding]:
    # A file that was not checked is reported even under --select TDK003: silence would read as "clean".
    return [f for f in findings if not any(f.code.startswith(i) for i in ignore)]


def _read(path: Path) -> str | Finding:
    """Return the decoded source of *path*, or a TDK000 finding saying why it cannot be read."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        reason = "is a broken symbolic link" if path.is_symlink() else "disappeared while linting"
        return _unreadable(f"cannot read the file: it {reason}")
    except OSError as error:
        return _unreadable(f"cannot read the file: {error.strerror or error}")
    try:
        return importlib.util.decode_source(data)
    except (UnicodeDecodeError, SyntaxError, LookupError):
        # The decoder's own wording differs between Python versions; this one names the fix.
        return _unreadable("cannot decode the file: it is not UTF-8 and has no valid coding cookie")


def _excluded(path: Path, patterns: Sequence[str]) -> bool:
    text = path.as_posix()
    return any(fnmatch.fnmatch(text, p) or fnmatch.fnmatch(path.name, p) for p in patterns)


def _discover(paths: Iterable[Path], exclude: Sequence[str]) -> Iterator[tuple[Path, OSError | None]]:
    """Yield each file to lint, or a directory that could not be listed with its error."""
    for path in paths:
        if _excluded(path, exclude):
            continue
        if path.is_dir():
            errors: list[OSError] = []
            for root, dirs, files in os.walk(path, onerror=errors.append):
                dirs[:] = sorted(d for d in dirs if not _excluded(Path(root, d), exclude))
                yield from ((Path(e.filename or root), e) for e in errors)
                errors.clear()
                yield from (
                    (Path(root, f), None)
                    for f in sorted(files) if f.endswith(".py") and not _excluded(Path(root, f), exclude)
                )
            yield from ((Path(e.filename or path), e) for e in errors)
        else:
            yield path, None


def lint_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    select: Iterable[str] = ("TDK",),
    ignore: Iterable[str] = (),
    exclude: Sequence[str] = DEFAULT_EXCLUDE,
) -> list[tuple[Path, Finding]]:
    """Lint files and directories (``*.py`` below them) and return ``(path, finding)`` pairs in order.

    A file that cannot be read, decoded, parsed or checked gives one ``TDK000`` finding with the reason, and
    the other files are linted as usual.

    :param paths: files or directories; a missing one raises FileNotFoundError.
    :param select: code prefixes to report.
    :param ignore: code prefixes to drop.
    :param exclude: fnmatch patterns matched against each path and its name.
    """
    roots = [Path(p) for p in paths]
    for root in roots:
        if not root.exists() and not root.is_symlink():
            raise FileNotFoundError(f"path {str(root)!r} does not exist")
    select, ignore = tuple(select), tuple(ignore)
    results: list[tuple[Path, Finding]] = []
    for path, error in _discover(roots, exclude):
        if error is not None:
            unlisted = _unreadable(f"cannot list the directory: {error.strerror or error}").message
            finding = Finding(1, 0, PARSE_ERROR, unlisted.replace("nothing in it was checked", "no file in it was"))
            results.extend((path, f) for f in _keep_unreadable([finding], ignore))
            continue
        source = _read(path)
        if isinstance(source, Finding):
            results.extend((path, f) for f in _keep_unreadable([source], ignore))
            continue
        results.extend((path, f) for f in lint_source(source, select=select, ignore=ignore, filename=str(path)))
    return results


def _codes(config: Config, key: str, override: str | None, default: Sequence[str]) -> list[str]:
    items = [c.strip().upper() for c in override.split(",") if c.strip()] if override is not None else None
    if items is None:
        items = [c.upper() for c in config.get_list(key, default)]
    known = [*RULES, PARSE_ERROR]
    for item in items:
        if not any(code.startswith(item) for code in known):
            where = f"--{key.removeprefix('lint-')}" if override is not None else key
            raise ConfigError(
                config.path if override is None else None, None, item,
                f"{where}: unknown code {item!r}; valid codes (or prefixes of them): {', '.join(known)}",
            )
    return items


def _parser() -> argparse.ArgumentParser:
    rules = "\n".join(f"  {code}  {summary}" for code, summary in RULES.items())
    parser = argparse.ArgumentParser(
        prog="python -m testdata_kit lint",
        description="Find test-data mistakes that make API suites flaky: hard-coded ids, shared emails, "
        "real personal data, missing cleanup and first-record assertions.",
        epilog=f"rules:\n{rules}\n  TDK000  file not checked: unreadable, not UTF-8, syntax error, too deep\n\n"
        f"Silence one line with '# noqa: TDK001'. Exit status: 0 clean, 1 findings (TDK000 included), "
        f"2 usage error or internal error. Defaults come from the [testdata_kit] section of setup.cfg (lint-select, "
        f"lint-ignore, lint-exclude).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="*", default=["."], help="files or directories to check (default: .)")
    parser.add_argument("--select", help="comma-separated codes or prefixes to report, e.g. TDK001,TDK003")
    parser.add_argument("--ignore", help="comma-separated codes or prefixes to skip")
    parser.add_argument("--exclude", help="comma-separated fnmatch patterns of paths to skip")
    parser.add_argument("--config", help="ini file with a [testdata_kit] section (default: setup.cfg, tox.ini)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m testdata_kit lint`` and return its exit status.

    0: nothing reported; 1: findings (including ``TDK000`` for files that could not be read or parsed);
    2: a usage error (unknown option, missing path, bad ``[testdata_kit]`` key) or an internal error of the
    lint on some file (reported as ``TDK000`` with the exception, after all other findings).

    :param argv: the arguments after ``lint``; ``None`` reads ``sys.argv[1:]``.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        config = load(args.config)
        config.check_keys(LINT_KEYS, prefix="lint-")
        select = _codes(config, "lint-select", args.select, ["TDK"])
        ignore = _codes(config, "lint-ignore", args.ignore, [])
        if args.exclude is not None:
            exclude = [p.strip() for p in args.exclude.split(",") if p.strip()]
        else:
            exclude = config.get_list("lint-exclude", DEFAULT_EXCLUDE)
        results = lint_paths(args.paths, select=select, ignore=ignore, exclude=exclude)
    except (ConfigError, FileNotFoundError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        print(f"{parser.prog}: {INTERNAL_ERROR} {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    for path, finding in results:
        print(f"{path}:{finding.line}:{finding.col + 1}: {finding.message}")
    if any(INTERNAL_ERROR in finding.message for _, finding in results):
        return 2
    return 1 if results else 0
