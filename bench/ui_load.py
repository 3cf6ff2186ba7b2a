"""Load on the Gradio studio: N simulated merchants (gradio_client, one thread each) doing M chat
turns each against an in-process server on 127.0.0.1 with the embedded defaults; prints turns/s,
p50/p95/max turn latency as a client sees it (queue wait included) and errors. Always exits 0."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the shared UI test harness

from app_harness import run_load, start_studio  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=2, help="settings.concurrency for the server")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        running = start_studio(Path(folder) / "studio", concurrency=args.concurrency)
        try:
            runs, wall = run_load(running.url, Path(folder), args.users, args.turns)
        finally:
            running.close()

    latencies = [s for run in runs for s in run.latencies]
    errors = [f"user {run.index}: {run.error!r}" for run in runs if run.error is not None]
    print(
        f"studio load: {args.users} users x {args.turns} turns, concurrency {args.concurrency}, "
        "embedded planner + preview renderer, 256x256 products"
    )
    print(f"  turns done      {len(latencies)} of {args.users * args.turns} in {wall:.1f} s")
    if latencies:
        print(f"  throughput      {len(latencies) / wall:.2f} turns/s")
        print(
            f"  turn latency    p50 {statistics.median(latencies):.2f} s   "
            f"p95 {percentile(latencies, 0.95):.2f} s   max {max(latencies):.2f} s"
        )
    print(f"  errors          {len(errors)}")
    for line in errors:
        print(f"    {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
