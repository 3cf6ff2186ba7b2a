"""Draws the backdrop of a preview for each kind of scene (studio sweep, podium, gradient, textured
tabletop, interior; outdoor scenes are in sceneshop.tools.preview.outdoors) as a float RGB array.
"""

from __future__ import annotations

import math
import re

import cv2
import numpy as np
from PIL import Image, ImageDraw

from sceneshop.tools.preview.canvas import Canvas, bokeh
from sceneshop.tools.preview.outdoors import outdoor
from sceneshop.tools.preview.paint import (
    Rgb,
    blur,
    col_coords,
    fill_columns,
    hex_rgb,
    mix,
    mix_map,
    noise,
    radial,
    ramp,
    row_coords,
    smoothstep,
)


def draw_scene(ctx: Canvas) -> np.ndarray:
    kind = ctx.scene.kind
    if kind == "gradient":
        return _gradient(ctx)
    if kind == "surface":
        return _surface(ctx)
    if kind == "outdoor":
        return outdoor(ctx)
    if kind == "interior":
        return _interior(ctx)
    return _studio(ctx)


def _studio(ctx: Canvas) -> np.ndarray:
    """A seamless sweep: the wall's gradient bends smoothly into the floor behind the product."""
    h, w = ctx.height, ctx.width
    top, bottom = ctx.palette("top"), ctx.palette("bottom")
    floor = ctx.palette("floor", ctx.scene.palette["bottom"])
    bend = int(np.clip(ctx.base - 0.2 * h, 0.35 * h, 0.8 * h))
    y = row_coords(h)
    wall = ramp(y, [(0, top), (bend, bottom)])
    t = smoothstep(bend - 0.16 * h, bend + 0.1 * h, y)[:, None]
    # The floor catches more light towards the camera.
    floor_col = floor[None, :] * (1.0 + 0.04 * np.clip((y - bend) / h, 0, 1))[:, None]
    column = wall * (1 - t) + floor_col * t
    bg = fill_columns(column, w)
    # A soft pool of light behind the product, as from a large softbox.
    cx, cy = (ctx.box[0] + ctx.box[2]) / 2, (ctx.box[1] + ctx.base) / 2
    bg *= 1.0 + 0.06 * radial(h, w, cx, cy, 0.55 * max(h, w))[..., None]
    if ctx.scene.podium:
        bg = _podium(bg, ctx)
    return bg


def _podium(bg: np.ndarray, ctx: Canvas) -> np.ndarray:
    """A cylinder plinth under the product: top ellipse at the floor line, shaded like a drum."""
    h, w = ctx.height, ctx.width
    left, _, right, _ = ctx.box
    cx = (left + right) / 2
    radius = max(0.6 * (right - left), 0.18 * w)
    ry = 0.16 * radius
    top_y = ctx.base - 0.35 * ry
    colour = ctx.palette("accent", "#f2e6dc")
    y, x = row_coords(h)[:, None], col_coords(w)[None, :]
    u = (x - cx) / radius
    body = (np.abs(u) <= 1) & (y >= top_y)
    shade = (0.78 + 0.24 * np.sqrt(np.clip(1 - (u + 0.35) ** 2, 0, 1)))  # lit from the left
    cap = ((x - cx) / radius) ** 2 + ((y - top_y) / ry) ** 2 <= 1
    layer = np.where(body[..., None], colour * shade[..., None], 0)
    layer = np.where(cap[..., None], colour * 1.06, layer)
    alpha = (body | cap).astype(np.float32)
    alpha = blur(alpha, 1.2)  # anti-aliased outline
    return bg * (1 - alpha[..., None]) + np.clip(layer, 0, 1) * alpha[..., None]


