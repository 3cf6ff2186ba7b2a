"""The work store's tables, its schema version, and the steps that bring an older database up to date."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from sceneshop.tools.errors import SceneshopError

# The version lives in SQLite's own header field (PRAGMA user_version), so it is read without
# knowing any table. 0 = an empty file (nothing created yet); 1 = the layout below. A later layout
# adds a function to MIGRATIONS that takes a database from version N to N+1; `migrate` runs the
# missing steps in order, each step and its version bump in one transaction, so an interrupted
# upgrade leaves the previous version intact and the next open finishes it.
SCHEMA_VERSION = 1

KINDS = ("turn", "rerender", "batch")
STATUSES = ("queued", "running", "done", "failed", "cancelled")
FILE_KINDS = ("product", "mask", "result")

# Every table is keyed by user first: each query names the user, and no row is reachable without it.
_V1 = f"""
CREATE TABLE sessions (
    user TEXT NOT NULL,
    id TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    product TEXT,                -- file paths are relative to the user's folder
    mask TEXT,
    mask_given INTEGER NOT NULL DEFAULT 0,
    current_version INTEGER,     -- the version the next message is feedback on
    extra TEXT NOT NULL DEFAULT '{{}}',
    created REAL NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (user, id)
);
CREATE INDEX sessions_by_update ON sessions (user, updated);

CREATE TABLE messages (
    user TEXT NOT NULL,
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    text TEXT NOT NULL,
    kind TEXT,
    version INTEGER,
    images TEXT NOT NULL DEFAULT '[]',
    created REAL NOT NULL,
    PRIMARY KEY (user, session_id, seq),
    FOREIGN KEY (user, session_id) REFERENCES sessions (user, id) ON DELETE CASCADE
);

CREATE TABLE versions (
    user TEXT NOT NULL,
    session_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    recipe_id TEXT NOT NULL DEFAULT '',
    parent_id TEXT,
    recipe TEXT NOT NULL,
    images TEXT NOT NULL DEFAULT '[]',
    created REAL NOT NULL,
    PRIMARY KEY (user, session_id, number),
    FOREIGN KEY (user, session_id) REFERENCES sessions (user, id) ON DELETE CASCADE
);

CREATE TABLE jobs (
    user TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN {KINDS!r}),
    status TEXT NOT NULL CHECK (status IN {STATUSES!r}),
    title TEXT NOT NULL DEFAULT '',
    session_id TEXT,
    params TEXT NOT NULL DEFAULT '{{}}',
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER,
    message TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    updated REAL NOT NULL,
    error TEXT,
    results TEXT NOT NULL DEFAULT '{{}}',
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    worker TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user, id)
);
CREATE INDEX jobs_by_status ON jobs (user, status, created);

CREATE TABLE files (
    user TEXT NOT NULL,
    path TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN {FILE_KINDS!r}),
    session_id TEXT,
    job_id TEXT,
    bytes INTEGER NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (user, path)
);
CREATE INDEX files_by_age ON files (user, kind, created);
"""


def _create_v1(con: sqlite3.Connection) -> None:
    for statement in _V1.split(";"):
        if statement.strip():
            con.execute(statement)


# MIGRATIONS[n] takes a database at version n to version n + 1.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {0: _create_v1}


def unreadable(path: Path, why: str) -> SceneshopError:
    return SceneshopError(
        f"work store at {path} cannot be read ({why}); move it aside (sessions and jobs start empty) "
        "or restore a backup — it was not modified"
    )


def migrate(con: sqlite3.Connection, path: Path) -> int:
    """Brings the database to SCHEMA_VERSION; refuses a newer one untouched. Returns the version
    it found. Safe when several processes open a new store at once: each step re-reads the version
    under the write lock (BEGIN IMMEDIATE) and skips what another process already did."""
    found = _version(con)
    if found == 0:
        tables = [row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        if tables:
            names = ", ".join(tables[:5])
            raise unreadable(path, f"it is an SQLite database of something else (tables: {names})")
    if found > SCHEMA_VERSION:
        raise SceneshopError(
            f"work store at {path} has schema {found}, newer than this Sceneshop understands "
            f"({SCHEMA_VERSION}); upgrade Sceneshop — the store was not modified"
        )
    while True:
        con.execute("BEGIN IMMEDIATE")
        try:
            version = _version(con)
            if version >= SCHEMA_VERSION:
                con.execute("COMMIT")
                return found
            MIGRATIONS[version](con)
            con.execute(f"PRAGMA user_version = {version + 1}")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


def _version(con: sqlite3.Connection) -> int:
    return int(con.execute("PRAGMA user_version").fetchone()[0])
