"""The studio's batch jobs without the web page (agent/jobs.py): an upload of photos and zips becomes
a catalog with every file left out named, and the server's worker thread runs queued batches of
several users in turn, a cancelled one resumed by Retry, with the real store and preview renderer."""

from __future__ import annotations

import csv
import time
import zipfile

import pytest

from sceneshop.agent.jobs import (
    BatchWorker,
    batch_zip,
    job_pictures,
    job_thumbnail,
    recent_jobs,
    start_upload_batch,
)
from sceneshop.agent.planner.embedded import EmbeddedPlanner
from sceneshop.agent.recipe import Recipe
from sceneshop.agent.store import WorkStore
from sceneshop.agent.studio import Studio
from sceneshop.simulate import product_photo
from sceneshop.tools.errors import InputError
from sceneshop.tools.preview.renderer import EmbeddedRenderer

WAIT_S = 300  # a deadline on a loaded 2-core box, not a measurement


@pytest.fixture(scope="module")
def studio():
    return Studio(planner=EmbeddedPlanner(), engine=EmbeddedRenderer())


@pytest.fixture()
def store(tmp_path):
    with WorkStore(tmp_path / "data") as s:
        yield s


@pytest.fixture(scope="module")
def look():
    recipe = Recipe(request="grey studio background", seed=7)
    recipe.scene.preset = "studio_grey"
    return recipe


def photos(folder, n: int, size: int = 96) -> list:
    folder.mkdir(parents=True, exist_ok=True)
    return [product_photo(folder / f"item-{i}.png", (40 * i % 255, 90, 160), size=size) for i in range(n)]


def catalog_rows(job) -> list[dict]:
    with open(job.params["catalog"], encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_an_upload_becomes_a_catalog_and_every_file_left_out_is_named(store, tmp_path, look):
    single, *zipped = photos(tmp_path / "p", 3)
    archive = tmp_path / "catalog.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(zipped[0], "a/item-0.png")  # the same name as the single photo: kept as a second sku
        z.write(zipped[1], "b/item-2.png")
        z.writestr("b/readme.txt", "hello")
        z.writestr("__MACOSX/b/._item-2.png", b"\0" * 10)  # macOS's resource fork: silently skipped
        z.writestr("b/huge.png", b"\0" * 5000)
    notes_file = tmp_path / "notes.txt"
    notes_file.write_text("not a photo")
    job, notes = start_upload_batch(store, "alice", [single, archive, notes_file], look, "grey look",
                                    marketplace="amazon_main", max_bytes=4000)
    assert job.status == "queued" and job.total == 3 and job.title == "3 photos · grey look · amazon_main"
    assert [r["sku"] for r in catalog_rows(job)] == ["item-0", "item-0-2", "item-2"]
    assert all(r["image"].startswith("photos/") for r in catalog_rows(job))  # names made here
    assert Recipe.from_json(open(job.params["recipe"]).read()) == look
    assert job.params["marketplace"] == "amazon_main"
    assert any("readme.txt is not a photo" in n for n in notes)
    assert any("huge.png is over" in n for n in notes)
    assert any("notes.txt: not a photo" in n for n in notes)
    assert not any("MACOSX" in n or "._item" in n for n in notes)
    # The batch lives in alice's own folder of the store.
    assert job.params["outdir"].startswith(str(store.files_root))


def test_an_upload_without_a_photo_is_refused(store, tmp_path, look):
    text = tmp_path / "list.txt"
    text.write_text("sku1\nsku2")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError, match="no product photos"):
        start_upload_batch(store, "alice", [text], look, "grey look")
    with pytest.raises(InputError, match="not a readable zip"):
        start_upload_batch(store, "alice", [broken], look, "grey look")
    assert store.list_jobs("alice") == []


def wait_until_finished(store, user: str, job_id: str):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        job = store.get_job(user, job_id)
        if job.status in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} of {user} did not finish in {WAIT_S} s")


def test_the_worker_runs_users_in_turn_and_a_cancelled_batch_resumes_on_retry(store, studio, tmp_path, look):
    queued = [
        ("alice", start_upload_batch(store, "alice", photos(tmp_path / "a1", 2), look, "look")[0]),
        ("alice", start_upload_batch(store, "alice", photos(tmp_path / "a2", 1), look, "look")[0]),
        ("bob", start_upload_batch(store, "bob", photos(tmp_path / "b1", 1), look, "look")[0]),
    ]
    cancelled = start_upload_batch(store, "bob", photos(tmp_path / "b2", 2), look, "look")[0]
    store.cancel_job("bob", cancelled.id)  # queued: cancelled at once, nothing made
    worker = BatchWorker(store, studio, poll_s=0.2).start()
    try:
        finished = [wait_until_finished(store, user, job.id) for user, job in queued]
        assert [j.status for j in finished] == ["done"] * 3
        # Users take turns: bob's only batch ran before alice's second one.
        order = [f"{j.user}:{j.id}" for j in sorted(finished, key=lambda j: j.started)]
        assert order == [f"alice:{queued[0][1].id}", f"bob:{queued[2][1].id}", f"alice:{queued[1][1].id}"]
        assert store.get_job("bob", cancelled.id).status == "cancelled"

        store.retry_job("bob", cancelled.id)
        worker.wake()
        again = wait_until_finished(store, "bob", cancelled.id)
        assert again.status == "done" and again.done == again.total == 2
    finally:
        worker.close()

    first = finished[0]
    assert [caption for _, caption in job_pictures(first)] == ["item-0", "item-1"]
    assert job_thumbnail(first) == job_pictures(first)[0][0]
    with zipfile.ZipFile(batch_zip(store, "alice", first.id)) as z:
        assert {"item-0.png", "item-1.png", "manifest.csv", "manifest.jsonl"} <= set(z.namelist())
    with pytest.raises(InputError, match="no job"):  # bob cannot have alice's batch zipped
        batch_zip(store, "bob", first.id)


def test_chatting_does_not_push_a_batch_out_of_the_job_list(store, tmp_path, look):
    batch, _ = start_upload_batch(store, "alice", photos(tmp_path / "p", 1), look, "look")
    for n in range(6):  # a day of chatting after it: every turn is a job
        store.create_job("alice", "turn", title=f"turn {n}", start=True)
    listed = recent_jobs(store, "alice", batches=5, turns=3)
    assert [j.title for j in listed] == ["turn 5", "turn 4", "turn 3", batch.title]
    assert recent_jobs(store, "bob") == []
