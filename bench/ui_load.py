"""Load on the Gradio studio: N simulated merchants (gradio_client, one thread each) doing M chat
turns each against an in-process server on 127.0.0.1 with the embedded defaults; prints turns/s,
p50/p95/max turn latency as a client sees it (queue wait included) and errors. Always exits 0.
The simulation is the package's own (`python -m sceneshop.simulate`, also for a running studio)."""

from __future__ import annotations

import sys

from sceneshop.simulate import main

if __name__ == "__main__":
    sys.exit(main())
