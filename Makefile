# riskpipe: the two front-door commands are `make demo` and `make test` (see README.md).
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all setup configure build test demo bench format clean

all: build

# Installs Debian packages and the pinned DuckDB library; quiet when nothing is missing.
setup:
	@scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DRISKPIPE_WERROR=ON \
	  $(CMAKE_FLAGS) > $(BUILD).configure.log 2>&1 || (cat $(BUILD).configure.log; exit 1)

# Leaves the binary at build/riskpipe.
build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# Sets up, builds and runs every test with ctest.
test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The main job on the embedded defaults: synthesize the lending datamart, then ingest it.
demo: build
	@scripts/demo.sh $(BUILD)/riskpipe

# Benchmarks (Release build in build-bench/); figures go in the issue notes.
bench: setup
	@cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DRISKPIPE_BUILD_BENCH=ON \
	  -DRISKPIPE_BUILD_TESTS=OFF > build-bench.configure.log 2>&1 || (cat build-bench.configure.log; exit 1)
	@cmake --build build-bench -j $(JOBS)
	@for b in build-bench/bench/*_bench; do echo "== $$b"; $$b --benchmark_counters_tabular=true; done

format:
	@find src tests bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD) build-bench *.configure.log
