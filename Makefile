# Conventional verbs over CMake. `make check` is what CI runs.
BUILD ?= build
JOBS ?= $(shell nproc)
# make install [PREFIX=/usr/local] [DESTDIR=staging dir]
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all setup build check demo bench install format clean

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
	@echo "== sluice run examples/people.yaml --target sqlite:$(BUILD)/demo.db"
	@rm -f $(BUILD)/demo.db $(BUILD)/demo.db-wal $(BUILD)/demo.db-shm
	@$(BUILD)/sluice run examples/people.yaml --target sqlite:$(BUILD)/demo.db
	@$(BUILD)/sluice migrate sqlite:$(BUILD)/demo.db examples/people.yaml 2>&1 | tail -n 1
	@echo "== nodes and relationships by type"
	@sqlite3 -header -column $(BUILD)/demo.db \
	  "SELECT 'node' AS kind, type, count(*) AS n FROM node GROUP BY type UNION ALL SELECT 'relationship', type, count(*) FROM rel GROUP BY type"
	@echo "== the neighbours of Person 2 (Grace Hopper)"
	@sqlite3 -header -column $(BUILD)/demo.db \
	  "SELECT r.type AS relationship, n.type AS node, n.key AS node_key FROM node AS p JOIN rel AS r ON r.from_id = p.id JOIN node AS n ON n.id = r.to_id WHERE p.type = 'Person' AND p.key = '{\"person_id\":\"2\"}' ORDER BY 1, 3"
	@echo "== through the views sluice migrate made: people and their cities"
	@sqlite3 -header -column $(BUILD)/demo.db \
	  "SELECT p.name, json_extract(r._to_key, '$$.name') AS city FROM node_Person AS p JOIN rel_LIVES_IN AS r ON r._from_id = p._id ORDER BY 1"
	@echo "== sluice schema examples/people.yaml"
	@$(BUILD)/sluice schema examples/people.yaml
	@echo "== sluice demo (the runtime underneath)"
	@$(BUILD)/sluice demo

bench: build
	@scripts/bench $(BUILD)

# The binary, libsluice (.so and .a), include/sluice/*.h, sluice.pc, the man
# page and bash completions (the packaging block of CMakeLists.txt).
# The prefix is configured too, so the directories are GNUInstallDirs' for
# it (lib/x86_64-linux-gnu for /usr); nothing is recompiled.
install: build
	@cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX="$(PREFIX)" >/dev/null
	@DESTDIR="$(DESTDIR)" cmake --install $(BUILD)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan
