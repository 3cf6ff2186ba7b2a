"""A conversation about one product: the chain of recipe versions and their pictures, and the chat
commands (undo, go back, compare, start over, clarify) handled the same way with either planner."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from PIL import Image

from sceneshop.agent.llm.toolbox import LoraPick, edit_fields, summarize
from sceneshop.agent.memory.entry import MemoryEntry
from sceneshop.agent.planner.embedded import is_undo, product_colour_request
from sceneshop.agent.recipe import MAX_SEED, Recipe
from sceneshop.tools.errors import Cancelled, RecipeError, SceneshopError
from sceneshop.tools.imageio import load_image, load_mask

Kind = Literal["result", "clarify", "info", "error"]


@dataclass
class Turn:
    """The studio's answer to one chat message."""

    reply: str
    recipe: Recipe | None = None
    images: list[Image.Image] = field(default_factory=list)
    kind: Kind = "result"
    version: int | None = None  # the version shown, numbered from 1 in this session
    look: MemoryEntry | None = None  # the saved look this turn applied (apply_look)


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
        # (session id, id(picture)) -> (picture, its file in the work store): see `_stored`
        self._files: dict[tuple[str, int], tuple[Image.Image, Path]] = {}

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
        progress=None,
        cancel=None,
    ) -> Turn:
        """The recipe inspector: the current recipe with these field values, rendered as a child
        version. None keeps a field, and so does a value equal to the current one (only real changes
        are edited, named in the version's request). `time_of_day` and `marketplace` take "none" to
        clear; `loras` is the complete new list of (name, weight); `seed` is an exact seed, and
        `new_seed` draws a different one instead."""
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
            reply = f"👍 Saved version {number} to your looks ({summarize(entry.recipe)})."
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

    def _edited(self, *, scene, lighting, kelvin, time_of_day, framing, loras, marketplace, seed, new_seed):
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
        if offered is not None:
            if _YES.fullmatch(_plain(text)):
                return self._make(f"{offered} background", progress, cancel)
            if _NO.fullmatch(_plain(text)):
                return Turn(
                    "OK, nothing changed. The product is never repainted: its colour stays as photographed. "
                    "To show it in another colour, upload a photo of that variant.",
                    self.recipe,
                    kind="info",
                )
        number = version_asked(text)
        if number is not None:
            return self.go_back(number)
        if is_undo(text):
            return self.undo()
        pair = compare_asked(text)
        if pair is not None:
            return self.compare(*pair)
        rest = start_over_asked(text)
        if rest is not None:
            self.start_over()
            if rest:
                return self._make(rest, progress, cancel)
            return Turn("Starting over with the same product. What scene would you like?", kind="info")
        name = save_asked(text)
        if name is not None:
            return self._save(name)  # "" = unnamed: memory labels it by its request
        colour = self._colour_needs_asking(text)
        if colour is not None:
            self._offered_colour = colour
            return Turn(
                f"Do you mean a {colour} background? The product itself is never repainted.",
                self.recipe,
                kind="clarify",
            )
        return self._make(text, progress, cancel)

    def _colour_needs_asking(self, text: str) -> str | None:
        # Only where the product is kept pixel-exact does "make it green" have two readings.
        mode = self.recipe.mode if self.recipe else ("replace_background" if self.image else "text_to_image")
        if mode != "replace_background":
            return None
        return product_colour_request(text)

    def _make(self, text: str, progress, cancel) -> Turn:
        """Plan (or edit) with the studio's planner, render, and make the result the current version."""
        parent = self.recipe
        size = self.image.size if self.image is not None else None
        planner = self.studio.planner
        said: list[str] = []
        lead = ""
        if hasattr(planner, "converse"):  # the LLM planner: the model may also look up, re-render, save
            # As Studio.plan does for the embedded planner: "like last time" starts from memory.
            recall = self.studio.recall(text, self.user) if parent is None else None
            reply = planner.converse(
                text,
                recall.recipe if recall is not None else parent,
                image_size=size,
                user=self.user,
                memory=self.studio.memory,
                thumbnail=self._thumbnail(),
                history=self._history(),
            )
            said, lead = reply.said, reply.text
            if reply.recipe is None or not reply.render:
                words = " ".join([lead, *said]).strip() or "OK."
                return Turn(words, self.recipe, kind="info", version=self._number())
            recipe = self.studio.apply_recall(reply.recipe, recall)
        else:
            recipe = self.studio.plan(text, parent, image_size=size, user=self.user)
        return self.add_version(recipe, progress=progress, cancel=cancel, said=(lead, *said))

    def _save(self, name: str) -> Turn:
        return self.save(name)

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
        mask = self._given_mask if given else self._product_mask  # the cut-out made, if any: not redone
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
            "extra": {"offered_colour": self._offered_colour},
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
            session._product_mask = mask
        for stored in state.get("versions") or []:
            recipe = Recipe.from_json(stored["recipe"])
            images = [picture(path) for path in stored.get("images") or []]
            session.versions.append(Version(int(stored["number"]), recipe, images))
        current = state.get("current")
        session.current = next((v for v in session.versions if v.number == current), None)
        session._offered_colour = (state.get("extra") or {}).get("offered_colour")
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
        said.append(f"{key.replace('_preset', '').replace('_', ' ')} {value}")
    return f"inspector: {', '.join(said) or 'no change, rendered again'}"


