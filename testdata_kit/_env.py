"""The names of testdata_kit's environment variables, and the cheap look into setup.cfg that the core shares.

Every ``TESTDATA_*`` variable the core and the run tools read is named here once; modules import the constant
instead of spelling the string, so a rename cannot miss a reader. This module imports only :mod:`os`: the core
reads it on every ``import testdata_kit``.
"""

from __future__ import annotations

import os

__all__ = [
    "ALLOWED_HOSTS_ENV",
    "HOSTNAME_ENV",
    "INTERRUPTS_ENV",
    "JOURNAL_CLOCK_SKEW_ENV",
    "JOURNAL_ENV",
    "JOURNAL_FSYNC_ENV",
    "JOURNAL_LEASE_ENV",
    "JOURNAL_STORE_ENV",
    "JOURNAL_STORE_FALLBACK_ENV",
    "KEEP_ENV",
    "PARALLEL_TOTAL_ENV",
    "PREFIX_ENV",
    "REPORT_ENV",
    "RUN_ID_ENV",
    "RUN_SEED_ENV",
    "TEARDOWN_WORKERS_ENV",
    "WORKER_ENV",
    "journal_requested",
    "mentions",
]

#: ``TESTDATA_KEEP=failed`` keeps the data of failing tests for debugging.
KEEP_ENV = "TESTDATA_KEEP"
#: ``TESTDATA_JOURNAL=DIR`` journals every creation to DIR (see :mod:`testdata_kit.journal`).
JOURNAL_ENV = "TESTDATA_JOURNAL"
#: ``TESTDATA_JOURNAL_FSYNC=1`` fsyncs each journal record.
JOURNAL_FSYNC_ENV = "TESTDATA_JOURNAL_FSYNC"
#: ``TESTDATA_JOURNAL_STORE=URL`` journals to a shared store (a folder, postgresql://, redis://, s3://).
JOURNAL_STORE_ENV = "TESTDATA_JOURNAL_STORE"
#: ``TESTDATA_JOURNAL_STORE_FALLBACK=DIR``: the folder to journal to when the store cannot be reached.
JOURNAL_STORE_FALLBACK_ENV = "TESTDATA_JOURNAL_STORE_FALLBACK"
#: Seconds a journal lease lasts without a heartbeat.
JOURNAL_LEASE_ENV = "TESTDATA_JOURNAL_LEASE"
#: Seconds of clock difference between machines that a sweeper allows before it calls a lease expired.
JOURNAL_CLOCK_SKEW_ENV = "TESTDATA_JOURNAL_CLOCK_SKEW"
#: The host name written into journal leases (default: the machine's).
HOSTNAME_ENV = "TESTDATA_HOSTNAME"
#: Set by a unittest-parallel parent for its workers: the file each one appends its account to.
PARALLEL_TOTAL_ENV = "TESTDATA_PARALLEL_TOTAL"
#: ``TESTDATA_REPORT=FILE``: each process appends its account to FILE as a JSON line.
REPORT_ENV = "TESTDATA_REPORT"
#: ``TESTDATA_INTERRUPTS=0`` leaves SIGINT and SIGTERM alone.
INTERRUPTS_ENV = "TESTDATA_INTERRUPTS"
#: The marker prefix of unique values (default ``test-``).
PREFIX_ENV = "TESTDATA_PREFIX"
#: Hosts, comma-separated, that tools may write to besides loopback.
ALLOWED_HOSTS_ENV = "TESTDATA_ALLOWED_HOSTS"
#: Threads of a scenario's teardown.
TEARDOWN_WORKERS_ENV = "TESTDATA_TEARDOWN_WORKERS"
#: Set by the parent of a multi-process run so that every worker shares one run id.
RUN_ID_ENV = "TESTDATA_RUN_ID"
#: Seed for fake values; chosen at random once per run when unset.
RUN_SEED_ENV = "TESTDATA_SEED"
#: Worker name given by a parallel runner; falls back to pytest-xdist's, then the pid.
WORKER_ENV = "TESTDATA_WORKER"

#: Files the ``[testdata_kit]`` section is read from, in order (the current directory's).
CONFIG_FILES = ("setup.cfg", "tox.ini")


def mentions(key: str) -> bool:
    """Return whether setup.cfg or tox.ini of the current directory contains the bytes of *key* at all.

    A byte search before :mod:`configparser`: most projects never set the optional keys the core looks for
    (``journal-dir``, ``marker-prefix``), and they pay one small read instead of a parser import. ``True``
    only means "worth parsing": the key may sit in another section or a comment.
    """
    needle = key.encode()
    for name in CONFIG_FILES:
        try:
            with open(name, "rb") as handle:
                if needle in handle.read():
                    return True
        except OSError:
            continue
    return False


def journal_requested() -> bool:
    """Return whether this process should journal: ``$TESTDATA_JOURNAL`` or ``$TESTDATA_JOURNAL_STORE`` is set, or
    setup.cfg may set ``journal-dir`` or ``journal-store``.

    Exposed as :func:`testdata_kit.journal.enabled`; it lives here so that the core can ask it without importing
    the journal (json, socket, threading) in the processes that never journal.
    """
    if os.environ.get(JOURNAL_ENV) or os.environ.get(JOURNAL_STORE_ENV):
        return True
    return mentions("journal-dir") or mentions("journal-store")
