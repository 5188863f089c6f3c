"""``python -m testdata_kit.sweep``, the same as ``python -m testdata_kit sweep``."""

from testdata_kit.sweep import main

if __name__ == "__main__":
    raise SystemExit(main())
