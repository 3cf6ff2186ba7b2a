"""Batches on a Ray cluster: engine actors that each load a Studio once, and a pool that keeps them
busy and hands each result back to the caller as it finishes (the caller writes files and manifest).

Why actors fed by hand rather than Ray Data's map_batches: the manifest must be written by the
caller one product at a time, as each finishes, for a kill to lose nothing; `ray.wait` on a few
tasks per actor gives exactly that stream, knows which sku a failure belongs to, and starts in
about a second, where a Ray Data pipeline took about 6 s to start here (NOTES.md) and returns rows
in blocks. Ray still does the hard parts: placement (one actor per GPU), restarting a dead actor
(max_restarts) and re-running the calls it had in hand (max_task_retries); each call returns once,
and the caller records a sku only if it is not already done, so nothing is marked done twice.
Ray is imported only here, only when a batch asks for it: the studio and `make run` need no cluster.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

from sceneshop.tools.errors import EngineError, InputError, SceneshopError

# The settings a worker needs to build the same engine as the caller. Secrets and the caller's
# data dir are not sent: a worker plans (per-row requests) with its own configuration.
ENGINE_FIELDS = ("diffusion_model", "inpaint_model", "lora_dir", "device", "dtype", "fuse_loras",
                 "max_upload_mb", "max_pixels")
IN_FLIGHT_PER_WORKER = 2  # one running and one waiting, so no actor idles while the caller writes files
MAX_RESTARTS = 3
MAX_TASK_RETRIES = 3


def import_ray():
    try:
        import ray
    except ImportError:
        raise InputError(
            "running on Ray needs the ray package: pip install 'sceneshop[ray]' (ray[data] 2.60 or later), "
            "or run without --ray / SCENESHOP_RAY_ADDRESS"
        ) from None
    return ray


class EngineWorker:
    """What each Ray actor holds: a Studio whose engine is loaded once, so diffusion pipelines and
    LoRAs stay in (GPU) memory from one product to the next."""

    def __init__(self, engine_settings: dict[str, Any]) -> None:
        from sceneshop.agent.batch import batch_studio
        from sceneshop.agent.settings import Settings

        self.studio = batch_studio(Settings(**engine_settings))

    def process(self, look, task):
        from sceneshop.agent.batch import process_product

        return process_product(self.studio, look, task)

    def engine_name(self) -> str:
        return self.studio.engine.name

    def engine_facts(self) -> dict[str, Any]:
        """What the studio's banner and looks need to know of this engine."""
        engine = self.studio.engine
        return {"name": engine.name, "reason": engine.reason, "draws_people": engine.draws_people}

    def render(self, recipe_json: str, photo: bytes | None, mask: bytes | None) -> list[bytes]:
        """The engine's pictures of a recipe (PNG bytes, the recipe inside), for a studio whose
        generations run here (RayEngine): the engine step alone — the studio's checks and looks
        before and after it run in the studio's own process."""
        from sceneshop.agent.recipe import Recipe
        from sceneshop.tools.imageio import encode_png

        recipe = Recipe.from_json(recipe_json)
        image, given = _decode(photo), _decode(mask)
        images = self.studio.engine.render(recipe, image, given)
        return [encode_png(im, {"sceneshop:recipe": recipe_json}) for im in images]

    def product_mask(self, recipe_json: str, photo: bytes | None, mask: bytes | None) -> bytes | None:
        from sceneshop.agent.recipe import Recipe
        from sceneshop.tools.imageio import encode_png

        placed = self.studio.engine.product_mask(Recipe.from_json(recipe_json), _decode(photo), _decode(mask))
        return encode_png(placed) if placed is not None else None


