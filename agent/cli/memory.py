"""`sceneshop memory …`: list, search, show, rename, delete, export and import remembered recipes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import click

from sceneshop.agent.cli.group import say
from sceneshop.agent.cli.listing import cut, table, user_options, when

# sceneshop.agent.memory.memory (ChromaDB, the embedding model) is imported inside the commands, so that
# `sceneshop --help` and the other commands do not pay for it.

RATINGS = ("saved", "liked", "disliked")


def _open(user: str | None, data_dir: Path | None):
    from sceneshop.agent.memory.memory import RecipeMemory, check_user
    from sceneshop.agent.settings import get_settings

    settings = get_settings()
    user = check_user(user or settings.user)
    return user, RecipeMemory(data_dir or settings.data_dir)


def _entry_row(entry) -> list[str]:
    scene = ""
    try:
        scene = entry.recipe.scene.preset
    except Exception:  # an unreadable old recipe still gets listed, so it can be deleted
        scene = "(unreadable)"
    return [
        entry.id, cut(entry.name or "", 24), entry.rating, entry.category, scene,
        when(entry.updated), cut(entry.request, 48),
    ]


ENTRY_HEADERS = ["id", "name", "rating", "category", "scene", "updated", "request"]


@click.group()
def memory():
    """Your remembered recipes: what worked, reusable with "like last time" or by name."""


@memory.command("list")
@user_options('memory')
@click.option("--category", help="Only this product category (e.g. apparel).")
@click.option("--rating", type=click.Choice(RATINGS), help="Only this rating.")
def list_(user, data_dir, category, rating):
    """List your recipes, most recent first."""
    user, mem = _open(user, data_dir)
    with mem:
        entries = mem.list(user, category=category, rating=rating)
    if not entries:
        say(f"no recipes remembered for {user}")
        return
    say(table(ENTRY_HEADERS, [_entry_row(e) for e in entries]))


@memory.command()
@user_options('memory')
@click.argument("text")
@click.option("-k", "k", type=click.IntRange(1, 100), default=5, show_default=True, help="How many.")
@click.option("--category", help="Only this product category.")
@click.option("--rating", type=click.Choice(RATINGS), help="Only this rating.")
def search(user, data_dir, text, k, category, rating):
    """Find your recipes whose requests mean something like TEXT."""
    user, mem = _open(user, data_dir)
    with mem:
        hits = mem.search(user, text, k=k, category=category, rating=rating)
    if not hits:
        say(f"no recipes remembered for {user}")
        return
    rows = [[f"{sim:.2f}", *_entry_row(e)] for e, sim in hits]
    say(table(["match", *ENTRY_HEADERS], rows))


@memory.command()
@user_options('memory')
@click.argument("entry_id")
def show(user, data_dir, entry_id):
    """Show one recipe in full (its JSON can be passed back with --recipe)."""
    user, mem = _open(user, data_dir)
    with mem:
        entry = mem.get(user, entry_id)
    fields = [
        ("id", entry.id), ("name", entry.name or "-"), ("rating", entry.rating),
        ("category", entry.category), ("request", entry.request), ("tags", ", ".join(entry.tags) or "-"),
        ("created", when(entry.created)), ("updated", when(entry.updated)),
        ("thumbnail", str(entry.thumbnail) if entry.thumbnail else "-"),
    ]
    for key, value in fields:
        say(f"{key + ':':11}{value}")
    say("recipe:")
    try:
        body = entry.recipe.to_json()
    except Exception as exc:  # show what is stored, and why it cannot be used
        body = f"{entry.recipe_json}\n(cannot be used: {exc})"
    say(textwrap.indent(body, "  "))


@memory.command()
@user_options('memory')
@click.argument("entry_id")
@click.argument("name", required=False)
@click.option("--clear", is_flag=True, help="Remove the name instead.")
def rename(user, data_dir, entry_id, name, clear):
    """Give a recipe a name (like "my sunset look") to ask for it by name."""
    from sceneshop.tools.errors import InputError

    if not clear and not (name or "").strip():
        raise InputError("give the new NAME, or --clear to remove the name")
    user, mem = _open(user, data_dir)
    with mem:
        entry = mem.rename(user, entry_id, None if clear else name)
    say(f"{entry.id} is now named '{entry.name}'" if entry.name else f"{entry.id} has no name now")


@memory.command()
@user_options('memory')
@click.argument("entry_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete(user, data_dir, entry_id, yes):
    """Forget one recipe (and its thumbnail)."""
    user, mem = _open(user, data_dir)
    with mem:
        entry = mem.get(user, entry_id)
        if not yes:
            click.confirm(f"delete {entry.id} ({entry.name or cut(entry.request, 40)})?", abort=True)
        mem.delete(user, entry_id)
    say(f"deleted {entry.id}")


@memory.command("export")
@user_options('memory')
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def export_(user, data_dir, path):
    """Write your recipes (with thumbnails) to a JSON file."""
    user, mem = _open(user, data_dir)
    with mem:
        count = mem.export(user, path)
    say(f"exported {count} recipe{'s' if count != 1 else ''} to {path}")


@memory.command("import")
@user_options('memory')
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def import_(user, data_dir, path):
    """Add the recipes of an export file to your memory (they become yours, with new ids)."""
    user, mem = _open(user, data_dir)
    with mem:
        count = mem.import_(user, path)
    say(f"imported {count} recipe{'s' if count != 1 else ''} from {path}")
