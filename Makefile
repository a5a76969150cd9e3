# Owns: the commands people type. `make install` is idempotent and is where `run` and `test` begin.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install os-deps run test lint typecheck unit bench bench-text soak media clean

install: os-deps $(STAMP)

# FFmpeg (with ffprobe) and the fallback font come from the OS package manager, only when missing;
# so do redis-server and PostgreSQL's binaries, which the tests start throwaway servers from,
# and Chromium with its driver, which the console's browser tests drive (not in the image).
# Text engine: fonts for every script (also in the Dockerfile) and, for the tests
# only, tesseract with the languages the OCR read-back tests use.
TEXT_FONT_PACKAGES := fonts-noto-core fonts-noto-cjk fonts-symbola
TEXT_OS_PACKAGES := $(TEXT_FONT_PACKAGES) tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim tesseract-ocr-chi-tra \
	tesseract-ocr-hin tesseract-ocr-ara

os-deps:
	@missing=""; \
	command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || missing="$$missing ffmpeg"; \
	command -v fc-match >/dev/null 2>&1 && [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core fontconfig"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	for pkg in $(TEXT_OS_PACKAGES); do dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium chromium-driver"; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "installing OS packages:$$missing"; \
	    $(SUDO) apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $$missing; \
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

# Two workers (pytest-xdist), one test file each at a time so a module's fixtures (renders,
# servers) are made once: FFmpeg waits on I/O and servers often enough that 2 cores gain.
# The 20 slowest tests are listed at the end: where the suite's time goes, in every CI log.
PYTEST_WORKERS ?= 2
test: install lint typecheck
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile --cov --cov-report=term --durations=20

# The soak of issue #7 (tests/acceptance/reliability/test_soak.py, deselected from `make test`):
# 200 small jobs with random cancels and one SIGKILL and restart; prints its numbers.
soak: install
	$(BIN)/pytest -q -s -m soak tests/acceptance/reliability/test_soak.py

# Every measure of the benchmark (python -m bench; bench/README.md), each into its section of
# bench/results/ (flags: make bench BENCH_ARGS="overhead sound --runs 5", or "--quick" for a
# smoke run into bench/out/). MoviePy (the `bench` extra) is installed for the benchmark only.
bench: install $(VENV)/.bench-installed
	$(BIN)/python -m bench $(BENCH_ARGS)

# The text engine's cost alone (also part of `make bench`): vidsvc vs a hand-written ass command
# vs drawtext.
bench-text: install
	$(BIN)/python -m bench text $(BENCH_ARGS)

$(VENV)/.bench-installed: pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	touch $@

# Generates the media that sample_specs/*.json reference (lavfi sources; nothing binary is committed).
media: install
	$(BIN)/python -m sample_specs.media

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage* sample_specs/media
