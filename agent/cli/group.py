"""The `sceneshop` command line: a thin click layer over sceneshop.agent.studio.Studio."""

from __future__ import annotations

import errno
import io
import os
import socket
import sys
from pathlib import Path

import click

from sceneshop.tools.echo import capped, printable
from sceneshop.tools.errors import InputError, SceneshopError

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def say(text, *, err: bool = False, nl: bool = True) -> None:
    """click.echo for every line the CLI prints: requests, recipes, notes and error messages carry
    words from users, language models and imported files, so control characters (ESC, BEL, ...)
    are stripped before they reach the terminal."""
    click.echo(printable(text), err=err, nl=nl)


def _studio():
    from sceneshop.agent.studio import Studio

    studio = Studio.from_settings()
    if studio.memory_note:
        say(f"note: {studio.memory_note}", err=True)
    return studio


def _load_photo(path: str | None):
    if path is None:
        return None
    from sceneshop.agent.settings import get_settings
    from sceneshop.tools.imageio import load_image

    return load_image(path, **get_settings().upload_limits)


def _load_mask(path: str | None, image):
    if path is None:
        return None
    from sceneshop.tools.imageio import load_mask

    if image is None:
        raise InputError("--mask needs --image: a mask belongs to a product photo")
    return load_mask(path, image.size)


def _load_recipe(path: str | None):
    if path is None:
        return None
    from sceneshop.agent.recipe import Recipe

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"recipe file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"recipe file {path} cannot be read ({exc}); pass a recipe JSON file") from None
    return Recipe.from_json(text)


def _output_paths(out: str, count: int) -> list[str]:
    if count == 1:
        return [out]
    stem, suffix = os.path.splitext(out)
    return [out] + [f"{stem}-{i}{suffix or '.png'}" for i in range(2, count + 1)]


def _save_images(images, out: str, recipe, checks=()) -> list[str]:
    """Writes the pictures with their recipe inside; a marketplace check's verdict goes into the
    PNG too, so a picture that failed stays marked wherever it is copied."""
    from sceneshop.tools.imageio import save_png

    paths = _output_paths(out, len(images))
    verdicts = [str(c) for c in checks] or [None] * len(images)
    for image, path, verdict in zip(images, paths, verdicts, strict=True):
        metadata = {"sceneshop:recipe": recipe.to_json()}
        if verdict:
            metadata["sceneshop:check"] = verdict
        save_png(image, path, metadata=metadata)
    return paths


def _progress():
    if not sys.stderr.isatty():
        return None

    def report(step: int, total: int) -> None:
        filled = int(30 * step / max(total, 1))
        # Our own text, not say(): its "\r" redraws the bar in place.
        click.echo(f"\r[{'#' * filled}{'.' * (30 - filled)}] {step}/{total}", err=True, nl=step >= total)

    return report


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main_group():
    """Sceneshop: describe a scene, keep your product pixel-exact."""


@main_group.command()
@click.argument("request")
@click.option("--image", type=click.Path(), help="Product photo (its size sets the canvas).")
@click.option("--parent", type=click.Path(), help="Previous recipe JSON: the request is feedback on it.")
@click.option("--json", "as_json", is_flag=True, help="Print the recipe as JSON.")
def plan(request, image, parent, as_json):
    """Turn REQUEST into a recipe (no picture is made)."""
    photo = _load_photo(image)
    recipe = _studio().plan(request, _load_recipe(parent), image_size=photo.size if photo else None)
    if as_json:
        say(recipe.to_json())
        return
    say(
        f"scene: {recipe.scene.preset}  time: {recipe.time_of_day}  lighting: "
        f"{recipe.lighting.preset} {recipe.lighting.kelvin}K  size: {recipe.width}x{recipe.height}"
    )
    say(f"prompt: {recipe.prompt}")
    for note in recipe.notes:
        say(f"- {note}")


@main_group.command()
@click.argument("request")
@click.option("--image", type=click.Path(), help="Product photo (omit for a picture without a product).")
@click.option("--mask", type=click.Path(), help="Product mask (white = product); overrides segmentation.")
@click.option("--parent", type=click.Path(), help="Previous recipe JSON: the request is feedback on it.")
@click.option("-o", "--out", required=True, type=click.Path(), help="Output PNG path.")
@click.option("--recipe-out", type=click.Path(), help="Also write the recipe JSON here.")
def generate(request, image, mask, parent, out, recipe_out):
    """Plan REQUEST and make the picture."""
    photo = _load_photo(image)
    result = _studio().generate(
        request, photo, mask=_load_mask(mask, photo), parent=_load_recipe(parent), progress=_progress()
    )
    paths = _save_images(result.images, out, result.recipe, result.checks)
    if recipe_out:
        from sceneshop.tools.imageio import write_atomic

        write_atomic(recipe_out, result.recipe.to_json().encode("utf-8"))
    for note in result.notes:
        say(f"- {note}", err=True)
    for path, verdict in zip(paths, result.checks, strict=False):
        say(f"{path}: {verdict}", err=True)
    say("\n".join(paths))


