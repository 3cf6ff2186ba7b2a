"""Draws outdoor backdrops: a sky at the recipe's time of day with sun or moon and clouds, the ground,
and the preset's landscape (sea or pool, skyline, ridges, forest, garden, snow).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from sceneshop.tools.preview.canvas import Canvas
from sceneshop.tools.preview.paint import (
    Rgb,
    blur,
    col_coords,
    disc,
    fill_columns,
    hex_rgb,
    mix,
    mix_map,
    noise,
    noise_1d,
    radial,
    ramp,
    row_coords,
    smoothstep,
)

# Sky colours from zenith (0) to horizon (1). "day" uses the preset's own palette.
SKY = {
    "sunrise": [(0.0, "#6f84c4"), (0.5, "#d9a0c0"), (0.82, "#f7b3a2"), (1.0, "#ffd6a5")],
    "sunset": [(0.0, "#2b2866"), (0.42, "#a23b7c"), (0.75, "#ee6a3c"), (1.0, "#ffb259")],
    "night": [(0.0, "#02040f"), (0.65, "#0b1233"), (1.0, "#1f2a57")],
}
# Light falling on the ground and distant things at each time of day.
GROUND_LIGHT = {
    "sunrise": (1.0, 0.9, 0.88), "day": (1.0, 1.0, 1.0),
    "sunset": (1.0, 0.88, 0.8), "night": (0.2, 0.23, 0.38),
}


def outdoor(ctx: Canvas) -> np.ndarray:
    """Sky with the time of day, a horizon, the ground, and the preset's landscape features."""
    h, w = ctx.height, ctx.width
    time = ctx.time or "day"
    horizon = int(np.clip(ctx.base - 0.32 * h, 0.3 * h, 0.55 * h))
    words = ctx.words
    y = row_coords(h)
    own_night = time == "night" and ctx.scene.time == "night"
    if time == "day" or own_night:
        stops = [(0.0, ctx.palette("top")), (1.0, ctx.palette("bottom"))]
    else:
        stops = [(p, hex_rgb(c)) for p, c in SKY[time]]
    sky = fill_columns(ramp(y[:horizon + 1] / max(1, horizon), stops), w)
    sky = _sun_and_moon(sky, ctx, time, horizon)
    if time in ("day", "sunrise", "sunset") and "snow" not in words:
        sky = _clouds(sky, ctx, time, horizon)
    graded = own_night or time == "day"
    light = np.ones(3, np.float32) if graded else np.array(GROUND_LIGHT[time], np.float32)
    horizon_sky = sky[-1].mean(axis=0)

    ground_h = h - horizon - 1
    floor = ctx.palette("floor") * light
    ground = np.broadcast_to(floor, (ground_h, w, 3)).copy()
    ground *= (1 + 0.06 * (noise(ctx.rng, ground_h, w, 5, octaves=4) - 0.5))[..., None]
    # Haze: the ground nearest the horizon takes on the sky's colour.
    haze = np.exp(-np.arange(ground_h, dtype=np.float32) / max(1.0, 0.08 * h))[:, None, None]
    ground = ground * (1 - 0.45 * haze) + horizon_sky * 0.45 * haze
    bg = np.concatenate([sky, ground], axis=0)

    if ctx.scene.water:
        bg = _water(bg, ctx, horizon, light, horizon_sky, pool="pool" in words)
    if ctx.scene.buildings:
        bg = _buildings(bg, ctx, horizon, time, light, far="rooftop" in words or "skyline" in words)
    elif "mountain" in words or "peak" in words:
        bg = _ridges(bg, ctx, horizon, light, horizon_sky, heights=(0.3, 0.18, 0.08), rough=0.7)
    elif "desert" in words or "dune" in words:
        bg = _ridges(bg, ctx, horizon, light, horizon_sky, heights=(0.1, 0.06), rough=0.1)
    elif "forest" in words or "tree" in words:
        bg = _trees(bg, ctx, horizon, light)
    elif "garden" in words or "flower" in words:
        bg = _garden(bg, ctx, horizon, light)
    elif "snow" in words:
        bg = _ridges(bg, ctx, horizon, light, horizon_sky, heights=(0.12, 0.06), rough=0.5,
                     colour=hex_rgb("#e9f0f7"))
    elif not ctx.scene.water:
        bg = _ridges(bg, ctx, horizon, light, horizon_sky, heights=(0.05,), rough=0.3)
    if "snow" in words:
        bg = _snowfall(bg, ctx)
    if ctx.scene.buildings and "rooftop" in words:
        bg = _railing(bg, ctx, horizon, light)
    return bg


