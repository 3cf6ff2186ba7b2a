"""What the studio's page shows: a tab's Session and its Turns as chat messages, the versions gallery,
downloads, inspector values and the memory browser, and the inspector's widget values read back as
arguments of `Session.edit`. app.py lays the page out and wires its events: each handler calls the
Session and hands what comes back to a function here, which returns widget values by name (the
names app.py maps to its components) or appends to the tab's chat. Nothing here changes a Session.

Imported by app.py, after it has told Gradio not to phone home."""

from __future__ import annotations

import dataclasses
import re
import secrets
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import gradio as gr
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from sceneshop.agent.llm.toolbox import summarize
from sceneshop.agent.recipe import Recipe
from sceneshop.agent.session import Session, Turn
from sceneshop.tools.catalog import Catalog
from sceneshop.tools.errors import InputError, SceneshopError
from sceneshop.tools.imageio import load_image, save_png, write_atomic
from sceneshop.tools.marketplace_check import CheckResult

if TYPE_CHECKING:
    from sceneshop.agent.memory.entry import MemoryEntry
    from sceneshop.app import Tab

LORA_ROWS = 3  # fixed rows in the inspector (rerender's signature); further LoRAs of a recipe are kept
NONE = "none"
TEXT_LAYOUTS = [("none (badge and price only)", "none"), ("magazine cover", "cover"), ("banner", "banner")]
HARMONIZE_DEFAULT = 0.5  # the strength the slider offers when matching the light is switched on
# The inspector's fields that are the merchant's own typing: kept as typed when an edit is refused.
INSPECTOR = ("scene", "lighting", "kelvin", "time_of_day", "framing", "seed", "market", "text_layout",
             "text_title", "text_subtitle", "text_lines", "text_badge", "text_price", "text_place",
             "straighten", "harmonize_on", "harmonize_strength",
             *(f"lora_{i}{w}" for i in range(1, LORA_ROWS + 1) for w in ("", "_weight")))


# ------------------------------------------------------------------------------------ the chat


def message_parts(message) -> tuple[str, list[str]]:
    """The message box's value: its text and the paths of its files."""
    if isinstance(message, str):
        return message, []
    if not isinstance(message, dict):
        return "", []
    files = [f if isinstance(f, str) else f.get("path") for f in message.get("files") or []]
    return str(message.get("text") or ""), [f for f in files if f]


def pending(t: Tab, message) -> list[dict]:
    """The chat at once, while the turn waits in the queue: the message as sent and a working note."""
    text, files = message_parts(message)
    preview = list(t.history)
    if files:
        preview.append({"role": "user", "content": f"📎 {Path(files[0]).name}"})
    if text:
        preview.append({"role": "user", "content": text})
    preview.append({"role": "assistant", "content": "⏳ Working on it…"})
    return preview


def say(t: Tab, text: str) -> dict:
    """Appends what the merchant did to the chat (as shown; the Session never sees this text)."""
    line = {"role": "user", "content": text}
    t.history.append(line)
    return line


def show_upload(t: Tab, path: str, text: str, opened: Turn) -> None:
    """The merchant's message with a new product photo: the photo as a thumbnail, then their words.
    A photo that could not be used is named as they chose it, in the message and in the reply (the
    upload's server path means nothing to them)."""
    name = Path(path).name
    if opened.kind == "error":
        opened.reply = opened.reply.replace(f"'{path}'", f"'{name}'")
        say(t, f"📎 {name}" + (f"\n\n{text}" if text else ""))
        return
    t.uploads += 1
    product = t.folder / f"product-{t.uploads:03d}-{secrets.token_hex(4)}.png"
    save_png(t.session.image, product)
    t.history.append({"role": "user", "content": {"path": str(product)}})
    if text:
        say(t, text)


def name_look(asked: dict, turn: Turn) -> None:
    """Names the saved look in the merchant's "apply" message, once the Session has found it."""
    if turn.look is not None:
        asked["content"] = f"⭐ Apply my saved recipe: {memory_caption(turn.look)}"


