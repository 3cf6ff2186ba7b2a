"""The Gradio studio: a thin web face (chat with pictures, recipe inspector, memory browser) over the
Studio, Session and RecipeMemory APIs that the CLI uses too.

Per browser tab a `Tab` (held in gr.State) keeps that tab's Session and what the page shows. The
user is the Gradio login name when `settings.users` is set, else a random id kept in the browser's
localStorage (gr.BrowserState), so a reload keeps the user and their memory. Every picture and recipe
is written under <data_dir>/results/<keyed hash of the user>/ with names this module makes; nothing
a user types becomes part of a path.
"""

from __future__ import annotations

import os

# Before gradio is imported (it reads this at import time): the studio never phones home.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import hashlib  # noqa: E402
import hmac  # noqa: E402
import logging  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import threading  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402
from PIL import Image  # noqa: E402

from sceneshop.agent.llm.toolbox import LoraPick, ToolTurn, edit_recipe, summarize  # noqa: E402
from sceneshop.agent.recipe import MAX_SEED, Recipe  # noqa: E402
from sceneshop.agent.session import Session, Turn  # noqa: E402
from sceneshop.agent.settings import Settings, get_settings  # noqa: E402
from sceneshop.tools.errors import InputError, RecipeError, SceneshopError  # noqa: E402
from sceneshop.tools.imageio import load_image, save_png, write_atomic  # noqa: E402

log = logging.getLogger("sceneshop.app")
# Gradio finds a progress tracker by a parameter's default; updates go to the running event.
PROGRESS = gr.Progress()

LORA_ROWS = 3  # fixed rows in the inspector (rerender's signature); further LoRAs of a recipe are kept
NONE = "none"
INSPECTOR_REQUEST = "inspector"
STORAGE_KEY = "sceneshop-user"
WELCOME = (
    "**Attach a product photo (📎) and say what you want**, e.g. *put it on a beach at sunset*. "
    "Then give feedback in plain words: *warmer*, *less busy*, *for Amazon*, *undo*, *version 2*."
)
CSS = """
#banner {padding: 4px 8px; border-radius: 8px; background: var(--background-fill-secondary)}
#banner p {margin: 0; font-size: 0.9em}
#whoami {text-align: right; align-self: center}
/* The merchant's upload as a thumbnail, results large but with their recipe line in view. */
#chat .user-row img {max-height: 120px; width: auto}
#chat .bot-row img {max-height: 300px; width: auto}
#chat button[aria-label="Share"] {display: none}  /* sharing to Hugging Face: not from a private studio */
#feedback-row button {min-width: 0}
#inspector .gr-form {gap: 6px}
"""


# ------------------------------------------------------------------------------------ tab state


@dataclass
class Tab:
    """One browser tab: its user, its Session, the chat as shown, and the files of each version."""

    user: str
    session: Session
    folder: Path  # <data_dir>/results/<hash>: this user's downloads
    history: list[dict] = field(default_factory=list)
    files: dict[str, list[str]] = field(default_factory=dict)  # recipe id -> [png..., json]
    memory_ids: list[str] = field(default_factory=list)  # memory gallery order
    uploads: int = 0
    cancel: threading.Event | None = None  # the Stop button sets it; armed per job
    lock: threading.Lock = field(default_factory=threading.Lock)  # one job at a time per tab

    def arm(self) -> threading.Event:
        """The cancel flag of the job about to run (pre-armed when its message was echoed)."""
        if self.cancel is None:
            self.cancel = threading.Event()
        return self.cancel


class StudioContext:
    """What every handler needs: the studio, the memory, the settings and the installation's keys."""

    def __init__(self, studio, memory, settings: Settings):
        self.studio = studio
        self.memory = memory
        self.settings = settings
        self.catalog = studio.catalog
        self.results = Path(settings.data_dir) / "results"
        self._secret = _secret(Path(settings.data_dir))
        # Gradio sends BrowserState's key to every page (the browser encrypts with it), so it is only
        # derived from the secret, which itself never leaves the server.
        self.browser_key = self._derive("browser-state")

    def _derive(self, purpose: str) -> str:
        return hmac.new(self._secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()[:32]

    def user_folder(self, user: str) -> Path:
        # Keyed so that a known user name does not reveal where that user's pictures are.
        return self.results / self._derive(f"results:{user}")[:24]

    def new_tab(self, user: str) -> Tab:
        session = Session(self.studio, user=user)
        return Tab(user=user, session=session, folder=self.user_folder(user))


def _secret(data_dir: Path) -> str:
    """A per-installation secret (created once) for the browser id's encryption and the result
    folder names; it must survive restarts or every browser would become a new user."""
    path = data_dir / "studio-secret"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(16)
    # Written aside, then linked into place: a second process starting at the same moment sees
    # either no file or the whole secret, and the first link wins.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(value)
        os.link(tmp, path)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    finally:
        tmp.unlink(missing_ok=True)
    return value


_BROWSER_ID = re.compile(r"web-[0-9a-f]{24}")


def user_for(request: gr.Request | None, browser_id: str | None = None) -> str:
    """The login name when Gradio auth is on; else the browser's stored id; else a new one."""
    name = getattr(request, "username", None) if request is not None else None
    if name:
        # Memory ids allow 1-64 of [A-Za-z0-9._@+-]; other login names map to a stable hash.
        if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}", name):
            return name
        return "user-" + hashlib.sha256(name.encode()).hexdigest()[:20]
    if isinstance(browser_id, str) and _BROWSER_ID.fullmatch(browser_id):
        return browser_id
    return "web-" + secrets.token_hex(12)


