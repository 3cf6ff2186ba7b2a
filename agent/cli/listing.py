"""What the `memory` and `jobs` commands share: the --user/--data-dir options and a plain-text
table whose cells are safe to print (control characters stripped before measuring)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from sceneshop.tools.echo import printable


def user_options(what: str):
    """--user and --data-dir on a subcommand (defaults from settings: SCENESHOP_USER, _DATA_DIR);
    `what` names what the folder holds in the help text ("memory", "work store")."""

    def add(command):
        command = click.option(
            "--data-dir", type=click.Path(file_okay=False, path_type=Path),
            help=f"Where the {what} lives (default from settings: ~/.sceneshop).",
        )(command)
        user_help = "Whose (default from settings: SCENESHOP_USER, else 'local')."
        return click.option("--user", help=user_help)(command)

    return add


def when(timestamp: float | None, seconds: bool = False) -> str:
    if not timestamp:
        return "-"
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def cut(text: str, width: int) -> str:
    # Stripped before measuring, so an ESC in a request neither reaches the terminal nor shifts columns.
    text = " ".join(printable(str(text)).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)
