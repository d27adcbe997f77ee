# Conventional verbs over CMake. `make check` is what CI runs.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all setup build check demo bench format clean

all: build

setup:
	@scripts/setup

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_BUILD_TESTS=ON -DSLUICE_BUILD_BENCH=ON >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

check:
	@scripts/check

demo: build
	@echo "== sluice run examples/demo.yaml (records to $(BUILD)/demo-out.jsonl)"
	@SLUICE_DEMO_OUT=$(BUILD)/demo-out.jsonl $(BUILD)/sluice run examples/demo.yaml
	@head -n 4 $(BUILD)/demo-out.jsonl
	@echo "== sluice run examples/people.yaml (desired ingestions to $(BUILD)/people-out.jsonl)"
	@SLUICE_DEMO_OUT=$(BUILD)/people-out.jsonl $(BUILD)/sluice run examples/people.yaml
	@echo "== the first ingestion:"
	@head -n 1 $(BUILD)/people-out.jsonl | python3 -m json.tool
	@echo "== sluice demo (the runtime underneath)"
	@$(BUILD)/sluice demo

bench: build
	@scripts/bench $(BUILD)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan
