"""The LLM planner: any OpenAI-compatible chat model plans and edits recipes through tool calls, each
checked against the recipe schema and the catalogs, with the embedded planner as the fallback."""

from __future__ import annotations

import json
import string
from functools import cached_property
from pathlib import Path
from typing import Any

import openai
import yaml
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from sceneshop.agent.commands import Message
from sceneshop.agent.llm.toolbox import Observation, ToolTurn, run_call, tools_for
from sceneshop.agent.planning import Conversation, Reply
from sceneshop.agent.recipe import Recipe
from sceneshop.agent.settings import Settings, get_settings
from sceneshop.tools.catalog import Catalog, default_folder, load_catalog
from sceneshop.tools.errors import CatalogError, SceneshopError

OPENAI_URL = "https://api.openai.com/v1"
# Local servers (llama.cpp, Ollama, vLLM) accept any key, but the openai client insists on one.
LOCAL_KEY = "sk-no-key-needed"


class LLMUnavailable(SceneshopError):
    """The endpoint did not give a usable answer (auth, rate limit, timeout, server down)."""


class LLMPlanner:
    """Plans with a LangChain chat model that calls the tools of agent/toolbox.py."""

    def __init__(
        self,
        model: BaseChatModel,
        *,
        catalog: Catalog | None = None,
        retries: int = 2,
        endpoint: str = OPENAI_URL,
        model_name: str | None = None,
        timeout_s: float | None = None,
        fallback=None,
    ):
        self.model = model
        self.catalog = catalog or load_catalog()
        self.retries = max(0, retries)
        # Room for every retry plus a look-up (list_scenes, recall_recipes) or two.
        self.max_steps = self.retries + 4
        self.endpoint = endpoint
        self.model_name = model_name or getattr(model, "model_name", None) or type(model).__name__
        self.timeout_s = timeout_s
        self._fallback = fallback
        self._bound: dict[tuple, Any] = {}

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, fallback=None) -> LLMPlanner:
        """A planner on `langchain_openai.ChatOpenAI`: OpenAI, a gateway or a local server, by settings."""
        from langchain_openai import ChatOpenAI

        s = settings or get_settings()
        model = ChatOpenAI(
            model=s.llm_model,
            api_key=s.openai_api_key or LOCAL_KEY,
            base_url=s.openai_base_url,
            timeout=s.llm_timeout_s,
            # Fail fast and plan offline for this turn rather than keep the chat waiting on backoff.
            max_retries=0,
            # Chat Completions is what every OpenAI-compatible server speaks.
            use_responses_api=False,
        )
        return cls(
            model,
            retries=s.llm_retries,
            endpoint=(s.openai_base_url or OPENAI_URL).rstrip("/"),
            model_name=s.llm_model,
            timeout_s=s.llm_timeout_s,
            fallback=fallback,
        )

    @property
    def name(self) -> str:
        return f"language model {self.model_name}"

    @property
    def fallback(self):
        if self._fallback is None:
            from sceneshop.agent.planner.embedded import EmbeddedPlanner

            self._fallback = EmbeddedPlanner()
        return self._fallback

    # ---------------------------------------------------- the Planner protocol (sceneshop.agent.planning)

    def plan(
        self,
        request: str | Message,
        parent: Recipe | None = None,
        *,
        image_size: tuple[int, int] | None = None,
    ) -> Recipe:
        """One recipe, a child of `parent` when given; never raises for a bad model reply (the
        embedded planner answers instead, and the recipe's notes say why)."""
        message = request if isinstance(request, Message) else None
        turn = self._tool_turn(message.text if message else request, parent, image_size)
        tool = "edit_recipe" if parent is not None else "plan_recipe"
        reply = self._converse(turn, tools_for(turn, [tool]), need_recipe=True, message=message)
        return reply.recipe

    def respond(self, message: Message, parent: Recipe | None, chat: Conversation) -> Reply:
        """One chat message with every tool offered: the model may look things up, plan, edit,
        re-render or save. A reply in words only (after a look-up) comes back with recipe None."""
        turn = self._tool_turn(
            message.words or message.text,
            parent,
            chat.image_size,
            user=chat.user,
            memory=chat.memory,
            thumbnail=chat.thumbnail,
        )
        return self._converse(turn, tools_for(turn), need_recipe=False, history=chat.history, message=message)

    @cached_property
    def system_prompt(self) -> str:
        return render_system_prompt(self.catalog)

    # ----------------------------------------------------------------------------- the loop

    def _converse(
        self, turn: ToolTurn, tools: list, *, need_recipe: bool, history=(), message: Message | None = None
    ) -> Reply:
        try:
            reply = self._loop(turn, tools, need_recipe, history)
        except LLMUnavailable as exc:
            reply = Reply(offline=f"{exc} — planned offline instead")
        if reply.offline is None:
            return reply
        recipe = self.fallback.plan(message or turn.request, turn.parent, image_size=turn.image_size)
        recipe.notes.append(reply.offline)
        return Reply(recipe=recipe, render=True, said=turn.said, offline=reply.offline)

    def _loop(self, turn: ToolTurn, tools: list, need_recipe: bool, history) -> Reply:
        """Think -> call a tool -> observe -> answer, at most max_steps model calls. Mistakes go back
        to the model as tool messages; after `retries` of them the embedded planner takes over."""
        names = [t.name for t in tools]
        recipe_tool = "edit_recipe" if "edit_recipe" in names else "plan_recipe"
        messages: list[BaseMessage] = [
            SystemMessage(self.system_prompt),
            HumanMessage(context_message(turn, history)),
        ]
        # Local servers often ignore tool_choice="auto" and answer in prose: force a call first.
        choice = recipe_tool if len(names) == 1 else "required"
        failures, problem = 0, "no usable tool call"
        for _ in range(self.max_steps):
            ai = self._ask(messages, tools, choice)
            messages.append(ai)
            calls = [*ai.tool_calls, *ai.invalid_tool_calls]
            if not calls:
                if choice == "auto" and not need_recipe:
                    return Reply(text=ai.text.strip(), said=turn.said)
                failures, problem = failures + 1, "it answered in words instead of calling a tool"
                if failures > self.retries:
                    break
                messages.append(HumanMessage(f"Answer by calling {recipe_tool}."))
                choice = recipe_tool
                continue
            observations = [run_call(turn, call, tools) for call in calls]
            messages += [_tool_message(o) for o in observations]
            ended = [o.tool for o in observations if o.ok and o.ends_turn]
            if ended:
                if "generate" in ended or not _changes_nothing(turn):
                    return Reply(text=ai.text.strip(), recipe=turn.recipe, render=turn.render, said=turn.said)
                # Small local models often "edit" without changing anything ("warmer" -> same kelvin).
                failures, problem = failures + 1, "its edit left the recipe unchanged"
                if failures > self.retries:
                    break
                turn.recipe, turn.render = None, False
                messages.append(HumanMessage(UNCHANGED.format(request=turn.request)))
                choice = recipe_tool
                continue
            failed = [o for o in observations if not o.ok]
            if failed:
                failures, problem = failures + 1, failed[-1].problem
                if failures > self.retries:
                    break
                choice = failed[-1].tool if failed[-1].tool in names else recipe_tool
            else:  # a look-up: let the model answer in words or go on to plan
                choice = recipe_tool if need_recipe else "auto"
        return Reply(
            offline=f"the language model's reply could not be used ({problem}); planned offline instead"
        )

    def _ask(self, messages: list[BaseMessage], tools: list, choice: str) -> AIMessage:
        key = (tuple(t.name for t in tools), choice)
        if key not in self._bound:
            self._bound[key] = self.model.bind_tools(tools, tool_choice=choice)
        try:
            return self._bound[key].invoke(messages)
        except openai.APIError as exc:
            raise LLMUnavailable(self.explain(exc)) from None
        except (ValueError, TypeError, KeyError) as exc:
            # A server that answers 200 with something that is not a chat completion.
            raise LLMUnavailable(
                f"the language model at {self.endpoint} sent a reply Sceneshop cannot read "
                f"({type(exc).__name__}: {str(exc)[:120]})"
            ) from None

    def _tool_turn(self, request, parent, image_size, **kw) -> ToolTurn:
        return ToolTurn(
            self.catalog,
            request,
            parent=parent,
            image_size=image_size,
            by=f"the language model ({self.model_name})",
            **kw,
        )

    def explain(self, exc: openai.APIError) -> str:
        """One line: what the endpoint said, and what to check."""
        where = f"the language model at {self.endpoint}"
        status = getattr(exc, "status_code", None)
        if isinstance(exc, openai.APITimeoutError):
            limit = f" within {self.timeout_s:g} s" if self.timeout_s else " in time"
            return f"{where} did not answer{limit}; check the server, or raise SCENESHOP_LLM_TIMEOUT_S"
        if isinstance(exc, openai.APIConnectionError):
            return f"{where} cannot be reached; check OPENAI_BASE_URL and that the server is running"
        if isinstance(exc, openai.AuthenticationError):
            return f"{where} refused the API key (401); check OPENAI_API_KEY"
        if isinstance(exc, openai.PermissionDeniedError):
            return f"{where} denied access to model '{self.model_name}' (403); check the key's permissions"
        if isinstance(exc, openai.NotFoundError):
            return f"{where} does not know the model '{self.model_name}' (404); check SCENESHOP_LLM_MODEL"
        if isinstance(exc, openai.RateLimitError):
            return f"{where} is rate-limiting requests (429); wait a minute or check the account's quota"
        if isinstance(exc, openai.InternalServerError):
            return f"{where} failed with a server error ({status}); try again later"
        if isinstance(exc, openai.BadRequestError):
            return f"{where} rejected the request (400: {_message(exc)}); does the model support tool calls?"
        if status is not None:
            return f"{where} answered HTTP {status} ({_message(exc)})"
        return f"{where} sent a reply that is not a valid chat completion ({_message(exc)})"


