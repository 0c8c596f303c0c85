# A thin layer over meson. The README's two commands are `make demo` and
# `make check`.
BUILD ?= build
FUZZ_SECONDS ?= 30
# Configures a build directory, new or existing, with the given options.
MESON_SETUP = tools/meson-setup.sh
WERROR = -Dwerror=true

.PHONY: all deps demo demo-forecast check test test-sanitize test-install fuzz bench clean

all: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD)
	meson compile -C $(BUILD)

deps:
	@tools/install-deps.sh

# The main job on the bundled defaults: the bundled connected-digit
# recogniser over the bundled recordings (voices it never heard).
demo: all
	$(BUILD)/cli/rnnstream transcribe -m models/digits.safetensors tests/fixtures/speech/*.wav

# The example forecaster, trained on the bundled series (under a second),
# forecasting the next 12 months with intervals; the plot in $(BUILD).
demo-forecast: all
	$(BUILD)/cli/rnnstream train --config models/forecast-example.ini --horizon 12 -q \
	  -o $(BUILD)/forecast-example.safetensors
	$(BUILD)/cli/rnnstream forecast -m $(BUILD)/forecast-example.safetensors \
	  -i models/demo-series.csv --intervals 80,95 --plot $(BUILD)/forecast.png | tail -n 3

# Everything CI runs: tests with warnings as errors (gcc), again under
# AddressSanitizer + UBSan, an out-of-tree plugin built against the
# installed headers, and with clang (ASan + UBSan + fuzzing
# instrumentation) the tests once more and each fuzzer for FUZZ_SECONDS.
check: deps test test-sanitize test-install fuzz

test:
	$(MESON_SETUP) build-check $(WERROR) >/dev/null
	meson test -C build-check --print-errorlogs

test-sanitize:
	$(MESON_SETUP) build-asan $(WERROR) -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	meson test -C build-asan --print-errorlogs --timeout-multiplier 3

test-install:
	tests/install/test-install.sh build-check

fuzz:
	CC=clang $(MESON_SETUP) build-fuzz $(WERROR) -Dfuzzing=true -Db_sanitize=address,undefined \
	  -Db_lundef=false >/dev/null
	meson compile -C build-fuzz
	meson test -C build-fuzz --print-errorlogs --timeout-multiplier 3
	tools/run-fuzzers.sh build-fuzz $(FUZZ_SECONDS)

# rnnstream against PyTorch (one thread each), on a release build.
bench:
	@tools/install-deps.sh --bench
	$(MESON_SETUP) build-bench -Dbuildtype=release -Dbench=enabled >/dev/null
	meson compile -C build-bench
	bench/run.sh build-bench

clean:
	rm -rf $(BUILD) build-check build-asan build-fuzz build-bench
