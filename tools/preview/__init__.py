"""The embedded preview renderer: draws the recipe's scene offline and composites the product."""

from sceneshop.tools.preview.renderer import EmbeddedRenderer

__all__ = ["EmbeddedRenderer"]
