"""Journal stores: the directory store against the store contract, and choosing a store from the settings."""

from __future__ import annotations

import os
import tempfile
import unittest

from testdata_kit import journal
from testdata_kit.journal._store import Store
from tests._store_contract import StoreContract
from tests._two_machines import TwoMachines


class DirectoryStoreContract(StoreContract, unittest.TestCase):
    """The contract, run on :class:`testdata_kit.journal.DirectoryStore` (today's journal folder)."""

    def make_store(self) -> Store:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        return journal.open_store(os.path.join(folder.name, "journal"))


class DirectoryTwoMachines(TwoMachines, unittest.TestCase):
    """Two machines sharing a folder (a network disk, say): the same guarantees as a store on a server."""

    def store_url(self) -> str:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        return os.path.join(folder.name, "shared-journal")
