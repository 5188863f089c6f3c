"""The demo API's SQLite layer: one connection behind one lock, with the constraints a real shop enforces."""

from __future__ import annotations

import contextlib
import datetime as _dt
import sqlite3
import threading
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from testdata_kit.demo._schema import (
    COLLECTIONS,
    DemoApiError,
    ListQuery,
    Table,
    collection_named,
    format_timestamp,
    validate_body,
)

__all__ = ["Store"]

Row = dict[str, Any]

# AUTOINCREMENT so that ids are never reused: a stale DELETE from a crashed run gets 404, not a new row.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS tenants (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL, name TEXT NOT NULL,
    tenant_id INTEGER REFERENCES tenants(id), created_at TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS users_email ON users (COALESCE(tenant_id, 0), email);
CREATE TABLE IF NOT EXISTS products (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, price NUMERIC NOT NULL,
    tenant_id INTEGER REFERENCES tenants(id), created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS discounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL, percent NUMERIC NOT NULL,
    tenant_id INTEGER REFERENCES tenants(id), created_at TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS discounts_code ON discounts (COALESCE(tenant_id, 0), code);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    discount_id INTEGER REFERENCES discounts(id),
    quantity INTEGER NOT NULL, tenant_id INTEGER REFERENCES tenants(id),
    total NUMERIC NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deletions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, collection TEXT NOT NULL, row_id INTEGER NOT NULL, at TEXT NOT NULL);
