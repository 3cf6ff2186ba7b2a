"""Draws the recipe's text layer (cover, banner, sale badge, price tag) over a finished picture with
real fonts, never over the product, in colours taken from the picture that are legible on it.

Reading order: `draw_text` plans each block (`_blocks`), then for each one finds the largest size
and the nearest free spot to where that block belongs (`_place`), picks its colour (`_colour_for`)
and draws it. Decisions worth knowing:
- Fonts are Adobe's Source Serif Pro / Source Sans Pro (SIL OFL 1.1) from the PyPI packages
  font-source-serif-pro and font-source-sans-pro, located with importlib.metadata (their modules
  are not imported). Text is shaped with libraqm (HarfBuzz: kerning from the GPOS table) when Pillow
  has it, else Pillow's basic layout (kerning from the `kern` table only); widths are measured with
  `getlength` on the same layout, so line breaks match what is drawn.
- "Free" means: inside a margin from the canvas edge, at least GAP from the product mask (every
  pixel of it above 0, the feathered edge included) and from blocks drawn before. The search runs
  on a grid of `cell` pixels with max-pooled occupancy, so it is conservative, never optimistic.
- Legibility is WCAG 2.x's contrast ratio, (L1 + 0.05) / (L2 + 0.05) with relative luminance L,
  computed against the 2nd and 98th luminance percentile under the block (so a patchy background
  counts at its worst): ≥ 4.5 for cover lines, subtitles, badges and prices, ≥ 3.0 for the masthead
  and banner headline (WCAG's large-text threshold). The colour is the product's own most present
  colour when, lightened or darkened a little, it reaches that; else the scene's; else white or
  near-black. When none reaches it (a patchy background), the block gets an opaque plate in a
  colour of the picture, and the ratio is measured against the plate.
- The same inputs give the same pixels: no randomness, fonts and sizes chosen by fixed rules.
"""

from __future__ import annotations

import colorsys
import importlib.metadata
from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont, features

from sceneshop.tools.errors import EngineError

# role -> (distribution, file inside it)
FONTS = {
    "masthead": ("font-source-serif-pro", "font_source_serif_pro/files/SourceSerifPro-Black.ttf"),
    "headline": ("font-source-serif-pro", "font_source_serif_pro/files/SourceSerifPro-Semibold.ttf"),
    "line": ("font-source-sans-pro", "font_source_sans_pro/files/SourceSansPro-Semibold.ttf"),
    "strong": ("font-source-sans-pro", "font_source_sans_pro/files/SourceSansPro-Black.ttf"),
    "price": ("font-source-sans-pro", "font_source_sans_pro/files/SourceSansPro-Bold.ttf"),
}
LAYOUT = ImageFont.Layout.RAQM if features.check_feature("raqm") else ImageFont.Layout.BASIC
BODY_CONTRAST = 4.5  # WCAG 2.x AA, normal text
LARGE_CONTRAST = 3.0  # WCAG 2.x AA, large text (masthead, banner headline)
NEAR_BLACK = (17, 17, 17)
ACCENT_SHIFT = 0.25  # further than this an accent no longer reads as its colour: white/black instead
WHITE = (255, 255, 255)


def font_path(role: str) -> str:
    """The font file for a role; EngineError naming the package when it is not installed."""
    dist, inside = FONTS[role]
    try:
        path = importlib.metadata.distribution(dist).locate_file(inside)
    except importlib.metadata.PackageNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise EngineError(f"the text layer needs the font package '{dist}', which is not installed; "
                          f"run `pip install {dist}`, or say 'no text' to leave the words off")
    return str(path)


@lru_cache(maxsize=256)
def font(role: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(role), max(6, int(size)), layout_engine=LAYOUT)


# ---------------------------------------------------------------- colour and contrast


