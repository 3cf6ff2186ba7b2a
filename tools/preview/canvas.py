"""The canvas the preview's drawing functions share for one image, and the out-of-focus lights
that both backdrops and props draw on it."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from sceneshop.tools.catalog import ScenePreset
from sceneshop.tools.preview.paint import Rgb, blur, hex_rgb, mix


@dataclass
class Canvas:
    """What the drawing functions share for one image."""

    width: int
    height: int
    rng: np.random.Generator  # the scene's own randomness
    prop_rng: np.random.Generator  # props only
    scene: ScenePreset
    time: str | None
    box: tuple[int, int, int, int]  # the product's box on the canvas (or where it would be)
    base: int  # the floor line: the product's bottom edge
    words: str  # scene name + description + props, for picking details
    clutter: float
    props: list[str]

    def palette(self, key: str, default: str | None = None) -> Rgb:
        value = self.scene.palette.get(key) or default
        if value is None:
            pal = self.scene.palette
            return mix(hex_rgb(pal["bottom"]), hex_rgb(pal.get("floor", pal["bottom"])), 0.5) * 0.7
        return hex_rgb(value)

def bokeh(bg, ctx: Canvas, count: int, top: float, bottom: float, colour: Rgb | None = None,
          rng: np.random.Generator | None = None) -> np.ndarray:
    """Out-of-focus points of light: soft glowing discs, additive."""
    h, w = ctx.height, ctx.width
    rng = ctx.rng if rng is None else rng
    glow = np.zeros((h, w), np.float32)
    for _ in range(count):
        x, y = int(rng.uniform(0, w)), int(rng.uniform(top, bottom) * h)
        r = max(2, int(rng.uniform(0.008, 0.03) * w))
        cv2.circle(glow, (x, y), r, float(rng.uniform(0.35, 1.0)), -1)
    glow = blur(glow, 0.004 * w + 1)
    colour = hex_rgb("#ffcf7a") if colour is None else colour
    return bg + glow[..., None] * colour * 0.55
