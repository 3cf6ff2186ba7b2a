"""The `sceneshop` command: a thin click layer over the Studio API."""

from sceneshop.agent.cli.group import main

__all__ = ["main"]
