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
from collections.abc import Callable, Iterator
from typing import Any

from sceneshop.tools.errors import EngineError, InputError

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
