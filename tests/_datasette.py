"""Datasette (PyPI, 1.0 alphas) with its write API over a SQLite file whose foreign keys are enforced.

Rows are created by ``POST /data/{table}/-/insert`` (answer ``{"ok": true, "rows": [row]}``), read by query
filter (``/data/users.json?id__exact=7&_shape=array`` answers ``[]`` or ``[row]``), and deleted by
``POST /data/{table}/{id}/-/delete``; deleting a referenced parent answers 400.
"""

from __future__ import annotations

import json
import os
import sqlite3

from tests._launch import ExternalServer, find_binary

VERSION = "1.0a41"
TABLES = ("users", "products")
_SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT NOT NULL);
CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
                       user_id INTEGER NOT NULL REFERENCES users(id));
"""
# SQLite enforces foreign keys only when each connection asks; Datasette's plugin hook is where it connects.
_PLUGIN = """
from datasette import hookimpl


@hookimpl
def prepare_connection(conn):
    conn.execute("PRAGMA foreign_keys = ON")
"""
# Anyone may write: the server listens on loopback only and lives as long as one test class.
_CONFIG = {"permissions": {"insert-row": True, "delete-row": True, "update-row": True}}


class Datasette(ExternalServer):
    """Datasette on a free loopback port, serving ``data.db`` in a temporary folder as database ``data``."""

    ready_path = "/data.json"

    def __init__(self) -> None:
        super().__init__(find_binary("TESTDATA_DATASETTE", "datasette", f"pip install 'datasette=={VERSION}'"))

    def prepare(self) -> list[str]:
        self.db = os.path.join(self.folder, "data.db")
        with sqlite3.connect(self.db) as connection:
            connection.executescript(_SCHEMA)
        connection.close()
        plugins = os.path.join(self.folder, "plugins")
        os.mkdir(plugins)
        with open(os.path.join(plugins, "foreign_keys.py"), "w") as handle:
            handle.write(_PLUGIN)
        config = os.path.join(self.folder, "datasette.json")
        with open(config, "w") as handle:
            json.dump(_CONFIG, handle)
        return [self.binary, "serve", self.db, "--host", "127.0.0.1", "--port", str(self.port),
                "--config", config, "--plugins-dir", plugins]

    def counts(self) -> dict[str, int]:
        """Rows per table, read from the SQLite file directly."""
        connection = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            return {table: connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in TABLES}
        finally:
            connection.close()