"""


def _now() -> str:
    return format_timestamp(_dt.datetime.now(_dt.timezone.utc))


class Store:
    """Rows of every collection in one SQLite database; every method is atomic and safe from any thread.

    :param path: a database file, or ``":memory:"`` (the default) for a database that lives as long as the
        store.
    """

    def __init__(self, path: str = ":memory:") -> None:
        # One connection and one lock: SQLite serialises writers anyway, and this keeps every
        # check-then-write (uniqueness, references) atomic without relying on busy timeouts.
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.executescript(_SCHEMA)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        """Close the database; an in-memory database is gone afterwards."""
        with self._lock:
            self._conn.close()

    def create(self, name: str, body: object, tenant: int | None = None) -> Row:
        """Validate *body* and insert a row into collection *name*; return the stored row."""
        coll = collection_named(name)
        values = validate_body(coll, body)
        with self._transaction() as db:
            if coll.tenanted:
                values["tenant_id"] = self._tenant_of_new_row(db, values.get("tenant_id"), tenant)
            self._check_references(db, coll, values, values)
            self._check_unique(db, coll, values, None)
            if coll.computed:
                values["total"] = self._order_total(db, values)
            values["created_at"] = _now()
            columns = ", ".join(values)
            marks = ", ".join("?" for _ in values)
            cursor = self._write(db, f"INSERT INTO {coll.name} ({columns}) VALUES ({marks})", list(values.values()))
            return self._fetch(db, coll, cursor.lastrowid or 0, None)

    def get(self, name: str, row_id: int, tenant: int | None = None) -> Row:
        """Return one row, or raise 404 when it does not exist (or belongs to another tenant)."""
        coll = collection_named(name)
        with self._transaction() as db:
            self._require_tenant(db, tenant)
            return self._fetch(db, coll, row_id, tenant)

    def update(self, name: str, row_id: int, body: object, tenant: int | None = None) -> Row:
        """Apply a partial *body* to one row (an order's total is recomputed); return the stored row."""
        coll = collection_named(name)
        values = validate_body(coll, body, partial=True)
        with self._transaction() as db:
            self._require_tenant(db, tenant)
            current = self._fetch(db, coll, row_id, tenant)
            if not values:
                return current
            merged = {**current, **values}
            self._check_references(db, coll, values, merged)
            self._check_unique(db, coll, merged, row_id)
            if coll.computed:
                values["total"] = self._order_total(db, merged)
            assignments = ", ".join(f"{column} = ?" for column in values)
            self._write(db, f"UPDATE {coll.name} SET {assignments} WHERE id = ?", [*values.values(), row_id])
            return self._fetch(db, coll, row_id, None)

    def delete(self, name: str, row_id: int, tenant: int | None = None) -> None:
        """Delete one row and record the deletion; raise 409 while other rows still reference it."""
        coll = collection_named(name)
        with self._transaction() as db:
            self._require_tenant(db, tenant)
            self._fetch(db, coll, row_id, tenant)
            holders = []
            for child in COLLECTIONS.values():
                for spec in child.fields:
                    if spec.ref != coll.name:
                        continue
                    ids = [
                        r[0]
                        for r in db.execute(
                            f"SELECT id FROM {child.name} WHERE {spec.name} = ? ORDER BY id LIMIT 6", (row_id,)
                        )
                    ]
                    if ids:
                        shown = ", ".join(map(str, ids[:5])) + (", ..." if len(ids) > 5 else "")
                        holders.append(f"{child.name} {shown}")
            if holders:
                relation = "still owns" if coll.name == "tenants" else "is still referenced by"
                raise DemoApiError(409, f"{coll.singular} {row_id} {relation} {'; '.join(holders)}; delete those first")
            self._write(db, f"DELETE FROM {coll.name} WHERE id = ?", (row_id,))
            db.execute("INSERT INTO deletions (collection, row_id, at) VALUES (?, ?, ?)", (coll.name, row_id, _now()))

    def list_rows(self, name: str, query: ListQuery, tenant: int | None = None) -> tuple[list[Row], int | None, bool]:
        """Return one page of matching rows (ordered by id), the number that match in all, and whether more follow.

        With ``query.after`` (keyset paging) the total is not counted (``None``): a COUNT per page is what
        made walking every page quadratic. The first page and offset pages count it once.
        """
        coll = collection_named(name)
        where, params = self._where(coll, query, tenant)
        with self._transaction() as db:
            self._require_tenant(db, tenant)
            total = None
            if query.after is None:
                total = db.execute(f"SELECT COUNT(*) FROM {coll.name} WHERE {where}", params).fetchone()[0]
                page = f"ORDER BY id LIMIT ? OFFSET {int(query.offset)}"
            else:
                where, params = f"{where} AND id > ?", [*params, query.after]
                page = "ORDER BY id LIMIT ?"
            # One row more than the page tells whether another page follows, without counting.
            rows = db.execute(f"SELECT * FROM {coll.name} WHERE {where} {page}", [*params, query.limit + 1]).fetchall()
        return [self._as_dict(coll, row) for row in rows[: query.limit]], total, len(rows) > query.limit

    def find(self, name: str, row_id: int, tenant: int | None = None) -> Row | None:
        """Return one row, or ``None`` when it does not exist (or belongs to another tenant)."""
        coll = collection_named(name)
        with self._transaction() as db:
            self._require_tenant(db, tenant)
            sql, params = f"SELECT * FROM {coll.name} WHERE id = ?", [row_id]
            if tenant is not None and coll.tenanted:
                sql, params = sql + " AND tenant_id = ?", [row_id, tenant]
            row = db.execute(sql, params).fetchone()
        return None if row is None else self._as_dict(coll, row)

    def backdate(self, name: str, row_id: int, created_at: _dt.datetime) -> Row:
        """Set a row's ``created_at``, so tests can make rows look as old as a crashed run's leftovers."""
        coll = collection_named(name)
        with self._transaction() as db:
            self._fetch(db, coll, row_id, None)
            db.execute(f"UPDATE {coll.name} SET created_at = ? WHERE id = ?", (format_timestamp(created_at), row_id))
            return self._fetch(db, coll, row_id, None)

    def counts(self) -> dict[str, int]:
        """Return the number of rows in every collection, tenants included."""
        with self._transaction() as db:
            return {name: db.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0] for name in COLLECTIONS}

    def deletions(self) -> list[Row]:
        """Return every recorded deletion as ``{"collection", "id", "at"}``, in the order they committed."""
        with self._transaction() as db:
            rows = db.execute("SELECT collection, row_id, at FROM deletions ORDER BY seq").fetchall()
        return [{"collection": r["collection"], "id": r["row_id"], "at": r["at"]} for r in rows]

    def reset(self) -> dict[str, int]:
        """Delete every row and the deletion log (ids keep counting up); return the counts before."""
        with self._transaction() as db:
            before = {name: db.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0] for name in COLLECTIONS}
            for name in (*reversed(COLLECTIONS), "deletions"):
                db.execute(f"DELETE FROM {name}")
            return before

    @staticmethod
    def _write(db: sqlite3.Connection, sql: str, params: Any) -> sqlite3.Cursor:
        try:
            return db.execute(sql, params)
        except sqlite3.IntegrityError as error:
            # The explicit checks should have caught it; this keeps a missed case a 409, not a 500.
            raise DemoApiError(409, f"constraint violated: {error}") from error

    @staticmethod
    def _as_dict(coll: Table, row: sqlite3.Row) -> Row:
        return {column: row[column] for column in coll.columns}

    def _fetch(self, db: sqlite3.Connection, coll: Table, row_id: int, tenant: int | None) -> Row:
        sql, params = f"SELECT * FROM {coll.name} WHERE id = ?", [row_id]
        if tenant is not None and coll.tenanted:
            sql, params = sql + " AND tenant_id = ?", [row_id, tenant]
        row = db.execute(sql, params).fetchone()
        if row is None:
            where = f" in tenant {tenant}" if tenant is not None and coll.tenanted else ""
            raise DemoApiError(404, f"No {coll.singular} with id {row_id}{where}")
        return self._as_dict(coll, row)

    @staticmethod
    def _require_tenant(db: sqlite3.Connection, tenant: int | None) -> None:
        if tenant is not None and db.execute("SELECT 1 FROM tenants WHERE id = ?", (tenant,)).fetchone() is None:
            raise DemoApiError(404, f"No tenant with id {tenant}; create it with POST /tenants first")

    def _tenant_of_new_row(self, db: sqlite3.Connection, given: int | None, scope: int | None) -> int | None:
        if scope is None:
            return given
        self._require_tenant(db, scope)
        if given is not None and given != scope:
            raise DemoApiError(
                422,
                "invalid body",
                {"tenant_id": f"{given} conflicts with the request's tenant {scope}; leave tenant_id out"},
            )
        return scope

    def _check_references(self, db: sqlite3.Connection, coll: Table, changed: Row, row: Row) -> None:
        errors = {}
        for spec in coll.fields:
            target_id = changed.get(spec.name)
            if spec.ref is None or target_id is None:
                continue
            target = COLLECTIONS[spec.ref]
            found = db.execute(f"SELECT * FROM {target.name} WHERE id = ?", (target_id,)).fetchone()
            if found is None:
                errors[spec.name] = f"no {target.singular} with id {target_id}"
            elif target.tenanted and found["tenant_id"] != row.get("tenant_id"):
                owner = "no tenant" if found["tenant_id"] is None else f"tenant {found['tenant_id']}"
                mine = "no tenant" if row.get("tenant_id") is None else f"tenant {row['tenant_id']}"
                errors[spec.name] = f"{target.singular} {target_id} belongs to {owner}, this {coll.singular} to {mine}"
        if errors:
            raise DemoApiError(422, "invalid body", errors)

    @staticmethod
    def _check_unique(db: sqlite3.Connection, coll: Table, row: Row, row_id: int | None) -> None:
        if coll.unique is None:
            return
        value = row[coll.unique]
        clash = db.execute(
            f"SELECT id FROM {coll.name} WHERE {coll.unique} = ? AND COALESCE(tenant_id, 0) = COALESCE(?, 0)"
            " AND id IS NOT ?",
            (value, row.get("tenant_id"), row_id),
        ).fetchone()
        if clash is not None:
            raise DemoApiError(409, f"A {coll.singular} with {coll.unique} {value!r} already exists (id {clash[0]})")

    @staticmethod
    def _order_total(db: sqlite3.Connection, order: Row) -> int | float:
        price = db.execute("SELECT price FROM products WHERE id = ?", (order["product_id"],)).fetchone()[0]
        percent = 0
        if order.get("discount_id") is not None:
            percent = db.execute("SELECT percent FROM discounts WHERE id = ?", (order["discount_id"],)).fetchone()[0]
        # Decimal with half-up rounding: 19.99 * 3 at 15 % must give what a cashier gives, not a float artefact.
        exact = Decimal(str(price)) * order["quantity"] * (100 - Decimal(str(percent))) / 100
        total = exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return int(total) if total == total.to_integral_value() else float(total)

    @staticmethod
    def _where(coll: Table, query: ListQuery, tenant: int | None) -> tuple[str, list[Any]]:
        clauses: list[str] = ["1 = 1"]
        params: list[Any] = []
        if tenant is not None and coll.tenanted:
            clauses.append("tenant_id = ?")
            params.append(tenant)
        for column, value in query.filters.items():
            clauses.append(f"{column} = ?")
            params.append(value)
        if query.created_before is not None:
            clauses.append("created_at < ?")
            params.append(query.created_before)
        if query.prefix is not None:
            clause, extra = _marker_match(coll, query.prefix)
            clauses.append(clause)
            params.extend(extra)
        return " AND ".join(clauses), params


def _marker_match(coll: Table, text: str) -> tuple[str, list[Any]]:
    # instr() rather than LIKE: case-sensitive, and '%' or '_' in a prefix need no escaping.
    if coll.markers:
        return "(" + " OR ".join(f"instr({m}, ?) > 0" for m in coll.markers) + ")", [text] * len(coll.markers)
    # A collection without marker fields (orders) matches through the marked rows it references.
    parts: list[str] = []
    params: list[Any] = []
    for spec in coll.fields:
        target = COLLECTIONS.get(spec.ref or "")
        if target is None or not target.markers or target.name == "tenants":
            continue
        inner, extra = _marker_match(target, text)
        parts.append(f"{spec.name} IN (SELECT id FROM {target.name} WHERE {inner})")
        params.extend(extra)
    return "(" + " OR ".join(parts) + ")", params
