"""A suite that holds its rows until told to go: it creates, writes ``TDK_READY``, waits for ``TDK_GO``, then ends.

With ``TDK_PLAIN=1`` it also creates a user of a kind without ``recover=``. A run that is never told to go
ends after 60 s, so a forgotten process cannot outlive its test by much.
"""

import os
import pathlib
import time
import unittest

import shop_kinds

from testdata_kit import DataTestCase


class HoldTests(DataTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create("jr_user", name="Class")

    def test_holds(self):
        buyer = shop_kinds.user()
        item = shop_kinds.product()
        shop_kinds.order(buyer["id"], item["id"])
        if os.environ.get("TDK_PLAIN") == "1":
            shop_kinds.plain_user()
        pathlib.Path(os.environ["TDK_READY"]).write_text("holding", encoding="utf-8")
        go = pathlib.Path(os.environ["TDK_GO"])
        deadline = time.monotonic() + 60
        while not go.exists() and time.monotonic() < deadline:
            time.sleep(0.02)


if __name__ == "__main__":
    unittest.main()
