"""A conversation about one product: the chain of recipe versions and their pictures, and every kind of
message (request, feedback, question, cut-out complaint, command, what no engine can do) answered the
same way with either planner. State stays simple to store: recipes (JSON), pictures, a few names."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from sceneshop.agent.commands import Message, read_message, request_message
from sceneshop.agent.llm.toolbox import LoraPick, edit_fields, look_changes
from sceneshop.agent.memory.entry import MemoryEntry
from sceneshop.agent.planner.feedback import coloured_thing, recoloured_name
from sceneshop.agent.planner.lexicon import normalise
from sceneshop.agent.planner.prompt import load_vocabulary
from sceneshop.agent.planning import Conversation
from sceneshop.agent.recipe import MAX_SEED, Recipe, Subject
from sceneshop.agent.references import pick
from sceneshop.agent.wording import (
    CUTOUT,
    CUTOUT_HOW,
    STRAIGHTENED,
    answer,
    brief,
    cannot,
    changes,
    describe,
    labels,
    look_name,
    recolour_question,
)
from sceneshop.tools.composite import framing_fill, mask_box, placement_scale
from sceneshop.tools.errors import Cancelled, InputError, RecipeError, SceneshopError
from sceneshop.tools.finish import NOT_STRAIGHTENED
from sceneshop.tools.imageio import load_image, load_mask
from sceneshop.tools.marketplace_check import CheckResult
from sceneshop.tools.segment import Box, Point, segment
from sceneshop.tools.segment import describe as describe_cutout

Kind = Literal["result", "clarify", "info", "error", "answer", "refuse", "cutout"]
# result: a picture is shown as the current version; clarify: a question back, maybe with choices;
# info: a command done in words; answer: a question or greeting answered; refuse: the active engine
# cannot do it (and says what it can); cutout: a complaint about the cut-out (the UI opens that step).

# Recipe fields that do not change what a picture shows.
# The limits of an engine that draws no people: the product on a person, a person beside it.
_PEOPLE = {"person", "person_in_scene"}
_NOT_SHOWN = {"id", "parent_id", "request", "notes", "prompt", "negative_prompt"}
# ...and, in the preview renderer, the styles it does not draw.
_NOT_DRAWN = _NOT_SHOWN | {"loras", "mode", "steps", "guidance", "strength", "scheduler"}


@dataclass
class Choice:
    """One answer a clarifying question offers: an earlier version, or a saved look."""

    label: str
    recipe: Recipe
    image: Image.Image | None = None  # its picture (a version's) or thumbnail (a saved look's)
    version: int | None = None  # a version of this chat
    look_id: str | None = None  # a saved look (its memory entry id)

# Above this enlargement the product's own pixels are visibly soft in the result (Lanczos upscaling
# of a photo shows blur from about 1.25x on product edges and print).
SOFT_SCALE = 1.25


@dataclass
class Turn:
    """The studio's answer to one chat message."""

    reply: str
    recipe: Recipe | None = None
    images: list[Image.Image] = field(default_factory=list)
    kind: Kind = "result"
    version: int | None = None  # the version shown, numbered from 1 in this session
    look: MemoryEntry | None = None  # the saved look this turn applied (apply_look)
    checks: list[CheckResult] = field(default_factory=list)  # marketplace verdicts, one per picture
    choices: list[Choice] = field(default_factory=list)  # a clarifying question's candidates


@dataclass
class Version:
    number: int
    recipe: Recipe
    images: list[Image.Image]
    checks: list[CheckResult] = field(default_factory=list)  # empty when made for no marketplace


@dataclass
class CutoutHints:
    """The merchant's fixes to the cut-out so far: each click refines the result of the ones before.
    Plain data (a box, clicks in photo pixels, "L" brush masks the photo's size, 255 = painted), so a
    session store can keep them."""

    box: Box | None = None
    points: list[Point] = field(default_factory=list)
    paint: Image.Image | None = None  # brushed in as product
    erase: Image.Image | None = None  # brushed out of the product

    @property
    def hinted(self) -> bool:
        """Whether the segmentation itself is steered (the brush only edits its result)."""
        return self.box is not None or bool(self.points)


