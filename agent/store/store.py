"""WorkStore: a merchant's chat sessions, jobs and result files in one embedded SQLite database under
<data_dir>/work, per user, safe to share between the studio's threads and other processes."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from PIL import Image

from sceneshop.agent.memory.entry import check_user
from sceneshop.agent.store.files import UserFiles
from sceneshop.agent.store.job import FINISHED, Job, job_from_row, this_worker, worker_gone
from sceneshop.agent.store.schema import FILE_KINDS, KINDS, STATUSES, migrate, unreadable
from sceneshop.tools.errors import InputError, SceneshopError
from sceneshop.tools.imageio import encode_png

_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
BUSY_TIMEOUT_S = 30.0


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def check_id(value: object, what: str = "id") -> str:
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        raise InputError(f"{value!r} is not a valid {what}: use 1-64 letters, digits, _ or -")
    return value


@dataclass(frozen=True)
class SessionInfo:
    """One line of a user's session list."""

    id: str
    title: str
    created: float
    updated: float
    versions: int
    messages: int
    thumbnail: Path | None  # the current version's first picture, while it is kept


@dataclass
class CleanupReport:
    """What `cleanup` removed (or, in a dry run, would remove) for one user."""

    user: str
    files: list[Path] = field(default_factory=list)  # expired result files
    leftovers: list[Path] = field(default_factory=list)  # files no row names (an interrupted save)
    jobs: list[str] = field(default_factory=list)  # finished jobs older than the cut-off
    bytes: int = 0


