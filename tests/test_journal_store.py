"""Journal stores: the directory store against the store contract, and choosing a store from the settings."""

from __future__ import annotations

import os
import tempfile
import unittest

from testdata_kit import journal
from testdata_kit.journal._store import Store
from tests._store_contract import StoreContract


class DirectoryStoreContract(StoreContract, unittest.TestCase):
    """The contract, run on :class:`testdata_kit.journal.DirectoryStore` (today's journal folder)."""

    def make_store(self) -> Store:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        return journal.open_store(os.path.join(folder.name, "journal"))
