# Two commands do all the set-up on a fresh machine with Python >= 3.11 and make:
#   make report   set up, then build the sample report end to end
#   make test     set up, then run the test suite (without the slow end-to-end runs)
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
STAMP := $(VENV)/.synced
# Never download an interpreter: use the one that runs make.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup report test test-slow test-all lint sample bench clean

setup: $(STAMP)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --all-extras --python $(PYTHON)
	@touch $@

report: $(STAMP)
	$(VENV)/bin/pulsecheck run raw/pulse_check/2016

# The quick suite; the end-to-end runs of the full sample (marked slow) are in test-slow.
test: $(STAMP)
	$(VENV)/bin/python -m pytest -m "not slow"

test-slow: $(STAMP)
	$(VENV)/bin/python -m pytest -m slow

test-all: test test-slow

# The code's shape: ruff's rules and the import layers (both configured in pyproject.toml).
lint: $(STAMP)
	$(VENV)/bin/ruff check pipeline tests benchmarks
	$(VENV)/bin/lint-imports --no-cache

# Regenerate the synthetic sample wave (deterministic; the result is committed).
sample: $(STAMP)
	$(VENV)/bin/pulsecheck sample survey_instrument/pulse_check/2016 --out raw/pulse_check/2016

# Benchmarks at 1 k to 1 M responses; rewrites benchmarks/RESULTS.md and its chart.
bench: $(STAMP)
	$(VENV)/bin/pulsecheck bench --record

clean:
	rm -rf $(VENV) $(TOOLS) reports/out