def _gradient(ctx: Canvas) -> np.ndarray:
    h, w = ctx.height, ctx.width
    y, x = row_coords(h)[:, None] / h, col_coords(w)[None, :] / w
    t = np.clip(0.8 * y + 0.2 * x, 0, 1)
    top, bottom = ctx.palette("top"), ctx.palette("bottom")
    bg = top[None, None, :] * (1 - t[..., None]) + bottom[None, None, :] * t[..., None]
    cx, cy = (ctx.box[0] + ctx.box[2]) / 2, (ctx.box[1] + ctx.base) / 2
    return bg * (1.0 + 0.1 * radial(h, w, cx, cy, 0.6 * max(h, w))[..., None])


def _surface(ctx: Canvas) -> np.ndarray:
    """A wall and a textured tabletop in perspective (or, for overhead shots, only the table)."""
    h, w = ctx.height, ctx.width
    texture = ctx.scene.texture or "paper"
    floor = ctx.palette("floor")
    accent = ctx.palette("accent")
    if ctx.scene.overhead:
        return _texture(texture, ctx, h, w, floor, accent)
    edge = int(np.clip(ctx.base - 0.2 * h, 0.4 * h, 0.75 * h))
    y = row_coords(h)
    wall = fill_columns(ramp(y[:edge], [(0, ctx.palette("top")), (edge, ctx.palette("bottom"))]), w)
    if texture in ("linen", "concrete"):
        # These presets name the backdrop too: the wall carries the same material, softer.
        wall_tex = _texture(texture, ctx, edge, w, ctx.palette("bottom"), accent, strength=0.6)
        wall = wall * 0.5 + wall_tex * 0.5
    table_h = h - edge
    flat = _texture(texture, ctx, int(table_h * 1.6), w, floor, accent)
    table = _perspective(flat, table_h, w)
    # Light falls off towards the back of the table; a thin highlight marks its edge.
    depth = np.linspace(0.9, 1.03, table_h, dtype=np.float32)[:, None, None]
    table = table * depth
    bg = np.concatenate([wall, table], axis=0)
    lip = np.exp(-(((y - edge) / max(1.5, 0.003 * h)) ** 2))[:, None, None]
    bg = bg * (1 + 0.08 * lip)
    # Soft contact between wall and table: a gentle shadow line on the wall just above the edge.
    above = np.clip((y - (edge - 0.05 * h)) / (0.05 * h), 0, 1) * (y < edge)
    return bg * (1 - 0.07 * above[:, None, None] ** 2)


