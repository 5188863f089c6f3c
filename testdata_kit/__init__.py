"""testdata_kit: test data for unittest API suites that never collides and never leaks."""

__version__ = "0.1.0"
