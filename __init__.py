"""Sceneshop: a chat-driven product-photo studio. The repository root is this package (see
pyproject.toml): agent/ understands, tools/ does, prompts/ holds the data, app.py is the studio."""
