"""The Gradio studio: a thin web face (chat with pictures, recipe inspector, memory browser) over the
Studio and Session APIs that the CLI uses too. This module lays the page out and wires its events;
each handler calls the tab's Session and hands the Turn (or data) to sceneshop.studio_view, which
turns it into widget values.

Per browser tab a `Tab` (held in gr.State) keeps that tab's Session and what the page shows. The
user is the Gradio login name when `settings.users` is set, else a name derived from a random id
signed by this server and kept in the browser's localStorage (gr.BrowserState), so a reload keeps
the user and their memory while the id itself is never stored or logged here. Every picture and
recipe is written under <data_dir>/results/<keyed hash of the user>/ with names the view makes;
nothing a user types becomes part of a path. sceneshop.studio_guard throttles sign-ins, bounds the
upload cache and, with logins, serves each user's files to that user only.
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
import tempfile  # noqa: E402
import threading  # noqa: E402
import weakref  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402

from sceneshop import studio_view as view  # noqa: E402
from sceneshop.agent.jobs import (  # noqa: E402
    BatchWorker,
    batch_zip,
    job_pictures,
    recent_jobs,
    start_upload_batch,
)
from sceneshop.agent.session import Session, Turn  # noqa: E402
from sceneshop.agent.settings import Settings, get_settings  # noqa: E402
from sceneshop.agent.store import WorkStore  # noqa: E402
from sceneshop.agent.store.files import user_key  # noqa: E402
from sceneshop.studio_guard import Guard, GuardedBlocks, middleware  # noqa: E402
from sceneshop.tools.errors import InputError, SceneshopError  # noqa: E402

log = logging.getLogger("sceneshop.app")
# Gradio finds a progress tracker by a parameter's default; updates go to the running event.
PROGRESS = gr.Progress()

NONE = view.NONE
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
#cutout-photo img {cursor: crosshair}
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
    cutout: Turn | None = None  # the cut-out step as last shown
    cutout_news: Turn | None = None  # a cut-out turn of the job that just ran, for the cut-out tab
    corner: tuple[int, int] | None = None  # the box's first corner, clicked, in photo pixels
    cancel: threading.Event | None = None  # the Stop button sets it; armed per job
    lock: threading.Lock = field(default_factory=threading.Lock)  # one job at a time per tab
    session_id: str = ""  # its id in the work store; "" until it is first kept
    saved_at: float = 0.0  # the store's time of this tab's last save or load of it
    session_ids: list[str] = field(default_factory=list)  # Sessions tab order
    job_ids: list[str] = field(default_factory=list)  # Jobs tab order
    finished: tuple | None = None  # (job, Turn, stopped) of the turn just run, for `WebStudio.keep`

    def arm(self) -> threading.Event:
        """The cancel flag of the job about to run (pre-armed when its message was echoed)."""
        if self.cancel is None:
            self.cancel = threading.Event()
        return self.cancel


class WebStudio:
    """The studio as this web server runs it: the Studio every tab's Session works with, its
    settings, this installation's keys and per-user result folders, its guards, and the open
    pages' tabs."""

    def __init__(self, studio, settings: Settings):
        self.studio = studio
        self.settings = settings
        self.results = Path(settings.data_dir) / "results"
        self._secret = _secret(Path(settings.data_dir))
        # Gradio sends BrowserState's key to every page (the browser encrypts with it), so it is only
        # derived from the secret, which itself never leaves the server.
        self.browser_key = self._derive("browser-state")
        store_files = WorkStore.files_root_of(settings.data_dir)
        self.guard = Guard(settings, [
            (self.results, lambda name: self.user_folder(login_user(name))),
            (store_files, lambda name: store_files / user_key(login_user(name))),
        ])
        # Each page's tab by Gradio session, to cancel its job when the page goes away.
        self.tabs: weakref.WeakValueDictionary[str, Tab] = weakref.WeakValueDictionary()
        self._moving = threading.Lock()

    def _derive(self, purpose: str) -> str:
        return hmac.new(self._secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()[:32]

    def user_folder(self, user: str) -> Path:
        # Keyed so that a known user name does not reveal where that user's pictures are.
        return self.results / self._derive(f"results:{user}")[:24]

    def new_tab(self, user: str) -> Tab:
        session = Session(self.studio, user=user)
        return Tab(user=user, session=session, folder=self.user_folder(user))

    # ---- sessions and jobs in the work store (sceneshop.agent.store, sceneshop.agent.jobs) -------

    def start_work(self) -> None:
        """The work store under the data dir, and the worker thread that runs queued batches."""
        self.store = WorkStore(self.settings.data_dir)
        self.worker = BatchWorker(self.store, self.studio).start()

    def close(self) -> None:
        self.worker.close()
        self.store.close()

    def open_tab(self, user: str) -> Tab:
        """A tab for `user` with their last session (a reload, or a restart, finds it again)."""
        t = self.new_tab(user)
        self.load_into(t)
        return t

    def load_into(self, t: Tab, session_id: str | None = None) -> None:
        """Puts one of the user's stored sessions (None: their last) into the tab. A session that
        cannot be reopened leaves a fresh one and says why in the chat."""
        try:
            state = self.store.load_session(t.user, session_id)
            if state is None:
                return
            session = Session.from_state(self.studio, state, t.user)
        except SceneshopError as exc:
            if session_id is not None:
                raise
            log.warning("session of %s not reopened: %s", t.user, exc)
            self.fresh(t)
            view.show_turn(t, Turn(f"Your last session could not be reopened: {exc}", kind="error"))
            return
        t.session, t.session_id, t.saved_at = session, state["id"], state["updated"]
        view.restore(t, state)

    def fresh(self, t: Tab) -> None:
        """A new, empty session in the tab (kept once something happens in it)."""
        t.session, t.session_id, t.saved_at = Session(self.studio, user=t.user), "", 0.0
        t.history, t.files = [], {}

    def recorded(self, t: Tab, kind: str, title: str, work):
        """`work` (a run_job job) recorded as a job of the store: running while it runs; `keep`
        finishes it with the version it made."""

        def run(cancel):
            if not t.session_id:
                t.session_id = self.store.new_session_id()
            job = self.store.create_job(t.user, kind, title=title, session_id=t.session_id, start=True)
            try:
                turn = work(cancel)
            except BaseException as exc:
                self.store.finish_job(t.user, job.id, "failed", error=f"{type(exc).__name__}: {exc}")
                raise
            t.finished = (job, turn, cancel.is_set())
            return turn

        return run

    def keep(self, t: Tab) -> None:
        """Saves the tab's session after a turn or action, and finishes the turn's job. When another
        tab of this user saved the same session meanwhile, this one goes on as a new session rather
        than overwrite it. A store that cannot be written is said, and the chat goes on."""
        try:
            with t.lock:
                finished, t.finished = t.finished, None
                if not (t.history or t.session.versions or t.session.image is not None):
                    return
                if t.session_id and t.saved_at:
                    stored = next((i for i in self.store.list_sessions(t.user) if i.id == t.session_id), None)
                    if stored is not None and stored.updated > t.saved_at:
                        t.session_id = ""
                t.session_id = t.session_id or self.store.new_session_id()
                state = t.session.to_state(self.store, t.session_id, messages=view.transcript(t),
                                           written=t.files)
                t.saved_at = self.store.save_session(t.user, t.session_id, state).updated
            if finished is not None:
                self._finish_turn(t, state, *finished)
        except SceneshopError as exc:
            log.warning("session of %s not kept: %s", t.user, exc)
            gr.Warning(f"Your session could not be saved: {exc}")

    def _finish_turn(self, t: Tab, state: dict, job, turn: Turn | None, stopped: bool) -> None:
        status, error, results = "done", None, {}
        if turn is not None and turn.kind == "error":
            status, error = ("cancelled" if stopped else "failed"), turn.reply
        if turn is not None and turn.kind == "result" and turn.version:
            stored = next((v for v in state["versions"] if v["number"] == turn.version), None)
            results = {"version": turn.version, "recipe_id": turn.recipe.id if turn.recipe else "",
                       "images": stored["images"] if stored else []}
        message = turn.reply.splitlines()[0][:200] if turn is not None and turn.reply else ""
        self.store.finish_job(t.user, job.id, status, error=error, results=results, message=message)

    # ---- anonymous browsers: a signed id in the browser, a name derived from it here

    def browser(self, stored) -> tuple[str, str]:
        """(user, id for the browser to keep) for the id a browser sent from its localStorage. The
        id is a random token with this server's signature, so ids cannot be guessed or made up (one
        that does not verify gets a new one); the user name is derived from the token with the
        secret, so the names in memory metadata, result folders and logs do not give the id away."""
        token = None
        if isinstance(stored, str):
            signed = _BROWSER_ID.fullmatch(stored)
            if signed and hmac.compare_digest(signed[2], self._sign(signed[1])):
                token = signed[1]
            elif _LEGACY_ID.fullmatch(stored):
                try:
                    token = self._adopt_legacy(stored)
                except SceneshopError as exc:
                    # The looks stay under the old id, and so does the browser, until a move works.
                    log.warning("could not move a browser's saved looks to its signed id: %s", exc)
                    return stored, stored
        token = token or secrets.token_hex(16)
        return self._browser_user(token), f"{token}.{self._sign(token)}"

    def _sign(self, token: str) -> str:
        return self._derive(f"browser-id:{token}")

    def _browser_user(self, token: str) -> str:
        return "anon-" + self._derive(f"browser-user:{token}")[:24]

    def _adopt_legacy(self, legacy: str) -> str | None:
        """The token for a browser still holding an id from before ids were signed (`web-` + 24 hex),
        while looks are filed under that id: they move to the new name, and the old id stops being
        a key (it is in clear in old logs and memory metadata). None when nothing is filed there."""
        memory = self.studio.memory
        if memory is None:
            return None
        with self._moving:
            looks = memory.list(legacy)
            if not looks:
                return None
            token = self._derive(f"legacy-browser:{legacy}")
            with tempfile.TemporaryDirectory(dir=self.settings.data_dir) as folder:
                export = Path(folder) / "looks.json"
                memory.export(legacy, export)
                memory.import_(self._browser_user(token), export)
            for entry in looks:
                memory.delete(legacy, entry.id)
        log.info("moved %d saved looks of a browser to its signed id", len(looks))
        return token

    # ---- pages that go away

    def watch(self, request: gr.Request | None, t: Tab) -> None:
        session = getattr(request, "session_hash", None)
        if session:
            self.tabs[session] = t

    def page_closed(self, session: str | None) -> None:
        """Gradio's unload: the page's connection is gone, so its running or queued job is cancelled
        (segmentation and rendering stop at their next step)."""
        t = self.tabs.pop(session, None) if session else None
        if t is not None and t.cancel is not None:
            t.cancel.set()
            log.info("a page went away mid-job; its job is cancelled")

    def uploaded(self, path: str, request: gr.Request | None) -> bool:
        """Whether a message's file is an upload this studio took from this user (without logins:
        from anyone), not some other file in Gradio's cache such as another user's result."""
        return self.guard.uploads.uploaded_by(path, getattr(request, "username", None))


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


_BROWSER_ID = re.compile(r"([0-9a-f]{32})\.([0-9a-f]{32})")  # token.signature
_LEGACY_ID = re.compile(r"web-[0-9a-f]{24}")  # unsigned, stored by browsers before signed ids


def user_for(request: gr.Request | None) -> str:
    """The login name when Gradio auth is on; else a new anonymous name (API clients, which keep
    no browser id: one user per client session)."""
    name = getattr(request, "username", None) if request is not None else None
    if name:
        return login_user(name)
    return "anon-" + secrets.token_hex(12)


def login_user(name: str) -> str:
    """A login name as a user id: memory ids allow 1-64 of [A-Za-z0-9._@+-]; other login names map
    to a stable hash."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}", name):
        return name
    return "user-" + hashlib.sha256(name.encode()).hexdigest()[:20]


# ---------------------------------------------------------------------------------- the app


def build_app(studio=None, memory=None) -> gr.Blocks:
    """The studio UI over `studio` (default: Studio from settings, with the recipe memory)."""
    from sceneshop.agent.studio import Studio

    if studio is None:
        studio = Studio.from_settings() if memory is None else Studio(get_settings(), memory=memory)
        if studio.memory_note:
            log.warning(studio.memory_note)
    elif memory is not None:
        studio.memory = memory  # one memory for the chat's "save this", 👍/👎 and the memory browser
    settings = studio.settings
    site = WebStudio(studio, settings)
    site.start_work()
    cat = studio.catalog
    choices = view.inspector_choices(cat)

    with GuardedBlocks(
        site.guard, title="Sceneshop studio", fill_width=True, analytics_enabled=False
    ) as demo:
        tab = gr.State(None)
        browser_id = gr.BrowserState(None, storage_key=STORAGE_KEY, secret=site.browser_key)
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
                with gr.Tabs() as tabs:
                    with gr.Tab("✂️ Cut-out", id="cutout", elem_id="cutout-tab"):
                        cut_info = gr.Markdown(view.CUTOUT_EMPTY, elem_id="cutout-info")
                        with gr.Row(equal_height=True):
                            cut_photo = gr.Image(
                                label="Your photo (blue line: the cut-out's edge)",
                                format="png",  # lossless: the cut-out's edge is what is judged
                                interactive=False,
                                buttons=[],
                                height=260,
                                elem_id="cutout-photo",
                            )
                            cut_preview = gr.Image(
                                label="Cut-out",
                                format="png",  # lossless: the cut-out's edge is what is judged
                                interactive=False,
                                buttons=["fullscreen"],
                                height=260,
                                elem_id="cutout-preview",
                            )
                        click_mode = gr.Radio(
                            view.CLICK_MODES,
                            value="remove",
                            label="What a click on your photo does",
                            elem_id="click-mode",
                        )
                        with gr.Accordion("🖌 Brush, for the last pixels", open=False, elem_id="brush"):
                            gr.Markdown(
                                "Paint **green** over product the cut-out missed and **red** over what is "
                                "not product (the dark parts are left out now), then *Apply the brush*."
                            )
                            cut_editor = gr.ImageEditor(
                                type="pil",
                                image_mode="RGBA",
                                sources=[],
                                transforms=[],
                                layers=False,
                                brush=gr.Brush(
                                    colors=[view.PAINT_PRODUCT, view.PAINT_REMOVE],
                                    default_color=view.PAINT_PRODUCT,
                                    color_mode="fixed",
                                ),
                                eraser=gr.Eraser(),
                                format="png",
                                label="Brush",
                                show_label=False,
                                elem_id="cutout-brush",
                            )
                            brush_btn = gr.Button("Apply the brush", elem_id="apply-brush")
                        with gr.Row():
                            cut_undo = gr.Button("↶ Undo last click", size="sm", elem_id="cutout-undo")
                            cut_reset = gr.Button(
                                "↺ Reset to the automatic cut-out", size="sm", elem_id="cutout-reset"
                            )
                    with gr.Tab("Recipe", id="recipe", elem_id="inspector"):
                        version_md = gr.Markdown("No version yet.", label="Version", elem_id="version-info")
                        scene = gr.Dropdown(choices["scenes"], value=None, label="Scene", elem_id="scene")
                        with gr.Row():
                            lighting = gr.Dropdown(choices["lights"], value=None, label="Lighting", scale=2)
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
                        for i in range(view.LORA_ROWS):
                            with gr.Row():
                                lora_names.append(
                                    gr.Dropdown(choices["loras"], value=NONE, label=f"LoRA {i + 1}", scale=3)
                                )
                                lora_weights.append(
                                    gr.Slider(
                                        0.0,
                                        choices["lora_max"],
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
                            market = gr.Dropdown(choices["markets"], value=NONE, label="Marketplace", scale=2)
                            size_md = gr.Textbox("", label="Size", interactive=False, scale=1)
                        with gr.Accordion("Text on the picture", open=False, elem_id="text-layer"):
                            with gr.Row():
                                text_layout = gr.Dropdown(
                                    view.TEXT_LAYOUTS, value="none", label="Layout", scale=1,
                                    elem_id="text-layout",
                                )
                                text_place = gr.Dropdown(
                                    ["top", "middle", "bottom"], value="top", label="Title place", scale=1,
                                    elem_id="text-place",
                                )
                            text_title = gr.Textbox(
                                "", label="Title (masthead / headline)", elem_id="text-title"
                            )
                            text_subtitle = gr.Textbox("", label="Subtitle", elem_id="text-subtitle")
                            text_lines = gr.Textbox(
                                "", label="Cover lines (one per line, up to 4)", lines=3, max_lines=6,
                                elem_id="text-lines",
                            )
                            with gr.Row():
                                text_badge = gr.Textbox("", label="Badge (e.g. -20%)", elem_id="text-badge")
                                text_price = gr.Textbox("", label="Price (e.g. €24.90)", elem_id="text-price")
                        with gr.Accordion("Product retouch (changes the product's pixels)", open=False):
                            straighten = gr.Checkbox(
                                value=False, label="Straighten a tilted product", elem_id="straighten"
                            )
                            with gr.Row():
                                harmonize_on = gr.Checkbox(
                                    value=False, label="Match the scene's light", scale=1, elem_id="harmonize"
                                )
                                harmonize_strength = gr.Slider(
                                    0.1, 1.0, value=view.HARMONIZE_DEFAULT, step=0.05, label="Strength",
                                    scale=2, elem_id="harmonize-strength",
                                )
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
                    with gr.Tab("Sessions", id="sessions", elem_id="sessions-tab") as sessions_tab:
                        sessions_gallery = gr.Gallery(
                            label="Your sessions",
                            columns=3,
                            height=220,
                            fit_columns=False,
                            object_fit="contain",
                            allow_preview=False,
                            elem_id="sessions",
                        )
                        sessions_md = gr.Markdown("", label="Sessions", elem_id="sessions-info")
                        sessions_table = gr.Dataframe(
                            headers=["session", "versions", "changed", "id"],
                            datatype=["str", "number", "str", "str"],
                            value=[],
                            interactive=False,
                            label="Saved sessions",
                            show_label=False,
                            max_height=200,
                            column_widths=["52%", "14%", "22%", "12%"],
                            wrap=True,
                            elem_id="sessions-table",
                        )
                        # The chosen session's id: set by a click; API clients pass it.
                        session_choice = gr.Textbox("", visible=False, label="Session id")
                        with gr.Row():
                            session_open_btn = gr.Button("Open", variant="primary", elem_id="open-session")
                            session_new_btn = gr.Button("➕ New session", elem_id="new-session")
                            session_delete_btn = gr.Button("🗑 Delete", size="sm", elem_id="delete-session")
                    with gr.Tab("Jobs", id="jobs", elem_id="jobs-tab") as jobs_tab:
                        with gr.Accordion("Start a batch: one saved look on many photos", open=True):
                            batch_files = gr.File(
                                label="Product photos, or a .zip of them",
                                file_count="multiple",
                                file_types=["image", ".zip"],
                                height=110,
                                elem_id="batch-files",
                            )
                            with gr.Row():
                                batch_look = gr.Dropdown(
                                    [], label="Saved look", allow_custom_value=True, scale=3,
                                    elem_id="batch-look",
                                )
                                batch_market = gr.Dropdown(
                                    choices["markets"], value=NONE, label="Marketplace", scale=2
                                )
                            batch_btn = gr.Button("▶ Start batch", variant="primary", elem_id="start-batch")
                        jobs_gallery = gr.Gallery(
                            label="Your jobs",
                            columns=3,
                            height=230,
                            fit_columns=False,
                            object_fit="contain",
                            allow_preview=False,
                            elem_id="jobs",
                        )
                        job_md = gr.Markdown("", label="Job", elem_id="job-info")
                        with gr.Row():
                            job_open_btn = gr.Button("Open", size="sm", elem_id="open-job")
                            job_cancel_btn = gr.Button("⏹ Cancel", size="sm", elem_id="cancel-job")
                            job_retry_btn = gr.Button("↻ Retry", size="sm", elem_id="retry-job")
                            job_download_btn = gr.Button("⬇ Download", size="sm", elem_id="download-job")
                        job_file = gr.File(
                            label="Download", file_count="multiple", interactive=False, height=90,
                            elem_id="job-download",
                        )
                        job_pictures_view = gr.Gallery(
                            label="The job's pictures",
                            columns=4,
                            height=220,
                            fit_columns=False,
                            object_fit="contain",
                            elem_id="job-pictures",
                        )
                        jobs_table = gr.Dataframe(
                            headers=["status", "kind", "progress", "queue", "time", "created", "what", "id"],
                            datatype=["str"] * 8,
                            value=[],
                            interactive=False,
                            label="Jobs",
                            show_label=False,
                            max_height=260,
                            column_widths=["13%", "9%", "13%", "11%", "9%", "11%", "20%", "14%"],
                            elem_id="jobs-table",
                        )
                        job_choice = gr.Textbox("", visible=False, label="Job id")
                        jobs_timer = gr.Timer(2.0, active=False)

        # The looks sections (recipe.text, recipe.retouch), named as studio_view names their values.
        looks_widgets = {
            "text_layout": text_layout,
            "text_title": text_title,
            "text_subtitle": text_subtitle,
            "text_lines": text_lines,
            "text_badge": text_badge,
            "text_price": text_price,
            "text_place": text_place,
            "straighten": straighten,
            "harmonize_on": harmonize_on,
            "harmonize_strength": harmonize_strength,
        }
        looks_fields = list(looks_widgets.values())
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
            *looks_fields,
        ]
        chat_view = [chatbot, versions, downloads, version_md, size_md, prompt, recipe_json, *fields]
        memory_view = [memory_gallery, memory_table, memory_md, memory_choice]
        cutout_view = [tabs, cut_photo, cut_preview, cut_info, cut_editor]
        # The names studio_view gives its values, and the components that show them.
        widgets = {
            "chat": chatbot,
            "versions": versions,
            "downloads": downloads,
            "version": version_md,
            "size": size_md,
            "prompt": prompt,
            "recipe_json": recipe_json,
            "scene": scene,
            "lighting": lighting,
            "kelvin": kelvin,
            "time_of_day": time_of_day,
            "framing": framing,
            "seed": seed,
            "market": market,
            "memory_gallery": memory_gallery,
            "memory_table": memory_table,
            "memory_info": memory_md,
            "memory_choice": memory_choice,
            "tabs": tabs,
            "cut_photo": cut_photo,
            "cut_preview": cut_preview,
            "cut_info": cut_info,
            "cut_editor": cut_editor,
        }
        for i, (name_box, weight_slider) in enumerate(zip(lora_names, lora_weights, strict=True), 1):
            widgets[f"lora_{i}"], widgets[f"lora_{i}_weight"] = name_box, weight_slider
        widgets.update(looks_widgets)
        sessions_view = [sessions_gallery, sessions_table, sessions_md, session_choice]
        jobs_view = [jobs_gallery, jobs_table, job_md, job_choice, jobs_timer]
        widgets.update({
            "sessions_gallery": sessions_gallery,
            "sessions_table": sessions_table,
            "sessions_info": sessions_md,
            "session_choice": session_choice,
            "jobs_gallery": jobs_gallery,
            "jobs_table": jobs_table,
            "job_info": job_md,
            "job_choice": job_choice,
            "jobs_timer": jobs_timer,
        })

        def shown(values: dict) -> dict:
            return {widgets[name]: value for name, value in values.items()}

        def ensure(t: Tab | None, request: gr.Request) -> Tab:
            # API clients never run the page's load event: they get a tab on first call.
            t = t if t is not None else site.open_tab(user_for(request))
            site.watch(request, t)
            return t

        # ---- handlers: call the tab's Session, hand what it returns to the view ----------------

        def on_load(stored_id, request: gr.Request):
            if settings.users:
                t, remembered = site.open_tab(user_for(request)), gr.skip()  # a login needs no browser id
            else:
                user, remembered = site.browser(stored_id)
                t = site.open_tab(user)  # with the user's last session, if any
            site.watch(request, t)
            return {
                tab: t,
                browser_id: remembered,
                whoami: view.whoami(t, bool(settings.users)),
                **shown(view.memory_browser(t, t.session.looks())),
                **shown(view.chat(t)),
            }

        def echo(message, t, request: gr.Request):
            """Shows the message at once and locks the box while the turn waits in the queue."""
            t = ensure(t, request)
            t.cancel = threading.Event()  # Stop may be pressed while this turn is still queued
            return {tab: t, chatbot: view.pending(t, message), box: gr.MultimodalTextbox(interactive=False)}

        def respond(message, t, request: gr.Request, progress=PROGRESS):
            """One chat turn: an optional new product photo plus a request or feedback."""
            t = ensure(t, request)
            text, files = view.message_parts(message)
            stray = [f for f in files if not site.uploaded(f, request)]
            if stray:
                run_job(t, lambda cancel: not_uploaded(t, stray[0]))
            else:
                turn = site.recorded(t, "turn", text or "new product photo",
                                     lambda cancel: chat_turn(t, text, files, cancel, progress))
                run_job(t, turn)
                site.keep(t)
            news, t.cutout_news = t.cutout_news, None  # a new photo or a cut-out complaint opens the step
            cutout = shown(view.cutout_panel(t, news, selected=True)) if news is not None else {}
            return {
                tab: t,
                box: gr.MultimodalTextbox(value=None, interactive=True),
                **shown(view.chat(t)),
                **cutout,
            }

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
            text_layout_value: str,
            title: str,
            subtitle: str,
            lines: str,
            badge: str,
            price: str,
            title_place: str,
            straighten_value: bool,
            harmonize_value: bool,
            harmonize_strength_value: float,
            request: gr.Request,
            progress=PROGRESS,
        ):
            """Renders the inspector's values as a child of the current version (only changed fields
            are edited; an unlocked seed draws a new one). When the values cannot be used (a title
            too long), the chat says why and the inspector keeps what was typed."""
            t = ensure(t, request)
            values = {
                "scene": scene_preset,
                "lighting": lighting_preset,
                "kelvin": kelvin_value,
                "time_of_day": time,
                "framing": framing_value,
                "loras": [(lora_1, lora_1_weight), (lora_2, lora_2_weight), (lora_3, lora_3_weight)],
                "seed": seed_value,
                "seed_lock": seed_locked,
                "market": marketplace,
                "text_layout": text_layout_value,
                "text_title": title,
                "text_subtitle": subtitle,
                "text_lines": lines,
                "text_badge": badge,
                "text_price": price,
                "text_place": title_place,
                "straighten": straighten_value,
                "harmonize_on": harmonize_value,
                "harmonize_strength": harmonize_strength_value,
            }
            before = t.session.recipe

            def job(cancel):
                view.say(t, "🎛️ Re-render with the inspector's settings")
                edits = view.inspector_edits(t.session.recipe, **values)
                return t.session.edit(**edits, progress=_progress(progress), cancel=cancel)

            run_job(t, site.recorded(t, "rerender", "inspector re-render", job))
            site.keep(t)
            return {tab: t, **shown(view.chat(t, keep_inspector=t.session.recipe is before))}

        def apply_memory(t, choice, request: gr.Request, progress=PROGRESS):
            """Renders the chosen saved recipe, unchanged, on the current product."""
            t = ensure(t, request)

            def job(cancel):
                asked = view.say(t, "⭐ Apply a saved recipe")
                turn = t.session.apply_look(choice, progress=_progress(progress), cancel=cancel)
                view.name_look(asked, turn)
                return turn

            run_job(t, site.recorded(t, "turn", "apply a saved look", job))
            site.keep(t)
            return {tab: t, **shown(view.chat(t))}

        def cutout_fix(t, request: gr.Request, fix) -> dict:
            """What every fix of the cut-out step shares: under the tab's lock, `fix(t)` makes the fix
            (a Turn, or None when nothing changed yet, e.g. a box's first corner); the panel shows the
            result and a fix that was made is kept with the session."""
            t = ensure(t, request)
            with t.lock:
                turn = fix(t)
                panel = shown(view.cutout_panel(t, turn))
            if turn is not None:
                site.keep(t)  # the fixed cut-out is part of the kept session
            return {tab: t, **panel}

        def cutout_click(t, mode, evt: gr.SelectData, request: gr.Request):
            """A click on the cut-out step's photo: remove or add the region there, or a box corner."""

            def fix(t):
                if t.cutout is None or t.session.image is None or evt.index is None:
                    return None
                point = view.photo_point(t.session, evt.index)
                if mode == "box" and t.corner is None:
                    t.corner = point  # the second click makes the box
                    return None
                if mode == "box":
                    corner, t.corner = t.corner, None
                    return t.session.fix_cutout(box=view.corners_box(corner, point))
                t.corner = None
                return t.session.fix_cutout(points=[(*point, mode == "add")])

            return cutout_fix(t, request, fix)

        def cutout_reset(t, request: gr.Request):
            def fix(t):
                t.corner = None
                return t.session.fix_cutout(reset=True)

            return cutout_fix(t, request, fix)

        def cutout_undo(t, request: gr.Request):
            def fix(t):
                t.corner = None
                return t.session.undo_cutout()

            return cutout_fix(t, request, fix)

        def cutout_brush(t, canvas, request: gr.Request):
            def fix(t):
                if t.session.image is None:
                    return t.session.cutout()
                paint, erase = view.brush_strokes(t.session, canvas)
                if paint is None and erase is None:
                    gr.Warning("Paint on the photo first: green for product, red for what is not.")
                    return None
                return t.session.fix_cutout(paint=paint, erase=erase)

            return cutout_fix(t, request, fix)

        def stop(t):
            if t is not None and t.cancel is not None:
                t.cancel.set()
                gr.Info("Stopping…")

        def undo(t, request: gr.Request):
            t = ensure(t, request)
            with t.lock:
                view.say(t, "↩ Undo")
                view.show_turn(t, t.session.undo())
            site.keep(t)
            return {tab: t, **shown(view.chat(t))}

        def clear_chat(t, request: gr.Request):
            """The chat's 🗑: a clean conversation for the same product (earlier versions stay listed)."""
            t = ensure(t, request)
            with t.lock:
                t.history = []
                t.session.start_over()
            site.keep(t)
            return {tab: t, **shown(view.chat(t))}

        def rate(t, rating: str, request: gr.Request):
            t = ensure(t, request)
            with t.lock:
                rated = view.show_rating(t, t.session.rate(rating))
                looks = shown(view.memory_browser(t, t.session.looks())) if rated else {}
            site.keep(t)
            return {tab: t, **shown(view.chat(t)), **looks}

        def like(t, request: gr.Request):
            return rate(t, "liked", request)

        def dislike(t, request: gr.Request):
            return rate(t, "disliked", request)

        def pick_version(t, evt: gr.SelectData, request: gr.Request):
            t = ensure(t, request)
            with t.lock:
                number = view.version_at(t, evt.index)
                if number is not None:
                    view.say(t, f"Back to version {number}")
                    view.show_turn(t, t.session.go_back(number))
            site.keep(t)
            return {tab: t, **shown(view.chat(t))}

        def search_memory(t, query, request: gr.Request):
            t = ensure(t, request)
            try:
                return {tab: t, **shown(view.memory_browser(t, t.session.looks(query), query))}
            except SceneshopError as exc:
                return {tab: t, **shown(view.memory_problem(exc))}

        def pick_memory(t, evt: gr.SelectData, request: gr.Request):
            t = ensure(t, request)
            choice = view.memory_id_at(t, evt.index)
            try:
                return {tab: t, **shown(view.look_details(t.session.look(choice) if choice else None))}
            except SceneshopError as exc:
                return {tab: t, **shown(view.look_problem(exc))}

        def forget_memory(t, choice, request: gr.Request):
            t = ensure(t, request)
            if choice:
                try:
                    gone = t.session.forget(choice)
                    if gone is not None:
                        gr.Info(f"Forgot the recipe {gone.label}.")
                except SceneshopError as exc:
                    gr.Warning(str(exc))
            return {tab: t, **shown(view.memory_browser(t, t.session.looks()))}

        def lighting_kelvin(name):
            return view.preset_kelvin(cat, name)

        def lora_range(name):
            return view.lora_slider(cat, name)

        # ---- sessions: the user's stored chats -------------------------------------------------

        def sessions(t, request: gr.Request):
            t = ensure(t, request)
            return {tab: t, **shown(view.session_list(t, site.store.list_sessions(t.user)))}

        def pick_session(t, evt: gr.SelectData, request: gr.Request):
            t = ensure(t, request)
            infos = site.store.list_sessions(t.user)
            return {tab: t, **shown(view.session_details(t, infos, view.session_id_at(t, evt.index)))}

        def open_session(t, choice, request: gr.Request):
            """Reopens one of the user's sessions (another user's id is not found)."""
            t = ensure(t, request)
            with t.lock:
                if choice:
                    try:
                        site.load_into(t, choice)
                    except SceneshopError as exc:
                        gr.Warning(str(exc))
            listed = view.session_list(t, site.store.list_sessions(t.user))
            return {tab: t, **shown(view.chat(t)), **shown(listed)}

        def new_session(t, request: gr.Request):
            t = ensure(t, request)
            with t.lock:
                site.fresh(t)
            listed = view.session_list(t, site.store.list_sessions(t.user))
            return {tab: t, **shown(view.chat(t)), **shown(listed)}

        def delete_session(t, choice, request: gr.Request):
            t = ensure(t, request)
            with t.lock:
                try:
                    if choice and site.store.delete_session(t.user, choice):
                        gr.Info("Session deleted.")
                        if choice == t.session_id:
                            site.fresh(t)
                except SceneshopError as exc:
                    gr.Warning(str(exc))
            listed = view.session_list(t, site.store.list_sessions(t.user))
            return {tab: t, **shown(view.chat(t)), **shown(listed)}

        # ---- jobs: chat turns and batches, queued, running or finished -------------------------

        def jobs(t, choice, request: gr.Request):
            t = ensure(t, request)
            return {tab: t, **shown(view.job_list(t, recent_jobs(site.store, t.user), choice or ""))}

        def jobs_opened(t, request: gr.Request):
            """The Jobs tab shown: the job list and the looks a batch can use, both fresh."""
            t = ensure(t, request)
            listed = view.job_list(t, recent_jobs(site.store, t.user))
            return {tab: t, batch_look: view.look_choices(t.session.looks()), **shown(listed)}

        def pick_job(t, evt: gr.SelectData, request: gr.Request):
            t = ensure(t, request)
            choice = view.job_id_at(t, evt.index)
            try:
                return {tab: t, **shown(view.job_details(site.store.get_job(t.user, choice)))}
            except SceneshopError as exc:
                return {tab: t, job_md: f"⚠️ {exc}"}

        def start_batch(t, files, look_id, marketplace, request: gr.Request):
            """Queues a batch of the chosen saved look over the uploaded photos (or zips of them)."""
            t = ensure(t, request)
            chosen = ""
            try:
                entry = t.session.look(look_id) if look_id else None
                if entry is None:
                    raise InputError("pick one of your saved looks first (👍 or *save this* keeps a look)")
                paths = [f if isinstance(f, str) else f.get("path") for f in files or []]
                job, notes = start_upload_batch(
                    site.store, t.user, [p for p in paths if p], entry.recipe, view.memory_caption(entry),
                    marketplace=None if marketplace in (None, "", NONE) else marketplace,
                    max_bytes=settings.upload_limits["max_bytes"],
                )
                site.worker.wake()
                chosen = job.id
                gr.Info(f"Batch {job.id} queued: {job.title}. You can keep chatting or close the page.")
                for note in notes[:5]:
                    gr.Warning(f"Left out: {note}")
            except SceneshopError as exc:
                gr.Warning(str(exc))
            listed = view.job_list(t, recent_jobs(site.store, t.user), chosen)
            return {tab: t, batch_files: None if chosen else gr.skip(), **shown(listed)}

        def cancel_job(t, choice, request: gr.Request):
            t = ensure(t, request)
            try:
                job = site.store.cancel_job(t.user, choice)
                if job.kind != "batch" and job.status == "running" and t.cancel is not None:
                    t.cancel.set()  # a turn of this page stops as Stop would stop it
            except SceneshopError as exc:
                gr.Warning(str(exc))
            return jobs(t, choice, request)

        def retry_job(t, choice, request: gr.Request):
            """A failed or cancelled batch goes back in the queue and resumes from its manifest."""
            t = ensure(t, request)
            try:
                if site.store.get_job(t.user, choice).kind != "batch":
                    raise InputError("a chat turn is retried by sending its message again in the chat")
                site.store.retry_job(t.user, choice)
                site.worker.wake()
            except SceneshopError as exc:
                gr.Warning(str(exc))
            return jobs(t, choice, request)

        def download_job(t, choice, request: gr.Request):
            """A batch as one zip (pictures, masks, recipes, manifest); a turn's pictures as they are."""
            t = ensure(t, request)
            try:
                job = site.store.get_job(t.user, choice)
                if job.kind == "batch":
                    files = [str(batch_zip(site.store, t.user, job.id))]
                else:
                    files = [str(p) for p, _ in job_pictures(job)]
                    if not files:
                        raise InputError(f"job {job.id} has no pictures to download")
                return {tab: t, job_file: files}
            except SceneshopError as exc:
                gr.Warning(str(exc))
                return {tab: t, job_file: None}

        def open_job(t, choice, request: gr.Request):
            """A batch's pictures under the list; a turn's session and version back in the chat."""
            t = ensure(t, request)
            try:
                job = site.store.get_job(t.user, choice)
                if job.kind == "batch":
                    found = [(str(p), caption) for p, caption in job_pictures(job)]
                    if not found:
                        gr.Info(f"Batch {job.id} has no finished pictures yet.")
                    return {tab: t, job_pictures_view: found}
                with t.lock:
                    if job.session_id and job.session_id != t.session_id:
                        site.load_into(t, job.session_id)
                    number = job.results.get("version")
                    if number:
                        view.say(t, f"Back to version {number}")
                        view.show_turn(t, t.session.go_back(number))
                site.keep(t)
            except SceneshopError as exc:
                gr.Warning(str(exc))
            return {tab: t, **shown(view.chat(t))}

        # ---- wiring -----------------------------------------------------------------------------

        render_group = {"concurrency_id": "render", "concurrency_limit": settings.concurrency}
        demo.load(
            on_load,
            inputs=[browser_id],
            outputs=[tab, browser_id, whoami, *memory_view, *chat_view],
            api_visibility="private",
        )
        box.submit(echo, [box, tab], [tab, chatbot, box], queue=False, api_visibility="private").then(
            respond,
            [box, tab],
            [tab, box, *chat_view, *cutout_view],
            api_name="respond",
            show_progress_on=[chatbot],
            **render_group,
        )
        rerender_btn.click(
            rerender,
            [tab, *fields],
            [tab, *chat_view],
            api_name="rerender",
            show_progress_on=[chatbot],
            **render_group,
        )
        apply_btn.click(
            apply_memory,
            [tab, memory_choice],
            [tab, *chat_view],
            api_name="apply",
            show_progress_on=[chatbot],
            **render_group,
        )
        stop_btn.click(stop, [tab], None, queue=False, api_name="stop")
        undo_btn.click(undo, [tab], [tab, *chat_view], api_name="undo", queue=False)
        chatbot.clear(clear_chat, [tab], [tab, *chat_view], api_name="clear", queue=False)
        like_btn.click(like, [tab], [tab, *chat_view, *memory_view], api_name="like")
        dislike_btn.click(dislike, [tab], [tab, *chat_view, *memory_view], api_name="dislike")
        versions.select(pick_version, [tab], [tab, *chat_view], api_visibility="private", queue=False)
        memory_query.submit(search_memory, [tab, memory_query], [tab, *memory_view], api_visibility="private")
        memory_refresh.click(search_memory, [tab, memory_query], [tab, *memory_view], api_name="memories")
        for chooser in (memory_gallery, memory_table):
            chooser.select(
                pick_memory, [tab], [tab, memory_md, memory_choice], api_visibility="private", queue=False
            )
        forget_btn.click(forget_memory, [tab, memory_choice], [tab, *memory_view], api_name="forget")
        cut_photo.select(
            cutout_click,
            [tab, click_mode],
            [tab, *cutout_view],
            api_visibility="private",
            show_progress_on=[cut_preview],
        )
        cut_reset.click(cutout_reset, [tab], [tab, *cutout_view], api_name="cutout_reset")
        cut_undo.click(cutout_undo, [tab], [tab, *cutout_view], api_name="cutout_undo")
        brush_btn.click(
            cutout_brush,
            [tab, cut_editor],
            [tab, *cutout_view],
            api_name="cutout_brush",
            show_progress_on=[cut_preview],
        )
        lighting.input(lighting_kelvin, [lighting], [kelvin], queue=False, api_visibility="private")
        for name_box, weight_slider in zip(lora_names, lora_weights, strict=True):
            name_box.input(lora_range, [name_box], [weight_slider], queue=False, api_visibility="private")
        sessions_tab.select(sessions, [tab], [tab, *sessions_view], api_name="sessions")
        for chooser in (sessions_gallery, sessions_table):
            chooser.select(pick_session, [tab], [tab, sessions_md, session_choice], api_visibility="private")
        session_open_btn.click(
            open_session, [tab, session_choice], [tab, *chat_view, *sessions_view], api_name="open_session"
        )
        session_new_btn.click(new_session, [tab], [tab, *chat_view, *sessions_view], api_name="new_session")
        session_delete_btn.click(
            delete_session,
            [tab, session_choice],
            [tab, *chat_view, *sessions_view],
            api_name="delete_session",
        )
        jobs_tab.select(jobs_opened, [tab], [tab, batch_look, *jobs_view], api_visibility="private")
        jobs_timer.tick(jobs, [tab, job_choice], [tab, *jobs_view], api_name="jobs", show_progress="hidden")
        for chooser in (jobs_gallery, jobs_table):
            chooser.select(pick_job, [tab], [tab, job_md, job_choice], api_visibility="private")
        batch_btn.click(
            start_batch,
            [tab, batch_files, batch_look, batch_market],
            [tab, batch_files, *jobs_view],
            api_name="start_batch",
        )
        job_cancel_btn.click(cancel_job, [tab, job_choice], [tab, *jobs_view], api_name="cancel_job")
        job_retry_btn.click(retry_job, [tab, job_choice], [tab, *jobs_view], api_name="retry_job")
        job_download_btn.click(download_job, [tab, job_choice], [tab, job_file], api_name="download_job")
        job_open_btn.click(
            open_job, [tab, job_choice], [tab, job_pictures_view, *chat_view], api_name="open_job"
        )

        def page_closed(request: gr.Request):
            site.page_closed(request.session_hash)

        demo.unload(page_closed)

    demo.queue(default_concurrency_limit=settings.concurrency)
    demo.sceneshop = site  # for launch_kwargs: the studio, settings and result folders this app serves
    return demo


# ------------------------------------------------------------------------- running a turn (glue)


def run_job(t: Tab, job) -> None:
    """Runs one long action of a tab (render), with Stop armed, and shows its answer. `job(cancel)`
    shows the merchant's message in the chat as it should appear and returns the Turn. A bug becomes
    a message, not a locked page: the error is logged with its traceback."""
    with t.lock:
        cancel = t.arm()
        try:
            turn = job(cancel)
        except Exception:
            log.exception("studio action failed for user %s", t.user)
            turn = Turn(
                "Something went wrong on the server (it is logged); the last version is unchanged.",
                t.session.recipe,
                kind="error",
            )
        finally:
            t.cancel = None
        if turn is not None:
            view.show_turn(t, turn)


def chat_turn(t: Tab, text: str, files: list[str], cancel, progress) -> Turn | None:
    """One chat message: a new product photo first (when attached) and its cut-out, then the words,
    if any. None when everything to say is in the chat already."""
    if files:
        opened = t.session.open_product(files[0])
        view.show_upload(t, files[0], text, opened)
        if opened.kind == "error":
            return opened
        progress(0, desc="Cutting out the product")
        t.cutout_news = t.session.cutout(cancel=cancel)
        view.show_turn(t, view.upload_answer(opened, t.cutout_news, asked=bool(text)))
        if not text:
            return None
    else:
        view.say(t, text)
    if cancel.is_set():
        return Turn("Stopped before it started; nothing changed.", t.session.recipe, kind="info")
    progress(0, desc="Planning")
    turn = t.session.send(text, progress=_progress(progress), cancel=cancel)
    if turn.kind == "cutout":  # "the chair is not part of it": the answer leads to the cut-out step
        t.cutout_news = turn if turn.images else t.session.cutout(cancel=cancel)
    return turn


def not_uploaded(t: Tab, path: str) -> Turn:
    """A message whose file is not one of this user's uploads (a path to some other file in the
    server's cache, sent over the API): refused, and named as the merchant would know it."""
    view.say(t, f"📎 {Path(path).name}")
    return Turn(
        "That photo is not one of your uploads here (or it has expired); attach it again.",
        t.session.recipe,
        kind="error",
    )


def _progress(progress):
    """The Session's progress callback as Gradio's progress bar."""

    def report(step: int, total: int) -> None:
        progress((step, total), desc="Rendering", unit="steps")

    return report


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
    result files may be served from, the guards, and the look."""
    site: WebStudio = demo.sceneshop
    site.results.mkdir(parents=True, exist_ok=True)
    site.store.files_root.mkdir(parents=True, exist_ok=True)
    return {
        "auth": auth_list(site.settings.users),
        "auth_message": "Sign in to your Sceneshop studio." if site.settings.users else None,
        # Twice the photo limit: a photo somewhat over it reaches load_image, which answers in the chat
        # with the limit and the fix; anything far bigger is refused by Gradio before it is stored.
        "max_file_size": site.guard.max_file_bytes,
        # The work store's files: restored sessions show their pictures from there, and batch
        # downloads are made there. Its database sits outside this folder and is never served.
        "allowed_paths": [str(site.results), str(site.store.files_root)],
        # Sign-in throttle, upload cache bound, each user's files to that user (studio_guard.py).
        "app_kwargs": {"middleware": [middleware(site.guard)]},
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
