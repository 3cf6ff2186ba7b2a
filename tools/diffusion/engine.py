"""Renders recipes with diffusers: load once, prepare canvas and mask, denoise, put the product back.

Reading order, like a diffusers pipeline: `DiffusionEngine.__init__` loads (or reuses) the
pipelines; `render` checks the photo and mask (`check_inputs`, shared with the preview renderer),
then `_prepare` validates the recipe against the model and builds the canvas and the mask,
`_denoise` runs the pipeline, `_finish` upscales and composites the product back.

Decisions worth knowing:
- Models load offline only (`local_files_only=True`): a hub id must already be in the Hugging Face
  cache. A chat turn never starts a multi-gigabyte download.
- Pipelines are cached per (model, device, dtype) in this module and shared by all engines; the
  img2img and inpainting pipelines are `from_pipe` views over the same weights. `LOADS` counts
  real loads so tests can see that nothing was loaded twice.
- replace_background and inpaint paint only outside the kept region (the product mask, or the
  inverse of the user's repaint mask), then `composite_product` puts the kept pixels back bit-exact.
- Outpainting: when the output size (recipe size or marketplace preset) differs from the photo,
  the product is placed on the new canvas and everything around it is painted by the same
  inverted-mask inpainting. In replace_background it is staged exactly as the preview renderer
  stages it (sceneshop.tools.preview.staging.stage_product: the framing_fill scale, its lowest row
  on the scene preset's surface line, room left for the text layer), so a recipe frames the product
  alike in both engines and a switch of engine does not move it. The shadows, though, are the
  image model's: the repaint mask covers the floor around the product, so the model paints the
  contact and cast shadows with the floor it invents (strength 1.0 starts from noise, so a shadow
  drawn into the start image would not survive, and one drawn over the result would be a second
  shadow fighting the model's own light). inpaint and dress_model keep the photo's framing.
- restyle is img2img over the whole frame (recipe.strength); a new aspect ratio is cropped around
  the product, not padded, and the product is composited back afterwards.
- Models have a native size (SD 1.5: 512 px, SDXL: 1024 px). Larger outputs are generated at the
  native area with the output's aspect ratio (sides multiples of 8), the *background* is upscaled
  with Lanczos, and the product is composited at full resolution, so it stays sharp and exact.
- A marketplace preset with a fixed background colour (amazon_main: pure white) replaces the scene
  in replace_background: the product is composited on that colour and nothing is generated.
- One render at a time per set of weights (a lock): adapters and scheduler are model-wide state.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from sceneshop.tools.catalog import Marketplace, load_catalog
from sceneshop.tools.composite import composite_product, framing_fill, mask_box, place_product
from sceneshop.tools.diffusion.dress import dress_layers
from sceneshop.tools.diffusion.loras import FAMILY_LABELS, LoraAdapter, check_families, resolve_lora
from sceneshop.tools.diffusion.weights import (
    LOADS,
    SCHEDULERS,
    Weights,
    check,
    load_weights,
    pick_device,
    pick_dtype,
)
from sceneshop.tools.errors import Cancelled, EngineError
from sceneshop.tools.inputs import check_inputs
from sceneshop.tools.preview.staging import stage_product, staging_scene
from sceneshop.tools.wording import add_triggers


def generation_size(width: int, height: int, native: int) -> tuple[int, int]:
    """The size to denoise at: the output size when it fits the model's native area, else the
    native area with the output's aspect ratio; both sides multiples of 8."""
    if width * height > native * native:
        scale = math.sqrt(native * native / (width * height))
        width, height = round(width * scale / 8) * 8, round(height * scale / 8) * 8
    return max(8, width - width % 8), max(8, height - height % 8)


@dataclass
class _Job:
    """Everything a render needs, checked before any denoising starts."""

    weights: Weights
    task: str  # text_to_image | restyle | inpaint (the pipeline to run)
    size: tuple[int, int]  # output size
    gen_size: tuple[int, int]  # denoising size (multiple of 8, at most the native area)
    loras: list[LoraAdapter]
    prompt: str
    strength: float | None = None
    init: Image.Image | None = None  # output-size canvas to start from
    repaint: Image.Image | None = None  # output-size mask, 255 = paint here
    product: Image.Image | None = None  # output-size product layer to composite back
    product_mask: Image.Image | None = None
    fixed_background: str | None = None  # marketplace colour: no generation


