"""Small numpy drawing helpers for the preview renderer: colours, ramps, soft shapes, noise and blur."""

from __future__ import annotations

import math

import cv2
import numpy as np

Rgb = np.ndarray  # float32 (3,), 0..1


def hex_rgb(value: str) -> Rgb:
    value = value.lstrip("#")
    return np.array([int(value[i:i + 2], 16) for i in (0, 2, 4)], np.float32) / 255.0


def mix(a: Rgb, b: Rgb, t: float) -> Rgb:
    return (a * (1 - t) + b * t).astype(np.float32)


def mix_map(bg: np.ndarray, colour, amount: np.ndarray) -> np.ndarray:
    """Blends `colour` (RGB or an image) over `bg` by a 2-D `amount` in 0..1, in place, touching
    only the rows where `amount` is non-zero (suns, foam lines and signs are small)."""
    a = np.asarray(amount, np.float32)
    colour = np.asarray(colour, np.float32)
    if a.ndim != 2 or a.shape[0] != bg.shape[0]:
        return bg * (1 - a[..., None]) + colour * a[..., None]
    rows = np.flatnonzero(a.max(axis=1) > 0)
    if rows.size == 0:
        return bg
    r0, r1 = int(rows[0]), int(rows[-1]) + 1
    seg = bg[r0:r1]
    col = colour[r0:r1] if colour.ndim == 3 and colour.shape[0] == bg.shape[0] else colour
    seg += (col - seg) * a[r0:r1, :, None]
    return bg


def row_coords(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float32)


def col_coords(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float32)


def ramp(y: np.ndarray, stops) -> np.ndarray:
    """(len(y), 3) colours interpolated between (position, colour) stops."""
    pos = np.array([p for p, _ in stops], np.float32)
    cols = np.stack([c for _, c in stops]).astype(np.float32)
    return np.stack([np.interp(y, pos, cols[:, i]) for i in range(3)], axis=1).astype(np.float32)


def fill_columns(column: np.ndarray, w: int) -> np.ndarray:
    return np.repeat(column[:, None, :], w, axis=1)


def smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0, 1)
    return (t * t * (3 - 2 * t)).astype(np.float32)


def radial(h: int, w: int, cx: float, cy: float, radius: float) -> np.ndarray:
    """1 at (cx, cy) falling smoothly to 0 at `radius` (computed only inside that circle's box)."""
    out = np.zeros((h, w), np.float32)
    x0, x1 = max(0, int(cx - radius)), min(w, int(math.ceil(cx + radius)) + 1)
    y0, y1 = max(0, int(cy - radius)), min(h, int(math.ceil(cy + radius)) + 1)
    if x1 <= x0 or y1 <= y0:
        return out
    y = np.arange(y0, y1, dtype=np.float32)[:, None]
    x = np.arange(x0, x1, dtype=np.float32)[None, :]
    d2 = ((x - cx) ** 2 + (y - cy) ** 2) / (radius * radius)
    out[y0:y1, x0:x1] = np.clip(1 - d2, 0, 1) ** 2
    return out


def disc(h: int, w: int, cx: float, cy: float, r: float, soft: float = 1.0) -> np.ndarray:
    """A filled circle with an anti-aliased edge `soft` px wide."""
    out = np.zeros((h, w), np.float32)
    reach = r + soft + 1
    x0, x1 = max(0, int(cx - reach)), min(w, int(math.ceil(cx + reach)) + 1)
    y0, y1 = max(0, int(cy - reach)), min(h, int(math.ceil(cy + reach)) + 1)
    if x1 <= x0 or y1 <= y0:
        return out
    y = np.arange(y0, y1, dtype=np.float32)[:, None]
    x = np.arange(x0, x1, dtype=np.float32)[None, :]
    d = np.sqrt((x - cx) ** 2 + (y - cy) ** 2)
    out[y0:y1, x0:x1] = np.clip((r - d) / soft + 0.5, 0, 1)
    return out


def noise(rng: np.random.Generator, h: int, w: int, cells: float, octaves: int = 4, gain: float = 0.5,
          aspect: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    """Fractal value noise in 0..1: random grids upscaled smoothly and summed over octaves.
    `cells` is the feature count along the shorter side; `aspect` stretches (rows, cols)."""
    short = max(1, min(h, w))
    total = np.zeros((h, w), np.float32)
    amp, norm = 1.0, 0.0
    for o in range(octaves):
        gy = max(2, int(round(cells * (h / short) * aspect[0] * 2**o)) + 1)
        gx = max(2, int(round(cells * (w / short) * aspect[1] * 2**o)) + 1)
        grid = rng.random((min(gy, h + 1), min(gx, w + 1)), dtype=np.float32)
        total += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        norm += amp
        amp *= gain
    total /= norm
    lo, hi = float(total.min()), float(total.max())
    return (total - lo) / max(hi - lo, 1e-6)


def blur(arr: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur; wide blurs run on a downscaled copy (the result is smooth either way)."""
    sigma = float(sigma)
    factor = int(min(8, sigma // 3))
    h, w = arr.shape[:2]
    if factor < 2 or min(h, w) < 16 * factor:
        return cv2.GaussianBlur(arr, (0, 0), sigma)
    small = cv2.resize(arr, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def noise_1d(rng: np.random.Generator, n: int, cells: float, octaves: int = 4,
             gain: float = 0.5) -> np.ndarray:
    """Fractal value noise along a line of `n` samples in 0..1 (`cells` features over its length)."""
    total = np.zeros(n, np.float32)
    amp, norm = 1.0, 0.0
    xs = np.linspace(0, 1, n, dtype=np.float32)
    for o in range(octaves):
        k = max(2, int(round(cells * 2**o)) + 1)
        knots = rng.random(k, dtype=np.float32)
        # Cosine interpolation between knots: smooth, with no overshoot.
        pos = xs * (k - 1)
        i = np.minimum(pos.astype(np.int32), k - 2)
        t = (1 - np.cos((pos - i) * math.pi)) / 2
        total += amp * (knots[i] * (1 - t) + knots[i + 1] * t)
        norm += amp
        amp *= gain
    total /= norm
    lo, hi = float(total.min()), float(total.max())
    return (total - lo) / max(hi - lo, 1e-6)
