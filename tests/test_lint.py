"""Tests for testdata_kit.lint: each rule's true positives and near-misses, noqa, config, CLI and flake8."""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

from testdata_kit import cli
from testdata_kit.lint import Flake8Plugin, lint_source, main


def codes(source: str, code: str | None = None) -> list[tuple[int, str]]:
    """Return (line, code) of every finding in *source*, optionally only those of *code*."""
    found = [(f.line, f.code) for f in lint_source(textwrap.dedent(source))]
    return [item for item in found if code is None or item[1] == code]


class RuleTestCase(unittest.TestCase):
    code = ""

    def assertFlagged(self, source: str, lines: list[int] | None = None) -> None:
        found = [line for line, _ in codes(source, self.code)]
        if lines is None:
            self.assertTrue(found, f"{self.code} expected in:\n{source}")
        else:
            self.assertEqual(found, lines)

    def assertClean(self, source: str) -> None:
        self.assertEqual(codes(source, self.code), [], f"{self.code} must not flag:\n{source}")


class HardCodedIdTests(RuleTestCase):
    code = "TDK001"

    def test_literal_ids_in_paths(self) -> None:
        for url in ('"/users/42"', 'f"{base}/users/42"', '"/orders/17/items"', 'BASE + "/users/42"',
                    '"http://127.0.0.1:8000/users/42?x=1"', 'f"/users/{42}"',
                    '"/users/123e4567-e89b-12d3-a456-426614174000"'):
            with self.subTest(url=url):
                self.assertFlagged(f"api.get({url})\n", [1])

    def test_near_misses(self) -> None:
        for url in ('"/api/v2/users"', '"/users/{id}"', "f\"/users/{user['id']}\"", '"/api/1/users"',
                    '"http://localhost:8000/users"', 'f"{base}/users/{uid}/orders"', '"/tmp/1/x"',
                    '"see /users/42 in the docs"', '"/users?page=2"'):
            with self.subTest(url=url):
                self.assertClean(f"api.get({url})\n")

    def test_docstrings_are_not_code(self) -> None:
        self.assertClean('def test_x():\n    """Fetches /users/42."""\n')


class LiteralDataTests(RuleTestCase):
    code = "TDK002"

    def test_emails_and_names_sent_to_create(self) -> None:
        self.assertFlagged('api.post("/users", json={"email": "alice@test.com"})\n', [1])
        self.assertFlagged('requests.put(url, data={"name": "Alice Smith"})\n', [1])
        self.assertFlagged('UserFactory(email="bob@example.com", display_name="Bob")\n', [1, 1])
        self.assertFlagged('self.create("user", username="alice")\n', [1])
        self.assertFlagged('payload = {\n    "email": "alice@test.com",\n}\napi.post("/users", json=payload)\n', [2])

    def test_near_misses(self) -> None:
        self.assertClean('api.post("/users", json={"email": unique.email(), "name": unique.name()})\n')
        self.assertClean('api.post("/products", json={"name": "Blue Widget"})\n')
        self.assertClean('self.assertEqual(body, {"email": "alice@test.com"})\n')
        self.assertClean('assert user["email"] == "alice@test.com"\n')
        self.assertClean('def test_x():\n    """Creates alice@test.com."""  # and so does this comment\n')
        self.assertClean('print("contact alice@test.com")\n')


class RealPersonalDataTests(RuleTestCase):
    code = "TDK003"

    def test_real_looking_values(self) -> None:
        for value in ("jane.doe@gmail.com", "x@yahoo.co.uk", "x@hotmail.fr", "a@icloud.com", "+1 212 736 5000",
                      "(415) 867-5309", "+44 20 7123 4567", "4532015112830366", "4532 0151 1283 0366",
                      "GB33BUKB20201555555555", "DE44 5001 0517 5407 3249 31"):
            with self.subTest(value=value):
                self.assertFlagged(f"data = {{'v': {value!r}}}\n", [1])
        self.assertFlagged("card = 4532015112830366\n", [1])

    def test_safe_and_unrelated_values(self) -> None:
        for value in ("jane@example.com", "x@shop.test", "x@me.example", "+1 212 555 0134", "+1-202-555-0199",
                      "+44 7700 900123", "4242424242424242", "4111 1111 1111 1111", "378282246310005",
                      "4532015112830367", "GB29NWBK60161331926819", "DE89370400440532013000",
                      "GB34BUKB20201555555555", "2024-01-15", "192.168.100.200", "1700000000000",
                      "123e4567-e89b-12d3-a456-426614174000"):
            with self.subTest(value=value):
                self.assertClean(f"data = {{'v': {value!r}}}\n")