def _sun_and_moon(sky: np.ndarray, ctx: Canvas, time: str, horizon: int) -> np.ndarray:
    h, w = sky.shape[:2]
    rng = ctx.rng
    side = 0.22 if rng.random() < 0.5 else 0.78
    if time == "night":
        # Stars: a few hundred tiny points, fewer near the horizon glow.
        stars = np.zeros((h, w), np.float32)
        n = int(260 * w * h / (1024 * 512))
        ys = (rng.random(n) ** 1.6 * h).astype(int)
        xs = rng.integers(0, w, n)
        stars[ys, xs] = rng.uniform(0.3, 1.0, n).astype(np.float32)
        stars = blur(stars, 0.6) * 3.0
        sky = sky + np.clip(stars, 0, 1)[..., None] * 0.9
        cx, cy, r = side * w, 0.22 * horizon + 0.05 * h, 0.035 * max(w, ctx.height)
        moon = disc(h, w, cx, cy, r, soft=1.2)
        craters = 1 - 0.08 * noise(rng, h, w, 14, octaves=2)
        sky = mix_map(sky, hex_rgb("#f3f0e2") * craters[..., None], moon)
        return sky + radial(h, w, cx, cy, 4 * r)[..., None] * hex_rgb("#8da2d8") * 0.18
    if time == "day":
        cx, cy, r = side * w, 0.18 * horizon, 0.028 * max(w, ctx.height)
        colour, glow, reach = hex_rgb("#fffbe8"), hex_rgb("#fff3c4"), 6 * r
    else:
        cx, cy, r = side * w, horizon - 0.06 * ctx.height, 0.05 * max(w, ctx.height)
        colour = hex_rgb("#fff2c8") if time == "sunrise" else hex_rgb("#ffe0a0")
        glow, reach = hex_rgb("#ffc27a"), 9 * r
    sky = sky + radial(h, w, cx, cy, reach)[..., None] * glow * 0.35
    return mix_map(sky, colour, disc(h, w, cx, cy, r, soft=1.5))


def _clouds(sky: np.ndarray, ctx: Canvas, time: str, horizon: int) -> np.ndarray:
    h, w = sky.shape[:2]
    n = noise(ctx.rng, h, w, 3, octaves=5, aspect=(2.0, 0.6))
    amount = smoothstep(0.58, 0.85, n) * (0.25 + 0.75 * smoothstep(0, 0.35 * h, row_coords(h))[:, None])
    colour = {"day": "#ffffff", "sunrise": "#ffd9d2", "sunset": "#ff9f7a"}[time]
    return mix_map(sky, hex_rgb(colour), amount * 0.55)


