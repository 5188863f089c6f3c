"""The lint on real public test suites: every finding judged by hand, at least 90% right per rule.

The suites come from pinned PyPI sdists, fetched into a cache outside git by ``python benchmarks/_lint_corpus.py``
(CI does it before the tests). Without the cache these tests skip, except under CI, where they fail.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types
import unittest
from pathlib import Path

_BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str) -> types.ModuleType:
    path = _BENCHMARKS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is built.
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


_CORPUS = _load("_lint_corpus")
_MISSING = [project.folder for project in _CORPUS.missing()]
if _MISSING and os.environ.get("CI"):
    raise RuntimeError(
        f"CI is set but the lint corpus is not fetched ({', '.join(_MISSING)} missing from "
        f"{_CORPUS.cache_dir()}): run `python benchmarks/_lint_corpus.py` before the tests."
    )


@unittest.skipIf(bool(_MISSING), f"lint corpus not fetched ({len(_MISSING)} projects missing); "
                 "run `python benchmarks/_lint_corpus.py` (downloads pinned sdists from PyPI)")
class CorpusPrecisionTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.bench = _load("bench_lint_precision")
        cls.report = cls.bench.run()

    def test_corpus_is_five_or_more_projects_from_outside_git(self) -> None:
        projects = {path.split("/", 1)[0] for path in {key.file for key in self.report.labels}}
        self.assertGreaterEqual(len(_CORPUS.PROJECTS), 5)
        self.assertLessEqual(projects, {p.folder for p in _CORPUS.PROJECTS}, "labels name an unpinned project")
        self.assertGreater(self.report.lines, 40_000)

    def test_every_finding_is_judged(self) -> None:
        self.assertEqual(self.report.unlabelled(), [])

    def test_judged_real_findings_are_still_reported(self) -> None:
        self.assertEqual(self.report.lost(), [])

    def test_precision_per_rule_meets_the_goal(self) -> None:
        self.assertEqual(self.report.below_goal(), [])


class CorpusFetcherTests(unittest.TestCase):
    """The fetcher's checks that need no network: it never trusts an archive's paths or an unpinned file."""

    def test_extraction_keeps_only_matching_test_files_and_refuses_escaping_paths(self) -> None:
        import io
        import tarfile
        import tempfile

        project = _CORPUS.Project("demo", "1.0", "0" * 64, ("tests/*.py",), "kind", "MIT")
        with tempfile.TemporaryDirectory() as tmp:
            archive = Path(tmp) / "demo.tar.gz"

            def build(names: list[str]) -> None:
                with tarfile.open(archive, "w:gz") as tar:
                    for name in names:
                        info = tarfile.TarInfo(name)
                        info.size = 2
                        tar.addfile(info, io.BytesIO(b"x\n"))

            build(["demo-1.0/tests/test_a.py", "demo-1.0/tests/sub/test_b.py", "demo-1.0/demo/core.py"])
            self.assertEqual(_CORPUS._extract(project, archive, Path(tmp) / "out"), 2)
            self.assertFalse((Path(tmp) / "out" / "demo" / "core.py").exists())
            build(["demo-1.0/tests/../../escape.py"])
            with self.assertRaisesRegex(_CORPUS.CorpusError, "unsafe path"):
                _CORPUS._extract(project, archive, Path(tmp) / "out2")

    def test_cache_folder_is_outside_git_or_configured(self) -> None:
        ignored = (_BENCHMARKS.parent / ".gitignore").read_text(encoding="utf-8")
        self.assertIn("/benchmarks/.lint_corpus_cache/", ignored.splitlines())
        self.assertEqual(_CORPUS.DEFAULT_CACHE, _BENCHMARKS / ".lint_corpus_cache")


if __name__ == "__main__":
    unittest.main()