# ------------------------------------------------------------------------------------ the prompts


def render_system_prompt(catalog: Catalog) -> str:
    """prompts/system.md with the catalogs' names and the few-shot examples filled in."""
    template = string.Template(_prompt_file(catalog, "system.md").read_text(encoding="utf-8"))
    return template.substitute(
        scenes="\n".join(f"- {s.name}: {s.description}" for s in catalog.scenes.values()),
        lighting="\n".join(f"- {p.name}: {p.description} ({p.kelvin} K)" for p in catalog.lighting.values()),
        loras="\n".join(
            f"- {e.name} ({e.family}, {e.weight_min:g}–{e.weight_max:g}, default {e.weight_default:g}): "
            f"{e.description}"
            for e in catalog.loras.values()
        ),
        marketplaces="\n".join(f"- {m.name}: {m.description}" for m in catalog.marketplaces.values()),
        examples="\n\n".join(_example(e) for e in fewshot_examples(catalog)),
    ).strip()


def fewshot_examples(catalog: Catalog | None = None) -> list[dict]:
    path = _prompt_file(catalog, "fewshot.yaml")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path} does not parse: {exc}") from None


def _prompt_file(catalog: Catalog | None, name: str) -> Path:
    """The catalog folder's own copy when it has one (a custom catalog), else the shipped one."""
    if catalog is not None and (catalog.folder / name).exists():
        return catalog.folder / name
    return default_folder() / name