class Session:
    """One merchant's chat with the studio: `send(text)` answers each message with a Turn."""

    def __init__(self, studio, user: str = "local"):
        self.studio = studio
        self.user = user
        self.image: Image.Image | None = None
        self.versions: list[Version] = []  # every version made, in order
        self.current: Version | None = None  # the version the next message is feedback on
        self.product: Subject | None = None  # the product as the merchant called it ("my latte cup")
        self._given_mask: Image.Image | None = None
        # The product's cut-out ("L", 255 = product) that every version of this product uses: the mask
        # given, else segmented once on first need, or as the merchant fixed it (`fix_cutout`).
        self.product_mask: Image.Image | None = None
        self.cutout_hints = CutoutHints()
        # The cut-outs before each fix (hints and mask), newest last, for "↶ Undo last click".
        self._cutout_undo: list[tuple[CutoutHints, Image.Image | None]] = []
        self._offered_colour: str | None = None  # the background colour a clarifying question offered
        # (session id, id(picture)) -> (picture, its file in the work store): see `_stored`
        self._files: dict[tuple[str, int], tuple[Image.Image, Path]] = {}
        self._choices: list[Choice] = []  # what the last clarifying question offered
        self._left: list[Choice] = []  # what it offered and the answer did not take ("the other one")
        self._kept: tuple[Recipe, tuple[str, ...]] | None = None  # "start over but keep it square"
        # A new product photo came after the last version: its first picture starts a fresh chain
        self._new_photo = False

    @property
    def recipe(self) -> Recipe | None:
        return self.current.recipe if self.current else None

    def set_product(self, image: Image.Image | None, mask: Image.Image | None = None) -> None:
        """The product photo (None: pictures from text alone) and, optionally, its mask (white =
        product; in inpaint mode, the area to repaint). Without a mask the product is segmented
        once, when a picture first needs it."""
        self.image = image
        self._given_mask = mask
        self.product_mask = None
        self.cutout_hints = CutoutHints()
        self._cutout_undo = []
        self.product = None  # a new photo is a new product, until the merchant names it
        # Its first picture starts a fresh chain, whatever look it takes over ("now this hat, same vibe",
        # "use my clean grey look on this one"): undo on it never brings back the previous product's
        # picture, and the look copied is kept as it is.
        self._new_photo = bool(self.versions)

    @property
    def mask(self) -> Image.Image | None:
        """The product mask: as the merchant fixed it, else the one given, else the segmented one."""
        if self.image is None:
            return self._given_mask
        if self.product_mask is None:
            self.product_mask = self._cut_out(self.cutout_hints)
        return self.product_mask

    def add_version(self, recipe: Recipe, *, progress=None, cancel=None, said: tuple[str, ...] = ()) -> Turn:
        """Renders `recipe` with the product and makes it the newest, current version."""
        if recipe.mode == "inpaint":  # the mask is the area to repaint: never a guessed product mask
            mask = self._given_mask
        elif recipe.mode == "text_to_image":
            mask = None
        else:
            if self.image is not None and self.product_mask is None:
                # The first cut-out of a photo is part of the turn: a cancel stops it too.
                self.product_mask = self._cut_out(self.cutout_hints, cancel)
            mask = self.mask
        if recipe.parent_id is not None and (self._new_photo or self._version_of(recipe.parent_id) is None):
            # A new product's first picture, or one made from a saved look (whose recipe is no picture of
            # this chat), starts its own chain: undo never brings back another product
            recipe = recipe.model_copy(update={"parent_id": None})
        images = self.studio.render(recipe, self.image, mask, progress=progress, cancel=cancel)
        base = self._version_of(recipe.parent_id)
        # Checked before it is offered: a picture that fails is said and marked, never passed silently.
        checks = self.studio.check(recipe, images)
        version = Version(len(self.versions) + 1, recipe, images, checks)
        self.versions.append(version)
        self.current = version
        self._new_photo = False
        lines = [line for line in said if line]
        lines.append(f"Version {version.number}: {describe(recipe, self.studio.catalog)}.")
        if base is not None:
            changed = _as_done(changes(base.recipe, recipe, self.studio.catalog), recipe)
            if changed:
                lines.append("Changed: " + "; ".join(changed) + ".")
            elif recipe.request:
                lines.append("I found nothing to change in that, so this is the same look. Try e.g. "
                             "'warmer', 'less busy', 'closer', 'at sunset', 'now on marble' or 'for Etsy'.")
        lines += check_lines(checks)
        soft = self._softness(recipe, mask)
        if soft:
            lines.append(f"Note: {soft}.")
        return Turn("\n".join(lines), recipe, images, "result", version.number, checks=checks)

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
        """What differs between two versions (default: the last two made), and both pictures."""
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
        changed = changes(va.recipe, vb.recipe, self.studio.catalog)
        if changed:
            reply = f"Version {a} → version {b}: " + "; ".join(changed) + "."
        else:
            reply = f"Versions {a} and {b} have the same look."
        images = [v.images[0] for v in (va, vb) if v.images]
        return Turn(reply, None, images, kind="info")

    def start_over(self, keep: tuple[str, ...] = ()) -> None:
        """A fresh chain for the same product; earlier versions stay reachable by number. `keep`:
        what the next new recipe takes over from the current one ("size", "style", "scene", "light")."""
        self._kept = (self.current.recipe, keep) if keep and self.current else None
        self.current = None

    # ------------------------------------------------------------------ actions besides the chat

    def open_product(self, photo: str | Path, mask: str | Path | None = None) -> Turn:
        """A product photo from a file (an upload, --image) and optionally its mask file, held to the
        studio's upload limits. It starts a new chain, so the canvas fits this photo; earlier versions
        stay reachable by number. A file that cannot be used is an "error" turn naming it, and the
        product before it stays."""
        try:
            image = load_image(photo, **self.studio.settings.upload_limits)
            given = load_mask(mask, image.size) if mask is not None else None
        except SceneshopError as exc:
            return Turn(str(exc), self.recipe, kind="error")
        had_versions = self.current is not None
        self.set_product(image, given)
        self.start_over()
        note = "New product photo received." + (" Starting a new chain for it." if had_versions else "")
        return Turn(note + " What scene would you like?", kind="info")

    def cutout(self, *, cancel=None) -> Turn:
        """The cut-out step: the product as every picture of it will use it — the photo and the cut-out
        on a checkerboard side by side, the one-line verdict and what to click to fix it (a "cutout"
        Turn). A photo in which no product is found still gets the step, with the photo alone."""
        if self.image is None:
            return Turn("Attach a product photo first (📎); its cut-out shows here.", kind="info")
        photo = self.image.convert("RGB")
        try:
            if self.product_mask is None:
                self.product_mask = self._cut_out(self.cutout_hints, cancel)
        except Cancelled:
            return Turn("Cancelled; the cut-out is as it was.", self.recipe, kind="error")
        except SceneshopError as exc:
            reply = (
                f"✂️ Cut-out: I could not find the product ({exc}).\n"
                "Choose ▭ Box in the ✂️ Cut-out tab and click two opposite corners around the product."
            )
            return Turn(reply, self.recipe, [photo], "cutout", self._number())
        return self._cutout_turn()

    def _cutout_turn(self, change: str = "") -> Turn:
        photo = self.image.convert("RGB")
        reply = f"✂️ Cut-out: {describe_cutout(self.product_mask)}{change}.\n{CUTOUT_HOW}"
        images = [photo, on_checkerboard(photo, self.product_mask)]
        return Turn(reply, self.recipe, images, "cutout", self._number())

    def fix_cutout(
        self,
        *,
        box: Box | None = None,
        points: list[Point] | tuple = (),
        paint: Image.Image | None = None,
        erase: Image.Image | None = None,
        reset: bool = False,
        cancel=None,
    ) -> Turn:
        """Fixes the cut-out and shows it (`cutout`). `box` (left, top, right, bottom) replaces the box
        so far; `points` — clicks (x, y, is_product) in photo pixels — add to the clicks so far, so each
        click refines the last result; `paint` / `erase` are brush strokes ("L", the photo's size, white
        = brushed) that edit the mask directly and stay over later clicks; `reset` forgets all fixes
        first (back to the given or automatic cut-out). A fix that cannot be used is an "error" turn
        and the cut-out stays as it was."""
        if self.image is None:
            return Turn("Attach a product photo first (📎); then fix its cut-out here.", kind="info")
        old = self.cutout_hints
        hints = CutoutHints() if reset else CutoutHints(old.box, list(old.points), old.paint, old.erase)
        if box is not None:
            hints.box = box
        hints.points += list(points)  # segment checks the box and clicks; nothing is kept if they fail
        try:
            hints.paint = _brushed(hints.paint, paint, self.image.size, "paint")
            hints.erase = _brushed(hints.erase, erase, self.image.size, "erase")
            mask = self._cut_out(hints, cancel)
        except Cancelled:
            return Turn("Cancelled; the cut-out is as it was.", self.recipe, kind="error")
        except SceneshopError as exc:
            reply = f"That fix could not be used: {exc}."
            return Turn(reply, self.recipe, kind="error", version=self._number())
        self._cutout_undo.append((old, self.product_mask))
        before, self.cutout_hints, self.product_mask = self.product_mask, hints, mask
        return self._cutout_turn("" if reset or before is None else _change(before, mask))

    def undo_cutout(self) -> Turn:
        """Takes back the last fix of the cut-out (a click, a box, a brush stroke or a reset) and shows
        the cut-out as it was before it; an "info" turn when there is nothing to take back."""
        if self.image is None:
            return Turn("Attach a product photo first (📎); then fix its cut-out here.", kind="info")
        if not self._cutout_undo:
            return Turn("Nothing to undo: the cut-out has not been fixed yet.", self.recipe, kind="info")
        hints, mask = self._cutout_undo.pop()
        self.cutout_hints, self.product_mask = hints, mask
        if mask is None:  # the fix came before the first cut-out was shown: make it again
            try:
                self.product_mask = self._cut_out(hints)
            except SceneshopError as exc:
                self.product_mask = None
                return Turn(f"✂️ Cut-out: I could not find the product ({exc}).", self.recipe, kind="error")
        return self._cutout_turn(" — the last fix is undone")

    def edit(
        self,
        *,
        scene: str | None = None,
        lighting: str | None = None,
        kelvin: float | None = None,
        time_of_day: str | None = None,
        framing: str | None = None,
        loras: list[tuple[str, float]] | None = None,
        marketplace: str | None = None,
        seed: float | None = None,
        new_seed: bool = False,
        text: dict | None = None,
        retouch: dict | None = None,
        progress=None,
        cancel=None,
    ) -> Turn:
        """The recipe inspector: the current recipe with these field values, rendered as a child
        version. None keeps a field, and so does a value equal to the current one (only real changes
        are edited, named in the version's request). `time_of_day` and `marketplace` take "none" to
        clear; `loras` is the complete new list of (name, weight); `seed` is an exact seed, and
        `new_seed` draws a different one instead. `text` and `retouch` are the looks sections'
        values (sceneshop.agent.llm.toolbox.look_changes says which keys)."""
        if self.recipe is None:
            return Turn("Make a picture first; then edit its recipe here.", kind="info")
        fields = {
            "scene": scene,
            "lighting": lighting,
            "kelvin": kelvin,
            "time_of_day": time_of_day,
            "framing": framing,
            "loras": loras,
            "marketplace": marketplace,
            "seed": seed,
            "new_seed": new_seed,
            "text": text,
            "retouch": retouch,
        }
        return self._guarded(
            lambda: self.add_version(self._edited(**fields), progress=progress, cancel=cancel)
        )

    def apply_look(self, entry_id: str, *, progress=None, cancel=None) -> Turn:
        """A look this user saved, rendered unchanged on the current product as a new version (a child
        of the saved recipe). The Turn's `look` is the memory entry, when it was found."""
        if self.studio.memory is None or not entry_id:
            return Turn("Pick a saved recipe in the Memory tab first.", kind="info")
        try:
            look = self.look(entry_id)
            recipe = look.recipe.child(look.request)
        except SceneshopError as exc:
            return Turn(str(exc), self.recipe, kind="error")
        if self.image is None and recipe.mode != "text_to_image":
            turn = Turn("Attach a product photo first (📎), then apply the saved recipe to it.", kind="info")
        else:
            recipe.notes.append("your saved recipe, applied unchanged")
            turn = self.render(recipe, progress=progress, cancel=cancel)
        turn.look = look
        return turn

    def rate(self, rating: Literal["liked", "disliked"]) -> Turn:
        """👍 / 👎 on the current version, kept in the user's memory: a liked look is offered again
        ("like last time"), a disliked one is steered away from. A Turn without a version rated
        nothing (no picture yet, or no memory)."""
        if self.current is None:
            return Turn("Make a picture first, then rate it.", kind="info")
        if self.studio.memory is None:
            return Turn("Recipe memory is not available in this studio.", self.recipe, kind="info")
        number = self.current.number
        try:
            entry = self._remember(rating)
        except SceneshopError as exc:
            return Turn(str(exc), self.recipe, kind="error", version=number)
        if rating == "liked":
            look = describe(entry.recipe, self.studio.catalog)
            reply = f"👍 Saved version {number} to your looks ({look})."
        else:
            reply = f"👎 Noted: I will steer away from version {number} next time."
        return Turn(reply, self.recipe, kind="info", version=number)

    def save(self, name: str = "") -> Turn:
        """ "save this (as NAME)": the current version in the user's memory, rated "saved" ("" = no
        name: memory labels it by its request)."""
        if self.studio.memory is None:
            reply = "Saving needs the recipe memory, which this studio runs without."
            return Turn(reply, self.recipe, kind="info")
        if self.current is None:
            return Turn("There is nothing to save yet; make a picture first.", kind="info")
        number = self.current.number

        def write() -> Turn:
            entry = self._remember("saved", name)
            return Turn(f"Saved as {entry.label}.", self.recipe, kind="info", version=number)

        return self._guarded(write)

    def looks(self, query: str = "", k: int = 24) -> list[MemoryEntry]:
        """This user's saved looks, most recently updated first, or the `k` that best match `query`;
        none when the studio runs without memory."""
        memory = self.studio.memory
        if memory is None:
            return []
        query = (query or "").strip()
        if not query:
            return memory.list(self.user)
        return [entry for entry, _ in memory.search(self.user, query, k=k)]

    def look(self, entry_id: str) -> MemoryEntry | None:
        """One of this user's saved looks (another user's id is not found); None without memory."""
        memory = self.studio.memory
        return memory.get(self.user, entry_id) if memory is not None else None

    def forget(self, entry_id: str) -> MemoryEntry | None:
        """Deletes one of this user's saved looks and returns it; None without memory."""
        memory = self.studio.memory
        return memory.delete(self.user, entry_id) if memory is not None else None

    def _remember(self, rating: str, name: str = "") -> MemoryEntry:
        """The one way the session writes to memory (save, 👍, 👎): the current version with its
        first picture as the thumbnail."""
        memory = self.studio.memory
        return memory.save(self.user, self.recipe, rating, name or None, thumbnail=self._thumbnail())

    def _edited(self, *, scene, lighting, kelvin, time_of_day, framing, loras, marketplace, seed, new_seed,
                text=None, retouch=None):
        """`edit`'s recipe: only the values that differ from the current recipe are passed on, so
        the version's request names just what the merchant changed."""
        parent = self.recipe
        changes: dict = {}
        if scene and scene != parent.scene.preset:
            changes["scene_preset"] = scene
            # A preset brings its own words (the old scene's would contradict it); "custom" has only
            # the description, so it keeps the current one.
            changes["scene_description"] = parent.scene.description if scene == "custom" else ""
        if lighting and lighting != parent.lighting.preset:
            changes["lighting_preset"] = lighting
        if kelvin is not None and int(kelvin) != parent.lighting.kelvin:
            changes["kelvin"] = int(kelvin)
        if time_of_day is not None and (None if time_of_day == "none" else time_of_day) != parent.time_of_day:
            changes["time_of_day"] = time_of_day
        if framing and framing != parent.camera.framing:
            changes["framing"] = framing
        if loras is not None and list(loras) != [(c.name, c.weight) for c in parent.loras]:
            seen, unique = set(), []
            for name, weight in loras:
                if name not in seen:
                    seen.add(name)
                    unique.append(LoraPick(name=name, weight=weight))
            changes["loras"] = unique
        if marketplace is not None and marketplace != (parent.output.preset or "none"):
            changes["marketplace"] = marketplace
        if new_seed:
            changes["new_seed"] = True
        elif seed is not None and int(seed) != parent.seed:
            seed = int(seed)  # the merchant typed a seed: use exactly that one
            if not 0 <= seed <= MAX_SEED:
                raise RecipeError(f"seed {seed} is outside 0–{MAX_SEED}; type another, or unlock it")
            changes["seed"] = seed
        changes.update(look_changes(parent, text, retouch))
        has_photo = self.image is not None or parent.mode != "text_to_image"
        recipe = edit_fields(
            parent, self.studio.catalog, _edit_request(changes), by=_INSPECTOR, has_photo=has_photo, **changes
        )
        if "seed" in changes:
            recipe.notes.append(f"seed {recipe.seed} set in the inspector")
        return recipe

    # ------------------------------------------------------------------------------- routing

    def _answer(self, text: str, progress, cancel) -> Turn:
        offered, self._offered_colour = self._offered_colour, None
        choices, self._choices = self._choices, []
        left, self._left = self._left, []
        message = read_message(text, question_open=offered is not None, has_picture=self.current is not None)
        if choices and message.kind in ("go_back", "request", "feedback"):
            choice = self._chosen(message, choices)
            if choice is not None:
                rest = message.words if message.kind == "go_back" else ""
                self._left = [c for c in choices if c is not choice]
                return self._take(choice, rest, progress, cancel)
        if len(left) == 1 and message.kind == "feedback" and self._other_choice(message.text):
            return self._take(left[0], "", progress, cancel)  # "perfect, now do the other one too"
        kind = message.kind
        if kind == "yes":
            return self._make(request_message(f"{offered} background", has_picture=True), progress, cancel)
        if kind == "no":
            return Turn(
                "OK, nothing changed. Your product keeps the colour it has in the photo; to show it in "
                "another colour, upload a photo of that variant.",
                self.recipe,
                kind="info",
                version=self._number(),
            )
        if kind == "question" and message.topic == "changed" and self.current is not None:
            return Turn(self._what_changed(), self.recipe, kind="answer", version=self._number())
        if kind == "question":
            self._name_product(message.about)
            return self._make(message, progress, cancel)
        if kind == "cutout":
            return Turn(CUTOUT, self.recipe, kind="cutout", version=self._number())
        if kind == "compare":
            return self.compare(*message.versions)
        if kind == "start_over":
            self.start_over(message.keep)
            if message.words:
                return self._make(request_message(message.words), progress, cancel)
            kept = f", keeping the {' and '.join(message.keep)}" if self._kept else ""
            return Turn(f"Starting over with the same product{kept}. What scene would you like?", kind="info")
        if kind == "save":
            return self._save(message.name)
        if kind == "name":
            return self._name(message.name)
        if kind == "undo":  # "undo that and add a candle": undone, then the change
            return self._then(self.undo(), message.words, progress, cancel)
        if kind == "go_back":
            return self._go_back(message, progress, cancel)
        colour = self._colour_needs_asking(message)
        if colour is not None:
            self._offered_colour = colour
            self._name_from_colour(message)
            question = recolour_question(self._product_name(), colour)
            return Turn(question, self.recipe, kind="clarify", version=self._number())
        if kind == "cannot" and not message.words and self._cannot(message):
            reply = " ".join(cannot(why, self._product_name()) for why in self._cannot(message))
            return Turn(reply, self.recipe, kind="refuse", version=self._number())
        return self._make(message, progress, cancel)

    def _name_product(self, about: str) -> None:
        """ "hi what can u do? i sell sunglasses on amazon": answered in words, but the product's name
        said beside the question names the first picture's product too."""
        if not about or self.product is not None or self.current is not None:
            return
        size = self.image.size if self.image is not None else None
        subject = self.studio.planner.plan(about, None, image_size=size).subject
        if subject.description.strip().lower() not in ("", "product"):
            self.product = subject.model_copy()

    def _what_changed(self) -> str:
        """ "what did you change?": what the current version changed from the one it was made from."""
        catalog = self.studio.catalog
        base = self._version_of(self.recipe.parent_id)
        now = f"Version {self.current.number}"
        if base is None:
            # "what did you change from my photo?": what is new, and that the product is not
            kept = (" Your product itself is kept exactly as in your photo; only the scene around it is new."
                    if self.recipe.mode == "replace_background" else "")
            return f"{now} is where this chat starts: {describe(self.recipe, catalog)}.{kept}"
        changed = _as_done(changes(base.recipe, self.recipe, catalog), self.recipe)
        if not changed:
            return (f"{now} has the same look as version {base.number}: I found nothing to change in what "
                    "you said. Try e.g. 'warmer', 'less busy', 'closer' or 'at sunset'.")
        return (f"{now} changed this from version {base.number}: " + "; ".join(changed) + ". Each step is "
                "small; say the same again (e.g. 'brighter' once more) for a stronger one.")

    def _cannot(self, message: Message) -> list[str]:
        """What of the message this studio cannot do: the text layer draws titles and badges with
        either engine (tools/typography.py), and an image model paints a person around a garment
        (dress_model); the preview renderer cannot draw people."""
        return [why for why in message.cannot
                if why != "text" and not (why in _PEOPLE and self.studio.engine.draws_people)]

    def _colour_needs_asking(self, message: Message) -> str | None:
        # Only where the product is kept pixel-exact does "make it green" have two readings.
        mode = self.recipe.mode if self.recipe else ("replace_background" if self.image else "text_to_image")
        if mode != "replace_background":
            return None
        if message.product_colour and self.recipe is not None:
            # "can the ball be yellow?" with a tennis ball in the picture: the ball, never the product
            said = normalise(message.words or message.text)[message.colour[1]:message.colour[2]]
            if coloured_thing(self.recipe, said, load_vocabulary(self.studio.catalog.folder)):
                return None
        return message.product_colour

    def _name_from_colour(self, message: Message) -> None:
        """ "can you make the dress navy?" before the product has a name: the merchant calls it the dress,
        and the pictures after this one show the dress (the recolour itself is still asked about)."""
        if self.product is not None:
            return
        said = normalise(message.words or message.text)[message.colour[1]:message.colour[2]]
        name = recoloured_name(said, load_vocabulary(self.studio.catalog.folder))
        if name:
            self.product = Subject(description=name)

    def _make(self, message: Message, progress, cancel, *, look: Recipe | None = None) -> Turn:
        """Ask the studio's planner (either kind, one interface), render, and make the result the
        current version; a reply in words only changes nothing. `look`: the earlier version or
        saved look the message asked to start from."""
        catalog = self.studio.catalog
        chat = Conversation(
            image_size=self.image.size if self.image is not None else None,
            user=self.user,
            memory=self.studio.memory,
            thumbnail=self._thumbnail(),
            history=tuple(self._history()),
            product=self.product,
            engine=self.studio.engine_words,
        )
        base = look or self.recipe  # what the new recipe changes
        if _PEOPLE & set(self._cannot(message)):
            # refused: the rest of the message is planned without the person ("on a model ear" would
            # set the model mode, which the next turns would keep)
            kept = message.text
            for clause in message.on_person:
                kept = kept.replace(clause, " ")
            message = replace(message, text=" ".join(kept.split()))
        reply = self.studio.respond(message, self.recipe, chat, look=look)
        if message.kind == "question" or reply.recipe is None or not reply.render:
            words = " ".join([reply.text, *reply.said]).strip()
            if not words and message.kind == "question":
                words = answer(message.topic, self.recipe, catalog, photo=self.image is not None,
                               engine=self.studio.engine_words)
            # What the planner answered in words only ("and is it free?", a greeting before any photo)
            # is an answer too; its reports of actions done ("Saved as …") are info.
            asked = message.kind == "question" or (reply.recipe is None and not reply.said)
            kind = "answer" if asked else "info"
            return Turn(words or "OK.", self.recipe, kind=kind, version=self._number())
        recipe = reply.recipe
        if self.current is None and look is None and self._kept is not None:
            recipe = self.studio.keep(recipe, *self._kept)
        if self.product is not None and recipe.subject.description.strip().lower() in ("", "product"):
            # "start over: snowy mountains": a fresh chain for the same photo, so the same product; and
            # a product named where no picture was made ("can you make the dress navy?") from then on
            recipe = self.studio.for_product(recipe, self.product)
        self._kept = None
        limits = self._cannot(message)
        said = [cannot(why, self._product_name()) for why in limits]
        if self.studio.preview and base is not None and _looks_alike(base, recipe, _NOT_DRAWN) and (
                recipe.loras != base.loras or recipe.mode != base.mode):
            styles = [labels(catalog).style(c.name) for c in recipe.loras if c not in base.loras]
            reply_text = cannot("style", self._product_name(), style=" and ".join(styles) or "a painted look")
            return Turn(reply_text, self.recipe, kind="refuse", version=self._number())
        if limits and base is not None and _looks_alike(base, recipe, _NOT_SHOWN):
            return Turn(" ".join(said), self.recipe, kind="refuse", version=self._number())
        if self.studio.preview and any(c not in (base.loras if base else []) for c in recipe.loras):
            said.append("The style is kept in the recipe, but the preview renderer doesn't draw styles.")
        said += [reply.offline or "", reply.text, *reply.said]
        if recipe.subject.description.strip().lower() not in ("", "product"):
            self.product = recipe.subject.model_copy()
        return self.add_version(recipe, progress=progress, cancel=cancel, said=tuple(said))

    # ------------------------------------------------------------------------ earlier pictures

    def _go_back(self, message: Message, progress, cancel) -> Turn:
        """An earlier picture asked for: by position ("the first one", "two versions ago"), by name
        ("my sunset look"), by time ("the one I did yesterday"), or by what it shows ("the warm
        one", "the one on the beach"). One found: shown again (a version) or taken over for this
        product (a saved look); several: a question with the candidates; none: said so."""
        ref = message.reference
        if ref.number or ref.ago:
            if ref.ago and self.current is None:
                return Turn("There is no current picture to count back from.", kind="info")
            number = ref.number or self.current.number - ref.ago
            turn = self.go_back(number)
            return self._then(turn, message.words, progress, cancel)
        looks = self.studio.looks_for(ref, message.text, self.user) if (ref.saved or ref.days) else []
        named = [e for e in looks if e.name and e.name.casefold() in message.text.casefold()]
        if named or (looks and (ref.days or not self.versions)):
            return self._offer([self._look_choice(e) for e in (named or looks)], message, progress, cancel)
        if self.versions and not ref.days:
            if ref.same:
                # "same beach look": the latest picture that shows it, else simply the latest
                shown = pick(ref.words, [(v, v.recipe, "") for v in self.versions],
                             self.studio.catalog) if ref.words else []
                found = [shown[-1] if shown else self.current or self.versions[-1]]
            else:
                candidates = [(v, v.recipe, "") for v in self.versions]
                found = pick(ref.words, candidates, self.studio.catalog)
            if found:
                return self._offer([self._version_choice(v) for v in found], message, progress, cancel)
        looks = looks or self.studio.looks_for(ref, message.text, self.user)
        if looks:
            return self._offer([self._look_choice(e) for e in looks], message, progress, cancel)
        if ref.days or ref.saved or ref.same:
            when = "from then" if ref.days else "like that"
            reply = (f"I couldn't find a saved look {when}. Describe the scene and I'll make it; say "
                     "'save this' when you like a picture.")
            return Turn(reply, self.recipe, kind="info", version=self._number())
        # "go back to the beach" with no beach so far: a request for a beach
        words = ", ".join(w for w in (ref.words, message.words) if w)
        kind = "feedback" if self.current else "request"
        return self._make(request_message(words, has_picture=kind == "feedback"), progress, cancel)

    def _offer(self, choices: list[Choice], message: Message, progress, cancel) -> Turn:
        if len(choices) == 1:
            return self._take(choices[0], message.words, progress, cancel)
        self._choices = choices
        options = " or ".join(c.label for c in choices[:4])
        images = [c.image for c in choices[:4] if c.image is not None]
        return Turn(f"Which one do you mean: {options}?", self.recipe, images, "clarify", self._number(),
                    choices=choices[:4])

    def _take(self, choice: Choice, rest: str, progress, cancel) -> Turn:
        """The chosen picture: a version is shown again (then `rest` is planned on it); a saved look,
        or a version taken over after a new product photo, becomes a new version for this product."""
        version = self.versions[choice.version - 1] if choice.version else None
        if version is not None and self.current is not None:
            return self._then(self._show(version, "Back to"), rest, progress, cancel)
        message = request_message(rest, has_picture=True)
        return self._make(message, progress, cancel, look=choice.recipe)

    def _then(self, shown: Turn, rest: str, progress, cancel) -> Turn:
        """After going back to a version (or undoing), the rest of the message ("the first one, but
        closer", "undo that and add a candle")."""
        if not rest or shown.kind != "result":
            return shown
        return self._make(request_message(rest, has_picture=True), progress, cancel)

    def _other_choice(self, text: str) -> bool:
        """Whether `text` asks for the choice left after the last one taken ("now the other one")."""
        phrases = load_vocabulary(self.studio.catalog.folder)["references"]["other_choice"]
        phrases = sorted(phrases, key=len, reverse=True)
        said = "|".join(r"\s+".join(map(re.escape, p.split())) for p in phrases)
        return re.search(rf"(?<![\w'])(?:{said})(?![\w'])", text.lower()) is not None

    def _chosen(self, message: Message, choices: list[Choice]) -> Choice | None:
        """Which offered choice the answer names: by position or version number, or by what it shows."""
        ref = message.reference
        if ref.number:
            by_version = [c for c in choices if c.version == ref.number]
            if by_version:
                return by_version[0]
            if ref.number <= len(choices):
                return choices[ref.number - 1]
        words = ref.words or message.words
        if words:
            found = pick(words, [(c, c.recipe, c.label) for c in choices], self.studio.catalog)
            if len(found) == 1:
                return found[0]
        return None

    def _version_choice(self, version: Version) -> Choice:
        label = f"version {version.number} ({brief(version.recipe, self.studio.catalog)})"
        image = version.images[0] if version.images else None
        return Choice(label, version.recipe, image, version=version.number)

    def _look_choice(self, entry) -> Choice:
        image = None
        if entry.thumbnail is not None:
            try:
                with Image.open(entry.thumbnail) as opened:
                    image = opened.convert("RGB")
            except OSError:
                image = None
        name = entry.name or entry.request
        label = f"your look '{name}' ({brief(entry.recipe, self.studio.catalog)})"
        return Choice(label, entry.recipe, image, look_id=entry.id)

    # ---------------------------------------------------------------------------- saved looks

    def _save(self, name: str) -> Turn:
        """Saves the current look under the name given, else a short name made from the recipe."""
        memory = self.studio.memory
        if memory is None:
            reply = "Saving needs the recipe memory, which this studio runs without."
            return Turn(reply, self.recipe, kind="info")
        if self.current is None:
            return Turn("There is nothing to save yet; make a picture first.", kind="info")
        entry = memory.find_by_recipe(self.user, self.recipe.id)
        if entry is not None and entry.name and not name:
            return Turn(f"Already saved as '{entry.name}'.", self.recipe, kind="info", version=self._number())
        name = name or self._free_name(look_name(self.recipe, self.studio.catalog))
        entry = self._remember("saved", name)
        return Turn(f"Saved as '{entry.name}'.", self.recipe, kind="info", version=self.current.number)

    def _name(self, name: str) -> Turn:
        """ "call this look sunday rooftop": names the current look, saving it if it is not yet."""
        memory = self.studio.memory
        if memory is None or self.current is None:
            return self._save(name)
        entry = memory.find_by_recipe(self.user, self.recipe.id)
        if entry is None:
            return self._save(name)
        entry = memory.rename(self.user, entry.id, name)
        return Turn(f"Renamed it '{entry.name}'.", self.recipe, kind="info", version=self.current.number)

    def _free_name(self, name: str) -> str:
        """`name`, or with the product's name or a count word added when a look already has it."""
        memory = self.studio.memory
        product = (self.product.description if self.product else "").strip()
        counted = (f"{name} {n}" for n in ("two", "three", "four", "five"))
        tries = [name, f"{product} {name}".strip(), *counted]
        for candidate in tries:
            if memory.find_by_name(self.user, candidate) is None:
                return candidate
        raise InputError(f"you already have looks named '{name}'; give this one a name: 'save this as …'")


    def _cut_out(self, hints: CutoutHints, cancel=None) -> Image.Image:
        """The product mask for these fixes: the segmentation steered by the box and clicks, then the
        brush strokes on top. A mask given with the photo is the merchant's own cut-out, treated like a
        photo's alpha channel: the box clips it and a "remove" click drops the region under it."""
        given = self._given_mask
        if given is not None and not hints.hinted:
            mask = given.convert("L")
        else:
            photo = self.image
            if given is not None:
                photo = self.image.convert("RGB")
                photo.putalpha(given.convert("L"))
            mask = segment(photo, box=hints.box, points=hints.points, cancel=cancel)
        if hints.paint is None and hints.erase is None:
            return mask
        alpha = np.array(mask.convert("L"))
        if hints.paint is not None:
            alpha[np.asarray(hints.paint) >= 128] = 255
        if hints.erase is not None:
            alpha[np.asarray(hints.erase) >= 128] = 0
        if not (alpha >= 128).any():
            raise InputError("the brush erased the whole product; press Reset to start again")
        return Image.fromarray(alpha, "L")

    def _softness(self, recipe: Recipe, mask: Image.Image | None) -> str | None:
        """Said when the product would be enlarged beyond its photo's resolution (by the framing rule
        every engine places it with); None when its own pixels suffice."""
        if recipe.mode != "replace_background" or self.image is None or mask is None:
            return None
        market = self.studio.catalog.marketplace(recipe.output.preset) if recipe.output.preset else None
        canvas = (market.width, market.height) if market is not None else (recipe.width, recipe.height)
        box = mask_box(mask)
        fill = framing_fill(recipe, market, self.image.size, canvas)
        scale = placement_scale(self.image.size, box, *canvas, fill)
        if scale <= SOFT_SCALE:
            return None
        width, height = box[2] - box[0], box[3] - box[1]
        side, native = ("tall", height) if height >= width else ("wide", width)
        return (
            f"your photo's product is {native} px {side}; at {round(native * scale)} px it will look soft "
            "— a larger photo gives a sharper result"
        )

    # -------------------------------------------------------------------------------- helpers

    def _show(self, version: Version, how: str) -> Turn:
        self.current = version
        reply = f"{how} version {version.number}: {describe(version.recipe, self.studio.catalog)}."
        reply = "\n".join([reply, *check_lines(version.checks)])
        images = list(version.images)
        return Turn(reply, version.recipe, images, "result", version.number, checks=version.checks)

    def _product_name(self) -> str:
        return self.product.description if self.product else "product"

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

    # ------------------------------------------------------- keeping it (sceneshop.agent.store)

    def to_state(self, store, session_id: str, *, messages=(), title: str = "", written=None) -> dict:
        """This session as plain data for `WorkStore.save_session(user, session_id, state)`: the
        product photo, its mask (the merchant's, or the cut-out made for it), every version's
        recipe and pictures and the current version, with pictures as files in the store (written
        once each through `store.save_image`, the recipe inside each PNG). `messages` is the chat
        as the front end showed it ({"role", "text", "kind", "version", "images"}); the Session
        itself never sees the chat's wording, so a front end passes it here. `written` maps a
        recipe id to the PNGs of its pictures that the front end has already written (its
        downloads, the recipe inside): those bytes are copied, not encoded again — encoding is most
        of the cost of keeping a turn (170 ms at 600x400, 1.2 s at 2000x2000 here)."""
        written = written or {}
        given = self._given_mask is not None
        mask = self._given_mask if given else self.product_mask  # the cut-out made, if any: not redone
        hints = self.cutout_hints
        return {
            "title": title,
            "product": self._stored(store, session_id, self.image, "product"),
            "mask": self._stored(store, session_id, mask, "mask"),
            "mask_given": given,
            "current": self.current.number if self.current else None,
            "versions": [
                {
                    "number": v.number,
                    "recipe": v.recipe.to_json(),
                    "images": [
                        self._stored(store, session_id, im, "result", v.recipe, written=png)
                        for im, png in _aligned(written.get(v.recipe.id), v.images)
                    ],
                }
                for v in self.versions
            ],
            "messages": [dict(m) for m in messages],
            "extra": {
                "offered_colour": self._offered_colour,
                "cutout": {  # the merchant's fixes, so the next click refines them after a reload
                    "box": list(hints.box) if hints.box else None,
                    "points": [list(p) for p in hints.points],
                    "paint": self._stored(store, session_id, hints.paint, "mask"),
                    "erase": self._stored(store, session_id, hints.erase, "mask"),
                },
            },
        }

    @classmethod
    def from_state(cls, studio, state: dict, user: str = "local") -> Session:
        """The session `WorkStore.load_session` returned, ready to go on: the same product, mask,
        versions and current version (a version whose pictures have expired keeps its recipe and
        has no pictures). A picture or recipe that cannot be read is a SceneshopError naming it."""
        session = cls(studio, user=user)
        session_id = state.get("id")

        def picture(path, mode: str | None = None) -> Image.Image | None:
            if path is None:
                return None
            image = load_image(path, max_pixels=studio.settings.max_pixels, max_bytes=2**31)
            image = image.convert(mode) if mode else image
            if session_id:  # already in the store: the next save keeps the file as it is
                session._files[(session_id, id(image))] = (image, Path(path))
            return image

        session.image = picture(state.get("product"))
        mask = picture(state.get("mask"), "L")
        if state.get("mask_given"):
            session._given_mask = mask
        else:
            session.product_mask = mask
        extra = state.get("extra") or {}
        cutout = extra.get("cutout") or {}
        session.cutout_hints = CutoutHints(
            tuple(cutout["box"]) if cutout.get("box") else None,
            [(int(x), int(y), bool(keep)) for x, y, keep in cutout.get("points") or []],
            picture(cutout.get("paint"), "L"),
            picture(cutout.get("erase"), "L"),
        )
        for stored in state.get("versions") or []:
            recipe = Recipe.from_json(stored["recipe"])
            images = [picture(path) for path in stored.get("images") or []]
            # The marketplace verdicts are read again from the pictures, as when they were made.
            checks = studio.check(recipe, images) if images else []
            session.versions.append(Version(int(stored["number"]), recipe, images, checks))
        current = state.get("current")
        session.current = next((v for v in session.versions if v.number == current), None)
        # The product's name is the one its latest picture was made with ("my latte cup").
        named = [v.recipe.subject for v in session.versions
                 if v.recipe.subject.description.strip().lower() not in ("", "product")]
        shown = session.current.recipe.subject if session.current else None
        if shown is not None and shown.description.strip().lower() not in ("", "product"):
            session.product = shown.model_copy()
        elif named:
            session.product = named[-1].model_copy()
        session._offered_colour = extra.get("offered_colour")
        return session

    def _stored(self, store, session_id: str, image: Image.Image | None, kind: str,
                recipe: Recipe | None = None, written=None) -> str | None:
        """The store's file of `image`, written on first need: a picture never changes once made, so
        each one is encoded once per session, not at every save (or copied from `written`, the PNG
        a front end already made of it)."""
        if image is None:
            return None
        key = (session_id, id(image))
        known = self._files.get(key)
        if known is not None and known[0] is image and known[1].is_file():
            return str(known[1])
        if written is not None and Path(written).is_file():
            data = Path(written).read_bytes()
            path = store.save_file(self.user, data, ".png", session_id=session_id, kind=kind)
        else:
            metadata = {"sceneshop:recipe": recipe.to_json()} if recipe is not None else None
            path = store.save_image(self.user, image, session_id=session_id, kind=kind, metadata=metadata)
        self._files[key] = (image, path)  # the image is held too, so its id is never reused meanwhile
        return str(path)


