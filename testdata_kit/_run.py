"""Identity of the current run and worker: tokens shared by unique values, seeds and journals."""

from __future__ import annotations

import os

__all__ = ["RUN_ID_ENV", "RUN_SEED_ENV", "WORKER_ENV", "run_id", "run_seed", "use_run_seed", "worker_token"]

from testdata_kit._env import RUN_ID_ENV, RUN_SEED_ENV, WORKER_ENV
from testdata_kit.errors import InvalidValueError

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_RUN_ID_LENGTH = 6

_run_id: str | None = None
_run_seed: str | None = None
_worker: tuple[int, str] | None = None


def base36(number: int) -> str:
    """Return *number* (>= 0) in lower-case base 36, the compact alphabet every token uses."""
    if number < 0:
        raise InvalidValueError(f"base36() needs a non-negative number, got {number!r}")
    digits = []
    while True:
        number, rest = divmod(number, 36)
        digits.append(_ALPHABET[rest])
        if not number:
            return "".join(reversed(digits))


def random_token(length: int) -> str:
    """Return *length* base-36 characters from the OS's CSPRNG (what :mod:`secrets` uses).

    Identity must never come from a seeded generator, or every run would repeat the same "unique" values.
    """
    # 8 random bits per character keep the modulo bias below 0.1%, irrelevant for uniqueness.
    return "".join(_ALPHABET[byte % 36] for byte in os.urandom(length))


def _digest_token(text: str, length: int) -> str:
    import hashlib  # only for runs named from outside; keeps ``import testdata_kit`` light

    return base36(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))[:length].rjust(length, "0")


def run_id() -> str:
    """Return the six-character token that names this run in every worker.

    ``TESTDATA_RUN_ID`` wins; pytest-xdist's ``PYTEST_XDIST_TESTRUNUID`` is used next, so that all of its
    workers agree. Otherwise a random token is drawn once per process. Worker names such as ``gw0`` repeat
    across runs, so they are never part of the run id.
    """
    global _run_id
    if _run_id is None:
        given = os.environ.get(RUN_ID_ENV) or ""
        if given:
            _run_id = given if _is_token(given) else _digest_token(given, _RUN_ID_LENGTH)
        elif os.environ.get("PYTEST_XDIST_TESTRUNUID"):
            _run_id = _digest_token(os.environ["PYTEST_XDIST_TESTRUNUID"], _RUN_ID_LENGTH)
        else:
            _run_id = random_token(_RUN_ID_LENGTH)
    return _run_id


def _is_token(text: str) -> bool:
    return len(text) == _RUN_ID_LENGTH and all(c in _ALPHABET for c in text)


def worker_token() -> str:
    """Return the token of this worker process: a runner's worker name, then ``p`` and the pid in base 36.

    ``TESTDATA_WORKER`` or pytest-xdist's ``PYTEST_XDIST_WORKER`` names the worker (``gw1p1t1``); without them
    the token is ``p`` and the pid alone (``p1t1``). The pid is always part of it because those variables are
    inherited: every process a worker starts would otherwise share its name. The value is recomputed after a
    fork, so a forked child never shares its parent's token.
    """
    global _worker
    pid = os.getpid()
    if _worker is None or _worker[0] != pid:
        name = os.environ.get(WORKER_ENV) or os.environ.get("PYTEST_XDIST_WORKER") or ""
        token = "".join(c for c in name.lower() if c in _ALPHABET)[:6]
        _worker = (pid, f"{token}p{base36(pid)}")
    return _worker[1]


def run_seed() -> str:
    """Return the seed of fake values for this run: ``TESTDATA_SEED`` or one random value per run.

    Workers of one run agree on it because a parallel runner exports the seed it chose to every worker.
    """
    global _run_seed
    if _run_seed is None:
        _run_seed = os.environ.get(RUN_SEED_ENV) or _default_seed()
    return _run_seed


def use_run_seed(seed: str) -> None:
    """Make *seed* this process's run seed, as ``TESTDATA_SEED=seed`` would (pytest's ``--testdata-seed``)."""
    global _run_seed
    _run_seed = str(seed)


def _default_seed() -> str:
    # xdist workers share the test-run uid, so they derive the same seed without talking to each other.
    shared = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if shared:
        return str(int(_digest_token(shared, 6), 36) % 10**8)
    return str(int.from_bytes(os.urandom(4), "big") % 10**8)


def _reset_for_tests() -> None:
    """Forget the cached identity (tests only), so that environment changes take effect."""
    global _run_id, _run_seed, _worker
    _run_id = _run_seed = _worker = None
