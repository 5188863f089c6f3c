"""``python -m testdata_kit openapi DOCUMENT``: print the kinds a document gives, and what it could not derive."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from testdata_kit.openapi.derive import DerivedKind

__all__ = ["main", "report"]

_PROG = "python -m testdata_kit openapi"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description=(
            "Read an OpenAPI 3.0/3.1 or Swagger 2.0 document and print each kind of test data it describes: "
            "its create operation, the item's address, its delete, its required fields and the kinds it needs. "
            "Kinds it cannot fully derive (no delete operation, an id it cannot locate) are flagged with the "
            "fix. Nothing is sent to the API."
        ),
    )
    parser.add_argument("document", metavar="DOCUMENT", help="a path (.json, .yaml) or an http(s) URL")
    parser.add_argument("--base-url", metavar="URL",
                        help="where the API runs, instead of the document's servers (shown, not contacted)")
    parser.add_argument("--validate", action="store_true",
                        help="also check the document against its specification (openapi-spec-validator)")
    return parser


def report(kinds: Sequence[DerivedKind], out: TextIO) -> None:
    """Write one block per derived kind to *out*."""
    for kind in kinds:
        state = "  REFUSED" if kind.problems else ""
        print(f"\n{kind.name}{state}", file=out)
        rows = [
            ("create", kind.create),
            ("item", kind.item or "(not found)"),
            ("delete", kind.delete or "(none)"),
            ("id field", kind.id_field or "(not located)"),
            ("required", ", ".join(kind.required) or "(none)"),
            ("needs", ", ".join(kind.needs) or "(none)"),
        ]
        links = {**{f"{{{p}}}": t for p, t in kind.path_links.items()}, **kind.field_links}
        if links:
            rows.append(("links", ", ".join(f"{name} -> {target}" for name, target in links.items())))
        for label, value in rows:
            print(f"  {label + ':':<10} {value}", file=out)
        for problem in kind.problems:
            print(f"  problem:   {problem}", file=out)
        for note in kind.notes:
            print(f"  note:      {note}", file=out)
    refused = [k.name for k in kinds if k.problems]
    if refused:
        print(f"\nRefused: {', '.join(refused)}. Bind them anyway with ApiClient.from_openapi(..., "
              f"delete={{kind: callable}}) or ids={{kind: 'field'}}, or declare them with @creates.", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the derived kinds; return 0, or 2 for a document that cannot be read (no traceback).

    :param argv: the arguments after ``openapi``; ``None`` reads ``sys.argv[1:]``.
    """
    args = _parser().parse_args(argv)
    from testdata_kit.errors import TestDataError

    try:
        from testdata_kit.openapi import derive, load

        document = load(args.document, validate=args.validate)
        kinds = derive(document)
    except TestDataError as error:  # DocumentError, UnresolvableRefError, MissingExtraError
        print(f"{_PROG}: {error}", file=sys.stderr)
        return 2
    base = args.base_url or document.base_url() or "(none: pass --base-url, or base_url= to from_openapi)"
    kind = "Swagger" if document.is_swagger else "OpenAPI"
    title = document.data.get("info", {}).get("title", "untitled")
    print(f"{kind} {document.version} document {title!r} ({document.source})")
    print(f"base URL: {base}")
    print(f"{len(kinds)} kind{'s' if len(kinds) != 1 else ''} derived"
          + ("" if kinds else ": no path takes a POST of one JSON object next to an item path with DELETE"))
    report(kinds, sys.stdout)
    return 0
