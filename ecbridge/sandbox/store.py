"""The sandbox's own storage: JSON documents in SQLite (a file for make run, memory in tests)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    platform TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, shop TEXT NOT NULL DEFAULT '',
    sort REAL NOT NULL DEFAULT 0, body TEXT NOT NULL, PRIMARY KEY (platform, kind, key));
CREATE INDEX IF NOT EXISTS docs_by_shop ON docs (platform, kind, shop, sort);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT, platform TEXT NOT NULL, shop TEXT NOT NULL DEFAULT '',
    at REAL NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, operation TEXT NOT NULL DEFAULT '',
    status INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS calls_by_platform ON calls (platform, shop, id);
"""


class SandboxStore:
    def __init__(self, path: str = ":memory:"):
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._depth = 0

    @contextlib.contextmanager
    def tx(self) -> Iterator[SandboxStore]:
        """One atomic unit of work (re-entrant)."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.execute("ROLLBACK")
                raise
            else:
                self._depth -= 1
                if outer:
                    self._db.execute("COMMIT")

    # documents -----------------------------------------------------------------------------------
    def put(self, platform: str, kind: str, key, doc: dict, *, shop="", sort: float = 0) -> dict:
        with self.tx():
            self._db.execute(
                "INSERT INTO docs (platform, kind, key, shop, sort, body) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT (platform, kind, key) DO UPDATE SET shop=excluded.shop, sort=excluded.sort, "
                "body=excluded.body",
                (platform, kind, str(key), str(shop), sort, json.dumps(doc, ensure_ascii=False)),
            )
        return doc

    def get(self, platform: str, kind: str, key) -> dict | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM docs WHERE platform=? AND kind=? AND key=?", (platform, kind, str(key))
            ).fetchone()
        return json.loads(row["body"]) if row else None

    def find(
        self,
        platform: str,
        kind: str,
        *,
        shop=None,
        sort_from: float | None = None,
        sort_to: float | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict]:
        """Documents of a kind, ordered by their sort value then key; optionally one shop's and
        within [sort_from, sort_to]."""
        sql = "SELECT body FROM docs WHERE platform=? AND kind=?"
        args: list = [platform, kind]
        if shop is not None:
            sql += " AND shop=?"
            args.append(str(shop))
        if sort_from is not None:
            sql += " AND sort>=?"
            args.append(sort_from)
        if sort_to is not None:
            sql += " AND sort<=?"
            args.append(sort_to)
        sql += " ORDER BY sort, key"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args += [limit, offset]
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [json.loads(r["body"]) for r in rows]

    def delete(self, platform: str, kind: str, key) -> None:
        with self.tx():
            self._db.execute(
                "DELETE FROM docs WHERE platform=? AND kind=? AND key=?", (platform, kind, str(key))
            )

    def next_id(self, name: str, start: int = 1) -> int:
        with self.tx():
            row = self._db.execute("SELECT value FROM counters WHERE name=?", (name,)).fetchone()
            value = (row["value"] + 1) if row else start
            self._db.execute(
                "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value=?",
                (name, value, value),
            )
        return value

    def reset(self, platform: str) -> None:
        with self.tx():
            self._db.execute("DELETE FROM docs WHERE platform=?", (platform,))
            self._db.execute("DELETE FROM calls WHERE platform=?", (platform,))
            self._db.execute("DELETE FROM counters WHERE name LIKE ?", (f"{platform}:%",))

    # calls received -------------------------------------------------------------------------------
    def log_call(
        self, platform: str, *, shop="", method: str, path: str, operation: str = "", status: int = 0
    ):
        with self.tx():
            self._db.execute(
                "INSERT INTO calls (platform, shop, at, method, path, operation, status) "
                "VALUES (?,?,?,?,?,?,?)",
                (platform, str(shop), time.time(), method, path, operation, status),
            )

    def calls(self, platform: str, shop=None, limit: int = 200) -> list[dict]:
        sql = "SELECT * FROM calls WHERE platform=?"
        args: list = [platform]
        if shop is not None:
            sql += " AND shop=?"
            args.append(str(shop))
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        with self._lock:
            return [dict(r) for r in self._db.execute(sql, args).fetchall()][::-1]

    def count_calls(self, platform: str, operation: str | None = None) -> int:
        sql, args = "SELECT COUNT(*) FROM calls WHERE platform=?", [platform]
        if operation:
            sql += " AND operation=?"
            args.append(operation)
        with self._lock:
            return self._db.execute(sql, args).fetchone()[0]
