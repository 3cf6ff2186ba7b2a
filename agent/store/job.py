"""One job as the store keeps it (a chat turn, a re-render, a catalog batch) and what its fields mean."""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any

FINISHED = ("done", "failed", "cancelled")


@dataclass(frozen=True)
class Job:
    """A unit of work of one user. `done`/`total` count its steps (products of a batch, images of a
    render); `params` is what is needed to run it again; `results` what it produced (file paths
    inside the user's folder, or for a batch its output folder and manifest)."""

    id: str
    user: str
    kind: str  # turn | rerender | batch
    status: str  # queued | running | done | failed | cancelled
    title: str
    session_id: str | None
    params: dict[str, Any]
    done: int
    total: int | None
    message: str  # the latest progress line ("12/200 products, 3.1/s")
    created: float
    started: float | None
    finished: float | None
    updated: float
    error: str | None
    results: dict[str, Any]
    cancel_requested: bool
    worker: str | None  # host:pid:start of the process running it
    attempts: int
    position: int | None = field(default=None)  # 1 = next among this user's queued jobs

    @property
    def seconds(self) -> float | None:
        """Time spent running: until it finished, or until now while it runs."""
        if self.started is None:
            return None
        return (self.finished or time.time()) - self.started

    @property
    def fraction(self) -> float | None:
        return self.done / self.total if self.total else None


def job_from_row(row: Any, position: int | None = None) -> Job:
    return Job(
        id=row["id"], user=row["user"], kind=row["kind"], status=row["status"], title=row["title"],
        session_id=row["session_id"], params=json.loads(row["params"]), done=row["done"],
        total=row["total"], message=row["message"], created=row["created"], started=row["started"],
        finished=row["finished"], updated=row["updated"], error=row["error"],
        results=json.loads(row["results"]), cancel_requested=bool(row["cancel_requested"]),
        worker=row["worker"], attempts=row["attempts"], position=position,
    )


# ------------------------------------------------------------------------ which process runs a job


def this_worker() -> str:
    """host:pid:start-time of this process. The start time (from /proc, where there is one) tells a
    live process from a later one that was given the same pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{_start_time(os.getpid())}"


def worker_gone(worker: str | None) -> bool:
    """True when `worker` ran on this host and that process no longer exists. A worker on another
    host cannot be checked from here and counts as alive."""
    if not worker:
        return False
    host, _, rest = worker.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return bool(start) and _start_time(pid) != start


def _start_time(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            stat = handle.read()
    except OSError:
        return ""
    # Field 22 (start time in clock ticks); the command name in field 2 may contain spaces.
    fields = stat[stat.rfind(")") + 2 :].split()
    state, start = (fields[0], fields[19]) if len(fields) > 19 else ("", "")
    return "" if state == "Z" else start  # a zombie has exited: treat it as gone
