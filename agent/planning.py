"""What every planner offers the studio: the Planner protocol that the embedded planner
(agent/planner/) and the LLM planner (agent/llm/) both implement, the Conversation a chat message
belongs to, and the Reply a planner gives to one message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sceneshop.agent.commands import Message
from sceneshop.agent.recipe import Recipe


@dataclass
class Conversation:
    """What a planner may know of the chat a message belongs to."""

    image_size: tuple[int, int] | None = None  # the product photo's (width, height); None: no photo
    user: str = "local"
    memory: Any = None  # sceneshop.agent.memory.memory.RecipeMemory, when the studio has one
    thumbnail: Any = None  # the current picture (stored with a look the planner saves)
    history: tuple[str, ...] = ()  # the requests that led to the current recipe, oldest first
    product: Any = None  # sceneshop.agent.recipe.Subject: the product as the merchant called it
    engine: str = "image engine"  # what makes the pictures, in plain words (for answers)


@dataclass
class Reply:
    """A planner's answer to one chat message."""

    text: str = ""  # the planner's own words, if any
    recipe: Recipe | None = None  # a new version to show (None: an answer in words only)
    render: bool = False  # make pictures of `recipe`
    said: list[str] = field(default_factory=list)  # facts from the planner's actions ("Saved as 'x'.")
    offline: str | None = None  # why the embedded planner answered instead of the LLM, shown to the user


class Planner(Protocol):
    """Turns a merchant's words into recipes. Every recipe a planner returns is already checked
    against the catalog and has its prompt composed."""

    name: str  # how the studio's banner names it

    def plan(
        self,
        request: str | Message,
        parent: Recipe | None = None,
        *,
        image_size: tuple[int, int] | None = None,
    ) -> Recipe:
        """One recipe: an edit of `parent` (a child of it) when given, else a new one."""
        ...

    def respond(self, message: Message, parent: Recipe | None, chat: Conversation) -> Reply:
        """One chat message that is not a session command: a recipe to render (new or an edit of
        `parent`), or an answer in words when the message asks for no picture."""
        ...
