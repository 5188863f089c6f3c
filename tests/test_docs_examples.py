"""Every Python example of the docs, run as written: each page's blocks, in order, as one module.

A page's blocks are what a reader copies one after the other, so they run together, against the demo API in a
process of their own (``SHOP_API_URL`` names it), after the page's prelude: the imports and kinds the page says
come from elsewhere. The TestCase classes a page defines are then run, and must pass and leak nothing. A few
pages only show fragments (lint's before and after) or need a server of their own; those are compiled, and
:data:`COMPILE_ONLY` says why.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys
import tempfile
import textwrap
import unittest

from testdata_kit import demo

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BLOCK = re.compile(r"^\.\. code-block:: python\n((?:[ \t]*\n|[ \t]+.*\n)+)", re.M)

#: What a page's examples use without defining: the suite's client, and the kinds it declares elsewhere.
CLIENT = '''
import os
import unittest

from testdata_kit import DataTestCase, create, creates, unique, uses
from testdata_kit.http import ApiClient

api = ApiClient(os.environ["SHOP_API_URL"])
unittest.addModuleCleanup(api.close)
'''
KINDS = CLIENT + '''

@creates("user")
def user(name="Test User"):
    yield {"name": name}


@creates("product")
def product(price=10):
    yield {"price": price}


@creates("tenant")
def tenant():
    yield {"id": unique.token()}


@creates("currency")
def currency(code="EUR"):
    yield {"code": code}
'''
#: A store that refuses to delete a profile while a user points at it, as the scenario how-to describes.
REFUSING_STORE = '''
import unittest

from testdata_kit import DataTestCase, RetryLater, creates, unique

rows = {}


def _delete_user(row):
    del rows[row["id"]]


def _delete_profile(row):
    if any(other.get("profile_id") == row["id"] for other in rows.values()):
        raise RetryLater(f"profile {row['id']} is still referenced")
    del rows[row["id"]]


@creates("user", delete=_delete_user)
def user():
    key = unique.token()
    rows[key] = {"id": key, "profile_id": None}
    return rows[key]


@creates("profile", delete=_delete_profile)
def profile():
    key = unique.token()
    rows[key] = {"id": key}
    return rows[key]
'''
#: The user's own store and error, which the scopes page's ``refused=`` example names.
REFUSED = '''

class StillReferenced(Exception):
    status = 409


class Store:
    def delete_profile(self, profile):
        pass


store = Store()
'''
PRELUDES = {
    "howto/collections.rst": CLIENT,
    "howto/tenants.rst": CLIENT,
    "howto/scopes.rst": KINDS + REFUSED,
    "howto/scenarios.rst": REFUSING_STORE,
    "howto/factories.rst": KINDS.replace('@creates("product")', '@creates("company")\ndef company(**payload):\n'
                                         '    yield payload\n\n\n@creates("product")').replace(
        'def user(name="Test User"):\n    yield {"name": name}', "def user(**payload):\n    yield payload"),
}
#: What a page's text says to do with its examples, run after them.
POSTLUDES = {
    "howto/factories.rst": '''
class FactoriesAsDescribed(DataTestCase):
    def test_build_and_create(self):
        built = UserFactory.build(name="Ada", admin=True)
        assert built["role"] == "admin" and built["label"] == "Ada (admin)", built
        assert len(UserFactory.build_batch(10)) == 10
        made = UserFactory.create(company__name="ACME")
        assert made["company"]["name"] == "ACME", made
''',
    "howto/scenarios.rst": '''
unittest.addModuleCleanup(lambda: print("rows left:", len(rows)))
''',
    "howto/recovering.rst": '''
from testdata_kit import DataTestCase


class RecoverableKinds(DataTestCase):
    def test_both_kinds(self):
        user()
        product(5)
''',
}
COMPILE_ONLY = {
    "howto/lint.rst": "before and after fragments of test methods, as the linter reports them",
    "howto/openapi.rst": "it shows options for a document with 'note' and 'key' kinds, which the demo API has not; "
                          "tests/test_openapi_live.py runs from_openapi against the demo's own document",
    "howto/postgres.rst": "it restores a PostgreSQL database of its own; tests/test_db_postgres.py runs these calls",
    "howto/many-runners.rst": "it reads a journal store on a PostgreSQL server of its own; "
                              "tests/test_journal_postgres.py runs these calls",
}


def pages() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(DOCS.rglob("*.rst")):
        blocks = [textwrap.dedent(m.group(1)).strip("\n") + "\n" for m in BLOCK.finditer(path.read_text())]
        if blocks:
            found[path.relative_to(DOCS).as_posix()] = blocks
    return found


#: Python 3.12+ ``python -m unittest`` exits with 5 when a module defines no test, as plain code examples do.
NO_TESTS_RAN = 5

class DocsExamples(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.server = demo.running().start()
        cls.addClassCleanup(cls.server.stop)

    def test_every_page_with_examples_is_run_or_says_why_not(self) -> None:
        found = pages()
        self.assertGreater(len(found), 5)
        self.assertEqual(sorted(set(COMPILE_ONLY) - set(found)), [], "COMPILE_ONLY names a page without examples")

    def test_every_example_compiles(self) -> None:
        for page, blocks in pages().items():
            for number, code in enumerate(blocks, 1):
                with self.subTest(page=page, block=number):
                    compile(code, f"{page} block {number}", "exec")

    def test_every_example_runs_against_the_demo_api(self) -> None:
        for page, blocks in pages().items():
            if page in COMPILE_ONLY:
                continue
            with self.subTest(page=page):
                source = "\n\n".join([PRELUDES.get(page, ""), *blocks, POSTLUDES.get(page, "")])
                code, out = self.run_module(source)
                self.assertEqual(code, 0, f"{page}:\n{source}\n----\n{out}")
                self.assertNotIn("leaked", out.replace("leaked 0", ""), f"{page}:\n{out}")
                self.assertNotRegex(out, r"rows left: [1-9]", f"{page}: the store kept rows")
                if "DataTestCase):" in source:
                    self.assertNotIn("Ran 0 tests", out, f"{page}: its tests were not found")

    def run_module(self, source: str) -> tuple[int, str]:
        with tempfile.TemporaryDirectory() as folder:
            pathlib.Path(folder, "doc_example.py").write_text(source, encoding="utf-8")
            environ = {k: v for k, v in os.environ.items() if not k.startswith("TESTDATA_")}
            environ.update(SHOP_API_URL=self.server.url, PYTHONPATH=folder)
            done = subprocess.run(
                [sys.executable, "-m", "unittest", "-v", "doc_example"], cwd=folder, env=environ, text=True,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120, check=False,
            )
        if done.returncode == NO_TESTS_RAN and "TestCase)" not in source:
            return 0, done.stdout  # a page of plain code: it ran as the module's import
        return done.returncode, done.stdout


class ShopKindsReplayable(unittest.TestCase):
    """The HTTP how-to's ``recover=`` functions delete a row from a process where no test connected."""

    def test_delete_user_in_a_fresh_process(self) -> None:
        from testdata_kit.http import ApiClient

        with demo.running() as server, ApiClient(server.url) as api:
            row = api.post_json("/users", {"email": "ann@example.com", "name": "Ann"})
            code = f"from testdata_kit.demo.examples import shop; shop.delete_user({row['id']!r})"
            environ = {**os.environ, "SHOP_API_URL": server.url}
            done = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True,
                                  timeout=60, check=False)
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertEqual(api.get(f"/users/{row['id']}").status_code, 404)
