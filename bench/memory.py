"""Recipe memory at scale: insert throughput and query latency (p50/p95) at 1 000, 10 000 and
100 000 remembered recipes, with embedding time kept apart from ChromaDB time, and memory (RSS).
Targets: query p95 <= 30 ms at 10 000 and <= 80 ms at 100 000, query embedding included.

    python bench/memory.py                       # 1k and 10k
    python bench/memory.py --full                # 1k, 10k and 100k (many minutes)
    python bench/memory.py --sizes 100000 --users 1
    python bench/memory.py --calibrate           # the similarity thresholds of agent/recall.py

Inserts are pre-embedded in batches and bulk-loaded through the store (no duplicate check), the way
an import or a migration loads; `save()` (embed + duplicate check + write) is timed separately.
Each query embeds one request (the model, one text) and searches one user's entries (k=5)."""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sceneshop.agent.embeddings import embed
from sceneshop.agent.memory.entry import _metadata  # bulk-loading writes entries as the memory does
from sceneshop.agent.memory.memory import DUPLICATE_THRESHOLD, SIMILAR_THRESHOLD, RecipeMemory
from sceneshop.agent.recipe import LoraChoice, Recipe
from sceneshop.tools.catalog import load_catalog

PRODUCTS = {
    "apparel": ["summer dress", "linen shirt", "denim jacket", "silk scarf", "wool sweater", "swimsuit"],
    "footwear": ["sneakers", "leather boots", "sandals", "running shoes"],
    "bags": ["leather handbag", "canvas tote", "backpack", "clutch"],
    "beauty": ["serum bottle", "lipstick", "perfume bottle", "face cream jar", "nail polish"],
    "jewelry": ["gold necklace", "silver ring", "pearl earrings", "wristwatch"],
    "home": ["ceramic mug", "scented candle", "table lamp", "throw pillow", "vase"],
    "electronics": ["wireless headphones", "smartphone", "smart speaker", "camera"],
    "food": ["coffee bag", "chocolate bar", "olive oil bottle", "tea tin"],
}
TIMES = {"sunrise": "at sunrise", "day": "in daylight", "sunset": "at sunset", "night": "at night", None: ""}
MODIFIERS = [
    "", "soft shadows", "minimal and clean", "with a few props", "warm light", "cool tones",
    "for amazon", "for instagram", "close up", "wide shot", "cinematic", "bright and airy",
    "moody", "luxury feel", "less busy", "natural look",
]
TEMPLATES = [
    "put this {product} {where} {time}, {mod}",
    "{product} {where} {time} {mod}",
    "show the {product} {where}, {mod}, {time}",
    "I want my {product} {where} {time}",
    "{mod} photo of a {product} {where} {time}",
]
QUERY_TEMPLATES = [
    "my {product} {where} {time} please",
    "same kind of {where} shot for the {product}",
    "{where} {time}",
    "something like the {product} {where}",
]


def scene_phrases(catalog) -> dict[str, list[str]]:
    """Ways a merchant names each scene: its keywords, else its description's first words."""
    out = {}
    for name, scene in catalog.scenes.items():
        words = [k for k in scene.keywords if len(k) > 3][:4] or [scene.description.split(",")[0]]
        out[name] = [("on " if scene.kind in ("surface", "studio") else "in ") + w for w in words]
    return out


