"""Conversation accuracy (issue 11): runs multi-turn merchant conversations through the studio's own
chat path and reports how many pass, per issue bullet and per split (dev / holdout / fresh: fresh is a
frozen held-out set in its own file, conversations_fresh.yaml, written before the second round of
planner work and never tuned to).

Each conversation gets a fresh studio exactly as the studio builds one for a chat: the in-process
embedded planner, the embedded preview renderer and a recipe memory in a temporary ChromaDB folder;
a product photo (scikit-image's coffee cup) is uploaded when the conversation says `photo: true`;
every message goes through `Session.send`, as the app and `sceneshop chat` do. The checks are
described at the top of the data file. A conversation passes only when every check of every turn
passes; every reply must also pass the global plain-words rule (no internals).

    python bench/conversation_accuracy.py [--data FILE ...] [--verbose]
        [--split dev|holdout|fresh] [--only ID-PREFIX] [--json results.json]

Without --data it runs bench/data/conversations.yaml, conversations_fresh.yaml and conversations_lead.yaml.

Exits 0 whatever the score (2 only when the data file itself is malformed).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from pathlib import Path

import yaml

# An isolated environment, before any project import reads the settings: no LLM endpoint, no
# diffusion model (the preview renderer is the active engine), no user config or data folder.
_WORK = Path(tempfile.mkdtemp(prefix="sceneshop-conv-"))
os.environ["SCENESHOP_DATA_DIR"] = str(_WORK / "data")
os.environ["SCENESHOP_CONFIG"] = str(_WORK / "no-such-sceneshop.toml")
for _var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SCENESHOP_DIFFUSION_MODEL", "SCENESHOP_USERS"):
    os.environ.pop(_var, None)
# `memory_module` is the module whose `time` stamps a save (patched to back-date saved looks).
import sceneshop.agent.memory.memory as memory_module  # noqa: E402
from sceneshop.agent.memory.memory import RecipeMemory  # noqa: E402
from sceneshop.agent.planner.embedded import EmbeddedPlanner  # noqa: E402
from sceneshop.agent.session import Session  # noqa: E402
from sceneshop.agent.studio import Studio  # noqa: E402
from sceneshop.tools.preview.renderer import EmbeddedRenderer  # noqa: E402

LAYOUT = "sceneshop.*"

USER = "merchant"
BULLETS = ["classify", "prompt", "product", "recall", "replies", "fresh_looks", "ordinary"]
SPLITS = ["dev", "holdout", "fresh"]
KINDS = {"result", "answer", "info", "clarify", "cutout", "refuse"}
CHECKS = {
    "kind", "renders", "version_shown", "builds_on", "same_look_as", "like_saved", "scene", "scene_not",
    "time_of_day", "lighting_in", "vs_before", "only_seed_changed", "framing", "marketplace", "aspect",
    "loras", "prompt_has", "prompt_lacks", "negative_has", "product_is", "product_not", "reply_has",
    "reply_lacks", "saved_as",
}
# The fields that make a "look" (same_look_as, like_saved, only_seed_changed).
LOOK = [
    "scene.preset", "scene.props", "lighting.preset", "lighting.kelvin", "time_of_day", "camera.framing",
    "loras", "output.preset",
]
# Fields a new variation must keep (only_seed_changed): the look plus the rest of the recipe's knobs.
VARIATION_KEEPS = LOOK + [
    "mode", "scene.description", "scene.clutter", "lighting.direction", "lighting.exposure", "camera.angle",
    "camera.lens", "width", "height", "steps", "guidance", "strength", "subject.description",
]
GLOBAL_RULE = "plain-words reply"


# ------------------------------------------------------------------------------------ the studio


class Bench:
    """What every conversation shares: one planner and one renderer (both stateless per request)."""

    def __init__(self) -> None:
        self.planner = EmbeddedPlanner()
        self.engine = EmbeddedRenderer()
        self.photo = product_photo()
        self.internal = internal_patterns(Studio(planner=self.planner, engine=self.engine).catalog)


def product_photo():
    """A real product photo: scikit-image's espresso cup on a saucer (600x400); a synthetic bottle
    on a plain backdrop when scikit-image is missing."""
    from PIL import Image, ImageDraw

    try:
        from skimage import data

        return Image.fromarray(data.coffee(), "RGB")
    except ImportError:
        image = Image.new("RGB", (600, 800), (235, 235, 232))
        draw = ImageDraw.Draw(image)
        draw.rounded_rectangle((220, 220, 380, 700), radius=40, fill=(40, 90, 160))
        draw.rectangle((270, 120, 330, 230), fill=(30, 30, 30))
        return image


def internal_patterns(catalog) -> list[tuple[str, re.Pattern]]:
    """The global rule: words a merchant should never see in a reply."""
    ids = set()
    for group in ("scenes", "lighting", "marketplaces", "loras"):
        ids |= {name for name in getattr(catalog, group, {}) if "_" in name}
    ids |= {"replace_background", "text_to_image", "time_of_day"}
    pats = [
        ("kelvin number", r"\b\d{3,5}\s?K\b"),
        ("'kelvin'", r"(?i)\bkelvin\b"),
        ("'LoRA'", r"(?i)\bloras?\b"),
        ("field path", r"(?i)\b(?:scene|lighting|camera|output|subject|recipe)\.[a-z_]+"),
        ("env var", r"SCENESHOP_\w*"),
        ("seed number", r"(?i)\bseed\s*\d+"),
        ("decimal weight", r"(?<![\d.])[01]\.\d+\b"),
    ]
    if ids:
        alternatives = "|".join(sorted(map(re.escape, ids), key=len, reverse=True))
        pats.append(("preset id", r"(?i)\b(?:" + alternatives + r")\b"))
    return [(why, re.compile(p)) for why, p in pats]


@contextlib.contextmanager
def backdated(days: float):
    """Memory stamps a save with time.time(): move that clock `days` into the past while saving."""
    real = getattr(memory_module, "time", None)
    if real is None or not days:
        yield
        return

    class _Clock:
        def __getattr__(self, name):
            return getattr(real, name)

        def time(self):
            return real.time() - float(days) * 86400

    memory_module.time = _Clock()
    try:
        yield
    finally:
        memory_module.time = real


class Chat:
    """One conversation's studio: a fresh Session over a fresh memory folder."""

    def __init__(self, bench: Bench, conv: dict) -> None:
        self.bench = bench
        self.folder = Path(tempfile.mkdtemp(prefix="memory-", dir=_WORK))
        self.memory = RecipeMemory(self.folder)
        self.studio = Studio(planner=bench.planner, engine=bench.engine, memory=self.memory)
        self.catalog = self.studio.catalog
        self.session = Session(self.studio, user=USER)
        size = bench.photo.size if conv.get("photo") else None
        self.saved = []  # the recipes of the conversation's `saved` looks, in order
        for look in conv.get("saved") or []:
            recipe = bench.planner.plan(look["request"], None, image_size=size)
            with backdated(look.get("days_ago", 0)):
                self.memory.save(USER, recipe, rating="saved", name=look.get("name") or None)
            self.saved.append(recipe)
        if conv.get("photo"):
            self.session.set_product(bench.photo)

    def upload(self) -> None:
        """A new product photo, handled as the app does: it becomes the product and starts a new chain."""
        self.session.set_product(self.bench.photo.copy())
        self.session.start_over()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.memory.close()
        shutil.rmtree(self.folder, ignore_errors=True)


