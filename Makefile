# Moray's entry points. Each target installs missing Debian packages first, then builds
# incrementally in build/.
BUILD ?= build
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)
CTEST_JOBS ?= 2

.PHONY: all deps configure build demo test test-browser bench install wheel clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@if [ ! -f $(BUILD)/build.ninja ]; then cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo; fi

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# Runs the walkthrough example on a private local cluster that it starts and stops itself.
demo: build
	@$(BUILD)/bin/tour

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(CTEST_JOBS) --timeout 600

# The dashboard in headless chromium, long variant: more than 10,000 task records paged through.
test-browser: build
	@cd $(BUILD) && MORAY_DASHBOARD_LONG=1 MORAY_BIN=$$PWD/bin/moray \
	  PYTHONPATH=$$PWD/python:/usr/lib/python3/dist-packages \
	  python3 -m pytest -q -rs -p no:cacheprovider $(CURDIR)/tests/dashboard/test_dashboard_browser.py

bench: build
	@mkdir -p $(BUILD)/bench
	@rm -f $(BUILD)/bench/latest.jsonl  # one line per result as measured, kept if the run dies
	@$(BUILD)/bin/microbenchmark --json $(BUILD)/bench/latest.json --jsonl $(BUILD)/bench/latest.jsonl
	@$(BUILD)/bin/cluster_bench --json $(BUILD)/bench/cluster.json
	@$(BUILD)/bin/runtime_env_bench --json $(BUILD)/bench/runtime_env.json
	@$(BUILD)/bin/code_shipping_bench --json $(BUILD)/bench/code_shipping.json
	@$(BUILD)/bin/task_records_bench --json $(BUILD)/bench/task_records.json
	@rm -f $(BUILD)/bench/python.jsonl  # the Python API, Ray's Python metrics (bench/python)
	@PYTHONPATH=$(BUILD)/python:/usr/lib/python3/dist-packages python3 bench/python/microbenchmark.py \
	  --baselines-from $(BUILD)/bin/microbenchmark --json $(BUILD)/bench/python.json \
	  --jsonl $(BUILD)/bench/python.jsonl

install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

# dist/moray-<version>-cpXY-cpXY-linux_x86_64.whl: the install, stripped, into a staging prefix,
# zipped by python/build_wheel.py (standard library only; nothing downloaded).
wheel: build
	@rm -rf $(BUILD)/wheel-stage
	@cmake --install $(BUILD) --prefix $(BUILD)/wheel-stage --strip > $(BUILD)/wheel-stage.log
	@python3 python/build_wheel.py --prefix $(BUILD)/wheel-stage --out dist

clean:
	@rm -rf $(BUILD)
