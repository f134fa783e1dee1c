# Tasks of lstm-course. The two commands of the README are `make book` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
SHARED_DATA := $(abspath ../shared/data)
export LSTM_COURSE_PROFILE ?= quick
export LSTM_COURSE_DATA ?= $(if $(wildcard $(SHARED_DATA)),$(SHARED_DATA),)
VENV := . .venv/bin/activate &&

.PHONY: setup book test unit lint format notebooks strip bench gpu-check results clean

setup:            ## create .venv and install the course's packages
	scripts/setup.sh

book: setup       ## build the executed course site into _build/html
	$(VENV) jupyter-book build . -W -n --keep-going
	@echo "The course site is at $(CURDIR)/_build/html/index.html"

test:             ## every test: unit, the book build (executes every notebook once) with -W, browser check
	scripts/setup.sh --browser
	$(VENV) python -m pytest tests --durations=15

unit: setup       ## the fast unit tests only
	$(VENV) python -m pytest tests -m "not slow" --deselect tests/test_book.py --deselect tests/test_browser.py

lint:             ## ruff check + format check of the package, tests, benchmarks, scripts and notebooks (tests/test_lint.py)
	$(VENV) ruff check . && ruff format --check .

format:           ## apply ruff's safe fixes (listing what is left), then its formatter (notebooks at 79 columns)
	$(VENV) ruff check --fix --exit-zero . && ruff format .

notebooks: setup  ## execute every notebook with nbval
	$(VENV) python -m pytest book --nbval-lax

strip:            ## remove outputs and execution counts from every notebook
	$(VENV) python scripts/strip_notebooks.py

bench: setup      ## throughput benchmark of every LSTM implementation (writes results/ch10_performance/)
	$(VENV) python -m benchmarks.run

gpu-check: setup  ## on a CUDA machine (< 8 min): GPU benchmark rows + full-profile pages -> results/ (--dry-run: CPU)
	$(VENV) python scripts/gpu_check.py $(GPU_CHECK_ARGS)

clean:
	rm -rf _build .pytest_cache

results: setup    ## record a chapter's full-profile results: make results CHAPTER=ch07_sentiment [NOTEBOOKS="02_training"]
	@test -n "$(CHAPTER)" || { echo "usage: make results CHAPTER=chNN_name [NOTEBOOKS=...]" >&2; exit 2; }
	$(VENV) lstm-course reproduce $(CHAPTER) $(NOTEBOOKS)
