"""A suite for the random-interrupt test: every way of creating data, against the demo API in another process.

``TDK_DEMO_URL`` names the API, ``TDK_READY`` a file written when the first test starts, and ``TDK_PROGRESS`` a
file that gets ``start ID`` when a test starts and ``done ID`` when it finished without being interrupted.
"""

import os
import unittest

from testdata_kit import DataTestCase, _interrupts, creates, unique, uses
from testdata_kit.factories import DataFactory, SubFactory, Unique
from testdata_kit.http import ApiClient

api = ApiClient(os.environ["TDK_DEMO_URL"])
users = api.collection("users", kind="ip_user")
products = api.collection("products", kind="ip_product")
orders = api.collection("orders", kind="ip_order")
discounts = api.collection("discounts", kind="ip_discount")


@creates("ip_user", delete=users.delete)
def ip_user(name="Interrupted"):
    return users.post(email=unique.email(), name=name)


@creates("ip_product", delete=products.delete)
def ip_product(price=10):
    return products.post(name=unique.name("product"), price=price)


@creates("ip_discount", delete=discounts.delete)
def ip_discount(percent=10):
    return discounts.post(code=unique.token(), percent=percent)


@creates("ip_order", needs=("ip_user", "ip_product"), delete=orders.delete)
def ip_order(ip_user, ip_product, ip_discount=None):
    return orders.post(user_id=ip_user["id"], product_id=ip_product["id"],
                       discount_id=ip_discount["id"] if ip_discount else None)


class UserFactory(DataFactory):
    class Meta:
        collection = users

    email = Unique(unique.email)
    name = "Factory User"


class OrderFactory(DataFactory):
    class Meta:
        collection = orders

    user_id = SubFactory(UserFactory, pick="id")
    product_id = 0


def _note(line):
    with open(os.environ["TDK_PROGRESS"], "a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def _finished(test_id):
    if _interrupts.received() is None:
        _note(f"done {test_id}")


class PathTests(DataTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shared = cls.create("ip_user", name="Class")

    def setUp(self):
        if not os.path.exists(os.environ["TDK_READY"]):
            with open(os.environ["TDK_READY"], "w", encoding="utf-8") as handle:
                handle.write("started")
        _note(f"start {self.id()}")
        self.addCleanup(_finished, self.id())  # runs last, after every deletion of the test

    def test_a_factory_call(self):
        for _ in range(2):
            ip_order(ip_user(), ip_product())

    def test_b_self_create(self):
        for _ in range(2):
            self.create("ip_order", ip_user=self.create("ip_user"), ip_product=self.create("ip_product"))

    def test_c_collection(self):
        for _ in range(2):
            user = users.create(email=unique.email(), name="Collection")
            product = products.create(name=unique.name("product"), price=3)
            orders.create(user_id=user["id"], product_id=product["id"])

    def test_d_scenario(self):
        for _ in range(2):
            self.scenario().ip_user().ip_product().ip_discount().ip_order()

    def test_e_serial_scenario(self):
        scenario = self.scenario(workers=1)
        for _ in range(2):
            scenario.branch().ip_user().ip_product().ip_order()

    @uses("ip_user", "ip_product", "ip_discount")
    def test_f_uses(self, ip_user, ip_product, ip_discount):
        ip_order(ip_user, ip_product, ip_discount)

    def test_g_data_factory(self):
        product = products.create(name=unique.name("product"), price=4)
        for _ in range(2):
            OrderFactory.create(product_id=product["id"])

    def test_h_tenant(self):
        tenant = api.tenant()
        for _ in range(2):
            tenant.collection("users", kind="ip_tenant_user").create(email=unique.email(), name="Tenant")

    def test_i_class_data(self):
        ip_order(self.shared, ip_product())


if __name__ == "__main__":
    unittest.main()