# ------------------------------------------------------------------------ reading the commands

_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}
_REF = r"(?:(?:version|v|number|no\.?|#)\s*(\d+)|(\d+)(?:st|nd|rd|th)|(" + "|".join(_ORDINALS) + "))"
_GO_BACK = re.compile(
    r"(?:(?:let'?s|can we|could we|could you|please)\s+)?"
    r"(?:(?:go|get|jump|switch|return|revert|take me|bring me|change)\s+back|back|go|return|revert|switch"
    r"|restore|show(?:\s+me)?|use|pick|take)?\s*(?:to\s+)?(?:the\s+)?"
    + _REF
    + r"(?:\s+(?:one|version|picture|image|recipe|again))?(?:\s+please)?"
)
_COMPARE = re.compile(r"\bcompare\b|\bwhat(?:'s|\s+is|\s+has)?\s+changed\b|\bdiff(?:erence)?s?\s+between\b")
_START_OVER = re.compile(
    r"\b(?:start(?:ing)?\s+(?:over|again|afresh|from\s+scratch)|from\s+scratch|fresh\s+start|begin\s+again)\b"
    r"(?:\s+with\s+the\s+same\s+(?:product|photo|image|picture|item))?"
)
_SAVE = re.compile(
    r"(?:please\s+)?(?:save|remember|keep)\s+(?:this|it|that)(?:\s+(?:look|recipe|one|version))?"
    r"(?:\s+(?:as|under)\s+[\"']?(?P<name>[^\"']+?)[\"']?)?",
    re.I,
)
_YES = re.compile(
    r"(?:yes|yeah|yep|yup|sure|ok|okay|please|correct|right|exactly|do it|go ahead)?"
    r"(?:\s*(?:please|do it|go ahead))?"
    r"(?:\s*(?:i mean\s+|just\s+)?(?:the\s+)?(?:background|backdrop|scene)(?:\s+please)?)?"
)
_NO = re.compile(
    r"(?:no|nope|nah|never mind|cancel|forget it)(?:\s*(?:i mean\s+)?(?:the\s+)?product)?|(?:the\s+)?product"
)


def _plain(text: str) -> str:
    """Lower case, punctuation as spaces, single spaces: "Yes, please!" -> "yes please"."""
    return " ".join(re.sub(r"[^\w\s'#]", " ", text.lower()).split())


def version_asked(text: str) -> int | None:
    """ "go back to the second one", "version 2", "back to v3" -> 2, 2, 3; anything else -> None."""
    m = _GO_BACK.fullmatch(_plain(text))
    if not m or not any(m.groups()):
        return None
    digits, nth, word = m.groups()
    return int(digits or nth) if (digits or nth) else _ORDINALS[word]


def compare_asked(text: str) -> tuple[int | None, int | None] | None:
    """ "compare the last two" -> (None, None); "compare version 1 and 3" -> (1, 3); else None."""
    plain = _plain(text)
    if not _COMPARE.search(plain):
        return None
    numbers = [int(n) for n in re.findall(r"\d+", plain)]
    numbers += [_ORDINALS[w] for w in re.findall(r"\b(" + "|".join(_ORDINALS) + r")\b", plain)]
    return (numbers[0], numbers[1]) if len(numbers) >= 2 else (None, None)


def start_over_asked(text: str) -> str | None:
    """The rest of the message after "start over (with the same product)", or None when not asked."""
    m = _START_OVER.search(text.lower())
    if not m:
        return None
    rest = (text[: m.start()] + " " + text[m.end() :]).strip(" ,.;:!-—")
    rest = re.sub(r"^(?:let'?s|please|ok|okay|and|then)\b[\s,]*", "", rest, flags=re.I).strip(" ,.;:!-—")
    return rest if re.search(r"[a-zA-Z]{3}", rest) else ""


def save_asked(text: str) -> str | None:
    """ "save this as summer look" -> "summer look"; "save this" -> ""; anything else -> None."""
    m = _SAVE.fullmatch(text.strip(" .!"))
    if not m:
        return None
    return (m.group("name") or "").strip()


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
