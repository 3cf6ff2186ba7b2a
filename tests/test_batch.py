"""Catalog batches end to end on tiny product photos: bad rows reported and skipped, resuming after
a kill -9 (nothing lost, nothing done twice), cancel and retry through the job store, a saved look
with per-product seeds, and the same batch on a real local Ray cluster with a worker killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sceneshop.agent.batch import (
    EXIT_ALL_DONE,
    EXIT_CANCELLED,
    EXIT_ROWS_NOT_DONE,
    Look,
    batch_params,
    batch_studio,
    product_seed,
    read_catalog,
    run_batch,
    run_batch_job,
)
from sceneshop.agent.cli.group import main
from sceneshop.agent.recipe import Recipe
from sceneshop.agent.settings import get_settings
from sceneshop.agent.store import WorkStore

ROOT = Path(__file__).resolve().parents[1]


def make_photo(path: Path, i: int) -> Path:
    """A small product on a plain background, a little different for each i (colour, shape, size)."""
    width, height = (96, 128) if i % 2 == 0 else (128, 96)
    canvas = np.full((height, width, 3), 248, np.uint8)
    yy, xx = np.mgrid[:height, :width]
    body = ((xx - width / 2) / (18 + i % 7)) ** 2 + ((yy - height * 0.55) / (height * 0.3)) ** 2 <= 1
    canvas[body] = (30 + 37 * i % 200, 60 + 53 * i % 180, 90 + 17 * i % 150)
    Image.fromarray(canvas).save(path)
    return path


def photo_folder(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        make_photo(folder / f"sku-{i:03d}.png", i)
    return folder


@pytest.fixture(scope="module")
def look_file(tmp_path_factory) -> Path:
    recipe = Recipe(request="on a beach at sunset", time_of_day="sunset", seed=1234)
    recipe.scene.preset = "beach"
    path = tmp_path_factory.mktemp("look") / "look.json"
    path.write_text(recipe.to_json())
    return path


def records(outdir: Path) -> list[dict]:
    """The manifest log, one record per attempt (a torn last line from a kill is left out)."""
    out = []
    for line in (outdir / "manifest.jsonl").read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def done_counts(outdir: Path) -> Counter:
    return Counter(r["sku"] for r in records(outdir) if r["status"] == "done")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_bad_rows_are_reported_and_skipped_and_retried_once_fixed(tmp_path, capsys, look_file):
    photos = photo_folder(tmp_path / "photos", 4)
    broken = tmp_path / "photos" / "broken.png"
    broken.write_bytes(make_photo(tmp_path / "whole.png", 9).read_bytes()[:200])  # a truncated PNG
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(
        "sku,image,request,marketplace,name\n"
        "A,photos/sku-000.png,,,\n"
        "B,photos/sku-001.png,,amazon_main,red bottle\n"
        "C,photos/missing.png,,,\n"  # no such photo
        "D,photos/broken.png,,,\n"  # a corrupt photo
        "E,photos/sku-002.png,,no_such_market,\n"  # an unknown marketplace
        "A,photos/sku-003.png,,,\n"  # a duplicate sku
        "F,photos/sku-003.png,,\n"  # a field short
    )
    out = tmp_path / "out"
    code, stdout, _ = run(capsys, "batch", catalog, "--recipe", look_file, "-o", out)
    assert code == EXIT_ROWS_NOT_DONE, stdout
    assert "2/7 products done" in stdout and "5 skipped" in stdout
    for sku, why in [("C", "does not exist"), ("D", "damaged or truncated"), ("E", "no_such_market"),
                     ("A#row7", "appears again"), ("F", "has 4 fields")]:
        assert any(line.startswith(f"  skipped {sku}:") and why in line for line in stdout.splitlines()), sku
    latest = {r["sku"]: r for r in records(out)}
    assert latest["A"]["status"] == "done" and latest["A"]["check"] == {"status": "no marketplace"}
    assert latest["B"]["check"]["status"] == "passed", latest["B"]["check"]  # a clean cut-out on white
    assert Image.open(out / "B.png").size == (2000, 2000)  # amazon_main's canvas
    assert Image.open(out / "A.png").size == (256, 336)  # the photo's own shape, at least 256 px
    assert Recipe.from_json((out / "recipes" / "B.json").read_text()).subject.description == "red bottle"
    csv_rows = (out / "manifest.csv").read_text().splitlines()
    assert csv_rows[0].startswith("sku,status,files,check,recipe_id") and len(csv_rows) == 8

    make_photo(broken, 9)  # the merchant fixes the photo and runs the same command again
    code, stdout, _ = run(capsys, "batch", catalog, "--recipe", look_file, "-o", out)
    assert code == EXIT_ROWS_NOT_DONE and "3/7 products done (1 now, 2 before)" in stdout
    assert done_counts(out) == Counter({"A": 1, "B": 1, "D": 1})  # A and B were not made again
    assert photos.is_dir()


def test_one_run_at_a_time_per_output_folder(tmp_path, capsys, look_file):
    import fcntl

    photos = photo_folder(tmp_path / "photos", 1)
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".batch.lock", "a+b") as held:  # as a running batch holds it
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        code, _, err = run(capsys, "batch", photos, "--recipe", look_file, "-o", out)
    assert code == 2 and "another `sceneshop batch` is writing to" in err
    assert not (out / "manifest.jsonl").exists()
    (out / ".sku-000.png.0badf00d.tmp").write_bytes(b"half a picture")  # what a killed write leaves
    code, _, _ = run(capsys, "batch", photos, "--recipe", look_file, "-o", out)
    assert code == EXIT_ALL_DONE and not list(out.glob(".*.tmp"))


def test_kill_9_mid_batch_loses_nothing_and_does_nothing_twice(tmp_path, capsys, look_file):
    n = 60
    photos = photo_folder(tmp_path / "photos", n)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sceneshop.agent.cli", "batch", str(photos), "--recipe", str(look_file),
         "-o", str(out)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ),
    )
    jsonl = out / "manifest.jsonl"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if jsonl.exists() and jsonl.read_bytes().count(b"\n") >= 5:
                break
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, f"the batch ended before the kill: {proc.stderr.read()!r}"
    before = {r["sku"]: r for r in records(out) if r["status"] == "done"}
    assert 5 <= len(before) < n
    kept = {sku: (out / f"{sku}.png").read_bytes() for sku in before}

    code, stdout, _ = run(capsys, "batch", photos, "--recipe", look_file, "-o", out)
    assert code == EXIT_ALL_DONE, stdout
    assert f"{n}/{n} products done ({n - len(before)} now, {len(before)} before)" in stdout
    assert done_counts(out) == Counter({f"sku-{i:03d}": 1 for i in range(n)})  # each exactly once
    assert all((out / f"{sku}.png").read_bytes() == data for sku, data in kept.items())  # untouched
    with WorkStore(get_settings().data_dir) as store:
        killed, finished = sorted((j for j in store.list_jobs(get_settings().user, kind="batch", limit=None)
                                   if j.params["outdir"] == str(out.resolve())), key=lambda j: j.created)
    assert killed.status == "failed" and "interrupted" in killed.error  # reaped: its process is gone
    assert finished.status == "done" and finished.results["done"] == n


def test_cancel_stops_a_batch_and_retry_resumes_it(tmp_path, capsys, look_file):
    photos = photo_folder(tmp_path / "photos", 8)
    out, data = tmp_path / "out", tmp_path / "data"
    settings = get_settings()
    with WorkStore(data) as store:
        params = batch_params(photos, out, recipe=look_file)
        job = store.create_job("alice", "batch", title="eight", params=params, start=True)
        seen = []

        def cancel_after_two(record):
            seen.append(record["sku"])
            if len(seen) == 2:
                store.cancel_job("alice", job.id)  # as `sceneshop jobs cancel` from another terminal

        summary = run_batch_job(store, "alice", job, batch_studio(settings), on_result=cancel_after_two)
        assert summary.cancelled and summary.exit_code == EXIT_CANCELLED
        assert summary.done == 3  # the product in hand when the cancel was seen is finished and kept
        stopped = store.get_job("alice", job.id)
        assert (stopped.status, stopped.done, stopped.total) == ("cancelled", 3, 8)

    code, stdout, _ = run(capsys, "jobs", "retry", job.id, "--user", "alice", "--data-dir", data)
    assert code == EXIT_ALL_DONE and "8/8 products done (5 now, 3 before)" in stdout
    assert done_counts(out) == Counter({f"sku-{i:03d}": 1 for i in range(8)})
    with WorkStore(data) as store:
        again = store.get_job("alice", job.id)
    assert (again.status, again.attempts, again.results["done"]) == ("done", 2, 8)


def test_a_saved_look_with_per_product_seeds(tmp_path, capsys):
    from sceneshop.agent.memory.memory import RecipeMemory

    settings = get_settings()
    look = Recipe(request="marble countertop, soft window light", seed=99)
    look.scene.preset = "marble"
    with RecipeMemory(settings.data_dir) as memory:
        memory.save(settings.user, look, name="Counter look batch test")
    photos = photo_folder(tmp_path / "photos", 3)
    out = tmp_path / "out"
    code, stdout, _ = run(capsys, "batch", photos, "--look", "counter look batch test", "--seed-policy",
                          "per-product", "-o", out)
    assert code == EXIT_ALL_DONE, stdout
    seeds = {r["sku"]: r["seed"] for r in records(out)}
    assert seeds == {sku: product_seed(99, sku) for sku in ("sku-000", "sku-001", "sku-002")}
    assert len(set(seeds.values())) == 3
    recipe = Recipe.from_json((out / "recipes" / "sku-001.json").read_text())
    assert recipe.scene.preset == look.scene.preset and recipe.parent_id == look.id
    # The folder belongs to this look: another one is refused before any work.
    code, _, err = run(capsys, "batch", photos, "--look", "counter look batch test", "-o", out)
    assert code == 2 and "holds a batch of look" in err


def test_a_batch_on_ray_matches_in_process_and_survives_a_killed_worker(tmp_path, ray_cluster, look_file):
    from sceneshop.agent.cluster import EnginePool

    settings = get_settings()
    products = read_catalog(photo_folder(tmp_path / "photos", 10))
    look = Look(look_file.read_text(), "recipe file look.json", None, "per-product")
    studio = batch_studio(settings)
    here = run_batch(studio, products, look, tmp_path / "here")
    assert here.exit_code == EXIT_ALL_DONE

    pool = EnginePool("", settings, workers=2)  # joins the test session's cluster
    try:
        pids = [ray_cluster.get(a.__ray_call__.remote(lambda self: os.getpid())) for a in pool.actors]
        killed = []

        def kill_a_worker(record):
            if not killed:  # mid-batch, while that worker has products in hand
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])

        there = run_batch(studio, products, look, tmp_path / "ray", pool=pool, on_result=kill_a_worker)
        restarted = ray_cluster.get(pool.actors[0].__ray_call__.remote(lambda self: os.getpid()))
    finally:
        pool.close()
    assert killed and restarted != pids[0]  # Ray restarted the dead worker…
    assert there.exit_code == EXIT_ALL_DONE and "on Ray (2 workers" in there.where and pool.lost == []
    # …re-ran what it had in hand, and no product was recorded twice.
    assert done_counts(tmp_path / "ray") == Counter({p.sku: 1 for p in products})
    for product in products:  # the same look on the cluster gives the same pixels as here
        a = np.asarray(Image.open(tmp_path / "here" / f"{product.sku}.png"))
        b = np.asarray(Image.open(tmp_path / "ray" / f"{product.sku}.png"))
        assert np.array_equal(a, b), product.sku