def relative_luminance(rgb) -> np.ndarray:
    """WCAG 2.x relative luminance of sRGB bytes (any shape ending in 3)."""
    c = np.asarray(rgb, np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin @ np.array([0.2126, 0.7152, 0.0722])


def contrast_ratio(a: float, b: float) -> float:
    """WCAG contrast ratio of two relative luminances (1 … 21)."""
    hi, lo = max(a, b), min(a, b)
    return float((hi + 0.05) / (lo + 0.05))


def background_luminance(image: np.ndarray, box: tuple[int, int, int, int]) -> tuple[float, float]:
    """The 2nd and 98th percentile of relative luminance under a box: the darkest and lightest
    the text has to stand out from."""
    x0, y0, x1, y1 = box
    lum = relative_luminance(image[y0:y1, x0:x1].reshape(-1, 3))
    return float(np.percentile(lum, 2)), float(np.percentile(lum, 98))


def worst_contrast(colour, lums: tuple[float, float]) -> float:
    lt = float(relative_luminance(colour))
    return min(contrast_ratio(lt, lums[0]), contrast_ratio(lt, lums[1]))


def _with_lightness(colour, target: float, lums: tuple[float, float],
                    max_shift: float = 1.0) -> tuple[int, int, int] | None:
    """The colour's hue and saturation at the lightness nearest its own (at most `max_shift` away)
    that reaches `target` against `lums`, or None when none does."""
    r, g, b = (v / 255.0 for v in colour)
    h, lightness, s = colorsys.rgb_to_hls(r, g, b)
    best = None
    for step in range(0, int(max_shift * 100) + 1, 2):
        for sign in (1, -1):
            li = lightness + sign * step / 100.0
            if not 0.0 <= li <= 1.0:
                continue
            rgb = tuple(int(round(v * 255)) for v in colorsys.hls_to_rgb(h, li, s))
            if worst_contrast(rgb, lums) >= target:
                best = rgb
                break
        if best is not None:
            return best
    return None


def picture_colours(image: np.ndarray, where: np.ndarray | None, count: int = 3) -> list[tuple]:
    """The most present saturated colours of a region (12 hue bins weighted by saturation and
    value), most present first; deterministic."""
    pixels = image.reshape(-1, 3) if where is None else image[where]
    if pixels.size == 0:
        return []
    if len(pixels) > 40000:  # a fixed stride, not a random sample: same picture, same colours
        pixels = pixels[:: len(pixels) // 40000]
    hsv = cv2.cvtColor(pixels.reshape(-1, 1, 3).astype(np.uint8), cv2.COLOR_RGB2HSV).reshape(-1, 3)
    sat, val = hsv[:, 1] / 255.0, hsv[:, 2] / 255.0
    weight = sat * val
    keep = weight > 0.15
    if not keep.any():
        return []
    bins = (hsv[keep, 0].astype(np.int32) * 12 // 180) % 12
    totals = np.bincount(bins, weights=weight[keep], minlength=12)
    out = []
    for b in np.argsort(-totals, kind="stable")[:count]:
        if totals[b] < 0.02 * totals.sum():
            break
        members = pixels[keep][bins == b]
        w = weight[keep][bins == b]
        out.append(tuple(int(round(v)) for v in (members * w[:, None]).sum(0) / w.sum()))
    return out


# ---------------------------------------------------------------- the layout


@dataclass(frozen=True)
class Placed:
    """One block of text as drawn: what, where (ink box on the canvas), in which colour, on what."""

    role: str
    text: str
    box: tuple[int, int, int, int]
    colour: tuple[int, int, int]
    plate: tuple[int, int, int] | None  # the solid shape under the text (badge, tag, band, plate)
    contrast: float  # measured against the plate, else against the picture under the box
    size: int


@dataclass
class _Block:
    role: str  # masthead | subtitle | lines | badge | price | banner
    font_role: str
    lines: list[str]  # paragraphs; each is wrapped to `wrap` of the canvas width
    sizes: tuple[float, float]  # largest and smallest font size, fraction of the canvas height
    wrap: float  # wrap width, fraction of the canvas width
    target: tuple[float, float]  # preferred top-left, fractions of the free area
    contrast: float
    shape: str = "text"  # text | badge | tag | band
    weights: tuple[float, float] = (1.0, 1.0)  # cost per pixel away from target, x and y
    max_lines: int = 3
    tolerance: float = 0.1  # accept the first (largest) size whose spot is this close to the target
    leading: float = 1.2  # baseline to baseline inside a paragraph, in font sizes
    scales: tuple[float, ...] = (1.0,)  # font size of each paragraph (the last repeats), x size
    spacing: float = 0.35  # extra space between paragraphs, in font sizes
    after: list[str] = field(default_factory=list)  # roles that must be placed first


@dataclass
class _Shaped:
    size: int
    rows: list[tuple[str, ImageFont.FreeTypeFont, int, int]]  # (line, font, pen x offset, baseline y)
    width: int
    height: int
    pad: int


def draw_text(image: Image.Image, text, product_mask: Image.Image | None
              ) -> tuple[Image.Image, list[Placed], list[str]]:
    """The picture with the text layer drawn, the blocks as placed, and notes for what did not fit.
    `text` has the fields of sceneshop.agent.looks.TextLayer; `product_mask` (L, the picture's size,
    >0 = product) is kept clear of text, or None when there is no product."""
    base = image.convert("RGB")
    blocks = _blocks(text)
    if not blocks:
        return base, [], []
    w, h = base.size
    pixels = np.asarray(base)
    margin = max(4, round(0.04 * min(w, h)))
    gap = max(3, round(0.015 * min(w, h)))
    occupied = np.zeros((h, w), np.uint8)
    occupied[:margin], occupied[h - margin:], occupied[:, :margin], occupied[:, w - margin:] = 1, 1, 1, 1
    product = None
    if product_mask is not None:
        if product_mask.size != base.size:
            raise EngineError(f"text layer: product mask size {product_mask.size} differs from the "
                              f"picture's {base.size}")
        product = np.asarray(product_mask.convert("L")) > 0
        occupied |= cv2.dilate(product.astype(np.uint8), np.ones((2 * gap + 1, 2 * gap + 1), np.uint8))
    accents = picture_colours(pixels, product) if product is not None and product.any() else []
    accents += picture_colours(pixels, None if product is None else ~product)

    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    placed: list[Placed] = []
    notes: list[str] = []
    for block in blocks:
        spot = _place(block, occupied, w, h, margin, placed)
        if spot is None:
            notes.append(f"text: no room for the {_ROLE_WORDS[block.role]} without covering the product; "
                         "try 'wider', fewer words, or 'move the title down'")
            continue
        shaped, (x, y), block = spot  # the block as placed (a banner may have become a plate)
        box = (x, y, x + shaped.width, y + shaped.height)
        colour, plate, ratio = _colour_for(block, pixels, box, accents)
        _draw_block(draw, block, shaped, box, colour, plate)
        placed.append(Placed(block.role, "\n".join(r[0] for r in shaped.rows), box, colour, plate, ratio,
                             shaped.size))
        x0, y0, x1, y1 = box
        occupied[max(0, y0 - gap):y1 + gap, max(0, x0 - gap):x1 + gap] = 1
    out = Image.alpha_composite(base.convert("RGBA"), layer).convert("RGB")
    return out, placed, notes


_ROLE_WORDS = {"masthead": "title", "subtitle": "subtitle", "lines": "cover lines", "badge": "badge",
               "price": "price tag", "banner": "banner"}


def _blocks(text) -> list[_Block]:
    """What to draw, in drawing order, with each block's sizes and where it belongs."""
    layout = getattr(text, "layout", "none")
    place = getattr(text, "place", "top")
    ty = {"top": 0.0, "middle": 0.5, "bottom": 1.0}[place]
    blocks: list[_Block] = []
    if layout == "cover":
        if text.title:
            blocks.append(_Block("masthead", "masthead", [text.title], (0.17, 0.05), 0.92, (0.5, ty),
                                 LARGE_CONTRAST, weights=(0.3, 1.5), max_lines=1, tolerance=0.12,
                                 leading=1.0))
        if text.subtitle:
            below = min(1.0, ty + 0.2) if place != "bottom" else 0.7
            blocks.append(_Block("subtitle", "headline", [text.subtitle], (0.075, 0.035), 0.46,
                                 (0.0, below), BODY_CONTRAST, weights=(0.6, 1.0), tolerance=0.3))
        if text.lines:
            blocks.append(_Block("lines", "line", list(text.lines), (0.046, 0.026), 0.34, (0.0, 0.75),
                                 BODY_CONTRAST, weights=(0.5, 0.6), max_lines=2, tolerance=0.35))
    elif layout == "banner" and (text.title or text.subtitle):
        rows = [r for r in (text.title, text.subtitle) if r]
        blocks.append(_Block("banner", "strong", rows, (0.11, 0.04), 0.9, (0.5, ty), BODY_CONTRAST,
                             shape="band", weights=(0.2, 1.5), max_lines=2, tolerance=0.15, leading=1.05,
                             spacing=0.1, scales=(1.0, 0.5) if text.title else (0.6,)))
    if text.badge:
        blocks.append(_Block("badge", "strong", [text.badge], (0.075, 0.035), 0.3, (1.0, 0.15),
                             BODY_CONTRAST, shape="badge", max_lines=1, tolerance=0.25))
    if text.price:
        blocks.append(_Block("price", "price", [text.price], (0.06, 0.03), 0.4, (1.0, 1.0),
                             BODY_CONTRAST, shape="tag", max_lines=1, tolerance=0.25))
    return blocks


def wrap(line: str, fnt: ImageFont.FreeTypeFont, width: float) -> list[str] | None:
    """Greedy line breaks at spaces so each line's measured width fits; None when a single word
    does not fit at all (the caller tries a smaller size)."""
    words = line.split()
    rows: list[str] = []
    current = ""
    for word in words:
        trial = f"{current} {word}" if current else word
        if fnt.getlength(trial) <= width:
            current = trial
            continue
        if not current or fnt.getlength(word) > width:
            return None
        rows.append(current)
        current = word
    if current:
        rows.append(current)
    return rows


def _shape(block: _Block, size: int, w: int, margin: int) -> _Shaped | None:
    """The block's lines broken to its width at one font size, and the box their ink and advances
    need (so no glyph pokes out of it); None when they do not fit. Lines are `leading` font sizes
    apart, paragraphs `spacing` more."""
    pad = round(0.45 * size) if block.shape in ("tag", "band") else 0
    limit = block.wrap * w - 2 * pad
    rows: list[tuple[str, ImageFont.FreeTypeFont, int, int]] = []
    baseline = 0
    top, bottom, width = None, 0, 0
    for i, paragraph in enumerate(block.lines):
        scale = block.scales[i] if i < len(block.scales) else block.scales[-1]
        px = round(size * scale)
        fnt = font(block.font_role, px)
        broken = wrap(paragraph, fnt, limit)
        if broken is None or len(broken) > block.max_lines:
            return None
        for j, row in enumerate(broken):
            left, ink_top, right, ink_bottom = fnt.getbbox(row, anchor="ls")
            if rows:
                baseline += round(px * (block.leading + (block.spacing if j == 0 else 0.0)))
            shift = -min(0, int(left))
            rows.append((row, fnt, shift, baseline))
            top = baseline + ink_top if top is None else min(top, baseline + ink_top)
            bottom = max(bottom, baseline + ink_bottom)
            width = max(width, shift + int(np.ceil(max(right, fnt.getlength(row)))))
    rows = [(r, f, x, y - top) for r, f, x, y in rows]  # baselines measured from the ink's top
    height = int(bottom - top)
    if block.shape == "badge":
        side = int(np.ceil(max(width * 1.3, height * 2.2)))
        return _Shaped(size, rows, side, side, 0)
    if block.shape == "band":  # a banner spans the picture between the margins
        return _Shaped(size, rows, max(width + 2 * pad, w - 2 * margin), height + 2 * pad, pad)
    return _Shaped(size, rows, width + 2 * pad, height + 2 * pad, pad)


def _place(block: _Block, occupied: np.ndarray, w: int, h: int, margin: int, placed: list[Placed]):
    """(shaped block, top-left) at the largest size whose nearest free spot is within the block's
    tolerance of where it belongs; else the nearest spot of any size; None when nothing fits."""
    if block.role == "subtitle":
        block = _follow_masthead(block, placed, h)
    found = _search(block, occupied, w, h, margin)
    if found is None and block.role == "masthead":  # one line reads as a masthead; two only if need be
        found = _search(_Block(**{**block.__dict__, "max_lines": 2}), occupied, w, h, margin)
    if found is None and block.shape == "band":
        # No free strip across the picture: a big left-aligned headline in the free part instead.
        column = _Block(**{**block.__dict__, "shape": "text", "wrap": 0.4, "target": (0.0, block.target[1]),
                           "max_lines": 3, "sizes": (0.13, 0.04), "tolerance": 0.3})
        found = _search(column, occupied, w, h, margin)
    return found


def _search(block: _Block, occupied: np.ndarray, w: int, h: int, margin: int):
    cell = max(1, min(w, h) // 360)
    grid = _pool(occupied, cell)
    integral = cv2.integral(grid)  # (gh+1, gw+1), int
    largest, smallest = (max(8, round(s * h)) for s in block.sizes)
    best = None
    size = largest
    while size >= smallest:
        shaped = _shape(block, size, w, margin)
        if shaped is not None and shaped.width <= w - 2 * margin and shaped.height <= h - 2 * margin:
            spot = _nearest_free(integral, shaped, cell, block, w, h, margin)
            if spot is not None:
                cost, x, y = spot
                if cost <= block.tolerance * h:
                    return shaped, (x, y), block
                if best is None or cost < best[0]:
                    best = (cost, shaped, (x, y), block)
        size = int(size * 0.92) if size > 12 else size - 1
    return None if best is None else best[1:]


def _follow_masthead(block: _Block, placed: list[Placed], h: int) -> _Block:
    """A subtitle goes right under the masthead (above it when the masthead is at the bottom)."""
    mast = next((p for p in placed if p.role == "masthead"), None)
    if mast is None:
        return block
    below = mast.box[3] / h + 0.03
    target = (0.0, below) if below < 0.8 else (0.0, max(0.0, mast.box[1] / h - 0.12))
    largest = min(block.sizes[0], 0.6 * mast.size / h)  # a subtitle never outshouts the masthead
    return _Block(**{**block.__dict__, "target": target, "sizes": (largest, min(largest, block.sizes[1]))})


def _pool(occupied: np.ndarray, cell: int) -> np.ndarray:
    if cell == 1:
        return occupied.astype(np.uint8)
    h, w = occupied.shape
    gh, gw = -(-h // cell), -(-w // cell)
    padded = np.ones((gh * cell, gw * cell), np.uint8)
    padded[:h, :w] = occupied
    return padded.reshape(gh, cell, gw, cell).max(axis=(1, 3))


def _nearest_free(integral: np.ndarray, shaped: _Shaped, cell: int, block: _Block, w: int, h: int,
                  margin: int):
    """(cost, x, y) of the free top-left nearest the block's target, in canvas pixels, or None."""
    bw, bh = -(-shaped.width // cell), -(-shaped.height // cell)
    gh, gw = integral.shape[0] - 1, integral.shape[1] - 1
    if bw > gw or bh > gh:
        return None
    s = integral
    busy = s[bh:, bw:] - s[:-bh, bw:] - s[bh:, :-bw] + s[:-bh, :-bw]  # (gh-bh+1, gw-bw+1)
    free = busy == 0
    if not free.any():
        return None
    # The target: a top-left inside the usable area, by fractions of the room left for the block.
    tx = margin + block.target[0] * max(0, w - 2 * margin - shaped.width)
    ty = margin + block.target[1] * max(0, h - 2 * margin - shaped.height)
    ys, xs = np.nonzero(free)
    px, py = xs * cell, ys * cell
    cost = block.weights[0] * np.abs(px - tx) + block.weights[1] * np.abs(py - ty)
    i = int(np.argmin(cost))  # argmin takes the first of equals: row-major, so deterministic
    return float(cost[i]), int(px[i]), int(py[i])


def _colour_for(block: _Block, pixels: np.ndarray, box, accents: list) -> tuple:
    """(text colour, plate colour or None, contrast ratio) for a block."""
    target = block.contrast
    x0, y0, x1, y1 = box
    if block.shape in ("badge", "tag", "band"):
        # A solid shape in the picture's accent colour; the words in white or near-black on it.
        fill = accents[0] if accents else (200, 40, 40)
        for plate in [fill, *accents[1:], (34, 34, 34)]:
            plate = tuple(plate)
            lum = float(relative_luminance(plate))
            dark = float(relative_luminance(NEAR_BLACK))
            ink = WHITE if contrast_ratio(1.0, lum) >= contrast_ratio(dark, lum) else NEAR_BLACK
            if worst_contrast(ink, (lum, lum)) >= target:
                return ink, plate, worst_contrast(ink, (lum, lum))
            adjusted = _with_lightness(plate, target, (float(relative_luminance(ink)),) * 2)
            if adjusted is not None:
                lum = float(relative_luminance(adjusted))
                return ink, adjusted, worst_contrast(ink, (lum, lum))
        return WHITE, (34, 34, 34), worst_contrast(WHITE, (float(relative_luminance((34, 34, 34))),) * 2)
    lums = background_luminance(pixels, (x0, y0, x1, y1))
    # The product's own colour when it reads here (within ACCENT_SHIFT of its lightness), else the
    # scene's, else whichever of white and near-black reads better.
    for candidate in accents:
        adjusted = _with_lightness(candidate, target, lums, ACCENT_SHIFT)
        if adjusted is not None:
            return adjusted, None, worst_contrast(adjusted, lums)
    ink = max((WHITE, NEAR_BLACK), key=lambda c: worst_contrast(c, lums))
    if worst_contrast(ink, lums) >= target:
        return ink, None, worst_contrast(ink, lums)
    # Nothing reads on this background (light and dark patches both): an opaque plate behind it.
    mean = tuple(int(v) for v in pixels[y0:y1, x0:x1].reshape(-1, 3).mean(0))
    plate = _with_lightness(mean, target, (1.0, 1.0)) or (34, 34, 34)
    lum = float(relative_luminance(plate))
    return WHITE, plate, worst_contrast(WHITE, (lum, lum))


def _draw_block(draw: ImageDraw.ImageDraw, block: _Block, shaped: _Shaped, box, colour, plate) -> None:
    x0, y0, x1, y1 = box
    if plate is not None:
        if block.shape == "badge":
            draw.ellipse((x0, y0, x1 - 1, y1 - 1), fill=(*plate, 255))
        else:
            radius = 0 if block.shape == "band" else max(2, shaped.pad // 2)
            draw.rounded_rectangle((x0, y0, x1 - 1, y1 - 1), radius=radius, fill=(*plate, 255))
    ink_h = max(y + f.getbbox(r, anchor="ls")[3] for r, f, _, y in shaped.rows)
    top = y0 + shaped.pad + (0 if block.shape != "badge" else (y1 - y0 - ink_h) // 2)
    for row, fnt, shift, baseline in shaped.rows:
        length = fnt.getlength(row)
        centred = block.shape in ("badge", "band") or block.role == "masthead"
        if centred:
            x = x0 + (x1 - x0 - length) / 2
        elif block.target[0] >= 1.0:
            x = x1 - shaped.pad - length
        else:
            x = x0 + shaped.pad + shift
        draw.text((x, top + baseline), row, font=fnt, fill=(*colour, 255), anchor="ls")
