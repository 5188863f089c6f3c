"""The lint on real public test suites: every finding judged by hand, at least 90% right per rule."""

from __future__ import annotations

import importlib.util
import sys
import types
import unittest
from pathlib import Path

_SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_lint_precision.py"


def _load() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("bench_lint_precision", _SCRIPT)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {_SCRIPT}")
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is built.
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


class CorpusPrecisionTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.bench = _load()
        cls.report = cls.bench.run()

    def test_corpus_is_five_or_more_projects_and_not_discoverable(self) -> None:
        corpus = self.bench.CORPUS
        projects = [p for p in corpus.iterdir() if p.is_dir()]
        self.assertGreaterEqual(len(projects), 5)
        for project in projects:
            self.assertTrue((project / "LICENSE").is_file(), project.name)
        self.assertEqual(list(corpus.rglob("*.py")), [], "corpus files must stay *.py.txt so no tool runs them")
        self.assertGreater(self.report.lines, 40_000)

    def test_every_finding_is_judged(self) -> None:
        self.assertEqual(self.report.unlabelled(), [])

    def test_judged_real_findings_are_still_reported(self) -> None:
        self.assertEqual(self.report.lost(), [])

    def test_precision_per_rule_meets_the_goal(self) -> None:
        self.assertEqual(self.report.below_goal(), [])


if __name__ == "__main__":
    unittest.main()
