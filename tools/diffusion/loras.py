"""Resolves catalog LoRAs to local files, checks that they fit the loaded model, and switches them by name.

A LoRA is loaded once per set of model weights, as a peft adapter named after its catalog entry;
each render then only calls `set_adapters` (milliseconds), so changing the LoRA set between chat
turns never reloads the base model.

Partial matches are refused. diffusers only *logs* a warning when a LoRA file names layers the
model does not have (and its "missing keys" warning also fires falsely whenever the adapter name
is a substring of a layer name, e.g. adapter "b" and "down_blocks"), so such a LoRA would silently
apply half of itself. Here every LoRA-A/down matrix in the file must land on a layer of the model
with the right shape; otherwise the adapter is removed again and an EngineError says how many
layers did not fit and what to do. A LoRA that adapts only some of the model's layers (only
attention, only the UNet) is normal and fits.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sceneshop.tools.catalog import LoraEntry
from sceneshop.tools.errors import EngineError

FAMILY_LABELS = {"sd15": "SD 1.5", "sd2": "SD 2.x / SD-Turbo", "sdxl": "SDXL"}

# One "down" (A) matrix per adapted layer, whatever the file's key format: peft (lora_A),
# diffusers' older format (lora.down, lora_linear_layer.down) or kohya/A1111 (lora_down).
_DOWN_KEY = re.compile(r"(lora_A|lora\.down|lora_down|lora_linear_layer\.down)(\.[^.]+)?\.weight$")


@dataclass(frozen=True)
class LoraAdapter:
    """A LoRA as the engine applies it: a peft adapter named after its catalog entry, read from its
    local weight file, at the recipe's weight (already inside the catalog's range)."""

    entry: LoraEntry
    path: Path
    weight: float

    @property
    def name(self) -> str:
        return self.entry.name


def resolve_lora(entry: LoraEntry, lora_dir: Path | None) -> Path:
    """The local weight file of a catalog LoRA: `lora_dir/<name>.safetensors`, then `source.path`
    (inside lora_dir unless absolute), then `source.hub` + `source.file` from the Hugging Face
    cache. Nothing is downloaded; a miss names every place tried and how to fix it."""
    tried: list[str] = []
    if lora_dir is not None:
        own = Path(lora_dir) / f"{entry.name}.safetensors"
        if own.is_file():
            return own
        tried.append(str(own))
    if "path" in entry.source:
        path = Path(entry.source["path"]).expanduser()
        if not path.is_absolute():
            path = Path(lora_dir) / path if lora_dir is not None else None
        if path is not None and path.is_file():
            return path
        tried.append(str(path) if path else f"{entry.source['path']} (no LoRA folder set)")
    if "hub" in entry.source:
        repo, filename = entry.source["hub"], entry.source.get("file", "pytorch_lora_weights.safetensors")
        cached = _hub_cached(repo, filename)
        if cached is not None:
            return cached
        tried.append(f"Hugging Face cache: {repo}/{filename}")
    fix = f"put the file at {Path(lora_dir) / (entry.name + '.safetensors')}" if lora_dir else (
        f"set SCENESHOP_LORA_DIR to a folder holding {entry.name}.safetensors"
    )
    if "hub" in entry.source:
        fix += f", or download it once with `hf download {repo} {filename}`"
    raise EngineError(
        f"LoRA '{entry.name}' has no weights on this machine (tried: {'; '.join(tried)}); {fix}, "
        "or remove the LoRA from the recipe"
    )


def _hub_cached(repo: str, filename: str) -> Path | None:
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(repo, filename)
    except ValueError:  # not a valid repo id
        return None
    return Path(found) if isinstance(found, str) else None


def check_families(entries: Iterable[LoraEntry], family: str, model: str) -> None:
    """Refuses, before anything runs, a LoRA trained for another base-model family than the loaded
    model's."""
    for entry in entries:
        if entry.family != family:
            raise EngineError(
                f"LoRA '{entry.name}' is made for {FAMILY_LABELS.get(entry.family, entry.family)} models, "
                f"but the loaded model '{model}' is {FAMILY_LABELS.get(family, family)}; remove it from "
                f"the recipe, pick a LoRA of family '{family}' from prompts/loras.yaml, or set "
                "SCENESHOP_DIFFUSION_MODEL to a model of its family"
            )


@contextmanager
def _quiet_diffusers():
    # LoRA loading logs misleading "missing keys"/"no LoRA keys for text_encoder" warnings; our own
    # fit check below is the one that decides, so those lines would only confuse a merchant.
    from diffusers.utils import logging as dlogging

    level = dlogging.get_verbosity()
    dlogging.set_verbosity(logging.ERROR)
    try:
        with warnings.catch_warnings():
            # peft warns on every second adapter ("Already found a peft_config") and on clean-up.
            warnings.simplefilter("ignore", UserWarning)
            yield
    finally:
        dlogging.set_verbosity(level)


