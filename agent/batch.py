"""Catalog batches: one look applied to every product of a catalog, in this process or on a Ray
cluster, with a manifest that is the truth for resuming.

Reading order: `read_catalog` (a folder of photos or a CSV) -> `resolve_look` (the recipe every
product starts from, kept in OUTDIR/batch.json so a resumed run uses the very same one) ->
`run_batch`, which sends each product not yet done to `process_product` (cut-out, the product's
own recipe, render, marketplace check, PNG bytes back) and writes what comes back: the files
atomically, then one manifest record appended and fsynced. A kill -9 at any moment loses no
finished product; running the same command again skips what the manifest says is done and
retries the rest.
"""

from __future__ import annotations

import csv
import dataclasses
import fcntl
import hashlib
import io
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sceneshop.agent.recipe import MAX_SEED, Recipe
from sceneshop.tools.errors import CatalogError, InputError, SceneshopError
from sceneshop.tools.imageio import encode_png, write_atomic

SEED_POLICIES = ("fixed", "per-product")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
CSV_COLUMNS = ("sku", "image", "request", "marketplace", "mask", "name")
MANIFEST_FIELDS = ("sku", "status", "files", "check", "recipe_id", "seed", "error", "seconds", "attempt_at")
BATCH_FILE = "batch.json"
LOCK_FILE = ".batch.lock"
JSONL = "manifest.jsonl"
CSV_NAME = "manifest.csv"
BATCH_FORMAT = 1

# Exit codes of `sceneshop batch` (README): every row done / the batch could not start (a bad
# catalog, look or option: one line says why) / it ran to the end but some rows failed or were
# skipped (each listed, and in the manifest) / it was cancelled (`sceneshop jobs cancel`).
EXIT_ALL_DONE, EXIT_CANNOT_START, EXIT_ROWS_NOT_DONE, EXIT_CANCELLED = 0, 2, 3, 4


# ------------------------------------------------------------------------------------ catalog


@dataclass(frozen=True)
class Product:
    """One catalog row. `problem` says why it cannot be processed (it is reported and skipped)."""

    row: int  # the CSV line number (the header is line 1), or the position in the folder
    sku: str
    image: Path | None
    request: str = ""
    marketplace: str | None = None
    mask: Path | None = None
    name: str = ""
    problem: str | None = None


