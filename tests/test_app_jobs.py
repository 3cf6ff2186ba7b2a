"""Sessions and jobs through the studio's HTTP API (gradio_client against a real server on
127.0.0.1): chat turns are kept and listed as jobs, a batch started from the Jobs tab's endpoint
runs in the server while the merchant keeps chatting and downloads as a zip with its manifest, and
another user sees none of it — not by listing, and not by naming the first user's ids."""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile

import pytest
from gradio_client import Client, handle_file

from sceneshop.simulate import message, outputs, product_photo, start_studio

CHAT, RECIPE = "Studio chat", "Recipe JSON"
WAIT_S = 300  # a deadline for the batch to finish on a loaded 2-core box, not a measurement


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    running = start_studio(tmp_path_factory.mktemp("studio"))
    yield running
    running.close()


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    colours = {"red-bottle": (200, 30, 40), "green-bottle": (30, 140, 60), "blue-bottle": (40, 60, 190)}
    return {name: product_photo(folder / f"{name}.png", colour, size=160) for name, colour in colours.items()}


def texts(chat) -> list[str]:
    return [part["text"] for m in chat for part in m["content"] if part.get("type") == "text"]


def call(client, endpoint, *args) -> dict:
    return outputs(client, endpoint, client.predict(*args, api_name=endpoint))


def job_rows(client) -> list[list]:
    return call(client, "/jobs", "")["Jobs"]["data"]


def wait_for_job(client, job_id: str) -> list:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        row = next(r for r in job_rows(client) if r[-1] == job_id)
        if row[0].split()[-1] in ("done", "failed", "cancelled"):
            return row
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish in {WAIT_S} s: {row}")


def test_a_batch_from_the_jobs_tab_runs_while_chatting_and_downloads_as_a_zip(studio, photos, tmp_path):
    alice = Client(studio.url, verbose=False)
    first = call(alice, "/respond", message("put it on a beach at sunset", photos["red-bottle"]))
    assert any("Version 1:" in t for t in texts(first[CHAT]))
    call(alice, "/like")
    look_id = call(alice, "/memories", "")["Saved recipes"]["data"][0][-1]

    # Three products: one photo, and two more in a zip (in a folder, beside a file that is no photo).
    archive = tmp_path / "more.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(photos["green-bottle"], "catalog/green-bottle.png")
        zipped.write(photos["blue-bottle"], "catalog/blue-bottle.png")
        zipped.writestr("catalog/notes.txt", "not a photo")
    started = call(alice, "/start_batch", [handle_file(str(photos["red-bottle"])), handle_file(str(archive))],
                   look_id, "none")
    job_id = started["Job id"]
    assert job_id and started["Jobs"]["data"][0][-1] == job_id

    # The merchant keeps chatting meanwhile; the turn is a job of its own.
    warmer = call(alice, "/respond", message("warmer"))
    assert any("Version 2:" in t for t in texts(warmer[CHAT]))

    row = wait_for_job(alice, job_id)
    assert row[0].endswith("done") and row[1] == "batch" and row[2] == "3/3"
    kinds = [r[1] for r in job_rows(alice)]
    assert kinds.count("turn") == 2 and kinds.count("batch") == 1  # two chat turns, one batch

    (path,) = call(alice, "/download_job", job_id)["Download"]
    with zipfile.ZipFile(path) as zipped:
        names = set(zipped.namelist())
        assert {"red-bottle.png", "green-bottle.png", "blue-bottle.png", "manifest.csv",
                "manifest.jsonl", "batch.json"} <= names
        rows = list(csv.DictReader(io.StringIO(zipped.read("manifest.csv").decode())))
        look = json.loads(zipped.read("batch.json"))
    assert sorted(r["sku"] for r in rows) == ["blue-bottle", "green-bottle", "red-bottle"]
    assert {r["status"] for r in rows} == {"done"}
    # The batch applied the liked look (its scene), each product with its own canvas.
    assert json.loads(look["recipe_json"])["scene"]["preset"] == "beach"

    pictures = call(alice, "/open_job", job_id)["The job's pictures"]
    assert sorted(p["caption"] for p in pictures) == ["blue-bottle", "green-bottle", "red-bottle"]


def test_sessions_are_listed_reopened_and_deleted(studio, photos):
    client = Client(studio.url, verbose=False)
    call(client, "/respond", message("grey studio background", photos["blue-bottle"]))
    first_id = call(client, "/sessions")["Saved sessions"]["data"][0][-1]
    fresh = call(client, "/new_session")
    assert fresh[RECIPE] == "" and fresh[CHAT] == []
    call(client, "/respond", message("marble countertop", photos["green-bottle"]))
    listed = call(client, "/sessions")["Saved sessions"]["data"]
    assert [r[-1] for r in listed][1] == first_id and len(listed) == 2

    reopened = call(client, "/open_session", first_id)
    assert json.loads(reopened[RECIPE])["scene"]["preset"] == "studio_grey"
    assert any("grey studio background" in t for t in texts(reopened[CHAT]))

    gone = call(client, "/delete_session", first_id)  # the open one: the tab starts a fresh session
    assert [r[-1] for r in gone["Saved sessions"]["data"]] != [first_id] and gone[CHAT] == []
    assert first_id not in [r[-1] for r in gone["Saved sessions"]["data"]]


def test_another_user_sees_no_session_or_job_of_the_first(studio, photos):
    alice, bob = Client(studio.url, verbose=False), Client(studio.url, verbose=False)
    call(alice, "/respond", message("put it on a beach at sunset", photos["red-bottle"]))
    alice_session = call(alice, "/sessions")["Saved sessions"]["data"][0][-1]
    alice_job = job_rows(alice)[0][-1]

    assert call(bob, "/sessions")["Saved sessions"]["data"] == []
    assert job_rows(bob) == []
    # Naming alice's ids does not reach her rows or files.
    assert call(bob, "/download_job", alice_job)["Download"] is None
    assert call(bob, "/open_session", alice_session)[CHAT] == []
    call(bob, "/delete_session", alice_session)
    call(bob, "/cancel_job", alice_job)
    assert alice_session in [r[-1] for r in call(alice, "/sessions")["Saved sessions"]["data"]]
    assert next(r for r in job_rows(alice) if r[-1] == alice_job)[0].endswith("done")
    assert job_rows(bob) == [] and call(bob, "/sessions")["Saved sessions"]["data"] == []


def test_two_tabs_of_one_user_never_overwrite_each_others_session(studio, photos):
    """Two open tabs of one merchant on the same session: the second to save after the other one
    did goes on as a session of its own, so neither conversation loses a turn."""
    from sceneshop import studio_view as view

    site = studio.demo.sceneshop

    def turn(t, text):
        view.say(t, text)
        view.show_turn(t, t.session.send(text))
        site.keep(t)

    first = site.open_tab("carol")
    first.session.open_product(photos["red-bottle"])
    turn(first, "put it on a beach at sunset")
    second = site.open_tab("carol")  # a second tab: the same, last session
    assert second.session_id == first.session_id and len(second.session.versions) == 1
    turn(first, "warmer")
    turn(second, "cooler")
    assert second.session_id != first.session_id
    kept = {s.id: s.versions for s in site.store.list_sessions("carol")}
    assert kept == {first.session_id: 2, second.session_id: 2}
    requests = [v["recipe"] for v in site.store.load_session("carol", first.session_id)["versions"]]
    assert "warmer" in requests[1] and "cooler" not in requests[1]