def show_turn(t: Tab, turn: Turn) -> None:
    """Appends the studio's answer to the chat: the pictures inline, then the words."""
    content: list = []
    if turn.kind == "result" and turn.recipe is not None and turn.images:
        paths = version_files(t, turn.recipe, turn.images, turn.version)
        pngs = [p for p in paths if p.endswith(".png")]
        marks = [check_mark([c]) for c in turn.checks] or [""] * len(pngs)
        for path, mark in zip(pngs, marks, strict=False):
            # A picture that failed its marketplace check carries the verdict on its frame.
            failed = mark.startswith("⚠")
            content.append(gr.Image(value=path, label=mark, show_label=True) if failed else {"path": path})
    elif turn.kind == "cutout" and turn.images:  # the photo and its cut-out, side by side
        label = "Your photo and its cut-out (the checkerboard is what is left out)"
        pictures = _side_by_side(turn.images, CHAT_LIMIT)
        content.append(gr.Image(value=pictures, label=label, show_label=True, format="png"))
    elif turn.images:  # e.g. "compare": earlier pictures side by side
        content += [gr.Image(value=image, show_label=False) for image in turn.images]
    text = turn.reply
    if turn.kind == "error" and not text.startswith("⚠️"):
        text = f"⚠️ {text}"
    content.append(text)
    t.history.append({"role": "assistant", "content": content if len(content) > 1 else text})


def show_rating(t: Tab, turn: Turn) -> bool:
    """A 👍/👎 answer: in the chat when a version was rated, else a warning toast (the buttons are not
    a chat message). Returns whether a version was rated, i.e. whether the memory changed."""
    if turn.version is None:
        gr.Warning(turn.reply)
        return False
    show_turn(t, turn)
    return True


def version_at(t: Tab, index: int) -> int | None:
    """The version number under a click on the versions gallery (which lists the versions shown)."""
    shown = [v for v in t.session.versions if v.recipe.id in t.files]
    return shown[index].number if 0 <= index < len(shown) else None


# ------------------------------------------------------------------- the chat's side: the recipe


def chat(t: Tab, keep_inspector: bool = False) -> dict:
    """Everything that follows the session's current version: the chat, the versions, the downloads
    and the inspector. `keep_inspector`: the inspector's fields are left as the merchant typed them
    (an edit that was refused made no version, and their words should not be lost)."""
    s = t.session
    out = {
        "chat": t.history,
        "versions": [
            (t.files[v.recipe.id][0], " ".join(p for p in (f"v{v.number}", check_mark(v.checks)) if p))
            for v in s.versions
            if v.recipe.id in t.files
        ],
    }
    recipe = s.recipe
    if recipe is None:
        out.update(
            {"downloads": None, "version": "No version yet.", "size": "", "prompt": "", "recipe_json": ""}
        )
        return out
    width, height = recipe.width, recipe.height
    if recipe.output.preset:
        m = s.studio.catalog.marketplace(recipe.output.preset)
        width, height = m.width, m.height
    names = [c.name for c in recipe.loras[:LORA_ROWS]] + [NONE] * LORA_ROWS
    weights = [c.weight for c in recipe.loras[:LORA_ROWS]] + [0.0] * LORA_ROWS
    out.update(
        {
            "downloads": t.files.get(recipe.id),
            "version": f"**Version {s.current.number}** — {recipe.request or 'no request'}",
            "size": f"{width}×{height}",
            "prompt": recipe.prompt,
            "recipe_json": recipe.to_json(),
            "scene": recipe.scene.preset,
            "lighting": recipe.lighting.preset,
            "kelvin": recipe.lighting.kelvin,
            "time_of_day": recipe.time_of_day or NONE,
            "framing": recipe.camera.framing,
            "seed": recipe.seed,
            "market": recipe.output.preset or NONE,
            **looks_values(recipe),
        }
    )
    for i in range(LORA_ROWS):
        out[f"lora_{i + 1}"] = names[i]
        out[f"lora_{i + 1}_weight"] = weights[i]
    if keep_inspector:
        for name in INSPECTOR:
            out.pop(name, None)
    return out


