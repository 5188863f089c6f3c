"""Entry point for ``python -m testdata_kit``."""

from testdata_kit.cli import main

raise SystemExit(main())
