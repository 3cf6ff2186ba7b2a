"""Opt-in changes to the product's own pixels: straightening a tilt and harmonizing its light with
the scene, plus the colour maths they report with (CIELAB, CIEDE2000). Nothing here runs unless
the recipe asks; without it the product stays bit-exact.

Harmonizing is a classical statistics transfer (Reinhard et al. 2001, "Color Transfer between
Images") in CIELAB restricted to the product and damped: the product's mean lightness moves part of
the way to the scene's, its lightness spread towards the scene's, and its chroma takes a share of
the light's colour cast, estimated from the scene's brightest tenth (highlights carry the light's
colour; the scene's mean would carry its paint). Every shift is bounded (LIMITS, at strength 1), so
a red cup stays red on a blue sea: only the light changes, never the product's colour.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image

MIN_TILT = 0.5  # degrees: below this a product counts as straight already
# Degrees. Straightening runs only when the merchant asks, so any lean they see is worth turning; the
# limit is the axis itself: near 45° "upright" and "lying down" are equally near, and a turn could lay
# the product on its side.
MAX_TILT = 35.0
ELONGATION = 1.3  # principal-axis variance ratio below which a shape has no axis to straighten (round)
# Largest change at strength 1: lightness (L*), red-green (a*), blue-yellow (b*), lightness spread.
LIMITS = {"L": 10.0, "a": 5.0, "b": 8.0, "spread": 0.1}
# Share of the gap that strength 1 closes: half of the lightness difference, a third of the cast.
SHARE = {"L": 0.5, "cast": 0.35, "spread": 0.3}


# ---------------------------------------------------------------- straighten


def measure_tilt(mask: Image.Image) -> float | None:
    """The turn (degrees, counter-clockwise positive, as PIL's `rotate` takes it) that brings the
    product's principal axis to the nearest upright or level direction; None for a round shape
    with no axis. A product leaning 8° to the left (counter-clockwise) gives -8."""
    hard = np.asarray(mask.convert("L")) >= 128
    ys, xs = np.nonzero(hard)
    if xs.size < 16:
        return None
    cov = np.cov(np.stack([xs, ys]).astype(np.float64))
    values, vectors = np.linalg.eigh(cov)
    if values[1] < ELONGATION * max(values[0], 1e-9):
        return None
    dx, dy = vectors[:, 1]
    angle = math.degrees(math.atan2(dy, dx))  # clockwise on screen, since rows grow downwards
    return ((angle + 45.0) % 90.0) - 45.0


def straighten(image: Image.Image, mask: Image.Image) -> tuple[Image.Image, Image.Image, float | None, str]:
    """The photo and mask rotated about the product's centre so its axis stands upright, the angle
    turned (None when nothing was turned) and why. Rotating resamples the product (bicubic)."""
    tilt = measure_tilt(mask)
    if tilt is None:
        return image, mask, None, "the product is round, so it has no tilt to straighten"
    if abs(tilt) < MIN_TILT:
        return image, mask, None, f"the product already stands straight (tilt {tilt:+.1f}°)"
    if abs(tilt) > MAX_TILT:
        return image, mask, None, (f"the product leans {abs(tilt):.0f}°: too far to tell upright from lying "
                                   "down, so it was left as photographed")
    hard = np.asarray(mask.convert("L")) >= 128
    ys, xs = np.nonzero(hard)
    centre = (float(xs.mean()), float(ys.mean()))
    rotated = image.convert("RGB").rotate(tilt, Image.Resampling.BICUBIC, center=centre)
    rotated_mask = mask.convert("L").rotate(tilt, Image.Resampling.BILINEAR, center=centre)
    note = f"straightened: turned {abs(tilt):.1f}° upright (the product was resampled for this)"
    return rotated, rotated_mask, tilt, note


# ---------------------------------------------------------------- colour maths


_M_RGB_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                       [0.2126729, 0.7151522, 0.0721750],
                       [0.0193339, 0.1191920, 0.9503041]])
_WHITE_D65 = np.array([0.95047, 1.0, 1.08883])


def srgb_to_lab(rgb) -> np.ndarray:
    """CIELAB (D65) of sRGB bytes, any shape ending in 3."""
    c = np.asarray(rgb, np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = lin @ _M_RGB_XYZ.T / _WHITE_D65
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def lab_to_srgb(lab) -> np.ndarray:
    """sRGB (0..255 floats, not clipped) of CIELAB (D65) values."""
    lab = np.asarray(lab, np.float64)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], -1)
    xyz = np.where(f > 6 / 29, f ** 3, 3 * (6 / 29) ** 2 * (f - 4 / 29)) * _WHITE_D65
    lin = xyz @ np.linalg.inv(_M_RGB_XYZ).T
    lin = np.clip(lin, 0, None)
    c = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    return c * 255.0


def ciede2000(lab1, lab2) -> np.ndarray:
    """CIEDE2000 colour difference (kL = kC = kH = 1), following Sharma, Wu and Dalal (2005),
    "The CIEDE2000 color-difference formula: implementation notes"."""
    L1, a1, b1 = np.moveaxis(np.asarray(lab1, np.float64), -1, 0)
    L2, a2, b2 = np.moveaxis(np.asarray(lab2, np.float64), -1, 0)
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean ** 7 / (c_mean ** 7 + 25.0 ** 7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    h1p = np.where(c1p == 0, 0.0, h1p)
    h2p = np.where(c2p == 0, 0.0, h2p)

    d_lp = L2 - L1
    d_cp = c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    d_hp = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))

    l_mean = (L1 + L2) / 2
    cp_mean = (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_mean = np.where(np.abs(h1p - h2p) <= 180, h_sum / 2,
                      np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2))
    h_mean = np.where(c1p * c2p == 0, h_sum, h_mean)
    t = (1 - 0.17 * np.cos(np.radians(h_mean - 30)) + 0.24 * np.cos(np.radians(2 * h_mean))
         + 0.32 * np.cos(np.radians(3 * h_mean + 6)) - 0.20 * np.cos(np.radians(4 * h_mean - 63)))
    d_theta = 30 * np.exp(-(((h_mean - 275) / 25) ** 2))
    r_c = 2 * np.sqrt(cp_mean ** 7 / (cp_mean ** 7 + 25.0 ** 7))
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    s_c = 1 + 0.045 * cp_mean
    s_h = 1 + 0.015 * cp_mean * t
    r_t = -np.sin(np.radians(2 * d_theta)) * r_c
    return np.sqrt((d_lp / s_l) ** 2 + (d_cp / s_c) ** 2 + (d_hp / s_h) ** 2
                   + r_t * (d_cp / s_c) * (d_hp / s_h))


def mean_delta_e(before: Image.Image, after: Image.Image, mask: Image.Image) -> float:
    """Mean CIEDE2000 between two pictures over the product (mask >= 128); 0 for identical pixels."""
    where = np.asarray(mask.convert("L")) >= 128
    if not where.any():
        return 0.0
    a = srgb_to_lab(np.asarray(before.convert("RGB"))[where])
    b = srgb_to_lab(np.asarray(after.convert("RGB"))[where])
    return float(ciede2000(a, b).mean())


# ---------------------------------------------------------------- harmonize


def harmonize(picture: Image.Image, mask: Image.Image, strength: float) -> Image.Image:
    """The picture with the product (mask, 255 = product; the feathered edge blends in) moved
    towards the scene's light by `strength` (0..1), each shift bounded by LIMITS."""
    strength = float(np.clip(strength, 0.0, 1.0))
    rgb = np.asarray(picture.convert("RGB"))
    alpha = np.asarray(mask.convert("L"), np.float64) / 255.0
    core = alpha >= 0.5
    if strength == 0.0 or not core.any():
        return picture.convert("RGB")
    reach = max(3, round(0.01 * max(alpha.shape)))
    near = cv2.dilate((alpha > 0).astype(np.uint8), np.ones((2 * reach + 1,) * 2, np.uint8)) > 0
    scene = ~near
    if scene.sum() < 100:
        return picture.convert("RGB")
    scene_lab = srgb_to_lab(rgb[scene][:: max(1, int(scene.sum()) // 200000)])
    ys, xs = np.nonzero(alpha > 0)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    lab = srgb_to_lab(rgb[y0:y1, x0:x1])
    product = lab[core[y0:y1, x0:x1]]

    l_scene, l_prod = scene_lab[:, 0].mean(), product[:, 0].mean()
    bright = scene_lab[scene_lab[:, 0] >= np.percentile(scene_lab[:, 0], 90)]
    cast_a, cast_b = bright[:, 1].mean(), bright[:, 2].mean()
    spread = scene_lab[:, 0].std() / max(product[:, 0].std(), 1e-6)

    def bounded(value: float, limit: float) -> float:
        return float(np.clip(value, -limit, limit)) * strength

    d_l = bounded(SHARE["L"] * (l_scene - l_prod), LIMITS["L"])
    d_a = bounded(SHARE["cast"] * cast_a, LIMITS["a"])
    d_b = bounded(SHARE["cast"] * cast_b, LIMITS["b"])
    k = 1.0 + bounded(SHARE["spread"] * (spread - 1.0), LIMITS["spread"])
    moved = lab.copy()
    moved[..., 0] = l_prod + (lab[..., 0] - l_prod) * k + d_l
    moved[..., 1] += d_a
    moved[..., 2] += d_b
    new = lab_to_srgb(moved)
    a = alpha[y0:y1, x0:x1, None]
    blended = rgb[y0:y1, x0:x1] * (1 - a) + new * a
    out = rgb.copy()
    out[y0:y1, x0:x1] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
    return Image.fromarray(out, "RGB")