# ---------------------------------------------------------------------------------- the app


def build_app(studio=None, memory=None) -> gr.Blocks:
    """The studio UI over `studio` (default: Studio from settings, with the recipe memory)."""
    from sceneshop.agent.studio import Studio

    if studio is None:
        studio = Studio.from_settings() if memory is None else Studio(get_settings(), memory=memory)
        settings, memory = studio.settings, studio.memory
        if studio.memory_note:
            log.warning(studio.memory_note)
    else:
        settings = studio.settings
        if memory is None:
            memory = studio.memory
    ctx = StudioContext(studio, memory, settings)
    cat = ctx.catalog
    scenes = [(name.replace("_", " "), name) for name in cat.scenes] + [("custom", "custom")]
    lights = [(f"{name.replace('_', ' ')} ({p.kelvin} K)", name) for name, p in cat.lighting.items()]
    loras = [(NONE, NONE)] + [(f"{name} ({e.family})", name) for name, e in cat.loras.items()]
    markets = [("none (photo size)", NONE)] + [
        (f"{name.replace('_', ' ')} {m.width}×{m.height}", name) for name, m in cat.marketplaces.items()
    ]
    lora_max = max((e.weight_max for e in cat.loras.values()), default=1.0)

    with gr.Blocks(title="Sceneshop studio", fill_width=True, analytics_enabled=False) as demo:
        tab = gr.State(None)
        browser_id = gr.BrowserState(None, storage_key=STORAGE_KEY, secret=ctx.browser_key)
        with gr.Row(equal_height=True):
            gr.Markdown("## 🛍️ Sceneshop studio", container=False)
            whoami = gr.Markdown("", elem_id="whoami", container=False)
        gr.Markdown(studio.banner(), elem_id="banner", container=False)

        with gr.Row():
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(
                    label="Studio chat",
                    height=680,
                    placeholder=WELCOME,
                    feedback_options=None,
                    buttons=["copy"],
                    elem_id="chat",
                )
                box = gr.MultimodalTextbox(
                    file_types=["image"],
                    file_count="single",
                    sources=["upload"],
                    placeholder="Attach a product photo and describe the scene, or give feedback…",
                    label="Message",
                    show_label=False,
                    elem_id="message",
                )
                with gr.Row(elem_id="feedback-row"):
                    stop_btn = gr.Button("⏹ Stop", size="sm", elem_id="stop")
                    undo_btn = gr.Button("↩ Undo", size="sm", elem_id="undo")
                    like_btn = gr.Button("👍 Like", size="sm", elem_id="like")
                    dislike_btn = gr.Button("👎 Dislike", size="sm", elem_id="dislike")
                downloads = gr.File(
                    label="Current version: PNG + recipe JSON",
                    file_count="multiple",
                    interactive=False,
                    height=120,
                    elem_id="downloads",
                )
            with gr.Column(scale=2, min_width=360):
                with gr.Tabs():
                    with gr.Tab("Recipe", id="recipe", elem_id="inspector"):
                        version_md = gr.Markdown("No version yet.", label="Version", elem_id="version-info")
                        scene = gr.Dropdown(scenes, value=None, label="Scene", elem_id="scene")
                        with gr.Row():
                            lighting = gr.Dropdown(lights, value=None, label="Lighting", scale=2)
                            kelvin = gr.Slider(
                                1500, 12000, value=5500, step=100, label="Kelvin", scale=2, elem_id="kelvin"
                            )
                        with gr.Row():
                            time_of_day = gr.Dropdown(
                                [NONE, "sunrise", "day", "sunset", "night"], value=NONE, label="Time of day"
                            )
                            framing = gr.Dropdown(
                                ["close", "medium", "wide"], value="medium", label="Framing"
                            )
                        lora_names, lora_weights = [], []
                        for i in range(LORA_ROWS):
                            with gr.Row():
                                lora_names.append(
                                    gr.Dropdown(loras, value=NONE, label=f"LoRA {i + 1}", scale=3)
                                )
                                lora_weights.append(
                                    gr.Slider(
                                        0.0,
                                        lora_max,
                                        value=0.0,
                                        step=0.05,
                                        label=f"LoRA {i + 1} weight",
                                        show_label=False,
                                        scale=2,
                                    )
                                )
                        with gr.Row():
                            seed = gr.Number(
                                value=0, precision=0, label="Seed", minimum=0, scale=2, elem_id="seed"
                            )
                            seed_lock = gr.Checkbox(
                                value=True, label="🔒 Lock seed", scale=1, elem_id="seed-lock"
                            )
                        with gr.Row():
                            market = gr.Dropdown(markets, value=NONE, label="Marketplace", scale=2)
                            size_md = gr.Textbox("", label="Size", interactive=False, scale=1)
                        rerender_btn = gr.Button("Re-render", variant="primary", elem_id="rerender")
                        prompt = gr.Textbox(
                            "", label="Prompt sent to the engine", lines=3, max_lines=8, interactive=False
                        )
                        with gr.Accordion("Recipe JSON", open=False):
                            recipe_json = gr.Code("", language="json", label="Recipe JSON", interactive=False)
                    with gr.Tab("Versions", id="versions"):
                        versions = gr.Gallery(
                            label="Versions (click one to go back to it)",
                            columns=3,
                            height="auto",
                            fit_columns=False,
                            object_fit="contain",
                            allow_preview=False,
                            elem_id="versions",
                        )
                    with gr.Tab("Memory", id="memory", elem_id="memory-tab"):
                        with gr.Row():
                            memory_query = gr.Textbox(
                                placeholder="search your looks, e.g. 'beach'",
                                label="Search",
                                show_label=False,
                                scale=3,
                            )
                            memory_refresh = gr.Button("🔎 Search", size="sm", scale=1)
                        memory_gallery = gr.Gallery(
                            label="Your saved recipes",
                            columns=3,
                            height=260,
                            fit_columns=False,
                            object_fit="contain",
                            allow_preview=False,
                            elem_id="memory",
                        )
                        memory_md = gr.Markdown(
                            "Click a saved recipe to see it.", label="Memory", elem_id="memory-info"
                        )
                        memory_table = gr.Dataframe(
                            headers=["look", "rating", "saved", "id"],
                            datatype=["str", "str", "str", "str"],
                            value=[],
                            interactive=False,
                            label="Saved recipes",
                            show_label=False,
                            max_height=200,
                            column_widths=["52%", "14%", "22%", "12%"],
                            wrap=True,
                            elem_id="memory-table",
                        )
                        # The chosen entry's id: set by clicking a thumbnail or a row; API clients pass it.
                        memory_choice = gr.Textbox("", visible=False, label="Memory entry id")
                        with gr.Row():
                            apply_btn = gr.Button(
                                "Apply to current product", variant="primary", elem_id="apply"
                            )
                            forget_btn = gr.Button("🗑 Forget", size="sm", elem_id="forget")

        fields = [
            scene,
            lighting,
            kelvin,
            time_of_day,
            framing,
            *[c for row in zip(lora_names, lora_weights, strict=True) for c in row],  # name, weight, …
            seed,
            seed_lock,
            market,
        ]
        view = [chatbot, versions, downloads, version_md, size_md, prompt, recipe_json, *fields]
        memory_view = [memory_gallery, memory_table, memory_md, memory_choice]

        # ---- views ------------------------------------------------------------------------------

        def chat_view(t: Tab) -> dict:
            """Everything that follows the session's current version."""
            s = t.session
            out = {
                chatbot: t.history,
                versions: [
                    (t.files[v.recipe.id][0], f"v{v.number}") for v in s.versions if v.recipe.id in t.files
                ],
            }
            recipe = s.recipe
            if recipe is None:
                out.update(
                    {downloads: None, version_md: "No version yet.", size_md: "", prompt: "", recipe_json: ""}
                )
                return out
            market_name = recipe.output.preset or NONE
            width, height = recipe.width, recipe.height
            if recipe.output.preset:
                m = cat.marketplace(recipe.output.preset)
                width, height = m.width, m.height
            names = [c.name for c in recipe.loras[:LORA_ROWS]] + [NONE] * LORA_ROWS
            weights = [c.weight for c in recipe.loras[:LORA_ROWS]] + [0.0] * LORA_ROWS
            out.update(
                {
                    downloads: t.files.get(recipe.id),
                    version_md: f"**Version {s.current.number}** — {recipe.request or 'no request'}",
                    size_md: f"{width}×{height}",
                    prompt: recipe.prompt,
                    recipe_json: recipe.to_json(),
                    scene: recipe.scene.preset,
                    lighting: recipe.lighting.preset,
                    kelvin: recipe.lighting.kelvin,
                    time_of_day: recipe.time_of_day or NONE,
                    framing: recipe.camera.framing,
                    seed: recipe.seed,
                    market: market_name,
                }
            )
            for i in range(LORA_ROWS):
                out[lora_names[i]] = names[i]
                out[lora_weights[i]] = weights[i]
            return out

        def memory_listing(t: Tab, query: str = "") -> dict:
            if ctx.memory is None:
                return {
                    memory_gallery: [],
                    memory_table: [],
                    memory_md: "Recipe memory is not available in this studio.",
                    memory_choice: "",
                }
            query = (query or "").strip()
            if query:
                entries = [e for e, _ in ctx.memory.search(t.user, query, k=24)]
            else:
                entries = ctx.memory.list(t.user)
            t.memory_ids = [e.id for e in entries]
            items = [(_thumbnail(e.thumbnail), _memory_caption(e)) for e in entries]
            rows = [[_memory_caption(e), e.rating, _when(e.updated), e.id] for e in entries]
            if entries:
                text = f"{len(entries)} saved recipe(s). Click one, then *Apply to current product*."
            else:
                text = "Nothing saved yet: 👍 a result to keep its recipe here." if not query else "No match."
            return {memory_gallery: items, memory_table: rows, memory_md: text, memory_choice: ""}

        def ensure(t: Tab | None, request: gr.Request) -> Tab:
            # API clients never run the page's load event: they get a tab on first call.
            return t if t is not None else ctx.new_tab(user_for(request))

        def whoami_text(t: Tab) -> str:
            if ctx.settings.users:
                return f"Signed in as **{t.user}**"
            return "Your looks are kept in this browser"

        # ---- handlers ---------------------------------------------------------------------------

        def on_load(stored_id, request: gr.Request):
            t = ctx.new_tab(user_for(request, stored_id))
            remembered = gr.skip() if ctx.settings.users else t.user  # a login needs no browser id
            return {
                tab: t,
                browser_id: remembered,
                whoami: whoami_text(t),
                **memory_listing(t),
                **chat_view(t),
            }

        def echo(message, t, request: gr.Request):
            """Shows the message at once and locks the box while the turn waits in the queue."""
            t = ensure(t, request)
            t.cancel = threading.Event()  # Stop may be pressed while this turn is still queued
            preview = list(t.history)
            text, files = _message_parts(message)
            if files:
                preview.append({"role": "user", "content": f"📎 {Path(files[0]).name}"})
            if text:
                preview.append({"role": "user", "content": text})
            preview.append({"role": "assistant", "content": "⏳ Working on it…"})
            return {tab: t, chatbot: preview, box: gr.MultimodalTextbox(interactive=False)}

        def respond(message, t, request: gr.Request, progress=PROGRESS):
            """One chat turn: an optional new product photo plus a request or feedback."""
            t = ensure(t, request)
            text, files = _message_parts(message)
            run_job(t, lambda cancel, shown: _turn(t, text, files, cancel, progress, shown))
            return {tab: t, box: gr.MultimodalTextbox(value=None, interactive=True), **chat_view(t)}

        def rerender(
            t,
            scene_preset: str,
            lighting_preset: str,
            kelvin_value: float,
            time: str,
            framing_value: str,
            lora_1: str,
            lora_1_weight: float,
            lora_2: str,
            lora_2_weight: float,
            lora_3: str,
            lora_3_weight: float,
            seed_value: float,
            seed_locked: bool,
            marketplace: str,
            request: gr.Request,
            progress=PROGRESS,
        ):
            """Renders the inspector's values as a child of the current version (only changed fields
            are edited; an unlocked seed draws a new one)."""
            t = ensure(t, request)
            pairs = [(lora_1, lora_1_weight), (lora_2, lora_2_weight), (lora_3, lora_3_weight)]
            edits = {
                "scene": scene_preset,
                "lighting": lighting_preset,
                "kelvin": kelvin_value,
                "time_of_day": time,
                "framing": framing_value,
                "loras": [(n, w if w is not None else 0.0) for n, w in pairs if n and n != NONE],
                "seed": seed_value,
                "seed_lock": seed_locked,
                "market": marketplace,
            }

            def job(cancel, shown):
                shown.append({"role": "user", "content": "🎛️ Re-render with the inspector's settings"})
                if t.session.recipe is None:
                    return Turn("Make a picture first; then edit its recipe here.", kind="info")
                try:
                    recipe = inspector_recipe(ctx, t, edits)
                except SceneshopError as exc:
                    return Turn(str(exc), t.session.recipe, kind="error")
                return t.session.render(recipe, progress=_progress(progress), cancel=cancel)

            run_job(t, job)
            return {tab: t, **chat_view(t)}

        def stop(t):
            if t is not None and t.cancel is not None:
                t.cancel.set()
                gr.Info("Stopping…")

        def undo(t, request: gr.Request):
            t = ensure(t, request)
            with t.lock:
                t.history.append({"role": "user", "content": "↩ Undo"})
                _show_turn(t, t.session.undo())
            return {tab: t, **chat_view(t)}

        def clear_chat(t, request: gr.Request):
            """The chat's 🗑: a clean conversation for the same product (earlier versions stay listed)."""
            t = ensure(t, request)
            with t.lock:
                t.history = []
                t.session.start_over()
            return {tab: t, **chat_view(t)}

        def rate(t, rating: str, request: gr.Request):
            t = ensure(t, request)
            with t.lock:
                s = t.session
                if s.current is None:
                    gr.Warning("Make a picture first, then rate it.")
                    return {tab: t, **chat_view(t)}
                if ctx.memory is None:
                    gr.Warning("Recipe memory is not available in this studio.")
                    return {tab: t, **chat_view(t)}
                thumb = s.current.images[0] if s.current.images else None
                try:
                    entry = ctx.memory.save(t.user, s.recipe, rating=rating, thumbnail=thumb)
                except SceneshopError as exc:
                    reply = f"⚠️ {exc}"
                else:
                    if rating == "liked":
                        reply = (
                            f"👍 Saved version {s.current.number} to your looks ({summarize(entry.recipe)})."
                        )
                    else:
                        reply = f"👎 Noted: I will steer away from version {s.current.number} next time."
                t.history.append({"role": "assistant", "content": reply})
            return {tab: t, **chat_view(t), **memory_listing(t)}

        def like(t, request: gr.Request):
            return rate(t, "liked", request)

        def dislike(t, request: gr.Request):
            return rate(t, "disliked", request)

        def pick_version(t, evt: gr.SelectData, request: gr.Request):
            t = ensure(t, request)
            with t.lock:
                shown = [v for v in t.session.versions if v.recipe.id in t.files]
                if 0 <= evt.index < len(shown):
                    number = shown[evt.index].number
                    t.history.append({"role": "user", "content": f"Back to version {number}"})
                    _show_turn(t, t.session.go_back(number))
            return {tab: t, **chat_view(t)}

        def search_memory(t, query, request: gr.Request):
            t = ensure(t, request)
            try:
                return {tab: t, **memory_listing(t, query)}
            except SceneshopError as exc:
                return {tab: t, memory_gallery: [], memory_table: [], memory_md: f"⚠️ {exc}"}

        def pick_memory(t, evt: gr.SelectData, request: gr.Request):
            t = ensure(t, request)
            index = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index  # table: [row, col]
            if ctx.memory is None or not 0 <= index < len(t.memory_ids):
                return {tab: t, memory_md: "Click a saved recipe to see it.", memory_choice: ""}
            choice = t.memory_ids[index]
            try:
                entry = ctx.memory.get(t.user, choice)
                text = f"**{_memory_caption(entry)}**\n\n{summarize(entry.recipe)}"
            except SceneshopError as exc:
                return {tab: t, memory_md: f"⚠️ {exc}", memory_choice: ""}
            return {tab: t, memory_md: text, memory_choice: choice}

        def apply_memory(t, choice, request: gr.Request, progress=PROGRESS):
            """Renders the chosen saved recipe, unchanged, on the current product."""
            t = ensure(t, request)
            run_job(t, lambda cancel, shown: _apply_turn(t, choice, cancel, progress, shown))
            return {tab: t, **chat_view(t)}

        def _apply_turn(t, choice, cancel, progress, shown):
            shown.append({"role": "user", "content": "⭐ Apply a saved recipe"})
            if ctx.memory is None or not choice:
                return Turn("Pick a saved recipe in the Memory tab first.", kind="info")
            try:
                entry = ctx.memory.get(t.user, choice)
                recipe = entry.recipe.child(entry.request)
            except SceneshopError as exc:
                return Turn(str(exc), t.session.recipe, kind="error")
            shown[-1] = {"role": "user", "content": f"⭐ Apply my saved recipe: {_memory_caption(entry)}"}
            if t.session.image is None and recipe.mode != "text_to_image":
                return Turn(
                    "Attach a product photo first (📎), then apply the saved recipe to it.", kind="info"
                )
            recipe.notes.append("your saved recipe, applied unchanged")
            return t.session.render(recipe, progress=_progress(progress), cancel=cancel)

        def forget_memory(t, choice, request: gr.Request):
            t = ensure(t, request)
            if ctx.memory is not None and choice:
                try:
                    gone = ctx.memory.delete(t.user, choice)
                    gr.Info(f"Forgot the recipe {gone.label}.")
                except SceneshopError as exc:
                    gr.Warning(str(exc))
            return {tab: t, **memory_listing(t)}

        def lighting_kelvin(name):
            # Choosing a preset brings its own colour temperature; the slider then fine-tunes it.
            return cat.light(name).kelvin if name in cat.lighting else gr.skip()

        def lora_range(name):
            if name in cat.loras:
                e = cat.loras[name]
                return gr.Slider(minimum=e.weight_min, maximum=e.weight_max, value=e.weight_default)
            return gr.Slider(minimum=0.0, maximum=lora_max, value=0.0)

        # ---- wiring -----------------------------------------------------------------------------

        render_group = {"concurrency_id": "render", "concurrency_limit": settings.concurrency}
        demo.load(
            on_load,
            inputs=[browser_id],
            outputs=[tab, browser_id, whoami, *memory_view, *view],
            api_visibility="private",
        )
        box.submit(echo, [box, tab], [tab, chatbot, box], queue=False, api_visibility="private").then(
            respond,
            [box, tab],
            [tab, box, *view],
            api_name="respond",
            show_progress_on=[chatbot],
            **render_group,
        )
        rerender_btn.click(
            rerender,
            [tab, *fields],
            [tab, *view],
            api_name="rerender",
            show_progress_on=[chatbot],
            **render_group,
        )
        apply_btn.click(
            apply_memory,
            [tab, memory_choice],
            [tab, *view],
            api_name="apply",
            show_progress_on=[chatbot],
            **render_group,
        )
        stop_btn.click(stop, [tab], None, queue=False, api_name="stop")
        undo_btn.click(undo, [tab], [tab, *view], api_name="undo", queue=False)
        chatbot.clear(clear_chat, [tab], [tab, *view], api_name="clear", queue=False)
        like_btn.click(like, [tab], [tab, *view, *memory_view], api_name="like")
        dislike_btn.click(dislike, [tab], [tab, *view, *memory_view], api_name="dislike")
        versions.select(pick_version, [tab], [tab, *view], api_visibility="private", queue=False)
        memory_query.submit(search_memory, [tab, memory_query], [tab, *memory_view], api_visibility="private")
        memory_refresh.click(search_memory, [tab, memory_query], [tab, *memory_view], api_name="memories")
        for chooser in (memory_gallery, memory_table):
            chooser.select(
                pick_memory, [tab], [tab, memory_md, memory_choice], api_visibility="private", queue=False
            )
        forget_btn.click(forget_memory, [tab, memory_choice], [tab, *memory_view], api_name="forget")
        lighting.input(lighting_kelvin, [lighting], [kelvin], queue=False, api_visibility="private")
        for name_box, weight_slider in zip(lora_names, lora_weights, strict=True):
            name_box.input(lora_range, [name_box], [weight_slider], queue=False, api_visibility="private")

    demo.queue(default_concurrency_limit=settings.concurrency)
    demo.sceneshop = ctx  # for tests and launch_kwargs: the studio and memory this app serves
    return demo