def _water(bg, ctx: Canvas, horizon: int, light: Rgb, horizon_sky: Rgb, pool: bool) -> np.ndarray:
    """A sea (or pool) band below the horizon with a few wave highlights, then the shore."""
    h, w = ctx.height, ctx.width
    rng = ctx.rng
    shore = int(horizon + (0.22 if pool else 0.16) * (ctx.base - horizon) + 0.04 * h)
    shore = min(shore, ctx.base - int(0.04 * h)) if ctx.base - horizon > 0.1 * h else horizon + int(0.05 * h)
    band = max(2, shore - horizon)
    accent = ctx.palette("accent")
    d = np.linspace(0, 1, band, dtype=np.float32)[:, None, None]
    far, near = mix(accent, horizon_sky, 0.45), accent * 0.92
    water = (far * (1 - d) + near * d) * light
    water = np.broadcast_to(water, (band, w, 3)).copy()
    ripple = noise(rng, band, w, 3, octaves=4, aspect=(6.0, 0.4))
    water *= (1 + 0.08 * (ripple - 0.5))[..., None]
    # Wave highlights: short bright streaks, thinner and denser towards the horizon.
    streaks = np.zeros((band, w), np.float32)
    for _ in range(int(8 + 8 * rng.random())):
        yy = int(band * rng.random() ** 0.7)
        length = int(w * rng.uniform(0.03, 0.1) * (0.4 + yy / band))
        xx = int(rng.uniform(-0.1, 1.0) * w)
        cv2.line(streaks, (xx, yy), (xx + length, yy), 1.0, max(1, int(0.004 * h * (0.3 + yy / band))))
    streaks = blur(streaks, 1.0)
    sparkle = hex_rgb("#ffffff") if ctx.time == "day" else mix(horizon_sky, hex_rgb("#ffffff"), 0.4)
    water = mix_map(water, sparkle * light if ctx.time != "night" else sparkle, streaks * 0.4)
    bg[horizon + 1:horizon + 1 + band] = water[: max(0, min(band, h - horizon - 1))]
    if pool:
        # Pool edge: a white coping stone line and a tiled deck.
        lip = slice(shore, min(h, shore + max(2, int(0.012 * h))))
        bg[lip] = hex_rgb("#f6f6f2") * light
    else:
        # Wet sand just below the waterline, and a wobbling line of foam.
        below = row_coords(h)[:, None] - shore
        wet = np.exp(-np.clip(below, 0, None) / (0.025 * h)) * (below >= 0)
        bg = bg * (1 - 0.18 * wet[..., None])
        x = col_coords(w)
        wobble = (np.sin(x / w * 2 * math.pi * rng.uniform(2, 4) + rng.uniform(0, 6)) * 0.006 * h
                  + (noise_1d(rng, w, 8, octaves=2) - 0.5) * 0.01 * h)
        foam_y = shore + wobble
        foam = np.exp(-(((row_coords(h)[:, None] - foam_y[None, :]) / max(1.2, 0.004 * h)) ** 2))
        bg = mix_map(bg, hex_rgb("#ffffff") * np.maximum(light, 0.4), foam * 0.75)
    return bg


