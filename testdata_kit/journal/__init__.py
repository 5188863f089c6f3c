"""The crash-safe journal: an append-only JSON-lines record of every creation, its confirmation and its release.

Enable it with ``TESTDATA_JOURNAL=DIR`` (or ``journal-dir = DIR`` in the ``[testdata_kit]`` section of
``setup.cfg``), or with a shared store, ``TESTDATA_JOURNAL_STORE=URL`` (``journal-store``; see
:mod:`testdata_kit.journal._store`). Each process of a run then writes one stream (in DIR, a file named
``RUN-HOST-PID-START.jsonl``), with one record per line, each written as soon as it happens (the ``release`` of
a deleted resource may wait for the next record: see :class:`Journal`):

``open``
    the lease: run id, pid, host (``TESTDATA_HOSTNAME``, else the machine's), boot id, worker token, start time,
    heartbeat interval and lease seconds.
``intent``
    number *n*, kind, scope and test, written **before** the create call.
``made``
    *n*, the id and the ``recovery`` that another process can replay (an HTTP method and URL, or a
    ``"module:function"`` to call with the id), written after the create call returned.
``release``
    *n* and the outcome (``deleted``, ``kept``, ``leaked``, ``abandoned`` when the create call failed, or
    ``swept`` when a sweeper deleted it later).
``close``
    the process ended normally.

The journal is one package in three parts: ``testdata_kit.journal._writer`` writes (the records' text comes
from ``testdata_kit.journal._records``), ``testdata_kit.journal._read`` reads, and
``testdata_kit.journal._store`` keeps streams and leases in a folder or a shared store; import
everything from here. The core starts it at a process's first tracked creation when :func:`enabled` (whose
cheap check, like the variable's name, sits in ``testdata_kit._env`` so that processes that never journal do
not import this package); the journal then observes the ledger (:attr:`testdata_kit.ledger.Ledger.observers`)
and never imports the core's creation path.

A daemon thread renews the lease every ``heartbeat`` seconds (in a folder, the file's modification time, which
every record touches too). A run is alive while its lease has not expired and, on the same machine (host and
boot id), its pid exists. With
``TESTDATA_JOURNAL_FSYNC=1`` (or ``journal-fsync = true``) each record is also fsync'ed, which survives a power
loss and costs a disk flush per record. In recovery URLs a password in the user part and secret-looking query
parameters are masked as ``***`` (the sweeper replays them without those). Of the headers, only those the
integration names for replay are kept (an HTTP collection keeps its tenant's ``X-Tenant-*``), with credential
headers masked; no body is ever written.
"""

from __future__ import annotations

import os
from pathlib import Path

from testdata_kit import _env
from testdata_kit._env import JOURNAL_ENV
from testdata_kit.errors import StoreUnreachable
from testdata_kit.journal._directory import DirectoryStore
from testdata_kit.journal._read import FORMAT_VERSION, Entry, JournalFile, read, scan
from testdata_kit.journal._read import HEARTBEAT as HEARTBEAT
from testdata_kit.journal._read import STALE_AFTER as STALE_AFTER
from testdata_kit.journal._records import clean_recovery as clean_recovery
from testdata_kit.journal._records import encode_record as encode_record
from testdata_kit.journal._start import configured_directory, configured_store, start
from testdata_kit.journal._store import Lease, Store, StreamWriter, is_alive, live_runs, open_store
from testdata_kit.journal._writer import Journal

__all__ = [
    "FORMAT_VERSION",
    "FSYNC_ENV",
    "JOURNAL_ENV",
    "DirectoryStore",
    "Entry",
    "Journal",
    "JournalFile",
    "Lease",
    "Store",
    "StoreUnreachable",
    "StreamWriter",
    "configured_directory",
    "configured_store",
    "enabled",
    "is_alive",
    "live_runs",
    "open_store",
    "read",
    "scan",
    "start",
]

FSYNC_ENV = _env.JOURNAL_FSYNC_ENV

#: Whether this process should journal: ``$TESTDATA_JOURNAL`` is set, or setup.cfg may set ``journal-dir``.
#: Cheap on purpose, and defined in :mod:`testdata_kit._env` so that the core can ask it at a process's first
#: tracked creation without importing this package when nothing journals.
enabled = _env.journal_requested



def append_release(path: str | os.PathLike[str], number: int, outcome: str = "swept") -> None:
    """Append a ``release`` record to a dead run's journal file (see :meth:`Store.append_release`)."""
    DirectoryStore(Path(path).parent).append_release(read(path), number, outcome)
