"""The studio's jobs: catalog batches started from uploaded photos (or a zip) and run by a worker
thread of the server, chat turns recorded as jobs, and what a job gives back (pictures, a zip).

Reading order: `start_upload_batch` turns an upload into a catalog in the user's store folder and
queues a batch job; `BatchWorker` claims queued batch jobs, users in turn, and runs each with
`run_batch_job` (progress and cancellation go through the job's row); `job_pictures`,
`job_thumbnail` and `batch_zip` read what a job made. The web page only calls these."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import threading
import zipfile
from pathlib import Path, PurePosixPath

from sceneshop.agent.batch import IMAGE_SUFFIXES, JSONL, Manifest, batch_params, run_batch_job
from sceneshop.agent.recipe import Recipe
from sceneshop.agent.store import FINISHED, Job, WorkStore
from sceneshop.agent.store.files import UserFiles
from sceneshop.agent.store.store import new_id
from sceneshop.tools.errors import InputError, SceneshopError
from sceneshop.tools.imageio import write_atomic

log = logging.getLogger("sceneshop.jobs")

MAX_PHOTOS = 2000  # per upload: a bigger catalog is a job for `sceneshop batch`, not a browser upload
POLL_S = 2.0  # how often the worker looks for jobs queued by another process (`sceneshop jobs retry`)


# --------------------------------------------------------------------------- a batch from uploads


def start_upload_batch(
    store: WorkStore, user: str, files: list[str | Path], look: Recipe, look_label: str, *,
    marketplace: str | None = None, max_bytes: int = 25 * 2**20,
) -> tuple[Job, list[str]]:
    """Queues a batch of `look` over the uploaded photos and zips of photos in `files`. The photos
    are copied into <user's store folder>/batches/<token>/photos under names made here (the sku is
    the photo's own file name, kept in the catalog CSV only), with the look as a recipe file beside
    them; the output goes to .../out. Returns the queued job and one note per file left out (not a
    photo, too big, hidden). An upload without a single photo is an InputError."""
    folder = UserFiles(store.files_root, user).folder / "batches" / new_id()
    rows: list[tuple[str, str]] = []
    notes: list[str] = []
    taken: set[str] = set()

    def add(name: str, data: bytes) -> None:
        stem = PurePosixPath(name).stem or "photo"
        sku, n = stem, 1
        while sku in taken:  # two IMG_0001.jpg from different folders of a zip stay two products
            n += 1
            sku = f"{stem}-{n}"
        taken.add(sku)
        rel = f"photos/{len(rows) + 1:04d}{PurePosixPath(name).suffix.lower()}"
        write_atomic(folder / rel, data)
        rows.append((sku, rel))

    for path in files:
        path = Path(path)
        name = path.name
        if path.suffix.lower() == ".zip":
            _add_zip(path, add, notes, max_bytes, lambda: len(rows))
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            size = path.stat().st_size
            if size > max_bytes:
                notes.append(f"{name}: {size / 2**20:.1f} MB is over the {max_bytes / 2**20:.0f} MB limit")
            elif len(rows) >= MAX_PHOTOS:
                notes.append(f"{name}: more than {MAX_PHOTOS} photos in one upload")
            else:
                add(name, path.read_bytes())
        else:
            notes.append(f"{name}: not a photo ({', '.join(IMAGE_SUFFIXES)}) or a .zip of photos")
    if not rows:
        said = "; ".join(notes[:3]) or "nothing was uploaded"
        raise InputError(f"the upload has no product photos to work on ({said}); add .png/.jpg/.webp "
                         "files or a .zip of them")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["sku", "image"])
    writer.writerows(rows)
    catalog = write_atomic(folder / "catalog.csv", buffer.getvalue().encode("utf-8"))
    look_file = write_atomic(folder / "look.json", look.to_json().encode("utf-8"))
    params = batch_params(catalog, folder / "out", recipe=look_file, marketplace=marketplace or None)
    params["look_label"] = look_label  # what the merchant picked, for the job list
    title = f"{len(rows)} photo{'s' if len(rows) != 1 else ''} · {look_label}"
    if marketplace:
        title += f" · {marketplace}"
    job = store.create_job(user, "batch", title=title, params=params, total=len(rows))
    return job, notes


def _add_zip(path: Path, add, notes: list[str], max_bytes: int, count) -> None:
    """The photos inside a zip, by their own names (folders inside it are flattened). Each member is
    read with the size limit applied to what is actually read, so a zip that lies about its sizes
    (a zip bomb) costs no more than the limit."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path.name} is not a readable zip ({exc}); zip the photos again") from None
    with archive:
        for info in archive.infolist():
            member = PurePosixPath(info.filename)
            if info.is_dir() or "__MACOSX" in member.parts or member.name.startswith("."):
                continue  # folders, and the resource forks macOS adds, are not photos
            if member.suffix.lower() not in IMAGE_SUFFIXES:
                notes.append(f"{path.name}: {member.name} is not a photo")
                continue
            if count() >= MAX_PHOTOS:
                notes.append(f"{path.name}: more than {MAX_PHOTOS} photos in one upload; the rest left out")
                return
            try:
                with archive.open(info) as handle:
                    data = handle.read(max_bytes + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, ValueError) as exc:
                notes.append(f"{path.name}: {member.name} cannot be read ({exc})")
                continue
            if len(data) > max_bytes:
                notes.append(f"{path.name}: {member.name} is over the {max_bytes / 2**20:.0f} MB limit")
                continue
            add(member.name, data)


# ------------------------------------------------------------------------------ the worker thread


