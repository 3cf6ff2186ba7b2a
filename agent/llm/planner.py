"""The LLM planner: any OpenAI-compatible chat model plans and edits recipes through tool calls, each
checked against the recipe schema and the catalogs, with the embedded planner as the fallback."""

from __future__ import annotations

import contextvars
import json
import string
import time
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx
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
from sceneshop.tools.echo import capped
from sceneshop.tools.errors import CatalogError, SceneshopError

OPENAI_URL = "https://api.openai.com/v1"
# Local servers (llama.cpp, Ollama, vLLM) accept any key, but the openai client insists on one.
LOCAL_KEY = "sk-no-key-needed"
# A chat completion with one recipe tool call is a few KB; a server that sends more is broken or
# hostile (a 30 MB reply was read whole, three times: +300 MB RSS). The read stops here.
MAX_REPLY_BYTES = 2 * 2**20

# When the current planning turn must be over (time.monotonic()), for the HTTP client's hooks.
# httpx's timeouts are per read: a server that sends one byte a second never trips them.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("llm_deadline", default=None)


class LLMUnavailable(SceneshopError):
    """The endpoint did not give a usable answer (auth, rate limit, timeout, server down)."""


def guarded_http_client(endpoint: str, timeout_s: float | None) -> httpx.Client:
    """The HTTP client the LLM planner talks through: every request's timeouts are cut to the time
    left in the planning turn, and a reply is read only while the turn has time left and up to
    MAX_REPLY_BYTES. (Event hooks, not a custom transport, so proxies from the environment still
    apply.)"""

    def clamp(request: httpx.Request) -> None:
        deadline = _DEADLINE.get()
        if deadline is None:
            return
        left = max(0.001, deadline - time.monotonic())
        timeouts = request.extensions.get("timeout") or {}
        request.extensions["timeout"] = {
            key: left if value is None else min(value, left)
            for key, value in {"connect": None, "read": None, "write": None, "pool": None, **timeouts}.items()
        }

    def guard(response: httpx.Response) -> None:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_REPLY_BYTES:
            response.close()
            raise _too_large(endpoint, int(declared))
        response.stream = _GuardedStream(response.stream, response.request, endpoint, _DEADLINE.get())

    return httpx.Client(
        timeout=timeout_s, follow_redirects=True, event_hooks={"request": [clamp], "response": [guard]}
    )


class _GuardedStream(httpx.SyncByteStream):
    """A reply body that stops at MAX_REPLY_BYTES and at the turn's deadline."""

    def __init__(self, inner, request: httpx.Request, endpoint: str, deadline: float | None):
        self.inner, self.request, self.endpoint, self.deadline = inner, request, endpoint, deadline

    def __iter__(self):
        read = 0
        for chunk in self.inner:
            read += len(chunk)
            if read > MAX_REPLY_BYTES:
                raise _too_large(self.endpoint, None)
            if self.deadline is not None and time.monotonic() > self.deadline:
                # An httpx timeout, so the openai client reports it as one (APITimeoutError).
                raise httpx.ReadTimeout("the planning turn's time is up", request=self.request)
            yield chunk

    def close(self) -> None:
        self.inner.close()


def _too_large(endpoint: str, size: int | None) -> LLMUnavailable:
    said = f"{size / 2**20:.1f} MB" if size else f"more than {MAX_REPLY_BYTES // 2**20} MB"
    return LLMUnavailable(
        f"the language model at {endpoint} sent a reply of {said} (a recipe is a few KB; the limit is "
        f"{MAX_REPLY_BYTES // 2**20} MB); check the server"
    )


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
        endpoint = (s.openai_base_url or OPENAI_URL).rstrip("/")
        model = ChatOpenAI(
            model=s.llm_model,
            api_key=s.openai_api_key or LOCAL_KEY,
            base_url=s.openai_base_url,
            timeout=s.llm_timeout_s,
            http_client=guarded_http_client(endpoint, s.llm_timeout_s),
            # Fail fast and plan offline for this turn rather than keep the chat waiting on backoff.
            max_retries=0,
            # Chat Completions is what every OpenAI-compatible server speaks.
            use_responses_api=False,
        )
        return cls(
            model,
            retries=s.llm_retries,
            endpoint=endpoint,
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
        # timeout_s bounds the whole turn (connect, every read, every retry and look-up), not each
        # read: _ask checks it between model calls, the HTTP client's hooks during one.
        deadline = time.monotonic() + self.timeout_s if self.timeout_s else None
        token = _DEADLINE.set(deadline)
        try:
            reply = self._loop(turn, tools, need_recipe, history)
        except LLMUnavailable as exc:
            reply = Reply(offline=f"{exc} — planned offline instead")
        finally:
            _DEADLINE.reset(token)
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
        deadline = _DEADLINE.get()
        if deadline is not None and time.monotonic() >= deadline:
            raise LLMUnavailable(self._late())
        try:
            return self._bound[key].invoke(messages)
        except openai.APIError as exc:
            raise LLMUnavailable(self.explain(exc)) from None
        except (ValueError, TypeError, KeyError, RecursionError) as exc:
            # A server that answers 200 with something that is not a chat completion (or JSON nested
            # too deeply for Python's parser).
            raise LLMUnavailable(
                f"the language model at {self.endpoint} sent a reply Sceneshop cannot read "
                f"({type(exc).__name__}: {capped(str(exc))})"
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

    def _late(self) -> str:
        limit = f" within {self.timeout_s:g} s" if self.timeout_s else " in time"
        return (
            f"the language model at {self.endpoint} did not answer{limit}; check the server, or raise "
            "SCENESHOP_LLM_TIMEOUT_S"
        )

    def explain(self, exc: openai.APIError) -> str:
        """One line: what the endpoint said, and what to check."""
        where = f"the language model at {self.endpoint}"
        status = getattr(exc, "status_code", None)
        if isinstance(exc, openai.APITimeoutError):
            return self._late()
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
        include={"mode", "subject", "scene", "lighting", "time_of_day", "camera", "loras", "output", "seed",
                 "text", "retouch", "person"}
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

