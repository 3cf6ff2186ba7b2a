"""Full-turn latency with the embedded defaults: plan + segment + render at 1024x1024 on a real
photo (scikit-image's coffee cup), p50/p95 per stage, and render time as a ratio of a plain PIL
open+save of the same-sized image. Targets (2-core machine): plan p50 <= 50 ms, turn p50 <= 1.5 s."""

from __future__ import annotations

import argparse
import io
import statistics
import time

from PIL import Image
from skimage import data

from sceneshop.agent.planner.embedded import EmbeddedPlanner
from sceneshop.agent.studio import Studio
from sceneshop.tools.preview.renderer import EmbeddedRenderer

REQUESTS = [
    "put it on a beach at sunset",
    "white background for amazon",
    "marble countertop with soft window light",
    "cozy cafe table, warm light",
    "city street at night with neon",
    "forest floor, morning light",
    "flat lay on linen",
    "festive christmas scene",
]


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=24)
    args = parser.parse_args()

    # A real photo, upscaled to 1024 px on its longer side so the turn works on a 1024x1024 canvas.
    photo = Image.fromarray(data.coffee()).resize((1024, 683), Image.Resampling.LANCZOS)
    box = (150, 40, 900, 560)  # the cup and saucer: the photo has no plain background
    studio = Studio(planner=EmbeddedPlanner(), engine=EmbeddedRenderer())
    studio.plan("warm-up request", image_size=photo.size)

    stages = {"plan": [], "segment": [], "render": [], "turn": []}
    for i in range(args.turns):
        request = REQUESTS[i % len(REQUESTS)]
        t0 = time.perf_counter()
        recipe = studio.plan(request, image_size=photo.size)
        if recipe.output.preset is None:
            recipe.width = recipe.height = 1024
        t1 = time.perf_counter()
        mask = studio.segment(photo, box=box)
        t2 = time.perf_counter()
        studio.render(recipe, photo, mask)
        t3 = time.perf_counter()
        for name, value in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t3 - t0), strict=True):
            value_ms = value * 1000
            stages[name].append(value_ms)

    # Baseline: open + save a 1024x1024 PNG with PIL, the least any image turn must do.
    buffer = io.BytesIO()
    photo.resize((1024, 1024)).save(buffer, "PNG")
    baseline = []
    for _ in range(10):
        t0 = time.perf_counter()
        image = Image.open(io.BytesIO(buffer.getvalue()))
        image.load()
        image.save(io.BytesIO(), "PNG")
        baseline.append((time.perf_counter() - t0) * 1000)

    print(f"turn latency, embedded defaults, {args.turns} turns at 1024x1024 (ms)")
    for name, values in stages.items():
        print(f"  {name:8s} p50 {statistics.median(values):8.1f}   p95 {pct(values, 0.95):8.1f}")
    base = statistics.median(baseline)
    print(f"  PIL open+save 1024x1024 PNG p50 {base:.1f} ms")
    print(f"  render / (open+save) ratio: {statistics.median(stages['render']) / base:.2f}")
    print(
        f"  targets: plan p50 <= 50 ms, turn p50 <= 1500 ms; "
        f"met: {statistics.median(stages['plan']) <= 50 and statistics.median(stages['turn']) <= 1500}"
    )


if __name__ == "__main__":
    main()
