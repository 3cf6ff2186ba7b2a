"""Paints the recipe's props beside the product: soft, out-of-focus shapes in the scene's colours."""

from __future__ import annotations

import math

import cv2
import numpy as np

from sceneshop.tools.preview.canvas import Canvas, bokeh
from sceneshop.tools.preview.paint import Rgb, blur, hex_rgb, mix
from sceneshop.tools.preview.words import colour_of, shape_of

MAX_PROPS = 10


def _prop_count(ctx: Canvas) -> int:
    """More clutter, more shapes; but every prop at least once, as the merchant may have asked for it."""
    if not ctx.props:
        return 0
    return min(MAX_PROPS, max(len(ctx.props), int(ctx.clutter * (1 + 1.5 * len(ctx.props)) + 0.5)))


def draw_props(bg: np.ndarray, ctx: Canvas) -> np.ndarray:
    """Soft, out-of-focus prop shapes beside the product: more props and more clutter, more shapes.
    All props are painted sharp into one layer, then blurred once (depth of field) and laid over."""
    n = _prop_count(ctx)
    if n == 0:
        return bg
    h, w = ctx.height, ctx.width
    rng = ctx.prop_rng
    accent = ctx.palette("accent")
    left, _, right, bottom = ctx.box
    pad = 0.03 * w
    slots = [(0.02 * w, left - pad), (right + pad, 0.98 * w)]
    layer = np.zeros((h, w, 3), np.float32)  # premultiplied colour
    alpha = np.zeros((h, w), np.float32)
    shadows = np.zeros((h, w), np.float32)
    glows = 0
    for i in range(n):
        name = ctx.props[i % len(ctx.props)]
        shape = shape_of(name)
        if shape == "glow":
            glows += 1
            continue
        lo, hi = slots[i % 2]
        if hi - lo < 0.06 * w:  # no room beside the product: stand behind it, partly hidden
            lo, hi = 0.1 * w, 0.9 * w
        size = rng.uniform(0.07, 0.16) * h * (1.25 if ctx.scene.overhead else 1.0)
        cx = rng.uniform(lo, max(lo + 1, hi))
        if ctx.scene.overhead:
            base = rng.uniform(0.2 * h, 0.95 * h)
        else:
            base = bottom - rng.uniform(0.0, 0.07) * h  # props stand a little behind the product
        tone = np.float32(1.0 + rng.uniform(-0.15, 0.12))
        # Props take the scene's colours: its accent, a deeper floor tone, or a pale accent.
        choice = int(rng.integers(3))
        colour = [accent, ctx.palette("floor") * 0.72, mix(accent, np.ones(3, np.float32), 0.45)][choice]
        named = colour_of(name)  # "white towels", "a yellow ball": the colour the words give it
        if named is not None:
            colour = hex_rgb(named)
        if shape == "plant":
            greenish = accent[1] > accent[0] + 0.04 and accent[1] > accent[2] + 0.04
            green = accent if greenish else hex_rgb("#6f9a5c")
            _paint_plant(layer, alpha, rng, cx, base, size * 1.3, green * tone)
        else:
            width = size * rng.uniform(0.6, 1.3)
            _paint_object(layer, alpha, cx, base, width, size, colour * tone, shape == "round")
            cv2.ellipse(shadows, (int(cx), int(base)), (int(width * 0.6), max(2, int(width * 0.08))),
                        0, 0, 360, 1.0, -1)
    defocus = 0.006 * w
    if shadows.any():
        bg = bg * (1 - 0.3 * blur(shadows, defocus * 2)[..., None])
    if alpha.any():
        alpha = blur(alpha, defocus)
        layer = blur(layer, defocus)
        bg = bg * (1 - alpha[..., None]) + layer
    if glows:
        bg = bokeh(bg, ctx, glows * int(5 + 6 * ctx.clutter), 0.05, min(0.9, bottom / h),
                   colour=accent if accent.mean() > 0.55 else None, rng=rng)
    return bg


