"""Benchmark: how often the lint is right when it speaks, on real public test suites.

Run: ``python benchmarks/bench_lint_precision.py``. The corpus is the test files of eight public projects, taken
from their PyPI sdists pinned by version and sha256 (``benchmarks/_lint_corpus.py``, listed in
``benchmarks/lint_corpus/SOURCES.md``); the script downloads what is not cached yet. Nothing of them is kept in
this repository, only the hand-judged labels in ``benchmarks/lint_corpus/labels.csv``. The script lints
each file as the CLI would, matches every finding against the hand-judged rows of ``labels.csv`` and prints,
per rule: the findings, the findings per 1,000 lines, how many were judged and the precision (real / judged).
It then counts the judged findings it no longer reports (``labels.csv`` also holds a sample of an earlier
version's findings), and lists findings nobody has judged yet (label them) and judged-real findings the lint
no longer reports (a lost true positive). Exit status 1 when either list is not empty or a rule is below 90%.

This measures precision, not speed; there is no timing here.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from testdata_kit.lint import PARSE_ERROR, RULES, lint_source

# _lint_corpus is a sibling module of this script, not an installed one.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _lint_corpus

LABELS = Path(__file__).resolve().parent / "lint_corpus" / "labels.csv"
GOAL = 0.90


@dataclass(frozen=True)
class Key:
    file: str
    line: int
    rule: str


@dataclass
class Report:
    """What one run over the corpus found, and how it compares with the labels."""

    lines: int
    files: int
    findings: list[tuple[Key, str]]
    labels: dict[Key, tuple[str, str]]

    def by_rule(self) -> dict[str, tuple[int, int, int]]:
        """Return rule -> (findings, judged, judged real)."""
        found = Counter(key.rule for key, _ in self.findings)
        judged: Counter[str] = Counter()
        real: Counter[str] = Counter()
        for key, _ in self.findings:
            if key in self.labels:
                judged[key.rule] += 1
                real[key.rule] += self.labels[key][0] == "real"
        return {rule: (found[rule], judged[rule], real[rule]) for rule in [PARSE_ERROR, *RULES]}

    def unlabelled(self) -> list[tuple[Key, str]]:
        return [(key, message) for key, message in self.findings if key not in self.labels]

    def lost(self) -> list[Key]:
        reported = {key for key, _ in self.findings}
        return [key for key, (verdict, _) in self.labels.items() if verdict == "real" and key not in reported]

    def below_goal(self) -> list[str]:
        return [rule for rule, (_, judged, real) in self.by_rule().items() if judged and real / judged < GOAL]


def load_labels(path: Path = LABELS) -> dict[Key, tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    labels = {}
    for row in rows:
        if row["verdict"] not in ("real", "false"):
            raise ValueError(f"{path}: verdict {row['verdict']!r} for {row['file']}:{row['line']}; use real or false")
        labels[Key(row["file"], int(row["line"]), row["rule"])] = (row["verdict"], row["reason"])
    return labels


def run(corpus: Path | None = None, labels: Path = LABELS) -> Report:
    """Lint every pinned project's ``*.py`` in *corpus* (default: the cache) and return the report."""
    root = _lint_corpus.cache_dir() if corpus is None else corpus
    findings: list[tuple[Key, str]] = []
    lines = files = 0
    paths = sorted(path for p in _lint_corpus.PROJECTS for path in (root / p.folder).rglob("*.py"))
    for path in paths:
        source = path.read_text(encoding="utf-8")
        name = path.relative_to(root).as_posix()
        files += 1
        lines += source.count("\n")
        findings += [(Key(name, f.line, f.code), f.message) for f in lint_source(source, filename=name)]
    return Report(lines, files, findings, load_labels(labels))


def main() -> int:
    try:
        _lint_corpus.fetch()
    except _lint_corpus.CorpusError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report = run()
    print(f"corpus: {report.files} files, {report.lines:,} lines, {len(report.findings)} findings")
    print(f"{'rule':<8} {'findings':>8} {'per 1k lines':>12} {'judged':>7} {'real':>5} {'precision':>9}")
    for rule, (found, judged, real) in report.by_rule().items():
        precision = f"{real / judged:.0%}" if judged else "n/a"
        print(f"{rule:<8} {found:>8} {found * 1000 / report.lines:>12.2f} {judged:>7} {real:>5} {precision:>9}")
    reported = {key for key, _ in report.findings}
    silent = [verdict for key, (verdict, _) in report.labels.items() if key not in reported]
    print(f"judged findings no longer reported: {silent.count('false')} judged false, "
          f"{silent.count('real')} judged real")
    unlabelled, lost, below = report.unlabelled(), report.lost(), report.below_goal()
    for key, message in unlabelled:
        print(f"NOT LABELLED {key.file}:{key.line}: {message}")
    for key in lost:
        print(f"LOST (judged real, no longer reported) {key.file}:{key.line}: {key.rule}")
    for rule in below:
        print(f"BELOW {GOAL:.0%}: {rule}")
    return 1 if unlabelled or lost or below else 0


if __name__ == "__main__":
    sys.exit(main())
