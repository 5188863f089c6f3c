"""A suite that builds the user -> product -> discount -> order chain on a REST server nobody here wrote
(``TDK_SERVER`` = ``json_server`` or ``datasette`` at ``TDK_SERVER_URL``), writes ``TDK_READY``, and holds its
rows until it is killed (or for 60 s, so a forgotten process cannot outlive its test by much).

With ``TDK_IN_FLIGHT`` it then leaves a user as a kill during its create call would: the journal holds the intent,
the server holds the row, and nothing tells its id."""

import importlib
import os
import pathlib
import time
import unittest

from testdata_kit import DataTestCase
from testdata_kit.http import ApiClient
from testdata_kit.resources import intend

api = ApiClient(os.environ["TDK_SERVER_URL"], retry_seconds=1)
links = importlib.import_module(f"tests._{os.environ['TDK_SERVER']}").chain(api)


class ChainTests(DataTestCase):
    def test_holds_a_chain(self):
        made = []
        for collection, body in links:
            made.append(collection.create(body(made)))
        if os.environ.get("TDK_IN_FLIGHT"):
            users, user_body = links[0]
            intend("users")
            api.post_json(users.path, user_body([]))
        pathlib.Path(os.environ["TDK_READY"]).write_text("holding", encoding="utf-8")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.05)


if __name__ == "__main__":
    unittest.main()