@main_group.command()
@click.argument("recipe_json", type=click.Path())
@click.option("--image", type=click.Path(), help="The product photo the recipe was made for.")
@click.option("--mask", type=click.Path(), help="Product mask, if one was given when generating.")
@click.option("-o", "--out", required=True, type=click.Path(), help="Output PNG path.")
def render(recipe_json, image, mask, out):
    """Render a saved recipe again: the same recipe and photo give the same picture."""
    recipe = _load_recipe(recipe_json)
    photo = _load_photo(image)
    studio = _studio()
    images = studio.render(recipe, photo, _load_mask(mask, photo), progress=_progress())
    checks = studio.check(recipe, images)
    paths = _save_images(images, out, recipe, checks)
    for path, verdict in zip(paths, checks, strict=False):
        say(f"{path}: {verdict}", err=True)
    say("\n".join(paths))


@main_group.command()
@click.argument("image", type=click.Path())
@click.option("-o", "--out", required=True, type=click.Path(), help="Output mask PNG (white = product).")
@click.option("--box", help="Hint: LEFT,TOP,RIGHT,BOTTOM around the product, in pixels.")
@click.option(
    "--point",
    "points",
    multiple=True,
    help="Hint (repeatable): X,Y,+ keeps the region at that pixel as product; X,Y,- removes it.",
)
def segment(image, out, box, points):
    """Cut the product out of IMAGE and write its mask."""
    from sceneshop.tools.imageio import save_png
    from sceneshop.tools.segment import describe
    from sceneshop.tools.segment import segment as segment_image

    hint = None
    if box:
        try:
            hint = tuple(int(v) for v in box.split(","))
        except ValueError:
            hint = ()
        if len(hint) != 4:
            raise InputError(f"--box {capped(box)} must be four integers LEFT,TOP,RIGHT,BOTTOM")
    mask = segment_image(_load_photo(image), box=hint, points=[_point(p) for p in points])
    save_png(mask, out)
    say(describe(mask), err=True)
    say(out)


def _point(text: str) -> tuple[int, int, bool]:
    """ "120,80,+" -> (120, 80, True): a --point hint."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 3 and parts[2] in ("+", "-"):
        try:
            return int(parts[0]), int(parts[1]), parts[2] == "+"
        except ValueError:
            pass
    raise InputError(f"--point {capped(text)} must be X,Y,+ (product) or X,Y,- (remove), e.g. 120,80,-")


@main_group.command()
@click.argument("image", type=click.Path())
@click.option("-m", "--marketplace", required=True, help="Marketplace preset, e.g. amazon_main.")
def check(image, marketplace):
    """Check IMAGE on its pixels against a marketplace preset; exit 1 when it fails."""
    from sceneshop.tools.catalog import load_catalog
    from sceneshop.tools.marketplace_check import check_marketplace

    markets = load_catalog().marketplaces
    if marketplace not in markets:
        raise InputError(f"marketplace '{marketplace}' is unknown; known: {', '.join(markets)}")
    result = check_marketplace(_load_photo(image), markets[marketplace])
    click.echo(str(result))
    if not result.passed:
        raise click.exceptions.Exit(1)


@main_group.command()
@click.option("--host", help="Address to bind (default from settings: 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 7860).")
def serve(host, port):
    """Start the Gradio studio."""
    from sceneshop import app
    from sceneshop.agent.settings import get_settings

    settings = get_settings()
    where = (host or settings.host, port or settings.port)
    # Checked first so a busy port costs no app build; a server that takes the port between this
    # check and the launch (a race) still ends below as the same one line.
    _check_port(*where)
    try:
        app.main(host=host, port=port)
    except OSError:  # Gradio's "Cannot find empty port" carries no errno: look at the port again
        _check_port(*where)
        raise


def _check_port(host: str, port: int) -> None:
    """InputError naming the address, the port and the settings when the studio cannot listen there."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # As the server does: a port left in TIME_WAIT by an earlier run is free to use.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(
                    f"port {port} on {host} is already in use (another `sceneshop serve`?); stop that "
                    "server or choose another port with --port or SCENESHOP_PORT"
                ) from None
            if exc.errno in (errno.EACCES, errno.EPERM):
                raise InputError(
                    f"no permission to listen on port {port} (ports below 1024 need root); choose "
                    "another with --port or SCENESHOP_PORT"
                ) from None
            raise InputError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}); check --host / SCENESHOP_HOST "
                "and --port / SCENESHOP_PORT"
            ) from None


def _register_optional_commands() -> None:
    # Commands that live in their own modules; each is a click command or group.
    from sceneshop.agent.cli.batch import batch
    from sceneshop.agent.cli.chat import chat
    from sceneshop.agent.cli.jobs import cleanup, jobs
    from sceneshop.agent.cli.memory import memory

    main_group.add_command(chat)
    main_group.add_command(memory)
    main_group.add_command(batch)
    main_group.add_command(jobs)
    main_group.add_command(cleanup)


def main(argv: list[str] | None = None) -> int:
    """Entry point: domain errors become one line on stderr and exit code 2, never a traceback."""
    _register_optional_commands()
    try:
        # Without standalone mode click returns a command's exit code: ctx.exit(n) in `check` (1 =
        # failed) and `batch` (3 = some rows not done) comes back here.
        code = main_group.main(args=argv, prog_name="sceneshop", standalone_mode=False)
    except click.exceptions.Abort:
        say("aborted", err=True)
        return 1
    except click.ClickException as exc:
        shown = io.StringIO()  # click repeats the bad value: printed through say() like the rest
        exc.show(file=shown)
        say(shown.getvalue(), err=True, nl=False)
        return 2
    except SceneshopError as exc:
        say(f"error: {exc}", err=True)
        return 2
    except KeyboardInterrupt:
        say("interrupted", err=True)
        return 130
    return code if isinstance(code, int) else 0

