"""DiffusionEngine overheads on tiny random pipelines: LoRA-set switch vs full model load (target ratio
<= 0.05), per-step cost of the progress/cancel callback, and peak memory. Prints figures, exits 0.

    .venv/bin/python bench/engine.py                 # CPU (or whatever is found)
    python3 bench/engine.py --device cuda             # on a GPU machine

The models are toys (a few MB), so the figures measure the engine's own overhead (Python, adapter
bookkeeping, callbacks), not the cost of real SD 1.5/SDXL denoising.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import torch

from sceneshop.tools.catalog import load_catalog
from sceneshop.tools.diffusion import weights
from sceneshop.tools.diffusion.engine import DiffusionEngine, step_callback
from sceneshop.tools.diffusion.loras import LoraAdapter
from sceneshop.tools.diffusion.tiny import build_sd15, build_sdxl, save_lora

PAIRS = {"sd15": ("neon_glow", "bokeh_dreamy"), "sdxl": ("film_grain", "cinematic")}


class Recipe:
    """The recipe fields the engine reads (tools/ takes any object with these names)."""

    def __init__(self, **changes):
        self.mode, self.prompt, self.negative_prompt = "text_to_image", "a bottle on a beach", "blurry"
        self.width = self.height = 64
        self.steps, self.guidance, self.strength, self.seed, self.scheduler = 20, 5.0, 0.75, 1, "default"
        self.loras = []
        self.output = type("Output", (), {"preset": None, "count": 1})()
        self.__dict__.update(changes)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, device: str, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        out.append(time.perf_counter() - start)
    return out


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def bench_family(family: str, folder: Path, lora_dir: Path, device: str | None, args) -> None:
    print(f"\n== {family} (tiny, {device or 'auto'}) ==")

    def load():
        weights.clear_cache()
        return DiffusionEngine(str(folder), lora_dir=lora_dir, device=device)

    load()  # first load pays imports and the OS file cache
    loads = timed(load, device or "cpu", args.repeats)
    engine = load()
    dev = engine.device
    print(f"device {dev}, dtype {str(engine.dtype).removeprefix('torch.')}, native {engine.base.native} px")
    catalog_loras = [load_catalog().lora(name) for name in PAIRS[family]]
    stack = engine.base.loras
    set_a = [LoraAdapter(catalog_loras[0], lora_dir / f"{PAIRS[family][0]}.safetensors", 0.8),
             LoraAdapter(catalog_loras[1], lora_dir / f"{PAIRS[family][1]}.safetensors", 0.3)]
    set_b = [LoraAdapter(c.entry, c.path, 1.0 - c.weight) for c in set_a]
    first_lora = timed(lambda: stack.activate(set_a), dev, 1)[0]  # reads both files into the model
    switches = []
    for _ in range(args.repeats):
        for lora_set in (set_b, [], set_a):
            switches += timed(lambda s=lora_set: stack.activate(s), dev, 1)
    fuse_switches = []
    for _ in range(args.repeats):
        for lora_set in (set_b, set_a):
            fuse_switches += timed(lambda s=lora_set: stack.activate(s, fuse=True), dev, 1)
    stack.activate([])
    load_s, switch_s = statistics.median(loads), statistics.median(switches)
    print(f"full pipeline load (median of {args.repeats})   {ms(load_s)}")
    print(f"first LoRA pair load (2 files)          {ms(first_lora)}")
    print(f"LoRA set switch, set_adapters (median)  {ms(switch_s)}   ratio to load {switch_s / load_s:.3f} "
          f"(target <= 0.05)")
    print(f"LoRA set switch with fuse/unfuse        {ms(statistics.median(fuse_switches))}")
    print(f"model loads in this process: {weights.LOADS[str(folder)]}, LoRA files read: {stack.file_loads}")

    steps = args.steps
    recipe = Recipe(steps=steps, width=args.size, height=args.size)
    engine.render(recipe, None, None)  # warm-up
    cancel = threading.Event()
    plain, hooked = [], []
    for _ in range(args.repeats):  # interleaved, so drift hits both alike
        plain += timed(lambda: engine.render(recipe, None, None), dev, 1)
        hooked += timed(lambda: engine.render(recipe, None, None, progress=lambda s, n: None,
                                              cancel=cancel), dev, 1)
    # The minimum is the least disturbed run: on a shared machine the median mostly measures neighbours.
    p, h = min(plain), min(hooked)
    print(f"render {args.size}px, {steps} steps (best of {args.repeats}): without callback {ms(p)}, "
          f"with progress+cancel {ms(h)}")
    print(f"per step {ms(p / steps)}; end-to-end callback overhead {(h - p) / steps * 1e6:+9.1f} µs/step")
    # The callback itself, alone: what each step pays for progress + cancel checks.
    callback = step_callback(lambda s, n: None, cancel)
    fake_pipe = type("Pipe", (), {"num_timesteps": steps, "_interrupt": False})()
    n = 100_000
    start = time.perf_counter()
    for i in range(n):
        callback(fake_pipe, i, 0, {})
    print(f"callback alone: {(time.perf_counter() - start) / n * 1e6:.2f} µs/step")

    tracemalloc.start()
    if dev.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    engine.render(recipe, None, None)
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak Python allocations during one render (tracemalloc): {py_peak / 2**20:.1f} MiB")
    if dev.startswith("cuda"):
        print(f"peak CUDA memory during one render: {torch.cuda.max_memory_allocated() / 2**20:.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None, help="cuda, mps or cpu (default: automatic)")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--family", choices=["sd15", "sdxl", "both"], default="both")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice; 1 is steadier on a busy box)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"cuda {torch.cuda.get_device_name() if torch.cuda.is_available() else 'none'}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        lora_dir = root / "loras"
        for i, (family, names) in enumerate(PAIRS.items()):
            for j, name in enumerate(names):
                save_lora(lora_dir, name, family, seed=10 * i + j)
        builders = {"sd15": build_sd15, "sdxl": build_sdxl}
        for family in (["sd15", "sdxl"] if args.family == "both" else [args.family]):
            bench_family(family, builders[family](root / family), lora_dir, args.device, args)
    # ru_maxrss is KiB on Linux: the whole process, torch and the models included.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak resident memory of the process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
