"""How well the cut-out finds products in real photos: IoU against true masks, the share of true
product pixels lost, and the time per 1024-px photo, unhinted and with a box hint; and what ➖ Remove
clicks on the wrong parts do.

    python bench/segment_accuracy.py --data ../shared/data/product-photos [--paths model,grabcut]

DATA holds images/NAME.jpg and masks/NAME.png (non-zero in any channel = product: the dev set
colours each product instance in its own channel). The data is read in place and never copied.
The box hint is the true mask's bounding box padded by 5% of its size, as a merchant would draw it.
Each setting in tools/segment is chosen on one half of a set and checked on the other: the "even" and
"odd" columns are the photos at even and odd positions in name order (two-fold cross-validation).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from sceneshop.tools.segment import classical, segment
from sceneshop.tools.segment.model import load_model

BOX_PAD = 0.05


def load(folder: Path) -> list[tuple[str, Image.Image, np.ndarray]]:
    photos = []
    for path in sorted((folder / "images").glob("*.jpg")):
        truth = np.asarray(Image.open(folder / "masks" / f"{path.stem}.png"))
        truth = truth.reshape(truth.shape[0], truth.shape[1], -1).any(axis=2)
        photos.append((path.stem, Image.open(path).convert("RGB"), truth))
    if not photos:
        raise SystemExit(f"no images/*.jpg under {folder}")
    return photos


def hint_box(truth: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(truth)
    h, w = truth.shape
    pad_x, pad_y = BOX_PAD * (xs.max() - xs.min()), BOX_PAD * (ys.max() - ys.min())
    return (max(0, int(xs.min() - pad_x)), max(0, int(ys.min() - pad_y)),
            min(w, int(xs.max() + 1 + pad_x)), min(h, int(ys.max() + 1 + pad_y)))


def grabcut_only(image: Image.Image, box=None) -> Image.Image:
    """The classical fallback on its own (what runs when the model file is missing)."""
    return classical.finish(classical.grabcut(np.asarray(image), classical.check_box(box, image.size)))


def score(cut, photos, hinted: bool) -> dict:
    ious, lost = [], []
    for name, image, truth in photos:
        try:
            mask = np.asarray(cut(image, box=hint_box(truth) if hinted else None)) >= 128
        except Exception as exc:  # a photo where nothing is found scores 0, it does not stop the bench
            print(f"  {name}: {exc}")
            mask = np.zeros_like(truth)
        ious.append((mask & truth).sum() / max((mask | truth).sum(), 1))
        lost.append((truth & ~mask).sum() / max(truth.sum(), 1))
    worst = int(np.argmin(ious))
    even, odd = ious[0::2], ious[1::2]
    return {
        "even": (float(np.mean(even)), float(np.min(even))), "odd": (float(np.mean(odd)), float(np.min(odd))),
        "miou": float(np.mean(ious)), "median": float(np.median(ious)),
        "worst": float(ious[worst]), "worst_name": photos[worst][0],
        "below_06": int(sum(i < 0.6 for i in ious)), "below_085": int(sum(i < 0.85 for i in ious)),
        "lost_mean": float(np.mean(lost)), "lost_worst": float(np.max(lost)),
    }


def remove_clicks(photos, clicks: int = 3, least: float = 0.005) -> tuple[int, list[float], list[float]]:
    """The merchant's fixes: on each photo whose automatic cut-out holds a wrong part over `least` of
    the photo, up to `clicks` ➖ Remove clicks, each on the deepest pixel still wrong (none once what
    is wrong is under `least`). Returns the photos clicked, their mIoU after 0..clicks clicks, and the
    share of true product pixels lost after 0..clicks clicks."""
    ious, lost = [], []
    for _, image, truth in photos:
        mask = np.asarray(segment(image)) >= 128
        if (mask & ~truth).mean() < least:
            continue
        points, row_iou, row_lost = [], [], []
        for k in range(clicks + 1):
            if k:
                wrong = (mask & ~truth).astype(np.uint8)
                if wrong.mean() >= least:
                    depth = cv2.distanceTransform(wrong, cv2.DIST_L2, 5)
                    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
                    points.append((int(x), int(y), False))
                    mask = np.asarray(segment(image, points=points)) >= 128
            row_iou.append((mask & truth).sum() / max((mask | truth).sum(), 1))
            row_lost.append((truth & ~mask).sum() / max(truth.sum(), 1))
        ious.append(row_iou)
        lost.append(row_lost)
    if not ious:
        return 0, [], []
    return len(ious), [float(v) for v in np.mean(ious, axis=0)], [float(v) for v in np.mean(lost, axis=0)]


def timing(cut, photos, side: int = 1024) -> tuple[float, float]:
    times = []
    for _, image, _ in photos:
        scale = side / max(image.size)
        big = image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)
        start = time.perf_counter()
        cut(big)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/product-photos"))
    parser.add_argument("--paths", default="model,grabcut", help="model (segment()), grabcut (fallback)")
    args = parser.parse_args()
    photos = load(args.data)
    load_model()  # load once, outside the timings
    cuts = {"model": segment, "grabcut": grabcut_only}
    busy = os.getloadavg()[0]
    print(f"{len(photos)} photos from {args.data}; load average {busy:.1f} on {os.cpu_count()} cores")
    print(f"{'path':9s} {'hint':5s} {'mIoU':>5s} {'median':>6s} {'worst':>13s} {'<0.6':>4s} {'<0.85':>5s} "
          f"{'lost mean':>9s} {'lost worst':>10s} {'even mIoU/worst':>15s} {'odd mIoU/worst':>14s}")
    for path in args.paths.split(","):
        for hinted in (False, True):
            r = score(cuts[path], photos, hinted)
            print(f"{path:9s} {'box' if hinted else 'none':5s} {r['miou']:5.3f} {r['median']:6.3f} "
                  f"{r['worst']:5.3f} ({r['worst_name']}) {r['below_06']:4d} {r['below_085']:5d} "
                  f"{r['lost_mean']:9.1%} {r['lost_worst']:10.1%} {r['even'][0]:9.3f}/{r['even'][1]:.3f} "
                  f"{r['odd'][0]:8.3f}/{r['odd'][1]:.3f}")
    if "model" in args.paths.split(","):
        n, ious, lost = remove_clicks(photos)
        print(f"model     ➖ clicks, each on the deepest wrong pixel, {n} photos with a wrong part > 0.5%: "
              f"mIoU after 0/1/2/3 clicks {' / '.join(f'{v:.3f}' for v in ious)}, "
              f"product lost {' / '.join(f'{v:.1%}' for v in lost)}")
    for path in args.paths.split(","):
        p50, p95 = timing(cuts[path], photos)
        busy = os.getloadavg()[0]
        print(f"{path}: unhinted, 1024 px longer side: p50 {p50:.0f} ms, p95 {p95:.0f} ms "
              f"(load average {busy:.1f})")


if __name__ == "__main__":
    main()
