"""The bundled example suite: how a team would test the demo shop API with testdata_kit.

Run it against a running demo API (``python -m testdata_kit serve-demo``)::

    SHOP_API_URL=http://127.0.0.1:8000 python -m unittest testdata_kit.demo.examples

``python -m testdata_kit demo`` starts the API itself and runs this suite twice.
"""

from __future__ import annotations

import unittest
from typing import Any

MODULES = ("test_users", "test_orders", "test_tenants")


def load_tests(loader: unittest.TestLoader, tests: unittest.TestSuite, pattern: Any) -> unittest.TestSuite:
    suite = unittest.TestSuite()
    for name in MODULES:
        suite.addTests(loader.loadTestsFromName(f"{__name__}.{name}"))
    return suite