def synthetic(n: int, users: int, seed: int = 0) -> list[tuple[str, Recipe]]:
    """n varied (user, recipe) pairs: scene x product x time x modifier x wording."""
    rng = random.Random(seed)
    catalog = load_catalog()
    phrases = scene_phrases(catalog)
    scenes = sorted(catalog.scenes)
    loras = sorted(catalog.loras)
    products = [(cat, p) for cat, items in PRODUCTS.items() for p in items]
    out = []
    for i in range(n):
        scene = rng.choice(scenes)
        preset = catalog.scenes[scene]
        time_of_day = rng.choice(["sunrise", "day", "sunset", "night"]) if preset.outdoor else None
        category, product = rng.choice(products)
        text = rng.choice(TEMPLATES).format(
            product=product, where=rng.choice(phrases[scene]), time=TIMES[time_of_day],
            mod=rng.choice(MODIFIERS),
        )
        text = " ".join(text.replace(" ,", ",").split()).strip(" ,")
        recipe = Recipe(request=text, time_of_day=time_of_day)
        recipe.scene.preset = scene
        recipe.lighting.preset = preset.lighting
        recipe.subject.category = category
        recipe.subject.description = product
        if rng.random() < 0.4:
            recipe.loras = [LoraChoice(name=rng.choice(loras), weight=0.6)]
        out.append((f"user{i % users}", recipe))
    return out