class NoCleanupTests(RuleTestCase):
    code = "TDK004"

    def test_post_without_cleanup(self) -> None:
        self.assertFlagged(
            """
            class T(unittest.TestCase):
                def test_create(self):
                    r = requests.post(URL + "/users", json={"email": unique.email()})
                    self.session.post(f"/users/{r.json()['id']}/avatars", data=b"x")
                    with self.assertRaises(KeyError):
                        api.post("/orders", json={})
            """,
            [4, 5, 7],
        )

    def test_near_misses(self) -> None:
        self.assertClean(
            """
            class T(unittest.TestCase):
                def test_create(self):
                    user = api.post("/users", json={"email": unique.email()}).json()
                    self.addCleanup(api.delete, f"/users/{user['id']}")

                def test_finally(self):
                    try:
                        user = requests.post(URL, json={}).json()
                    finally:
                        api.delete(f"/users/{user['id']}")

                def test_context(self):
                    with created_user(api) as user:
                        api.post(f"/users/{user['id']}/orders", json={})

                def test_queue(self):
                    queue.put(item)

                def helper(self):
                    api.post("/users", json={})
            """
        )


class FirstRecordTests(RuleTestCase):
    code = "TDK005"

    def test_indexing_a_listing(self) -> None:
        self.assertFlagged(
            """
            def test_x(self):
                first = api.get("/users").json()[0]
                users = api.get(f"{BASE}/users").json()
                self.assertEqual(users[-1]["email"], email)
                response = api.get("/orders?status=open")
                response.json()["items"][0]
            """,
            [3, 5, 7],
        )

    def test_near_misses(self) -> None:
        self.assertClean(
            """
            def test_x(self):
                mine = [a, b]
                mine[0]
                api.get(f"/users/{uid}").json()["roles"][0]
                users = api.get("/users").json()
                users = [u for u in users if u["email"] == email]
                users[0]
                users[1]
            """
        )


class SleepTests(RuleTestCase):
    code = "TDK006"

    def test_fixed_sleep_in_a_test(self) -> None:
        self.assertFlagged("def test_x(self):\n    api.post(url)\n    time.sleep(2)\n", [3])

    def test_near_misses(self) -> None:
        self.assertClean(
            """
            def test_poll(self):
                while not ready():
                    time.sleep(0.1)

            def wait_for(condition):
                time.sleep(1)

            def test_other_sleep(self):
                loop.sleep(1)
            """
        )


class SeededIdentityTests(RuleTestCase):
    code = "TDK007"

    def test_seeded_fake_identity(self) -> None:
        self.assertFlagged("email = fake.email()\nname = self.fake.person.username()\nfaker.uuid4()\n", [1, 2, 3])

    def test_near_misses(self) -> None:
        self.assertClean("email = unique.email()\nname = self.fake.person.full_name()\nuuid.uuid4()\n")


class NoqaAndParseTests(unittest.TestCase):
    def test_noqa_bare_and_with_codes(self) -> None:
        self.assertEqual(codes('api.get("/users/42")  # noqa\n'), [])
        self.assertEqual(codes('api.get("/users/42")  # noqa: TDK001\n'), [])
        self.assertEqual(codes('api.get("/users/42")  # NOQA:TDK002,TDK001\n'), [])
        self.assertEqual(codes('api.get("/users/42")  # noqa: E501\n'), [(1, "TDK001")])

    def test_syntax_error_is_reported_not_raised(self) -> None:
        self.assertEqual(codes("def broken(:\n"), [(1, "TDK000")])


