"""A suite for interrupt tests: it creates at every scope, writes ``TDK_READY`` and then waits to be signalled."""

import os
import time
import unittest

import shop_kinds

from testdata_kit import DataTestCase, create, creates


@creates("jr_run_user", delete=lambda body: shop_kinds.delete_user(body["id"]))
def run_user():
    return shop_kinds.send("POST", "/users", {"email": shop_kinds.unique.email(), "name": "Run"})


def setUpModule():
    create("jr_user", scope="module", name="Module")
    create("jr_run_user", scope="run")


def slow_http_user(test):
    """POST a user through an HTTP collection whose answer takes a while to arrive: a signal lands mid-create."""
    from testdata_kit.http import ApiClient

    api = ApiClient(os.environ["TDK_DEMO_URL"])
    test.addCleanup(api.close)

    def slow(response, *args, **kwargs):
        with open(os.environ["TDK_READY"], "w", encoding="utf-8") as handle:
            handle.write("creating")
        time.sleep(1.0)

    api.hooks["response"].append(slow)
    api.collection("users", kind="jr_http_user").create(email=shop_kinds.unique.email(), name="Slow HTTP")


class WaitTests(DataTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create("jr_user", name="Class")

    def test_a_waits(self):
        buyer = shop_kinds.user()
        item = shop_kinds.product()
        shop_kinds.order(buyer["id"], item["id"])
        self.addCleanup(print, "own cleanup ran", flush=True)
        if os.environ.get("TDK_MODE") == "slow-create":
            shop_kinds.slow_user()
        elif os.environ.get("TDK_MODE") == "slow-http-create":
            slow_http_user(self)
        else:
            with open(os.environ["TDK_READY"], "w", encoding="utf-8") as handle:
                handle.write("waiting")
        time.sleep(30)

    def test_b_never_reached(self):
        shop_kinds.user()


if __name__ == "__main__":
    unittest.main()
