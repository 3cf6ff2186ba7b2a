"""Checks a finished picture against its marketplace preset, on the pixels alone.

The check reads only the picture (not the recipe or the mask the engine used), so `sceneshop check`
gives the same verdict on any PNG as the studio gives on its own results. What each preset checks:
- every preset: the size (a missing or wrong size means the listing is re-scaled or rejected);
- a preset with a fixed background colour (amazon_main): every background pixel is exactly that
  colour, the product fills at least `MIN_FILL` of the longer side, and the picture holds one
  product: no detached regions left over from the old photo.

How "the product" is found: every pixel that is not exactly the background colour belongs to the
foreground; its 8-connected regions are grouped, and the regions of at least `PART_SHARE` of the
largest one are the product (a pair of shoes is two large regions), together with whatever lies
inside their convex hull (dark print on a blown-out white label is cut off from the outline by
pure-white pixels, yet it is the product). Smaller detached regions outside the hull are islands —
a leftover chair leg, a blob of floor — and fail the check, as does any non-background pixel on
the picture's border (a background that is not pure white everywhere).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from sceneshop.tools.catalog import Marketplace

# Amazon's rule for the main image: the product fills 85% or more of the frame.
MIN_FILL = 0.85
# A detached region this big relative to the largest one is a part of the product (the second
# shoe of a pair, a lid beside its jar); anything smaller is a leftover of the old photo.
PART_SHARE = 0.2
ASPECT_TOLERANCE = 0.01


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one picture: passed, or the problems in a merchant's words."""

    marketplace: str
    label: str  # "Amazon main image"
    problems: list[str] = field(default_factory=list)
    fill: float | None = None  # product's share of the longer side, where measured
    islands: int = 0

    @property
    def passed(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        if self.passed:
            return f"{self.label} check passed"
        return f"{self.label} check failed: " + "; ".join(self.problems)


def check_marketplace(image: Image.Image, market: Marketplace) -> CheckResult:
    """Checks `image` against `market`; never raises for a picture that fails, only reports."""
    label = market.description.split(",")[0]
    problems: list[str] = []
    if image.size != (market.width, market.height):
        want, got = market.width / market.height, image.width / image.height
        if abs(want - got) > ASPECT_TOLERANCE * want:
            problems.append(
                f"aspect {image.width}x{image.height} is not {market.width}x{market.height}'s — "
                "choose the marketplace again so the canvas is re-framed"
            )
        else:
            problems.append(f"size {image.width}x{image.height}, expected {market.width}x{market.height}")
    if not market.background:
        return CheckResult(market.name, label, problems)
    background = tuple(int(market.background.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    rgb = np.asarray(image.convert("RGB"))
    foreground = np.any(rgb != np.array(background, np.uint8), axis=2)
    colour = "pure white" if background == (255, 255, 255) else market.background
    if not foreground.any():
        problems.append("no product in the picture")
        return CheckResult(market.name, label, problems, fill=0.0)
    border = np.concatenate([foreground[0], foreground[-1], foreground[:, 0], foreground[:, -1]])
    if border.any():
        problems.append(
            f"{np.count_nonzero(border)} pixels on the picture's edge are not {colour} — "
            "the background must be exactly that colour everywhere"
        )
    count, labels, stats, _ = cv2.connectedComponentsWithStats(foreground.astype(np.uint8), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    parts = np.flatnonzero(areas >= PART_SHARE * areas.max()) + 1
    product = np.isin(labels, parts)
    hull = np.zeros_like(foreground, np.uint8)
    points = cv2.findNonZero(product.astype(np.uint8))
    cv2.fillConvexPoly(hull, cv2.convexHull(points), 1)
    inside = np.unique(labels[(hull > 0) & foreground])
    islands = len(set(range(1, count)) - set(inside.tolist()))
    if islands:
        problems.append(
            f"{islands} detached region{'s' if islands > 1 else ''} outside the product — fix the cut-out"
        )
    ys, xs = np.nonzero(product)
    side = max(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
    fill = float(side / max(image.size))
    if fill < MIN_FILL:
        problems.append(f"the product fills {fill:.0%} of the longer side; it needs {MIN_FILL:.0%} or more")
    return CheckResult(market.name, label, problems, fill=fill, islands=islands)
