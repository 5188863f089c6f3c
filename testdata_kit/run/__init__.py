"""The run tools: ``python -m testdata_kit run`` (:mod:`~testdata_kit.run.runner`, a parallel, shardable runner
for unittest suites) and ``python -m testdata_kit check`` (:mod:`~testdata_kit.run.check`, which runs a suite in
several ways to prove its tests independent).

Private parts: ``_suite`` (discovery, units, shards), ``_workers`` (starting worker processes and handing out
classes), ``_in_worker`` (what runs in a worker) and ``_report`` (what a run prints and writes). The package sits above
the core and imports only the standard library; nothing in the core imports it.
"""
