"""``sweep --journal`` replays ``recover=`` functions: an ``async def`` one is awaited before its deletion counts,
one that cannot be imported is named with the fix, its journal kept, and a dry run calls none of them."""

from __future__ import annotations

import asyncio
import json
import os
import unittest
import urllib.error
import urllib.request
from typing import Any
from unittest import mock

from testdata_kit import AlreadyGone
from tests._dead_runs import DeadRunCase


async def adelete_user(ident: Any) -> None:
    """An async recover= function: DELETE /users/ID on the demo API named by TDK_DEMO_URL."""
    await asyncio.sleep(0)  # a coroutine that is only created, never awaited, gets no further than this
    request = urllib.request.Request(f"{os.environ['TDK_DEMO_URL']}/users/{ident}", method="DELETE")
    try:
        with urllib.request.urlopen(request, timeout=10):
            pass
    except urllib.error.HTTPError as error:
        with error:
            if error.code == 404:
                raise AlreadyGone(ident) from None
            raise


class RecoverFunctionTests(DeadRunCase):
    def setUp(self) -> None:
        super().setUp()
        patcher = mock.patch.dict(os.environ, {"TDK_DEMO_URL": self.server.url})
        patcher.start()
        self.addCleanup(patcher.stop)

    def journal_with_call(self, call: str) -> Any:
        row = self.user()
        records = self.entry(1, None)
        records.append({"op": "made", "n": 1, "id": row["id"], "recovery": {"call": call, "id": row["id"]}})
        return self.write_journal(records)

    def test_an_async_recover_function_is_awaited_before_its_deletion_counts(self):
        path = self.journal_with_call(f"{__name__}:adelete_user")
        status, out, err = self.sweep_journal(url=False)
        self.assertEqual((status, self.remaining()), (0, 0), out + err)
        self.assertRegex(out, r"users +1 +1 ")
        self.assertNotIn("never awaited", err)
        self.assertFalse(path.exists(), "a fully replayed journal is removed")

    def test_a_dry_run_says_so_and_deletes_nothing(self):
        path = self.journal_with_call(f"{__name__}:adelete_user")
        status, out, err = self.sweep("--journal", str(self.journals))
        self.assertEqual((status, self.remaining()), (0, 1), out + err)
        self.assertIn("sweep: dry run, nothing is deleted; add --yes to delete", err)
        self.assertRegex(out, r"users +1 +1 ", "found 1, would delete 1")
        self.assertTrue(path.exists())

    def test_a_recover_function_that_cannot_be_imported_names_the_fix_and_keeps_the_journal(self):
        path = self.journal_with_call("shop_kinds_elsewhere:delete_user")
        status, out, err = self.sweep_journal(url=False)
        self.assertEqual((status, self.remaining()), (1, 1), out + err)
        self.assertIn("shop_kinds_elsewhere:delete_user: cannot import 'shop_kinds_elsewhere' (ModuleNotFoundError: "
                      "No module named 'shop_kinds_elsewhere'). The sweep imports recover= functions by name: run it "
                      "from the folder the tests import from (the project's root), or add that folder to PYTHONPATH",
                      out)
        self.assertTrue(path.exists(), "the journal is kept while its row remains")
        self.assertEqual(json.loads(path.read_text().splitlines()[0])["op"], "open")


if __name__ == "__main__":
    unittest.main()