def read_catalog(path: str | Path) -> list[Product]:
    """The products of a catalog: a folder of photos (sku = file name without extension, sorted),
    or a CSV with columns sku, image (path, relative to the CSV's folder) and optionally request,
    marketplace, mask, name. A bad row (no sku, a duplicate sku, a missing photo, a wrong number of
    fields) is kept with its problem so that it is reported; an unreadable catalog is an error."""
    path = Path(path).expanduser()
    if path.is_dir():
        photos = sorted(p for p in path.iterdir()
                        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
        if not photos:
            raise InputError(f"catalog folder {path} has no photos ({', '.join(IMAGE_SUFFIXES)})")
        return _dedupe([Product(i + 1, p.stem, p) for i, p in enumerate(photos)])
    if not path.exists():
        raise InputError(f"catalog {path} does not exist; give a folder of photos or a CSV file")
    if path.suffix.lower() != ".csv":
        raise InputError(f"catalog {path} is neither a folder nor a .csv file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"catalog {path} cannot be read ({exc}); save it as UTF-8 CSV") from None
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in ("sku", "image") if c not in header]
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if missing or unknown:
        raise InputError(
            f"catalog {path}: the header must name the columns sku, image and optionally request, "
            f"marketplace, mask, name (missing: {', '.join(missing) or '-'}; "
            f"unknown: {', '.join(unknown) or '-'})"
        )
    products = []
    for line, fields in enumerate(reader, start=2):
        if not any(f.strip() for f in fields):
            continue  # blank line
        row = {h: (fields[i].strip() if i < len(fields) else "") for i, h in enumerate(header)}
        sku = row["sku"]
        problem = None
        if len(fields) != len(header):
            problem = f"line {line} has {len(fields)} fields, the header {len(header)}"
        elif not sku:
            problem = f"line {line} has no sku"
        image = _beside(path, row["image"]) if row["image"] else None
        mask = _beside(path, row.get("mask", "")) if row.get("mask") else None
        if problem is None:
            problem = _missing_file(image, "photo") or _missing_file(mask, "mask", optional=True)
        products.append(Product(line, sku or f"line-{line}", image, row.get("request", ""),
                                row.get("marketplace") or None, mask, row.get("name", ""), problem))
    if not products:
        raise InputError(f"catalog {path} has a header but no rows")
    return _dedupe(products)


def _beside(csv_path: Path, value: str) -> Path:
    candidate = Path(value).expanduser()
    return candidate if candidate.is_absolute() else csv_path.parent / candidate


def _missing_file(path: Path | None, what: str, optional: bool = False) -> str | None:
    if path is None:
        return None if optional else f"no {what} path"
    if not path.is_file():
        return f"{what} {path} does not exist"
    return None


def _dedupe(products: list[Product]) -> list[Product]:
    seen: dict[str, int] = {}
    out = []
    for product in products:
        if product.sku in seen and product.problem is None:
            product = dataclasses.replace(
                product, problem=f"sku {product.sku} appears again (first at row {seen[product.sku]}); "
                "skus must be unique", sku=f"{product.sku}#row{product.row}",
            )
        seen.setdefault(product.sku, product.row)
        out.append(product)
    return out


# --------------------------------------------------------------------------------------- look


@dataclass(frozen=True)
class Look:
    """What every product of the batch gets: the base recipe, where it came from, the marketplace
    (None = each row's, else the photo's own size) and how seeds are chosen."""

    recipe_json: str
    source: str  # "look 'summer'", "recipe file r.json", "request '…'"
    marketplace: str | None
    seed_policy: str

    def to_dict(self) -> dict[str, Any]:
        return {"format": BATCH_FORMAT, **dataclasses.asdict(self)}


def resolve_look(
    studio, user: str, *, look: str | None = None, recipe_path: str | Path | None = None,
    request: str | None = None, marketplace: str | None = None, seed_policy: str = "fixed",
) -> Look:
    """The batch's look from exactly one of: a look saved in the user's recipe memory (by name), a
    recipe JSON file, or a request planned once (memory consulted, as in the chat)."""
    source = describe_source(look, recipe_path, request)
    if seed_policy not in SEED_POLICIES:
        raise InputError(f"seed policy {seed_policy!r} is not one of {', '.join(SEED_POLICIES)}")
    if marketplace:
        studio.catalog.marketplace(marketplace)  # an unknown name fails here, before any work
    if look:
        if studio.memory is None:
            raise InputError(f"--look needs the recipe memory, which is unavailable ({studio.memory_note})")
        entry = studio.memory.find_by_name(user, look)
        if entry is None:
            raise InputError(f"you have no saved look named '{look}'; `sceneshop memory list` shows yours")
        recipe = entry.recipe
    elif recipe_path:
        try:
            recipe = Recipe.from_json(Path(recipe_path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"recipe file {recipe_path} cannot be read ({exc})") from None
    else:
        recipe = studio.plan(request, None, image_size=(1024, 1024), user=user)
    return Look(recipe.to_json(), source, marketplace or None, seed_policy)


def describe_source(look: str | None, recipe_path: str | Path | None, request: str | None) -> str:
    """How a batch names its look (in batch.json and the summary); exactly one must be given."""
    options = (("--look", look), ("--recipe", recipe_path), ("--request", request))
    given = [(flag, value) for flag, value in options if value]
    if len(given) != 1:
        raise InputError("give exactly one of --look NAME, --recipe R.json or --request \"…\" "
                         f"(got {', '.join(flag for flag, _ in given) or 'none'})")
    flag, value = given[0]
    if flag == "--look":
        return f"look '{value}'"
    return f"recipe file {Path(value).name}" if flag == "--recipe" else f"request '{value}'"


# ----------------------------------------------------------------------------- one product


@dataclass(frozen=True)
class Task:
    """One product as sent to a worker: the photo travels as bytes, so a worker on another machine
    needs no access to the caller's files."""

    sku: str
    photo: bytes
    mask: bytes | None = None
    request: str = ""
    marketplace: str | None = None
    name: str = ""


@dataclass
class Outcome:
    """What a worker sends back for one product: status done | failed | skipped, the encoded
    pictures by role ("image", "image-2", "mask"), the product's recipe and the check."""

    sku: str
    status: str
    pictures: dict[str, bytes] = field(default_factory=dict)
    recipe_json: str = ""
    recipe_id: str = ""
    seed: int | None = None
    check: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    seconds: float = 0.0


def process_product(studio, look: Look, task: Task) -> Outcome:
    """The whole work for one product, the same in this process and in a Ray actor: load the photo
    (and mask), cut out, make the product's recipe, render, check for the marketplace, encode.
    A bad photo or mask is "skipped" (the row must be fixed); any other failure "failed"."""
    start = time.perf_counter()
    limits = studio.settings.upload_limits
    try:
        from sceneshop.tools.imageio import load_image, load_mask

        try:  # what the row itself gets wrong: fixed in the catalog, then retried
            photo = load_image(task.photo, **limits)
            mask = load_mask(task.mask, photo.size, max_bytes=limits["max_bytes"]) if task.mask else None
            if task.marketplace:
                studio.catalog.marketplace(task.marketplace)
        except (InputError, CatalogError) as exc:
            return Outcome(task.sku, "skipped", error=str(exc), seconds=time.perf_counter() - start)
        if mask is None:
            mask = studio.segment(photo)
        recipe = product_recipe(studio, look, task, photo.size)
        images = studio.render(recipe, photo, mask)
        check: dict[str, Any] = {"status": "no marketplace"}
        for verdict in studio.check(recipe, images)[:1]:  # the manifest records the main picture's
            check = {"status": "passed" if verdict.passed else "failed", "verdict": str(verdict),
                     "problems": verdict.problems, "fill": verdict.fill, "islands": verdict.islands}
        metadata = {"sceneshop:recipe": recipe.to_json()}
        pictures = {("image" if i == 0 else f"image-{i + 1}"): encode_png(im, metadata)
                    for i, im in enumerate(images)}
        pictures["mask"] = encode_png(mask)
        return Outcome(task.sku, "done", pictures, recipe.to_json(), recipe.id, recipe.seed, check,
                       seconds=time.perf_counter() - start)
    except SceneshopError as exc:
        return Outcome(task.sku, "failed", error=str(exc), seconds=time.perf_counter() - start)
    except Exception as exc:  # one product's bug must not end a 10 000-product batch; it is recorded
        return Outcome(task.sku, "failed", error=f"{type(exc).__name__}: {exc}",
                       seconds=time.perf_counter() - start)


def product_recipe(studio, look: Look, task: Task, photo_size: tuple[int, int]) -> Recipe:
    """The look's recipe made this product's own: the row's request applied as an edit (as chat
    feedback is), the row's name as the subject, the canvas of the marketplace (row, then
    --marketplace, then the look's own) or else of the photo, and the seed the policy gives."""
    from sceneshop.agent.planner.apply import fit_size
    from sceneshop.agent.planner.prompt import compose_prompt

    base = Recipe.from_json(look.recipe_json)
    if task.request:
        recipe = studio.planner.plan(task.request, base, image_size=photo_size)
    else:
        recipe = base.child(base.request)
    if recipe.mode in ("text_to_image", "inpaint"):
        # A catalog photo is the product itself: keep it and make the scene around it.
        recipe.notes.append(f"mode replace_background for a product photo (the look was {recipe.mode})")
        recipe.mode = "replace_background"
    if task.name:
        recipe.subject.description = task.name[:200]
    market = task.marketplace or look.marketplace or recipe.output.preset
    if market:
        preset = studio.catalog.marketplace(market)
        recipe.output.preset = preset.name
        recipe.width, recipe.height = preset.width, preset.height
    else:
        recipe.width, recipe.height = fit_size(photo_size, recipe.notes)
    recipe.seed = base.seed if look.seed_policy == "fixed" else product_seed(base.seed, task.sku)
    recipe.prompt, recipe.negative_prompt = compose_prompt(recipe, studio.catalog)
    return recipe


def product_seed(base_seed: int, sku: str) -> int:
    """The per-product seed: fixed by the look's seed and the sku, so a retried or resumed product
    gets the very same picture."""
    digest = hashlib.sha256(f"{base_seed}:{sku}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % (MAX_SEED + 1)


# ---------------------------------------------------------------------------------- manifest


def file_stem(sku: str) -> str:
    """A file name for a sku: the sku itself when it is a safe name, else a cleaned form plus a
    short hash (two skus never share a file)."""
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", sku).strip("._") or "product"
    if clean == sku and len(sku) <= 100:
        return clean
    return f"{clean[:80]}-{hashlib.sha1(sku.encode()).hexdigest()[:8]}"


class Manifest:
    """OUTDIR/manifest.jsonl, the truth: one record per attempt, appended and fsynced before the
    next product counts as done, so a kill loses at most the product in hand. The latest record of
    a sku decides its state (a torn last line, from a kill mid-write, is reported and ignored).
    OUTDIR/manifest.csv shows that latest state per sku, rewritten atomically at the end of a run."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.jsonl = folder / JSONL
        self.csv = folder / CSV_NAME
        self.latest: dict[str, dict[str, Any]] = {}
        self.problems: list[str] = []
        self._handle: Any = None

    def load(self) -> Manifest:
        if not self.jsonl.exists():
            return self
        with open(self.jsonl, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    record = json.loads(raw)
                    sku, status = record["sku"], record["status"]
                    assert isinstance(sku, str) and isinstance(status, str)
                except (ValueError, KeyError, TypeError, AssertionError):
                    self.problems.append(f"{self.jsonl.name} line {number} is damaged (an interrupted "
                                         "write?) and was ignored")
                    continue
                self.latest[sku] = record
        return self

    def is_done(self, sku: str) -> bool:
        """Done, and its files are still there (a deleted output is made again)."""
        record = self.latest.get(sku)
        if record is None or record.get("status") != "done":
            return False
        return all((self.folder / rel).is_file() for rel in record.get("files", []))

    def append(self, record: dict[str, Any]) -> None:
        if self._handle is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.jsonl, "ab")  # noqa: SIM115 — held for the whole run
            if self._handle.tell() > 0:
                self._end_torn_line()
        self._handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True).encode() + b"\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.latest[record["sku"]] = record

    def _end_torn_line(self) -> None:
        # A kill mid-write leaves a line without its newline: end it, so the next record starts
        # on a line of its own (the torn one is then reported and ignored on reading).
        with open(self.jsonl, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                self._handle.write(b"\n")

    def write_csv(self) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(MANIFEST_FIELDS)
        for sku in sorted(self.latest):
            record = self.latest[sku]
            writer.writerow([
                record.get("sku"), record.get("status"), " ".join(record.get("files", [])),
                (record.get("check") or {}).get("status", ""), record.get("recipe_id", ""),
                "" if record.get("seed") is None else record["seed"], record.get("error", ""),
                f"{record.get('seconds', 0):.3f}", record.get("attempt_at", ""),
            ])
        write_atomic(self.csv, buffer.getvalue().encode("utf-8"))

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def stored_look(outdir: str | Path) -> Look | None:
    """The look kept in OUTDIR/batch.json by an earlier run, or None for a new folder."""
    path = Path(outdir) / BATCH_FILE
    if not path.exists():
        return None
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        return Look(stored["recipe_json"], stored["source"], stored["marketplace"], stored["seed_policy"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path} is damaged ({exc}); move it aside to start this batch afresh") from None


def prepare_outdir(outdir: Path, look: Look) -> Look:
    """OUTDIR's batch.json holds the look of the batch in it. A new folder gets this look; a
    resumed one keeps its own (a look planned from a request has a random seed: the resumed
    products must get the same one). Another look in the same folder is refused."""
    kept = stored_look(outdir)
    if kept is None:
        write_atomic(Path(outdir) / BATCH_FILE, json.dumps(look.to_dict(), indent=2).encode("utf-8"))
        return look
    check_same_batch(outdir, kept, look.source, look.marketplace, look.seed_policy)
    return kept


def check_same_batch(
    outdir: str | Path, kept: Look, source: str, marketplace: str | None, seed_policy: str
) -> None:
    """Refuses to resume a batch folder with another look, marketplace or seed policy."""
    if (kept.source, kept.marketplace, kept.seed_policy) != (source, marketplace, seed_policy):
        raise InputError(
            f"{outdir} holds a batch of {kept.source} (marketplace {kept.marketplace or 'per row'}, "
            f"seed policy {kept.seed_policy}); resume it with the same options, or choose another -o"
        )


# --------------------------------------------------------------------------------------- run


@dataclass
class BatchSummary:
    """How a run went. `done_before` were skipped as already done; `failed`/`skipped` list
    (sku, reason) of rows not done; `exit_code` is the CLI's (EXIT_*)."""

    outdir: Path
    total: int
    done_before: int = 0
    done_now: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    where: str = "in this process"
    cancelled: bool = False

    @property
    def done(self) -> int:
        return self.done_before + self.done_now

    @property
    def rate(self) -> float:
        return self.done_now / self.seconds if self.seconds > 0 else 0.0

    @property
    def exit_code(self) -> int:
        if self.cancelled:
            return EXIT_CANCELLED
        return EXIT_ALL_DONE if self.done == self.total else EXIT_ROWS_NOT_DONE


Event = Callable[[str, dict[str, Any]], None]  # ("result", record) as each product finishes


def run_batch(
    studio, products: list[Product], look: Look, outdir: str | Path, *, pool=None,
    on_start: Callable[[BatchSummary, int], None] | None = None, on_result: Event | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> BatchSummary:
    """Runs every product not yet done: in this process with `studio`, or on `pool` (a
    sceneshop.agent.cluster.EnginePool) when given. `on_start(summary, todo)` is called once the
    manifest is read; each result is written as it arrives (files, then one manifest record) and
    then passed to `on_result(record)`; `should_stop()` is asked after each result, and when true
    no further product is started (those in flight finish and are recorded). One run at a time
    per OUTDIR: a second is refused while the first is alive."""
    outdir = Path(outdir).expanduser()
    with _sole_run(outdir):
        return _run(studio, products, look, outdir, pool, on_start, on_result, should_stop)


@contextmanager
def _sole_run(outdir: Path) -> Iterator[None]:
    """An exclusive lock on OUTDIR/.batch.lock for the run (the kernel drops it when the process
    dies, kill -9 included), then the temp files a killed run's atomic writes left are removed."""
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        handle = open(outdir / LOCK_FILE, "a+b")  # noqa: SIM115 — held for the whole run
    except OSError as exc:
        raise InputError(f"cannot write to the output folder {outdir} ({exc.strerror or exc})") from None
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                f"another `sceneshop batch` is writing to {outdir}; let it finish, or stop it "
                "(`sceneshop jobs cancel`) and run this again"
            ) from None
        for stale in outdir.rglob(".*.tmp"):
            stale.unlink(missing_ok=True)
        yield
    finally:
        handle.close()


def _run(studio, products, look, outdir, pool, on_start, on_result, should_stop) -> BatchSummary:
    look = prepare_outdir(outdir, look)
    manifest = Manifest(outdir).load()
    summary = BatchSummary(outdir, len(products), warnings=list(manifest.problems))
    todo: list[Product] = []
    for product in products:
        if manifest.is_done(product.sku):
            summary.done_before += 1
        else:
            todo.append(product)
    if on_start is not None:
        on_start(summary, len(todo))
    start = time.perf_counter()

    def record(outcome: Outcome) -> None:
        if manifest.is_done(outcome.sku):
            return  # never marked done twice (a late duplicate of a retried task)
        entry = _write_outcome(outdir, outcome)
        manifest.append(entry)
        if outcome.status == "done":
            summary.done_now += 1
        else:
            rows = summary.skipped if outcome.status == "skipped" else summary.failed
            rows.append((outcome.sku, outcome.error))
        if on_result is not None:
            on_result(entry)

    try:
        tasks = _tasks(todo, record, studio.settings.upload_limits["max_bytes"])
        if pool is None:
            summary.where = "in this process"
            for task in tasks:
                record(process_product(studio, look, task))
                if should_stop is not None and should_stop():
                    summary.cancelled = True
                    break
        else:
            summary.where = pool.describe()
            for outcome in pool.run(look, tasks, should_stop=should_stop):
                record(outcome)
            summary.cancelled = pool.stopped
            summary.warnings.extend(pool.lost)
    finally:
        summary.seconds = time.perf_counter() - start
        manifest.close()
        manifest.write_csv()
    return summary


def _tasks(products: list[Product], record: Callable[[Outcome], None], max_bytes: int) -> Iterator[Task]:
    """Tasks for the products, reading each photo only when it is about to be sent; a row that
    cannot become a task is recorded as skipped right here."""
    for product in products:
        problem = product.problem
        photo = mask = None
        if problem is None:
            try:
                photo = _read(product.image, max_bytes)
                mask = _read(product.mask, max_bytes) if product.mask else None
            except InputError as exc:
                problem = str(exc)
        if problem is not None:
            record(Outcome(product.sku, "skipped", error=problem))
            continue
        yield Task(product.sku, photo, mask, product.request, product.marketplace, product.name)


def _read(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(f"{path} is {size / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB")
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path} cannot be read ({exc.strerror or exc})") from None


def _write_outcome(outdir: Path, outcome: Outcome) -> dict[str, Any]:
    """Writes a product's files atomically and returns its manifest record."""
    stem = file_stem(outcome.sku)
    files = []
    for role, data in outcome.pictures.items():
        rel = f"masks/{stem}.png" if role == "mask" else f"{stem}{role[5:]}.png"
        write_atomic(outdir / rel, data)
        files.append(rel)
    if outcome.recipe_json:
        rel = f"recipes/{stem}.json"
        write_atomic(outdir / rel, outcome.recipe_json.encode("utf-8"))
        files.append(rel)
    return {
        "sku": outcome.sku, "status": outcome.status, "files": files, "check": outcome.check,
        "recipe_id": outcome.recipe_id, "seed": outcome.seed, "error": outcome.error,
        "seconds": round(outcome.seconds, 4), "attempt_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


# ------------------------------------------------------------------------------- studio & job


class PlannerOnDemand:
    """The configured planner, built on its first use: most batches apply a look and never plan,
    and the embedded planner's model costs seconds to load in every worker."""

    def __init__(self, settings) -> None:
        self.settings = settings
        self._planner = None

    @property
    def name(self) -> str:
        return self._real().name

    def plan(self, request: str, parent: Recipe | None = None, *, image_size=None) -> Recipe:
        return self._real().plan(request, parent, image_size=image_size)

    def _real(self):
        if self._planner is None:
            from sceneshop.agent.studio import choose_planner

            self._planner = choose_planner(self.settings)
        return self._planner


def batch_studio(settings, memory=None):
    """The Studio a batch runs on: the configured engine, the planner loaded only if a row asks."""
    from sceneshop.agent.studio import Studio

    return Studio(settings, planner=PlannerOnDemand(settings), memory=memory)


def batch_params(catalog: str | Path, outdir: str | Path, *, look: str | None = None,
                 recipe: str | Path | None = None, request: str | None = None, marketplace: str | None = None,
                 seed_policy: str = "fixed", ray: bool = False, ray_address: str | None = None,
                 workers: int | None = None) -> dict[str, Any]:
    """A batch's options as a job keeps them, so `sceneshop jobs retry` runs the same batch again."""
    def absolute(p):
        return str(Path(p).expanduser().resolve()) if p else None

    return {"catalog": absolute(catalog), "outdir": absolute(outdir), "look": look,
            "recipe": absolute(recipe), "request": request, "marketplace": marketplace,
            "seed_policy": seed_policy, "ray": bool(ray), "ray_address": ray_address, "workers": workers}


def run_batch_job(
    store, user: str, job, studio, *, on_start: Callable[[BatchSummary, int], None] | None = None,
    on_result: Event | None = None,
) -> BatchSummary:
    """Runs a batch job of the work store (created running, or claimed) to its end with the options
    in its params (see `batch_params`): progress and cancellation go through the job's row, and it
    finishes as done (every row done), failed (rows not done, or an error) or cancelled."""
    params = job.params
    pool = None
    progress = {"handled": 0, "stop": False}

    def started(summary: BatchSummary, todo: int) -> None:
        progress["handled"] = summary.done_before
        store.update_job(user, job.id, total=summary.total, done=summary.done_before,
                         message=f"{summary.done_before}/{summary.total} products, {todo} to do")
        if on_start is not None:
            on_start(summary, todo)

    def result(record: dict[str, Any]) -> None:
        progress["handled"] += 1
        updated = store.update_job(user, job.id, done=progress["handled"],
                                   message=f"{progress['handled']}/{len(products)} products")
        progress["stop"] = updated.cancel_requested
        if on_result is not None:
            on_result(record)

    try:
        products = read_catalog(params["catalog"])
        marketplace, seed_policy = params.get("marketplace") or None, params.get("seed_policy") or "fixed"
        source = describe_source(params.get("look"), params.get("recipe"), params.get("request"))
        look = stored_look(params["outdir"])
        if look is None:
            look = resolve_look(studio, user, look=params.get("look"), recipe_path=params.get("recipe"),
                                request=params.get("request"), marketplace=marketplace,
                                seed_policy=seed_policy)
        else:  # resuming: the folder's own look, checked against the options, with nothing re-planned
            check_same_batch(params["outdir"], look, source, marketplace, seed_policy)
        address = ray_target(studio.settings, params.get("ray", False), params.get("ray_address"))
        if address is not None:
            from sceneshop.agent.cluster import EnginePool

            pool = EnginePool(address, studio.settings, workers=params.get("workers"))
        summary = run_batch(studio, products, look, params["outdir"], pool=pool, on_start=started,
                            on_result=result, should_stop=lambda: progress["stop"])
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            message = "interrupted (Ctrl-C); `sceneshop jobs retry` resumes it"
        else:
            message = str(exc) if isinstance(exc, SceneshopError) else f"{type(exc).__name__}: {exc}"
        store.finish_job(user, job.id, "failed", error=message)
        raise
    finally:
        if pool is not None:
            pool.close()
    results = {"outdir": str(summary.outdir), "manifest": str(summary.outdir / JSONL),
               "manifest_csv": str(summary.outdir / CSV_NAME), "done": summary.done, "total": summary.total,
               "failed": len(summary.failed), "skipped": len(summary.skipped), "where": summary.where}
    line = f"{summary.done}/{summary.total} products done"
    if summary.cancelled:
        store.finish_job(user, job.id, "cancelled", results=results, message=line)
    elif summary.exit_code == EXIT_ALL_DONE:
        store.finish_job(user, job.id, "done", results=results, message=line)
    else:
        not_done = len(summary.failed) + len(summary.skipped)
        error = f"{not_done} of {summary.total} products not done; see {summary.outdir / CSV_NAME}"
        store.finish_job(user, job.id, "failed", results=results, message=line, error=error)
    return summary


def ray_target(settings, flag: bool, address: str | None) -> str | None:
    """Where a batch runs: None = in this process; else the Ray address to connect to ("" = start
    or find a local cluster, as ray.init() does). --ray-address beats SCENESHOP_RAY_ADDRESS."""
    if address:
        return address
    if settings.ray_address:
        return settings.ray_address
    return "" if flag else None


def summary_lines(summary: BatchSummary, limit: int = 20) -> list[str]:
    """The end-of-run report the CLI prints (and the studio can show)."""
    lines = [
        f"{summary.done}/{summary.total} products done ({summary.done_now} now, {summary.done_before} "
        f"before), {len(summary.failed)} failed, {len(summary.skipped)} skipped; "
        f"{summary.seconds:.1f} s" + (f", {summary.rate:.2f} products/s" if summary.done_now else "")
        + f" {summary.where}",
    ]
    if summary.cancelled:
        lines.append("cancelled: products not started stay to do; run the same command to resume")
    for label, rows in (("failed", summary.failed), ("skipped", summary.skipped)):
        for sku, why in rows[:limit]:
            lines.append(f"  {label} {sku}: {why}")
        if len(rows) > limit:
            lines.append(f"  … and {len(rows) - limit} more {label} (see the manifest)")
    lines.extend(f"  warning: {w}" for w in summary.warnings)
    lines.append(f"manifest: {summary.outdir / CSV_NAME} and {summary.outdir / JSONL}")
    return lines

