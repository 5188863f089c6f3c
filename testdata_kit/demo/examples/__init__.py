"""The bundled example suite: how a team would test the demo shop API with testdata_kit.

Run it against a running demo API (``python -m testdata_kit serve-demo``)::

    SHOP_API_URL=http://127.0.0.1:8000 python -m unittest testdata_kit.demo.examples

``python -m testdata_kit demo`` starts the API itself and runs this suite twice.
"""

from __future__ import annotations

import os
import unittest
from typing import Any

MODULES = ("test_users", "test_orders", "test_tenants")


def load_tests(loader: unittest.TestLoader, tests: unittest.TestSuite, pattern: Any) -> unittest.TestSuite:
    suite = unittest.TestSuite()
    # Discovery from the project root (``python -m unittest``) passes a pattern. Without a server to talk to,
    # the suite would only fail, so it is left out unless the URL says where the API runs.
    if pattern is not None and not os.environ.get("SHOP_API_URL"):
        return suite
    for name in MODULES:
        suite.addTests(loader.loadTestsFromName(f"{__name__}.{name}"))
    return suite
