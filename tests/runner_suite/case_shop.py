"""A small suite that uses every scope, run by tests/test_runners.py under each supported runner.

Each creation and deletion is appended to the file named by ``TDK_SAMPLE_LOG`` as ``pid action kind id``.
"""

import itertools
import os
import unittest

from testdata_kit import DataTestCase, create, creates, uses

_ids = itertools.count(1)


def log(action, kind, ident):
    with open(os.environ["TDK_SAMPLE_LOG"], "a", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()} {action} {kind} {ident}\n")


def _declare(kind):
    @creates(kind)
    def factory(**fields):
        ident = f"{os.getpid()}.{next(_ids)}"
        log("create", kind, ident)
        yield {"id": ident, **fields}
        log("delete", kind, ident)

    return factory


tenant = _declare("sample_tenant")
currency = _declare("sample_currency")
catalog = _declare("sample_catalog")
user = _declare("sample_user")
product = _declare("sample_product")
order = _declare("sample_order")


def setUpModule():
    create("sample_tenant", scope="module")
    create("sample_currency", scope="run")


class OrderTests(DataTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.catalog = cls.create("sample_catalog")

    def test_order_chain(self):
        buyer = user()
        item = product(catalog=self.catalog["id"])
        placed = order(user=buyer["id"], product=item["id"])
        self.assertTrue(placed["id"])

    def test_user_alone(self):
        self.assertTrue(user()["id"])


@uses(buyer="sample_user")
class InjectedTests(DataTestCase):
    def test_injected_user(self, buyer):
        self.assertTrue(buyer["id"])

    def test_injected_with_more(self, buyer):
        self.assertTrue(self.create("sample_product")["id"])


if __name__ == "__main__":
    unittest.main()
