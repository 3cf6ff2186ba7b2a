"""A conversation about one product: the chain of recipe versions and their pictures, and the chat
commands (undo, go back, compare, start over, clarify) handled the same way with either planner."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from PIL import Image

from sceneshop.agent.commands import Message, read_message
from sceneshop.agent.llm.toolbox import summarize
from sceneshop.agent.planning import Conversation
from sceneshop.agent.recipe import Recipe
from sceneshop.tools.errors import Cancelled, SceneshopError

Kind = Literal["result", "clarify", "info", "error"]


@dataclass
class Turn:
    """The studio's answer to one chat message."""

    reply: str
    recipe: Recipe | None = None
    images: list[Image.Image] = field(default_factory=list)
    kind: Kind = "result"
    version: int | None = None  # the version shown, numbered from 1 in this session


@dataclass
class Version:
    number: int
    recipe: Recipe
    images: list[Image.Image]


class Session:
    """One merchant's chat with the studio: `send(text)` answers each message with a Turn."""

    def __init__(self, studio, user: str = "local"):
        self.studio = studio
        self.user = user
        self.image: Image.Image | None = None
        self.versions: list[Version] = []  # every version made, in order
        self.current: Version | None = None  # the version the next message is feedback on
        self._given_mask: Image.Image | None = None
        self._product_mask: Image.Image | None = None  # segmented once, on first need
        self._offered_colour: str | None = None  # the background colour a clarifying question offered

    @property
    def recipe(self) -> Recipe | None:
        return self.current.recipe if self.current else None

    def set_product(self, image: Image.Image | None, mask: Image.Image | None = None) -> None:
        """The product photo (None: pictures from text alone) and, optionally, its mask (white =
        product; in inpaint mode, the area to repaint). Without a mask the product is segmented
        once, when a picture first needs it."""
        self.image = image
        self._given_mask = mask
        self._product_mask = None

    @property
    def mask(self) -> Image.Image | None:
        """The product mask: the one given, else the segmented one."""
        if self._given_mask is not None or self.image is None:
            return self._given_mask
        if self._product_mask is None:
            self._product_mask = self.studio.segment(self.image)
        return self._product_mask

    def add_version(self, recipe: Recipe, *, progress=None, cancel=None, said: tuple[str, ...] = ()) -> Turn:
        """Renders `recipe` with the product and makes it the newest, current version."""
        if recipe.mode == "inpaint":  # the mask is the area to repaint: never a guessed product mask
            mask = self._given_mask
        else:
            mask = self.mask if recipe.mode != "text_to_image" else None
        images = self.studio.render(recipe, self.image, mask, progress=progress, cancel=cancel)
        version = Version(len(self.versions) + 1, recipe, images)
        self.versions.append(version)
        self.current = version
        lines = [line for line in said if line]
        lines.append(f"Version {version.number}: {summarize(recipe)}.")
        lines += [f"- {note}" for note in recipe.notes]
        return Turn("\n".join(lines), recipe, images, "result", version.number)

    def send(self, text: str, *, progress=None, cancel=None) -> Turn:
        """Answers one message; domain errors become an "error" turn and the session stays usable."""
        text = " ".join(text.split())
        if not text:
            return Turn('Tell me what you\'d like to see, e.g. "on a beach at sunset".', kind="info")
        return self._guarded(lambda: self._answer(text, progress, cancel))

    def render(self, recipe: Recipe, *, progress=None, cancel=None) -> Turn:
        """`add_version` for a recipe made outside the chat (inspector edits, a saved look), with
        errors answered as in `send`."""
        return self._guarded(lambda: self.add_version(recipe, progress=progress, cancel=cancel))

    def _guarded(self, work) -> Turn:
        """Runs one piece of work; a cancel or a domain error becomes an "error" turn, so the
        session stays usable and the previous picture stays current."""
        try:
            return work()
        except Cancelled:
            reply = "Cancelled; the previous picture is still the current one."
            return Turn(reply, self.recipe, kind="error")
        except SceneshopError as exc:
            return Turn(str(exc), self.recipe, kind="error")

    # ------------------------------------------------------------------------------ commands

    def undo(self) -> Turn:
        """Back to the current version's parent and its picture."""
        if self.current is None:
            return Turn("There is nothing to undo yet.", kind="info")
        parent = self._version_of(self.current.recipe.parent_id)
        if parent is None:
            return Turn(
                f"Version {self.current.number} is the first of this chain; there is nothing before it.",
                self.recipe,
                kind="info",
                version=self.current.number,
            )
        return self._show(parent, "Undone. Back to")

    def go_back(self, number: int) -> Turn:
        if not 1 <= number <= len(self.versions):
            have = f"versions 1–{len(self.versions)}" if self.versions else "no versions"
            return Turn(f"There is no version {number}; so far there are {have}.", self.recipe, kind="info")
        return self._show(self.versions[number - 1], "Back to")

    def compare(self, a: int | None = None, b: int | None = None) -> Turn:
        """The fields that differ between two versions (default: the last two made), and both pictures."""
        if a is None or b is None:
            if len(self.versions) < 2:
                reply = "There is only one version so far; make another to compare."
                return Turn(reply, self.recipe, kind="info")
            a, b = self.versions[-2].number, self.versions[-1].number
        missing = [n for n in (a, b) if not 1 <= n <= len(self.versions)]
        if missing:
            reply = f"There is no version {missing[0]}; so far there are {len(self.versions)}."
            return Turn(reply, self.recipe, kind="info")
        va, vb = self.versions[a - 1], self.versions[b - 1]
        changes = recipe_differences(va.recipe, vb.recipe)
        if changes:
            reply = f"Version {a} → version {b}:\n" + "\n".join(f"- {c}" for c in changes)
        else:
            reply = f"Versions {a} and {b} have the same recipe."
        images = [v.images[0] for v in (va, vb) if v.images]
        return Turn(reply, None, images, kind="info")

    def start_over(self) -> None:
        """A fresh chain for the same product; earlier versions stay reachable by number."""
        self.current = None

    # ------------------------------------------------------------------------------- routing

    def _answer(self, text: str, progress, cancel) -> Turn:
        offered, self._offered_colour = self._offered_colour, None
        message = read_message(text, question_open=offered is not None)
        if message.kind == "yes":
            return self._make(read_message(f"{offered} background"), progress, cancel)
        if message.kind == "no":
            return Turn(
                "OK, nothing changed. The product is never repainted: its colour stays as photographed. "
                "To show it in another colour, upload a photo of that variant.",
                self.recipe,
                kind="info",
            )
        if message.kind == "go_back":
            return self.go_back(message.version)
        if message.kind == "undo":
            return self.undo()
        if message.kind == "compare":
            return self.compare(*message.versions)
        if message.kind == "start_over":
            self.start_over()
            if message.rest:
                return self._make(read_message(message.rest), progress, cancel)
            return Turn("Starting over with the same product. What scene would you like?", kind="info")
        if message.kind == "save":
            return self._save(message.name)  # "" = unnamed: memory labels it by its request
        colour = self._colour_needs_asking(message)
        if colour is not None:
            self._offered_colour = colour
            return Turn(
                f"Do you mean a {colour} background? The product itself is never repainted.",
                self.recipe,
                kind="clarify",
            )
        return self._make(message, progress, cancel)

    def _colour_needs_asking(self, message: Message) -> str | None:
        # Only where the product is kept pixel-exact does "make it green" have two readings.
        mode = self.recipe.mode if self.recipe else ("replace_background" if self.image else "text_to_image")
        if mode != "replace_background":
            return None
        return message.product_colour

    def _make(self, message: Message, progress, cancel) -> Turn:
        """Ask the studio's planner (either kind, one interface), render, and make the result the
        current version; a reply in words only changes nothing."""
        chat = Conversation(
            image_size=self.image.size if self.image is not None else None,
            user=self.user,
            memory=self.studio.memory,
            thumbnail=self._thumbnail(),
            history=tuple(self._history()),
        )
        reply = self.studio.respond(message, self.recipe, chat)
        if reply.recipe is None or not reply.render:
            words = " ".join([reply.text, *reply.said]).strip() or "OK."
            return Turn(words, self.recipe, kind="info", version=self._number())
        said = (reply.text, *reply.said)
        return self.add_version(reply.recipe, progress=progress, cancel=cancel, said=said)

    def _save(self, name: str) -> Turn:
        if self.studio.memory is None:
            reply = "Saving needs the recipe memory, which this studio runs without."
            return Turn(reply, self.recipe, kind="info")
        if self.current is None:
            return Turn("There is nothing to save yet; make a picture first.", kind="info")
        entry = self.studio.memory.save(self.user, self.recipe, "saved", name or None, (), self._thumbnail())
        return Turn(f"Saved as {entry.label}.", self.recipe, kind="info", version=self.current.number)

    def _show(self, version: Version, how: str) -> Turn:
        self.current = version
        reply = f"{how} version {version.number}: {summarize(version.recipe)}."
        return Turn(reply, version.recipe, list(version.images), "result", version.number)

    def _version_of(self, recipe_id: str | None) -> Version | None:
        return next((v for v in self.versions if v.recipe.id == recipe_id), None)

    def _number(self) -> int | None:
        return self.current.number if self.current else None

    def _thumbnail(self) -> Image.Image | None:
        return self.current.images[0] if self.current and self.current.images else None

    def _history(self, limit: int = 5) -> list[str]:
        """The requests that led to the current version, oldest first."""
        requests, version = [], self.current
        while version is not None and len(requests) < limit:
            requests.append(version.recipe.request)
            version = self._version_of(version.recipe.parent_id)
        return requests[::-1]


_IGNORED = {"id", "parent_id", "request", "notes", "prompt", "negative_prompt", "schema_version"}


def recipe_differences(a: Recipe, b: Recipe) -> list[str]:
    """ "lighting.kelvin: 3200 → 2500" for every field that differs (ids, request and prompt texts
    aside: the prompt follows from the fields)."""
    flat_a, flat_b = _flatten(a.model_dump(exclude=_IGNORED)), _flatten(b.model_dump(exclude=_IGNORED))
    keys = list(flat_a) + [k for k in flat_b if k not in flat_a]
    return [
        f"{key}: {_show_value(flat_a.get(key))} → {_show_value(flat_b.get(key))}"
        for key in keys
        if flat_a.get(key) != flat_b.get(key)
    ]


def _flatten(data: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _show_value(value) -> str:
    if isinstance(value, list):
        if value and isinstance(value[0], dict):  # LoRAs
            return ", ".join(f"{v.get('name')} {v.get('weight'):g}" for v in value)
        return ", ".join(str(v) for v in value) or "none"
    if value is None or value == "":
        return "none" if value is None else "(empty)"
    return str(value)
