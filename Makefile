# pedlab — the two commands of the README: `make demo` and `make check`.
BUILD ?= build
ASAN_BUILD ?= build-asan
ALLOC_BUILD ?= build-alloc
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo
# WERROR=ON (or OFF): compiler warnings are errors (CMake's PL_WERROR; .ci/run sets it). When
# given, a build folder configured with the other value is configured again; when not, each
# folder keeps what it was configured with (OFF by default).
PL_WERROR_FLAG = $(if $(WERROR),-DPL_WERROR=$(WERROR))

.PHONY: all deps build demo check check-asan check-alloc check-valgrind test install bench fuzz \
  lint same-outputs clean

all: build

deps:
	@sh tools/bootstrap.sh

$(BUILD)/Makefile: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) $(PL_WERROR_FLAG)

build: deps $(BUILD)/Makefile
	$(if $(WERROR),@grep -q '^PL_WERROR:BOOL=$(WERROR)$$' $(BUILD)/CMakeCache.txt || \
	  cmake -S . -B $(BUILD) $(PL_WERROR_FLAG))
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	./$(BUILD)/pedlab demo

# tmux drives the REPL test (Ctrl-C at the prompt, as a person would press it). The last line
# is the whole run's "ctest: N passed, N failed, N skipped", after the skipped tests' names and
# reasons (tests/run-ctest.sh); PL_NO_SKIP=1 makes a skip a failure.
check: build
	@sh tools/bootstrap.sh tmux
	@bash tests/run-ctest.sh $(BUILD) --output-on-failure -j$(JOBS)

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
check-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPL_SANITIZE=ON \
	  $(PL_WERROR_FLAG)
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  bash tests/run-ctest.sh $(ASAN_BUILD) --output-on-failure -j$(JOBS)

# Allocation-failure injection in an ASan + UBSan build (-DPL_FAIL_ALLOC=ON): the N-th
# allocation made to fail, for every N, over a scoring command and a PED sweep
# (tests/sh/test_alloc_fail.sh): a clean error or the right result, no crash, no leak.
check-alloc: deps
	cmake -S . -B $(ALLOC_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPL_SANITIZE=ON -DPL_FAIL_ALLOC=ON \
	  $(PL_WERROR_FLAG)
	cmake --build $(ALLOC_BUILD) -j$(JOBS) --target pedlab pl_ctest
	PL_SOURCE_DIR=$(CURDIR) PL_ALLOC_JOBS=$(JOBS) bash tests/sh/test_alloc_fail.sh \
	  $(ALLOC_BUILD)/pedlab $(ALLOC_BUILD)/pl_ctest

# Every Lua test file (tests/lua/test_*.lua) under valgrind memcheck: no errors, no leaks.
check-valgrind: build
	@bash tests/valgrind-lua.sh $(BUILD)

# make install [PREFIX=/opt/pedlab] [DESTDIR=/tmp/stage]: PREFIX defaults to the configured
# CMAKE_INSTALL_PREFIX (/usr/local); the installed tree is relocatable (pedlab --lua-path).
install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) $(if $(PREFIX),--prefix "$(PREFIX)")

# The rules tools/lint.sh checks (docs/contributing.md): C and Lua line length and trailing
# whitespace, function and file length, luacheck, include and require cycles. PL_LINT="PART ..."
# runs some parts only (bash tools/lint.sh --list names them).
lint:
	bash tools/lint.sh

# The demo, table1, the ablations, rank --json and every metric's bits on the fixtures, compared
# with tests/expected/ (tools/same-outputs.sh): results unchanged by a refactoring.
same-outputs: build
	bash tools/same-outputs.sh $(BUILD)/pedlab

FUZZ_SECONDS ?= 60
# libFuzzer + ASan + UBSan harnesses of tests/fuzz (needs clang); FUZZ_SECONDS per harness
fuzz:
	PL_WERROR=$(WERROR) bash tests/fuzz/run.sh $(FUZZ_SECONDS)

bench: build
	./$(BUILD)/pedlab bench/run.lua

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(ALLOC_BUILD)