_INSPECTOR = "the recipe inspector"


def _as_done(changed: list[str], recipe: Recipe) -> list[str]:
    """The changes as the render carried them out: a straighten asked of a product with no tilt to
    turn (a round mug, one already upright) says why it was left as photographed."""
    declined = [n.removeprefix(NOT_STRAIGHTENED) for n in recipe.notes if n.startswith(NOT_STRAIGHTENED)]
    if not declined or STRAIGHTENED not in changed:
        return changed
    return [f"the product left as it is: {declined[-1]}" if c == STRAIGHTENED else c for c in changed]


def check_lines(checks: list[CheckResult]) -> list[str]:
    """The marketplace verdicts as reply lines: "⚠ Amazon main image check failed: …" for a picture
    that fails, one short "✓ … check passed" line when all pass."""
    if not checks:
        return []
    if all(c.passed for c in checks):
        return [f"✓ {checks[0]}."]
    several = len(checks) > 1
    lines = [f"⚠ {f'picture {i}: ' if several else ''}{c}" for i, c in enumerate(checks, 1) if not c.passed]
    if any(c.islands for c in checks):
        lines.append(
            "To fix the cut-out, open the ✂️ Cut-out tab and click ➖ Remove on each leftover piece "
            "(or paint it red with the 🖌 brush), then press Re-render in the Recipe tab."
        )
    return lines


