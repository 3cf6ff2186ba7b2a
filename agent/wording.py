"""Plain words for the merchant: what a recipe shows, what changed between two, answers to questions,
what the engines cannot do, and the name of a saved look -- all from the labels in prompts/, so preset
ids, kelvin, seeds and weights stay in the inspector."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sceneshop.agent.planner.prompt import description_parts, load_vocabulary
from sceneshop.agent.recipe import Recipe
from sceneshop.tools.catalog import Catalog, read_mapping

TIMES = {"sunrise": "at sunrise", "day": "in daylight", "sunset": "at sunset", "night": "at night"}
FRAMINGS = {"close": "close-up", "medium": "medium shot", "wide": "wide shot"}
WARMTH_STEP = 300  # kelvin away from the light's own before a reply calls it warmer or cooler


@dataclass(frozen=True)
class Labels:
    """How replies name each preset: prompts/*.yaml `label` (and `short`, for look names)."""

    scenes: dict[str, tuple[str, str]]
    lights: dict[str, tuple[str, str]]
    styles: dict[str, str]
    outputs: dict[str, str]

    def scene(self, name: str) -> str:
        return self.scenes.get(name, (_plain_id(name), ""))[0]

    def light(self, name: str) -> str:
        return self.lights.get(name, (_plain_id(name), ""))[0]

    def style(self, name: str) -> str:
        return self.styles.get(name) or f"the {_plain_id(name)} style"

    def output(self, name: str) -> str:
        return self.outputs.get(name) or _plain_id(name)


def _plain_id(name: str) -> str:
    return name.replace("_", " ")


@lru_cache(maxsize=4)
def _labels(folder: Path) -> Labels:
    def read(filename: str) -> dict:
        path = folder / filename
        return read_mapping(path) if path.exists() else {}

    def pair(entry: dict, name: str) -> tuple[str, str]:
        label = str(entry.get("label") or _plain_id(name))
        return label, str(entry.get("short") or _plain_id(name))

    return Labels(
        scenes={n: pair(e, n) for n, e in read("scenes.yaml").items()},
        lights={n: pair(e, n) for n, e in read("lighting.yaml").items()},
        styles={n: str(e.get("label") or "") for n, e in read("loras.yaml").items()},
        outputs={n: str(e.get("label") or "") for n, e in read("marketplaces.yaml").items()},
    )


def labels(catalog: Catalog) -> Labels:
    return _labels(Path(catalog.folder))


# --------------------------------------------------------------------------- what a recipe shows


def strength(weight: float, catalog: Catalog, name: str) -> str:
    entry = catalog.lora(name)
    span = (entry.weight_max - entry.weight_min) or 1.0
    share = (weight - entry.weight_min) / span
    return "light" if share < 0.4 else "medium" if share < 0.75 else "strong"


def style_words(name: str, weight: float, catalog: Catalog) -> str:
    """ "a luxury-editorial style at medium strength"."""
    return f"{labels(catalog).style(name)} at {strength(weight, catalog, name)} strength"


def warmth(recipe: Recipe, catalog: Catalog) -> str:
    """ "", "a little warmer" or "a little cooler" than the light preset's own colour."""
    own = catalog.light(recipe.lighting.preset).kelvin
    if recipe.lighting.kelvin <= own - 2 * WARMTH_STEP:
        return "warmer"
    if recipe.lighting.kelvin < own - WARMTH_STEP:
        return "a little warmer"
    if recipe.lighting.kelvin >= own + 2 * WARMTH_STEP:
        return "cooler"
    if recipe.lighting.kelvin > own + WARMTH_STEP:
        return "a little cooler"
    return ""


def _time_words(time: str | None, scene: str) -> str:
    """ " at sunset", or "" when there is no time or the scene's words say it ("... in daylight")."""
    if not time or TIMES[time].split()[-1] in scene:
        return ""
    return f" {TIMES[time]}"


def describe(recipe: Recipe, catalog: Catalog) -> str:
    """One line a merchant can read: "a sandy beach by the sea at sunset, warm golden-hour
    sunlight, medium shot, with seashells and driftwood"."""
    names = labels(catalog)
    vocab = load_vocabulary(catalog.folder)
    scene = names.scene(recipe.scene.preset) if recipe.scene.preset != "custom" else "your own scene"
    parts = [scene + _time_words(recipe.time_of_day, scene)]
    light = names.light(recipe.lighting.preset)
    tone = warmth(recipe, catalog)
    parts.append(f"{light}, {tone}" if tone else light)
    if recipe.lighting.exposure >= 0.15:
        parts.append("brighter")
    elif recipe.lighting.exposure <= -0.15:
        parts.append("darker")
    parts.append(FRAMINGS[recipe.camera.framing])
    positive, negative = description_parts(recipe.scene.description)
    tones = {vocab["warm_words"], vocab["cool_words"]}
    preps = {str(w).lower() for w in vocab["prepositions"]}
    extras = [w for w in positive if w not in tones]
    placed = [w for w in extras if w.split()[0].lower() in preps]  # "in a hotel lobby", "with ice"
    extras = [w for w in extras if w not in placed]
    if recipe.scene.props and recipe.scene.clutter >= 0.25:
        extras.append(_and(recipe.scene.props))
    parts += placed
    if extras:
        parts.append("with " + "; ".join(extras))
    if negative:
        parts.append("without " + _and(negative))
    for choice in recipe.loras:
        parts.append("in " + style_words(choice.name, choice.weight, catalog))
    if recipe.mode == "restyle":
        parts.append("the whole photo repainted")
    if recipe.output.preset:
        parts.append("as " + names.output(recipe.output.preset))
    if recipe.output.count > 1:
        parts.append(f"{recipe.output.count} pictures")
    return ", ".join(parts)


def brief(recipe: Recipe, catalog: Catalog) -> str:
    """A few words that tell one picture from another: "a sandy beach by the sea at sunset, warm"."""
    names = labels(catalog)
    text = names.scene(recipe.scene.preset) if recipe.scene.preset != "custom" else "your own scene"
    text += _time_words(recipe.time_of_day, text)
    tone = warmth(recipe, catalog)
    return f"{text}, {names.light(recipe.lighting.preset)}" + (f", {tone}" if tone else "")


def recall_words(recall) -> str:
    """What memory did for a request, in plain words (sceneshop.agent.memory.recall.Recall)."""
    if recall is None:
        return ""
    name = recall.entry.name if recall.entry is not None else None
    said = {
        "named": f"Using your saved look '{name}'.",
        "last_time": f"Using your latest saved look{f' ({name})' if name else ''}.",
        "similar": f"Starting from your saved look{f' {name!r}' if name else ''} for a similar request.",
        "avoid": "You disliked a picture for a similar request, so I made a different one.",
        "not_found": "You have no saved look yet, so I planned from your words; say 'save this' for one.",
    }.get(recall.kind, "")
    if recall.kind == "similar" and recall.avoid is not None:
        said += " You disliked a similar one, so I changed it a little."
    return said


def changes(before: Recipe, after: Recipe, catalog: Catalog) -> list[str]:
    """What changed from `before` to `after`, in plain words ("closer (close-up)", "warmer light")."""
    names = labels(catalog)
    out: list[str] = []
    if after.subject.description != before.subject.description:
        out.append(f"your product: {after.subject.description}")
    if after.scene.preset != before.scene.preset:
        scene = names.scene(after.scene.preset) if after.scene.preset != "custom" else "your own scene"
        out.append("now " + scene)
    if after.time_of_day != before.time_of_day:
        out.append(TIMES.get(after.time_of_day or "", "no particular time of day"))
    if after.lighting.preset != before.lighting.preset:
        out.append("light: " + names.light(after.lighting.preset))
    elif after.lighting.kelvin != before.lighting.kelvin:
        out.append("warmer light" if after.lighting.kelvin < before.lighting.kelvin else "cooler light")
    if after.lighting.exposure != before.lighting.exposure:
        out.append("brighter" if after.lighting.exposure > before.lighting.exposure else "darker")
    if after.scene.clutter != before.scene.clutter:
        out.append("busier" if after.scene.clutter > before.scene.clutter else "less busy")
    gone = [p for p in before.scene.props if p not in after.scene.props]
    added = [p for p in after.scene.props if p not in before.scene.props]
    out += _recoloured(gone, added)
    without = len(out)  # the one "without" clause goes here, once the scene's words are read too
    if added:
        out.append("with " + _and(added))
    if after.camera.framing != before.camera.framing:
        closer = ["wide", "medium", "close"]
        nearer = closer.index(after.camera.framing) > closer.index(before.camera.framing)
        way = "closer" if nearer else "wider"
        out.append(f"{way} ({FRAMINGS[after.camera.framing]})")
    if after.camera.angle != before.camera.angle:
        out.append(f"camera: {after.camera.angle}")
    if after.camera.lens != before.camera.lens:
        ladder = load_vocabulary(catalog.folder)["blur_lenses"]
        if before.camera.lens in ladder and after.camera.lens in ladder:
            more = ladder.index(after.camera.lens) > ladder.index(before.camera.lens)
            out.append(f"background {'more blurred' if more else 'sharper'} ({after.camera.lens})")
        else:
            out.append(f"lens: {after.camera.lens}")
    was = {c.name: c.weight for c in before.loras}
    now = {c.name: c.weight for c in after.loras}
    for name, weight in now.items():
        if name not in was:
            out.append(style_words(name, weight, catalog))
        elif weight != was[name]:
            how = "stronger" if weight > was[name] else "lighter"
            out.append(f"{how} {names.style(name).removeprefix('a ').removeprefix('an ')}")
    for name in was:
        if name not in now:
            out.append("without " + names.style(name))
    if after.mode != before.mode:
        out.append({"restyle": "the whole photo repainted", "text_to_image": "drawn from your words",
                    "replace_background": "your product kept exactly, new background",
                    "inpaint": "only the marked area repainted",
                    "dress_model": "your garment kept exactly, worn by a person"}[after.mode])
    if after.output.preset != before.output.preset:
        now, was = after.output.preset, before.output.preset
        out.append(f"as {names.output(now)}" if now else f"no longer {names.output(was)}")
    if not after.output.preset and (after.width, after.height) != (before.width, before.height):
        out.append(f"{after.width}×{after.height} pixels")
    if after.output.count != before.output.count:
        out.append(f"{after.output.count} pictures")
    b_pos, b_neg = description_parts(before.scene.description)
    a_pos, a_neg = description_parts(after.scene.description)
    vocab = load_vocabulary(catalog.folder)
    preps = {str(w).lower() for w in vocab["prepositions"]}
    b_pos, a_pos = (_one_by_one(parts, preps - {"with"}) for parts in (b_pos, a_pos))
    tones = {vocab["warm_words"], vocab["cool_words"]}
    new_words = [w for w in a_pos if w not in b_pos and w not in tones]
    gone_words = [w for w in b_pos if w not in a_pos and w not in tones]
    out += _recoloured(gone_words, new_words)
    placed = [w for w in new_words if w.split()[0].lower() in preps]
    out += placed
    if things := [w for w in new_words if w not in placed]:
        out.append("with " + _and(things))
    new_negative = [w for w in a_neg if w not in b_neg]
    if dropped := _uncovered(new_negative + gone + gone_words):
        out.insert(without, "without " + _and(dropped))
    out += text_changes(before.text, after.text)
    out += retouch_changes(before.retouch, after.retouch)
    if not out and after.seed != before.seed:
        out.append("a new variation of the same look")
    return out


_LISTED = re.compile(r",\s*|\s+and\s+")


def _one_by_one(parts: list[str], places: set[str]) -> list[str]:
    """Each thing of a "honeycomb and some oats" clause on its own, so that taking the oats out is said as
    "without some oats", not "without honeycomb and some oats; with honeycomb". A place ("on a table")
    stays whole."""
    out = []
    for part in parts:
        head, _, rest = part.partition(" ")
        if head.lower() in places:
            out.append(part)
            continue
        listed = rest if head.lower() == "with" else part
        out += [thing for thing in _LISTED.split(listed) if thing]
    return out


def _uncovered(things: list[str]) -> list[str]:
    """The things without those another one names already: "no plants" covers the preset's "potted
    plants" and the merchant's "a few plants", so the reply says "without plants", once."""
    def covers(short: str, long: str) -> bool:
        return short != long and f" {long.lower()}".endswith(f" {short.lower()}")
    kept = [t for t in things if not any(covers(other, t) for other in things)]
    return list(dict.fromkeys(kept))


def _recoloured(gone: list[str], added: list[str]) -> list[str]:
    """A thing that only changed colour ("rolled towels" -> "white rolled towels") said as that: "the
    rolled towels now white"; both lists lose the pair."""
    out = []
    for new in list(added):
        for old in gone:
            colour = " ".join(new.lower().replace(old.lower(), " ", 1).split())
            if old.lower() in new.lower() and colour and len(colour.split()) <= 2:
                out.append(f"the {old} now {colour}")
                gone.remove(old)
                added.remove(new)
                break
    return out


_TEXT_FIELDS = {"title": "the title", "subtitle": "the subtitle", "badge": "the badge",
                "price": "the price tag"}
_LAYOUTS = {"cover": "a magazine-cover layout", "banner": "a banner layout", "none": "no text layout"}


def text_changes(before, after) -> list[str]:
    """What changed in the words drawn over the picture, in plain words ("the title now “GLOW ON”")."""
    out: list[str] = []
    if after.empty and not before.empty:
        return ["the text taken off"]
    if after.layout != before.layout:
        out.append(_LAYOUTS.get(after.layout, "a new text layout"))
    for name, label in _TEXT_FIELDS.items():
        old, new = getattr(before, name), getattr(after, name)
        if new == old:
            continue
        out.append(f"{label} now “{new}”" if new else f"without {label}")
    if after.lines != before.lines:
        out.append("new cover lines" if after.lines else "without the cover lines")
    if after.place != before.place and not after.empty:
        out.append(f"the title moved to the {after.place}")
    return out


STRAIGHTENED = "the product straightened"


def retouch_changes(before, after) -> list[str]:
    """What changed in the retouches of the product itself ("the product straightened")."""
    out: list[str] = []
    if after.straighten != before.straighten:
        out.append(STRAIGHTENED if after.straighten else "the product no longer straightened")
    if after.harmonize != before.harmonize:
        if not after.harmonize:
            out.append("the product's own light kept as photographed")
        else:
            out.append("the product's light matched to the scene" + (
                " more closely" if after.harmonize > before.harmonize and before.harmonize else ""))
    return out


def _and(items: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    items = [str(i) for i in items if str(i)]
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def shape(width: int, height: int) -> str:
    return "square" if width == height else "landscape" if width > height else "portrait"


# ---------------------------------------------------------------------------- a saved look's name


def look_name(recipe: Recipe, catalog: Catalog) -> str:
    """A short, readable name for a saved look, from the recipe: "beach sunset warm",
    "wooden table lamp light"."""
    names = labels(catalog)
    words = [names.scenes.get(recipe.scene.preset, (None, _plain_id(recipe.scene.preset)))[1]]
    if recipe.time_of_day and recipe.time_of_day != "day":
        words.append(recipe.time_of_day)
    light_short = names.lights.get(recipe.lighting.preset, (None, ""))[1]
    if light_short and light_short not in words[0]:
        words.append(light_short)
    tone = warmth(recipe, catalog)
    if tone:
        words.append(tone.split()[-1].removesuffix("er") if tone.endswith("warmer") else "cool")
    if recipe.output.preset:
        words.append(recipe.output.preset.split("_")[0])
    text = " ".join(" ".join(words).split()[:5])
    return re.sub(r"[^A-Za-z '&-]", "", text).strip() or "my look"


# -------------------------------------------------------------------------- what cannot be done


def cannot(what: str, product: str, *, style: str = "") -> str:
    """Why a request cannot be shown, and what can be done instead."""
    product = product if product and product != "product" else "product"
    if what == "person":
        return (f"I can't put your {product} on a person or a mannequin: your photo is kept exactly as it "
                "is, so nobody can wear or hold it. I can show it on a surface or in a room instead, "
                "e.g. 'laid on linen' or 'in a bright living room'.")
    if what == "person_in_scene":
        return (f"I can't add a person beside your {product} here: the preview renderer doesn't draw people "
                "(an image model can paint one into the scene). I can make the scene feel lived-in instead, "
                "e.g. 'a cosy living room' or 'with a coffee cup beside it'.")
    if what == "text":
        return ("I can't add words or titles to the picture: image models draw letters badly, so I keep "
                "text out. Add your title in a design tool; I can leave room for it with 'wider' or a "
                "plain background.")
    if what == "shadow":
        return ("I can't move or redraw the shadow by hand: it follows the light. I can change the light "
                "instead, e.g. 'softer light', 'light from the side' or 'brighter'.")
    if what == "style":
        return (f"The preview renderer draws scenes but doesn't paint styles, so {style or 'that style'} "
                "wouldn't show. Connect an image model for styles; here I can change the scene, the light, "
                "the colours or the framing.")
    if what == "recolour":
        return (f"I can't recolour your {product}: its pixels are kept exactly as photographed. To show it "
                "in another colour, upload a photo of that variant; I can change the background colour "
                "to match.")
    raise ValueError(f"unknown limit {what!r}")


def recolour_question(product: str, colour: str) -> str:
    product = product if product and product != "product" else "product"
    # "colour" said: the merchant asked for a colour, and a "recolour" alone reads as jargon
    return (f"I can't change the colour of your {product}: its pixels are kept exactly as photographed. "
            f"Shall I make the background {colour} to match?")


# What to click in the studio's cut-out step: said after the cut-out's verdict, and in the answer to
# a complaint about it ("the chair is not part of it"), so the chat and the step use the same words.
CUTOUT_HOW = (
    "To fix it, open the ✂️ Cut-out tab: choose ➖ Remove and click a part that is not your product, "
    "➕ Add and click a part of it that is missing, or ▭ Box and click two opposite corners around the "
    "product. The 🖌 brush paints the last pixels; ↶ Undo takes back the last fix and Reset goes back "
    "to the automatic cut-out. Every picture of this product uses the fixed cut-out."
)
CUTOUT = "That's the cut-out (the outline of your product), not the scene. " + CUTOUT_HOW


# ------------------------------------------------------------------------------------ questions


def answer(topic: str, recipe: Recipe | None, catalog: Catalog, *, photo: bool, engine: str,
           looks=None) -> str:
    """A question, greeting or thank-you answered in words. `looks`: the merchant's saved looks
    (sceneshop.agent.memory.memory.Looks), when there is a memory."""
    names = labels(catalog)
    start = ("Upload a photo of your product and tell me the scene, e.g. 'on a beach at sunset' or "
             "'white background for Amazon'." if not photo else
             "Tell me the scene for your product, e.g. 'on a marble counter' or 'white background for "
             "Amazon'.")
    if topic == "thanks":
        return "Glad you like it! Say 'save this' to keep the look, or tell me what to change next."
    if topic in ("greeting", "capabilities"):
        return ("Hi! I make product photos: I keep your product exactly as photographed and build the "
                f"picture around it. {start} Then say what to change: 'warmer', 'closer', 'less busy', "
                "'at night', 'for Etsy'. Words go over the picture too, e.g. 'title SUMMER SALE at the top'. "
                "I can't change your product's colour or put it on a person. "
                f"Pictures come from the {engine}.")
    if topic == "saved":
        if looks is None:
            return "This studio runs without saved looks."
        if not looks.saved and not looks.disliked:
            return "You haven't saved a look yet; say 'save this' when you like a picture."
        lines = [f"'{e.name or e.request}': {describe(e.recipe, catalog)}" for e in looks.saved[:8]]
        text = "Your saved looks:\n" + "\n".join(f"- {line}" for line in lines) if lines else ""
        if looks.disliked:
            count = len(looks.disliked)
            plural = "s" if count > 1 else ""
            text += f"\n(You also marked {count} look{plural} as disliked; I steer away from those.)"
        return text.strip()
    if topic == "no_photo":
        return ("No photo needed: describe the product and where it should be, e.g. 'a red sneaker on a "
                "basketball court', and I'll draw both from your words. To keep your own product exactly as "
                "it is, upload a photo of it.")
    if topic == "data":
        return ("Your product photo, this chat and its pictures are kept in this studio's own data folder, "
                "so a reload brings them back; the Sessions tab lists them and Delete removes one with its "
                "files. Looks are remembered only when you save them. Nobody else's sessions can open yours.")
    if topic == "cost":
        return ("I can't tell you prices: that depends on how this studio is run. Here I only make the "
                f"pictures. {start}")
    if topic == "speed":
        return ("It depends on the engine and the machine: the preview renderer draws a picture in a second "
                "or two; an image model takes tens of seconds on a graphics card and minutes without one. "
                f"Pictures here come from the {engine}.")
    if topic == "file":
        return ("Each picture downloads as a PNG (no quality lost, its recipe stored inside) with its recipe "
                "as JSON beside it. It always has a full background, never a transparent one: for a plain "
                "backdrop say 'white background' or 'for Amazon'. A batch's download also holds each "
                "product's cut-out as a black-and-white mask PNG.")
    if topic == "batch":
        return ("Yes: make one picture you like here and say 'save this'; then open the Jobs tab, add your "
                "product photos (or a zip of them), pick that saved look and press Start batch. Every "
                "product gets the same look, and the whole batch downloads as one zip. You can keep "
                "chatting while it runs.")
    if topic == "rights":
        return ("I can't give legal advice. Your product stays exactly as in your photo; the scene around it "
                f"comes from the {engine}. Whether you may use the pictures commercially depends on the "
                "licence of the image model that draws the scene, where this studio uses one, and on your "
                "rights to your own photo: ask whoever runs this studio.")
    if topic == "product_kept":
        what = recipe.subject.description.strip() if recipe is not None else ""
        what = what if what and what.lower() != "product" else "product"
        if recipe is None or recipe.mode == "replace_background":
            return (f"Yes: your {what} stays exactly as in your photo, pixel for pixel, its colour included. "
                    "Only the scene, the light around it and the shadow under it are made new.")
        return (f"This picture draws your {what} from words (no photo of it is kept), so its colour may "
                "differ; upload a photo of it to keep it exactly as it is.")
    if recipe is None:
        return f"There's no picture yet. {start}"
    if topic == "settings":
        return (f"The current picture: {describe(recipe, catalog)}. To use the same look for your other "
                "products, say e.g. 'save this as spa look'; then, with the next product, 'use my spa look'.")
    if topic == "size":
        size = f"{recipe.width}×{recipe.height} pixels ({shape(recipe.width, recipe.height)})"
        if recipe.output.preset:
            market = catalog.marketplace(recipe.output.preset)
            size = f"{market.width}×{market.height} pixels ({shape(market.width, market.height)}), " \
                   f"the size for {names.output(recipe.output.preset)}"
        return f"It's {size}. Say 'square', 'for Instagram story' or 'for Etsy' to change it."
    if topic == "light":
        tone = warmth(recipe, catalog)
        return (f"The light is {names.light(recipe.lighting.preset)}{', ' + tone if tone else ''}. "
                "Say 'warmer', 'cooler', 'brighter', 'softer light' or 'golden hour' to change it.")
    if topic == "shadow":
        if recipe.output.preset and not catalog.marketplace(recipe.output.preset).shadow:
            return (f"No shadow on purpose: {names.output(recipe.output.preset)} has to show the product "
                    "on pure white without a shadow (the marketplace's rules).")
        return ("The shadow follows the light: a soft shadow sits under your product. I can't move it by "
                "hand, but 'softer light' or 'light from the side' changes it.")
    return (f"The current picture: {describe(recipe, catalog)}. Tell me what to change, or ask for "
            "something new.")


def banner(planner_name: str, llm: bool, engine_name: str, preview: bool, memory_note: str | None) -> str:
    """The studio's banner: what is active and what that means for the pictures."""
    planner = (f"Understanding: a language model ({planner_name})." if llm else
               "Understanding: the built-in offline planner (works on this computer, no account needed).")
    if preview:
        engine = ("Pictures: preview renderer: scenes are drawn, not photographed. Connect an image model "
                  "for photographic results.")
    else:
        engine = f"Pictures: image model ({engine_name}): photographic scenes, your product kept exactly."
    memory = f" Saved looks are off: {memory_note}." if memory_note else ""
    return f"{planner} {engine}{memory}"
