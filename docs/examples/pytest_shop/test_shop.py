"""The pytest how-to's tests: plain functions, the testdata fixture, scenarios and kinds as fixtures."""

from __future__ import annotations

from testdata_kit.demo.examples import shop


def test_a_plain_test_calls_the_factory() -> None:
    user = shop.user(name="Ann")  # owned by this test: deleted right after it
    assert user["name"] == "Ann"


def test_the_testdata_fixture_creates_by_kind(testdata) -> None:
    item = testdata.create("product", price=10)
    order = testdata.create("order", user=testdata.create("user"), product=item, quantity=2)
    assert order["total"] == 20


def test_a_scenario_fills_in_the_needs(testdata) -> None:
    s = testdata.scenario().user().product(price=10).discount(percent=20).order()
    assert s.order["total"] == 8


def test_fake_values_are_seeded_per_test(testdata) -> None:
    name = testdata.fake.person.full_name()
    assert testdata.create("user", name=name)["name"] == name


def test_kinds_as_fixtures(buyer, catalog_product) -> None:
    order = shop.order(user=buyer, product=catalog_product)
    assert order["total"] == 25
