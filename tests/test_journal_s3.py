"""The S3 journal store against moto's S3-compatible server on loopback: the store contract, two machines sharing a
bucket, one object per write with queued releases riding along, writes folded at each beat, credentials masked."""

from __future__ import annotations

import os
import unittest
from typing import Any
from urllib.parse import quote

from testdata_kit import _run, journal
from testdata_kit.errors import SettingError, StoreUnreachable
from testdata_kit.journal._store import Store
from tests._launch import free_port
from tests._moto_server import SECRET_KEY, moto_case
from tests._store_contract import StoreContract, header, intent, line, made, release
from tests._two_machines import TwoMachines


def new_bucket(server: Any) -> str:
    name = f"journal-{_run.random_token(10).lower()}"
    server.client().create_bucket(Bucket=name)
    return name


class S3Case(unittest.TestCase):
    """A moto server per class, boto3 pointed at it by the variables boto3 reads, a new bucket per test."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.moto = moto_case(cls)

    def open(self, prefix: str = "runs/ci") -> Store:
        self.bucket = new_bucket(self.moto)
        store = journal.open_store(f"s3://{self.bucket}/{prefix}")
        self.addCleanup(store.close)
        return store

    def keys(self) -> list[str]:
        answer = self.moto.client().list_objects_v2(Bucket=self.bucket)
        return [item["Key"] for item in answer.get("Contents", ())]


class S3StoreContract(StoreContract, S3Case):
    """The contract every store passes, on :class:`testdata_kit.journal._s3.S3Store`."""

    def make_store(self) -> Store:
        return self.open()

    def make_unreachable_store(self) -> Store | None:
        return journal.open_store("s3://AKIDEXAMPLE:s3cr3t@no-such-bucket-here/runs")


class S3TwoMachines(TwoMachines, S3Case):
    """Two machines sharing a bucket (boto3 pointed at moto by the environment both inherit)."""

    def store_url(self) -> str:
        bucket = new_bucket(self.moto)
        return f"s3://{bucket}/shared/runs"


class S3StoreTests(S3Case):
    def test_one_object_per_write_with_the_queued_releases_riding_along(self) -> None:
        store = self.open()
        writer = store.open_stream(header())
        self.addCleanup(writer.close, False)
        writer.write([intent(1)])
        writer.write([made(1, 7)])
        writer.queue(release(1))
        self.assertEqual(len(store.streams()[0].pending()), 1, "a queued release waits for the next write")
        writer.write([intent(2)])
        stream = f"runs/ci/{writer.name}/"
        self.assertEqual(sorted(self.keys()), [stream + name for name in (
            "b0000000001.jsonl", "b0000000002.jsonl", "b0000000003.jsonl", "b0000000004.jsonl", "lease.json")])
        last = self.moto.client().get_object(Bucket=self.bucket, Key=stream + "b0000000004.jsonl")
        self.assertEqual(last["Body"].read().decode(), release(1) + intent(2))

    def test_a_beat_folds_the_writes_into_one_object(self) -> None:
        store = self.open()
        writer = store.open_stream(header())
        self.addCleanup(writer.close, False)
        for number in range(1, 6):
            writer.write([intent(number)])
            writer.write([made(number, number * 10)])
        writer.queue(release(5))
        writer.beat()
        stream = f"runs/ci/{writer.name}/"
        self.assertEqual(sorted(self.keys()), [stream + "c0000000012.jsonl", stream + "lease.json"])
        writer.write([intent(6)])
        store.append_release(store.streams()[0], 4)
        found = store.streams()[0]
        self.assertEqual([e.number for e in found.pending()], [6, 3, 2, 1])
        self.assertEqual(found.entries[4].outcome, "swept")
        self.assertEqual(found.problems, [])

    def test_the_lease_is_the_writers_clock_and_the_skew_allows_for_other_clocks(self) -> None:
        store = self.open()
        store.skew = 30.0
        writer = store.open_stream(header(lease=10.0, host="runner-7"))
        self.addCleanup(writer.close, False)
        found = store.streams()[0]
        self.assertAlmostEqual(found.lease.expires, store.now() + 10.0, delta=2.0)
        # A sweeper whose clock runs 35 s ahead still sees it alive: 10 s of lease and 30 s of skew.
        self.assertTrue(store.is_alive(found, now=store.now() + 35))
        self.assertFalse(store.is_alive(found, now=store.now() + 45))

    def test_a_url_without_a_bucket_is_a_setting_error(self) -> None:
        with self.assertRaises(SettingError) as caught:
            journal.open_store("s3:///runs")
        self.assertIn("s3://BUCKET/PREFIX", str(caught.exception))

    def test_credentials_in_the_url_are_used_and_masked(self) -> None:
        self.bucket = new_bucket(self.moto)
        # AWS secret keys hold "/" and "+": percent-encoded in a URL.
        store = journal.open_store(f"s3://AKIDEXAMPLE:{quote(SECRET_KEY + '/a+b', safe='')}@{self.bucket}/runs")
        self.addCleanup(store.close)
        signed: list[str] = []
        store.client.meta.events.register(  # type: ignore[attr-defined]
            "before-send.s3", lambda request, **_: signed.append(request.headers["Authorization"].decode()))
        store.check()  # moto takes any key pair; the signature names the key the URL gave, not the environment's
        self.assertIn("Credential=AKIDEXAMPLE/", signed[0])
        self.assertEqual(store.url, f"s3://AKIDEXAMPLE:***@{self.bucket}/runs")
        self.assertNotIn(SECRET_KEY, repr(store))

    def test_an_endpoint_that_does_not_answer_fails_with_the_fix(self) -> None:
        saved = os.environ["AWS_ENDPOINT_URL"]
        self.addCleanup(os.environ.__setitem__, "AWS_ENDPOINT_URL", saved)
        os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"
        store = journal.open_store("s3://some-bucket/runs")
        self.addCleanup(store.close)
        for action in (store.check, store.streams, lambda: store.open_stream(header())):
            with self.subTest(action=action), self.assertRaises(StoreUnreachable) as caught:
                action()
            self.assertIn("s3://some-bucket/runs", str(caught.exception))
            self.assertIn("AWS_ENDPOINT_URL", caught.exception.fix)
            self.assertNotIn(SECRET_KEY, str(caught.exception))

    def test_a_header_whose_start_is_not_a_number_is_read_not_raised(self) -> None:
        # A header another version (or a hand) wrote: "started" is text. The listing sorts by it and, without a
        # lease object, computes the expiry from it; neither may stop the sweep with a traceback.
        store = self.open()
        good = store.open_stream(header("run001"))
        self.addCleanup(good.close, False)
        odd = dict(header("run002"), started="soon")
        self.moto.client().put_object(Bucket=self.bucket, Key="runs/ci/odd/b0000000001.jsonl",
                                      Body=(line(odd) + intent(1) + made(1, 4)).encode())
        found = {stream.name: stream for stream in store.streams()}
        self.assertEqual(set(found), {good.name, "odd"})
        self.assertEqual(found["odd"].run_id, "run002")
        self.assertFalse(store.is_alive(found["odd"]), "no lease and no start it can read: dead")


if __name__ == "__main__":
    unittest.main()