def _roi(h: int, w: int, x0: float, y0: float, x1: float, y1: float):
    """Integer bounds of a rectangle clipped to the canvas, or None when it is off-canvas."""
    a, b = max(0, int(x0)), max(0, int(y0))
    c, d = min(w, int(math.ceil(x1)) + 1), min(h, int(math.ceil(y1)) + 1)
    return (a, b, c, d) if c > a and d > b else None


def _paint(layer, alpha, roi, shape: np.ndarray, colour: np.ndarray) -> None:
    """Paints `colour` (per pixel or flat) through the ROI-sized `shape` mask, over what is there."""
    a, b, c, d = roi
    m = shape[..., None]
    layer[b:d, a:c] = layer[b:d, a:c] * (1 - m) + np.clip(colour, 0, 1) * m
    alpha[b:d, a:c] = np.maximum(alpha[b:d, a:c] * (1 - shape), shape)


def _paint_object(layer, alpha, cx: float, base: float, bw: float, bh: float, colour: Rgb,
                  round_: bool) -> None:
    h, w = alpha.shape
    roi = _roi(h, w, cx - bw / 2, base - bh, cx + bw / 2, base)
    if roi is None:
        return
    a, b, c, d = roi
    shape = np.zeros((d - b, c - a), np.float32)
    x0, y0, x1, y1 = int(cx - bw / 2) - a, int(base - bh) - b, int(cx + bw / 2) - a, int(base) - b
    if round_:
        cv2.ellipse(shape, ((x0 + x1) // 2, (y0 + y1) // 2), (max(1, (x1 - x0) // 2), max(1, (y1 - y0) // 2)),
                    0, 0, 360, 1.0, -1)
    else:
        r = max(1, int(min(bw, bh) * 0.18))
        cv2.rectangle(shape, (x0 + r, y0), (x1 - r, y1), 1.0, -1)
        cv2.rectangle(shape, (x0, y0 + r), (x1, y1 - r), 1.0, -1)
        for px, py in ((x0 + r, y0 + r), (x1 - r, y0 + r), (x0 + r, y1 - r), (x1 - r, y1 - r)):
            cv2.circle(shape, (px, py), r, 1.0, -1)
    # Lit from the left: a highlight fading into the shaded side.
    xs = (np.arange(c - a, dtype=np.float32) - x0) / max(1.0, bw)
    shade = (1.1 - 0.25 * np.clip(xs, 0, 1))[None, :, None]
    _paint(layer, alpha, roi, shape, colour * shade)


def _paint_plant(layer, alpha, rng, cx: float, base: float, size: float, colour: Rgb) -> None:
    """A sprig of leaves: ellipses fanning upwards from a stem base."""
    h, w = alpha.shape
    roi = _roi(h, w, cx - size, base - size, cx + size, base)
    if roi is None:
        return
    a, b, c, d = roi
    shape = np.zeros((d - b, c - a), np.float32)
    for _ in range(int(rng.integers(5, 9))):
        angle = rng.uniform(-155, -25)  # image y grows downwards: negative angles point up
        length = size * rng.uniform(0.35, 0.6)
        rad = math.radians(angle)
        lx, ly = cx + math.cos(rad) * length * 0.6 - a, base + math.sin(rad) * length * 0.6 - b
        cv2.ellipse(shape, (int(lx), int(ly)), (max(2, int(length * 0.5)), max(2, int(length * 0.15))),
                    angle, 0, 360, 1.0, -1)
        cv2.line(shape, (int(cx - a), int(base - b)), (int(lx), int(ly)), 1.0, max(1, int(size * 0.015)))
    tone = np.where(np.arange(c - a)[None, :] < cx - a, 1.08, 0.92).astype(np.float32)[..., None]
    _paint(layer, alpha, roi, shape, colour * tone)