def on_checkerboard(photo: Image.Image, mask: Image.Image) -> Image.Image:
    """The cut-out as a merchant checks it: the product's pixels over a grey checkerboard, which shows
    through wherever the cut-out left the photo out (and half through a soft edge)."""
    rgb = photo.convert("RGB")
    square = max(8, max(rgb.size) // 40)
    yy, xx = np.mgrid[: rgb.height, : rgb.width]
    board = np.where(((yy // square + xx // square) % 2 == 0)[..., None], 204, 153).astype(np.uint8)
    board = Image.fromarray(np.repeat(board, 3, axis=2), "RGB")
    board.paste(rgb, (0, 0), mask.convert("L"))
    return board


def _change(before: Image.Image, after: Image.Image) -> str:
    """What a fix did, said after the verdict: " — that fix took out 0.4% of the photo"."""
    old, new = np.asarray(before) >= 128, np.asarray(after) >= 128
    out, added = float(np.mean(old & ~new)), float(np.mean(new & ~old))
    if out == 0 and added == 0:
        return " — that fix changed nothing; try the 🖌 brush for small parts"
    said = [f"{verb} {share:.1%}" for verb, share in (("took out", out), ("added", added)) if share >= 0.0005]
    if not said:
        return " — that fix changed a few pixels; try the 🖌 brush for small parts"
    return f" — that fix {' and '.join(said)} of the photo"


def _brushed(so_far: Image.Image | None, stroke: Image.Image | None, size: tuple[int, int], what: str):
    """The brush strokes so far with `stroke` added (white = brushed)."""
    if stroke is None:
        return so_far
    if stroke.size != size:
        raise InputError(
            f"the {what} strokes are {stroke.size[0]}x{stroke.size[1]}; the photo is {size[0]}x{size[1]}"
        )
    stroke = stroke.convert("L").point(lambda v: 255 if v >= 128 else 0)
    if so_far is None:
        return stroke
    return Image.fromarray(np.maximum(np.asarray(so_far), np.asarray(stroke)), "L")


def _aligned(paths, images: list) -> list[tuple]:
    """(picture, its written PNG or None) for a version's pictures; None for each when the written
    files do not line up with the pictures (then they are encoded)."""
    pngs = [p for p in paths or [] if str(p).endswith(".png")]
    return list(zip(images, pngs if len(pngs) == len(images) else [None] * len(images), strict=True))


def _edit_request(changes: dict) -> str:
    """What the merchant changed, as the version's request: "inspector: kelvin 2000, new seed"."""
    said = []
    for key, value in changes.items():
        if key == "scene_description":
            continue
        if key == "new_seed":
            said.append("new seed")
            continue
        if key == "loras":
            value = ", ".join(f"{p.name} {p.weight:g}" for p in value) or "none"
        elif isinstance(value, list):  # cover lines
            value = "; ".join(value) or "none"
        said.append(f"{key.replace('_preset', '').replace('_', ' ')} {value}")
    return f"inspector: {', '.join(said) or 'no change, rendered again'}"


def _looks_alike(a: Recipe, b: Recipe, ignored: set[str]) -> bool:
    return a.model_dump(exclude=ignored) == b.model_dump(exclude=ignored)

