"""Prints how fast the embedded renderer and the offline segmenter are on a 1024x1024 photo.

Figures: p50/p95 wall time per render for five scene presets, the same relative to a plain PIL
open + save of the photo (a machine-independent yardstick), the median process CPU time, and
segmentation time for GrabCut and for plain-background keying.
Run: .venv/bin/python bench/render_speed.py [--repeats N]
Always exits 0; the figures are for reading, not asserting.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

import numpy as np
from PIL import Image, ImageDraw
from skimage import data

from sceneshop.agent.recipe import Recipe
from sceneshop.tools.preview.renderer import EmbeddedRenderer
from sceneshop.tools.segment import segment

SIZE = 1024
PRESETS = [
    ("studio_white", None, []),
    ("marble", None, ["ceramic dish", "eucalyptus sprig"]),
    ("beach", "sunset", ["seashells", "driftwood"]),
    ("city_street_night", None, ["neon signs", "light bokeh"]),
    ("festive", None, ["ornaments", "fairy lights", "gift boxes"]),
]


CPU_SECONDS: list[float] = []  # process CPU time of the last timed() call, per run


def timed(fn, repeats: int) -> list[float]:
    """Wall-clock seconds per run; the CPU seconds go to CPU_SECONDS (steadier on a busy machine)."""
    fn()  # warm-up: first calls pay for imports and caches
    times = []
    CPU_SECONDS.clear()
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - start)
        CPU_SECONDS.append(time.process_time() - cpu)
    return times


def cpu_ms() -> str:
    return f"cpu {statistics.median(CPU_SECONDS) * 1000:4.0f} ms"


def p50_p95(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    photo = Image.fromarray(data.coffee()).resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    photo.save(buffer, format="PNG")
    png = buffer.getvalue()

    def open_and_save() -> None:
        with Image.open(io.BytesIO(png)) as image:
            image.load()
            image.save(io.BytesIO(), format="PNG")

    base_p50, base_p95 = p50_p95(timed(open_and_save, args.repeats))
    print(f"baseline PIL open+save PNG {SIZE}x{SIZE}: "
          f"p50 {base_p50 * 1000:.0f} ms, p95 {base_p95 * 1000:.0f} ms  {cpu_ms()}")

    box = (100, 10, 840, 1010)
    grabcut = timed(lambda: segment(photo, box=box), args.repeats)
    grabcut_cpu = cpu_ms()
    mask = segment(photo, box=box)
    on_white = Image.new("RGB", (SIZE, SIZE), (250, 250, 250))
    ImageDraw.Draw(on_white).rounded_rectangle((300, 200, 720, 900), radius=60, fill=(170, 30, 40))
    keying = timed(lambda: segment(on_white), args.repeats)
    keying_cpu = cpu_ms()
    for label, times, cpu in (("segment GrabCut (box hint)", grabcut, grabcut_cpu),
                              ("segment plain-background keying", keying, keying_cpu)):
        p50, p95 = p50_p95(times)
        print(f"{label:34s} p50 {p50 * 1000:5.0f} ms  p95 {p95 * 1000:5.0f} ms  {cpu}")

    renderer = EmbeddedRenderer()
    all_times = []
    print(f"render {SIZE}x{SIZE} with the product (replace_background), {args.repeats} runs each:")
    for preset, time_of_day, props in PRESETS:
        recipe = Recipe(seed=1, width=SIZE, height=SIZE, time_of_day=time_of_day,
                        scene={"preset": preset, "props": props, "clutter": 0.6})
        times = timed(lambda r=recipe: renderer.render(r, photo, mask), args.repeats)
        all_times += times
        p50, p95 = p50_p95(times)
        name = preset + (f" ({time_of_day})" if time_of_day else "")
        print(f"  {name:26s} p50 {p50 * 1000:5.0f} ms  p95 {p95 * 1000:5.0f} ms  "
              f"= {p50 / base_p50:4.1f}x open+save  {cpu_ms()}")
    p50, p95 = p50_p95(all_times)
    print(f"  {'all presets':26s} p50 {p50 * 1000:5.0f} ms  p95 {p95 * 1000:5.0f} ms  "
          f"= {p50 / base_p50:4.1f}x open+save")
    amazon = Recipe(seed=1, output={"preset": "amazon_main"})
    p50, p95 = p50_p95(timed(lambda: renderer.render(amazon, photo, mask), args.repeats))
    print(f"  {'amazon_main (2000x2000)':26s} p50 {p50 * 1000:5.0f} ms  p95 {p95 * 1000:5.0f} ms  {cpu_ms()}")
    print(f"(numpy {np.__version__}; wall-clock times on a shared machine vary with its load; "
          "cpu = process CPU time, all threads)")


if __name__ == "__main__":
    main()
