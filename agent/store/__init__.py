"""The work store: chat sessions, jobs and result files per user, in embedded SQLite under the data dir."""

from sceneshop.agent.store.job import FINISHED, Job
from sceneshop.agent.store.schema import KINDS, SCHEMA_VERSION, STATUSES
from sceneshop.agent.store.store import CleanupReport, SessionInfo, WorkStore

__all__ = [
    "FINISHED", "KINDS", "SCHEMA_VERSION", "STATUSES", "CleanupReport", "Job", "SessionInfo", "WorkStore",
]
