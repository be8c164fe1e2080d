# megatest: developer and packaging entry points.
#   make demo    set up the venv and run the bundled example area
#   make test    set up the venv and run the test suite
#   make bench   run the benchmarks under scripts/bench/
-include config.mk

PYTHON ?= python3
VENV   ?= .venv
VPY    := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_AREA ?= examples/demo

.PHONY: venv demo test lint bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/megatest --area $(DEMO_AREA) query area-tests --target ubuntu/gcc12 --format text

test: $(STAMP)
	$(VPY) -m ruff check megatest tests scripts
	$(VPY) -m pytest tests

lint: $(STAMP)
	$(VPY) -m ruff check megatest tests scripts

bench: $(STAMP)
	@for b in scripts/bench/bench_*.py; do echo "== $$b"; $(VPY) $$b || exit 1; done

clean:
	rm -rf build dist *.egg-info
