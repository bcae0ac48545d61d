#!/usr/bin/env bash
# The checks that need an NVIDIA GPU, in one call of at most 10 minutes on one GPU with no network, from
# the repository root of a checkout whose Python has CUDA torch, transformers and truthstab's dependencies:
#   1. the CUDA tests (tests/test_cuda.py: device choice, bf16 auto dtype, device_map="auto", OOM back-off,
#      GPU extraction equal to CPU within tolerance; and the CUDA branch of tests/test_models_loading.py);
#   2. throughput (docker/gpu_check.py): a random model of Llama-3-8B's architecture over the whole default
#      release, statements/s of truthstab's extraction and its ratio to a bare forward (target >= 0.85).
# Writes its reports under $OUT (default ./gpu-check-out); exits non-zero if a check fails.
#   bash docker/gpu-check.sh            PY=/path/to/python bash docker/gpu-check.sh
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${PY:-}" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PY=$ROOT/.venv/bin/python; else PY=python3; fi
fi
OUT=${OUT:-$ROOT/gpu-check-out}
TESTS_S=${GPU_CHECK_TESTS_S:-200}       # the two budgets add up to under 10 minutes with the checks above
THROUGHPUT_S=${GPU_CHECK_THROUGHPUT_S:-360}
export PYTHONPATH="$ROOT/benchmark:$ROOT/tests${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONDONTWRITEBYTECODE=1 TOKENIZERS_PARALLELISM=false
START=$SECONDS

die() { echo "error: $*" >&2; exit 2; }
step() { printf '[gpu-check %4ds] %s\n' "$((SECONDS - START))" "$*"; }

command -v "$PY" >/dev/null 2>&1 || die "$PY not found: pass PY=/path/to/python (one with CUDA torch)"
"$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null \
    || die "$PY has no torch that sees a CUDA GPU (nvidia-smi, and: $PY -c 'import torch; print(torch.version.cuda)')"
missing=$("$PY" -c "
import importlib.util
names = ['transformers', 'tokenizers', 'safetensors', 'accelerate', 'numpy', 'pandas', 'pydantic', 'pytest']
print(' '.join(n for n in names if importlib.util.find_spec(n) is None))")
[ -z "$missing" ] || die "$PY lacks: $missing (pip install $missing, or pip install -e '.[test]')"
mkdir -p "$OUT"
{ nvidia-smi 2>&1 || true; "$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"; } \
    >"$OUT/environment.txt"

failed=0
step "CUDA tests (at most ${TESTS_S}s)"
# -o addopts= drops the project's pytest options that need plugins (pytest-benchmark) a GPU box may lack.
timeout "$TESTS_S" "$PY" -m pytest -q -o addopts= -p no:cacheprovider -rs \
    "$ROOT/tests/test_cuda.py" "$ROOT/tests/test_models_loading.py::test_cuda_device_without_a_gpu_is_refused_before_loading" \
    --junitxml "$OUT/cuda-tests.xml" 2>&1 | tee "$OUT/cuda-tests.txt"
tests_rc=${PIPESTATUS[0]}
[ "$tests_rc" = 0 ] || { failed=1; step "CUDA tests FAILED (exit $tests_rc)"; }
grep -q " skipped" "$OUT/cuda-tests.txt" && { failed=1; step "some CUDA tests were skipped on a GPU machine"; }

step "throughput: random Llama-3-8B architecture over the default release (at most ${THROUGHPUT_S}s)"
timeout "$THROUGHPUT_S" "$PY" "$ROOT/docker/gpu_check.py" --device cuda:0 >"$OUT/throughput.json" 2>"$OUT/throughput.log"
throughput_rc=$?
cat "$OUT/throughput.json"
case $throughput_rc in
    0) ;;
    1) failed=1; step "throughput below the target ratio" ;;
    124) failed=1; step "throughput run passed its ${THROUGHPUT_S}s budget"; tail -5 "$OUT/throughput.log" ;;
    *) failed=1; step "throughput run failed (exit $throughput_rc)"; tail -20 "$OUT/throughput.log" ;;
esac

step "done: $([ "$failed" = 0 ] && echo passed || echo FAILED); reports in $OUT"
exit "$failed"
