"""`sceneshop batch`: one look applied to a whole catalog, resumable, in this process or on Ray."""

from __future__ import annotations

from pathlib import Path

import click

from sceneshop.tools.errors import InputError


@click.command()
@click.argument("catalog", type=click.Path(path_type=Path))
@click.option("--look", help="A look saved in your recipe memory, by name.")
@click.option("--recipe", type=click.Path(dir_okay=False, path_type=Path), help="A recipe JSON file.")
@click.option("--request", help='Words to plan the look from, e.g. "marble countertop, soft light".')
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder: pictures, masks, recipes, manifest.csv/.jsonl.")
@click.option("--marketplace", help="Marketplace preset for every row without its own (e.g. amazon_main).")
@click.option("--seed-policy", type=click.Choice(["fixed", "per-product"]), default="fixed",
              show_default=True,
              help="fixed: the look's seed for every product; per-product: one made from it and the sku.")
@click.option("--ray", "use_ray", is_flag=True,
              help="Run on Ray (SCENESHOP_RAY_ADDRESS, else a local cluster).")
@click.option("--ray-address", help="Ray cluster address (auto, ray://host:10001); implies --ray.")
@click.option("--workers", type=click.IntRange(1), help="Ray workers (default: one per GPU, else per CPU).")
@click.option("--user", help="Whose looks and jobs (default from settings: SCENESHOP_USER, else 'local').")
@click.pass_context
def batch(ctx, catalog, look, recipe, request, out, marketplace, seed_policy, use_ray, ray_address, workers,
          user):
    """Apply one look to every product of CATALOG (a folder of photos, or a CSV with columns sku,
    image and optionally request, marketplace, mask, name) and write the pictures to OUT.

    Running the same command again resumes: rows the manifest says are done are skipped, failed
    and skipped rows are tried again. Exit code 0: every row done; 2: the batch could not start;
    3: it ran to the end but some rows failed or were skipped (listed, and in the manifest);
    4: cancelled with `sceneshop jobs cancel`; 130: interrupted."""
    from sceneshop.agent.batch import batch_params, read_catalog, summary_lines
    from sceneshop.agent.memory.entry import check_user
    from sceneshop.agent.settings import get_settings
    from sceneshop.agent.store import WorkStore

    settings = get_settings()
    user = check_user(user or settings.user)
    if sum(bool(v) for v in (look, recipe, request)) != 1:
        raise InputError('give exactly one of --look NAME, --recipe R.json or --request "…"')
    read_catalog(catalog)  # a missing or unreadable catalog stops here, before a job is made
    params = batch_params(catalog, out, look=look, recipe=recipe, request=request, marketplace=marketplace,
                          seed_policy=seed_policy, ray=use_ray, ray_address=ray_address, workers=workers)
    with WorkStore(settings.data_dir) as store:
        store.reap_interrupted(user)
        title = f"{Path(catalog).name} → {out}"
        job = store.create_job(user, "batch", title=title, params=params, start=True)
        click.echo(f"job {job.id}", err=True)
        summary = run_with_progress(store, user, job, settings)
    for line in summary_lines(summary):
        click.echo(line)
    ctx.exit(summary.exit_code)


def run_with_progress(store, user: str, job, settings):
    """Runs a batch job with a progress bar (rate and ETA) on stderr; returns its BatchSummary."""
    from tqdm import tqdm

    from sceneshop.agent.batch import batch_studio, run_batch_job
    from sceneshop.agent.studio import open_memory

    memory, note = None, None
    if job.params.get("look") or job.params.get("request"):  # a look by name, or "like last time"
        memory, note = open_memory(settings)
        if note:
            click.echo(f"note: {note}", err=True)
    studio = batch_studio(settings, memory=memory)
    studio.memory_note = note
    bar = None
    failed = {"n": 0}

    def start(summary, todo: int) -> None:
        nonlocal bar
        click.echo(f"{summary.total} products, {summary.done_before} already done, {todo} to do", err=True)
        bar = tqdm(total=summary.total, initial=summary.done_before, unit="product", dynamic_ncols=True,
                   disable=None)

    def result(record) -> None:
        if record["status"] != "done":
            failed["n"] += 1
            bar.set_postfix_str(f"{failed['n']} not done", refresh=False)
        bar.update(1)

    try:
        return run_batch_job(store, user, job, studio, on_start=start, on_result=result)
    finally:
        if bar is not None:
            bar.close()
        if memory is not None:
            memory.close()