def looks_values(recipe: Recipe) -> dict:
    """The inspector's text and retouch fields for a recipe."""
    text, retouch = recipe.text, recipe.retouch
    return {
        "text_layout": text.layout,
        "text_title": text.title,
        "text_subtitle": text.subtitle,
        "text_lines": "\n".join(text.lines),
        "text_badge": text.badge,
        "text_price": text.price,
        "text_place": text.place,
        "straighten": retouch.straighten,
        "harmonize_on": retouch.harmonize > 0,
        "harmonize_strength": retouch.harmonize or HARMONIZE_DEFAULT,
    }


def inspector_edits(
    recipe: Recipe | None,
    scene: str | None,
    lighting: str | None,
    kelvin: float | None,
    time_of_day: str | None,
    framing: str | None,
    loras: list[tuple[str | None, float | None]],
    seed: float | None,
    seed_lock: bool,
    market: str | None,
    text_layout: str | None = None,
    text_title: str | None = None,
    text_subtitle: str | None = None,
    text_lines: str | None = None,
    text_badge: str | None = None,
    text_price: str | None = None,
    text_place: str | None = None,
    straighten: bool | None = None,
    harmonize_on: bool | None = None,
    harmonize_strength: float | None = None,
) -> dict:
    """The inspector's widget values as `Session.edit` arguments. An empty dropdown clears the time
    of day and the marketplace; an unlocked seed draws a new one; LoRAs of the recipe beyond the
    inspector's rows are not shown, so they are kept. The cover lines box has one line per cover
    line; matching the light off is strength 0. (Session.edit passes on only what changed.)"""
    picked = [(n, round(float(w if w is not None else 0.0), 3)) for n, w in loras if n and n != NONE]
    if recipe is not None:
        taken = {n for n, _ in picked}
        picked += [(c.name, c.weight) for c in recipe.loras[LORA_ROWS:] if c.name not in taken]
    return {
        "scene": scene,
        "lighting": lighting,
        "kelvin": kelvin,
        "time_of_day": time_of_day or NONE,
        "framing": framing,
        "loras": picked,
        "marketplace": market or NONE,
        "seed": seed,
        "new_seed": not seed_lock,
        "text": {
            "layout": text_layout or NONE,
            "title": text_title or "",
            "subtitle": text_subtitle or "",
            "lines": (text_lines or "").splitlines(),
            "badge": text_badge or "",
            "price": text_price or "",
            "place": text_place or "top",
        },
        "retouch": {
            "straighten": bool(straighten),
            "harmonize": float(harmonize_strength or HARMONIZE_DEFAULT) if harmonize_on else 0.0,
        },
    }


def inspector_choices(catalog: Catalog) -> dict:
    """The inspector's dropdown choices as (label, value), and the LoRA sliders' largest maximum."""

    def words(name: str) -> str:
        return name.replace("_", " ")

    return {
        "scenes": [(words(name), name) for name in catalog.scenes] + [("custom", "custom")],
        "lights": [(f"{words(name)} ({p.kelvin} K)", name) for name, p in catalog.lighting.items()],
        "loras": [(NONE, NONE)] + [(f"{name} ({e.family})", name) for name, e in catalog.loras.items()],
        "markets": [("none (photo size)", NONE)]
        + [(f"{words(name)} {m.width}×{m.height}", name) for name, m in catalog.marketplaces.items()],
        "lora_max": _lora_max(catalog),
    }


def preset_kelvin(catalog: Catalog, name: str):
    """Choosing a lighting preset brings its own colour temperature; the slider then fine-tunes it."""
    return catalog.light(name).kelvin if name in catalog.lighting else gr.skip()


def lora_slider(catalog: Catalog, name: str) -> gr.Slider:
    """A LoRA row's weight slider: that LoRA's range and default, or 0 when the row is empty."""
    if name in catalog.loras:
        e = catalog.loras[name]
        return gr.Slider(minimum=e.weight_min, maximum=e.weight_max, value=e.weight_default)
    return gr.Slider(minimum=0.0, maximum=_lora_max(catalog), value=0.0)


def _lora_max(catalog: Catalog) -> float:
    return max((e.weight_max for e in catalog.loras.values()), default=1.0)


