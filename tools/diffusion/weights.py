"""Loads diffusers pipelines offline and keeps them: device and dtype choice, the per-model cache
(text-to-image, img2img and inpainting pipelines as `from_pipe` views over one set of weights), and
the scheduler and LoRA state that lives with those weights."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from pathlib import Path

from sceneshop.tools.diffusion.loras import LoraStack
from sceneshop.tools.errors import EngineError

SCHEDULERS = {  # recipe name -> diffusers class name; "default" keeps the model's own scheduler
    "euler": "EulerDiscreteScheduler",
    "euler_a": "EulerAncestralDiscreteScheduler",
    "dpm++": "DPMSolverMultistepScheduler",
    "ddim": "DDIMScheduler",
    "lcm": "LCMScheduler",
}
DTYPES = {"float16": "float16", "fp16": "float16", "half": "float16", "bfloat16": "bfloat16",
          "bf16": "bfloat16", "float32": "float32", "fp32": "float32", "float": "float32"}
OFFLINE_HINT = "download it once or set SCENESHOP_DIFFUSION_MODEL to a local folder"



class _EmptyFp32Warning(logging.Filter):
    """diffusers 0.42 warns on every `.to(dtype)` of a model even when it keeps no module in float32
    ("...should be kept in float32: []"); SDXL's VAE upcast does that twice per render in float16."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "should be kept in float32: []" not in record.getMessage()


logging.getLogger("diffusers.models.modeling_utils").addFilter(_EmptyFp32Warning())

LOADS: Counter[str] = Counter()  # model id/folder -> number of times its weights were read from disk
_CACHE: dict[tuple[str, str, str, str], Weights] = {}
_CACHE_LOCK = threading.Lock()


def pick_device(device: str | None = None) -> str:
    """CUDA, then Apple MPS, then CPU; a forced device must exist."""
    import torch

    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps and mps.is_available())
    if device is None:
        return "cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu"
    kind = device.split(":")[0]
    if kind not in ("cuda", "mps", "cpu"):
        raise EngineError(f"device '{device}' is not one of cuda, mps, cpu (SCENESHOP_DEVICE); "
                          "use one of those or leave it unset to choose automatically")
    if (kind == "cuda" and not torch.cuda.is_available()) or (kind == "mps" and not has_mps):
        raise EngineError(f"device '{device}' was asked for (SCENESHOP_DEVICE) but this torch build "
                          "does not see it; leave it unset to choose automatically")
    return device


def pick_dtype(device: str, dtype=None):
    """float16 on CUDA and MPS, float32 on CPU (half precision is slow or unsupported there)."""
    import torch

    if dtype is None:
        return torch.float32 if device == "cpu" else torch.float16
    if isinstance(dtype, torch.dtype):
        chosen = dtype
    elif str(dtype).lower() in DTYPES:
        chosen = getattr(torch, DTYPES[str(dtype).lower()])
    else:
        raise EngineError(f"dtype '{dtype}' is not one of float16, bfloat16, float32 (SCENESHOP_DTYPE)")
    if device == "cpu" and chosen == torch.float16:
        raise EngineError("dtype float16 is not supported on the CPU; use float32 or bfloat16 there "
                          "(SCENESHOP_DTYPE), or leave it unset")
    return chosen


def model_family(pipe) -> str:
    """sdxl (two text encoders), sd2 (SD 2.x and SD-Turbo: 1024-wide cross-attention) or sd15."""
    if getattr(pipe, "text_encoder_2", None) is not None:
        return "sdxl"
    return "sd2" if pipe.unet.config.cross_attention_dim == 1024 else "sd15"


