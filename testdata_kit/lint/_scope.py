"""Which code in a module runs against a database of its own, rolled back or flushed after each test.

Django's test runner and pytest-django point every test at a test database that they create for the run;
``TestCase`` rolls each test back, ``TransactionTestCase`` (and ``LiveServerTestCase``) truncates every table
after each test, and pytest-django refuses database access to a test that did not ask for it through ``db``,
``transactional_db`` or ``@pytest.mark.django_db``, which give the same two guarantees. Either way nothing a
test writes outlives it and no other run sees it, so writes there are not shared-environment writes. The same
holds for a test that takes a fixture which rolls its SQLAlchemy session back, or a TestCase whose set-up or
clean-up rolls back.

A module that defines its own web app (``FastAPI()``, ``Flask(__name__)``, ``@app.get("/...")``, Starlette
``Route``) or builds an in-process client (``TestClient(app)``, ``app.test_client()``, an httpx client over
``ASGITransport``/``WSGITransport``/``MockTransport``), and shows no database, is testing an app whose state
lives and dies in the test process: its requests are isolated too. "Shows a database" means it imports a
database library or a ``db``/``session``/``engine``/``models`` name; an in-memory SQLite database does not
count. Calls on ``requests``, ``httpx`` and the like still reach a server and are checked everywhere.

The analysis is per module and by name only: a module that imports anything from ``django``,
``rest_framework`` or ``pytest_django`` is taken to run under one of those runners. Classes that derive only
from :class:`unittest.TestCase` (or nothing) in such a module get no such guarantee.
"""

from __future__ import annotations

import ast

__all__ = ["Isolation"]

_DJANGO_ROOTS = ("django", "rest_framework", "pytest_django")
# pytest-django's fixtures that open the test database. The distinctive names count everywhere; "db" and
# "live_server" only in a Django module (elsewhere a "db" fixture may well commit to a shared database).
_DJANGO_ONLY_FIXTURES = frozenset({"db", "live_server", "admin_user", "client", "rf"})
_DJANGO_FIXTURES = frozenset(
    {"transactional_db", "django_db_setup", "django_db_blocker", "django_user_model", "admin_client",
     "django_db_reset_sequences", "django_db_serialized_rollback"}
)
_SETUP_METHODS = frozenset(
    {"setUp", "setUpClass", "asyncSetUp", "tearDown", "tearDownClass", "asyncTearDown", "setup_method",
     "teardown_method", "setup_class", "teardown_class"}
)
_DB_MODULES = frozenset(
    {"sqlalchemy", "sqlmodel", "psycopg", "psycopg2", "pymongo", "motor", "peewee", "tortoise", "databases",
     "asyncpg", "aiosqlite", "sqlite3", "redis", "pymysql", "MySQLdb", "mongoengine", "elasticsearch", "boto3",
     "pony", "ormar", "beanie", "odmantic", "piccolo"}
)
_DB_NAMES = frozenset(
    {"db", "database", "session", "Session", "SessionLocal", "engine", "get_db", "get_session", "models",
     "async_session", "crud"}
)
_APP_CONSTRUCTORS = frozenset(
    {"FastAPI", "Flask", "Starlette", "APIRouter", "Blueprint", "Quart", "Sanic", "Litestar", "Route",
     "Mount", "WebSocketRoute", "Router"}
)
_ROUTE_DECORATORS = frozenset({"route", "get", "post", "put", "patch", "delete", "api_route", "websocket"})
_IN_PROCESS = frozenset({"TestClient", "test_client", "ASGITransport", "WSGITransport", "MockTransport",
                         "test_client_factory", "FlaskClient"})
# HTTP clients that reach a real server even from inside a rolled-back test.
EXTERNAL_CLIENTS = frozenset({"requests", "httpx", "aiohttp", "urllib3", "urllib"})


def _calls(node: ast.AST, name: str) -> bool:
    return any(
        (isinstance(sub, ast.Attribute) and sub.attr == name) or (isinstance(sub, ast.Name) and sub.id == name)
        for sub in ast.walk(node)
    )