def check_mark(checks: list[CheckResult]) -> str:
    """A picture's caption mark: "⚠ Amazon main image check failed", "✓ Amazon main image", or ""."""
    failed = [c for c in checks if not c.passed]
    if failed:
        return f"⚠ {failed[0].label} check failed"
    return f"✓ {checks[0].label}" if checks else ""


# ------------------------------------------------------------------------------ the cut-out step

CUT_LIMIT = 640  # longer side of the cut-out step's pictures (clicks on them map back to the photo)
CHAT_LIMIT = 480  # and of the cut-out pictures in the chat
CLICK_MODES = [("➖ Remove a part", "remove"), ("➕ Add a part", "add"), ("▭ Box: click two corners", "box")]
PAINT_PRODUCT = "#00c853"  # the brush's two colours: green paints product in, red paints it out
PAINT_REMOVE = "#ff1744"
CUTOUT_CLICKS = (
    "Pick what a click does, then click your photo:\n"
    "- ➖ **Remove**: click what is not your product (a leftover of the room)\n"
    "- ➕ **Add**: click a part of your product that is missing\n"
    "- ▭ **Box**: click two opposite corners around your product\n\n"
    "The 🖌 brush below fixes the last pixels; ↶ Undo takes back the last fix. Every picture of this "
    "product uses this cut-out."
)
CUTOUT_EMPTY = (
    "Attach a product photo (📎) in the chat: its cut-out shows here, and you can fix it "
    "before any scene is made."
)


def upload_answer(opened: Turn, cut: Turn, asked: bool) -> Turn:
    """The studio's answer to a new photo: the cut-out step, introduced by the upload's note; the
    question for a scene comes last, unless the merchant's message already asks for one."""
    question = " What scene would you like?"
    note = opened.reply.removesuffix(question)
    reply = f"{note}\n\n{cut.reply}"
    if not asked:
        reply += "\n\nWhen the cut-out looks right, tell me the scene you'd like."
    return dataclasses.replace(cut, reply=reply)


def cutout_panel(t: Tab, turn: Turn | None, selected: bool = False) -> dict:
    """The ✂️ Cut-out tab after `turn` (a "cutout" turn shows; an error is said above the last one):
    the photo with the merchant's clicks and box, the cut-out on a checkerboard, the verdict, and
    the brush's canvas (the photo, dimmed where it is not product). `selected` opens the tab."""
    out: dict = {"tabs": gr.Tabs(selected="cutout")} if selected else {}
    if turn is not None and turn.kind == "cutout":
        t.cutout = turn
    s, shown = t.session, t.cutout
    if shown is None or s.image is None:
        text = turn.reply if turn is not None else CUTOUT_EMPTY
        return {**out, "cut_photo": None, "cut_preview": None, "cut_info": text, "cut_editor": None}
    # The verdict (the turn's first line), then what to click here (the chat's words send people here).
    verdict = shown.reply.splitlines()[0]
    text = f"**{verdict}**\n\n{CUTOUT_CLICKS}" if len(shown.images) > 1 else shown.reply
    if turn is not None and turn.kind == "error":
        text = f"⚠️ {turn.reply}\n\n{text}"
    elif turn is not None and turn.kind == "info":  # "nothing to undo"
        text = f"{turn.reply}\n\n{text}"
    if t.corner is not None:
        text = "▭ First corner set: now click the opposite corner of the box.\n\n" + text
    mask = s.product_mask
    editor = None
    if mask is not None:
        editor = {"background": _fit(_dimmed(s.image, mask), CUT_LIMIT), "layers": [], "composite": None}
    return {
        **out,
        "cut_photo": _fit(_marked(s, t.corner), CUT_LIMIT),
        "cut_preview": _fit(shown.images[1], CUT_LIMIT) if len(shown.images) > 1 else None,
        "cut_info": text,
        "cut_editor": editor,
    }


def photo_point(session: Session, index) -> tuple[int, int]:
    """A click on the cut-out step's photo (pixels of the picture shown) in the photo's pixels."""
    x, y = (int(v) for v in index)
    scale = _scale(session.image.size, CUT_LIMIT)
    width, height = session.image.size
    return min(width - 1, int((x + 0.5) / scale)), min(height - 1, int((y + 0.5) / scale))