class RayEngine:
    """The studio's image engine on a Ray cluster (SCENESHOP_RAY_ADDRESS): one EngineWorker actor
    holds the configured engine (loaded once, on a GPU when the cluster has one and a diffusion
    model is configured) and every generation of this studio goes to it, one at a time as in
    process (Studio's engine lock). The photo and mask travel as PNG bytes and the pictures come
    back as PNG bytes, so they are exactly the pictures the engine made. Stop is checked while the
    actor works; the picture in hand is then dropped. Progress shows start and end only.

    It connects on first need — the studio's banner, at start; a `sceneshop plan` never — and
    connects again if Ray was shut down meanwhile (a batch pool that started Ray ends it)."""

    WAIT_S = 0.2  # how often Stop is looked at while the actor renders

    def __init__(self, address: str, settings) -> None:
        self.address = address
        self.settings = settings
        self._ray = import_ray()
        self._lock = threading.Lock()
        self._actor = None
        self._facts: dict[str, Any] = {}

    @property
    def actor(self):
        """The engine actor, started (and Ray connected) on first need."""
        with self._lock:
            ray = self._ray
            if self._actor is not None and ray.is_initialized():
                return self._actor
            if not ray.is_initialized():
                _check_reachable(self.address)
                try:
                    ray.init(address=self.address or None, log_to_driver=False, logging_level="warning")
                except Exception as exc:  # Ray raises ConnectionError, ValueError, RuntimeError…
                    raise EngineError(
                        f"cannot reach the Ray cluster at {self.address!r} ({_first_line(exc)}); start one "
                        "with `ray start --head`, or unset SCENESHOP_RAY_ADDRESS to render in this process"
                    ) from None
            gpus = int(ray.cluster_resources().get("GPU", 0))
            # On CPU the actor reserves no core: it renders only while a merchant waits, and a batch's
            # pool (one actor per CPU) must still find every core free to start its own actors.
            gpu = gpus > 0 and bool(self.settings.diffusion_model)
            resources = {"num_cpus": 1, "num_gpus": 1} if gpu else {"num_cpus": 0}
            remote = ray.remote(max_restarts=MAX_RESTARTS, max_task_retries=MAX_TASK_RETRIES, **resources)
            engine_settings = {name: getattr(self.settings, name) for name in ENGINE_FIELDS}
            actor = remote(EngineWorker).remote(engine_settings)
            try:
                self._facts = ray.get(actor.engine_facts.remote())
            except ray.exceptions.RayError as exc:
                raise EngineError(f"the Ray engine actor did not start ({_first_line(exc)})") from None
            self._actor = actor
            return actor

    @property
    def name(self) -> str:
        self.actor  # noqa: B018 — connects, so the name says which engine runs there
        return f"{self._facts['name']} on Ray"

    @property
    def reason(self) -> str:
        self.actor  # noqa: B018
        return f"SCENESHOP_RAY_ADDRESS={self.address or 'local'}; on the cluster: {self._facts['reason']}"

    @property
    def draws_people(self) -> bool:
        self.actor  # noqa: B018
        return bool(self._facts["draws_people"])

    def render(self, recipe, image, mask, *, progress=None, cancel=None) -> list:
        from sceneshop.tools.errors import check_cancel

        check_cancel(cancel)
        if progress is not None:
            progress(0, 1)
        data = self._call(self.actor.render, recipe, image, mask, cancel)
        check_cancel(cancel)
        if progress is not None:
            progress(1, 1)
        return [_decode(png) for png in data]

    def product_mask(self, recipe, image, mask):
        data = self._call(self.actor.product_mask, recipe, image, mask, None)
        return _decode(data).convert("L") if data is not None else None

    def _call(self, method, recipe, image, mask, cancel):
        from sceneshop.tools.errors import check_cancel
        from sceneshop.tools.imageio import encode_png

        ray = self._ray
        ref = method.remote(recipe.to_json(), encode_png(image) if image is not None else None,
                            encode_png(mask) if mask is not None else None)
        while not ray.wait([ref], timeout=self.WAIT_S)[0]:
            check_cancel(cancel)
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            cause = exc.cause if isinstance(getattr(exc, "cause", None), SceneshopError) else None
            if cause is not None:
                raise cause from None  # the engine's own one-line error, as in process
            raise EngineError(f"the Ray engine failed: {_first_line(exc)}") from None
        except ray.exceptions.RayError as exc:
            raise EngineError(f"the Ray engine is unreachable ({_first_line(exc)}); check the cluster "
                              "(`ray status`)") from None


def _decode(data: bytes | None):
    if data is None:
        return None
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    return image