def _is_django_db_mark(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return isinstance(target, ast.Attribute) and target.attr == "django_db"


def _decorator_names(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> set[str]:
    names = set()
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute):
            names.add(target.attr)
        elif isinstance(target, ast.Name):
            names.add(target.id)
    return names


def _uses_database(tree: ast.AST) -> bool:
    """Return True when the module shows a database other than an in-memory SQLite one."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
            node.value in ("sqlite://", "sqlite+aiosqlite://") or ":memory:" in node.value
        ):
            # An in-memory SQLite database lives and dies with the test process.
            return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] in _DB_MODULES for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom):
            parts = set((node.module or "").split("."))
            if parts & (_DB_MODULES | _DB_NAMES) or any(a.name in _DB_NAMES for a in node.names):
                return True
    return False


def _in_process(tree: ast.AST) -> bool:
    """Return True when the module tests an app in its own process and shows no database."""
    found = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            over_app = any(kw.arg in ("app", "transport") for kw in node.keywords) and name in (
                "Client", "AsyncClient"
            )
            if name in _APP_CONSTRUCTORS or name in _IN_PROCESS or over_app:
                found = True
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr in _ROUTE_DECORATORS and decorator.args
                    and isinstance(decorator.args[0], ast.Constant)
                    and str(decorator.args[0].value).startswith("/")
                ):
                    found = True
    return found and not _uses_database(tree)


class Isolation:
    """Answers "is this class or function isolated?" for one parsed module.

    :param tree: the module's AST.
    """

    def __init__(self, tree: ast.AST) -> None:
        body = tree.body if isinstance(tree, ast.Module) else []
        self._from_unittest: set[str] = set()
        self.django = False
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                self.django |= any(alias.name.split(".")[0] in _DJANGO_ROOTS for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                self.django |= module.split(".")[0] in _DJANGO_ROOTS
                if module == "unittest":
                    self._from_unittest.update(alias.asname or alias.name for alias in node.names)
            elif isinstance(node, ast.Attribute) and node.attr == "django_db":
                self.django = True
        self._module_marked = any(
            isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in stmt.targets)
            and any(isinstance(sub, ast.expr) and _is_django_db_mark(sub) for sub in ast.walk(stmt.value))
            for stmt in body
        )
        self.in_process = _in_process(tree)
        self._django_fixtures = _DJANGO_FIXTURES | (_DJANGO_ONLY_FIXTURES if self.django else frozenset())
        self._classes = {node.name: node for node in body if isinstance(node, ast.ClassDef)}
        self._fixtures = self._rollback_fixtures(body)
        self._class_cache: dict[str, bool] = {}

    def _rollback_fixtures(self, body: list[ast.stmt]) -> set[str]:
        fixtures = {
            node.name: node for node in body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "fixture" in _decorator_names(node)
        }
        isolated = {name for name, node in fixtures.items() if _calls(node, "rollback") or _calls(node, "begin_nested")}
        # A fixture that takes a rolled-back session hands out writes that are rolled back too.
        changed = True
        while changed:
            changed = False
            for name, node in fixtures.items():
                params = {a.arg for a in node.args.args}
                if name not in isolated and params & (isolated | self._django_fixtures):
                    isolated.add(name)
                    changed = True
        return isolated

    def _base_isolated(self, base: ast.expr, seen: set[str]) -> bool:
        name = base.attr if isinstance(base, ast.Attribute) else base.id if isinstance(base, ast.Name) else ""
        if isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name) and base.value.id == "unittest":
            return False
        if name in self._classes and name not in seen:
            return self.class_isolated(self._classes[name], seen | {name})
        if name in self._from_unittest:
            return False
        return self.django and (name.endswith("TestCase") or name.endswith("TestCases"))

    def class_isolated(self, node: ast.ClassDef, seen: frozenset[str] | set[str] = frozenset()) -> bool:
        """Return True when the tests of class *node* run in a transaction or against a flushed test database."""
        if node.name in self._class_cache:
            return self._class_cache[node.name]
        isolated = (
            self.in_process
            or self._module_marked
            or any(_is_django_db_mark(d) for d in node.decorator_list)
            or any(self._base_isolated(base, set(seen) | {node.name}) for base in node.bases)
            or any(
                isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name in _SETUP_METHODS
                and _calls(stmt, "rollback")
                for stmt in node.body
            )
        )
        self._class_cache[node.name] = isolated
        return isolated

    def function_isolated(self, node: ast.FunctionDef | ast.AsyncFunctionDef, *, in_class: bool) -> bool:
        """Return True when function *node* (outside any isolated class) writes only to an isolated database.

        :param in_class: the function is a method; a Django module's plain functions run under pytest-django.
        """
        if self.in_process or self._module_marked or any(_is_django_db_mark(d) for d in node.decorator_list):
            return True
        params = {a.arg for a in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]}
        if params & (self._django_fixtures | self._fixtures):
            return True
        return self.django and not in_class