class BatchWorker:
    """Runs queued batch jobs of every user in this process, one at a time: the studio's engine
    renders one picture at a time anyway (Studio's engine lock), so a second batch would only take
    turns with the first, while chat turns slip in between two products of a batch. Users take
    turns: after a job of one user, the next queued job of the next user goes first. With a Ray
    cluster configured the products go to its actors (run_batch_job decides, as for the CLI)."""

    def __init__(self, store: WorkStore, studio, *, poll_s: float = POLL_S) -> None:
        self.store = store
        self.studio = studio
        self.poll_s = poll_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._last_user: str | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> BatchWorker:
        """Marks batches left running by a process that died as failed ("interrupted": Retry
        resumes them from their manifest), then starts the thread."""
        for user in self.store.users():
            self.store.reap_interrupted(user)
        self._thread = threading.Thread(target=self._loop, name="sceneshop-batches", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        """A job was queued: look now rather than at the next poll."""
        self._wake.set()

    def close(self, timeout: float = 10.0) -> None:
        """Stops taking jobs. A batch in hand runs on in its (daemon) thread for up to `timeout`
        seconds; if the process then ends, the next start reports it as interrupted."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self._claim()
            except SceneshopError as exc:  # the store is busy or unreadable: say so, try again later
                log.warning("batch worker: %s", exc)
                job = None
            if job is None:
                self._wake.wait(self.poll_s)
                self._wake.clear()
                continue
            try:
                run_batch_job(self.store, job.user, job, self.studio)
            except Exception:  # run_batch_job has marked the job failed with the reason
                log.exception("batch job %s of %s failed", job.id, job.user)

    def _claim(self) -> Job | None:
        users = self.store.users()
        if self._last_user in users:
            at = users.index(self._last_user) + 1
            users = users[at:] + users[:at]
        for user in users:
            job = self.store.claim_next(user, ("batch",))
            if job is not None:
                self._last_user = user
                return job
        return None


# ------------------------------------------------------------------------- what a job gave back


def recent_jobs(store: WorkStore, user: str, batches: int = 50, turns: int = 30) -> list[Job]:
    """The user's job list as the studio shows it, newest first: their latest batches and their
    latest chat turns and re-renders, each up to its own count — a day of chatting (every turn is
    a job) must not push last week's batch out of the list."""
    found = store.list_jobs(user, kind="batch", limit=batches)
    for kind in ("turn", "rerender"):
        found += store.list_jobs(user, kind=kind, limit=turns)
    return sorted(found, key=lambda job: (job.created, job.id), reverse=True)



def job_pictures(job: Job, limit: int = 200) -> list[tuple[Path, str]]:
    """The pictures a job made, with a caption: a batch's finished products (sku), or a turn's
    pictures (its version). Files that are gone (cleaned up, moved) are left out."""
    if job.kind == "batch":
        outdir = _outdir(job)
        if outdir is None or not (outdir / JSONL).is_file():
            return []
        manifest = Manifest(outdir).load()
        found = []
        for sku in sorted(manifest.latest):
            record = manifest.latest[sku]
            picture = next((f for f in record.get("files", []) if f.endswith(".png")
                            and not f.startswith("masks/")), None)
            if record.get("status") == "done" and picture and (outdir / picture).is_file():
                found.append((outdir / picture, sku))
            if len(found) >= limit:
                break
        return found
    version = job.results.get("version")
    caption = f"v{version}" if version else job.kind
    return [(Path(p), caption) for p in job.results.get("images", []) if Path(p).is_file()][:limit]


def job_thumbnail(job: Job) -> Path | None:
    """A job's first picture, read cheaply: a batch's manifest is read only up to its first
    finished product (a 10,000-row manifest is not parsed for a thumbnail)."""
    if job.kind != "batch":
        pictures = job_pictures(job, limit=1)
        return pictures[0][0] if pictures else None
    outdir = _outdir(job)
    if outdir is None:
        return None
    try:
        with open(outdir / JSONL, "rb") as handle:
            for raw in handle:
                if b'"done"' not in raw:
                    continue
                try:
                    record = json.loads(raw)
                except ValueError:
                    continue
                for rel in record.get("files", []):
                    if rel.endswith(".png") and not rel.startswith("masks/") and (outdir / rel).is_file():
                        return outdir / rel
    except OSError:
        return None
    return None


def batch_zip(store: WorkStore, user: str, job_id: str) -> Path:
    """A zip of a batch's output folder — the pictures, masks and recipes, manifest.csv and
    manifest.jsonl, batch.json — written atomically into the user's store folder (downloads/) and
    made again only when the output changed since. The job must be this user's (the store refuses
    another's id as unknown)."""
    job = store.get_job(user, job_id)
    if job.kind != "batch":
        raise InputError(f"job {job.id} is a {job.kind}, not a batch; its pictures download from the chat")
    outdir = _outdir(job)
    if outdir is None or not outdir.is_dir():
        raise InputError(f"batch {job.id} has no output yet; wait until it has started")
    members = sorted(p for p in outdir.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not members:
        raise InputError(f"batch {job.id} has no output yet; wait until its first product is done")
    target = UserFiles(store.files_root, user).folder / "downloads" / f"batch-{job.id}.zip"
    newest = max(p.stat().st_mtime for p in members)
    if target.is_file() and target.stat().st_mtime >= newest and job.status in FINISHED:
        return target
    # Written aside and renamed into place: a 10,000-product batch is gigabytes, never held in memory,
    # and a download never sees half a zip.
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:  # PNGs do not compress further
            for path in members:
                archive.write(path, path.relative_to(outdir).as_posix())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SceneshopError(f"could not write the download {target} ({exc.strerror or exc}); check free "
                             "disk space") from None
    return target


def _outdir(job: Job) -> Path | None:
    outdir = job.results.get("outdir") or job.params.get("outdir")
    return Path(outdir) if outdir else None
