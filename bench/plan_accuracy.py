"""Plan accuracy and latency: runs a planner over the labelled requests and feedback turns in
bench/data/requests.yaml and prints per-field accuracy, the misses, and warm plan latency. A feedback
turn is read as the chat reads it (sceneshop.agent.commands): `command: undo` cases check that the
message is read as that command, which the session carries out without the planner."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sceneshop.agent.commands import read_message  # noqa: E402
from sceneshop.tools.errors import SceneshopError  # noqa: E402

DATA = Path(__file__).parent / "data" / "requests.yaml"
PHOTO_SIZE = (1200, 1600)  # a typical phone photo of a product
FIELDS = ["scene", "time_of_day", "lighting", "marketplace", "loras", "category", "mode"]
# Recipe fields a feedback turn is judged on; the rest (id, notes, prompt text...) are not compared.
COMPARED = [
    "mode", "subject.description", "subject.category", "scene.preset", "scene.description", "scene.props",
    "scene.clutter", "lighting.preset", "lighting.direction", "lighting.kelvin", "lighting.exposure",
    "time_of_day", "camera.angle", "camera.framing", "camera.lens", "loras", "width", "height", "steps",
    "guidance", "strength", "seed", "scheduler", "output.preset", "output.count",
]


def make_planner(kind: str):
    if kind == "embedded":
        from sceneshop.agent.planner.embedded import EmbeddedPlanner

        return EmbeddedPlanner()
    try:
        from sceneshop.agent.llm.planner import LLMPlanner
    except ImportError as exc:
        print(f"LLM planner not available: agent/llm.py could not be imported ({exc}).")
        return None
    from sceneshop.agent.settings import get_settings

    settings = get_settings()
    if not settings.llm_configured:
        print("LLM planner not configured: set OPENAI_API_KEY and/or OPENAI_BASE_URL (and "
              "SCENESHOP_LLM_MODEL) to point at an OpenAI-compatible endpoint, then run again.")
        return None
    for build in (
        lambda: LLMPlanner.from_settings(settings),
        lambda: LLMPlanner(settings=settings),
        lambda: LLMPlanner(settings),
        lambda: LLMPlanner(),
    ):
        try:
            return build()
        except (AttributeError, TypeError):
            continue
        except SceneshopError as exc:
            print(f"LLM planner could not start: {exc}")
            return None
    print("LLM planner could not be constructed from settings (unknown constructor).")
    return None


def actual(recipe, field: str):
    if field == "scene":
        return recipe.scene.preset
    if field == "time_of_day":
        return recipe.time_of_day
    if field == "lighting":
        return recipe.lighting.preset
    if field == "marketplace":
        return recipe.output.preset
    if field == "loras":
        return sorted(c.name for c in recipe.loras)
    if field == "category":
        return recipe.subject.category
    if field == "mode":
        return recipe.mode
    raise KeyError(field)


def get(recipe, path: str):
    value = recipe
    for part in path.split("."):
        value = getattr(value, part)
    if path == "loras":
        return [(c.name, c.weight) for c in value]
    return value


EMBED_CALLS = [0]


def count_embed_calls() -> None:
    """Counts the embedded planner's calls of the sentence-embedding model, so the latency of
    the requests that needed it (paraphrases) is reported apart from the keyword-only ones."""
    try:
        import sceneshop.agent.planner.embedded as embedded
    except ImportError:
        return
    real = embedded.embed

    def counted(texts):
        EMBED_CALLS[0] += 1
        return real(texts)

    embedded.embed = counted


def timed(planner, request, parent=None, image_size=None, latencies=None):
    calls = EMBED_CALLS[0]
    start = time.perf_counter()
    try:
        recipe = planner.plan(request, parent, image_size=image_size)
        error = None
    except SceneshopError as exc:
        recipe, error = None, str(exc)
    if latencies is not None:
        latencies.append((time.perf_counter() - start, EMBED_CALLS[0] > calls))
    return recipe, error


def percentiles(seconds: list[float]) -> str:
    if not seconds:
        return "none"
    ms = sorted(x * 1000 for x in seconds)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return f"p50 {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms ({len(ms)} calls)"


def check_feedback(case, parent, child) -> list[str]:
    problems = []
    expect = case.get("expect") or {}
    may = set(case.get("may_change") or [])
    for path, want in expect.items():
        before, after = get(parent, path), get(child, path)
        if want == "up":
            ok = after > before
        elif want == "down":
            ok = after < before
        elif want == "changed":
            ok = after != before
        elif path == "loras":
            ok = sorted(n for n, _ in after) == sorted(want)
        else:
            ok = after == want
        if not ok:
            problems.append(f"{path}: want {want}, {before!r} -> {after!r}")
    for path in COMPARED:
        if path in expect or path in may:
            continue
        if get(parent, path) != get(child, path):
            problems.append(f"{path} changed: {get(parent, path)!r} -> {get(child, path)!r}")
    if child.parent_id != parent.id:
        problems.append("parent_id is not the parent's id")
    note = case.get("note")
    if note and not any(note in n for n in child.notes):
        problems.append(f"no note containing {note!r}: {child.notes}")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--planner", choices=["embedded", "llm"], default="embedded")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    data = yaml.safe_load(args.data.read_text(encoding="utf-8"))

    start = time.perf_counter()
    planner = make_planner(args.planner)
    if planner is None:
        return 0
    build_s = time.perf_counter() - start
    # Warm up on a request that is not in the set, so every timed call is a warm one.
    planner.plan("a product on a quiet lakeside jetty with reeds", image_size=PHOTO_SIZE)
    count_embed_calls()

    latencies: list[float] = []
    hits = {f: 0 for f in FIELDS}
    totals = {f: 0 for f in FIELDS}
    misses = []
    for case in data["requests"]:
        size = PHOTO_SIZE if case.get("image", True) else None
        recipe, error = timed(planner, case["text"], image_size=size, latencies=latencies)
        expect = dict(case["expect"])
        expect.setdefault("marketplace", None)
        for field in FIELDS:
            if field not in expect:
                continue
            want = sorted(expect[field]) if field == "loras" else expect[field]
            got = actual(recipe, field) if recipe is not None else f"error: {error}"
            totals[field] += 1
            if got == want:
                hits[field] += 1
            else:
                misses.append(f"  {field:<11} {case['text']!r}: want {want!r}, got {got!r}")

    fb_ok, fb_misses = 0, []
    for case in data["feedback"]:
        parent, error = timed(planner, case["parent"], image_size=PHOTO_SIZE, latencies=latencies)
        if parent is None:
            fb_misses.append(f"  {case['parent']!r}: parent failed: {error}")
            continue
        # As in the chat: the message is read first; a command (undo) is the session's, not the planner's.
        message = read_message(case["feedback"], has_picture=True)
        if message.kind not in ("request", "feedback") or case.get("command"):
            read_as = message.kind if message.kind != "request" else "a request"
            problems = [] if message.kind == case.get("command") else [f"read as {read_as}"]
        else:
            child, error = timed(planner, message, parent, latencies=latencies)
            problems = [f"error: {error}"] if child is None else check_feedback(case, parent, child)
        if problems:
            fb_misses.append(f"  {case['parent']!r} + {case['feedback']!r}: " + "; ".join(problems))
        else:
            fb_ok += 1

    print(f"planner: {planner.name}  (built in {build_s:.1f} s)")
    print(f"requests: {len(data['requests'])}, feedback turns: {len(data['feedback'])}")
    print("per-field accuracy (requests):")
    for field in FIELDS:
        if totals[field]:
            print(f"  {field:<12} {hits[field] / totals[field]:7.1%}  ({hits[field]}/{totals[field]})")
    n_fb = len(data["feedback"])
    print(f"feedback turns: {fb_ok / n_fb:7.1%}  ({fb_ok}/{n_fb})")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"plan latency, warm, all: {percentiles([t for t, _ in latencies])}  "
          f"[{os.cpu_count()} CPUs, load average {load}]")
    if args.planner == "embedded":
        print(f"  keyword only:          {percentiles([t for t, e in latencies if not e])}")
        print(f"  with an embedding call: {percentiles([t for t, e in latencies if e])}")
    print(f"misses ({len(misses)} fields, {len(fb_misses)} feedback turns):")
    for line in misses + fb_misses:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
