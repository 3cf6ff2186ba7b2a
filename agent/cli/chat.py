"""`sceneshop chat`: the conversation in a terminal (or a pipe), one message per line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sceneshop.agent.cli.group import say
from sceneshop.tools.errors import InputError, SceneshopError
from sceneshop.tools.imageio import save_png

QUIT = {"quit", "exit", ":q", "bye"}


@click.command()
@click.option("--image", type=click.Path(), help="Product photo (omit for pictures from text alone).")
@click.option("--mask", type=click.Path(), help="Product mask (white = product); overrides segmentation.")
@click.option("--user", help="Whose saved recipes to use (default from settings, else 'local').")
@click.option(
    "--out",
    default="sceneshop-out",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for the pictures.",
)
def chat(image, mask, user, out):
    """Chat with the studio: each line is a request or feedback ("warmer", "undo", "compare the
    last two", "version 2", "start over"); every picture is saved to OUT and its path printed."""
    from sceneshop.agent.session import Session
    from sceneshop.agent.settings import get_settings
    from sceneshop.agent.studio import Studio

    if mask and not image:
        raise click.UsageError("--mask needs --image: a mask belongs to a product photo")
    settings = get_settings()
    studio = Studio.from_settings(settings)
    if studio.memory_note:
        say(f"note: {studio.memory_note}", err=True)
    session = Session(studio, user=user or getattr(settings, "user", None) or "local")
    if image:
        opened = session.open_product(image, mask)  # the same checks as an upload in the studio
        if opened.kind == "error":
            raise InputError(opened.reply)
    folder = Path(out)
    interactive = sys.stdin.isatty()
    say(studio.banner())
    if interactive:
        say('Type a request ("on a beach at sunset"), feedback, "undo", or "quit".')
    while True:
        if interactive:
            say("> ", nl=False)
        line = sys.stdin.readline()
        if not line:  # end of input: a pipe ran dry, or Ctrl-D
            break
        text = line.strip()
        if not text:
            continue
        if text.lower() in QUIT:
            break
        turn = session.send(text)
        say(turn.reply)
        _save_pictures(turn, folder)


def _save_pictures(turn, folder: Path) -> None:
    """A result's pictures as v<version>-<n>.png; a comparison's as compare-<k>-<n>.png."""

    if turn.kind == "result":
        names = [f"v{turn.version}-{i}.png" for i in range(1, len(turn.images) + 1)]
    else:
        k = len(list(folder.glob("compare-*-1.png"))) + 1 if folder.exists() else 1
        names = [f"compare-{k}-{i}.png" for i in range(1, len(turn.images) + 1)]
    metadata = {"sceneshop:recipe": turn.recipe.to_json()} if turn.recipe is not None else None
    for picture, name in zip(turn.images, names, strict=True):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = save_png(picture, folder / name, metadata=metadata)
        except (OSError, SceneshopError) as exc:
            say(f"error: cannot save the picture ({exc})", err=True)
            continue
        say(f"saved {path}")
