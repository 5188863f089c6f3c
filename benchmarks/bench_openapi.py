"""Cost of deriving kinds from a large OpenAPI document, against the parser library loading the same file.

The document is the Swagger Petstore's (tests/openapi_documents/swagger-petstore-3.0.yaml) repeated under
distinct path prefixes and schema names until it reaches each size, written as YAML and as JSON.

- baseline: ``openapi_spec_validator.readers.read_from_filename`` (jsonschema-path's loader), which is how
  openapi-spec-validator and openapi-core load a document;
- derive: ``testdata_kit.openapi.derive(load(path))``, the whole job: reading the file and deriving every kind;
- derive only: ``derive(document)`` on a document already loaded, the part this library adds.

Variants are interleaved, each timed ROUNDS times (default 9); medians and the ratios to the baseline are
printed, one row per size and format. Run: ``python benchmarks/bench_openapi.py [ROUNDS]``.
"""

from __future__ import annotations

import copy
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from openapi_spec_validator.readers import read_from_filename

from testdata_kit.openapi import derive, load

SOURCE = Path(__file__).resolve().parent.parent / "tests" / "openapi_documents" / "swagger-petstore-3.0.yaml"
SIZES = (256 * 1024, 1024 * 1024, 4 * 1024 * 1024)


def _rename(node: Any, suffix: str) -> Any:
    if isinstance(node, dict):
        return {k: (v.replace("/schemas/", "/schemas/" + suffix) if k == "$ref" and isinstance(v, str)
                    else _rename(v, suffix)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rename(v, suffix) for v in node]
    return node


def _grown(target: int) -> dict[str, Any]:
    base = yaml.safe_load(SOURCE.read_text())
    document = copy.deepcopy(base)
    document["paths"], document["components"]["schemas"] = {}, {}
    copies = 0
    while len(json.dumps(document)) < target:
        suffix = f"S{copies}"
        for path, item in base["paths"].items():
            document["paths"][f"/svc{copies}{path}"] = _rename(item, suffix)
        for name, schema in base["components"]["schemas"].items():
            document["components"]["schemas"][suffix + name] = _rename(schema, suffix)
        copies += 1
    return document


def _time(function: Any, argument: Any) -> float:
    start = time.perf_counter()
    function(argument)
    return time.perf_counter() - start


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    print(f"{'size':>8} {'format':>6} {'baseline ms':>12} {'derive ms':>10} {'ratio':>6} "
          f"{'derive only ms':>15} {'ratio':>6} {'kinds':>6}")
    with tempfile.TemporaryDirectory() as folder:
        for size in SIZES:
            document = _grown(size)
            for form in ("yaml", "json"):
                path = Path(folder, f"api-{size}.{form}")
                text = yaml.safe_dump(document, sort_keys=False) if form == "yaml" else json.dumps(document)
                path.write_text(text)
                loaded = load(path)
                kinds = len(derive(loaded))
                times: dict[str, list[float]] = {"baseline": [], "derive": [], "only": []}
                for _ in range(rounds):  # interleaved, so drift on a shared machine hits every variant alike
                    times["baseline"].append(_time(lambda p: read_from_filename(str(p)), path))
                    times["derive"].append(_time(lambda p: derive(load(p)), path))
                    times["only"].append(_time(derive, loaded))
                base, full, only = (statistics.median(times[k]) * 1000 for k in ("baseline", "derive", "only"))
                print(f"{len(text) // 1024:>6}KB {form:>6} {base:>12.1f} {full:>10.1f} {full / base:>6.2f} "
                      f"{only:>15.1f} {only / base:>6.2f} {kinds:>6}")


if __name__ == "__main__":
    main()