# ------------------------------------------------------------------------- turn helpers (glue)


def run_job(t: Tab, job) -> None:
    """Runs one long action of a tab (render), with Stop armed, and shows its messages and answer.
    `job(cancel, shown)` appends the user's message to `shown` as it should appear and returns the
    Turn. A bug becomes a message, not a locked page: the error is logged with its traceback."""
    shown: list[dict] = []
    with t.lock:
        cancel = t.arm()
        try:
            turn = job(cancel, shown)
        except Exception:
            log.exception("studio action failed for user %s", t.user)
            turn = Turn(
                "Something went wrong on the server (it is logged); the last version is unchanged.",
                t.session.recipe,
                kind="error",
            )
        finally:
            t.cancel = None
        t.history += shown
        _show_turn(t, turn)


def _message_parts(message) -> tuple[str, list[str]]:
    if isinstance(message, str):
        return message, []
    if not isinstance(message, dict):
        return "", []
    files = [f if isinstance(f, str) else f.get("path") for f in message.get("files") or []]
    return str(message.get("text") or ""), [f for f in files if f]


def _turn(t: Tab, text: str, files: list[str], cancel, progress, shown: list[dict]) -> Turn:
    """Runs one chat message through the Session (a new photo first becomes the product)."""
    settings = t.session.studio.settings
    if files:
        name = Path(files[0]).name
        try:
            image = load_image(files[0], **settings.upload_limits)
        except InputError as exc:
            # The upload's server path means nothing to the merchant: name the file they chose.
            reply = str(exc).replace(f"'{files[0]}'", f"'{name}'")
            shown.append({"role": "user", "content": f"📎 {name}" + (f"\n\n{text}" if text else "")})
            return Turn(f"⚠️ {reply}", t.session.recipe, kind="error")
        t.uploads += 1
        product = t.folder / f"product-{t.uploads:03d}-{secrets.token_hex(4)}.png"
        save_png(image, product)
        shown.append({"role": "user", "content": {"path": str(product)}})
        if text:
            shown.append({"role": "user", "content": text})
        had_versions = t.session.current is not None
        t.session.set_product(image)
        # A new product starts a new chain so the canvas fits this photo; earlier versions stay listed.
        t.session.start_over()
        if not text:
            note = "New product photo received." + (" Starting a new chain for it." if had_versions else "")
            return Turn(note + " What scene would you like?", kind="info")
    else:
        shown.append({"role": "user", "content": text})
    if cancel.is_set():
        return Turn("Stopped before it started; nothing changed.", t.session.recipe, kind="info")
    progress(0, desc="Planning")
    return t.session.send(text, progress=_progress(progress), cancel=cancel)


