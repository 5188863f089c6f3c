"""The lint precision corpus: test suites taken at run time from their PyPI source distributions.

Nothing of these projects is kept in this repository. Each project below is pinned by exact version and the
sha256 of its sdist; :func:`fetch` downloads the sdists that are not cached yet from PyPI, checks the sha256,
and extracts only the test files into the cache folder (``$TESTDATA_LINT_CORPUS``, else
``benchmarks/.lint_corpus_cache/``, which git ignores). A file ends up at ``<cache>/<name>-<version>/<path>``,
the same path it has inside the sdist, and that path is how ``lint_corpus/labels.csv`` names it.

Run ``python benchmarks/_lint_corpus.py`` to fetch (exit status 1 on a network error or a sha256 mismatch).
Stdlib only, so CI can run it before anything is installed.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import posixpath
import shutil
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CACHE = Path(__file__).resolve().parent / ".lint_corpus_cache"
# PyPI's simple index (PEP 691 JSON), as pip reads it; another index may be named for a mirror.
PYPI = os.environ.get("TESTDATA_PYPI_SIMPLE", "https://pypi.org/simple")
# Written last into a project's folder: a folder without it is a fetch that did not finish.
_DONE = ".complete"


@dataclass(frozen=True)
class Project:
    name: str
    version: str
    sha256: str
    include: tuple[str, ...]  # fnmatch patterns on the path inside the sdist, below its top folder
    kind: str
    licence: str

    @property
    def folder(self) -> str:
        return f"{self.name}-{self.version}"


PROJECTS = (
    Project("djangorestframework", "3.18.3", "446a9b352e7eff630421ab3f2328bd2401b109a9470afa4a31189994911ed030",
            ("tests/*.py",), "REST framework's own tests (Django TestCase, APIRequestFactory)", "BSD-3-Clause"),
    Project("httpx", "0.28.1", "75e98c5f16b0f35b567856f597f06ff2270a374470a5c2392242528e3e3e42fc",
            ("tests/*.py",), "HTTP client's tests (pytest, mock transports, a local server)", "BSD-3-Clause"),
    Project("requests", "2.34.2", "f288924cae4e29463698d6d60bc6a4da69c89185ad1e0bcc4104f584e960b9ed",
            ("tests/*.py",), "HTTP client's tests (pytest-httpbin, a socket test server)", "Apache-2.0"),
    Project("httpbin", "0.10.4", "6023a5a2e8fb8e91abdd6d34d1f1f455092f97d567c25600e1b48ee1178aa738",
            ("tests/*.py",), "HTTP echo service's tests (Flask test client)", "ISC"),
    Project("starlette", "1.10.0", "b8399098d4c1e3522734f7235dc79b1fc967f96cf139c81e0fa30479e0685f9b",
            ("tests/*.py",), "ASGI framework's tests (apps built in the test, TestClient)", "BSD-3-Clause"),
    Project("flask", "3.1.3", "0ef0e52b8a9cd932855379197dd8f94047b359ca0a78695144304cb45f87c9eb",
            ("tests/*.py",), "WSGI framework's tests (app fixtures, test client)", "BSD-3-Clause"),
    Project("fastapi", "0.165.0", "dd94d4128319c1e1d50535ab023ab698f850a4d2822f0e181747b46f4ff3c0ab",
            ("tests/*.py",), "web framework's tests (tutorial apps, in-memory SQLite, websockets)", "MIT"),
    Project("pretix", "2026.8.0", "97c46dab676f8c29461c81dce90c6fb7812b29fe9181f8d1288a32f36e11cc64",
            ("src/tests/api/*.py",), "Django ticketing application's REST API tests (pytest-django)",
            "AGPL-3.0 with additional terms"),
)


class CorpusError(Exception):
    """A download failed, or an sdist is not the pinned one."""


def cache_dir() -> Path:
    """Return the cache folder: ``$TESTDATA_LINT_CORPUS`` if set, else ``benchmarks/.lint_corpus_cache``."""
    configured = os.environ.get("TESTDATA_LINT_CORPUS")
    return Path(configured) if configured else DEFAULT_CACHE


def missing(cache: Path | None = None) -> list[Project]:
    """Return the projects whose test files are not (completely) in *cache*."""
    root = cache_dir() if cache is None else cache
    return [p for p in PROJECTS if not (root / p.folder / _DONE).is_file()]


def _get(url: str, accept: str = "*/*") -> tuple[bytes, str]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read(), response.geturl()


def _sdist_url(project: Project) -> str:
    body, where = _get(f"{PYPI}/{project.name}/", accept="application/vnd.pypi.simple.v1+json")
    for file in json.loads(body)["files"]:
        if file["hashes"].get("sha256") == project.sha256 and file["filename"].endswith(".tar.gz"):
            # A mirror may answer with URLs relative to the JSON document.
            return urllib.parse.urljoin(where, file["url"])
    raise CorpusError(f"PyPI lists no sdist of {project.folder} with sha256 {project.sha256}")


def _extract(project: Project, archive: Path, target: Path) -> int:
    count = 0
    with tarfile.open(archive) as tar:
        for member in tar:
            inner = member.name.partition("/")[2]  # below the sdist's top folder
            if not member.isfile() or not any(fnmatch.fnmatch(inner, p) for p in project.include):
                continue
            clean = posixpath.normpath(inner)
            if clean.startswith(("../", "/")) or clean == "..":
                raise CorpusError(f"{project.folder}: unsafe path {member.name!r} in the sdist")
            source = tar.extractfile(member)
            if source is None:
                continue
            destination = target / clean
            destination.parent.mkdir(parents=True, exist_ok=True)
            with source, destination.open("wb") as out:
                shutil.copyfileobj(source, out)
            count += 1
    if not count:
        raise CorpusError(f"{project.folder}: no file of the sdist matches {', '.join(project.include)}")
    return count


def fetch(cache: Path | None = None, log: Callable[[str], object] = print) -> Path:
    """Download and extract every project not yet in *cache*; return the cache folder.

    Raises :class:`CorpusError` on a network error or when an sdist's sha256 is not the pinned one.
    """
    root = cache_dir() if cache is None else cache
    for project in missing(root):
        try:
            data, _ = _get(_sdist_url(project))
        except OSError as error:  # URLError is an OSError
            raise CorpusError(f"cannot download {project.folder} from PyPI: {error}") from error
        digest = hashlib.sha256(data).hexdigest()
        if digest != project.sha256:
            raise CorpusError(f"{project.folder}: sdist sha256 is {digest}, pinned {project.sha256}")
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=root) as scratch:
            archive = Path(scratch) / "sdist.tar.gz"
            archive.write_bytes(data)
            staged = Path(scratch) / project.folder
            count = _extract(project, archive, staged)
            (staged / _DONE).write_text(f"{project.sha256}\n", encoding="utf-8")
            shutil.rmtree(root / project.folder, ignore_errors=True)
            staged.rename(root / project.folder)
        log(f"fetched {project.folder}: {count} test files")
    return root


def main() -> int:
    try:
        root = fetch()
    except CorpusError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"lint corpus ready in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
