# redline: `make serve` shows it live, `make test` checks everything. `make help` lists the rest.
#
# Every target installs what a fresh machine lacks first, at the versions that
# the shared DEPENDENCIES.md notes pin, and skips what is already there.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

WASM_TARGET := wasm32-unknown-unknown
# trunk 0.22 needs a newer rustc than ours.
TRUNK_VERSION := 0.21.14
# Must equal the wasm-bindgen crate in Cargo.lock (checked by setup-wasm-bindgen).
WASM_BINDGEN_VERSION := 0.2.130
# wasm-opt from npm into .tools/: Debian's binaryen (108) silently breaks the bundle.
BINARYEN_VERSION := 132.0.0
# playwright-core drives Debian's Chromium for `make measure` (never its own browser).
PLAYWRIGHT_VERSION := 1.64.1
# Python packages of the test peers (tests/peers/), in the project's .venv.
PEER_PACKAGES := prometheus_client==0.26.0 websockets==17.4
VENV := $(CURDIR)/.venv
TOOLS_DIR := $(CURDIR)/.tools
CARGO_BIN := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# The project-local wasm-opt comes first, so trunk never picks Debian's.
export PATH := $(TOOLS_DIR)/node_modules/.bin:$(CARGO_BIN):$(PATH)
export DEBIAN_FRONTEND := noninteractive
# The browser tests run in Debian's Chromium through its chromedriver.
export CHROMEDRIVER := /usr/bin/chromedriver

# The end-to-end tests load the release bundle from dist/ and, for the sub-path
# check, the `--public-url /sub/` bundle from $(E2E_SUB_ROOT)/sub/.
E2E_SUB_ROOT := target/e2e/subpath-root

.PHONY: help setup setup-app setup-target setup-trunk setup-wasm-bindgen setup-wasm-opt \
	setup-chromium setup-playwright setup-peers setup-prometheus setup-fetch serve test fmt-check clippy test-native \
	test-wasm test-browser test-e2e build build-sub bench measure measure-wasm wasm-size wasm-breakdown

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-18s %s\n", $$1, $$2}'

setup: setup-app setup-chromium setup-peers setup-prometheus ## Install everything a fresh machine lacks (app toolchain and test browser)

setup-app: setup-target setup-trunk setup-wasm-bindgen setup-wasm-opt setup-fetch ## Install what building and serving the app needs

setup-target: ## rustup's wasm32-unknown-unknown target
	@if rustup target list --installed | grep -qx '$(WASM_TARGET)'; then \
		echo "setup: $(WASM_TARGET) target present"; \
	else \
		rustup target add $(WASM_TARGET); \
	fi

setup-trunk: ## trunk at the pinned version (cargo install, about 7-20 minutes)
	@if [ "$$(trunk --version 2>/dev/null)" = "trunk $(TRUNK_VERSION)" ]; then \
		echo "setup: trunk $(TRUNK_VERSION) present"; \
	else \
		echo "setup: installing trunk $(TRUNK_VERSION) (about 7-20 minutes)"; \
		cargo install --locked trunk --version $(TRUNK_VERSION); \
	fi

# Without --locked: the cli's own lock wants a webpki-roots the registry lacks.
setup-wasm-bindgen: ## wasm-bindgen-cli matching Cargo.lock (also wasm-bindgen-test-runner)
	@locked="$$(sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"$$/\1/p;}' Cargo.lock | head -n 1)"; \
	if [ -n "$$locked" ] && [ "$$locked" != "$(WASM_BINDGEN_VERSION)" ]; then \
		echo "setup: Cargo.lock has wasm-bindgen $$locked but the Makefile pins $(WASM_BINDGEN_VERSION);"; \
		echo "       pin wasm-bindgen = \"=$(WASM_BINDGEN_VERSION)\" in Cargo.toml or change WASM_BINDGEN_VERSION here"; \
		exit 1; \
	fi
	@if [ "$$(wasm-bindgen --version 2>/dev/null | cut -d' ' -f1,2)" = "wasm-bindgen $(WASM_BINDGEN_VERSION)" ] \
		&& [ "$$(wasm-bindgen-test-runner --version 2>/dev/null | cut -d' ' -f1,2)" = "wasm-bindgen-test-runner $(WASM_BINDGEN_VERSION)" ]; then \
		echo "setup: wasm-bindgen-cli $(WASM_BINDGEN_VERSION) present"; \
	else \
		echo "setup: installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (about 5 minutes)"; \
		cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION); \
	fi

