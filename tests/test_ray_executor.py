"""The Ray executor on a local CPU-only Ray instance: requests fan out as tasks, results come back."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest

import submission_helpers
from submission_helpers import make_request, write_result
from truthstab.errors import SubmissionError
from truthstab.fileio import file_mode
from truthstab.submissions.executors import RayExecutor, run_queue
from truthstab.submissions.requests import Status

ray = pytest.importorskip("ray", reason="ray is an optional extra: pip install 'truthstab[ray]'")


@pytest.fixture(scope="module")
def local_ray():
    """A 2-CPU local Ray instance; test-module functions are shipped to its workers by value."""
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.cloudpickle.register_pickle_by_value(submission_helpers)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _remote_scorer(request, out_root: Path) -> Path:
    """Fails for 'broken', otherwise writes a result (and a figure) that names the process it ran in."""
    print(f"scoring {request.id} in pid {os.getpid()}")
    if request.name == "broken":
        raise ValueError("no hidden states in this model")
    time.sleep(0.2)
    result = write_result(request, out_root, note=str(os.getpid()))
    (result.parent / "figures").mkdir()
    (result.parent / "figures" / "bars.svg").write_text("<svg/>")
    return result


def test_ray_tasks_drain_the_queue_and_ship_results_back(tmp_path, local_ray):
    good = [make_request(tmp_path, f"m{i}", seed=i, age_s=10 - i) for i in range(3)]
    make_request(tmp_path, "broken", seed=9)
    executor = RayExecutor(num_gpus=0)
    report = run_queue(tmp_path, executor=executor, score_request=_remote_scorer, heartbeat_timeout=30)
    by_name = {r.name: r for r in report.processed}
    assert set(by_name) == {"m0", "m1", "m2", "broken"}
    for request in good:
        final = by_name[request.name]
        assert (
            final.status == Status.FINISHED
            and final.result_path == f"{request.folder}/{request.sha}/result.json"
        )
        result = json.loads((tmp_path / final.result_path).read_text())
        assert int(result["note"]) != os.getpid(), "the scorer should run in a Ray worker process"
        figure = tmp_path / request.folder / request.sha / "figures" / "bars.svg"
        assert figure.read_text() == "<svg/>"
        assert stat.S_IMODE(figure.stat().st_mode) == file_mode(), "files landed from Ray follow the umask"
        log = (tmp_path / final.log_path).read_text()
        assert "[ray task on" in log and f"scoring {request.id}" in log
    broken = by_name["broken"]
    assert broken.status == Status.FAILED and broken.error == "ValueError: no hidden states in this model"
    assert "Traceback" in (tmp_path / broken.log_path).read_text()


def test_gpu_tasks_on_a_cluster_without_gpus_are_refused_clearly(tmp_path, local_ray):
    request = make_request(tmp_path, "m")
    with pytest.raises(SubmissionError, match="no GPU"):
        run_queue(tmp_path, executor=RayExecutor(num_gpus=1), score_request=_remote_scorer)
    assert (tmp_path / request.relpath).exists()
    assert json.loads((tmp_path / request.relpath).read_text())["status"] == "PENDING"


def test_cli_ray_executor_reports_a_missing_gpu_in_one_line(tmp_path, local_ray):
    from click.testing import CliRunner

    from truthstab.cli import main

    make_request(tmp_path, "m")
    args = ["queue", "run", "--submissions", str(tmp_path), "--executor", "ray", "--gpus-per-task", "1"]
    run = CliRunner().invoke(main, args)
    assert run.exit_code != 0 and run.output.count("\n") == 1
    assert "no GPU for tasks asking 1.0" in run.output and "--gpus-per-task 0" in run.output


def test_real_scorer_runs_as_a_ray_task_and_its_result_folder_lands_beside_the_request(
    tmp_path, local_ray, tiny_llama_dir
):
    import functools
    import shutil

    from release_helpers import write_tiny
    from truthstab.results import read_result
    from truthstab.submissions.scorer import default_score_request
    from truthstab.submissions.submit import submit

    release = write_tiny(tmp_path / "rel", name="tiny", version="0.0.1", per=8)
    model = tmp_path / "tiny-llama"
    shutil.copytree(tiny_llama_dir, model)
    (model / "README.md").write_text("---\nlicense: mit\n---\n")
    request, request_file = submit(str(model), dtype="float32", submissions=tmp_path / "subs")
    scorer = functools.partial(
        default_score_request,
        device="cpu",
        dataset=str(release),
        cache_dir=tmp_path / "cache",
        n_bootstrap=40,
    )
    report = run_queue(tmp_path / "subs", executor=RayExecutor(num_gpus=0), score_request=scorer)
    (final,) = report.processed
    assert final.status == Status.FINISHED, (tmp_path / "subs" / final.log_path).read_text()
    run_dir = (tmp_path / "subs" / final.result_path).parent
    assert run_dir.parent.parent == request_file.parent and run_dir.parent.name == request.sha
    assert read_result(run_dir / "result.json").model.revision_sha == request.sha
    assert (run_dir / "predictions.parquet").is_file() and any((run_dir / "figures").iterdir())


def test_cli_unreachable_ray_address_fails_in_one_line_after_the_connect_timeout(tmp_path):
    # A real `queue run` process: ray.init itself would retry this address for many minutes.
    import subprocess

    import truthstab

    request = make_request(tmp_path, "m")
    args = ["queue", "run", "--submissions", str(tmp_path), "--executor", "ray", "--address", "127.0.0.1:1"]
    env = {**os.environ, "PYTHONPATH": str(Path(truthstab.__file__).parents[1])}
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-c", "from truthstab.cli import main; main()", *args, "--connect-timeout", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    waited = time.monotonic() - started
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert run.stderr.count("\n") == 1, run.stderr
    assert "no Ray cluster answers at 127.0.0.1:1 after 2 s" in run.stderr and "--address" in run.stderr
    assert waited < 60, "the wait must be bounded by --connect-timeout"
    assert json.loads((tmp_path / request.relpath).read_text())["status"] == "PENDING"