# ----------------------------------------------------------------------------------- the checks


def get(recipe, path: str):
    value = recipe
    for part in path.split("."):
        value = getattr(value, part)
    if path == "loras":
        return sorted((c.name, round(c.weight, 3)) for c in value)
    return value


def _alts(item) -> list[str]:
    return [a.strip() for a in str(item).split("|") if a.strip()]


def _has(text: str, phrase: str) -> bool:
    """Whole-word, case-insensitive: "it" is not found in "with"; "?" is found anywhere."""
    pattern = r"(?<![\w])" + re.escape(phrase.lower()) + r"(?![\w])"
    return re.search(pattern, text.lower()) is not None


def _words_in(text: str, phrase: str) -> bool:
    return all(_has(text, w) for w in re.findall(r"[\w'-]+", phrase))


def look_diff(a, b) -> list[str]:
    return [f"{p}: {get(a, p)!r} vs {get(b, p)!r}" for p in LOOK if get(a, p) != get(b, p)]


def aspect_of(recipe, catalog) -> str:
    width, height = recipe.width, recipe.height
    if recipe.output.preset:
        m = catalog.marketplace(recipe.output.preset)
        width, height = m.width, m.height
    return "square" if width == height else ("portrait" if height > width else "landscape")


def compares(a, b, how: str) -> bool:
    """vs_before: how b (after the turn) compares with a (before it)."""
    if how == "lower":
        return b < a
    if how == "higher":
        return b > a
    if how == "same":
        return b == a
    return b != a  # "changed"


