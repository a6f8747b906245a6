# Two commands matter: `make run` and `make test`. Both set up what is missing first.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
OTLPD := $(BUILD_DIR)/src/otlpd
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all setup configure build run test bench format clean test-asan test-tsan fuzz fuzz-build

all: build

setup:
	@scripts/setup.sh

$(BUILD_DIR)/build.ninja: CMakeLists.txt
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null

configure: setup $(BUILD_DIR)/build.ninja

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(OTLPD) serve $(ARGS)

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

bench: build
	@scripts/bench.sh $(BUILD_DIR)

# Sanitizer builds use clang (Debian's clang-14). One ASan+UBSan build carries libFuzzer's coverage
# instrumentation too, so it serves both `make test-asan` and `make fuzz` (one cold build, not two).
ASAN_BUILD_DIR ?= build-asan
TSAN_BUILD_DIR ?= build-tsan
FUZZ_BUILD_DIR ?= $(ASAN_BUILD_DIR)
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 1
FUZZ_SEED ?=
# Sanitizer runs leave out the interop tests (node clients against the binary: slow under ASan,
# and they exercise no code path the integration tests do not) and the three tests that measure
# the process's resident memory against a limit (ASan's shadow memory and quarantine triple it by
# design; the memory_limiter then refuses everything). Override with SANITIZER_CTEST_ARGS.
SANITIZER_CTEST_ARGS ?= -R '^(unit|integration)[.]' \
  -E 'OverloadWithStalledExporterStaysBoundedAndLosesNothingAcknowledged|SlowClients[.]DeadlinesAndTheBudget'
SANITIZER_CMAKE = -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ -DOTLPD_BUILD_BENCH=OFF
export ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS ?= halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1:suppressions=$(CURDIR)/scripts/tsan.supp

$(ASAN_BUILD_DIR)/build.ninja: CMakeLists.txt
	@cmake -S . -B $(ASAN_BUILD_DIR) $(SANITIZER_CMAKE) -DOTLPD_SANITIZE=address,undefined -DOTLPD_FUZZ=ON >/dev/null

ifneq ($(FUZZ_BUILD_DIR),$(ASAN_BUILD_DIR))
$(FUZZ_BUILD_DIR)/build.ninja: CMakeLists.txt
	@cmake -S . -B $(FUZZ_BUILD_DIR) $(SANITIZER_CMAKE) -DOTLPD_SANITIZE=address,undefined -DOTLPD_FUZZ=ON >/dev/null
endif

$(TSAN_BUILD_DIR)/build.ninja: CMakeLists.txt
	@cmake -S . -B $(TSAN_BUILD_DIR) $(SANITIZER_CMAKE) -DOTLPD_SANITIZE=thread >/dev/null

test-asan: setup $(ASAN_BUILD_DIR)/build.ninja
	@cmake --build $(ASAN_BUILD_DIR) -j $(JOBS) --target otlpd otlpd_unit_tests otlpd_integration_tests
	@cd $(ASAN_BUILD_DIR) && ctest --output-on-failure -j $(JOBS) $(SANITIZER_CTEST_ARGS) $(CTEST_ARGS)

test-tsan: setup $(TSAN_BUILD_DIR)/build.ninja
	@cmake --build $(TSAN_BUILD_DIR) -j $(JOBS) --target otlpd otlpd_unit_tests otlpd_integration_tests
	@cd $(TSAN_BUILD_DIR) && ctest --output-on-failure -j $(JOBS) $(SANITIZER_CTEST_ARGS) $(CTEST_ARGS)

fuzz-build: setup $(FUZZ_BUILD_DIR)/build.ninja
	@cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS) --target otlpd_fuzzers

fuzz: fuzz-build
	@FUZZ_JOBS=$(FUZZ_JOBS) FUZZ_SEED=$(FUZZ_SEED) scripts/fuzz.sh $(FUZZ_BUILD_DIR) $(FUZZ_SECONDS)

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
