"""A conversation about one product: the chain of recipe versions and their pictures, and every kind of
message (request, feedback, question, cut-out complaint, command, what no engine can do) answered the
same way with either planner. State stays simple to store: recipes (JSON), pictures, a few names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from PIL import Image

from sceneshop.agent.commands import Message, read_message, request_message
from sceneshop.agent.planning import Conversation
from sceneshop.agent.recipe import Recipe, Subject
from sceneshop.agent.references import pick
from sceneshop.agent.wording import (
    CUTOUT,
    answer,
    brief,
    cannot,
    changes,
    describe,
    labels,
    look_name,
    recolour_question,
)
from sceneshop.tools.errors import Cancelled, InputError, SceneshopError

Kind = Literal["result", "clarify", "info", "error", "answer", "refuse", "cutout"]
# result: a picture is shown as the current version; clarify: a question back, maybe with choices;
# info: a command done in words; answer: a question or greeting answered; refuse: the active engine
# cannot do it (and says what it can); cutout: a complaint about the cut-out (the UI opens that step).

# Recipe fields that do not change what a picture shows.
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


@dataclass
class Turn:
    """The studio's answer to one chat message."""

    reply: str
    recipe: Recipe | None = None
    images: list[Image.Image] = field(default_factory=list)
    kind: Kind = "result"
    version: int | None = None  # the version shown, numbered from 1 in this session
    choices: list[Choice] = field(default_factory=list)  # a clarifying question's candidates


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
        self.product: Subject | None = None  # the product as the merchant called it ("my latte cup")
        self._given_mask: Image.Image | None = None
        self._product_mask: Image.Image | None = None  # segmented once, on first need
        self._offered_colour: str | None = None  # the background colour a clarifying question offered
        self._choices: list[Choice] = []  # what the last clarifying question offered
        self._kept: tuple[Recipe, tuple[str, ...]] | None = None  # "start over but keep it square"

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
        self.product = None  # a new photo is a new product, until the merchant names it

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
        base = self._version_of(recipe.parent_id)
        version = Version(len(self.versions) + 1, recipe, images)
        self.versions.append(version)
        self.current = version
        lines = [line for line in said if line]
        lines.append(f"Version {version.number}: {describe(recipe, self.studio.catalog)}.")
        if base is not None:
            changed = changes(base.recipe, recipe, self.studio.catalog)
            if changed:
                lines.append("Changed: " + "; ".join(changed) + ".")
            elif recipe.request:
                lines.append("I found nothing to change in that, so this is the same look. Try e.g. "
                             "'warmer', 'less busy', 'closer', 'at sunset', 'now on marble' or 'for Etsy'.")
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

    # ------------------------------------------------------------------------------- routing

    def _answer(self, text: str, progress, cancel) -> Turn:
        offered, self._offered_colour = self._offered_colour, None
        choices, self._choices = self._choices, []
        message = read_message(text, question_open=offered is not None, has_picture=self.current is not None)
        if choices and message.kind in ("go_back", "request", "feedback"):
            choice = self._chosen(message, choices)
            if choice is not None:
                rest = message.words if message.kind == "go_back" else ""
                return self._take(choice, rest, progress, cancel)
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
        if kind == "question":
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
        if kind == "undo":
            return self.undo()
        if kind == "go_back":
            return self._go_back(message, progress, cancel)
        colour = self._colour_needs_asking(message)
        if colour is not None:
            self._offered_colour = colour
            question = recolour_question(self._product_name(), colour)
            return Turn(question, self.recipe, kind="clarify", version=self._number())
        if kind == "cannot" and not message.words:
            reply = " ".join(cannot(why, self._product_name()) for why in message.cannot)
            return Turn(reply, self.recipe, kind="refuse", version=self._number())
        return self._make(message, progress, cancel)

    def _colour_needs_asking(self, message: Message) -> str | None:
        # Only where the product is kept pixel-exact does "make it green" have two readings.
        mode = self.recipe.mode if self.recipe else ("replace_background" if self.image else "text_to_image")
        if mode != "replace_background":
            return None
        return message.product_colour

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
        reply = self.studio.respond(message, self.recipe, chat, look=look)
        if message.kind == "question" or reply.recipe is None or not reply.render:
            words = " ".join([reply.text, *reply.said]).strip()
            if not words and message.kind == "question":
                words = answer(message.topic, self.recipe, catalog, photo=self.image is not None,
                               engine=self.studio.engine_words)
            kind = "answer" if message.kind == "question" else "info"
            return Turn(words or "OK.", self.recipe, kind=kind, version=self._number())
        recipe = reply.recipe
        if self.current is None and look is None and self._kept is not None:
            recipe = self.studio.keep(recipe, *self._kept)
        self._kept = None
        limits = list(message.cannot)
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
                found = [self.current or self.versions[-1]]
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
        """After going back to a version, the rest of the message ("the first one, but closer")."""
        if not rest or shown.kind != "result":
            return shown
        return self._make(request_message(rest, has_picture=True), progress, cancel)

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
        entry = memory.save(self.user, self.recipe, "saved", name, (), self._thumbnail())
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

    # -------------------------------------------------------------------------------- helpers

    def _show(self, version: Version, how: str) -> Turn:
        self.current = version
        reply = f"{how} version {version.number}: {describe(version.recipe, self.studio.catalog)}."
        return Turn(reply, version.recipe, list(version.images), "result", version.number)

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


def _looks_alike(a: Recipe, b: Recipe, ignored: set[str]) -> bool:
    return a.model_dump(exclude=ignored) == b.model_dump(exclude=ignored)