def queries(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    catalog = load_catalog()
    phrases = scene_phrases(catalog)
    products = [p for items in PRODUCTS.values() for p in items]
    return [
        " ".join(
            rng.choice(QUERY_TEMPLATES).format(
                product=rng.choice(products), where=rng.choice(phrases[rng.choice(sorted(phrases))]),
                time=rng.choice(list(TIMES.values())),
            ).split()
        )
        for _ in range(n)
    ]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def line(label: str, values_ms: list[float]) -> str:
    return f"  {label:<34} p50 {pct(values_ms, 0.5):7.1f} ms   p95 {pct(values_ms, 0.95):7.1f} ms"


def load(n: int, users: int, batch: int, root: Path) -> Path:
    """Builds a store of n recipes under root; prints embedding and insert throughput."""
    data_dir = root / f"memory-{n}-{users}u"
    shutil.rmtree(data_dir, ignore_errors=True)
    t = time.perf_counter()
    items = synthetic(n, users)
    print(f"  generated recipes                  {time.perf_counter() - t:7.1f} s")

    # Embedding, in batches (what an import does); cached in the work folder for reruns.
    cache = root / f"vectors-{n}.npy"
    t = time.perf_counter()
    if cache.exists():
        vectors = np.load(cache)
        print("  embed requests                     (cached from an earlier run)")
    else:
        vectors = np.concatenate([
            embed([r.request for _, r in items[start : start + batch]]) for start in range(0, n, batch)
        ])
        embed_s = time.perf_counter() - t
        np.save(cache, vectors)
        print(f"  embed requests (batches of {batch})     {embed_s:7.1f} s   {n / embed_s:8.0f} texts/s")

    mem = RecipeMemory(data_dir)
    t = time.perf_counter()
    now = time.time()
    chunk = 2000
    ratings = random.Random(3)
    for start in range(0, n, chunk):
        by_user: dict[str, list] = {}
        for i in range(start, min(n, start + chunk)):
            user, r = items[i]
            rating = ratings.choice(("saved", "liked", "liked", "disliked"))
            meta = _metadata(user, r.model_dump_json(), rating, None, (), False, now - (n - i), now - (n - i))
            by_user.setdefault(user, []).append((f"b{i:07d}", vectors[i], r.request, meta))
        with mem._store.access(write=True) as store:  # the store's own lock; bulk add, no dedup
            for user, rows in by_user.items():
                store.collection(user, create=True).add(
                    ids=[x[0] for x in rows], embeddings=[x[1] for x in rows],
                    documents=[x[2] for x in rows], metadatas=[x[3] for x in rows],
                )
    insert_s = time.perf_counter() - t
    mem.close()
    print(f"  insert into ChromaDB (pre-embedded) {insert_s:7.1f} s   {n / insert_s:8.0f} recipes/s")
    print(f"  on disk {folder_mb(data_dir / 'memory'):.0f} MB")
    return data_dir


def query(data_dir: Path, users: int, n_queries: int) -> None:
    """Run in a fresh process, as a server would: open the store, query, save; report RSS."""
    embed(["warm up the model"])
    rss_model, _ = rss_mb()
    t0 = time.perf_counter()
    mem = RecipeMemory(data_dir)
    qs = queries(n_queries)
    mem.search("user0", qs[0])
    open_ms = (time.perf_counter() - t0) * 1000
    print(f"  open the store + first query (loads one user's index)  {open_ms:.0f} ms")
    for q in qs[:5]:  # warm-up
        mem.search("user0", q)
    rng = random.Random(2)
    emb_ms, search_ms, total_ms, resolve_ms = [], [], [], []
    for q in qs:
        user = f"user{rng.randrange(users)}"
        t0 = time.perf_counter()
        vec = mem._embed([q])[0]
        t1 = time.perf_counter()
        hits = mem._search_vector(user, vec, 5, None)
        t2 = time.perf_counter()
        assert len(hits) == 5 and all(e.user == user for e, _ in hits)
        emb_ms.append((t1 - t0) * 1000)
        search_ms.append((t2 - t1) * 1000)
        total_ms.append((t2 - t0) * 1000)
    for q in qs[: max(20, n_queries // 4)]:
        t0 = time.perf_counter()
        mem.resolve(f"user{rng.randrange(users)}", q)
        resolve_ms.append((time.perf_counter() - t0) * 1000)
    print(line("query: embed the request", emb_ms))
    print(line("query: ChromaDB search (k=5, 1 user)", search_ms))
    print(line("query: total", total_ms))
    print(line("resolve() (embed + 2 look-ups)", resolve_ms))

    # save(): embedding + duplicate check + write, into the full store.
    save_ms = []
    for user, recipe in synthetic(30, users, seed=99):
        t0 = time.perf_counter()
        mem.save(user, recipe, "liked")
        save_ms.append((time.perf_counter() - t0) * 1000)
    print(line("save() one recipe", save_ms))

    # What a process pays when another process wrote: reopen + the first query (index load).
    t0 = time.perf_counter()
    with mem._store.lock:
        mem._store._reopen()
    t1 = time.perf_counter()
    mem.search("user0", qs[0])
    t2 = time.perf_counter()
    print(
        f"  reopen after another process wrote  {(t1 - t0) * 1000:7.0f} ms"
        f" + first query {(t2 - t1) * 1000:.0f} ms"
    )
    rss_end, peak = rss_mb()
    print(
        f"  RSS of this process: {rss_model:.0f} MB with the model loaded, {rss_end:.0f} MB after the "
        f"queries (peak {peak:.0f} MB): the store adds {rss_end - rss_model:.0f} MB"
    )
    print(f"P95_TOTAL {pct(total_ms, 0.95):.3f}")
    mem.close()


def run_size(n: int, users: int, n_queries: int, batch: int, root: Path, threads: int | None) -> float:
    print(f"\n== {n:,} recipes, {users} users ({n // users:,} each), {n_queries} queries ==", flush=True)
    data_dir = load(n, users, batch, root)
    command = [sys.executable, __file__, "--query-store", str(data_dir), "--users", str(users)]
    command += ["--queries", str(n_queries)] + (["--torch-threads", str(threads)] if threads else [])
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    p95 = float(out.rsplit("P95_TOTAL", 1)[1])
    print(out.rsplit("P95_TOTAL", 1)[0].rstrip(), flush=True)
    return p95


CALIBRATION = [  # (a, b, same look?) — what resolve() should and should not start from
    ("beach at sunset", "on the beach at sunset please", True),
    ("put this dress on a beach at sunset", "this dress on a sunset beach", True),
    ("clean white background for amazon", "white background for amazon listing", True),
    ("marble countertop with soft morning light", "on a marble counter in morning light", True),
    ("sneakers on concrete, urban look", "sneakers on concrete urban style", True),
    ("serum bottle on wet stones with water splash", "serum bottle on stones with water", True),
    ("cozy cafe table with warm light", "on a cozy cafe table, warm light", True),
    ("flat lay on linen", "linen flat lay", True),
    ("beach at sunset", "seaside at dusk", True),  # a paraphrase: search finds it, resolve should not need to
    ("put this dress on a beach at sunset", "put this bag on a beach at sunset", True),
    ("put this dress on a beach at sunset", "put this dress in a forest at sunset", False),
    ("clean white background for amazon", "black background for amazon", False),
    ("marble countertop with soft morning light", "wooden table in morning light", False),
    ("neon city street at night", "city street at night", False),
    ("beach at sunset", "mountain landscape at sunset", False),
    ("beach at sunset", "white studio background", False),
    ("pastel pink background", "pastel blue background", False),
    ("snowy mountain scene", "desert dunes scene", False),
    ("kitchen counter with morning light", "bathroom spa with candles", False),
    ("gold necklace on black velvet", "gold necklace on white marble", False),
]


def calibrate() -> None:
    left, right = embed([a for a, _, _ in CALIBRATION]), embed([b for _, b, _ in CALIBRATION])
    sims = [float(x @ y) for x, y in zip(left, right, strict=True)]
    print("similarity  same look?  pair")
    for (a, b, same), s in sorted(zip(CALIBRATION, sims, strict=True), key=lambda p: -p[1]):
        print(f"  {s:.3f}     {'yes' if same else 'no ':3}       {a!r} ~ {b!r}")
    print("\nthreshold  same-look pairs kept  different-look pairs let through")
    n_same = sum(1 for *_, same in CALIBRATION if same)
    for t in (0.75, 0.80, 0.85, 0.90, 0.95):
        kept = sum(1 for (_, _, same), s in zip(CALIBRATION, sims, strict=True) if same and s >= t)
        wrong = sum(1 for (_, _, same), s in zip(CALIBRATION, sims, strict=True) if not same and s >= t)
        print(f"  {t:.2f}     {kept:2d}/{n_same}                 {wrong:2d}/{len(CALIBRATION) - n_same}")
    print(
        f"\nin agent/recall.py: SIMILAR_THRESHOLD = {SIMILAR_THRESHOLD}; "
        f"in agent/memory.py: DUPLICATE_THRESHOLD = {DUPLICATE_THRESHOLD}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", help="comma-separated store sizes (default 1000,10000)")
    parser.add_argument("--full", action="store_true", help="also 100 000")
    parser.add_argument("--users", type=int, default=10, help="recipes are spread over this many users")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch", type=int, default=256, help="embedding batch size for inserts")
    parser.add_argument("--torch-threads", type=int, help="torch.set_num_threads (default: torch's own)")
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one, removed)")
    parser.add_argument("--calibrate", action="store_true", help="print the similarity calibration and exit")
    parser.add_argument("--query-store", type=Path, help=argparse.SUPPRESS)  # the fresh query process
    args = parser.parse_args()

    import torch

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    if args.calibrate:
        calibrate()
        return
    if args.query_store:
        query(args.query_store, args.users, args.queries)
        return
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")] if args.sizes else [1000, 10000]
    if args.full and 100000 not in sizes:
        sizes.append(100000)
    print(
        f"cpus {os.cpu_count()}, torch threads {torch.get_num_threads()}, "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )
    embed(["warm up the model"])
    root = args.dir or Path(tempfile.mkdtemp(prefix="sceneshop-memory-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        results = {
            n: run_size(n, args.users, args.queries, args.batch, root, args.torch_threads) for n in sizes
        }
    finally:
        if args.dir is None:
            shutil.rmtree(root, ignore_errors=True)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
    targets = {10000: 30.0, 100000: 80.0}
    for n, target in targets.items():
        if n in results:
            got = results[n]
            verdict = "met" if got <= target else "MISSED"
            print(f"target at {n:,}: query p95 <= {target:.0f} ms -> {got:.1f} ms, {verdict}")


if __name__ == "__main__":
    main()