def corners_box(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int, int, int]:
    """Two clicked corners as a box (left, top, right, bottom), whichever order they came in."""
    return min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]) + 1, max(a[1], b[1]) + 1


def brush_strokes(session: Session, value) -> tuple[Image.Image | None, Image.Image | None]:
    """The brush's canvas (ImageEditor value) as (paint, erase) masks of the photo's size: green
    strokes are product, red strokes are not; None where nothing was painted in that colour."""
    layers = (value.get("layers") or []) if isinstance(value, dict) else []
    paint = erase = None
    for layer in layers:
        if layer is None:
            continue
        rgba = np.asarray(layer.convert("RGBA"), np.int16)
        stroke = rgba[..., 3] > 0
        green = stroke & (rgba[..., 1] > rgba[..., 0])
        red = stroke & ~green
        paint = green if paint is None else paint | green
        erase = red if erase is None else erase | red
    return _stroke_mask(paint, session.image.size), _stroke_mask(erase, session.image.size)


def _stroke_mask(stroke: np.ndarray | None, size: tuple[int, int]) -> Image.Image | None:
    if stroke is None or not stroke.any():
        return None
    mask = Image.fromarray(stroke.astype(np.uint8) * 255, "L")
    return mask.resize(size, Image.Resampling.NEAREST) if mask.size != size else mask


def _scale(size: tuple[int, int], limit: int) -> float:
    return min(1.0, limit / max(size))