def readable_name(name: str | None) -> bool:
    return bool(name) and len(name) <= 40 and re.fullmatch(r"[A-Za-z][A-Za-z '&-]*", name) is not None \
        and 1 <= len(name.split()) <= 5


def check_turn(expect: dict, turn, chat: Chat, before, count_before: int) -> list[str]:
    """Every failed check of one turn, as 'check: why'."""
    s = chat.session
    recipe = s.recipe
    reply = turn.reply or ""
    fails: list[str] = []

    def fail(check, why):
        fails.append(f"{check}: {why}")

    def need(check) -> bool:
        if recipe is None:
            fail(check, "no current recipe")
            return False
        return True

    for check, want in expect.items():
        if check == "kind":
            ok_kinds = want if isinstance(want, list) else [want]
            if turn.kind not in ok_kinds:
                fail(check, f"want {'/'.join(ok_kinds)}, got {turn.kind}")
            elif turn.kind == "clarify" and "?" not in reply:
                fail(check, "a clarifying reply without a question")
        elif check == "renders":
            made = len(s.versions) > count_before
            if made != bool(want):
                fail(check, f"want {'a new version' if want else 'no new version'}, "
                            f"versions {count_before} -> {len(s.versions)}")
        elif check == "version_shown":
            cur = s.current.number if s.current else None
            if cur != want or (turn.version is not None and turn.version != want):
                fail(check, f"want version {want}, turn shows {turn.version}, current {cur}")
        elif check == "builds_on":
            if need(check):
                parent = recipe.parent_id
                if want in (None, "none"):
                    if parent is not None:
                        fail(check, "want a fresh chain, the recipe has a parent")
                elif not 1 <= want <= len(s.versions) or parent != s.versions[want - 1].recipe.id:
                    num = next((v.number for v in s.versions if v.recipe.id == parent), None)
                    fail(check, f"want parent version {want}, got {num}")
        elif check == "same_look_as":
            if need(check):
                if not 1 <= want <= len(s.versions):
                    fail(check, f"no version {want}")
                else:
                    diff = look_diff(s.versions[want - 1].recipe, recipe)
                    if diff:
                        fail(check, f"differs from version {want}: " + "; ".join(diff))
        elif check == "like_saved":
            if need(check):
                diff = look_diff(chat.saved[want], recipe)
                if diff:
                    fail(check, f"differs from saved[{want}]: " + "; ".join(diff))
        elif check == "scene":
            if need(check):
                ok = want if isinstance(want, list) else [want]
                if recipe.scene.preset not in ok:
                    fail(check, f"want {'/'.join(ok)}, got {recipe.scene.preset}")
        elif check == "scene_not":
            if need(check) and recipe.scene.preset in want:
                fail(check, f"got {recipe.scene.preset}")
        elif check in ("time_of_day", "framing", "marketplace"):
            if need(check):
                got = {"time_of_day": recipe.time_of_day, "framing": recipe.camera.framing,
                       "marketplace": recipe.output.preset}[check]
                if got != want:
                    fail(check, f"want {want}, got {got}")
        elif check == "lighting_in":
            if need(check) and recipe.lighting.preset not in want:
                fail(check, f"want {'/'.join(want)}, got {recipe.lighting.preset}")
        elif check == "vs_before":
            if need(check):
                if before is None:
                    fail(check, "no recipe before this turn to compare with")
                    continue
                for path, how in want.items():
                    a, b = get(before, path), get(recipe, path)
                    if not compares(a, b, how):
                        fail(check, f"{path} want {how}: {a!r} -> {b!r}")
        elif check == "only_seed_changed":
            if need(check):
                if before is None:
                    fail(check, "no recipe before this turn")
                    continue
                if recipe.seed == before.seed:
                    fail(check, "the seed did not change")
                moved = [p for p in VARIATION_KEEPS if get(before, p) != get(recipe, p)]
                if moved:
                    fail(check, "also changed: " + ", ".join(moved))
        elif check == "aspect":
            if need(check):
                got = aspect_of(recipe, chat.catalog)
                if got != want:
                    fail(check, f"want {want}, got {got}")
        elif check == "loras":
            if need(check):
                got = sorted(c.name for c in recipe.loras)
                if got != sorted(want):
                    fail(check, f"want {sorted(want)}, got {got}")
        elif check == "prompt_has":
            if need(check):
                for item in want:
                    if not any(_has(recipe.prompt, a) or _words_in(recipe.prompt, a) for a in _alts(item)):
                        fail(check, f"{item!r} not in the prompt")
        elif check == "prompt_lacks":
            if recipe is not None:
                found = [w for w in want if _has(recipe.prompt, str(w))]
                if found:
                    fail(check, f"prompt has {found}")
        elif check == "negative_has":
            if need(check):
                for item in want:
                    if not any(_has(recipe.negative_prompt, a) for a in _alts(item)):
                        fail(check, f"{item!r} not in the negative prompt")
        elif check == "product_is":
            if need(check):
                name = recipe.subject.description
                if not any(a.lower() in name.lower() for a in _alts(want)):
                    fail(check, f"want {want!r}, product is {name!r}")
        elif check == "product_not":
            if recipe is not None:
                name = recipe.subject.description
                found = [w for w in want if str(w).lower() in name.lower()]
                if found:
                    fail(check, f"product {name!r} contains {found}")
        elif check == "reply_has":
            for item in want:
                if not any(_has(reply, a) for a in _alts(item)):
                    fail(check, f"{item!r} not in the reply")
        elif check == "reply_lacks":
            found = [w for w in want if _has(reply, str(w))]  # whole words: "tray" is no "Ray"
            if found:
                fail(check, f"reply has {found}")
        elif check == "saved_as":
            entries = chat.memory.list(USER)
            if want == "auto":
                if not entries:
                    fail(check, "nothing saved")
                else:
                    newest = max(entries, key=lambda e: e.updated)
                    if not readable_name(newest.name):
                        fail(check, f"newest saved look has no short readable name: {newest.name!r}")
            else:
                entry = chat.memory.find_by_name(USER, str(want))
                if entry is None:
                    names = [e.name for e in entries]
                    fail(check, f"no saved look named {want!r} (names: {names})")
                elif recipe is not None and entry.recipe.id != recipe.id and look_diff(entry.recipe, recipe):
                    fail(check, f"the look saved as {want!r} is not the current one")
    for why, pattern in chat.bench.internal:
        m = pattern.search(reply)
        if m:
            fails.append(f"{GLOBAL_RULE}: {why} {m.group(0)!r}")
    return fails


