"""The shop API as the example tests see it: one client, its collections, and the kinds of data they create."""

from __future__ import annotations

import os
from typing import Any

from testdata_kit import DataTestCase, Registry, creates, unique
from testdata_kit.http import ApiClient, Collection

URL_ENV = "SHOP_API_URL"
DEFAULT_URL = "http://127.0.0.1:8000"

#: Our own registry, so that these kinds never clash with another suite's ``user``.
kinds = Registry()

api: ApiClient
users: Collection
products: Collection
discounts: Collection
orders: Collection


def connect() -> None:
    """Open the client for the API named by ``$SHOP_API_URL``; every test module calls this in setUpModule."""
    global api, users, products, discounts, orders
    api = ApiClient(os.environ.get(URL_ENV, DEFAULT_URL))
    # The kind names match the @creates kinds below, so the leak report counts each kind once.
    users = api.collection("users", path="/users", id="id", kind="user")
    products = api.collection("products", kind="product")
    discounts = api.collection("discounts", kind="discount")
    orders = api.collection("orders", kind="order")


def disconnect() -> None:
    """Close the client's connections (registered with addModuleCleanup next to connect)."""
    api.close()


class ShopTestCase(DataTestCase):
    """Base class of the shop tests: kinds come from this suite's registry."""

    registry = kinds


def _collection(name: str) -> Collection:
    # ``sweep --journal`` replays a crashed run in a process of its own, where no test module called connect().
    if "api" not in globals():
        connect()
    collection: Collection = globals()[name]
    return collection


def delete_user(ident: Any) -> None:
    """Delete one user by id: what ``recover=`` names, so that a sweeper can replay a crashed run's journal."""
    _collection("users").delete(ident)


def delete_product(ident: Any) -> None:
    """Delete one product by id (its kind's ``recover=``)."""
    _collection("products").delete(ident)


def delete_discount(ident: Any) -> None:
    """Delete one discount by id (its kind's ``recover=``)."""
    _collection("discounts").delete(ident)


def delete_order(ident: Any) -> None:
    """Delete one order by id (its kind's ``recover=``)."""
    _collection("orders").delete(ident)


@creates("user", registry=kinds, recover=delete_user)
def user(email: str | None = None, name: str | None = None) -> Any:
    # The generator form: create, hand the row to the test, delete after it.
    row = users.post(email=email or unique.email(), name=name or unique.name("User"))
    yield row
    users.delete(row)


@creates("product", registry=kinds, delete=lambda row: products.delete(row), recover=delete_product)
def product(price: float = 10, name: str | None = None) -> dict[str, Any]:
    return products.post(name=name or unique.name("Product"), price=price)


@creates("discount", registry=kinds, delete=lambda row: discounts.delete(row), recover=delete_discount)
def discount(percent: float = 10, code: str | None = None) -> dict[str, Any]:
    return discounts.post(code=code or unique.token().upper(), percent=percent)


@creates("order", needs=("user", "product"), registry=kinds, delete=lambda row: orders.delete(row),
         recover=delete_order)
def order(user: dict[str, Any], product: dict[str, Any], discount: dict[str, Any] | None = None,
          quantity: int = 1) -> dict[str, Any]:
    return orders.post(
        user_id=user["id"], product_id=product["id"], discount_id=discount and discount["id"], quantity=quantity
    )