class WorkStore:
    """Sessions, jobs and result files of every user, in <data_dir>/work/work.sqlite3 and
    <data_dir>/work/files/<hash of user>/. Every method takes the user id first, every query names
    it, and every path handed in or out is checked to lie in that user's folder: another user's
    session, job or file behaves exactly like one that does not exist (`users()` alone, for
    `sceneshop cleanup`, lists user ids).

    One writer at a time: this process writes through one connection under a lock, each write in a
    BEGIN IMMEDIATE transaction (SQLite's write lock, taken up front, so two processes never
    deadlock upgrading a read); WAL lets readers in other processes go on meanwhile."""

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir).expanduser()
        self.folder = self.data_dir / "work"
        self.path = self.folder / "work.sqlite3"
        self.files_root = self.files_root_of(self.data_dir)
        self._lock = threading.RLock()
        self._con: sqlite3.Connection | None = None
        self._pid = os.getpid()
        with self._lock:
            self._open()

    @staticmethod
    def files_root_of(data_dir: Path | str) -> Path:
        """Where the store under `data_dir` keeps its files (the studio serves them, per user)."""
        return Path(data_dir).expanduser() / "work" / "files"

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def __enter__(self) -> WorkStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------- sessions

    @staticmethod
    def new_session_id() -> str:
        return new_id()

    def save_session(self, user: str, session_id: str, state: Mapping[str, Any]) -> SessionInfo:
        """Stores the whole state of one chat session, replacing what was stored under that id.

        `state` is plain data: {"title": str, "product": path|None, "mask": path|None,
        "mask_given": bool, "current": int|None, "messages": [{"role": "user"|"assistant",
        "text": str, "kind": str|None, "version": int|None, "images": [path, ...]}, ...],
        "versions": [{"number": int, "recipe": JSON text or dict, "images": [path, ...]}, ...],
        "extra": {JSON-able}}. Files outside the store are copied into the user's folder (by
        content, so an unchanged photo is copied once); files already in it are kept where they
        are; a stored file that has meanwhile expired (see `cleanup`) is left out. Files of this
        session that the new state no longer names are removed."""
        user = check_user(user)
        session_id = check_id(session_id, "session id")
        if not isinstance(state, Mapping):
            raise InputError(f"a session's state must be a mapping, not {type(state).__name__}")
        files = UserFiles(self.files_root, user)
        kept: dict[str, str] = {}  # relative path -> kind
        into = f"sessions/{session_id}"

        def keep(path: object, kind: str) -> str | None:
            if path is None or path == "":
                return None
            if not isinstance(path, str | Path):
                raise InputError(f"a session file must be a path, not {type(path).__name__}")
            rel = files.relative(path)
            if rel is not None and not files.absolute(rel).is_file():
                return None  # expired or removed meanwhile: the recipe still says how to remake it
            if (
                rel is None  # from outside the store
                or (rel.startswith("sessions/") and not rel.startswith(into + "/"))  # another session's
                or not PurePosixPath(rel).name.startswith(kind + "-")  # kept as something else
            ):
                rel = files.copy_in(path, into, kind)
            kept.setdefault(rel, kind)
            return rel

        product = keep(state.get("product"), "product")
        mask = keep(state.get("mask"), "mask")
        versions = [_version_row(v, i, keep) for i, v in enumerate(_list(state, "versions"))]
        messages = [_message_row(m, i, keep) for i, m in enumerate(_list(state, "messages"))]
        current = state.get("current")
        if current is not None and not isinstance(current, int):
            raise InputError(f"session 'current' must be a version number or None, not {current!r}")
        extra = _json_text(state.get("extra") or {}, "session 'extra'")
        title = str(state.get("title") or _title_from(messages))[:200]
        now = time.time()
        stale: list[Path] = []
        with self._write() as con:
            row = con.execute(
                "SELECT created FROM sessions WHERE user = ? AND id = ?", (user, session_id)
            ).fetchone()
            created = row["created"] if row else now
            con.execute(
                "INSERT INTO sessions (user, id, title, product, mask, mask_given, current_version, extra, "
                "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (user, id) DO UPDATE SET title = excluded.title, product = excluded.product, "
                "mask = excluded.mask, "
                "mask_given = excluded.mask_given, current_version = excluded.current_version, "
                "extra = excluded.extra, updated = excluded.updated",
                (user, session_id, title, product, mask, int(bool(state.get("mask_given"))), current,
                 extra, created, now),
            )
            con.execute("DELETE FROM messages WHERE user = ? AND session_id = ?", (user, session_id))
            con.execute("DELETE FROM versions WHERE user = ? AND session_id = ?", (user, session_id))
            con.executemany(
                "INSERT INTO versions (user, session_id, number, recipe_id, parent_id, recipe, images, "
                "created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(user, session_id, *v, now) for v in versions],
            )
            con.executemany(
                "INSERT INTO messages (user, session_id, seq, role, text, kind, version, images, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(user, session_id, i, *m, now) for i, m in enumerate(messages)],
            )
            for rel, kind in kept.items():
                self._register(con, user, files, rel, kind, session_id=session_id)
            for old in con.execute(
                "SELECT path FROM files WHERE user = ? AND session_id = ? AND path LIKE ?",
                (user, session_id, into + "/%"),
            ).fetchall():
                if old["path"] not in kept:
                    con.execute("DELETE FROM files WHERE user = ? AND path = ?", (user, old["path"]))
                    stale.append(files.absolute(old["path"]))
        for path in stale:
            path.unlink(missing_ok=True)
        return self._session_infos(user, session_id, 1)[0]

    def load_session(self, user: str, session_id: str | None = None) -> dict[str, Any] | None:
        """The state `save_session` stored, with absolute paths (a picture that has expired is left
        out and its version marked "expired": True). Without an id: the user's most recently
        updated session, or None when there is none. An unknown id is an InputError."""
        user = check_user(user)
        files = UserFiles(self.files_root, user)
        with self._read() as con:
            if session_id is None:
                row = con.execute(
                    "SELECT * FROM sessions WHERE user = ? ORDER BY updated DESC, id LIMIT 1", (user,)
                ).fetchone()
                if row is None:
                    return None
            else:
                session_id = check_id(session_id, "session id")
                row = con.execute(
                    "SELECT * FROM sessions WHERE user = ? AND id = ?", (user, session_id)
                ).fetchone()
                if row is None:
                    raise InputError(f"there is no session {session_id}; list_sessions shows yours")
            versions = con.execute(
                "SELECT * FROM versions WHERE user = ? AND session_id = ? ORDER BY number", (user, row["id"])
            ).fetchall()
            messages = con.execute(
                "SELECT * FROM messages WHERE user = ? AND session_id = ? ORDER BY seq", (user, row["id"])
            ).fetchall()

        def present(rel: str | None) -> Path | None:
            if rel is None:
                return None
            path = files.absolute(rel)
            return path if path.is_file() else None

        def pictures(text: str) -> tuple[list[Path], bool]:
            listed = json.loads(text)
            found = [p for p in (present(rel) for rel in listed) if p is not None]
            return found, len(found) < len(listed)

        out_versions = []
        for v in versions:
            images, expired = pictures(v["images"])
            out_versions.append({
                "number": v["number"], "recipe": v["recipe"], "recipe_id": v["recipe_id"],
                "parent_id": v["parent_id"], "images": images, "expired": expired,
            })
        return {
            "id": row["id"], "title": row["title"], "created": row["created"], "updated": row["updated"],
            "product": present(row["product"]), "mask": present(row["mask"]),
            "mask_given": bool(row["mask_given"]), "current": row["current_version"],
            "messages": [
                {"role": m["role"], "text": m["text"], "kind": m["kind"], "version": m["version"],
                 "images": pictures(m["images"])[0]}
                for m in messages
            ],
            "versions": out_versions,
            "extra": json.loads(row["extra"]),
        }

    def list_sessions(self, user: str, limit: int | None = None) -> list[SessionInfo]:
        """The user's sessions, most recently updated first."""
        return self._session_infos(check_user(user), None, limit)

    def delete_session(self, user: str, session_id: str) -> bool:
        """Removes the session, its messages, versions and files; False when there was none."""
        user = check_user(user)
        session_id = check_id(session_id, "session id")
        files = UserFiles(self.files_root, user)
        with self._write() as con:
            gone = con.execute("DELETE FROM sessions WHERE user = ? AND id = ?", (user, session_id)).rowcount
            con.execute(
                "DELETE FROM files WHERE user = ? AND session_id = ? AND path LIKE ?",
                (user, session_id, f"sessions/{session_id}/%"),
            )
        shutil.rmtree(files.absolute(f"sessions/{session_id}"), ignore_errors=True)
        return bool(gone)

    def save_image(
        self, user: str, image: Image.Image, *, session_id: str | None = None, job_id: str | None = None,
        kind: str = "result", metadata: dict[str, str] | None = None,
    ) -> Path:
        """Writes a picture into the user's folder (under the session's or the job's sub-folder,
        named by its content) and registers it, so retention applies to it; returns its path, which
        `save_session` then accepts as is."""
        if not isinstance(image, Image.Image):
            raise InputError(f"save_image needs a PIL image, not {type(image).__name__}")
        return self.save_file(user, encode_png(image, metadata), ".png", session_id=session_id,
                              job_id=job_id, kind=kind)

    def save_file(
        self, user: str, data: bytes, suffix: str, *, session_id: str | None = None,
        job_id: str | None = None, kind: str = "result",
    ) -> Path:
        """`save_image` for bytes that are already encoded."""
        user = check_user(user)
        if (session_id is None) == (job_id is None):
            raise InputError("a stored file belongs to one session or one job: give session_id or job_id")
        into = f"sessions/{check_id(session_id, 'session id')}" if session_id else f"jobs/{check_id(job_id)}"
        files = UserFiles(self.files_root, user)
        if kind not in FILE_KINDS:
            raise InputError(f"file kind {kind!r} is not one of {', '.join(FILE_KINDS)}")
        rel = files.write(data, into, f"{kind}-{hashlib.sha256(data).hexdigest()[:24]}{suffix}")
        with self._write() as con:
            self._register(con, user, files, rel, kind, session_id=session_id, job_id=job_id)
        return files.absolute(rel)

    # ----------------------------------------------------------------------------------- jobs

    def create_job(
        self, user: str, kind: str, *, title: str = "", params: Mapping[str, Any] | None = None,
        session_id: str | None = None, total: int | None = None, start: bool = False,
    ) -> Job:
        """A new job, queued (or already running in this process with `start=True`)."""
        user = check_user(user)
        if kind not in KINDS:
            raise InputError(f"job kind {kind!r} is not one of {', '.join(KINDS)}")
        if session_id is not None:
            check_id(session_id, "session id")
        job_id, now = new_id(), time.time()
        status, started, worker, attempts = "queued", None, None, 0
        if start:
            status, started, worker, attempts = "running", now, this_worker(), 1
        with self._write() as con:
            con.execute(
                "INSERT INTO jobs (user, id, kind, status, title, session_id, params, total, created, "
                "started, updated, worker, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (user, job_id, kind, status, str(title)[:200], session_id,
                 _json_text(dict(params or {}), "job params"), total, now, started, now, worker, attempts),
            )
        return self.get_job(user, job_id)

    def get_job(self, user: str, job_id: str) -> Job:
        user = check_user(user)
        job_id = _check_job_id(job_id)
        with self._read() as con:
            row = con.execute("SELECT * FROM jobs WHERE user = ? AND id = ?", (user, job_id)).fetchone()
            if row is None:
                raise InputError(f"there is no job {job_id}; `sceneshop jobs list` shows yours")
            return job_from_row(row, self._position(con, row))

    def list_jobs(
        self, user: str, *, status: str | None = None, kind: str | None = None, limit: int | None = 50
    ) -> list[Job]:
        """The user's jobs, newest first; queued ones carry their place in the user's queue."""
        user = check_user(user)
        where, args = ["user = ?"], [user]
        if status is not None:
            if status not in STATUSES:
                raise InputError(f"status {status!r} is not one of {', '.join(STATUSES)}")
            where.append("status = ?")
            args.append(status)
        if kind is not None:
            if kind not in KINDS:
                raise InputError(f"job kind {kind!r} is not one of {', '.join(KINDS)}")
            where.append("kind = ?")
            args.append(kind)
        with self._read() as con:
            rows = con.execute(
                f"SELECT * FROM jobs WHERE {' AND '.join(where)} ORDER BY created DESC, id LIMIT ?",
                (*args, limit or -1),
            ).fetchall()
            return [job_from_row(r, self._position(con, r)) for r in rows]

    def start_job(self, user: str, job_id: str) -> Job:
        """queued -> running in this process."""
        return self._move(user, job_id, ("queued",), "start", _running(), attempt=True)

    def claim_next(self, user: str, kinds: tuple[str, ...] = KINDS) -> Job | None:
        """The user's oldest queued job of those kinds, now running in this process; None when none
        waits. For a worker that serves a queue (the studio's)."""
        user = check_user(user)
        marks = ",".join("?" * len(kinds))
        with self._write() as con:
            row = con.execute(
                f"SELECT id FROM jobs WHERE user = ? AND status = 'queued' AND kind IN ({marks}) "
                "ORDER BY created, id LIMIT 1", (user, *kinds),
            ).fetchone()
            if row is None:
                return None
            # Selected and started in one write transaction: two workers never claim the same job.
            changes = _running()
            con.execute(
                f"UPDATE jobs SET {', '.join(f'{c} = ?' for c in changes)}, updated = ?, "
                "attempts = attempts + 1 WHERE user = ? AND id = ?",
                (*changes.values(), time.time(), user, row["id"]),
            )
        return self.get_job(user, row["id"])

    def update_job(
        self, user: str, job_id: str, *, done: int | None = None, total: int | None = None,
        message: str | None = None, results: Mapping[str, Any] | None = None,
    ) -> Job:
        """Progress of a running job. Returns the job as stored, so the runner sees
        `cancel_requested` (set by `cancel_job` from anywhere) and can stop."""
        changes: dict[str, Any] = {}
        if done is not None:
            changes["done"] = int(done)
        if total is not None:
            changes["total"] = int(total)
        if message is not None:
            changes["message"] = str(message)[:500]
        if results is not None:
            changes["results"] = _json_text(dict(results), "job results")
        return self._move(user, job_id, ("running",), "update", changes)

    def finish_job(
        self, user: str, job_id: str, status: str, *, error: str | None = None,
        results: Mapping[str, Any] | None = None, message: str | None = None,
    ) -> Job:
        """running -> done | failed | cancelled, with the error (for failed) and what it produced."""
        if status not in FINISHED:
            raise InputError(f"a job finishes as one of {', '.join(FINISHED)}, not {status!r}")
        changes: dict[str, Any] = {"status": status, "finished": time.time(), "error": error}
        if results is not None:
            changes["results"] = _json_text(dict(results), "job results")
        if message is not None:
            changes["message"] = str(message)[:500]
        return self._move(user, job_id, ("running",), "finish", changes)

    def cancel_job(self, user: str, job_id: str) -> Job:
        """A queued job is cancelled at once; a running one is asked to stop (its runner sees
        `cancel_requested` at its next progress update and finishes as cancelled)."""
        job = self.get_job(user, job_id)
        if job.status == "queued":
            changes = {"status": "cancelled", "finished": time.time()}
            return self._move(user, job.id, ("queued",), "cancel", changes)
        if job.status == "running":
            return self._move(user, job.id, ("running",), "cancel", {"cancel_requested": 1})
        raise InputError(f"job {job.id} is already {job.status}; there is nothing to cancel")

    def retry_job(self, user: str, job_id: str) -> Job:
        """A failed or cancelled job goes back to the queue with the same parameters (a batch then
        resumes from its manifest: what was done stays done)."""
        return self._move(user, job_id, ("failed", "cancelled"), "retry", {
            "status": "queued", "started": None, "finished": None, "error": None, "cancel_requested": 0,
            "worker": None, "done": 0, "message": "",
        })

    def delete_job(self, user: str, job_id: str) -> bool:
        """Removes a finished job's row and the files stored under it; a queued or running job must
        be cancelled first."""
        job = self.get_job(user, job_id)
        if job.status not in FINISHED:
            raise InputError(f"job {job.id} is {job.status}; cancel it first")
        files = UserFiles(self.files_root, job.user)
        with self._write() as con:
            con.execute("DELETE FROM jobs WHERE user = ? AND id = ?", (job.user, job.id))
            con.execute("DELETE FROM files WHERE user = ? AND job_id = ?", (job.user, job.id))
        shutil.rmtree(files.absolute(f"jobs/{job.id}"), ignore_errors=True)
        return True

    def reap_interrupted(self, user: str) -> list[Job]:
        """Running jobs whose process on this machine has died (killed, crashed, a restart) become
        failed, saying so; returns them. Call it before showing or serving a user's jobs."""
        user = check_user(user)
        with self._read() as con:
            rows = con.execute(
                "SELECT id, worker FROM jobs WHERE user = ? AND status = 'running'", (user,)
            ).fetchall()
        reaped = []
        for row in rows:
            if not worker_gone(row["worker"]):
                continue
            pid = row["worker"].split(":")[1]
            error = (f"interrupted: the process that ran it (pid {pid}) stopped; "
                     f"`sceneshop jobs retry {row['id']}` runs it again")
            try:
                reaped.append(self._move(user, row["id"], ("running",), "reap",
                                         {"status": "failed", "finished": time.time(), "error": error}))
            except InputError:
                pass  # it finished or was reaped by another process meanwhile
        return reaped

    # -------------------------------------------------------------------------------- cleanup

    def users(self) -> list[str]:
        """Every user id with something stored: the one query that spans users, for `sceneshop
        cleanup`, which then works through each user's own rows and folder in turn."""
        with self._read() as con:
            rows = con.execute(
                "SELECT user FROM sessions UNION SELECT user FROM jobs UNION SELECT user FROM files "
                "ORDER BY 1"
            ).fetchall()
        return [r["user"] for r in rows]

    def cleanup(self, user: str, older_than_days: float, *, dry_run: bool = False,
                now: float | None = None) -> CleanupReport:
        """Removes the user's result files older than `older_than_days` (their rows too), finished
        jobs older than that, and files in the user's folder that no row names and that are older
        than that (left by an interrupted save). Product photos and masks of sessions stay until
        their session is deleted; a version whose picture expired keeps its recipe, so it can be
        rendered again. Batch output folders chosen with -o are the merchant's and never touched."""
        user = check_user(user)
        if older_than_days <= 0:
            raise InputError(f"retention must be a positive number of days (got {older_than_days})")
        cutoff = (now if now is not None else time.time()) - older_than_days * 86400
        files = UserFiles(self.files_root, user)
        report = CleanupReport(user)
        with self._read() as con:
            expired = con.execute(
                "SELECT path, bytes FROM files WHERE user = ? AND kind = 'result' AND created < ?",
                (user, cutoff),
            ).fetchall()
            old_jobs = [r["id"] for r in con.execute(
                "SELECT id FROM jobs WHERE user = ? AND status IN ('done', 'failed', 'cancelled') "
                "AND finished < ?", (user, cutoff),
            )]
            known = {r["path"] for r in con.execute("SELECT path FROM files WHERE user = ?", (user,))}
        report.files = [files.absolute(r["path"]) for r in expired]
        report.bytes = sum(r["bytes"] for r in expired)
        report.jobs = old_jobs
        if files.folder.is_dir():
            for path in sorted(files.folder.rglob("*")):
                if not path.is_file() or path.relative_to(files.folder).as_posix() in known:
                    continue
                stat = path.stat()
                if stat.st_mtime < cutoff:
                    report.leftovers.append(path)
                    report.bytes += stat.st_size
        if dry_run:
            return report
        with self._write() as con:
            con.executemany("DELETE FROM files WHERE user = ? AND path = ?",
                            [(user, r["path"]) for r in expired])
            con.executemany("DELETE FROM jobs WHERE user = ? AND id = ?", [(user, j) for j in old_jobs])
        for path in report.files + report.leftovers:
            path.unlink(missing_ok=True)
        _prune_empty(files.folder)
        return report

    # ------------------------------------------------------------------------------ internals

    def _open(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise unreadable(self.path, f"{exc.strerror or exc}: {self.folder}") from None
        if self.path.exists():
            if self.path.is_dir():
                raise unreadable(self.path, "it is a folder, not a file")
            try:
                with open(self.path, "rb") as handle:
                    header = handle.read(16)
            except OSError as exc:
                raise unreadable(self.path, exc.strerror or str(exc)) from None
            if header and header != b"SQLite format 3\x00":
                raise unreadable(self.path, "it is not an SQLite database")
        try:
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                  check_same_thread=False)
        except sqlite3.Error as exc:
            raise unreadable(self.path, str(exc)) from None
        con.row_factory = sqlite3.Row
        try:
            con.execute("PRAGMA journal_mode = WAL")
            # In WAL mode NORMAL loses no committed transaction when a process is killed; only a
            # power cut may lose the last few, which is acceptable for a job list.
            con.execute("PRAGMA synchronous = NORMAL")
            con.execute("PRAGMA foreign_keys = ON")
            migrate(con, self.path)
        except SceneshopError:
            con.close()
            raise
        except sqlite3.Error as exc:
            con.close()
            raise unreadable(self.path, str(exc)) from None
        self._con = con
        self._pid = os.getpid()

    def _connection(self) -> sqlite3.Connection:
        if self._con is None or self._pid != os.getpid():
            # A forked child must not use its parent's connection (SQLite forbids it).
            self._con = None
            self._open()
        return self._con  # type: ignore[return-value]

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._errors(writing=False):
            yield self._connection()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._errors(writing=True):
            con = self._connection()
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    @contextmanager
    def _errors(self, writing: bool) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "locked" in text or "busy" in text:
                raise SceneshopError(
                    f"work store at {self.path} stayed busy for {BUSY_TIMEOUT_S:.0f} s (another process "
                    "holds it); try again"
                ) from None
            raise self._failure(exc, writing) from None
        except sqlite3.Error as exc:
            raise self._failure(exc, writing) from None

    def _failure(self, exc: sqlite3.Error, writing: bool) -> SceneshopError:
        if writing:
            return SceneshopError(
                f"work store at {self.path} could not be written ({exc}); check free disk space and "
                "permissions, then try again"
            )
        return unreadable(self.path, str(exc))

    def _move(self, user: str, job_id: str, allowed: tuple[str, ...], verb: str, changes: dict[str, Any],
              *, attempt: bool = False) -> Job:
        """One guarded change of a job's columns: applied only while its status is one of
        `allowed`, in one transaction, so two processes never both start (or finish) the same job."""
        user = check_user(user)
        job_id = _check_job_id(job_id)
        sets = [f"{column} = ?" for column in changes] + ["updated = ?"]
        if attempt:
            sets.append("attempts = attempts + 1")
        marks = ",".join("?" * len(allowed))
        with self._write() as con:
            changed = con.execute(
                f"UPDATE jobs SET {', '.join(sets)} WHERE user = ? AND id = ? AND status IN ({marks})",
                (*changes.values(), time.time(), user, job_id, *allowed),
            ).rowcount
        if changed:
            return self.get_job(user, job_id)
        job = self.get_job(user, job_id)  # raises for an unknown job
        raise InputError(f"cannot {verb} job {job.id}: it is {job.status} (needs {' or '.join(allowed)})")

    @staticmethod
    def _position(con: sqlite3.Connection, row: sqlite3.Row) -> int | None:
        if row["status"] != "queued":
            return None
        ahead = con.execute(
            "SELECT COUNT(*) FROM jobs WHERE user = ? AND status = 'queued' AND (created < ? OR "
            "(created = ? AND id < ?))", (row["user"], row["created"], row["created"], row["id"]),
        ).fetchone()[0]
        return ahead + 1

    @staticmethod
    def _register(con: sqlite3.Connection, user: str, files: UserFiles, rel: str, kind: str, *,
                  session_id: str | None = None, job_id: str | None = None) -> None:
        path = files.absolute(rel)
        con.execute(
            "INSERT OR IGNORE INTO files (user, path, kind, session_id, job_id, bytes, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (user, rel, kind, session_id, job_id, path.stat().st_size, time.time()),
        )

    def _session_infos(self, user: str, session_id: str | None, limit: int | None) -> list[SessionInfo]:
        files = UserFiles(self.files_root, user)
        where, args = "s.user = ?", [user]
        if session_id is not None:
            where, args = "s.user = ? AND s.id = ?", [user, session_id]
        with self._read() as con:
            rows = con.execute(
                "SELECT s.id, s.title, s.created, s.updated, "
                "(SELECT COUNT(*) FROM versions v WHERE v.user = s.user AND v.session_id = s.id) "
                "AS n_versions, "
                "(SELECT COUNT(*) FROM messages m WHERE m.user = s.user AND m.session_id = s.id) "
                "AS n_messages, "
                # The current version's pictures, else the newest version's.
                "COALESCE((SELECT images FROM versions v WHERE v.user = s.user AND v.session_id = s.id "
                " AND v.number = s.current_version), (SELECT images FROM versions v WHERE v.user = s.user "
                " AND v.session_id = s.id ORDER BY v.number DESC LIMIT 1)) AS pictures "
                f"FROM sessions s WHERE {where} ORDER BY s.updated DESC, s.id LIMIT ?", (*args, limit or -1),
            ).fetchall()
        infos = []
        for row in rows:
            pictures = [files.absolute(rel) for rel in json.loads(row["pictures"] or "[]")]
            thumbnail = pictures[0] if pictures and pictures[0].is_file() else None
            infos.append(SessionInfo(row["id"], row["title"], row["created"], row["updated"],
                                     row["n_versions"], row["n_messages"], thumbnail))
        return infos