def check(model: str | None) -> str | None:
    """Why `model` cannot be loaded offline (one line), or None when it can; reads no weights."""
    if not model:
        return "no diffusion model is configured (SCENESHOP_DIFFUSION_MODEL)"
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            return (f"model folder '{model}' is not a diffusers pipeline (no model_index.json); "
                    "point SCENESHOP_DIFFUSION_MODEL at a folder saved with save_pretrained")
        return None
    if path.suffix in (".safetensors", ".ckpt"):
        return (f"model '{model}' is a single-file checkpoint; convert it to a diffusers folder "
                "(save_pretrained) and set SCENESHOP_DIFFUSION_MODEL to that folder")
    if model.startswith(("/", ".", "~")) or model.count("/") > 1:
        return f"model folder '{model}' does not exist; fix SCENESHOP_DIFFUSION_MODEL"
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(model, "model_index.json")
    except ValueError:
        cached = None
    if not isinstance(cached, str):
        return (f"model '{model}' is not available offline: not a local folder and not in the "
                f"Hugging Face cache; {OFFLINE_HINT}")
    return None


class Weights:
    """One loaded model: its pipelines per task over shared components, its LoRAs, its lock."""

    def __init__(self, model: str, device: str, dtype, task: str):
        import torch
        from diffusers import AutoPipelineForImage2Image, AutoPipelineForInpainting, AutoPipelineForText2Image

        problem = check(model)
        if problem:
            raise EngineError(problem)
        loader = AutoPipelineForInpainting if task == "inpaint" else AutoPipelineForText2Image
        local = Path(model).expanduser().is_dir()
        try:
            pipe = loader.from_pretrained(str(Path(model).expanduser()) if local else model,
                                          local_files_only=True, **_dtype_kwarg(dtype))
            pipe = pipe.to(device)
        except torch.OutOfMemoryError as exc:
            raise EngineError(f"not enough {device} memory to load model '{model}'; use a smaller "
                              "model or free the GPU") from exc
        except Exception as exc:  # diffusers/transformers/hub raise many types for a bad model
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            if local:
                raise EngineError(f"model folder '{model}' could not be loaded as a diffusers "
                                  f"pipeline: {first}; {OFFLINE_HINT}") from exc
            raise EngineError(f"model '{model}' is not available offline: not a local folder and not "
                              f"in the Hugging Face cache ({first}); {OFFLINE_HINT}") from exc
        LOADS[model] += 1
        self.model = model
        self.device = device
        self.family = model_family(pipe)
        self.native = pipe.unet.config.sample_size * pipe.vae_scale_factor
        if task == "inpaint":
            self.pipes = {"inpaint": pipe}
        else:
            self.pipes = {
                "text_to_image": pipe,
                "restyle": AutoPipelineForImage2Image.from_pipe(pipe),
                "inpaint": AutoPipelineForInpainting.from_pipe(pipe),
            }
        for p in self.pipes.values():
            p.set_progress_bar_config(disable=True)  # progress goes through the callback
        self.default_scheduler = pipe.scheduler
        self.schedulers: dict[str, object] = {"default": pipe.scheduler}
        self.loras = LoraStack(pipe, model)  # adapters live in the shared components
        self.lock = threading.Lock()

    def scheduler(self, name: str):
        if name not in self.schedulers:
            import diffusers

            cls = getattr(diffusers, SCHEDULERS[name])
            self.schedulers[name] = cls.from_config(self.default_scheduler.config)
        return self.schedulers[name]


def _dtype_kwarg(dtype) -> dict:
    # diffusers 0.42 renamed `torch_dtype` to `dtype` (the old name now warns); older releases
    # understand only `torch_dtype`.
    import diffusers
    from packaging.version import Version

    return {"dtype" if Version(diffusers.__version__).release >= (0, 42) else "torch_dtype": dtype}


def load_weights(model: str, device: str, dtype, task: str = "text_to_image") -> Weights:
    """The cached pipelines of `model`, loading them on first use."""
    key = (model, device, str(dtype), task)
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = Weights(model, device, dtype, task)
        return _CACHE[key]


def clear_cache() -> None:
    """Drops every cached pipeline (frees memory; the next engine loads again)."""
    with _CACHE_LOCK:
        _CACHE.clear()


