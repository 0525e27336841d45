# Tern: two commands set everything up on a fresh machine.
#   make run   builds, installs what is missing, fetches the default model, starts Tern
#   make test  the same setup, then the whole test suite (unit + real-model integration)

SHELL := /bin/bash
TERN_HOME ?= $(HOME)/.cache/tern
export TERN_HOME
# Release builds for anything that runs the real model; the layering is enforced on every build.
SWIFT_FLAGS := -c release --explicit-target-dependency-import-check error
TERN := .build/release/tern
MODEL ?= smollm2-135m
THREADS ?= $(shell nproc)

.PHONY: run test build deps model data fuzz clean help

help:
	@echo "make run    build, install what is missing, fetch the model, start Tern"
	@echo "make test   build and run every test (fetches the model first)"
	@echo "make fuzz   run the GGUF reader fuzzer for a bounded time"

deps:
	@scripts/install-deps.sh

build: deps
	swift build $(SWIFT_FLAGS)

model: build
	@$(TERN) pull $(MODEL) --quiet >/dev/null

data: deps
	@scripts/fetch-data.sh

PORT ?= 8080
run: model data
	$(TERN) serve --model $(MODEL) --threads $(THREADS) --port $(PORT)

test: model data
	@scripts/install-test-deps.sh
	FUZZ_SEED=1 fuzz/run.sh 15
	swift build $(SWIFT_FLAGS) --build-tests
	swift test -c release --skip-build --disable-xctest

fuzz: deps
	fuzz/run.sh

clean:
	rm -rf .build .build-*
