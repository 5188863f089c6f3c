"""Demo API paging: walking every page by keyset cursor (the ``next`` link) against walking by offset.

The baseline is what the ``next`` link used to do: ``?limit=50&offset=K``, each page counting every matching
row and skipping K rows, so walking N rows costs about N^2 / 50 row visits. The ``next`` link now carries
``after=<last id>``: each page starts at an index seek, and only the first page counts. Both walks go over HTTP
through an ApiClient, on a database of N products inserted in bulk. Variants are interleaved; medians of
--repeat runs; one row per size, so the growth shows. Run: python benchmarks/bench_demo_paging.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time

from testdata_kit import demo
from testdata_kit.demo._store import _now
from testdata_kit.http import ApiClient

SIZES = (10_000, 100_000)
LIMIT = 50  # the default page size, which clients that follow `next` get


def fill(server: demo.DemoServer, rows: int) -> None:
    """Insert *rows* products in one transaction (the API's create path would dominate the set-up)."""
    store = server._live_store()
    with store._transaction() as db:
        db.executemany("INSERT INTO products (name, price, created_at) VALUES (?, ?, ?)",
                       (("Bench", 1, _now()) for _ in range(rows)))


def walk_by_offset(api: ApiClient, rows: int) -> int:
    seen = 0
    for offset in range(0, rows, LIMIT):
        seen += len(api.get_json("/products", params={"limit": LIMIT, "offset": offset})["items"])
    return seen


def walk_by_next(api: ApiClient, rows: int) -> int:
    seen, path = 0, f"/products?limit={LIMIT}"
    while path:
        page = api.get_json(path)
        seen += len(page["items"])
        path = page["next"]
    return seen


def timed(walk: object, api: ApiClient, rows: int) -> float:
    started = time.perf_counter()
    seen = walk(api, rows)  # type: ignore[operator]
    elapsed = time.perf_counter() - started
    if seen != rows:
        raise SystemExit(f"{walk} saw {seen} rows of {rows}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="walks per size and variant (default: 7)")
    args = parser.parse_args()
    print(f"walk every page of N products, {LIMIT} per page, over HTTP; medians of {args.repeat} runs")
    print(f"{'N':>7} {'offset (baseline)':>18} {'keyset next':>12} {'offset/keyset':>14}")
    for rows in SIZES:
        with demo.running() as server, ApiClient(server.url) as api:
            fill(server, rows)
            timed(walk_by_next, api, rows)  # warm-up: connection, page cache
            offset, keyset = [], []
            for _ in range(args.repeat):  # interleaved, so that machine noise hits both alike
                offset.append(timed(walk_by_offset, api, rows))
                keyset.append(timed(walk_by_next, api, rows))
        o_med, k_med = statistics.median(offset), statistics.median(keyset)
        print(f"{rows:>7} {o_med:16.2f} s {k_med:10.2f} s {o_med / k_med:13.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