def _progress(progress):
    def report(step: int, total: int) -> None:
        progress((step, total), desc="Rendering", unit="steps")

    return report


def inspector_recipe(ctx: StudioContext, t: Tab, edits: dict) -> Recipe:
    """The current recipe with the inspector's values applied, through the same edit tool the LLM
    agent uses (so prompts are recomposed and the catalog checked). Only changed fields are passed."""
    parent = t.session.recipe
    cat = ctx.catalog
    changes: dict = {}
    if edits["scene"] and edits["scene"] != parent.scene.preset:
        changes["scene_preset"] = edits["scene"]
        # A preset brings its own words (the old scene's would contradict it); "custom" has only the
        # description, so it keeps the current one.
        changes["scene_description"] = parent.scene.description if edits["scene"] == "custom" else ""
    if edits["lighting"] and edits["lighting"] != parent.lighting.preset:
        changes["lighting_preset"] = edits["lighting"]
    if edits["kelvin"] is not None and int(edits["kelvin"]) != parent.lighting.kelvin:
        changes["kelvin"] = int(edits["kelvin"])
    time = None if edits["time_of_day"] in (None, NONE) else edits["time_of_day"]
    if time != parent.time_of_day:
        changes["time_of_day"] = time or "none"
    if edits["framing"] and edits["framing"] != parent.camera.framing:
        changes["framing"] = edits["framing"]
    picked = [(n, round(float(w), 3)) for n, w in edits["loras"]]
    # Rows beyond the inspector's keep whatever the recipe had there.
    picked += [(c.name, c.weight) for c in parent.loras[LORA_ROWS:] if c.name not in {n for n, _ in picked}]
    if picked != [(c.name, c.weight) for c in parent.loras]:
        seen, unique = set(), []
        for name, weight in picked:
            if name not in seen:
                seen.add(name)
                unique.append(LoraPick(name=name, weight=weight))
        changes["loras"] = unique
    market = edits["market"] or NONE
    if market != (parent.output.preset or NONE):
        changes["marketplace"] = market
    typed_seed = None
    if not edits["seed_lock"]:
        changes["new_seed"] = True
    elif edits["seed"] is not None and int(edits["seed"]) != parent.seed:
        typed_seed = int(edits["seed"])  # the merchant typed a seed: use exactly that one
        if not 0 <= typed_seed <= MAX_SEED:
            raise RecipeError(f"seed {typed_seed} is outside 0–{MAX_SEED}; type another, or unlock it")
    desk = ToolTurn(
        cat,
        _inspector_request(changes, typed_seed),
        parent=parent,
        image_size=t.session.image.size if t.session.image is not None else None,
        memory=ctx.memory,
        user=t.user,
        by="the recipe inspector",
    )
    edit_recipe(desk, **changes)
    recipe = desk.recipe
    if typed_seed is not None:
        recipe.seed = typed_seed
        recipe.notes.append(f"seed {typed_seed} set in the inspector")
    return recipe


