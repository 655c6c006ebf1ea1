# confine: `make run` shows the main job on a fresh directory, `make test` runs every test.
# Both install the wasm32-wasip2 target when it is missing and build the guest component
# before anything that embeds or loads it.

CARGO        ?= cargo
WASM_TARGET  := wasm32-wasip2
# Cargo's own answer to where it builds: ./target, or $CARGO_TARGET_DIR, or what a
# .cargo/config.toml says.
TARGET_DIR   := $(shell $(CARGO) metadata --format-version 1 --no-deps 2>/dev/null | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
ifeq ($(TARGET_DIR),)
$(error cannot ask cargo for its target directory: is `$(CARGO)` installed and the workspace's Cargo.toml valid?)
endif
WASM_DIR     := $(TARGET_DIR)/$(WASM_TARGET)/release
GUEST_WASM   := $(WASM_DIR)/confine_guest.wasm
PROBE_WASM   := $(WASM_DIR)/confine_test_plugin.wasm
CONFINE      := $(TARGET_DIR)/release/confine
DEMO_DIR     ?= $(TARGET_DIR)/demo
# The crates of the layers, bottom up; the store's conformance suite is a feature, and so
# is the CLI's etcd backend (whose tests, in tests/it/etcd, start Debian's etcd).
CRATES       := -p confine-domain -p confine-store -p confine-formats -p confine-etcd -p confine-wasmtime -p confine-cli
FEATURES     := --features confine-store/conformance,confine-cli/etcd

export CONFINE_GUEST_WASM := $(abspath $(GUEST_WASM))
export CONFINE_TEST_PLUGIN := $(abspath $(PROBE_WASM))
export CONFINE_CONFIG_READER := $(abspath $(WASM_DIR)/confine_test_config_reader.wasm)
export CONFINE_KEYVALUE_PROBE := $(abspath $(WASM_DIR)/confine_test_keyvalue_probe.wasm)
export CONFINE_EXAMPLE_RENAME_KEY := $(abspath $(WASM_DIR)/confine_example_rename_key.wasm)
export CONFINE_EXAMPLE_VALIDATE := $(abspath $(WASM_DIR)/confine_example_validate.wasm)
export CONFINE_EXAMPLE_EMBEDDER := $(abspath $(TARGET_DIR)/release/confine-example-embedder)

.PHONY: run test test-windows soak build guest ship-guest guest-shipped package plugins wasm-target etcd-deps python-lockers python-wheel python-test lint lint-platforms fuzz examples doc bench

wasm-target:
	@rustup target list --installed | grep -qx '$(WASM_TARGET)' || rustup target add $(WASM_TARGET)

# The domain guest is built reproducibly (the paths of cargo's registry, the only ones in
# it that name this machine, written as /cargo) and shipped in the `confine` crate
# (host/wasmtime/guest/), so that `cargo install --path host/cli` needs no make. The
# Makefile's builds embed the fresh build (CONFINE_GUEST_WASM); `make test` fails when it
# differs from the shipped one: `make ship-guest` copies it there.
CARGO_HOME   ?= $(HOME)/.cargo
export CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS := --remap-path-prefix=$(abspath $(CARGO_HOME))=/cargo
SHIPPED_GUEST := host/wasmtime/guest/confine_guest.wasm
guest: wasm-target
	$(CARGO) build --release --locked -p confine-guest --target $(WASM_TARGET)
ship-guest: guest
	cp $(GUEST_WASM) $(SHIPPED_GUEST)
guest-shipped: guest
	@cmp -s $(GUEST_WASM) $(SHIPPED_GUEST) || { echo "the guest shipped in $(SHIPPED_GUEST) is not what its sources build:" \
		"run \`make ship-guest\` and commit it (or check the toolchain: it is built with $$(rustc --version))"; exit 1; }
	@echo "the shipped guest is what its sources build ($$(sha256sum < $(SHIPPED_GUEST) | cut -c1-16))"

plugins: wasm-target
	$(CARGO) build --release --locked -p confine-test-plugin -p confine-test-config-reader -p confine-test-keyvalue-probe --target $(WASM_TARGET)

# The etcd backend's client is generated from etcd's protos at build time (protoc), and
# its tests start a real etcd: Debian's packages, installed where missing (as root, or
# with sudo).
ETCD_PACKAGES := protobuf-compiler libprotobuf-dev etcd-server
etcd-deps:
	@command -v protoc >/dev/null && test -f /usr/include/google/protobuf/empty.proto && command -v etcd >/dev/null || { \
		echo "installing $(ETCD_PACKAGES) (the etcd backend's build and tests need them)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(ETCD_PACKAGES); }

# The Python lockers the interoperability tests run beside confine (tests/it/lockers.rs):
# the libraries of tests/python-lockers.txt, from PyPI, in a virtual environment under the
# target directory; the tests run the Python it names.
LOCKERS_VENV := $(TARGET_DIR)/venv/lockers
export CONFINE_TEST_PYTHON := $(abspath $(LOCKERS_VENV))/bin/python
python-lockers: $(LOCKERS_VENV)/installed
$(LOCKERS_VENV)/installed: tests/python-lockers.txt
	python3 -m venv --clear $(LOCKERS_VENV)
	$(LOCKERS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r tests/python-lockers.txt
	@touch $@

build: guest etcd-deps
	$(CARGO) build --release --locked -p confine-cli --features etcd

# The publishable crates, packaged together (each finds the others in cargo's local overlay)
# and each built from its package alone, as crates.io would: no file outside a crate.
PUBLISHED := -p confine-domain -p confine-store -p confine-formats -p confine-etcd -p confine-wasmtime -p confine-cli
package: etcd-deps
	$(CARGO) package --locked --quiet --allow-dirty $(PUBLISHED)

# The Python package (host/python): maturin, from PyPI in a virtual environment under the
# target directory, builds the abi3 wheel into $(WHEELS); python-test installs it into a
# fresh virtual environment (with pytest and mypy) and runs the package's tests there,
# beside `confine` processes and the design's own lockf writer.
MATURIN_VENV := $(TARGET_DIR)/venv/maturin
PY_TEST_VENV := $(TARGET_DIR)/venv/python-test
WHEELS       := $(TARGET_DIR)/wheels
python-wheel:
	@test -x $(MATURIN_VENV)/bin/maturin || { python3 -m venv --clear $(MATURIN_VENV) && \
		$(MATURIN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check 'maturin>=1.7,<2'; }
	rm -rf $(WHEELS)
	$(MATURIN_VENV)/bin/maturin build --release --locked --quiet -m host/python/Cargo.toml -o $(WHEELS)
python-test: build python-wheel
	python3 -m venv --clear $(PY_TEST_VENV)
	$(PY_TEST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check $(WHEELS)/*.whl pytest mypy
	cd $(TARGET_DIR) && CONFINE_BIN=$(abspath $(CONFINE)) $(PY_TEST_VENV)/bin/python -m pytest -q -p no:cacheprovider $(CURDIR)/host/python/tests

# examples/: two plugin components, and a wasmtime host that runs them (it embeds confine,
# which embeds the guest).
examples: guest
	$(CARGO) build --release --locked -p confine-example-rename-key -p confine-example-validate --target $(WASM_TARGET)
	$(CARGO) build --release --locked -p confine-example-embedder

run: build plugins
	CONFINE=$(CONFINE) PROBE=$(PROBE_WASM) DEMO_DIR=$(DEMO_DIR) bash tests/demo.sh

# Where every suite writes its line of figures (cargo's CARGO_TARGET_TMPDIR/figures).
FIGURES      := $(TARGET_DIR)/tmp/figures
export CONFINE_FIGURES := $(FIGURES)

# Unit tests of every layer, the store's conformance suite (tests/store) on each backend,
# and the integration suites (tests/it), in one cargo run; the Python package's tests; then
# the example plugins' own component tests, as a plugin author's Makefile would run them.
test: build plugins examples doc etcd-deps python-lockers guest-shipped package
	@rm -rf $(FIGURES)
	$(CARGO) test --release --locked $(CRATES) $(FEATURES)
	$(CARGO) test --release --locked -p confine-store --features conformance,classic-locks
	$(CARGO) test --release --locked -p confine-store --features conformance,flock-locks
	$(MAKE) --no-print-directory python-test
	$(CONFINE) test $(CONFINE_EXAMPLE_RENAME_KEY) examples/plugins/rename-key/tests
	$(CONFINE) test --exact $(CONFINE_EXAMPLE_VALIDATE) examples/plugins/validate/tests
	@echo "== what the suites tried (nothing lost in any) =="
	@cat $(FIGURES)/*.txt

# The same suites with CONFINE_SOAK times the trials (crashes, faults, stress).
SOAK ?= 20
soak: build plugins examples
	@rm -rf $(FIGURES)
	CONFINE_SOAK=$(SOAK) $(CARGO) test --release --locked -p confine-cli --features etcd
	@cat $(FIGURES)/*.txt

# The API docs of the libraries build without a warning (broken links, missing docs). The
# CLI's doc comments are its --help text, not API docs.
doc: guest etcd-deps
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --release --locked --no-deps -p confine-domain -p confine-store -p confine-formats -p confine-etcd -p confine-wasmtime --features confine-store/conformance

# The store for macOS (Apple silicon and Intel), FreeBSD and Windows: checking needs the
# targets' standard library only, no SDK, so it runs here. What runs of them here: the
# macOS and FreeBSD lock path (`make test`, --features flock-locks on Linux) and the Windows
# build (`make test-windows`).
WINDOWS_TARGET   := x86_64-pc-windows-gnu
PLATFORM_TARGETS := aarch64-apple-darwin x86_64-apple-darwin x86_64-unknown-freebsd $(WINDOWS_TARGET)
lint-platforms:
	@for t in $(PLATFORM_TARGETS); do rustup target list --installed | grep -qx $$t || rustup target add $$t; done
	@for t in $(PLATFORM_TARGETS); do \
		echo "clippy confine-store --target $$t"; \
		$(CARGO) clippy --locked -p confine-store --features conformance --all-targets --target $$t -- -D warnings || exit 1; \
	done

# Windows, built here with mingw and run under Wine: the store's unit tests, conformance
# suite, cross-process lock tests and doctests; then the CLI (wasmtime and the guest
# inside) through tests/windows/cli_tour.sh. Wine 8 has no bcryptprimitives.dll, whose
# ProcessPrng every Rust executable imports: tests/windows/bcryptprimitives.c, built into
# that DLL and put in the system directory of the Wine prefix the tests use (WINE_PREFIX,
# made here), supplies it.
WINE_PREFIX     ?= $(TARGET_DIR)/wine
WINE            := WINEPREFIX=$(abspath $(WINE_PREFIX)) WINEDEBUG=-all
# Where tests/store writes its figures for that target (cargo's CARGO_TARGET_TMPDIR).
WINDOWS_FIGURES := $(TARGET_DIR)/$(WINDOWS_TARGET)/tmp/figures
WINDOWS_CONFINE := $(TARGET_DIR)/$(WINDOWS_TARGET)/release/confine.exe
test-windows: guest plugins
	@rustup target list --installed | grep -qx $(WINDOWS_TARGET) || rustup target add $(WINDOWS_TARGET)
	@command -v wine >/dev/null && command -v x86_64-w64-mingw32-gcc >/dev/null || \
		{ echo "make test-windows needs wine and x86_64-w64-mingw32-gcc (Debian: wine wine64 gcc-mingw-w64-x86-64)"; exit 1; }
	@test -d $(WINE_PREFIX)/drive_c/windows/system32 || $(WINE) wineboot -i >/dev/null 2>&1
	x86_64-w64-mingw32-gcc -shared -O2 -o $(WINE_PREFIX)/drive_c/windows/system32/bcryptprimitives.dll \
		tests/windows/bcryptprimitives.c -ladvapi32
	@rm -rf $(WINDOWS_FIGURES)
	$(WINE) CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine \
		$(CARGO) test --release --locked -p confine-store --features conformance --target $(WINDOWS_TARGET)
	$(CARGO) build --release --locked -p confine-cli --target $(WINDOWS_TARGET)
	$(WINE) tests/windows/cli_tour.sh $(WINDOWS_CONFINE) $(PROBE_WASM)
	@echo "== what the store's suites tried on Windows, under Wine =="
	@cat $(WINDOWS_FIGURES)/*.txt

lint: build plugins lint-platforms
	$(CARGO) clippy --release --locked $(CRATES) $(FEATURES) -p confine-example-embedder -p confine-bench --all-targets -- -D warnings
	$(CARGO) clippy --release --locked -p confine-python --features etcd -- -D warnings
	$(CARGO) clippy --release --locked -p confine-guest -p confine-test-plugin -p confine-example-rename-key -p confine-example-validate -p confine-test-config-reader -p confine-test-keyvalue-probe --target $(WASM_TARGET) -- -D warnings
	$(CARGO) fmt --check

# Fuzzing with cargo-fuzz (libFuzzer): each target runs FUZZ_SECONDS, then one line says how
# many inputs it tried. Inputs that found new paths go to fuzz/corpus/<target> (kept between
# runs, not committed); fuzz/seeds/<target> is read too. A failing input is saved in
# fuzz/artifacts/<target> and the run fails. cargo-fuzz relies on nightly-only flags
# (FUZZ_SANITIZER=address); RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them.
FUZZ_SECONDS   ?= 60
FUZZ_SANITIZER ?= none
FUZZ_TARGETS   := keypath merge resolve inplace checked toml
FUZZ_LOGS      := $(TARGET_DIR)/tmp/fuzz
FUZZ           := RUSTC_BOOTSTRAP=1 $(CARGO) fuzz

fuzz: guest
	@$(CARGO) fuzz --version >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	$(FUZZ) build -s $(FUZZ_SANITIZER) -a
	@mkdir -p $(FUZZ_LOGS)
	@failed=; for t in $(FUZZ_TARGETS); do \
		mkdir -p fuzz/corpus/$$t; \
		echo "fuzzing $$t for $(FUZZ_SECONDS) s (log: $(FUZZ_LOGS)/$$t.log)"; \
		$(FUZZ) run -s $(FUZZ_SANITIZER) -a $$t fuzz/corpus/$$t fuzz/seeds/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) >$(FUZZ_LOGS)/$$t.log 2>&1 \
			|| { failed="$$failed $$t"; tail -n 30 $(FUZZ_LOGS)/$$t.log; }; \
	done; \
	echo "== what the fuzzers tried =="; \
	for t in $(FUZZ_TARGETS); do \
		runs=$$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second(s)$$/\1 inputs in \2 s/p' $(FUZZ_LOGS)/$$t.log); \
		corpus=$$(sed -n 's/.*DONE .*cov: \([0-9]*\) .*corp: \([0-9]*\)\/.*/\2 corpus entries, coverage \1/p' $(FUZZ_LOGS)/$$t.log); \
		echo "fuzz $$t: $${runs:-stopped early}, $${corpus:-no final stats}"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzzing found failures in:$$failed (inputs in fuzz/artifacts/)"; exit 1; fi; \
	echo "fuzz: no target crashed or failed an assertion"

# Performance: every figure in one run on the real disk (target/bench-tmp), printed
# as one table with ratios to the bare write protocol. BENCH_SCALE=0.1 for a quick run, 2 for
# twice the samples. Needs python3 (the lockf writer row, and case 9 with the package's
# wheel in its own virtual environment); SQLite is compiled in.
BENCH_SCALE ?= 1
PY_BENCH_VENV := $(TARGET_DIR)/venv/python-bench
bench: build python-wheel
	$(CARGO) build --release --locked -p confine-bench
	python3 -m venv --clear $(PY_BENCH_VENV)
	$(PY_BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check $(WHEELS)/*.whl
	BENCH_SCALE=$(BENCH_SCALE) CONFINE=$(CONFINE) CONFINE_PYTHON=$(abspath $(PY_BENCH_VENV))/bin/python \
		$(TARGET_DIR)/release/confine-bench