# ------------------------------------------------------------------------------------- running


def validate(data) -> list[dict]:
    convs = data.get("conversations") if isinstance(data, dict) else None
    if not isinstance(convs, list) or not convs:
        raise ValueError("the file needs a non-empty `conversations` list")
    seen = set()
    for conv in convs:
        cid = conv.get("id")
        if not cid or cid in seen:
            raise ValueError(f"missing or repeated id: {cid!r}")
        seen.add(cid)
        if conv.get("covers") not in BULLETS:
            raise ValueError(f"{cid}: covers must be one of {BULLETS}")
        if conv.get("split", "dev") not in SPLITS:
            raise ValueError(f"{cid}: split must be one of {SPLITS}")
        turns = conv.get("turns") or []
        if not 2 <= len(turns) <= 6:
            raise ValueError(f"{cid}: {len(turns)} turns (want 2-6)")
        for t in turns:
            if not isinstance(t.get("say"), str):
                raise ValueError(f"{cid}: a turn without `say`")
            unknown = set(t.get("expect") or {}) - CHECKS
            if unknown:
                raise ValueError(f"{cid}: unknown checks {sorted(unknown)}")
            kind = (t.get("expect") or {}).get("kind")
            for k in kind if isinstance(kind, list) else ([kind] if kind else []):
                if k not in KINDS:
                    raise ValueError(f"{cid}: unknown kind {k!r}")
            for how in ((t.get("expect") or {}).get("vs_before") or {}).values():
                if how not in ("lower", "higher", "same", "changed"):
                    raise ValueError(f"{cid}: vs_before wants lower|higher|same|changed, not {how!r}")
            saved = len(conv.get("saved") or [])
            if "like_saved" in (t.get("expect") or {}) and t["expect"]["like_saved"] >= saved:
                raise ValueError(f"{cid}: like_saved points past the saved looks")
    return convs


