"""json-server (npm, 0.17): a fake REST API over a JSON file; items at ``/things/{id}``, DELETE answers 200 ``{}``."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from testdata_kit import unique
from testdata_kit.http import ApiClient
from tests._launch import ExternalServer, find_binary

#: The version .ci/run installs; 1.x changed the command line and the answers.
VERSION = "0.17.4"
TABLES = ("users", "products", "discounts", "orders")


class JsonServer(ExternalServer):
    """json-server on a free loopback port, over ``db.json`` in a temporary folder."""

    ready_path = "/users"

    def __init__(self) -> None:
        super().__init__(find_binary("TESTDATA_JSON_SERVER", "json-server", f"npm install json-server@{VERSION}"))

    def prepare(self) -> list[str]:
        self.db = os.path.join(self.folder, "db.json")
        with open(self.db, "w") as handle:
            json.dump({table: [] for table in TABLES}, handle)
        return [self.binary, "--host", "127.0.0.1", "--port", str(self.port), "--quiet", self.db]

    def counts(self) -> dict[str, int]:
        """Rows per table, read from db.json, which json-server rewrites after every change.

        Its command line writes through lowdb's FileAsync, after the answer has left, and nothing tells when
        the write is done; a write of a file this small takes a few milliseconds, so 0.3 s is ample.
        """
        time.sleep(0.3)
        with open(self.db) as handle:
            data = json.load(handle)
        return {table: len(data[table]) for table in TABLES}


def chain(api: ApiClient) -> list[tuple[Any, Any]]:
    """The user -> product -> discount -> order chain: (collection, body from the items made so far) per link.

    json-server links rows by ``{singular}Id`` fields; it enforces nothing, but deletes a parent's dependents.
    """
    return [
        (api.collection("users"), lambda made: {"email": unique.email(), "name": "Ann"}),
        (api.collection("products"), lambda made: {"name": "Pen", "userId": made[0]["id"]}),
        (api.collection("discounts"), lambda made: {"percent": 10, "productId": made[1]["id"]}),
        (api.collection("orders"), lambda made: {"userId": made[0]["id"], "productId": made[1]["id"],
                                                 "discountId": made[2]["id"]}),
    ]
