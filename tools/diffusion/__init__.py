"""The diffusers engine: pipelines loaded offline, LoRAs stacked by adapter name."""

from sceneshop.tools.diffusion.engine import DiffusionEngine

__all__ = ["DiffusionEngine"]
