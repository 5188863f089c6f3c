"""The Redis journal store against a real redis-server on loopback (``.ci/start-redis``): the store contract, two
machines sharing it, Redis' own clock and key expiry, one command per batch, credentials kept out of messages."""

from __future__ import annotations

import os
import unittest
from unittest import mock

from testdata_kit import _run, journal
from testdata_kit.errors import SettingError, StoreUnreachable
from testdata_kit.journal._store import Store
from tests._launch import free_port
from tests._store_contract import StoreContract, header, intent, made, release
from tests._two_machines import TwoMachines

URL = os.environ.get("TESTDATA_REDIS_URL", "")

if not URL and os.environ.get("CI"):
    raise RuntimeError(
        "CI is set but TESTDATA_REDIS_URL is not: the Redis store tests must run in CI. "
        "Start a server with `.ci/start-redis FILE` and source FILE before running the tests."
    )
NO_SERVER = ("TESTDATA_REDIS_URL is not set; start a server with `.ci/start-redis` and export its lines to run "
             "the Redis store tests.")


def fresh_url() -> str:
    """The test server's URL with a prefix of its own, so that tests (and parallel runs) never see each other."""
    return f"{URL}?prefix=testdata-test:{_run.random_token(10)}:"


@unittest.skipUnless(URL, NO_SERVER)
class RedisStoreContract(StoreContract, unittest.TestCase):
    """The contract every store passes, on :class:`testdata_kit.journal._redis.RedisStore`."""

    def make_store(self) -> Store:
        store = journal.open_store(fresh_url())
        self.addCleanup(wipe, store)
        return store

    def make_unreachable_store(self) -> Store | None:
        return journal.open_store(f"redis://journal:s3cr3t@127.0.0.1:{free_port()}/0")


@unittest.skipUnless(URL, NO_SERVER)
class RedisTwoMachines(TwoMachines, unittest.TestCase):
    """Two machines sharing a Redis: a killed run swept from the other, a live run left alone."""

    def store_url(self) -> str:
        url = fresh_url()
        store = journal.open_store(url)
        self.addCleanup(wipe, store)
        return url


def wipe(store: Store) -> None:
    client = store.client  # type: ignore[attr-defined]
    keys = list(client.scan_iter(match=store.prefix + "*"))  # type: ignore[attr-defined]
    if keys:
        client.delete(*keys)
    store.close()


