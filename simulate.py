"""Simulated merchants for the Gradio studio: a throwaway studio in this process, and parallel chat
users that drive a running studio through its HTTP API, each with a product of its own colour.

It answers two questions about a deployment: how many chat turns per second it serves, and that
no user ever sees another's recipes or pictures (every result shows its own user's product colour).

    python -m sceneshop.simulate                        # a throwaway studio here, 8 users x 5 turns
    python -m sceneshop.simulate --url http://host:7860 --users 20 --turns 3

The UI tests and bench/ui_load.py use the same pieces.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from sceneshop import app
from sceneshop.agent.memory.memory import RecipeMemory
from sceneshop.agent.settings import Settings
from sceneshop.agent.studio import Studio

# Every setting that could come from the developer's environment is pinned: embedded defaults.
EMBEDDED = {"diffusion_model": None, "openai_api_key": None, "openai_base_url": None, "users": None}


@dataclass
class RunningStudio:
    url: str
    demo: object
    memory: RecipeMemory
    data_dir: Path

    def close(self) -> None:
        self.demo.close()
        self.demo.sceneshop.close()  # the batch worker and the work store
        self.memory.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_studio(data_dir: Path, *, engine=None, port: int | None = None, **settings) -> RunningStudio:
    """A studio on 127.0.0.1 (`port`, else a free one) in this process, on the embedded planner and
    preview renderer with its data in `data_dir`: build_app + launch with the launch arguments
    `sceneshop serve` uses. `settings` override the Settings fields; `close()` stops it."""
    config = Settings(data_dir=data_dir, **{**EMBEDDED, **settings})
    memory = RecipeMemory(data_dir)
    demo = app.build_app(Studio(config, engine=engine, memory=memory))
    _, url, _ = demo.launch(
        server_name="127.0.0.1",
        server_port=port or free_port(),
        prevent_thread_lock=True,
        quiet=True,
        **app.launch_kwargs(demo),
    )
    return RunningStudio(url, demo, memory, Path(data_dir))


def product_photo(path: Path, colour: tuple[int, int, int], size: int = 256) -> Path:
    """A flat-coloured product (a rounded bottle shape) on a white sweep: easy to key, and its
    colour marks every result made from it."""
    yy, xx = np.mgrid[:size, :size]
    canvas = np.full((size, size, 3), 250, np.uint8)
    body = ((xx - size / 2) / (size * 0.22)) ** 2 + ((yy - size * 0.58) / (size * 0.3)) ** 2 <= 1
    neck = (abs(xx - size / 2) < size * 0.07) & (yy > size * 0.18) & (yy < size * 0.35)
    canvas[body | neck] = colour
    Image.fromarray(canvas).save(path)
    return path


def outputs(client, endpoint: str, result) -> dict:
    """An endpoint's return values by their component labels (as view_api names them)."""
    if not hasattr(client, "_sceneshop_api"):
        client._sceneshop_api = client.view_api(return_format="dict", print_info=False)
    labels = [r["label"] for r in client._sceneshop_api["named_endpoints"][endpoint]["returns"]]
    values = result if isinstance(result, tuple | list) and len(labels) > 1 else (result,)
    return dict(zip(labels, values, strict=True))


def message(text: str, photo: Path | None = None) -> dict:
    from gradio_client import handle_file

    return {"text": text, "files": [handle_file(str(photo))] if photo else []}


# ------------------------------------------------------------------------------ simulated users

FEEDBACK = ["warmer", "less busy", "closer", "now at night", "another variation", "cooler"]
REQUESTS = [
    "put it on a beach at sunset",
    "marble countertop with soft window light",
    "grey studio background",
    "cozy cafe table, warm light",
    "city street at night with neon",
    "forest floor, morning light",
    "flat lay on linen",
    "pastel pink studio",
]
COLOURS = [
    (200, 30, 40),
    (30, 140, 60),
    (40, 60, 190),
    (220, 160, 20),
    (120, 40, 160),
    (20, 150, 160),
    (90, 60, 30),
    (230, 90, 150),
]


@dataclass
class UserRun:
    """What one simulated user saw: per turn the request, the recipe and the result picture."""

    index: int
    colour: tuple[int, int, int]
    turns: list[dict] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    error: BaseException | None = None


def simulate_user(url: str, index: int, folder: Path, turns: int, start: threading.Barrier | None = None):
    """One merchant: uploads a product in its own colour, asks for a scene, then gives feedback."""
    from gradio_client import Client

    run = UserRun(index, COLOURS[index % len(COLOURS)])
    try:
        photo = product_photo(folder / f"product-{index}.png", run.colour)
        client = Client(url, verbose=False)
        if start is not None:
            start.wait(timeout=120)
        for n in range(turns):
            text = REQUESTS[index % len(REQUESTS)] if n == 0 else FEEDBACK[(index + n) % len(FEEDBACK)]
            began = time.perf_counter()
            result = client.predict(message(text, photo if n == 0 else None), api_name="/respond")
            run.latencies.append(time.perf_counter() - began)
            got = outputs(client, "/respond", result)
            recipe = json.loads(got["Recipe JSON"]) if got["Recipe JSON"] else None
            files = [
                f if isinstance(f, str) else f["path"]
                for f in got["Current version: PNG + recipe JSON"] or []
            ]
            run.turns.append({"request": text, "recipe": recipe, "files": files, "chat": got["Studio chat"]})
        client.close()
    except BaseException as exc:  # reported by the caller, with the user it happened to
        run.error = exc
    return run


def run_load(url: str, folder: Path, users: int, turns: int) -> tuple[list[UserRun], float]:
    """`users` simulated users in parallel threads, `turns` turns each; returns runs and wall time."""
    start = threading.Barrier(users)
    runs: list[UserRun | None] = [None] * users

    def work(i: int) -> None:
        runs[i] = simulate_user(url, i, folder, turns, start)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(users)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return runs, time.perf_counter() - began


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(runs: list[UserRun], wall: float, turns: int) -> str:
    """Turns done, throughput, turn latency as a client sees it (queue wait included), errors."""
    latencies = [s for run in runs for s in run.latencies]
    errors = [f"user {run.index}: {run.error!r}" for run in runs if run.error is not None]
    lines = [f"  turns done      {len(latencies)} of {len(runs) * turns} in {wall:.1f} s"]
    if latencies:
        lines.append(f"  throughput      {len(latencies) / wall:.2f} turns/s")
        lines.append(
            f"  turn latency    p50 {statistics.median(latencies):.2f} s   "
            f"p95 {percentile(latencies, 0.95):.2f} s   max {max(latencies):.2f} s"
        )
    lines.append(f"  errors          {len(errors)}")
    lines += [f"    {line}" for line in errors]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Prints the figures of one simulated load; always exits 0 (the figures are the answer)."""
    parser = argparse.ArgumentParser(prog="python -m sceneshop.simulate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running studio (default: start a throwaway one here)")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=2,
                        help="settings.concurrency of the throwaway studio (ignored with --url)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        if args.url:
            where = args.url
            runs, wall = run_load(args.url, Path(folder), args.users, args.turns)
        else:
            running = start_studio(Path(folder) / "studio", concurrency=args.concurrency)
            where = (f"a throwaway studio, concurrency {args.concurrency}, embedded planner + preview "
                     "renderer")
            try:
                runs, wall = run_load(running.url, Path(folder), args.users, args.turns)
            finally:
                running.close()
    print(f"studio load: {args.users} users x {args.turns} turns on {where}, 256x256 products")
    print(report(runs, wall, args.turns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