setup-wasm-opt: ## wasm-opt (binaryen from npm, pinned) into .tools/
	@if [ -x '$(TOOLS_DIR)/node_modules/.bin/wasm-opt' ] \
		&& grep -q '"version": "$(BINARYEN_VERSION)"' '$(TOOLS_DIR)/node_modules/binaryen/package.json' 2>/dev/null; then \
		echo "setup: wasm-opt (binaryen $(BINARYEN_VERSION)) present in .tools/"; \
	else \
		if ! command -v npm >/dev/null; then \
			$(SUDO) apt-get update && $(SUDO) apt-get install -y nodejs npm; \
		fi; \
		echo "setup: installing binaryen $(BINARYEN_VERSION) into .tools/"; \
		mkdir -p '$(TOOLS_DIR)'; \
		npm install --prefix '$(TOOLS_DIR)' --save-exact --no-audit --no-fund --loglevel=error \
			binaryen@$(BINARYEN_VERSION); \
	fi

setup-playwright: setup-wasm-opt ## playwright-core (npm, pinned) into .tools/, for make measure
	@if grep -q '"version": "$(PLAYWRIGHT_VERSION)"' '$(TOOLS_DIR)/node_modules/playwright-core/package.json' 2>/dev/null; then \
		echo "setup: playwright-core $(PLAYWRIGHT_VERSION) present in .tools/"; \
	else \
		echo "setup: installing playwright-core $(PLAYWRIGHT_VERSION) into .tools/"; \
		npm install --prefix '$(TOOLS_DIR)' --save-exact --no-audit --no-fund --loglevel=error \
			playwright-core@$(PLAYWRIGHT_VERSION); \
	fi

setup-chromium: ## Debian's chromium and chromium-driver, for the browser tests
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then \
		echo "setup: chromium and chromedriver present"; \
	else \
		echo "setup: installing Debian's chromium and chromium-driver"; \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y chromium chromium-driver; \
	fi

setup-peers: ## A Python venv in .venv with the test peers' packages (prometheus_client, websockets)
	@if '$(VENV)/bin/python' -c 'import prometheus_client, websockets' 2>/dev/null \
		&& [ "$$('$(VENV)/bin/pip' freeze 2>/dev/null | grep -cxF $(foreach p,$(PEER_PACKAGES),-e $(p)))" = $(words $(PEER_PACKAGES)) ]; then \
		echo "setup: test peers' Python packages present in .venv"; \
	else \
		if ! python3 -m venv --help >/dev/null 2>&1; then \
			$(SUDO) apt-get update && $(SUDO) apt-get install -y python3-venv; \
		fi; \
		echo "setup: installing $(PEER_PACKAGES) into .venv"; \
		python3 -m venv '$(VENV)'; \
		'$(VENV)/bin/pip' install --quiet --disable-pip-version-check $(PEER_PACKAGES); \
	fi

setup-prometheus: ## Debian's prometheus (and promtool), a real peer of the sources tests
	@if command -v prometheus >/dev/null && command -v promtool >/dev/null; then \
		echo "setup: prometheus present"; \
	else \
		echo "setup: installing Debian's prometheus"; \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends prometheus; \
	fi

setup-alertmanager: ## Debian's prometheus-alertmanager, the real receiver of the webhook tests
	@if command -v prometheus-alertmanager >/dev/null; then \
		echo "setup: prometheus-alertmanager present"; \
	else \
		echo "setup: installing Debian's prometheus-alertmanager"; \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends prometheus-alertmanager; \
	fi

