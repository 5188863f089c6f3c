"""Benchmark: a DataFactory building 20k safe user payloads, and the per-test reseed, each against its floor.

Run: ``python benchmarks/bench_fake.py [--users N] [--reps R]`` (needs the ``fake`` extra; the ``bench`` extra
adds a factory_boy + Faker row for comparison). The claims of issue 13, each printed as a ratio:

1. ``DataFactory.build_batch`` of 20k users with safe values is at most 1.3x **raw mimesis providers** making
   the same six fields (the baseline: reserved email domain, fictional phone mask, fixed birth years; the raw
   providers are not reseeded per test and do not check anything).
2. A test that uses one provider pays at most 8 µs for its seed: a fresh test's ``FakeProviders``, its seed
   digest and the reseed of ``person``. The floor named beside it is a bare ``Person.reseed(seed)``, the
   Mersenne Twister seeding that no approach built on mimesis can skip.

Variants run interleaved (A B A B ...), so that load from other processes hits both alike; each prints the
median of its repetitions. Times are the process's CPU time (``time.process_time``), not wall time: on a shared
machine a descheduled process would otherwise be charged for other processes' work. Everything timed here is
CPU-bound and single-threaded.
"""

from __future__ import annotations

import argparse
import statistics
import time
import unittest
from collections.abc import Callable

from testdata_kit import fake
from testdata_kit.factories import DataFactory, Fake

USERS = 20_000
TESTS = 5_000
REPS = 9


class UserPayload(DataFactory):
    first_name = Fake("person.first_name")
    last_name = Fake("person.last_name")
    email = Fake("person.email")
    phone = Fake("person.phone_number")
    address = Fake("address.address")
    birthdate = Fake("person.birthdate")


def raw_mimesis(users: int) -> Callable[[], object]:
    from mimesis import Address, Person

    person, address = Person("en", seed=1), Address("en", seed=2)

    def run() -> object:
        return [
            {
                "first_name": person.first_name(), "last_name": person.last_name(),
                "email": person.email(domains=["example.com"]), "phone": person.phone_number(mask="+1-###-555-01##"),
                "address": address.address(), "birthdate": person.birthdate(1950, 2005),
            }
            for _ in range(users)
        ]

    return run


def factory_boy_faker(users: int) -> Callable[[], object] | None:
    try:
        import factory
        import factory.random
    except ImportError:
        return None
    import datetime

    class FBUser(factory.DictFactory):
        first_name = factory.Faker("first_name")
        last_name = factory.Faker("last_name")
        email = factory.Faker("email", domain="example.com")
        phone = factory.Faker("numerify", text="+1-###-555-01##")
        address = factory.Faker("address")
        birthdate = factory.Faker(
            "date_between", start_date=datetime.date(1950, 1, 1), end_date=datetime.date(2005, 12, 31)
        )

    factory.random.reseed_random(1)
    return lambda: FBUser.build_batch(users)


class _Probe(unittest.TestCase):
    def runTest(self) -> None:  # pragma: no cover - never run, only its id() matters
        pass


def per_test_seeding(tests: int) -> Callable[[], object]:
    """Seed a fresh test's providers and touch ``person``, as a test's first ``self.fake.person`` does."""
    fake.current().person  # noqa: B018 - load the provider once, as the first test of a worker does
    probes: list[_Probe] = []

    def prepare() -> None:
        # Fresh test objects for every repetition, made outside the timed part, as unittest's loader makes them.
        probes[:] = [_Probe() for _ in range(tests)]

    def run() -> object:
        # Each test object is dropped after its test, as unittest's suite drops a test once it has run.
        while probes:
            fake.for_test(probes.pop()).person  # noqa: B018
        return None

    run.prepare = prepare  # type: ignore[attr-defined]
    return run


def bare_reseed(tests: int) -> Callable[[], object]:
    from mimesis import Person

    person = Person("en")
    seeds = [0x9E3779B97F4A7C15 * (i + 1) % 2**64 for i in range(tests)]

    def run() -> object:
        for seed in seeds:
            person.reseed(seed)
        return None

    return run


def interleaved(variants: dict[str, Callable[[], object]], reps: int) -> dict[str, float]:
    """Run the variants in turn, *reps* rounds, and return each one's median seconds."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(reps):
        for name, run in variants.items():
            getattr(run, "prepare", lambda: None)()
            start = time.process_time()
            run()
            times[name].append(time.process_time() - start)
    return {name: statistics.median(samples) for name, samples in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=USERS, help="payloads per repetition (default %(default)s)")
    parser.add_argument("--tests", type=int, default=TESTS, help="tests per seeding repetition (default %(default)s)")
    parser.add_argument("--reps", type=int, default=REPS,
                        help="interleaved repetitions, at least 7 (default %(default)s)")
    args = parser.parse_args(argv)
    reps = max(args.reps, 7)

    UserPayload.build()  # import mimesis and load the datasets before timing, as raw_mimesis() does
    builds = {"raw mimesis (baseline)": raw_mimesis(args.users),
              "DataFactory.build_batch": lambda: UserPayload.build_batch(args.users)}
    peer = factory_boy_faker(args.users)
    if peer is not None:
        builds["factory_boy + Faker (peer)"] = peer
    medians = interleaved(builds, reps)
    base = medians["raw mimesis (baseline)"]
    print(f"{args.users} user payloads with safe values, median of {reps} interleaved repetitions")
    for name, seconds in medians.items():
        print(f"  {name:28} {seconds:8.3f} s   {seconds / base:5.2f}x raw mimesis")
    ratio = medians["DataFactory.build_batch"] / base
    print(f"  claim: DataFactory <= 1.30x raw mimesis: {ratio:.2f}x -> {'met' if ratio <= 1.3 else 'NOT met'}")
    if peer is None:
        print("  (factory_boy + Faker: not installed; pip install 'testdata_kit[bench]' adds the row)")

    seeding = interleaved({"bare Person.reseed (floor)": bare_reseed(args.tests),
                           "test using person": per_test_seeding(args.tests)}, reps)
    floor = seeding["bare Person.reseed (floor)"] / args.tests * 1e6
    ours = seeding["test using person"] / args.tests * 1e6
    print(f"per-test seeding, {args.tests} tests, median of {reps} interleaved repetitions")
    print(f"  bare Person.reseed (floor)   {floor:6.2f} µs per test")
    print(f"  test using person            {ours:6.2f} µs per test   {ours / floor:4.2f}x the floor")
    print(f"  claim: <= 8 µs per one-provider test: {ours:.2f} µs -> {'met' if ours <= 8 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