def _inspector_request(changes: dict, seed: int | None) -> str:
    """What the merchant did, as the version's request: "inspector: kelvin 2000, new seed"."""
    said = []
    for key, value in changes.items():
        if key == "scene_description":
            continue
        if key == "loras":
            value = ", ".join(f"{p.name} {p.weight:g}" for p in value) or "none"
        elif key == "new_seed":
            said.append("new seed")
            continue
        said.append(f"{key.replace('_preset', '').replace('_', ' ')} {value}")
    if seed is not None:
        said.append(f"seed {seed}")
    return f"{INSPECTOR_REQUEST}: {', '.join(said) or 'no change, rendered again'}"


def _show_turn(t: Tab, turn: Turn) -> None:
    """Appends the studio's answer to the chat: the pictures inline, then the words."""
    content: list = []
    if turn.kind == "result" and turn.recipe is not None and turn.images:
        paths = _version_files(t, turn.recipe, turn.images, turn.version)
        content += [{"path": p} for p in paths if p.endswith(".png")]
    elif turn.images:  # e.g. "compare": earlier pictures side by side
        content += [gr.Image(value=image, show_label=False) for image in turn.images]
    text = turn.reply
    if turn.kind == "error" and not text.startswith("⚠️"):
        text = f"⚠️ {text}"
    content.append(text)
    t.history.append({"role": "assistant", "content": content if len(content) > 1 else text})


