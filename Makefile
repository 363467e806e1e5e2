# Two commands do everything on a fresh machine:
#   make run    set up .venv, build/update the index from seeds/, serve http://127.0.0.1:7860
#   make test   set up .venv (+ Chromium for the browser tests), run the whole test suite

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test setup index browser groff lint bench clean

run: setup groff
	$(BIN)/qa serve

test: setup browser groff
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: $(STAMP)

# torch first and pinned: this version is a local CPU wheel; an unpinned torch pulls CUDA.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

index: setup
	$(BIN)/qa index

# Debian's Chromium and its driver for the Playwright browser tests (never `playwright install`).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

# groff renders man pages (.1-.9, .man, .1.gz) when they are indexed (Debian groff-base).
groff:
	@if ! command -v groff >/dev/null; then \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq groff-base >/dev/null; \
	fi

lint: setup
	$(BIN)/ruff check src tests app.py bench
	$(BIN)/ruff format --check src tests app.py bench

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) embeddings/v-* embeddings/CURRENT embeddings/.tmp-*