# ---------------------------------------------------------------------------------- helpers


def _running() -> dict[str, Any]:
    return {"status": "running", "started": time.time(), "finished": None, "worker": this_worker(),
            "error": None}


def _check_job_id(value: object) -> str:
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        raise InputError(f"{value!r} is not a job id; `sceneshop jobs list` shows the ids")
    return value


def _list(state: Mapping[str, Any], key: str) -> list[Any]:
    value = state.get(key) or []
    if not isinstance(value, list | tuple):
        raise InputError(f"session '{key}' must be a list, not {type(value).__name__}")
    return list(value)


def _json_text(value: Any, what: str) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} must be JSON data (text, numbers, lists, mappings): {exc}") from None


def _version_row(version: Any, index: int, keep) -> tuple:
    if not isinstance(version, Mapping):
        raise InputError(f"session version {index + 1} must be a mapping, not {type(version).__name__}")
    number = version.get("number", index + 1)
    if not isinstance(number, int) or number < 1:
        raise InputError(f"session version {index + 1}: 'number' must be a whole number ≥ 1, not {number!r}")
    recipe = version.get("recipe")
    if isinstance(recipe, str):
        try:
            parsed = json.loads(recipe)
        except json.JSONDecodeError as exc:
            raise InputError(f"session version {number}: the recipe is not JSON ({exc.msg})") from None
        text = recipe
    else:
        parsed, text = recipe, _json_text(recipe, f"session version {number}'s recipe")
    if not isinstance(parsed, dict):
        raise InputError(f"session version {number}: the recipe must be a JSON object")
    images = [rel for rel in (keep(p, "result") for p in version.get("images") or []) if rel is not None]
    return (number, str(parsed.get("id") or ""), parsed.get("parent_id"), text, json.dumps(images))


def _message_row(message: Any, index: int, keep) -> tuple:
    if not isinstance(message, Mapping):
        raise InputError(f"session message {index + 1} must be a mapping, not {type(message).__name__}")
    role = message.get("role")
    if role not in ("user", "assistant"):
        raise InputError(f"session message {index + 1}: role must be 'user' or 'assistant', not {role!r}")
    version = message.get("version")
    if version is not None and not isinstance(version, int):
        raise InputError(f"session message {index + 1}: 'version' must be a number or None")
    images = [rel for rel in (keep(p, "result") for p in message.get("images") or []) if rel is not None]
    kind = message.get("kind")
    text = str(message.get("text") or "")
    return (role, text, None if kind is None else str(kind), version, json.dumps(images))


def _title_from(messages: list[tuple]) -> str:
    first = next((m[1] for m in messages if m[0] == "user" and m[1].strip()), "")
    text = " ".join(first.split())
    return text if len(text) <= 60 else text[:59] + "…"


def _prune_empty(folder: Path) -> None:
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir():
            try:
                path.rmdir()
            except OSError:
                pass  # not empty