def _version_files(t: Tab, recipe: Recipe, images: list[Image.Image], number: int | None) -> list[str]:
    """The PNGs (recipe embedded as metadata) and recipe JSON of one version, written once."""
    if recipe.id in t.files:
        return t.files[recipe.id]
    stem = f"v{number or 0:03d}-{_safe(recipe.id)}-{secrets.token_hex(3)}"
    meta = {"sceneshop:recipe": recipe.to_json()}
    paths = [
        str(save_png(img, t.folder / f"{stem}-{i}.png", metadata=meta)) for i, img in enumerate(images, 1)
    ]
    paths.append(str(write_atomic(t.folder / f"{stem}.json", recipe.to_json().encode("utf-8"))))
    t.files[recipe.id] = paths
    return paths


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "", text)[:24] or "recipe"


def _thumbnail(path: Path | None) -> Image.Image:
    if path is not None:
        try:
            return load_image(path, max_pixels=4_000_000, max_bytes=8 * 2**20)
        except InputError:
            pass
    return Image.new("RGB", (64, 64), (224, 224, 224))  # a grey tile: the entry has no picture


def _memory_caption(entry) -> str:
    """'👍 beach · sunset — warmer': the look first (a feedback word alone says little), then its words."""
    mark = {"liked": "👍", "disliked": "👎", "saved": "⭐"}.get(entry.rating, "")
    try:
        recipe = entry.recipe
        look = " · ".join(p for p in (recipe.scene.preset.replace("_", " "), recipe.time_of_day) if p)
    except SceneshopError:
        look = ""
    title = entry.name or " — ".join(p for p in (look, entry.request) if p) or "recipe"
    return f"{mark} {title}"[:70]


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M") if timestamp else ""