def run_conversation(bench: Bench, conv: dict, verbose: bool) -> dict:
    result = {"id": conv["id"], "covers": conv["covers"], "split": conv.get("split", "dev"), "turns": []}
    chat = None
    try:
        chat = Chat(bench, conv)
    except Exception as exc:  # a broken setup fails the whole conversation, the run goes on
        result["setup_error"] = f"{type(exc).__name__}: {exc}"
        return result
    if verbose:
        print(f"\n=== {conv['id']}  [{conv['covers']}, {result['split']}]  photo={bool(conv.get('photo'))}")
    try:
        for i, t in enumerate(conv["turns"], 1):
            s = chat.session
            before, count = s.recipe, len(s.versions)
            if t.get("upload"):
                chat.upload()
                before = None
            try:
                turn = s.send(t["say"])
                fails = check_turn(t.get("expect") or {}, turn, chat, before, count)
            except Exception as exc:
                turn = None
                fails = [f"crash: {type(exc).__name__}: {exc}"]
                if verbose:
                    traceback.print_exc()
            result["turns"].append({"say": t["say"], "fails": fails, "kind": getattr(turn, "kind", None),
                                    "reply": getattr(turn, "reply", None)})
            if verbose:
                r = s.recipe
                mark = "ok  " if not fails else "FAIL"
                print(f"  [{mark}] {i}. {'(upload) ' if t.get('upload') else ''}{t['say']!r}")
                if turn is not None:
                    print(f"         kind={turn.kind} version={turn.version} reply: "
                          + (turn.reply or "").replace("\n", " | "))
                if r is not None:
                    print(f"         scene={r.scene.preset} time={r.time_of_day} light={r.lighting.preset}/"
                          f"{r.lighting.kelvin} framing={r.camera.framing} out={r.output.preset} "
                          f"product={r.subject.description!r}")
                    print(f"         prompt: {r.prompt}")
                    print(f"         negative: {r.negative_prompt}")
                for f in fails:
                    print(f"         - {f}")
    finally:
        chat.close()
    return result