class LoraStack:
    """The adapters loaded into one pipeline's components (shared by its img2img/inpaint views).
    Not thread-safe by itself: the engine holds the weights' lock around `activate` and the run."""

    def __init__(self, pipe, model: str):
        self.pipe = pipe
        self.model = model
        self.loaded: dict[str, Path] = {}  # adapter name -> file it was loaded from
        # What is in effect, so a repeated set costs nothing: (name, weight) pairs; None = unknown.
        self.active: tuple[tuple[str, float], ...] | None = ()
        self.enabled = True  # disable_lora() is sticky: set_adapters alone does not undo it
        self.fused: tuple[tuple[str, float], ...] | None = None
        self.file_loads = 0  # LoRA files read into the model (for tests and the bench)

    @property
    def components(self) -> list[str]:
        return [c for c in self.pipe._lora_loadable_modules if getattr(self.pipe, c, None) is not None]

    def activate(self, choices: Sequence[LoraAdapter], fuse: bool = False) -> None:
        """Makes exactly `choices` active at their weights; no choices = the base model, untouched."""
        wanted = tuple((c.name, float(c.weight)) for c in choices)
        if self.fused is not None and self.fused != wanted:
            self.pipe.unfuse_lora(components=self.components)
            self.fused = None
        for choice in choices:
            self._load(choice)
        if wanted != self.active:
            if not wanted:
                if self.loaded:  # with no adapter in the model there is nothing to switch off
                    self.pipe.disable_lora()
                    self.enabled = False
            else:
                if not self.enabled:
                    self.pipe.enable_lora()
                    self.enabled = True
                self.pipe.set_adapters([n for n, _ in wanted], [w for _, w in wanted])
            self.active = wanted
        if fuse and wanted and self.fused is None:
            self.pipe.fuse_lora(components=self.components, adapter_names=[n for n, _ in wanted],
                                lora_scale=1.0)
            self.fused = wanted

    def _load(self, choice: LoraAdapter) -> None:
        if self.loaded.get(choice.name) == choice.path:
            return
        if choice.name in self.loaded:  # same name, another file (another LoRA folder): replace it
            self._forget(choice.name)
            del self.loaded[choice.name]
        state_dict = _read(choice)
        wanted = sum(1 for key in state_dict if _DOWN_KEY.search(key))
        if wanted == 0:
            raise EngineError(
                f"LoRA '{choice.name}' ({choice.path}) contains no LoRA weights; replace the file"
            )
        try:
            with _quiet_diffusers():
                self.pipe.load_lora_weights(state_dict, adapter_name=choice.name)
        except (ValueError, RuntimeError, KeyError) as exc:
            self._forget(choice.name)
            first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
            raise EngineError(
                f"LoRA '{choice.name}' ({choice.path}) does not fit the model '{self.model}': {first}; "
                "it was probably trained for another base model; use a LoRA made for this model"
            ) from exc
        fitted = self._adapted_layers(choice.name)
        if fitted < wanted:
            self._forget(choice.name)
            raise EngineError(
                f"LoRA '{choice.name}' ({choice.path}) only partly fits the model '{self.model}': "
                f"{wanted - fitted} of its {wanted} layers do not exist in the model, so it would apply "
                "only in part; use a LoRA made for this model (or check the catalog entry's family)"
            )
        self.loaded[choice.name] = choice.path
        self.file_loads += 1
        self.active = None  # loading makes the new adapter active: set the wanted set again

    def _adapted_layers(self, name: str) -> int:
        from peft.tuners.tuners_utils import BaseTunerLayer

        count = 0
        for component in self.components:
            for module in getattr(self.pipe, component).modules():
                if isinstance(module, BaseTunerLayer) and name in getattr(module, "lora_A", {}):
                    count += 1
        return count

    def _forget(self, name: str) -> None:
        self.active = None  # peft re-picks the active adapters when one is deleted
        try:
            with _quiet_diffusers():
                self.pipe.delete_adapters(name)
        except (ValueError, KeyError, AttributeError):
            pass  # it never got in


def _read(choice: LoraAdapter) -> dict:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if choice.path.suffix != ".safetensors":
        raise EngineError(
            f"LoRA '{choice.name}' file {choice.path} is not a .safetensors file; only safetensors "
            "are loaded (pickled weights can run code); convert it or get the safetensors version"
        )
    try:
        return load_file(str(choice.path), device="cpu")
    except (SafetensorError, OSError) as exc:
        raise EngineError(
            f"LoRA '{choice.name}' file {choice.path} cannot be read ({exc}); download or copy it again"
        ) from exc