def _fit(image: Image.Image, limit: int) -> Image.Image:
    """`image` no larger than `limit` on its longer side (what the page shows, not what renders)."""
    scale = _scale(image.size, limit)
    if scale == 1.0:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _side_by_side(images: list[Image.Image], limit: int) -> Image.Image:
    """Pictures of one size in a row with a white gap, each at most `limit` on its longer side."""
    tiles = [_fit(image.convert("RGB"), limit) for image in images]
    gap = max(4, tiles[0].width // 40)
    row = Image.new("RGB", (sum(t.width for t in tiles) + gap * (len(tiles) - 1), tiles[0].height), "white")
    for i, tile in enumerate(tiles):
        row.paste(tile, (i * (tile.width + gap), 0))
    return row


def _marked(session: Session, corner: tuple[int, int] | None) -> Image.Image:
    """The photo with the cut-out's outline, the merchant's clicks (green + keep, red − remove) and
    box, drawn at the photo's size so they land where they were clicked."""
    photo = session.image.convert("RGB")
    draw = ImageDraw.Draw(photo)
    unit = max(4, round(max(photo.size) * 0.022))  # ~6 px where the tab shows the photo ~280 px wide
    line = max(1, unit // 4)
    if session.product_mask is not None:
        hard = session.product_mask.point(lambda v: 255 if v >= 128 else 0)
        inner = hard.filter(ImageFilter.MinFilter(2 * max(1, unit // 3) + 1))
        edge = (np.asarray(hard) > 0) & ~(np.asarray(inner) > 0)
        rgb = np.array(photo)
        rgb[edge] = (0, 229, 255)
        photo = Image.fromarray(rgb, "RGB")
        draw = ImageDraw.Draw(photo)
    hints = session.cutout_hints
    if hints.box is not None:
        draw.rectangle(hints.box, outline=(41, 121, 255), width=max(2, unit // 2))
    for x, y, keep in hints.points:
        colour = (0, 200, 83) if keep else (255, 23, 68)
        draw.ellipse((x - unit, y - unit, x + unit, y + unit), fill=colour, outline="white", width=line)
        arm = unit * 6 // 10
        draw.line((x - arm, y, x + arm, y), fill="white", width=line)
        if keep:
            draw.line((x, y - arm, x, y + arm), fill="white", width=line)
    if corner is not None:
        x, y = corner
        draw.ellipse((x - unit, y - unit, x + unit, y + unit), outline=(41, 121, 255), width=2 * line)
    return photo


def _dimmed(photo: Image.Image, mask: Image.Image) -> Image.Image:
    """The brush's canvas: the photo as it is where it is product, darkened where it is not."""
    rgb = np.asarray(photo.convert("RGB"), np.float32)
    alpha = np.asarray(mask.convert("L"), np.float32)[..., None] / 255.0
    return Image.fromarray((rgb * (0.35 + 0.65 * alpha)).astype(np.uint8), "RGB")


def whoami(t: Tab, logins: bool) -> str:
    return f"Signed in as **{t.user}**" if logins else "Your looks are kept in this browser"


# --------------------------------------------------------------------------- the memory browser


def memory_browser(t: Tab, entries: list[MemoryEntry], query: str = "") -> dict:
    """The Memory tab: the user's saved looks as thumbnails and rows (their ids kept in the tab, so
    that a click finds its entry)."""
    if t.session.studio.memory is None:
        return {
            "memory_gallery": [],
            "memory_table": [],
            "memory_info": "Recipe memory is not available in this studio.",
            "memory_choice": "",
        }
    t.memory_ids = [e.id for e in entries]
    items = [(_thumbnail(e.thumbnail), memory_caption(e)) for e in entries]
    rows = [[memory_caption(e), e.rating, _when(e.updated), e.id] for e in entries]
    if entries:
        text = f"{len(entries)} saved recipe(s). Click one, then *Apply to current product*."
    elif (query or "").strip():
        text = "No match."
    else:
        text = "Nothing saved yet: 👍 a result to keep its recipe here."
    return {"memory_gallery": items, "memory_table": rows, "memory_info": text, "memory_choice": ""}


def memory_problem(exc: SceneshopError) -> dict:
    """A search the memory could not answer: said where the results would be."""
    return {"memory_gallery": [], "memory_table": [], "memory_info": f"⚠️ {exc}"}


def memory_id_at(t: Tab, index) -> str:
    """The entry id under a click on the gallery (an index) or the table ([row, column]); "" for none."""
    index = index[0] if isinstance(index, list | tuple) else index
    return t.memory_ids[index] if 0 <= index < len(t.memory_ids) else ""


def look_details(entry: MemoryEntry | None) -> dict:
    """The chosen saved look, described under the browser, and its id for *Apply*."""
    if entry is None:
        return {"memory_info": "Click a saved recipe to see it.", "memory_choice": ""}
    return {
        "memory_info": f"**{memory_caption(entry)}**\n\n{summarize(entry.recipe)}",
        "memory_choice": entry.id,
    }


def look_problem(exc: SceneshopError) -> dict:
    return {"memory_info": f"⚠️ {exc}", "memory_choice": ""}


def memory_caption(entry: MemoryEntry) -> str:
    """'👍 beach · sunset — warmer': the look first (a feedback word alone says little), then its words."""
    mark = {"liked": "👍", "disliked": "👎", "saved": "⭐"}.get(entry.rating, "")
    try:
        recipe = entry.recipe
        look = " · ".join(p for p in (recipe.scene.preset.replace("_", " "), recipe.time_of_day) if p)
    except SceneshopError:
        look = ""
    title = entry.name or " — ".join(p for p in (look, entry.request) if p) or "recipe"
    return f"{mark} {title}"[:70]


# --------------------------------------------------------------------------------------- files


def version_files(t: Tab, recipe: Recipe, images: list[Image.Image], number: int | None) -> list[str]:
    """The PNGs (recipe embedded as metadata) and recipe JSON of one version, written once, under
    names made here: nothing a user types becomes part of a path."""
    if recipe.id in t.files:
        return t.files[recipe.id]
    stem = f"v{number or 0:03d}-{_safe(recipe.id)}-{secrets.token_hex(3)}"
    meta = {"sceneshop:recipe": recipe.to_json()}
    paths = [
        str(save_png(img, t.folder / f"{stem}-{i}.png", metadata=meta)) for i, img in enumerate(images, 1)
    ]
    paths.append(str(write_atomic(t.folder / f"{stem}.json", recipe.to_json().encode("utf-8"))))
    t.files[recipe.id] = paths
    return paths


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "", text)[:24] or "recipe"


def _thumbnail(path: Path | None) -> Image.Image:
    if path is not None:
        try:
            return load_image(path, max_pixels=4_000_000, max_bytes=8 * 2**20)
        except InputError:
            pass
    return Image.new("RGB", (64, 64), (224, 224, 224))  # a grey tile: the entry has no picture


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M") if timestamp else ""


# ------------------------------------------------------------- sessions that outlive the page


def transcript(t: Tab) -> list[dict]:
    """The chat as shown, as plain messages for the work store ({"role", "text", "kind", "version",
    "images"}): a version's pictures are named by the version ("kind": "result"), so they are kept
    once, with the version; other pictures (an uploaded product) by their files. A comparison's
    pictures are earlier versions' and are not kept twice: its words are."""
    version_of = {path: v.number for v in t.session.versions for path in t.files.get(v.recipe.id, [])}
    messages = []
    for entry in t.history:
        content = entry["content"]
        texts, images, version = [], [], None
        for part in content if isinstance(content, list) else [content]:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and part.get("path"):
                if part["path"] in version_of:
                    version = version_of[part["path"]]
                else:
                    images.append(part["path"])
        messages.append({"role": entry["role"], "text": "\n".join(texts), "images": images,
                         "kind": "result" if version is not None else None, "version": version})
    return messages


def restore(t: Tab, state: dict) -> None:
    """The chat, versions and downloads of a session loaded from the work store (its Session is
    already in `t.session`): pictures are shown from the store's files, each version's recipe JSON
    is written beside this user's other downloads."""
    by_number = {v.number: v for v in t.session.versions}
    t.files = {}
    for stored in state.get("versions") or []:
        version = by_number.get(stored["number"])
        if version is None or not stored.get("images"):
            continue  # its pictures have expired: the recipe is kept, nothing to show
        recipe_file = t.folder / f"restored-{_safe(version.recipe.id)}.json"
        write_atomic(recipe_file, version.recipe.to_json().encode("utf-8"))
        t.files[version.recipe.id] = [str(p) for p in stored["images"]] + [str(recipe_file)]
    t.history = []
    for message in state.get("messages") or []:
        pictures = [str(p) for p in message.get("images") or []]
        version = by_number.get(message.get("version"))
        if message.get("kind") == "result" and version is not None:
            pictures += [p for p in t.files.get(version.recipe.id, []) if p.endswith(".png")]
        text = message.get("text") or ""
        if message["role"] == "user":
            t.history += [{"role": "user", "content": {"path": p}} for p in pictures]
            if text:
                t.history.append({"role": "user", "content": text})
        else:
            content = [{"path": p} for p in pictures] + [text]
            t.history.append({"role": "assistant", "content": content if len(content) > 1 else text})


def session_list(t: Tab, infos: list) -> dict:
    """The Sessions tab: this user's sessions, newest first, with the current one marked (their ids
    kept in the tab, so that a click finds its session)."""
    t.session_ids = [info.id for info in infos]
    items = [(str(info.thumbnail) if info.thumbnail else _thumbnail(None), _session_caption(t, info))
             for info in infos]
    rows = [[_session_caption(t, info), info.versions, _when(info.updated), info.id] for info in infos]
    text = (f"{len(infos)} session(s). Click one, then *Open* or *Delete*." if infos
            else "No saved session yet: your chat is kept here after its first message.")
    return {"sessions_gallery": items, "sessions_table": rows, "sessions_info": text, "session_choice": ""}


def session_id_at(t: Tab, index) -> str:
    index = index[0] if isinstance(index, list | tuple) else index
    return t.session_ids[index] if 0 <= index < len(t.session_ids) else ""


def session_details(t: Tab, infos: list, session_id: str) -> dict:
    info = next((i for i in infos if i.id == session_id), None)
    if info is None:
        return {"sessions_info": "Click a session to choose it.", "session_choice": ""}
    words = f"**{_session_caption(t, info)}** — {info.versions} version(s), {info.messages} message(s), " \
            f"last changed {_when(info.updated)}"
    return {"sessions_info": words, "session_choice": info.id}


def _session_caption(t: Tab, info) -> str:
    mark = "● " if info.id == t.session_id else ""
    return f"{mark}{info.title or 'untitled'}"[:70]


# ------------------------------------------------------------------------------------ the jobs

JOB_MARKS = {"queued": "⏳", "running": "▶️", "done": "✅", "failed": "⚠️", "cancelled": "⏹"}
_TILES = {"queued": (214, 214, 214), "running": (190, 210, 240), "done": (214, 236, 214),
          "failed": (244, 204, 204), "cancelled": (200, 200, 200)}


def job_list(t: Tab, jobs: list, chosen: str = "") -> dict:
    """The Jobs tab: this user's jobs, newest first, as thumbnails and rows (their ids kept in the
    tab, so that a click finds its job), the chosen job's details, and whether to keep refreshing
    (while any job is queued or running)."""
    from sceneshop.agent.jobs import job_thumbnail

    t.job_ids = [job.id for job in jobs]
    items = []
    for job in jobs:
        thumbnail = job_thumbnail(job)
        tile = str(thumbnail) if thumbnail else Image.new("RGB", (64, 64), _TILES.get(job.status, (224,) * 3))
        items.append((tile, job_caption(job)))
    rows = [[f"{JOB_MARKS.get(j.status, '')} {j.status}", j.kind, _job_progress(j), str(j.position or ""),
             _seconds(j.seconds), _clock(j.created), j.title, j.id] for j in jobs]
    busy = any(j.status in ("queued", "running") for j in jobs)
    out = {"jobs_gallery": items, "jobs_table": rows, "jobs_timer": gr.Timer(active=busy)}
    picked = next((j for j in jobs if j.id == chosen), None)
    if picked is not None:
        out.update(job_details(picked))
    elif not chosen:
        out["job_info"] = (f"{len(jobs)} job(s). Click one to open, cancel, retry or download it." if jobs
                           else "No jobs yet: start a batch above, or chat — every turn is listed here.")
    return out


def job_id_at(t: Tab, index) -> str:
    index = index[0] if isinstance(index, list | tuple) else index
    return t.job_ids[index] if 0 <= index < len(t.job_ids) else ""


def job_details(job) -> dict:
    """One job in words under the list: what, status, progress, time, the error or the results."""
    lines = [f"**{JOB_MARKS.get(job.status, '')} {job.title or job.kind}** ({job.kind}, `{job.id}`)",
             f"{job.status}" + (f", #{job.position} in your queue" if job.position else "")
             + (f" · {_job_progress(job)}" if job.total or job.done else "")
             + (f" · {_seconds(job.seconds)}" if job.seconds is not None else "")
             + f" · {'started' if job.started else 'queued'} {_when(job.started or job.created)}"]
    if job.cancel_requested and job.status == "running":
        lines.append("Stopping after the product in hand…")
    if job.message:
        lines.append(job.message)
    if job.error:
        lines.append(f"⚠️ {job.error}")
    if job.kind == "batch" and job.results.get("where"):
        lines.append(f"Ran {job.results['where']}.")
    return {"job_info": "\n\n".join(lines), "job_choice": job.id}


def job_caption(job) -> str:
    """'✅ batch 12/12 · 4.1 s · summer look': status, kind, progress, time, what."""
    parts = [f"{JOB_MARKS.get(job.status, '')} {job.kind}"]
    if job.status == "queued" and job.position:
        parts.append(f"#{job.position} in queue")
    elif job.total:
        parts.append(_job_progress(job))
    if job.seconds is not None:
        parts.append(_seconds(job.seconds))
    return " · ".join(parts + [job.title])[:80]


def look_choices(entries: list) -> gr.Dropdown:
    """The saved looks a batch can apply, by caption, valued by memory id."""
    choices = [(memory_caption(e), e.id) for e in entries]
    return gr.Dropdown(choices=choices, value=choices[0][1] if choices else None)


def _job_progress(job) -> str:
    if job.total:
        return f"{job.done}/{job.total}"
    return str(job.done) if job.done else ""


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"


def _clock(timestamp: float) -> str:
    """'14:02' today, '12-01 14:02' before: a job list is mostly read the same day."""
    when = datetime.fromtimestamp(timestamp)
    return when.strftime("%H:%M" if when.date() == datetime.now().date() else "%m-%d %H:%M")