def _example(example: dict) -> str:
    lines = [f"User: {example['request']}"]
    if example.get("current"):
        lines.append(f"(current recipe: {json.dumps(example['current'])})")
    call = example["call"]
    lines.append(f"Call: {call['name']}({json.dumps(call.get('args') or {})})")
    return "\n".join(lines)


def context_message(turn: ToolTurn, history=()) -> str:
    """The user message: the product photo, the current recipe (on feedback) and the request."""
    lines = []
    if turn.image_size:
        w, h = turn.image_size
        lines.append(f"Product photo: {w}x{h} px (the product itself is kept exactly as photographed).")
    else:
        lines.append("No product photo: the picture is made from text alone (mode text_to_image).")
    if turn.parent is not None:
        lines.append("Current recipe (change it with edit_recipe; omitted fields stay):")
        lines.append(json.dumps(editable_fields(turn.parent), ensure_ascii=False))
        if history:
            lines.append("Earlier requests: " + " | ".join(history))
    lines.append(f"Request: {turn.request}")
    return "\n".join(lines)


def editable_fields(recipe: Recipe) -> dict:
    """The parts of a recipe the model may change, without ids, prompts or sampler settings."""
    return recipe.model_dump(
        include={"mode", "subject", "scene", "lighting", "time_of_day", "camera", "loras", "output", "seed"}
    )


def _tool_message(o: Observation) -> ToolMessage:
    return ToolMessage(o.text, tool_call_id=o.call_id, name=o.tool, status="success" if o.ok else "error")


def _message(exc: openai.APIError) -> str:
    body = getattr(exc, "body", None)  # the server's error object, when it sent JSON
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])[:160]
    return str(getattr(exc, "message", exc))[:160]


UNCHANGED = (
    "That edit left the recipe exactly as it was, but the user asked: '{request}'. Call edit_recipe "
    "again with the fields that do it (warmer = kelvin about 700 lower, cooler = higher, brighter = "
    "exposure up, less busy = clutter down, closer = framing close, another time = time_of_day)."
)


def _changes_nothing(turn: ToolTurn) -> bool:
    """True when a feedback turn's recipe looks exactly like the one it edits (ids and words aside)."""
    if turn.parent is None or turn.recipe is None:
        return False
    words = {"id", "parent_id", "request", "notes", "prompt", "negative_prompt"}
    return turn.recipe.model_dump(exclude=words) == turn.parent.model_dump(exclude=words)