class EnginePool:
    """`workers` EngineWorker actors on the cluster at `address` ("" starts a local one, as
    ray.init() does; "auto" joins the one this machine belongs to; "ray://host:10001" connects a
    client). With GPUs in the cluster and a diffusion model configured each actor takes one GPU
    and `workers` defaults to the number of GPUs; otherwise one CPU each, as many as CPUs."""

    def __init__(self, address: str, settings, workers: int | None = None) -> None:
        ray = import_ray()
        self._ray = ray
        self._connected_here = False
        if not ray.is_initialized():
            options: dict[str, Any] = {"log_to_driver": False, "logging_level": "warning"}
            _check_reachable(address)
            try:
                if address:
                    ray.init(address=address, **options)
                else:
                    ray.init(include_dashboard=False, **options)
            except Exception as exc:  # Ray raises ConnectionError, ValueError, RuntimeError…
                where = f"at {address!r}" if address else "on this machine"
                raise EngineError(
                    f"cannot reach a Ray cluster {where} ({_first_line(exc)}); start one with "
                    "`ray start --head`, check --ray-address / SCENESHOP_RAY_ADDRESS, or run without --ray"
                ) from None
            self._connected_here = True
        resources = ray.cluster_resources()
        gpus, cpus = int(resources.get("GPU", 0)), int(resources.get("CPU", 1))
        self.gpu = gpus > 0 and bool(settings.diffusion_model)
        if workers is not None and workers < 1:
            raise InputError(f"--workers must be at least 1 (got {workers})")
        if self.gpu and workers is None:
            # The GPUs free now: a studio's own engine actor (RayEngine) holds one for good, and an
            # actor asking for a GPU that never frees up would hold its products forever.
            gpus = int(ray.available_resources().get("GPU", 0))
            if gpus < 1:
                raise EngineError(
                    "every GPU of the Ray cluster is in use (a studio's engine actor holds one for its "
                    "chats); add a GPU node, or pass --workers N to wait for N of them"
                )
        count = workers or (gpus if self.gpu else max(1, cpus))
        per_actor = {"num_cpus": 1, "num_gpus": 1} if self.gpu else {"num_cpus": 1}
        retried = {"max_restarts": MAX_RESTARTS, "max_task_retries": MAX_TASK_RETRIES}
        actor = ray.remote(**retried, **per_actor)(EngineWorker)
        engine_settings = {name: getattr(settings, name) for name in ENGINE_FIELDS}
        self.actors = [actor.remote(engine_settings) for _ in range(count)]
        self.stopped = False  # set when should_stop() said so
        self.lost: list[str] = []  # why an actor was given up (it died more often than Ray restarts it)

    def describe(self) -> str:
        each = "1 GPU" if self.gpu else "1 CPU"
        return f"on Ray ({len(self.actors)} workers, {each} each)"

    def run(self, look, tasks: Iterator, *, should_stop: Callable[[], bool] | None = None) -> Iterator:
        """Outcomes of `tasks`, in the order they finish. A task whose actor died for good comes
        back as a "failed" Outcome; no further task goes to that actor."""
        from sceneshop.agent.batch import Outcome

        ray = self._ray
        look_ref = ray.put(look)
        tasks = iter(tasks)
        pending: dict[Any, tuple[int, str]] = {}  # object ref -> (actor index, sku)
        alive = [True] * len(self.actors)

        def submit(index: int) -> None:
            if self.stopped or not alive[index]:
                return
            task = next(tasks, None)
            if task is not None:
                pending[self.actors[index].process.remote(look_ref, task)] = (index, task.sku)

        for index in range(len(self.actors)):
            for _ in range(IN_FLIGHT_PER_WORKER):
                submit(index)
        while pending:
            (ref,), _ = ray.wait(list(pending), num_returns=1)
            index, sku = pending.pop(ref)
            try:
                outcome = ray.get(ref)
            except ray.exceptions.RayActorError as exc:
                alive[index] = False
                self.lost.append(f"worker {index + 1} died and was not restarted: {_first_line(exc)}")
                outcome = Outcome(sku, "failed", error=f"the Ray worker died: {_first_line(exc)}")
            except ray.exceptions.RayError as exc:
                outcome = Outcome(sku, "failed", error=f"on Ray: {_first_line(exc)}")
            yield outcome
            if should_stop is not None and should_stop():
                self.stopped = True
            submit(index)
            if not any(alive):
                break

    def close(self) -> None:
        for actor in self.actors:
            try:
                self._ray.kill(actor)
            except Exception:  # an actor already gone needs no killing
                pass
        self.actors = []
        if self._connected_here:
            self._ray.shutdown()


def _check_reachable(address: str) -> None:
    """A host:port (or ray://host:port) that nothing answers on fails here in seconds; ray.init
    itself keeps retrying such an address for minutes."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # "auto" or "": Ray looks for a cluster on this machine and says so quickly
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise EngineError(
            f"no Ray cluster answers at {address} ({exc.strerror or exc}); start one with `ray start "
            "--head`, check --ray-address / SCENESHOP_RAY_ADDRESS, or run without --ray"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