def _buildings(bg, ctx: Canvas, horizon: int, time: str, light: Rgb, far: bool) -> np.ndarray:
    """A skyline of block silhouettes standing on the horizon, with lit windows at night."""
    h, w = ctx.height, ctx.width
    rng = ctx.rng
    night = time == "night"
    accent = ctx.palette("accent")
    sky_low = bg[max(0, horizon - 2)].mean(axis=0)
    base_colour = hex_rgb("#141427") if night else mix(accent, sky_low, 0.35) * light
    mask = np.zeros((h, w), np.float32)
    windows = np.zeros((h, w), np.float32)
    x = 0
    tallest = (0.16 if far else 0.38) * h
    while x < w:
        bw = int(rng.uniform(0.05, 0.13) * w * (0.6 if far else 1.0))
        bh = int(rng.uniform(0.25, 1.0) * tallest)
        top = horizon - bh
        cv2.rectangle(mask, (x, top), (x + bw - 2, horizon + 2), 1.0, -1)
        if night or not far:
            step_x, step_y = max(4, int(0.012 * w)), max(5, int(0.018 * h))
            for wy in range(top + step_y // 2, horizon - step_y // 2, step_y):
                for wx in range(x + step_x // 2, x + bw - step_x, step_x):
                    if rng.random() < (0.35 if night else 0.9):
                        cv2.rectangle(windows, (wx, wy), (wx + step_x // 2, wy + step_y // 2), 1.0, -1)
        x += bw + int(rng.uniform(0, 0.02) * w)
    mask = blur(mask, 0.8)
    bg = mix_map(bg, base_colour, mask * 0.95)
    window_colour = hex_rgb("#ffd27a") if night else base_colour * 1.25
    bg = mix_map(bg, window_colour, blur(windows, 0.6) * mask * (0.9 if night else 0.35))
    if night:
        # Neon: glowing signs on the facades and their smeared reflections in the wet street.
        signs = np.zeros((h, w, 3), np.float32)
        smear = np.zeros((h, w, 3), np.float32)
        colours = [ctx.palette("accent"), hex_rgb("#3fe0ff"), hex_rgb("#b06bff")]
        for _ in range(int(3 + 5 * max(ctx.clutter, 0.3))):
            sx, sy = int(rng.uniform(0, w)), int(horizon - rng.uniform(0.05, 0.9) * tallest)
            sw, sh = int(rng.uniform(0.03, 0.08) * w), max(3, int(rng.uniform(0.008, 0.02) * h))
            col = tuple(float(v) for v in colours[int(rng.integers(len(colours)))])
            cv2.rectangle(signs, (sx, sy), (sx + sw, sy + sh), col, -1)
            cv2.rectangle(smear, (sx, horizon + 2), (sx + sw, min(h - 1, 2 * horizon - sy + int(0.15 * h))),
                          col, -1)
        halo = blur(signs, 0.02 * w)
        fade = np.clip((row_coords(h)[:, None, None] - horizon) / h * 3, 0, 1)
        bg = bg + signs * 0.8 + halo * 1.6 + blur(smear, 0.012 * w) * 0.35 * fade
    return bg


def _ridges(bg, ctx: Canvas, horizon: int, light: Rgb, horizon_sky: Rgb, heights, rough: float,
            colour: Rgb | None = None) -> np.ndarray:
    """Distant hills, dunes or mountain ranges: noisy ridge lines, hazier the farther they are."""
    h, w = ctx.height, ctx.width
    rng = ctx.rng
    y = row_coords(h)[:, None]
    near_colour = ctx.palette("accent") if colour is None else colour
    for i, height in enumerate(heights):  # farthest first
        far = (len(heights) - i) / len(heights)
        line = noise_1d(rng, w, 1.5 + 3 * rough, octaves=2 + int(3 * rough), gain=0.35 + 0.15 * rough)
        if rough > 0.5:
            line = 1 - np.abs(2 * line - 1)  # ridged: sharp summits instead of rounded hills
        peaks = horizon - (0.3 + 0.7 * line) * height * h
        fill = (y >= peaks[None, :]) & (y <= horizon + 2)
        tone = mix(near_colour * light, horizon_sky, 0.55 * far) * (0.95 + 0.05 * i)
        a = blur(fill.astype(np.float32), 0.7)
        # Shade: lower part of each layer fades into the haze at its foot.
        foot = np.clip((y - peaks[None, :]) / max(1.0, height * h), 0, 1)
        layer = tone * (1 - 0.12 * foot[..., None]) + horizon_sky * 0.12 * foot[..., None]
        if colour is None and height > 0.15:
            # Snow caps: everything above the snow line on the tall ranges.
            snow_line = horizon - 0.72 * height * h
            cap = smoothstep(snow_line + 0.01 * h, snow_line - 0.01 * h, y)
            layer = mix_map(layer, mix(hex_rgb("#ffffff") * light, horizon_sky, 0.25 * far), cap * 0.9)
        bg = bg * (1 - a[..., None]) + layer * a[..., None]
    return bg


def _trees(bg, ctx: Canvas, horizon: int, light: Rgb) -> np.ndarray:
    """Trunks at two depths under a dark, leafy canopy: a forest around the product."""
    h, w = ctx.height, ctx.width
    rng = ctx.rng
    accent = ctx.palette("accent") * light
    haze = bg[horizon].mean(axis=0)
    y = row_coords(h)[:, None]
    for depth, count in ((0.5, 12), (1.0, 5)):
        trunks = np.zeros((h, w), np.float32)
        shade = np.ones((h, w), np.float32)
        for k in range(count):
            tw = rng.uniform(0.012, 0.028) * w * (0.5 + depth)
            tx = (k + rng.uniform(0.0, 0.8)) / count * w  # spread across the frame, jittered
            foot = int(horizon + depth * rng.uniform(0.03, 0.1) * h)
            a, c = max(0, int(tx)), min(w, int(tx + tw) + 1)
            if c <= a:
                continue
            trunks[:foot, a:c] = 1.0
            # Round trunks: lit on the left, dark on the right.
            u = (np.arange(a, c, dtype=np.float32) - tx) / tw
            shade[:foot, a:c] = (1.15 - 0.5 * u)[None, :]
        colour = mix(accent * 0.55, haze, 0.65 * (1 - depth))
        trunks = blur(trunks, (2.5 - 1.6 * depth) * w / 1024)
        bg = mix_map(bg, colour * shade[..., None], trunks * (0.75 + 0.25 * depth))
    # The canopy: clumps of dark leaves, densest at the top of the frame.
    leaves = noise(rng, h, w, 5, octaves=5)
    cover = np.clip((leaves - 0.62 + 0.55 * smoothstep(0.5 * h, 0.0, y)) * 3.0, 0, 1)
    tone = (0.75 + 0.5 * noise(rng, h, w, 12, octaves=2))[..., None]
    bg = mix_map(bg, accent * 0.9 * tone, cover * smoothstep(0.62 * h, 0.15 * h, y))
    # Dappled light: soft bright spots on the forest floor.
    spots = np.clip((noise(rng, h, w, 10, octaves=2) - 0.62) * 6, 0, 1) * (y > horizon)
    return bg * (1 + 0.25 * blur(spots.astype(np.float32), 2.0)[..., None])


def _garden(bg, ctx: Canvas, horizon: int, light: Rgb) -> np.ndarray:
    """A hedge along the horizon dotted with flowers, on a lawn."""
    h, w = ctx.height, ctx.width
    rng = ctx.rng
    n = noise(rng, h, w, 6, octaves=4)
    y = row_coords(h)[:, None]
    top_line = horizon - (0.08 + 0.12 * noise_1d(rng, w, 6, octaves=4))[None, :] * h
    hedge = ((y >= top_line) & (y <= horizon + 0.02 * h)).astype(np.float32)
    hedge = blur(hedge, 1.5)
    green = hex_rgb("#4f7f3e") * light
    bg = mix_map(bg, green * (0.8 + 0.4 * n[..., None]), hedge * 0.95)
    flowers = np.zeros((h, w), np.float32)
    for _ in range(int(40 + 80 * ctx.clutter)):
        fx, fy = int(rng.uniform(0, w)), int(rng.uniform(horizon - 0.18 * h, horizon + 0.01 * h))
        cv2.circle(flowers, (fx, fy), max(2, int(rng.uniform(0.004, 0.009) * w)), 1.0, -1)
    flowers = blur(flowers, 1.2) * hedge
    return mix_map(bg, ctx.palette("accent") * light, flowers * 0.9)


def _snowfall(bg, ctx: Canvas) -> np.ndarray:
    h, w = ctx.height, ctx.width
    flakes = np.zeros((h, w), np.float32)
    n = int(300 * w * h / 1024**2)
    flakes[ctx.rng.integers(0, h, n), ctx.rng.integers(0, w, n)] = 1.0
    flakes = blur(cv2.dilate(flakes, np.ones((3, 3), np.uint8)), 1.2)
    return mix_map(bg, hex_rgb("#ffffff"), np.clip(flakes * 2.0, 0, 0.8))


def _railing(bg, ctx: Canvas, horizon: int, light: Rgb) -> np.ndarray:
    h, w = ctx.height, ctx.width
    rail = np.zeros((h, w), np.float32)
    top = int(horizon + 0.02 * h)
    thick = max(2, int(0.008 * h))
    cv2.rectangle(rail, (0, top), (w, top + thick), 1.0, -1)
    for x in range(0, w, max(8, int(0.06 * w))):
        cv2.rectangle(rail, (x, top), (x + max(1, thick // 2), top + int(0.09 * h)), 1.0, -1)
    rail = blur(rail, 1.0)
    return mix_map(bg, hex_rgb("#3a3f47") * light, rail * 0.8)
