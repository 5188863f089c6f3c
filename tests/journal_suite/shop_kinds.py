"""Kinds for the journal suites: users and orders by @creates with recover=, products by track() like an HTTP client.

The demo API's URL comes from ``TDK_DEMO_URL``; only the standard library talks to it.
"""

import json
import os
import time
import urllib.error
import urllib.request

from testdata_kit import AlreadyGone, creates, track, unique
from testdata_kit.resources import intend


def api() -> str:
    return os.environ["TDK_DEMO_URL"]


def send(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(api() + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        with error:
            if error.code == 404:
                raise AlreadyGone(path) from None
            raise


def delete_user(ident):
    send("DELETE", f"/users/{ident}")


def delete_order(ident):
    send("DELETE", f"/orders/{ident}")


@creates("jr_user", delete=lambda body: delete_user(body["id"]), recover=delete_user)
def user(name="Journal User"):
    return send("POST", "/users", {"email": unique.email(), "name": f"{name} {unique.token()}"})


@creates("jr_slow_user", delete=lambda body: delete_user(body["id"]), recover=delete_user)
def slow_user():
    """Creates a user, says so in ``TDK_READY``, then takes a while to return: a signal lands mid-create."""
    body = send("POST", "/users", {"email": unique.email(), "name": "Slow"})
    with open(os.environ["TDK_READY"], "w", encoding="utf-8") as handle:
        handle.write("creating")
    time.sleep(1.0)
    return body


def product(price=10):
    """Create a product the way an HTTP collection does: intend, POST, then track with a replayable DELETE."""
    intent = intend("jr_product")
    body = send("POST", "/products", {"name": unique.name("Product"), "price": price})
    url = f"{api()}/products/{body['id']}"
    track("jr_product", body, lambda: send("DELETE", f"/products/{body['id']}"), intent=intent,
          recovery={"method": "DELETE", "url": url, "headers": {"Authorization": "Bearer " + os.environ.get(
              "TDK_SECRET", "none")}, "proven": True})  # the demo serves products there, as a read-back proves
    return body


@creates("jr_order", delete=lambda body: delete_order(body["id"]), recover=delete_order)
def order(user_id, product_id):
    return send("POST", "/orders", {"user_id": user_id, "product_id": product_id})


@creates("jr_plain_user", delete=lambda body: delete_user(body["id"]))
def plain_user():
    """A user kind without ``recover=``: journaled, but a sweeper cannot replay its deletion."""
    return send("POST", "/users", {"email": unique.email(), "name": "Plain"})
