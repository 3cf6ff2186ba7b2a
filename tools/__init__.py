"""Doing: image I/O, segmentation, compositing, renderers and the diffusion engine.

tools/ never imports agent/: the recipe reaches it as an object with the documented fields.
"""
