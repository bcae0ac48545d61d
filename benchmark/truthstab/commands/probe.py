"""`truthstab probe run`: parse, call :func:`truthstab.pipeline.probe.probe_release`, print."""

from __future__ import annotations

from pathlib import Path

import click
from tabulate import tabulate

from truthstab.commands.score import BOOTSTRAP_HELP, LAYERS_HELP, NOISE_ROWS_OPTION, REFITS_OPTION
from truthstab.pipeline.config import MIN_BOOTSTRAP, RunConfig

COLUMNS = {
    "domain": "domain",
    "probe": "probe",
    "layer": "layer",
    "task_name": "task",
    "retraction_rate_base": "retract",
    "retraction_rate_base_low": "lo",
    "retraction_rate_base_high": "hi",
    "expansion_rate_base": "expand",
    "rotation_cosine": "cos(w0,wk)",
    "average_precision": "AP",
    "accuracy": "acc",
}


@click.group("probe")
def probe_group() -> None:
    """Probes, perturbations and stability metrics on cached activations."""


@probe_group.command("run")
@click.argument("model")
@click.option("--dataset", default="truthstab", show_default=True, help="Release NAME[@VERSION] or folder.")
@click.option("--domain", "domains", multiple=True, help="Domain(s) (repeatable); default: all.")
@click.option(
    "--probes",
    default="mean-diff,logistic",
    show_default=True,
    help="Comma list of mean-diff, logistic, sawmil or module:Class plug-ins.",
)
@click.option("--layers", default="auto", show_default=True, help=LAYERS_HELP)
@click.option(
    "--protocol", "mode", type=click.Choice(["fixed", "faithful"]), default="fixed", show_default=True
)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--bootstrap",
    "n_bootstrap",
    default=1000,
    show_default=True,
    type=click.IntRange(min=MIN_BOOTSTRAP),
    help=BOOTSTRAP_HELP,
)
@REFITS_OPTION
@NOISE_ROWS_OPTION
@click.option("--dtype", type=click.Choice(["auto", "float32", "bfloat16", "float16"]), default="auto")
@click.option("--device", default="auto", show_default=True)
@click.option("--revision", default=None, help="Hub branch, tag or commit.")
@click.option("--batch-size", default="auto", show_default=True, help="auto or N.")
@click.option("--cache-dir", type=click.Path(path_type=Path), default=None, help="Activation store root.")
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="Also write the full report (JSON)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def run_cmd(
    model,
    dataset,
    domains,
    probes,
    layers,
    mode,
    seed,
    n_bootstrap,
    n_refits,
    noise_rows,
    dtype,
    device,
    revision,
    batch_size,
    cache_dir,
    out,
    as_json,
    quiet,
) -> None:
    """Fit the probes for tasks 0-4 on MODEL's activations and print the stability metrics table."""
    from truthstab.errors import ProbeError
    from truthstab.pipeline.probe import probe_release

    # Checked here, before the configuration is built, so the message is this command's own.
    if batch_size != "auto" and not (batch_size.isdigit() and int(batch_size) > 0):
        raise ProbeError(f"--batch-size must be auto or a positive integer, not {batch_size!r}")
    config = RunConfig(
        run="probe",
        model=model,
        dataset=dataset,
        domains=list(domains) or None,
        probes=[p.strip() for p in probes.split(",") if p.strip()],
        layers=layers,
        protocol=mode,
        seed=seed,
        n_bootstrap=n_bootstrap,
        n_refits=n_refits,
        noise_rows=noise_rows,
        dtype=dtype,
        device=device,
        revision=revision,
        batch_size=batch_size,
        cache_dir=cache_dir,
        report_file=out,
    )
    report = probe_release(config, progress=not quiet)
    if as_json:
        click.echo(report.model_dump_json(indent=1))
        return
    frame = report.metrics_frame()[list(COLUMNS)].rename(columns=COLUMNS)
    click.echo(tabulate(frame, headers="keys", showindex=False, floatfmt=".3f", missingval="-"))
