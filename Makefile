# Owns: the commands people type. `make install` is idempotent and is where `run` and `test` begin.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install os-deps run test lint typecheck unit bench soak media clean

install: os-deps $(STAMP)

# FFmpeg (with ffprobe) and the fallback font come from the OS package manager, only when missing;
# so do redis-server and PostgreSQL's binaries, which the tests start throwaway servers from.
os-deps:
	@missing=""; \
	command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || missing="$$missing ffmpeg"; \
	command -v fc-match >/dev/null 2>&1 && [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core fontconfig"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "installing OS packages:$$missing"; \
	    $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	  else echo "please install:$$missing (no apt-get here)" >&2; exit 1; fi; \
	fi

$(STAMP): pyproject.toml
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

# Serves on HOST:PORT (default 127.0.0.1:8000); file:// inputs from the sample media unless set.
run: install media
	ALLOWED_LOCAL_DIRS="$${ALLOWED_LOCAL_DIRS:-$(CURDIR)/sample_specs/media}" $(BIN)/vidsvc serve

lint: install
	$(BIN)/ruff check vidsvc tests bench
	$(BIN)/ruff format --check vidsvc tests bench
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest -q -m "not ffmpeg"

test: install lint typecheck
	$(BIN)/pytest -q --cov --cov-report=term

# The soak of issue #7 (tests/reliability/test_soak.py, deselected from `make test`): 200 small
# jobs with random cancels and one SIGKILL and restart; prints its numbers.
soak: install
	$(BIN)/pytest -q -s -m soak tests/reliability/test_soak.py

# Every measure of issue #6 into bench/results.md (flags: make bench BENCH_ARGS="--runs 5").
# MoviePy (the `bench` extra) is installed for the benchmark only.
bench: install $(VENV)/.bench-installed
	$(BIN)/python -m bench.suite $(BENCH_ARGS)
	$(BIN)/python -m bench.layers

$(VENV)/.bench-installed: pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	touch $@

# Generates the media that sample_specs/*.json reference (lavfi sources; nothing binary is committed).
media: install
	$(BIN)/python -m sample_specs.media

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage* sample_specs/media
