"""A suite whose kinds come from the demo API's own /openapi.json: it builds a chain, writes ``TDK_READY``, and
holds its rows until it is killed (or for 60 s, so a forgotten process cannot outlive its test by much)."""

import os
import pathlib
import time
import unittest

from testdata_kit import DataTestCase, Registry
from testdata_kit.http import ApiClient

kinds = Registry()
api = ApiClient.from_openapi(os.environ["TDK_DEMO_URL"] + "/openapi.json", registry=kinds)


class ChainTests(DataTestCase):
    registry = kinds

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create("user")  # class scope: deleted after the class, so still there when the kill comes

    def test_holds_a_chain(self):
        self.scenario().order()  # a user and a product first, then the order that links them
        self.create("discount", all_fields=True)
        pathlib.Path(os.environ["TDK_READY"]).write_text("holding", encoding="utf-8")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.05)


if __name__ == "__main__":
    unittest.main()
