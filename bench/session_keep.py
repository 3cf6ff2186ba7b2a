"""What keeping a chat session in the work store costs: per turn, the save the studio does after it
(Session.to_state: the new picture's PNG, copied from the page's download or encoded, + one SQLite
transaction in WorkStore.save_session), set against the turn itself; and the restore on page load
(load_session + Session.from_state) as the session grows. Embedded planner and preview renderer,
scikit-image's coffee photo, a temporary store; prints figures and exits 0."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from PIL import Image
from skimage import data

from sceneshop.agent.planner.embedded import EmbeddedPlanner
from sceneshop.agent.session import Session
from sceneshop.agent.store import WorkStore
from sceneshop.agent.studio import Studio
from sceneshop.tools.imageio import save_png
from sceneshop.tools.preview.renderer import EmbeddedRenderer

FEEDBACK = ["warmer", "less busy", "closer", "now at night", "another variation", "cooler", "wider",
            "brighter", "for instagram story", "for amazon"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=12)
    args = parser.parse_args()
    studio = Studio(planner=EmbeddedPlanner(), engine=EmbeddedRenderer())
    photo = Image.fromarray(data.coffee())
    turn_s, view_s, keep_s, encode_s, restore_s = [], [], [], [], []
    with tempfile.TemporaryDirectory() as folder, WorkStore(Path(folder) / "data") as store:
        downloads = Path(folder) / "downloads"
        session = Session(studio, user="bench")
        session.set_product(photo)
        copied, encoded = store.new_session_id(), store.new_session_id()
        messages: list[dict] = []
        written: dict[str, list[str]] = {}
        for n in range(args.turns):
            text = "put it on a beach at sunset" if n == 0 else FEEDBACK[(n - 1) % len(FEEDBACK)]
            began = time.perf_counter()
            turn = session.send(text)
            turn_s.append(time.perf_counter() - began)
            messages += [{"role": "user", "text": text},
                         {"role": "assistant", "text": turn.reply, "kind": "result", "version": turn.version}]
            began = time.perf_counter()  # what the studio's page already does: the version's download
            meta = {"sceneshop:recipe": turn.recipe.to_json()}
            written[turn.recipe.id] = [str(save_png(im, downloads / f"v{n}-{i}.png", metadata=meta))
                                       for i, im in enumerate(turn.images)]
            view_s.append(time.perf_counter() - began)
            began = time.perf_counter()  # the keep as the studio does it: the download's bytes copied
            state = session.to_state(store, copied, messages=messages, written=written)
            store.save_session("bench", copied, state)
            keep_s.append(time.perf_counter() - began)
            began = time.perf_counter()  # without a written PNG: each new picture encoded once
            store.save_session("bench", encoded, session.to_state(store, encoded, messages=messages))
            encode_s.append(time.perf_counter() - began)
            began = time.perf_counter()
            Session.from_state(studio, store.load_session("bench", copied), "bench")
            restore_s.append(time.perf_counter() - began)
        size = sum(p.stat().st_size for p in store.files_root.rglob("*") if p.is_file()) / 2
    ms = lambda s: f"{s * 1000:.0f} ms"  # noqa: E731
    p50 = statistics.median
    print(f"session keep: {args.turns} turns on a 600x400 photo, embedded planner + preview renderer")
    print(f"  turn (plan + render)                p50 {ms(p50(turn_s))}")
    print(f"  the page's download PNG (as before) p50 {ms(p50(view_s))}")
    print(f"  keep, copying that PNG (studio)     p50 {ms(p50(keep_s))}   max {ms(max(keep_s))}")
    print(f"  keep, encoding each picture once    p50 {ms(p50(encode_s))}   max {ms(max(encode_s))}")
    print(f"  restore (page load)                 1 version {ms(restore_s[0])}   {args.turns} versions "
          f"{ms(restore_s[-1])}")
    print(f"  store files per session             {size / 2**20:.1f} MB for {args.turns} versions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