class DiffusionEngine:
    """The diffusers engine behind the Engine interface (name, reason, render)."""

    draws_people = True  # dress_model paints a person around the kept garment

    def __init__(self, model: str, inpaint_model: str | None = None, lora_dir: str | Path | None = None,
                 device: str | None = None, dtype=None, fuse_loras: bool = False):
        if not model:
            raise EngineError(check(model))
        self.model = str(model)
        self.inpaint_model = str(inpaint_model) if inpaint_model else None
        self.lora_dir = Path(lora_dir).expanduser() if lora_dir else None
        self.device = pick_device(device)
        self.dtype = pick_dtype(self.device, dtype)
        self.fuse_loras = fuse_loras
        self.base = load_weights(self.model, self.device, self.dtype)
        self.inpainter = self.base
        if self.inpaint_model:
            self.inpainter = load_weights(self.inpaint_model, self.device, self.dtype, task="inpaint")
            if self.inpainter.family != self.base.family:
                raise EngineError(
                    f"inpaint model '{self.inpaint_model}' is {FAMILY_LABELS[self.inpainter.family]} but "
                    f"model '{self.model}' is {FAMILY_LABELS[self.base.family]}; LoRAs and recipes need "
                    "one family: set SCENESHOP_INPAINT_MODEL to a model of the same family or unset it"
                )
        self.family = self.base.family
        label = FAMILY_LABELS[self.family]
        self.name = f"diffusion engine ({label}, {Path(self.model).name or self.model})"
        self.reason = (f"diffusion model '{self.model}' loaded offline on {self.device} "
                       f"({str(self.dtype).removeprefix('torch.')})")

    @property
    def loads(self) -> int:
        """How many times this engine's model weights were read from disk in this process."""
        return LOADS[self.model] + (LOADS[self.inpaint_model] if self.inpaint_model else 0)

    # -- render ------------------------------------------------------------------------------

    def render(self, recipe, image: Image.Image | None, mask: Image.Image | None, *,
               progress=None, cancel: threading.Event | None = None) -> list[Image.Image]:
        """recipe.output.count images of the output size; the product pixels kept exactly."""
        image, mask = check_inputs(recipe, image, mask)
        job = self._prepare(recipe, image, mask)
        count = recipe.output.count
        if cancel is not None and cancel.is_set():
            raise Cancelled("generation cancelled before it started")
        if job.fixed_background is not None:
            background = Image.new("RGB", job.size, job.fixed_background)
            if progress:
                progress(1, 1)
            return [composite_product(background, job.product, job.product_mask) for _ in range(count)]
        with job.weights.lock:
            job.weights.loras.activate(job.loras, fuse=self.fuse_loras)
            backgrounds = self._denoise(job, recipe, progress, cancel)
        return [self._finish(job, bg) for bg in backgrounds]

    def product_mask(self, recipe, image, mask) -> Image.Image | None:
        """Where the product lies in the rendered picture (L, 255 = product), for the steps after
        the engine (text layer, harmonizing); None in text_to_image."""
        return self._prepare(recipe, image, mask).product_mask

    def _prepare(self, recipe, image, mask) -> _Job:
        mode = recipe.mode
        if recipe.scheduler not in SCHEDULERS and recipe.scheduler != "default":
            raise EngineError(f"scheduler '{recipe.scheduler}' is not one of default, "
                              f"{', '.join(SCHEDULERS)}; use one of those")
        catalog = load_catalog()
        market = catalog.marketplace(recipe.output.preset) if recipe.output.preset else None
        size = (market.width, market.height) if market else (recipe.width, recipe.height)
        task = "inpaint" if mode in ("replace_background", "inpaint", "dress_model") else mode
        weights = self.inpainter if task == "inpaint" else self.base
        # The recipe contract: weights are clamped into the catalog's range (the studio's
        # check_against_catalog already did, and noted it for the reply).
        entries = [catalog.lora(c.name) for c in recipe.loras]
        check_families(entries, self.family, self.model)
        picked = [(entry, entry.clamp(c.weight)) for entry, c in zip(entries, recipe.loras, strict=True)]
        loras = [LoraAdapter(entry, resolve_lora(entry, self.lora_dir), w) for entry, w in picked]
        job = _Job(weights, task, size, generation_size(*size, weights.native), loras,
                   add_triggers(recipe.prompt, picked))
        if mode == "text_to_image":
            return job
        if mode == "restyle":
            self._prepare_restyle(job, recipe, image, mask)
        elif mode == "dress_model":  # tools/diffusion/dress.py: the garment kept, the person painted
            job.product, job.product_mask, job.repaint = dress_layers(image, mask, job.size)
            job.init, job.strength = job.product, 1.0
        else:
            self._prepare_inpaint(job, recipe, image, mask, market, catalog)
        if int(recipe.steps * job.strength) < 1:
            raise EngineError(f"strength {job.strength} with {recipe.steps} steps leaves no denoising "
                              "step; raise strength or steps")
        return job

    def _prepare_restyle(self, job: _Job, recipe, image, mask) -> None:
        # img2img repaints the whole frame; a new aspect ratio is cropped around the product rather
        # than padded, since img2img cannot invent the padding. The product is put back afterwards,
        # so only the scene's look changes.
        box = mask_box(mask)
        centre = ((box[0] + box[2]) / 2 / image.width, (box[1] + box[3]) / 2 / image.height)
        job.product_mask = ImageOps.fit(mask.convert("L"), job.size, Image.Resampling.LANCZOS,
                                        centering=centre)
        job.init = ImageOps.fit(image.convert("RGB"), job.size, Image.Resampling.LANCZOS, centering=centre)
        job.product = job.init
        job.strength = recipe.strength

    def _prepare_inpaint(self, job: _Job, recipe, image, mask, market: Marketplace | None,
                         catalog) -> None:
        if recipe.mode == "replace_background":
            fill = framing_fill(recipe, market, image.size, job.size)
            # The background is generated from scratch: nothing of the old one should leak in.
            job.strength = 1.0
            # Staged like the preview (see the module's docstring); a fixed-colour marketplace keeps
            # the product centred, as the preview does.
            stand = not (market and market.background)
            placement = stage_product(recipe, catalog, staging_scene(recipe, catalog), image,
                                      mask.convert("L"), *job.size, fill, stand=stand)
        else:  # inpaint: the mask is the area to repaint, so the rest of the photo is kept
            keep = ImageOps.invert(mask.convert("L"))
            job.strength = recipe.strength
            # The photo's own framing (fill None); a new aspect ratio is outpainted around it.
            placement = place_product(image, keep, *job.size, None)
        job.product, job.product_mask = placement.product, placement.mask
        job.init = placement.product
        job.repaint = ImageOps.invert(placement.mask)
        if recipe.mode == "replace_background" and market and market.background:
            job.fixed_background = market.background

    def _denoise(self, job: _Job, recipe, progress, cancel) -> list[Image.Image]:
        import torch

        if cancel is not None and cancel.is_set():  # set while waiting for the lock
            raise Cancelled("generation cancelled before it started")
        weights = job.weights
        pipe = weights.pipes[job.task]
        pipe.scheduler = weights.scheduler(recipe.scheduler)
        count = recipe.output.count
        gen_device = "cpu" if weights.device == "mps" else weights.device
        generators = [torch.Generator(gen_device).manual_seed(recipe.seed + i) for i in range(count)]
        gw, gh = job.gen_size
        kwargs = dict(
            prompt=job.prompt, negative_prompt=recipe.negative_prompt or None,
            num_inference_steps=recipe.steps, guidance_scale=recipe.guidance,
            num_images_per_prompt=count, generator=generators,
        )
        if job.task == "text_to_image":
            kwargs.update(width=gw, height=gh)
        else:
            kwargs.update(image=job.init.resize((gw, gh), Image.Resampling.LANCZOS), strength=job.strength)
        if job.task == "inpaint":
            repaint = job.repaint.resize((gw, gh), Image.Resampling.BILINEAR)
            kwargs.update(mask_image=repaint, width=gw, height=gh)

        if progress is not None or cancel is not None:
            kwargs["callback_on_step_end"] = step_callback(progress, cancel)
        try:
            images = pipe(**kwargs).images
        except torch.OutOfMemoryError as exc:
            raise EngineError(f"out of {weights.device} memory at {gw}x{gh} x {count}; lower the size "
                              "or the image count") from exc
        if cancel is not None and cancel.is_set():
            raise Cancelled("generation cancelled")
        return images

    def _finish(self, job: _Job, image: Image.Image) -> Image.Image:
        if image.size != job.size:
            image = image.resize(job.size, Image.Resampling.LANCZOS)
        if job.product is None:
            return image
        return composite_product(image, job.product, job.product_mask)


def step_callback(progress, cancel: threading.Event | None):
    """diffusers' `callback_on_step_end`: reports progress(step + 1, total) and stops on cancel.
    `pipeline.num_timesteps` is the number of steps really run (fewer when strength < 1)."""

    def on_step_end(pipeline, step, timestep, tensors):
        if progress is not None:
            progress(step + 1, pipeline.num_timesteps)
        if cancel is not None and cancel.is_set():
            pipeline._interrupt = True  # diffusers skips the remaining steps; render raises Cancelled
        return tensors

    return on_step_end

