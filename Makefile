# redline: `make serve` shows it live, `make test` checks everything. `make help` lists the rest.
SHELL := /bin/bash
.DEFAULT_GOAL := help

WASM_TARGET := wasm32-unknown-unknown

.PHONY: help setup serve test fmt-check clippy test-native test-wasm build bench wasm-size

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'

setup: ## Install what a fresh machine lacks (the wasm32 target), skipping what is there
	@rustup target list --installed | grep -qx '$(WASM_TARGET)' || rustup target add $(WASM_TARGET)
	@cargo fetch --quiet

serve: setup ## Run the simulator through the monitor and print the dashboard every second
	cargo run --release --quiet

test: setup fmt-check clippy test-native test-wasm ## Format and lint checks, every test, and the wasm32 build

fmt-check: ## cargo fmt --check
	cargo fmt --all -- --check

clippy: ## cargo clippy on every target, warnings denied
	cargo clippy --all-targets -- -D warnings

test-native: ## Native unit and integration tests of the monitor core
	cargo test --quiet

test-wasm: ## The core builds for wasm32-unknown-unknown
	cargo build --lib --target $(WASM_TARGET) --profile wasm-release --quiet

build: setup ## Build the release binary and the core for wasm32
	cargo build --release
	cargo build --lib --target $(WASM_TARGET) --profile wasm-release

bench: setup ## Criterion benchmarks and the memory measurement (figures in README.md)
	cargo bench --bench monitor -- --noplot
	cargo bench --bench memory

wasm-size: setup ## The core's contribution to a release .wasm, raw and gzip
	scripts/wasm-size.sh
