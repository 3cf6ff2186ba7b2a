"""The work store on a real SQLite file in a temporary folder: sessions and jobs round-trip, survive
a killed process, stay per user on every path, expire by age, and refuse what they cannot read."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from sceneshop.agent.cli.jobs import cleanup as cleanup_cli
from sceneshop.agent.cli.jobs import jobs as jobs_cli
from sceneshop.agent.recipe import Recipe
from sceneshop.agent.store import SCHEMA_VERSION, WorkStore
from sceneshop.tools.errors import InputError, SceneshopError

ROOT = Path(__file__).resolve().parents[1]
DAY = 86400


@pytest.fixture
def store(tmp_path):
    with WorkStore(tmp_path / "data") as s:
        yield s


def picture(colour: str, size=(32, 24)) -> Image.Image:
    return Image.new("RGB", size, colour)


def chat_state(store: WorkStore, user: str, session_id: str, photo: Path) -> dict:
    """A session as agent/session.py would hand it over: a product photo from outside the store,
    two versions whose pictures the store saved, and the messages."""
    first, second = Recipe(request="on a beach at sunset"), None
    second = first.child("warmer")
    v1 = store.save_image(user, picture("orange"), session_id=session_id)
    v2 = store.save_image(user, picture("red"), session_id=session_id)
    return {
        "product": str(photo),
        "mask": None,
        "current": 2,
        "messages": [
            {"role": "user", "text": "on a beach at sunset"},
            {"role": "assistant", "text": "Version 1: beach", "kind": "result", "version": 1,
             "images": [v1]},
            {"role": "user", "text": "warmer"},
            {"role": "assistant", "text": "Version 2: warmer", "kind": "result", "version": 2,
             "images": [v2]},
        ],
        "versions": [
            {"number": 1, "recipe": first.to_json(), "images": [v1]},
            {"number": 2, "recipe": second.model_dump(mode="json"), "images": [str(v2)]},
        ],
        "extra": {"offered_colour": None},
    }


def test_a_session_round_trips_with_its_files(store, tmp_path):
    photo = tmp_path / "upload.png"
    picture("blue", (40, 30)).save(photo)
    sid = store.new_session_id()
    info = store.save_session("alice", sid, chat_state(store, "alice", sid, photo))
    assert (info.title, info.versions, info.messages) == ("on a beach at sunset", 2, 4)

    loaded = store.load_session("alice")  # no id: the latest one, as a page reload asks
    assert loaded["id"] == sid and loaded["current"] == 2
    # The photo was copied into the user's folder (the upload's temp file may vanish).
    assert loaded["product"] != photo and loaded["product"].read_bytes() == photo.read_bytes()
    assert store.files_root in loaded["product"].parents
    assert [m["text"] for m in loaded["messages"]] == ["on a beach at sunset", "Version 1: beach", "warmer",
                                                       "Version 2: warmer"]
    v1, v2 = loaded["versions"]
    assert Recipe.from_json(v2["recipe"]).parent_id == Recipe.from_json(v1["recipe"]).id == v1["recipe_id"]
    assert Image.open(v2["images"][0]).getpixel((0, 0)) == (255, 0, 0)
    assert info.thumbnail == v2["images"][0]  # the current version's picture
    assert not v1["expired"] and loaded["extra"] == {"offered_colour": None}

    # Saved again without version 2: its picture goes, the rest stays.
    state = chat_state(store, "alice", sid, photo)
    state["versions"], state["messages"], state["current"] = state["versions"][:1], state["messages"][:2], 1
    store.save_session("alice", sid, state)
    again = store.load_session("alice", sid)
    assert len(again["versions"]) == 1 and not v2["images"][0].exists()
    assert again["product"] == loaded["product"]  # the same photo is kept once, not copied again

    assert store.delete_session("alice", sid) is True
    assert store.list_sessions("alice") == [] and not again["product"].exists()
    with pytest.raises(InputError, match="no session"):
        store.load_session("alice", sid)


KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from PIL import Image
    from sceneshop.agent.store import WorkStore
    store = WorkStore(sys.argv[1])
    photo = store.save_image("alice", Image.new("RGB", (16, 16), "green"), session_id="s1", kind="product")
    shot = store.save_image("alice", Image.new("RGB", (16, 16), "red"), session_id="s1")
    store.save_session("alice", "s1", {
        "product": str(photo), "current": 1,
        "messages": [{"role": "user", "text": "neon street"}],
        "versions": [{"number": 1, "recipe": {"id": "r1", "request": "neon street"}, "images": [str(shot)]}],
    })
    job = store.create_job("alice", "batch", title="catalog", params={"catalog": "c.csv"}, start=True)
    store.update_job("alice", job.id, done=7, total=20, message="7/20 products")
    print(job.id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # no close, no cleanup: as a crash or a kill -9
    """
)


