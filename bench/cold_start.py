"""Cold start of `sceneshop plan`: how long a fresh process takes to plan a request that keywords decide
("white background for amazon"), as a ratio to a bare `python -c pass`, median of several runs.

Each run is a new process with an empty data folder (no recipe memory yet, no cached vectors), the
embedded planner and the preview renderer, as on a first install. Prints the figures; exits 0.

    python bench/cold_start.py [--runs 7] [--request "white background for amazon"]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REQUEST = "white background for amazon"


def seconds(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds) of one run. CPU time is the steadier figure on a shared
    machine: the wall clock also counts waiting for a busy core."""
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return took, cpu


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--request", default=REQUEST)
    args = parser.parse_args(argv)
    python = sys.executable
    sceneshop = str(Path(python).with_name("sceneshop"))
    base: list[tuple[float, float]] = []
    plan: list[tuple[float, float]] = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="sceneshop-cold-") as data:
            env = {**os.environ, "SCENESHOP_DATA_DIR": data, "HF_HUB_OFFLINE": "1",
                   "SCENESHOP_CONFIG": str(Path(data) / "none.toml")}
            for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SCENESHOP_DIFFUSION_MODEL"):
                env.pop(name, None)
            # Alternate the two, so that a busy moment on the machine hurts both alike.
            base.append(seconds([python, "-c", "pass"], env))
            plan.append(seconds([sceneshop, "plan", args.request], env))
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"sceneshop plan {args.request!r}, cold, {args.runs} runs (median; min-max):")
    for i, what in enumerate(("wall clock", "CPU time")):
        b = [run[i] for run in base]
        p = [run[i] for run in plan]
        print(f"  {what}:")
        for name, runs in (("python -c pass", b), ("sceneshop plan", p)):
            ms = [r * 1000 for r in runs]
            print(f"    {name:<16} {statistics.median(ms):7.0f} ms  ({min(ms):.0f}-{max(ms):.0f})")
        print(f"    ratio            {statistics.median(p) / statistics.median(b):7.1f} x python start-up")
    print(f"  [{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