# ------------------------------------------------------------------------------------ launching


def auth_list(users: str | None) -> list[tuple[str, str]] | None:
    """ "alice:pw1,bob:pw2" -> [("alice", "pw1"), ("bob", "pw2")]; None/empty -> no login."""
    if not users or not users.strip():
        return None
    pairs = []
    for item in users.split(","):
        name, sep, password = item.strip().partition(":")
        if not sep or not name.strip() or not password:
            raise InputError(
                f"SCENESHOP_USERS entry {item.strip()!r} must be name:password "
                "(comma-separated, e.g. 'alice:pw1,bob:pw2')"
            )
        pairs.append((name.strip(), password))
    return pairs


def launch_kwargs(demo: gr.Blocks) -> dict:
    """The demo.launch() arguments the studio needs besides host/port: login, upload limit, where
    result files may be served from, and the look."""
    ctx: StudioContext = demo.sceneshop
    ctx.results.mkdir(parents=True, exist_ok=True)
    return {
        "auth": auth_list(ctx.settings.users),
        "auth_message": "Sign in to your Sceneshop studio." if ctx.settings.users else None,
        # Twice the photo limit: a photo somewhat over it reaches load_image, which answers in the chat
        # with the limit and the fix; anything far bigger is refused by Gradio before it is stored.
        "max_file_size": int(2 * ctx.settings.max_upload_mb * 2**20),
        "allowed_paths": [str(ctx.results)],
        "share": False,
        "css": CSS,
        "footer_links": ["api", "settings"],
    }


def main(host: str | None = None, port: int | None = None) -> None:
    """`sceneshop serve`: the studio on settings.host:settings.port (default 127.0.0.1:7860)."""
    settings = get_settings()
    demo = build_app()
    demo.launch(
        server_name=host or settings.host,
        server_port=port or settings.port,
        **launch_kwargs(demo),
    )


if __name__ == "__main__":
    main()
