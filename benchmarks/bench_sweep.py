"""Environment sweep: peak memory and time of ``sweep --yes`` against a raw streaming client, over N stale rows.

The baseline is the least a sweeper can do: a ``requests`` session that walks the ``next`` links of
``/users?limit=500`` and sends ``DELETE /users/{id}`` for every row, with no marker parsing, no TTL, no proof
and no listing again. The sweep does all of those, through the HTTP collections (``verify = auto``). Each run
is a fresh child process against the demo API (in this process, its rows inserted in bulk before each run), so
that the child's peak resident set is the run's own: ``VmHWM`` of ``/proc/self/status`` (Linux), since
``ru_maxrss`` would count the parent's pages at the fork. Variants are interleaved (A B, then B A);
medians of --repeat runs; one row per size. Run: python benchmarks/bench_sweep.py [--repeat N] [--sizes 1000,...]
"""

from __future__ import annotations

import argparse
import datetime
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile

from testdata_kit import _run, demo
from testdata_kit.demo._store import _now

SIZES = (1_000, 10_000, 100_000)
OLD = datetime.datetime(2021, 3, 1, tzinfo=datetime.timezone.utc)
CONFIG = "[testdata_kit]\n[testdata_kit:collections.users]\nmarker-fields = email\nlist-query = limit=500\n"

RAW = """
import json, sys, time
import requests
url = sys.argv[1]
started = time.perf_counter()
deleted = 0
with requests.Session() as http:
    path = url + "/users?limit=500"
    while path:
        page = http.get(path, timeout=15).json()
        for row in page["items"]:
            with http.delete(f"{url}/users/{row['id']}", timeout=15) as answer:
                deleted += answer.status_code == 204
        path = url + page["next"] if page["next"] else None
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "deleted": deleted,
                  "peak_kib": peak_kib()}))
"""

SWEEP = """
import contextlib, io, json, sys, time
import requests  # imported before the clock starts, as in the raw client
import testdata_kit.http
from testdata_kit import sweep
url, config = sys.argv[1], sys.argv[2]
started = time.perf_counter()
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
    status = sweep.main(["--url", url, "--config", config, "--ttl", "0s", "--yes"])
elapsed = time.perf_counter() - started
total = [line for line in out.getvalue().splitlines() if line.startswith("total")][0].split()
print(json.dumps({"seconds": elapsed, "deleted": int(total[2]), "status": status, "peak_kib": peak_kib()}))
"""
# The high-water mark of this process's own memory (a fresh one after exec), in KiB.
PEAK = """
def peak_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
"""


def fill(server: demo.DemoServer, rows: int) -> None:
    """Insert *rows* users whose emails carry a dead run's marker, in one transaction."""
    stamp = _run.base36(int(OLD.timestamp()))
    store = server._live_store()
    with store._transaction() as db:
        db.executemany("INSERT INTO users (email, name, created_at) VALUES (?, ?, ?)",
                       ((f"test-{stamp}-deadrn-p1-{n:08d}@example.com", "Stale", _now()) for n in range(rows)))


def run(variant: str, server: demo.DemoServer, rows: int, config: pathlib.Path) -> dict[str, float]:
    fill(server, rows)
    code = PEAK + (RAW if variant == "raw" else SWEEP)
    done = subprocess.run([sys.executable, "-c", code, server.url, str(config)], capture_output=True, text=True,
                          check=True, timeout=3600)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    left = server.counts()["users"]
    if result["deleted"] != rows or left:
        raise SystemExit(f"{variant} at N={rows}: deleted {result['deleted']}, {left} left: {done.stderr[-500:]}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per size and variant (default: 7)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated row counts")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"sweep N stale rows of the demo API; medians of {args.repeat} interleaved runs, each a fresh process")
    print("baseline: a raw requests client walking `next` and deleting every row (no markers, no proof)")
    print(f"{'N':>7} {'raw s':>8} {'sweep s':>8} {'sweep/raw':>9} {'raw peak MiB':>12} {'sweep peak MiB':>14}")
    with tempfile.TemporaryDirectory() as tmp:
        config = pathlib.Path(tmp, "sweep.cfg")
        config.write_text(CONFIG)
        for rows in sizes:
            results: dict[str, list[dict[str, float]]] = {"raw": [], "sweep": []}
            with demo.running() as server:
                run("sweep", server, min(rows, 1000), config)  # warm-up: imports, page cache
                for rep in range(args.repeat):
                    for variant in (("raw", "sweep") if rep % 2 == 0 else ("sweep", "raw")):
                        results[variant].append(run(variant, server, rows, config))
                        last = results[variant][-1]
                        print(f"  N={rows} run {rep + 1} {variant}: {last['seconds']:.2f} s, "
                              f"{last['peak_kib'] / 1024:.1f} MiB", file=sys.stderr, flush=True)
            raw_s = statistics.median(r["seconds"] for r in results["raw"])
            sweep_s = statistics.median(r["seconds"] for r in results["sweep"])
            raw_mib = statistics.median(r["peak_kib"] for r in results["raw"]) / 1024
            sweep_mib = statistics.median(r["peak_kib"] for r in results["sweep"]) / 1024
            print(f"{rows:>7} {raw_s:8.2f} {sweep_s:8.2f} {sweep_s / raw_s:8.2f}x {raw_mib:12.1f} {sweep_mib:14.1f}",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