setup-fetch: ## cargo fetch, so that the --offline builds find every crate
	@cargo fetch --quiet

serve: setup-app ## Serve the dashboard (simulated modules) with trunk on http://127.0.0.1:8080
	trunk serve --offline

test: setup fmt-check clippy test-native test-wasm test-browser test-e2e ## Format and lint checks, native tests, the wasm32 build, browser and end-to-end tests

fmt-check: ## cargo fmt --check
	cargo fmt --all -- --check

clippy: ## cargo clippy on every target, natively and for wasm32, warnings denied
	cargo clippy --all-targets -- -D warnings
	cargo clippy --lib --bins --test web --target $(WASM_TARGET) -- -D warnings

test-native: ## Native unit and integration tests (the end-to-end tests show as ignored)
	cargo test --quiet

test-wasm: ## The library builds for wasm32-unknown-unknown, with the app and as the core alone
	cargo build --lib --target $(WASM_TARGET) --quiet
	cargo build --lib --no-default-features --target $(WASM_TARGET) --quiet

test-browser: setup-app setup-chromium ## Component tests in headless Chromium (wasm-bindgen-test, tests/web.rs)
	cargo test --target $(WASM_TARGET) --test web

test-e2e: build build-sub build-example setup-chromium setup-peers setup-prometheus setup-alertmanager ## End-to-end tests of the release bundles in headless Chromium (tests/e2e/), against real peers
	REDLINE_E2E_PYTHON='$(VENV)/bin/python' REDLINE_E2E_DIST='$(CURDIR)/dist' REDLINE_E2E_SUB_ROOT='$(CURDIR)/$(E2E_SUB_ROOT)' \
		REDLINE_E2E_LEPTOS_EXAMPLE='$(CURDIR)/target/e2e/leptos-example' \
		cargo test --test e2e -- --ignored --test-threads=1

build: setup-app ## The release bundle in dist/
	trunk build --release --offline

build-example: setup-app ## The Leptos example app (examples/leptos_host.rs), in target/e2e/leptos-example/
	cargo build --quiet --profile wasm-release --target $(WASM_TARGET) --example leptos_host
	wasm-bindgen --target web --no-typescript --out-dir target/e2e/leptos-example \
		target/$(WASM_TARGET)/wasm-release/examples/leptos_host.wasm
	cp examples/leptos_host.html target/e2e/leptos-example/index.html

build-sub: setup-app ## The release bundle for the sub-path /sub/, in target/e2e/subpath-root/sub/
	trunk build --release --offline --public-url /sub/ --dist '$(E2E_SUB_ROOT)/sub'

bench: setup-target setup-fetch ## Criterion benchmarks and the memory measurement (figures in README.md)
	cargo bench --bench monitor -- --noplot
	cargo bench --bench memory

measure: build setup-chromium setup-playwright ## Browser measurements of dist/ (transfer, first render, tick cost, charts, memory)
	timeout 900 node scripts/measure-browser.mjs dist

measure-wasm: setup-app setup-chromium ## Event path, scrape throughput and each detector's cost per value in Chromium's wasm engine, with the bundle's profile
	cargo test --profile wasm-release --target $(WASM_TARGET) --test web --test wasm_detectors -- --nocapture 2>&1 \
		| grep -E '^ *wasm (event|scrape|detector)' | sed 's/^ *//'

wasm-size: setup-target setup-fetch ## The core's contribution to a release .wasm, raw and gzip
	scripts/wasm-size.sh

# twiggy 0.8 sizes the optimised module by area of the code (names kept, then summed).
wasm-breakdown: build ## Where the bundle's wasm goes, by area of the code (twiggy on the shipped module with names)
	@command -v twiggy >/dev/null || cargo install --locked twiggy --version 0.8.0
	scripts/wasm-breakdown.py