class CliTests(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = Path(tmp.name)
        old = os.getcwd()
        os.chdir(self.dir)
        self.addCleanup(os.chdir, old)
        (self.dir / "tests").mkdir()
        (self.dir / "tests" / "test_a.py").write_text('api.get("/users/42")\nt = "alice@gmail.com"\n')
        (self.dir / "tests" / "clean.py").write_text('api.get("/users")\n')

    def run_main(self, *argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(list(argv))
        return status, out.getvalue(), err.getvalue()

    def test_reports_flake8_style_and_exits_1(self) -> None:
        status, out, _ = self.run_main("tests")
        self.assertEqual(status, 1)
        lines = out.splitlines()
        self.assertEqual(len(lines), 2)
        self.assertTrue(lines[0].startswith(f"{Path('tests', 'test_a.py')}:1:9: TDK001 hard-coded id '42'"))
        self.assertIn(":2:5: TDK003 email 'alice@gmail.com'", lines[1])

    def test_clean_file_exits_0(self) -> None:
        self.assertEqual(self.run_main("tests/clean.py"), (0, "", ""))

    def test_missing_path_is_a_usage_error(self) -> None:
        status, out, err = self.run_main("nowhere")
        self.assertEqual((status, out), (2, ""))
        self.assertIn("path 'nowhere' does not exist", err)

    def test_bad_option_is_a_usage_error(self) -> None:
        status, _, err = self.run_main("--bogus")
        self.assertEqual(status, 2)
        self.assertIn("unrecognized arguments", err)

    def test_config_select_ignore_exclude(self) -> None:
        cfg = self.dir / "setup.cfg"
        cfg.write_text("[testdata_kit]\nlint-ignore = TDK003\n")
        self.assertEqual(self.run_main("tests")[1].count("TDK"), 1)
        cfg.write_text("[testdata_kit]\nlint-select = TDK003\n")
        self.assertNotIn("TDK001", self.run_main("tests")[1])
        cfg.write_text("[testdata_kit]\nlint-exclude = test_*.py\n")
        self.assertEqual(self.run_main("tests")[0], 0)
        # Command-line options replace the config keys.
        status, out, _ = self.run_main("--select", "TDK001", "--exclude", "", "--config", str(cfg), "tests")
        self.assertEqual((status, out.count("TDK001"), out.count("TDK003")), (1, 1, 0))

    def test_bad_config_is_a_usage_error_naming_the_key(self) -> None:
        (self.dir / "setup.cfg").write_text("[testdata_kit]\nlint-ignroe = TDK003\nttl = 1d\n")
        status, _, err = self.run_main("tests")
        self.assertEqual(status, 2)
        self.assertIn("'lint-ignroe'", err)
        self.assertIn("Did you mean 'lint-ignore'?", err)
        (self.dir / "setup.cfg").write_text("[testdata_kit]\nlint-select = TDK099\n")
        status, _, err = self.run_main("tests")
        self.assertEqual(status, 2)
        self.assertIn("unknown code 'TDK099'", err)

    def _run(self, *code: str) -> subprocess.CompletedProcess[str]:
        root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        return subprocess.run(
            [sys.executable, *code, "tests"], capture_output=True, text=True, check=False, timeout=60, env=env
        )

    def test_main_runs_in_a_subprocess(self) -> None:
        proc = self._run("-c", "import sys; from testdata_kit.lint import main; sys.exit(main())")
        self.assertEqual((proc.returncode, proc.stderr), (1, ""))
        self.assertIn("TDK001", proc.stdout)

    @unittest.skipUnless("lint" in cli.COMMANDS, "the 'lint' subcommand is not in testdata_kit.cli.COMMANDS yet")
    def test_python_m_testdata_kit_lint(self) -> None:
        proc = self._run("-m", "testdata_kit", "lint")
        self.assertEqual((proc.returncode, proc.stderr), (1, ""))
        self.assertIn("TDK001", proc.stdout)


def _registered() -> bool:
    return any(ep.name == "TDK" for ep in importlib.metadata.entry_points(group="flake8.extension"))


class Flake8Tests(unittest.TestCase):
    def test_plugin_yields_flake8_tuples(self) -> None:
        import ast

        plugin = Flake8Plugin(ast.parse('api.get("/users/42")\n'))
        line, col, message, kind = next(iter(plugin.run()))
        self.assertEqual((line, col, message[:7], kind), (1, 8, "TDK001 ", Flake8Plugin))
        self.assertEqual(Flake8Plugin.name, "testdata_kit")

    @unittest.skipUnless(
        _registered(), "flake8.extension entry point 'TDK = testdata_kit.lint:Flake8Plugin' is not installed yet"
    )
    def test_real_flake8_reports_and_honours_noqa(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            fixture = Path(tmp, "test_fixture.py")
            fixture.write_text('api.get("/users/42")\napi.get("/orders/7")  # noqa: TDK001\n')
            proc = subprocess.run(
                [sys.executable, "-m", "flake8", "--isolated", "--select", "TDK", str(fixture)],
                capture_output=True, text=True, check=False, timeout=60,
            )
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(proc.stdout.splitlines(), [f"{fixture}:1:9: TDK001 hard-coded id '42' in URL path "
                                                    f"'/users/42'; create the record in the test and use its id"])


if __name__ == "__main__":
    unittest.main()


class DocsExampleTests(unittest.TestCase):
    def test_each_rule_section_shows_a_flagged_and_a_fixed_example(self) -> None:
        import re

        page = Path(__file__).resolve().parent.parent / "docs" / "howto" / "lint.rst"
        text = page.read_text(encoding="utf-8")
        sections = re.split(r"^(TDK\d{3}):.*\n\^+\n", text, flags=re.MULTILINE)
        by_code = dict(zip(sections[1::2], sections[2::2], strict=True))
        self.assertEqual(sorted(by_code), [f"TDK00{n}" for n in range(1, 8)])
        for code, body in by_code.items():
            blocks = re.findall(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", body)
            with self.subTest(code=code):
                bad, fixed = (textwrap.dedent(block) for block in blocks[:2])
                self.assertIn(code, [c for _, c in codes(bad)])
                self.assertNotIn(code, [c for _, c in codes(fixed)])