@unittest.skipUnless(URL, NO_SERVER)
class RedisStoreTests(unittest.TestCase):
    def setUp(self) -> None:
        self.store = journal.open_store(fresh_url())
        self.addCleanup(wipe, self.store)
        self.client = self.store.client  # type: ignore[attr-defined]

    def test_keys_go_under_the_prefix_the_url_names(self) -> None:
        writer = self.store.open_stream(header())
        self.addCleanup(writer.close, False)
        prefix = self.store.prefix  # type: ignore[attr-defined]
        self.assertTrue(prefix.startswith("testdata-test:"))
        keys = sorted(key.decode() for key in self.client.scan_iter(match=prefix + "*"))
        self.assertEqual(keys, [f"{prefix}lease:{writer.name}", f"{prefix}stream:{writer.name}",
                                f"{prefix}streams"])
        self.assertEqual(journal.open_store(URL).prefix, "testdata:journal:")  # type: ignore[attr-defined]

    def test_the_lease_expires_by_the_servers_clock_and_redis_removes_it(self) -> None:
        self.store.lease, self.store.skew = 20.0, 5.0
        writer = self.store.open_stream(header(lease=20.0))
        self.addCleanup(writer.close, False)
        found = self.store.streams()[0]
        self.assertAlmostEqual(found.lease.expires, self.store.now() + 20.0, delta=2.0)
        lease_key = self.store.key("lease", writer.name)  # type: ignore[attr-defined]
        # Redis drops the key lease + skew (+1) seconds after the last beat, by its own clock.
        self.assertAlmostEqual(self.client.pttl(lease_key) / 1000, 26.0, delta=2.0)
        self.assertTrue(self.store.is_alive(found))
        # As if the writer had stopped beating for longer than that: Redis expires the key.
        self.client.pexpire(lease_key, 1)
        while self.client.exists(lease_key):
            pass
        gone = self.store.streams()[0]
        self.assertEqual(gone.run_id, "run001")
        self.assertFalse(self.store.is_alive(gone), gone.lease)
        writer.beat()  # a writer that comes back renews it
        self.assertTrue(self.store.is_alive(self.store.streams()[0]))

    def test_a_key_of_the_wrong_type_is_one_damaged_stream_not_an_unreachable_store(self) -> None:
        # Someone SETs a stream's key by hand (or another tool shares the prefix): LRANGE answers WRONGTYPE. That
        # stream cannot be read, but the others can: the sweep must not stop at it, nor call the server down.
        good = self.store.open_stream(header("run001"))
        self.addCleanup(good.close, False)
        good.write([intent(1), made(1, 5)])
        self.client.zadd(self.store.key("streams"), {"garbage": 1.0})  # type: ignore[attr-defined]
        self.client.set(self.store.key("stream", "garbage"), b"not a list")  # type: ignore[attr-defined]
        found = {stream.name: stream for stream in self.store.streams()}
        self.assertEqual(set(found), {good.name, "garbage"})
        self.assertEqual([e.number for e in found[good.name].pending()], [1])
        self.assertTrue(found["garbage"].damaged)
        self.assertIsNone(found["garbage"].header)
        self.assertTrue(any("WRONGTYPE" in problem for problem in found["garbage"].problems),
                        found["garbage"].problems)

    def test_queued_releases_and_a_write_go_in_one_command(self) -> None:
        writer = self.store.open_stream(header())
        self.addCleanup(writer.close, False)
        writer.write([intent(1), made(1, 10), intent(2), made(2, 11)])
        # Count the commands this process sends (the server's own counters also see other test processes).
        with mock.patch.object(self.client, "execute_command", wraps=self.client.execute_command) as sent:
            writer.queue(release(1))
            writer.queue(release(2))
            self.assertEqual(sent.call_count, 0, "a queued release waits for the next write")
            self.assertEqual(len(self.store.streams()[0].pending()), 2)
            sent.reset_mock()
            writer.write([intent(3)])
            # One script call: it also puts back a stream a sweeper removed (see _redis._APPEND).
            self.assertEqual([c.args[0] for c in sent.call_args_list], ["EVALSHA"])
            self.assertEqual(sent.call_args_list[0].args[-3:], (release(1), release(2), intent(3)),
                             "two releases and the intent")
        self.assertEqual([e.number for e in self.store.streams()[0].pending()], [3])

    def test_a_server_that_went_away_fails_the_write_with_the_masked_url(self) -> None:
        store = journal.open_store(f"redis://journal:s3cr3t@127.0.0.1:{free_port()}/0?prefix=x:")
        self.addCleanup(store.close)
        for action in (store.check, store.streams, lambda: store.open_stream(header())):
            with self.subTest(action=action), self.assertRaises(StoreUnreachable) as caught:
                action()
            message = str(caught.exception)
            self.assertNotIn("s3cr3t", message)
            self.assertIn("redis://journal:***@127.0.0.1:", message)
            self.assertIn("journal-store-fallback", caught.exception.fix)


class RedisUrlTests(unittest.TestCase):
    def test_a_url_redis_py_cannot_read_is_a_setting_error_with_the_password_masked(self) -> None:
        # redis-py raised a bare ValueError ("Port could not be cast to integer value as 'x'"), naming neither
        # the setting nor the URL; the sweep printed it alone.
        with self.assertRaises(SettingError) as caught:
            journal.open_store("redis://journal:s3cr3t@127.0.0.1:sixthree/0")
        message = str(caught.exception)
        self.assertNotIn("s3cr3t", message)
        self.assertIn("redis://journal:***@127.0.0.1:sixthree/0", message)
        self.assertIn("redis://[USER:PASSWORD@]HOST[:PORT][/DB]", message)


if __name__ == "__main__":
    unittest.main()
