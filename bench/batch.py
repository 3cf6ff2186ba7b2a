"""Catalog batch throughput: the same products in this process, then on a local Ray cluster with 1
and 2 engine workers, in one run. Prints products/s, the ratios, Ray's start-up and the overhead it
adds per product, and the per-image time the README's 10,000-SKU estimate starts from. Exits 0.

    .venv/bin/python bench/batch.py                    # 200 products, 512 px, preview renderer
    .venv/bin/python bench/batch.py --count 50 --size 256

Each run writes real outputs (PNG files, fsynced manifest) into a temporary folder, as
`sceneshop batch` does; the engine is whatever the settings configure (by default the embedded
preview renderer, which runs on CPU).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sceneshop.agent.batch import Look, batch_studio, read_catalog, run_batch  # noqa: E402
from sceneshop.agent.recipe import Recipe  # noqa: E402
from sceneshop.agent.settings import get_settings  # noqa: E402


def make_catalog(folder: Path, count: int, size: int) -> Path:
    """`count` product photos of about size x size px: a coloured bottle on a near-white ground."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        w, h = (size, int(size * 1.25)) if i % 2 else (int(size * 1.25), size)
        canvas = np.full((h, w, 3), 247, np.uint8) + rng.integers(0, 4, (h, w, 3), dtype=np.uint8)
        yy, xx = np.mgrid[:h, :w]
        body = ((xx - w / 2) / (w * 0.18)) ** 2 + ((yy - h * 0.55) / (h * 0.32)) ** 2 <= 1
        canvas[body] = rng.integers(20, 220, 3)
        Image.fromarray(canvas).save(folder / f"sku-{i:04d}.png")
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200, help="products (default 200)")
    parser.add_argument("--size", type=int, default=512, help="photo side in px (default 512)")
    args = parser.parse_args()

    import ray

    from sceneshop.agent.cluster import EnginePool

    settings = get_settings()
    recipe = Recipe(request="on a beach at sunset", time_of_day="sunset", seed=7)
    recipe.scene.preset = "beach"
    look = Look(recipe.to_json(), "request 'on a beach at sunset'", None, "per-product")
    with tempfile.TemporaryDirectory(prefix="sceneshop-bench-batch-") as tmp:
        tmp = Path(tmp)
        products = read_catalog(make_catalog(tmp / "photos", args.count, args.size))
        cpus = os.cpu_count() or 1
        print(f"{args.count} products of ~{args.size} px; engine: {batch_studio(settings).engine.name}; "
              f"{cpus} CPU cores on this machine; load average {os.getloadavg()[0]:.1f}")

        studio = batch_studio(settings)
        run_batch(studio, products[:2], look, tmp / "warm")  # first-call costs out of the way
        here = run_batch(studio, products, look, tmp / "in-process")
        results = {"in-process": here.seconds}
        work = {"in-process": [r["seconds"] for r in _records(tmp / "in-process")]}

        start = time.perf_counter()
        ray.init(num_cpus=max(2, cpus), include_dashboard=False, log_to_driver=False)
        cluster_start = time.perf_counter() - start
        actor_start = {}
        try:
            for workers in (1, 2):
                start = time.perf_counter()
                pool = EnginePool("", settings, workers=workers)
                ray.get([a.engine_name.remote() for a in pool.actors])  # every engine loaded
                actor_start[workers] = time.perf_counter() - start
                try:
                    summary = run_batch(studio, products, look, tmp / f"ray-{workers}", pool=pool)
                    if workers == 1:
                        round_trips = _round_trips(ray, pool.actors[0], look, products[:20])
                finally:
                    pool.close()
                assert summary.exit_code == 0, summary.failed[:3]
                results[f"ray-{workers}"] = summary.seconds
                work[f"ray-{workers}"] = [r["seconds"] for r in _records(tmp / f"ray-{workers}")]
        finally:
            ray.shutdown()

    n = args.count
    rate = {k: n / v for k, v in results.items()}
    print(f"{'':14}{'seconds':>9}{'products/s':>12}{'work/product (median ms)':>26}")
    for key, seconds in results.items():
        print(f"{key:14}{seconds:9.2f}{rate[key]:12.2f}{statistics.median(work[key]) * 1000:26.0f}")
    print(f"ratio ray-2 / ray-1:        {rate['ray-2'] / rate['ray-1']:.2f}x  (target >= 1.8x where cores "
          "allow)")
    print(f"ratio ray-1 / in-process:   {rate['ray-1'] / rate['in-process']:.2f}x")
    print(f"ratio ray-2 / in-process:   {rate['ray-2'] / rate['in-process']:.2f}x")
    added = statistics.median(wall - work for wall, work, _ in round_trips) * 1000
    moved = statistics.median(size for _, _, size in round_trips) / 1024
    print(f"Ray overhead per product: {added:.1f} ms (median of {len(round_trips)} one-at-a-time calls: "
          f"round trip minus the work inside the actor; {moved:.0f} KB of photo and PNGs moved each)")
    difference = (results["ray-1"] - results["in-process"]) / n * 1000
    print(f"(ray-1 minus in-process, per product: {difference:+.1f} ms — negative when the driver's file "
          "writing overlaps the actor's rendering)")
    print(f"Ray start-up: cluster {cluster_start:.1f} s; engine actors ready in "
          + ", ".join(f"{actor_start[w]:.1f} s ({w} worker{'s' if w > 1 else ''})" for w in actor_start))
    median, mean = statistics.median(work["in-process"]) * 1000, statistics.mean(work["in-process"]) * 1000
    print(f"per-image work in the engine (cut-out + recipe + render + encode): median {median:.0f} ms, "
          f"mean {mean:.0f} ms; whole in-process run {results['in-process'] / n * 1000:.0f} ms per product "
          "(with file writes)")
    return 0


def _round_trips(ray, actor, look, products) -> list[tuple[float, float, int]]:
    """(wall seconds, seconds of work inside the actor, bytes moved) for products sent one at a
    time, so nothing overlaps and the difference is what Ray adds."""
    from sceneshop.agent.batch import Task

    out = []
    for product in products:
        task = Task(product.sku, product.image.read_bytes())
        start = time.perf_counter()
        outcome = ray.get(actor.process.remote(look, task))
        wall = time.perf_counter() - start
        out.append((wall, outcome.seconds, len(task.photo) + sum(map(len, outcome.pictures.values()))))
    return out


def _records(outdir: Path) -> list[dict]:
    import json

    return [json.loads(line) for line in (outdir / "manifest.jsonl").read_text().splitlines()]


if __name__ == "__main__":
    sys.exit(main())
