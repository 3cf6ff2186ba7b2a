"""A studio client that goes away mid-render: CPU seconds the server still spends on its job after
the client is killed (SIGKILL, so every connection drops at once), against the same job with the
client staying for the result. An in-process studio on 127.0.0.1 with the preview renderer; the
client is a gradio_client in a subprocess asking for 4 variations of a large product photo.
Prints the figures; always exits 0.

    python bench/disconnect.py [--size 3000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sceneshop.simulate import product_photo, start_studio

CLIENT = """
import sys, time
from gradio_client import Client
from sceneshop.simulate import message
job = Client(sys.argv[1], verbose=False).submit(
    message("put it on a beach at sunset, 4 variations", sys.argv[2]), api_name="/respond"
)
while not any((p.desc or "") == "Rendering" for p in job.status().progress_data or []):
    time.sleep(0.02)
print("rendering", flush=True)
sys.stdin.read()  # until killed
"""


def cpu_after_rendering_began(folder: Path, size: int, kill: bool) -> tuple[float, float]:
    """(CPU seconds, wall seconds) this process spends from the first render step to the job's end."""
    running = start_studio(folder / ("killed" if kill else "kept"), max_pixels=40_000_000)
    try:
        photo = product_photo(folder / "big.png", (200, 30, 40), size=size)
        client = subprocess.Popen(
            [sys.executable, "-c", CLIENT, running.url, str(photo)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        client.stdout.readline()
        tab = next(iter(running.demo.sceneshop.tabs.values()))  # the client's tab
        cpu, wall = time.process_time(), time.monotonic()
        if kill:
            client.kill()
            client.wait()
        time.sleep(0.2)  # the job holds its tab's lock until it ends
        with tab.lock:
            spent = time.process_time() - cpu, time.monotonic() - wall
        client.kill()
        client.wait()
        return spent
    finally:
        running.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=3000, help="the product photo's side in pixels")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        killed = cpu_after_rendering_began(Path(folder), args.size, kill=True)
        kept = cpu_after_rendering_began(Path(folder), args.size, kill=False)
    print(f"studio job of 4 variations of a {args.size}x{args.size} photo, from its first render step:")
    print(f"  client killed   {killed[0]:6.2f} CPU-s  {killed[1]:6.2f} s wall until the job ended")
    print(f"  client stayed   {kept[0]:6.2f} CPU-s  {kept[1]:6.2f} s wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
