"""A bounded load test: 8 simulated merchants (gradio_client, one thread each) on 127.0.0.1, 5 chat
turns each, through the queue with the default concurrency — no errors, and every user's recipes
and pictures are their own (their requests, their chain, their product's colour)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from sceneshop.simulate import COLOURS, run_load, start_studio

pytestmark = pytest.mark.slow

USERS, TURNS = 8, 5


def colour_share(path: str, colour: tuple[int, int, int]) -> float:
    """The fraction of a picture's pixels that are exactly `colour` (the product, kept pixel-exact)."""
    pixels = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3)
    return float(np.all(pixels == np.array(colour, np.uint8), axis=1).mean())


def test_eight_users_five_turns_each_get_only_their_own_results(tmp_path):
    running = start_studio(tmp_path / "studio")
    try:
        runs, _ = run_load(running.url, tmp_path, USERS, TURNS)
    finally:
        running.close()

    failures = {run.index: repr(run.error) for run in runs if run.error is not None}
    assert not failures
    for run in runs:
        assert len(run.turns) == TURNS
        previous = None
        for number, turn in enumerate(run.turns, start=1):
            recipe = turn["recipe"]
            assert recipe["request"] == turn["request"]
            assert recipe["parent_id"] == (previous["id"] if previous else None)
            assert f"Version {number}:" in str(turn["chat"][-1])
            png = next(f for f in turn["files"] if f.endswith(".png"))
            assert colour_share(png, run.colour) > 0.03  # this user's product, pixel-exact
            others = [c for c in COLOURS[:USERS] if c != run.colour]
            assert max(colour_share(png, c) for c in others) < 0.005
            previous = recipe
    # Every user's chain is their own: no recipe id shows up for two users.
    ids = [turn["recipe"]["id"] for run in runs for turn in run.turns]
    assert len(set(ids)) == USERS * TURNS