def test_the_store_survives_a_killed_process_and_reaps_its_job(tmp_path):
    data = tmp_path / "data"
    proc = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(data)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    job_id = proc.stdout.strip()
    with WorkStore(data) as store:  # the server restarting
        session = store.load_session("alice")
        assert session["id"] == "s1" and session["versions"][0]["recipe_id"] == "r1"
        assert session["product"].is_file() and session["versions"][0]["images"][0].is_file()
        job = store.get_job("alice", job_id)
        assert (job.status, job.done, job.total, job.message) == ("running", 7, 20, "7/20 products")
        [reaped] = store.reap_interrupted("alice")
        assert reaped.id == job_id and reaped.status == "failed" and "interrupted" in reaped.error
        assert store.retry_job("alice", job_id).status == "queued"  # and it can run again


def test_two_users_are_isolated_on_every_path(store, tmp_path):
    photo = tmp_path / "upload.png"
    picture("blue").save(photo)
    store.save_session("alice", "s1", chat_state(store, "alice", "s1", photo))
    job = store.create_job("alice", "rerender", title="alice's render", params={"recipe": "{}"})
    alice_file = store.load_session("alice", "s1")["versions"][0]["images"][0]

    # Bob sees nothing of Alice's: no session, no job, no file, on any path.
    assert store.list_sessions("bob") == [] and store.load_session("bob") is None
    with pytest.raises(InputError, match="no session"):
        store.load_session("bob", "s1")
    assert store.delete_session("bob", "s1") is False
    assert store.list_jobs("bob") == [] and store.claim_next("bob") is None
    for action in (store.get_job, store.cancel_job, store.retry_job, store.start_job, store.delete_job):
        with pytest.raises(InputError, match="no job"):
            action("bob", job.id)
    with pytest.raises(InputError, match="another user"):
        store.save_session("bob", "s2", {"product": str(alice_file)})
    # The same session id is another session for another user.
    bobs = {"product": str(photo), "messages": [{"role": "user", "text": "bob's own"}]}
    store.save_session("bob", "s1", bobs)
    assert store.load_session("bob", "s1")["messages"][0]["text"] == "bob's own"
    assert store.load_session("alice", "s1")["title"] == "on a beach at sunset"
    # Bob's clean-up, however aggressive, leaves Alice's files alone.
    report = store.cleanup("bob", 1, now=time.time() + 365 * DAY)
    assert alice_file not in report.files and alice_file.is_file()
    assert store.get_job("alice", job.id).status == "queued"
    # Each user's files live in their own folder, named by a hash (no user id on disk).
    folders = {p.name for p in store.files_root.iterdir()}
    assert len(folders) == 2 and not any("alice" in name or "bob" in name for name in folders)


def test_a_job_moves_through_its_states_and_refuses_wrong_moves(store):
    first = store.create_job("alice", "rerender", title="first")
    second = store.create_job("alice", "turn", title="second")
    assert (first.status, first.position, second.position) == ("queued", 1, 2)
    claimed = store.claim_next("alice")
    assert claimed.id == first.id and claimed.status == "running" and claimed.attempts == 1
    assert store.get_job("alice", second.id).position == 1
    running = store.update_job("alice", first.id, done=1, total=4, message="1/4")
    assert (running.done, running.total, running.fraction) == (1, 4, 0.25)
    assert store.cancel_job("alice", first.id).cancel_requested  # a running job is asked to stop
    assert store.update_job("alice", first.id, done=2).cancel_requested  # …and its runner sees it
    done = store.finish_job("alice", first.id, "cancelled", results={"images": []})
    assert done.status == "cancelled" and done.finished is not None
    with pytest.raises(InputError, match="already cancelled"):
        store.cancel_job("alice", first.id)
    with pytest.raises(InputError, match="cannot finish job .* it is cancelled"):
        store.finish_job("alice", first.id, "done")
    again = store.retry_job("alice", first.id)
    assert (again.status, again.cancel_requested, again.position) == ("queued", False, 1)  # keeps its place
    assert store.cancel_job("alice", second.id).status == "cancelled"  # queued: at once
    with pytest.raises(InputError, match="cancel it first"):
        store.delete_job("alice", first.id)
    with pytest.raises(InputError, match="kind"):
        store.create_job("alice", "upload")
    assert [j.title for j in store.list_jobs("alice", status="queued")] == ["first"]