def _perspective(flat: np.ndarray, out_h: int, w: int) -> np.ndarray:
    """Maps a flat texture onto a receding plane: far rows compressed and narrowed."""
    src_h = flat.shape[0]
    d = (np.arange(out_h, dtype=np.float32) + 0.5) / out_h  # 0 = back edge, 1 = camera
    near = 0.55 + 0.45 * d  # horizontal scale of each row
    src_y = (src_h - 1) * (d ** 1.35)
    xs = col_coords(w)[None, :]
    map_x = (w / 2 + (xs - w / 2) / near[:, None]).astype(np.float32)
    map_y = np.broadcast_to(src_y[:, None], (out_h, w)).astype(np.float32)
    return cv2.remap(flat, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _texture(kind: str, ctx: Canvas, h: int, w: int, base: Rgb, accent: Rgb,
             strength: float = 1.0) -> np.ndarray:
    rng = ctx.rng
    y, x = row_coords(h)[:, None], col_coords(w)[None, :]
    s = max(h, w)
    if kind == "marble":
        # Veins are where a noise-warped diagonal sine crosses zero: sharp cores, soft halos.
        warp = noise(rng, h, w, 2, octaves=6, gain=0.55)
        fine = noise(rng, h, w, 4, octaves=5)
        angle = rng.uniform(0.5, 1.1)
        diag = (x * math.cos(angle) + y * math.sin(angle)) / s
        phase = diag * 2 * math.pi * rng.uniform(1.3, 2.2) + 4.5 * warp
        main = np.abs(np.sin(phase))
        thin = np.abs(np.sin(phase * 1.7 + 9.0 * fine))
        veins = np.exp(-main / 0.06) * 0.55 + np.exp(-main / 0.012) * 0.35 + np.exp(-thin / 0.02) * 0.2
        veins += blur(np.exp(-main / 0.25), 0.012 * s) * 0.15
        cloud = (noise(rng, h, w, 6, octaves=3) - 0.5) * 0.05
        out = base[None, None, :] * (1 + cloud[..., None])
        return mix_map(out, accent * 0.95, np.clip(veins, 0, 1) * 0.75 * strength)
    if kind == "wood":
        plank = max(24, int(rng.uniform(0.12, 0.2) * s))
        rows = (y // plank).astype(np.int32)
        tint = rng.uniform(-0.07, 0.07, 64).astype(np.float32)[rows % 64]
        grain_noise = noise(rng, h, w, 2, octaves=3, aspect=(8.0, 0.5))
        rings = np.sin((y / s) * 2 * math.pi * 55 + grain_noise * 18.0 + x / s * 3.0)
        grain = 0.5 + 0.5 * rings
        knots = noise(rng, h, w, 6, octaves=2) * 0.06
        out = base[None, None, :] * (1 + tint[..., None] + knots[..., None] - 0.05)
        out = mix_map(out, accent, (grain ** 3) * 0.45 * strength)
        seam = (y % plank) < max(1, plank // 40)
        return out * np.where(seam, 0.72, 1.0)[..., None]
    if kind == "linen":
        period = max(2.5, 0.0035 * s)
        weave = 0.5 * (np.sin(2 * math.pi * x / period) * np.sin(2 * math.pi * y / period))
        slub = noise(rng, h, w, 4, octaves=2, aspect=(12.0, 0.8)) - 0.5
        folds = np.sin(x / w * 2 * math.pi * rng.uniform(1.5, 3.0) + noise(rng, h, w, 2, octaves=2) * 4)
        shade = 1 + (0.025 * weave + 0.05 * slub + 0.05 * folds) * strength
        return base[None, None, :] * shade[..., None]
    if kind == "concrete":
        cloud = noise(rng, h, w, 5, octaves=6, gain=0.6) - 0.5
        pits = (rng.random((h, w), dtype=np.float32) > 0.997).astype(np.float32)
        pits = blur(pits, 0.8) * 3.0
        shade = 1 + (0.16 * cloud - 0.25 * np.clip(pits, 0, 1)) * strength
        return mix_map(base[None, None, :] * shade[..., None], accent, (cloud > 0.22) * 0.15 * strength)
    if kind == "terrazzo":
        out = base[None, None, :] * (1 + 0.03 * (noise(rng, h, w, 6, octaves=3) - 0.5))[..., None]
        layer = Image.new("RGB", (w, h))
        alpha = Image.new("L", (w, h), 0)
        draw, adraw = ImageDraw.Draw(layer), ImageDraw.Draw(alpha)
        colours = [accent, mix(accent, np.ones(3, np.float32), 0.45), base * 0.72,
                   hex_rgb("#9fb8b0"), hex_rgb("#e8c27a")]
        for _ in range(int(w * h / (s * s) * 420 * strength)):
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            r = rng.uniform(0.004, 0.016) * s
            pts = [(cx + r * rng.uniform(0.6, 1.2) * math.cos(a),
                    cy + r * rng.uniform(0.5, 1.0) * math.sin(a))
                   for a in np.sort(rng.uniform(0, 2 * math.pi, 6))]
            col = colours[int(rng.integers(len(colours)))]
            draw.polygon(pts, fill=tuple(int(v) for v in np.clip(col * 255, 0, 255)))
            adraw.polygon(pts, fill=255)
        a = blur(np.asarray(alpha, np.float32) / 255.0, 0.6)[..., None]
        return out * (1 - a) + np.asarray(layer, np.float32) / 255.0 * a
    # paper (and anything unknown): fine fibres and a very soft unevenness
    fibres = noise(rng, h, w, max(40, s // 12), octaves=2) - 0.5
    soft = noise(rng, h, w, 2, octaves=2) - 0.5
    return base[None, None, :] * (1 + (0.02 * fibres + 0.03 * soft) * strength)[..., None]


def _interior(ctx: Canvas) -> np.ndarray:
    """A room: wall, a window's light patch on the lit side, and a floor or counter."""
    h, w = ctx.height, ctx.width
    night = ctx.time == "night"
    edge = int(np.clip(ctx.base - 0.22 * h, 0.45 * h, 0.75 * h))
    y = row_coords(h)
    top, bottom, floor = ctx.palette("top"), ctx.palette("bottom"), ctx.palette("floor")
    wall = ramp(y[:edge], [(0, top), (edge, bottom)])
    room = fill_columns(np.concatenate([wall, np.broadcast_to(floor, (h - edge, 3))], axis=0), w)
    room[edge:] *= np.linspace(0.88, 1.04, h - edge, dtype=np.float32)[:, None, None]
    room[edge:] *= (1 + 0.05 * (noise(ctx.rng, h - edge, w, 4, octaves=3) - 0.5))[..., None]
    if "tile" in ctx.words:
        room[:edge] = _tiles(room[:edge], h, w, edge)
    # The window: on the left by default, as window light usually comes from the side.
    side = 1 if re.search(r"\bright\b", ctx.words) else 0
    win_w, win_h = 0.26 * w, 0.42 * edge
    wx = 0.06 * w if side == 0 else w - 0.06 * w - win_w
    wy = 0.12 * edge
    window = np.zeros((h, w), np.float32)
    cv2.rectangle(window, (int(wx), int(wy)), (int(wx + win_w), int(wy + win_h)), 1.0, -1)
    bar = max(2, int(0.012 * w))
    cv2.rectangle(window, (int(wx + win_w / 2 - bar / 2), int(wy)), (int(wx + win_w / 2 + bar / 2),
                  int(wy + win_h)), 0.0, -1)
    cv2.rectangle(window, (int(wx), int(wy + win_h / 2 - bar / 2)), (int(wx + win_w),
                  int(wy + win_h / 2 + bar / 2)), 0.0, -1)
    window = blur(window, 0.01 * w)
    # Light that came through it: a long soft patch falling across the wall and floor.
    spill = radial(h, w, wx + win_w * (1.4 if side == 0 else -0.4), edge, 0.55 * w) * 0.12
    if night:
        # Dark room, a dark-blue pane, and the warm glow of a lamp instead.
        room *= 0.38 if ctx.scene.time != "night" else 0.9
        room = mix_map(room, hex_rgb("#0b1430"), window * 0.9)
        glow = radial(h, w, w * (0.8 if side == 0 else 0.2), edge * 0.55, 0.5 * w)
        room = room + glow[..., None] * hex_rgb("#ffb35a") * 0.22
    else:
        light = hex_rgb("#fffaf0")
        room = mix_map(room, light, window * 0.8)
        room = room * (1 + spill[..., None])
    if "bokeh" in ctx.words:
        room = bokeh(room, ctx, int(6 + 14 * ctx.clutter), top=0.0, bottom=edge / h)
    return room


def _tiles(wall: np.ndarray, h: int, w: int, edge: int) -> np.ndarray:
    """A tiled backsplash on the lower half of the wall."""
    size = max(12, int(0.06 * w))
    y, x = row_coords(edge)[:, None], col_coords(w)[None, :]
    grout = ((x % size) < max(1, size // 18)) | ((y % (size * 0.6)) < max(1, size // 18))
    splash = (y > edge * 0.45)
    shade = np.where(grout & splash, 0.86, 1.0) * np.where(splash, 1.03, 1.0)
    return wall * shade[..., None]

