"""Factories for the demo shop: each creates its row with unique values and deletes exactly that row after."""

import os

import requests

from testdata_kit import creates, unique

API = os.environ.get("DEMO_API", "http://127.0.0.1:8000")


def post(path, body):
    response = requests.post(f"{API}{path}", json=body, timeout=5)
    response.raise_for_status()
    return response.json()


def delete(path):
    response = requests.delete(f"{API}{path}", timeout=5)
    if response.status_code != 404:  # already gone is fine; anything else is a leak worth reporting
        response.raise_for_status()


@creates("shop_user")
def user(name=None):
    body = post("/users", {"email": unique.email(), "name": name or unique.name()})
    yield body
    delete(f"/users/{body['id']}")


@creates("shop_product")
def product(price=25):
    body = post("/products", {"name": unique.name("Desk Lamp"), "price": price})
    yield body
    delete(f"/products/{body['id']}")


@creates("shop_order")
def order(buyer, item, quantity=1):
    body = post("/orders", {"user_id": buyer["id"], "product_id": item["id"], "quantity": quantity})
    yield body
    delete(f"/orders/{body['id']}")
