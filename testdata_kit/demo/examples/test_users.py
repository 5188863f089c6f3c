"""Users: each test makes its own, with a unique email, and never depends on another test's data."""

from __future__ import annotations

import unittest

from testdata_kit import unique, uses
from testdata_kit.demo.examples import shop
from testdata_kit.http import ApiError


def setUpModule() -> None:
    shop.connect()
    unittest.addModuleCleanup(shop.disconnect)


class UserTests(shop.ShopTestCase):
    def test_a_new_user_can_be_read_back(self) -> None:
        ann = self.create("user", name="Ann")
        self.assertEqual(shop.users.get(ann)["name"], "Ann")

    def test_an_email_can_only_be_registered_once(self) -> None:
        first = shop.users.create(email=unique.email(), name="First")  # tracked: deleted after the test
        with self.assertRaises(ApiError) as caught:
            shop.users.create(email=first["email"], name="Second")
        self.assertEqual(caught.exception.status, 409)

    @uses("user")
    def test_filtering_by_email_finds_exactly_this_tests_user(self, user: dict) -> None:
        found = shop.api.get_json("/users", params={"email": user["email"]})
        self.assertEqual([row["id"] for row in found["items"]], [user["id"]])

    def test_a_renamed_user_keeps_their_email(self) -> None:
        bob = self.create("user", name="Bob")
        renamed = shop.api.patch_json(f"/users/{bob['id']}", {"name": "Robert"})
        self.assertEqual((renamed["name"], renamed["email"]), ("Robert", bob["email"]))
