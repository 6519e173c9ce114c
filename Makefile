# riskpipe: the two front-door commands are `make demo` and `make test` (see README.md).
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all setup configure build test demo bench sanitize format clean

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

# Benchmarks (Release build in build-bench/), each program run once from build-bench/, where
# a ccache build's relative source paths resolve (docs/benchmarks.md).
bench: setup
	@cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DRISKPIPE_BUILD_BENCH=ON \
	  -DRISKPIPE_BUILD_TESTS=OFF > build-bench.configure.log 2>&1 || (cat build-bench.configure.log; exit 1)
	@cmake --build build-bench -j $(JOBS)
	@cd build-bench && for b in bench/*_bench; do echo "== $$b"; ./$$b --benchmark_counters_tabular=true; done

# Every test on an AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan/); not part
# of `make test` (the build alone takes about 20 minutes on 2 cores). Leak reports are off:
# DuckDB and XGBoost keep process-lifetime allocations.
sanitize: setup
	@cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRISKPIPE_SANITIZE=ON \
	  $(CMAKE_FLAGS) > build-asan.configure.log 2>&1 || (cat build-asan.configure.log; exit 1)
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

format:
	@find src tests bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD) build-bench build-asan *.configure.log
