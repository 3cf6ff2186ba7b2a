"""`sceneshop jobs …` (list, show, cancel, retry your jobs) and `sceneshop cleanup` (expired results)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import click

from sceneshop.agent.cli.listing import cut, table, user_options, when
from sceneshop.agent.store.schema import KINDS, STATUSES


def _open(user: str | None, data_dir: Path | None):
    from sceneshop.agent.memory.entry import check_user
    from sceneshop.agent.settings import get_settings
    from sceneshop.agent.store import WorkStore

    settings = get_settings()
    user = check_user(user or settings.user)
    store = WorkStore(data_dir or settings.data_dir)
    store.reap_interrupted(user)  # a job whose process died shows as failed, not as running forever
    return user, store


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}s" if value < 120 else f"{value / 60:.1f}min"


def _progress(job) -> str:
    if job.total:
        return f"{job.done}/{job.total}"
    return str(job.done) if job.done else "-"


@click.group()
def jobs():
    """Your jobs: catalog batches, re-renders and chat turns — queued, running or finished."""


@jobs.command("list")
@user_options('work store')
@click.option("--status", type=click.Choice(STATUSES), help="Only jobs with this status.")
@click.option("--kind", type=click.Choice(KINDS), help="Only jobs of this kind.")
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True,
              help="How many, newest first.")
def list_(user, data_dir, status, kind, limit):
    """List your jobs, newest first."""
    user, store = _open(user, data_dir)
    with store:
        found = store.list_jobs(user, status=status, kind=kind, limit=limit)
    if not found:
        click.echo(f"no jobs for {user}")
        return
    rows = [
        [j.id, j.kind, j.status + (" (cancelling)" if j.cancel_requested and j.status == "running" else ""),
         _progress(j), str(j.position or "-"), when(j.created, seconds=True), _seconds(j.seconds),
         cut(j.title, 40)]
        for j in found
    ]
    click.echo(table(["id", "kind", "status", "progress", "queue", "created", "time", "title"], rows))


@jobs.command()
@user_options('work store')
@click.argument("job_id")
def show(user, data_dir, job_id):
    """Show one job in full: its options, progress, error and results."""
    user, store = _open(user, data_dir)
    with store:
        job = store.get_job(user, job_id)
    fields = [
        ("id", job.id), ("kind", job.kind), ("status", job.status), ("title", job.title or "-"),
        ("progress", _progress(job)), ("message", job.message or "-"),
        ("queue", str(job.position) if job.position else "-"),
        ("created", when(job.created, seconds=True)), ("started", when(job.started, seconds=True)),
        ("finished", when(job.finished, seconds=True)),
        ("time", _seconds(job.seconds)), ("attempts", str(job.attempts)), ("worker", job.worker or "-"),
        ("session", job.session_id or "-"), ("error", job.error or "-"),
    ]
    if job.cancel_requested and job.status == "running":
        fields.append(("cancel", "requested; it stops after the product in hand"))
    for key, value in fields:
        click.echo(f"{key + ':':10}{value}")
    for title, data in (("params", job.params), ("results", job.results)):
        click.echo(f"{title}:")
        click.echo(textwrap.indent(json.dumps(data, indent=2, ensure_ascii=False), "  "))


@jobs.command()
@user_options('work store')
@click.argument("job_id")
def cancel(user, data_dir, job_id):
    """Cancel a job: a queued one at once, a running one after the product in hand."""
    user, store = _open(user, data_dir)
    with store:
        job = store.cancel_job(user, job_id)
    if job.status == "cancelled":
        click.echo(f"cancelled {job.id}")
    else:
        click.echo(f"asked {job.id} to stop; it finishes the product in hand, then shows as cancelled")


@jobs.command()
@user_options('work store')
@click.argument("job_id")
@click.option("--queue-only", is_flag=True, help="Put it back in the queue, do not run it here.")
@click.pass_context
def retry(ctx, user, data_dir, job_id, queue_only):
    """Run a failed or cancelled job again. A batch runs here and now and resumes from its manifest
    (what was done stays done; exit codes as for `sceneshop batch`); other jobs go back in the
    queue for the studio."""
    from sceneshop.agent.batch import summary_lines
    from sceneshop.agent.cli.batch import run_with_progress
    from sceneshop.agent.settings import get_settings

    user, store = _open(user, data_dir)
    with store:
        job = store.retry_job(user, job_id)
        if job.kind != "batch" or queue_only:
            click.echo(f"{job.id} is queued again (position {job.position})")
            return
        job = store.start_job(user, job.id)
        click.echo(f"job {job.id}, attempt {job.attempts}", err=True)
        summary = run_with_progress(store, user, job, get_settings())
    for line in summary_lines(summary):
        click.echo(line)
    ctx.exit(summary.exit_code)


@click.command()
@click.option("--days", type=click.FloatRange(min=0, min_open=True),
              help="Remove results older than this (default from settings: SCENESHOP_RESULT_RETENTION_DAYS).")
@click.option("--user", help="Only this user's files (default: every user's).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the work store lives (default from settings: ~/.sceneshop).")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
def cleanup(days, user, data_dir, dry_run):
    """Remove expired result files (and their rows) and finished jobs older than the retention
    period. Sessions keep their recipes, product photos and masks; batch output folders are yours
    and never touched."""
    from sceneshop.agent.memory.entry import check_user
    from sceneshop.agent.settings import get_settings
    from sceneshop.agent.store import WorkStore

    settings = get_settings()
    days = days if days is not None else settings.result_retention_days
    if not days:
        click.echo("retention is 0 (keep forever): nothing to remove; pass --days N to clean up anyway")
        return
    verb = "would remove" if dry_run else "removed"
    total_files = total_bytes = total_jobs = 0
    with WorkStore(data_dir or settings.data_dir) as store:
        users = [check_user(user)] if user else store.users()
        for who in users:
            report = store.cleanup(who, days, dry_run=dry_run)
            files = len(report.files) + len(report.leftovers)
            total_files += files
            total_bytes += report.bytes
            total_jobs += len(report.jobs)
            if files or report.jobs:
                size = f"{report.bytes / 2**20:.1f} MB"
                click.echo(f"{who}: {verb} {files} files ({size}), {len(report.jobs)} jobs")
                if dry_run:
                    for path in report.files + report.leftovers:
                        click.echo(f"  {path}")
    click.echo(
        f"{verb} {total_files} files ({total_bytes / 2**20:.1f} MB) and {total_jobs} finished jobs "
        f"older than {days:g} days"
    )