def passed(res: dict, explicit_only: bool = False) -> bool:
    if res.get("setup_error"):
        return False
    for t in res["turns"]:
        fails = [f for f in t["fails"] if not (explicit_only and f.startswith(GLOBAL_RULE))]
        if fails:
            return False
    return True


def rate(results, **kw) -> str:
    n = len(results)
    ok = sum(passed(r, **kw) for r in results)
    return f"{ok}/{n} {ok / n:.0%}" if n else "-"


def report(results: list[dict]) -> None:
    by = defaultdict(list)
    for r in results:
        by[(r["split"], r["covers"])].append(r)
    print("\nconversations passed: 'all' = every check incl. the global plain-words reply rule;"
          " 'explicit' = the turns' own checks only")
    cols = [f"{s} {how}" for s in SPLITS + ["all"] for how in ("all", "explicit")]
    print(f"  {'bullet':<12}" + "".join(f"{c:>17}" for c in cols))
    for bullet in BULLETS + ["TOTAL"]:
        cells = []
        for split in SPLITS + ["all"]:
            rs = [r for r in results if (bullet == "TOTAL" or r["covers"] == bullet)
                  and (split == "all" or r["split"] == split)]
            cells += [rate(rs), rate(rs, explicit_only=True)]
        print(f"  {bullet:<12}" + "".join(f"{c:>17}" for c in cells))

    tally = Counter()
    turns = sum(len(r["turns"]) for r in results)
    for r in results:
        for t in r["turns"]:
            for check in {f.split(":", 1)[0] for f in t["fails"]}:
                tally[check] += 1
    print(f"\nfailed turns by check ({turns} turns):")
    for check, n in tally.most_common():
        print(f"  {check:<20} {n}")

    print("\nfailures:")
    for r in results:
        if passed(r):
            continue
        print(f"  {r['id']}  [{r['covers']}, {r['split']}]")
        if r.get("setup_error"):
            print(f"      setup: {r['setup_error']}")
        for i, t in enumerate(r["turns"], 1):
            if t["fails"]:
                print(f"      {i}. {t['say']!r}")
                for f in t["fails"]:
                    print(f"           - {f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    data = Path(__file__).parent / "data"
    parser.add_argument("--data", type=Path, nargs="+",
                        default=[data / "conversations.yaml", data / "conversations_fresh.yaml",
                                 data / "conversations_lead.yaml"])
    parser.add_argument("--verbose", action="store_true", help="print every turn's reply, recipe and prompt")
    parser.add_argument("--split", choices=SPLITS, help="run one split only")
    parser.add_argument("--only", help="run conversations whose id starts with this")
    parser.add_argument("--json", type=Path, help="also write the per-turn results here")
    args = parser.parse_args(argv)
    convs = []
    for path in args.data:
        try:
            convs += validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, yaml.YAMLError) as exc:
            print(f"bad data file {path}: {exc}")
            return 2
    if len({c["id"] for c in convs}) != len(convs):
        print("bad data files: a conversation id is repeated across files")
        return 2
    if args.split:
        convs = [c for c in convs if c.get("split", "dev") == args.split]
    if args.only:
        convs = [c for c in convs if c["id"].startswith(args.only)]

    start = time.perf_counter()
    bench = Bench()
    results = [run_conversation(bench, c, args.verbose) for c in convs]
    counts = Counter((c["covers"], c.get("split", "dev")) for c in convs)
    print(f"\n{len(convs)} conversations, {sum(len(c['turns']) for c in convs)} turns, "
          f"{time.perf_counter() - start:.0f} s; planner: {bench.planner.name}, engine: {bench.engine.name}, "
          f"layout: {LAYOUT}")
    print("  per bullet (" + "+".join(SPLITS) + "): " + ", ".join(
        f"{b} " + "+".join(str(counts[(b, s)]) for s in SPLITS) for b in BULLETS))
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    shutil.rmtree(_WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