def test_cleanup_removes_expired_results_and_keeps_photos(store, tmp_path):
    photo = tmp_path / "upload.png"
    picture("blue").save(photo)
    store.save_session("alice", "s1", chat_state(store, "alice", "s1", photo))
    job = store.create_job("alice", "rerender", start=True)
    result = store.save_image("alice", picture("white"), job_id=job.id)
    store.finish_job("alice", job.id, "done", results={"images": [str(result)]})
    assert store.cleanup("alice", 30).files == []  # nothing is 30 days old yet
    leftover = store.files_root / next(p.name for p in store.files_root.iterdir()) / "jobs" / ".half.tmp"
    leftover.write_bytes(b"interrupted")  # as an interrupted save leaves it, long ago
    os.utime(leftover, (time.time() - 40 * DAY, time.time() - 40 * DAY))
    later = time.time() + 31 * DAY
    dry = store.cleanup("alice", 30, dry_run=True, now=later)
    assert len(dry.files) == 3 and dry.jobs == [job.id] and dry.leftovers == [leftover]
    assert all(p.exists() for p in dry.files + dry.leftovers)  # a dry run removes nothing

    report = store.cleanup("alice", 30, now=later)
    assert not any(p.exists() for p in report.files + report.leftovers)
    session = store.load_session("alice", "s1")
    assert session["product"].is_file()  # product photos stay with their session
    assert all(v["expired"] and v["images"] == [] for v in session["versions"])
    assert Recipe.from_json(session["versions"][1]["recipe"]).request == "warmer"  # the recipe stays
    with pytest.raises(InputError, match="no job"):
        store.get_job("alice", job.id)
    # A session saved from the loaded state (expired pictures left out) saves cleanly.
    store.save_session("alice", "s1", {**session, "product": session["product"]})


def test_the_store_refuses_files_it_cannot_read_and_leaves_them_alone(tmp_path):
    folder = tmp_path / "data" / "work"
    folder.mkdir(parents=True)
    db = folder / "work.sqlite3"
    db.write_bytes(b"not a database at all")
    with pytest.raises(SceneshopError, match="not an SQLite database.*not modified"):
        WorkStore(tmp_path / "data")
    assert db.read_bytes() == b"not a database at all"

    db.unlink()
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE photos (id INTEGER)")
    con.commit()
    con.close()
    with pytest.raises(SceneshopError, match="something else .*photos"):
        WorkStore(tmp_path / "data")

    db.unlink()
    with WorkStore(tmp_path / "data") as store:
        store.create_job("alice", "batch")
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")  # written by a newer Sceneshop
    con.commit()
    con.close()
    with pytest.raises(SceneshopError, match="newer than this Sceneshop understands"):
        WorkStore(tmp_path / "data")


JOB_WRITER = textwrap.dedent(
    """
    import sys
    from sceneshop.agent.store import WorkStore
    with WorkStore(sys.argv[1]) as store:
        for i in range(40):
            job = store.create_job("alice", "rerender", title=f"{sys.argv[2]}-{i}")
            store.claim_next("alice")  # two workers claiming from one queue
            store.list_jobs("alice", limit=5)
    """
)


def test_two_processes_writing_at_once_lose_nothing_and_never_claim_a_job_twice(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", JOB_WRITER, str(tmp_path), name], cwd=ROOT)
             for name in ("a", "b")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    with WorkStore(tmp_path) as store:
        found = store.list_jobs("alice", limit=None)
    assert len(found) == 80
    assert all(j.attempts == (1 if j.status == "running" else 0) for j in found)  # claimed at most once
    assert sum(j.status == "running" for j in found) == 80  # each claim took a different job


def test_jobs_and_cleanup_commands(tmp_path):
    data = str(tmp_path / "data")
    with WorkStore(data) as store:
        job = store.create_job("alice", "batch", title="spring catalog", params={"catalog": "c.csv"},
                               start=True)
        store.update_job("alice", job.id, done=3, total=10)
        image = store.save_image("alice", picture("white"), job_id=job.id)
    runner = CliRunner()
    listed = runner.invoke(jobs_cli, ["list", "--user", "alice", "--data-dir", data])
    assert listed.exit_code == 0 and job.id in listed.output and "3/10" in listed.output
    assert "no jobs for bob" in runner.invoke(jobs_cli, ["list", "--user", "bob", "--data-dir", data]).output
    shown = runner.invoke(jobs_cli, ["show", job.id, "--user", "alice", "--data-dir", data])
    assert '"catalog": "c.csv"' in shown.output and "running" in shown.output
    cancelled = runner.invoke(jobs_cli, ["cancel", job.id, "--user", "alice", "--data-dir", data])
    assert "asked" in cancelled.output
    assert "(cancelling)" in runner.invoke(jobs_cli, ["list", "--user", "alice", "--data-dir", data]).output
    missing = runner.invoke(jobs_cli, ["show", job.id, "--user", "bob", "--data-dir", data])
    assert isinstance(missing.exception, InputError)

    # The picture was made 40 days ago (its row says so; retention counts from there).
    con = sqlite3.connect(Path(data) / "work" / "work.sqlite3")
    con.execute("UPDATE files SET created = ?", (time.time() - 40 * DAY,))
    con.commit()
    con.close()
    dry = runner.invoke(cleanup_cli, ["--days", "30", "--dry-run", "--data-dir", data])
    assert dry.exit_code == 0 and "would remove 1 files" in dry.output and str(image) in dry.output
    assert image.exists()
    done = runner.invoke(cleanup_cli, ["--days", "30", "--data-dir", data])
    assert "removed 1 files" in done.output and not image.exists()
