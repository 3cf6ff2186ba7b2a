"""Tiny random pipelines and LoRAs, to check the engine path offline: builds randomly initialised
SD1.5-style and SDXL-style pipelines and peft LoRAs on disk (like diffusers' testing utilities).

Nothing is downloaded: the tokenizer is written from a byte-level vocabulary made here, every model
is a one-block-per-level toy, and `save_pretrained` puts a real diffusers folder in `folder`, so the
engine goes through exactly the loading path a real model takes — on a machine without weights
(the tests, bench/engine.py, a check of a new GPU box). The pictures are noise; only the path is real.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from diffusers import (
    AutoencoderKL,
    DDIMScheduler,
    EulerDiscreteScheduler,
    StableDiffusionInpaintPipeline,
    StableDiffusionPipeline,
    StableDiffusionXLPipeline,
    UNet2DConditionModel,
)
from peft import LoraConfig
from peft.utils import get_peft_model_state_dict
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

HIDDEN = 32  # text-encoder width; the SD1.5 UNet's cross_attention_dim
LORA_TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]


def _bytes_to_unicode() -> dict[int, str]:
    # CLIP's byte-level BPE alphabet (the same table the real tokenizer uses).
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1)
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs), strict=True))


def write_tokenizer(folder: Path) -> CLIPTokenizer:
    """A CLIP tokenizer over single characters (no merges): every text tokenizes, nothing is fetched."""
    folder.mkdir(parents=True, exist_ok=True)
    chars = list(_bytes_to_unicode().values())
    vocab = {tok: i for i, tok in enumerate(chars + [c + "</w>" for c in chars])}
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    # model_max_length must be set: transformers 5 overflows on the "infinite" default (NOTES.md).
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77)


def _text_config(tokenizer: CLIPTokenizer, projection_dim: int | None = None) -> CLIPTextConfig:
    extra = {"projection_dim": projection_dim} if projection_dim else {}
    return CLIPTextConfig(
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, hidden_size=HIDDEN, intermediate_size=37,
        layer_norm_eps=1e-5, num_attention_heads=4, num_hidden_layers=2, vocab_size=len(tokenizer),
        max_position_embeddings=77, **extra,
    )


def _vae() -> AutoencoderKL:
    return AutoencoderKL(
        block_out_channels=(32, 64), in_channels=3, out_channels=3, latent_channels=4,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"), sample_size=64,
    )


def sd15_unet_config(in_channels: int = 4) -> dict:
    # sample_size 32 latents x VAE factor 2 = 64 px "native" size, like 64 x 8 = 512 for SD 1.5.
    return dict(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=32, in_channels=in_channels,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=HIDDEN,
        attention_head_dim=(2, 4), norm_num_groups=32,
    )


def sdxl_unet_config() -> dict:
    # Two text encoders of width 32 are concatenated (cross_attention_dim 64); the pooled projection
    # (32) plus six time ids of 8 feed the "text_time" embedding: 6 * 8 + 32 = 80.
    return dict(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=2 * HIDDEN,
        attention_head_dim=(2, 4), use_linear_projection=True, addition_embed_type="text_time",
        addition_time_embed_dim=8, transformer_layers_per_block=(1, 2),
        projection_class_embeddings_input_dim=6 * 8 + HIDDEN, norm_num_groups=32,
    )


def build_sd15(folder: Path, seed: int = 0, inpainting: bool = False) -> Path:
    """Saves a tiny SD1.5-style pipeline to `folder` and returns it; `inpainting=True` makes a
    dedicated inpainting model (UNet input: 4 latent + 1 mask + 4 masked-image channels)."""
    torch.manual_seed(seed)
    tokenizer = write_tokenizer(folder / "_tok")
    pipeline_cls = StableDiffusionInpaintPipeline if inpainting else StableDiffusionPipeline
    pipe = pipeline_cls(
        unet=UNet2DConditionModel(**sd15_unet_config(in_channels=9 if inpainting else 4)),
        vae=_vae(),
        text_encoder=CLIPTextModel(_text_config(tokenizer)),
        tokenizer=tokenizer,
        scheduler=DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                clip_sample=False, set_alpha_to_one=False, steps_offset=1),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )
    pipe.save_pretrained(folder)
    return folder


def build_sdxl(folder: Path, seed: int = 0) -> Path:
    """Saves a tiny SDXL-style pipeline (two text encoders, text_time embedding) to `folder`."""
    torch.manual_seed(seed)
    tokenizer = write_tokenizer(folder / "_tok")
    pipe = StableDiffusionXLPipeline(
        unet=UNet2DConditionModel(**sdxl_unet_config()),
        vae=_vae(),
        text_encoder=CLIPTextModel(_text_config(tokenizer)),
        text_encoder_2=CLIPTextModelWithProjection(_text_config(tokenizer, projection_dim=HIDDEN)),
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
        scheduler=EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                         timestep_spacing="leading", steps_offset=1),
    )
    pipe.save_pretrained(folder)
    return folder


def lora_state_dict(unet_config: dict, seed: int, targets=LORA_TARGETS, rank: int = 4) -> dict:
    """peft LoRA weights (non-zero, so they change the output) for a UNet of this config."""
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(**unet_config)
    unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, target_modules=list(targets),
                                init_lora_weights=False))
    return get_peft_model_state_dict(unet)


def save_lora(lora_dir: Path, name: str, family: str, seed: int, **kwargs) -> Path:
    """Writes `lora_dir/<name>.safetensors` in diffusers' LoRA format (keys prefixed `unet.`)."""
    lora_dir.mkdir(parents=True, exist_ok=True)
    config = sdxl_unet_config() if family == "sdxl" else sd15_unet_config()
    pipeline_cls = StableDiffusionXLPipeline if family == "sdxl" else StableDiffusionPipeline
    pipeline_cls.save_lora_weights(
        lora_dir, unet_lora_layers=lora_state_dict(config, seed, **kwargs),
        weight_name=f"{name}.safetensors",
    )
    return lora_dir / f"{name}.safetensors"
