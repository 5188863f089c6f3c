"""What a sweep counts and prints: one table row per collection (or kind), the total, every row or entry that
remains, and the exit statuses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_UNUSABLE", "Counts", "print_summary"]

#: Everything found is verified gone (or, in a dry run, listed).
EXIT_OK = 0
#: Something remains: a deletion not proven, an entry that cannot be replayed, a damaged journal kept.
EXIT_FAILED = 1
#: The sweep could not start or refused: bad settings, an unsafe prefix or host, a missing journal folder, a
#: journal of an unknown format version.
EXIT_UNUSABLE = 2


@dataclass
class Counts:
    """Per-collection tallies for the summary. ``deleted`` counts verified deletions only; ``failed`` counts the
    rows still there after the last listing, each with its reason in ``failures``."""

    found: int = 0
    deleted: int = 0
    skipped_live: int = 0
    young: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, other: Counts) -> None:
        for name in ("found", "deleted", "skipped_live", "young", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def print_summary(counts: Mapping[str, Counts], delete: bool, label: str,
                  apart: Mapping[str, Counts] | None = None) -> None:
    """Print the table: found, deleted (verified) or would-delete, skipped-live, young, failed; then the failures.

    :param label: the first column's title, ``collection`` or ``kind``.
    :param apart: rows printed after the total and not added to it: what they count may be counted above too
        (the marker search of a journal sweep finds rows that journal entries also name).
    """
    apart = apart or {}
    header = "deleted" if delete else "would-delete"
    width = max([len(label), len("total"), *(len(name) for name in (*counts, *apart))])
    print(f"{label.ljust(width)}  found  {header}  skipped-live  young  failed")
    total = Counts()
    for name, tally in counts.items():
        _row(name, tally, width, header, delete)
        total.add(tally)
    _row("total", total, width, header, delete)
    for name, tally in apart.items():
        _row(name, tally, width, header, delete)
    if apart:
        print(f"  {' and '.join(apart)}: not added to the total, since the entries above may name the same rows")
    for name, tally in (*counts.items(), *apart.items()):
        for failure in tally.failures:
            print(f"  failed: {name}: {failure}")


def _row(name: str, tally: Counts, width: int, header: str, delete: bool) -> None:
    shown = tally.deleted if delete else tally.found
    print(f"{name.ljust(width)}  {tally.found:5}  {shown:{len(header)}}  {tally.skipped_live:12}  {tally.young:5}  "
          f"{tally.failed:6}")
