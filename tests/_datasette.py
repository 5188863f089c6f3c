"""Datasette (PyPI, 1.0 alphas) with its write API over a SQLite file whose foreign keys are enforced.

Rows are created by ``POST /data/{table}/-/insert`` (answer ``{"ok": true, "rows": [row]}``), read by query
filter (``/data/users.json?id__exact=7&_shape=array`` answers ``[]`` or ``[row]``), and deleted by
``POST /data/{table}/{id}/-/delete``; deleting a referenced parent answers 400.
"""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Any

from testdata_kit import unique
from testdata_kit.http import ApiClient, Collection
from tests._launch import ExternalServer, find_binary

VERSION = "1.0a41"
TABLES = ("users", "products", "discounts", "orders")
_SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT NOT NULL);
CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
                       user_id INTEGER NOT NULL REFERENCES users(id));
CREATE TABLE discounts (id INTEGER PRIMARY KEY, percent INTEGER NOT NULL,
                        product_id INTEGER NOT NULL REFERENCES products(id));
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
                     product_id INTEGER NOT NULL REFERENCES products(id),
                     discount_id INTEGER REFERENCES discounts(id));
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


def collection(api: ApiClient, table: str, **options: Any) -> Collection:
    """A collection of ``table``: insert, read back by query filter, delete by POST."""
    return api.collection(
        table, path=f"/data/{table}/-/insert", id="rows.0.id",
        item=f"/data/{table}.json?id__exact={{id}}&_shape=array",
        delete_at=f"/data/{table}/{{id}}/-/delete", delete_method="POST", **options,
    )


def chain(api: ApiClient) -> list[tuple[Any, Any]]:
    """The user -> product -> discount -> order chain: (collection, body from the items made so far) per link.

    Every link is a foreign key that SQLite enforces: a parent deleted before its child is refused.
    """
    def id_of(item: Any) -> int:
        return int(item["rows"][0]["id"])

    return [
        (collection(api, "users"), lambda made: {"row": {"email": unique.email(), "name": "Ann"}}),
        (collection(api, "products"), lambda made: {"row": {"name": "Pen", "user_id": id_of(made[0])}}),
        (collection(api, "discounts"), lambda made: {"row": {"percent": 10, "product_id": id_of(made[1])}}),
        (collection(api, "orders"), lambda made: {"row": {"user_id": id_of(made[0]), "product_id": id_of(made[1]),
                                                          "discount_id": id_of(made[2])}}),
    ]
