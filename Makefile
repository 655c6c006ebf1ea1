# confine: `make run` shows the main job on a fresh directory, `make test` runs every test.
# Both install the wasm32-wasip2 target when it is missing and build the guest component
# before anything that embeds or loads it.

CARGO        ?= cargo
WASM_TARGET  := wasm32-wasip2
WASM_DIR     := target/$(WASM_TARGET)/release
GUEST_WASM   := $(WASM_DIR)/confine_guest.wasm
PROBE_WASM   := $(WASM_DIR)/confine_test_plugin.wasm
CONFINE      := target/release/confine
DEMO_DIR     ?= target/demo

export CONFINE_GUEST_WASM := $(abspath $(GUEST_WASM))
export CONFINE_TEST_PLUGIN := $(abspath $(PROBE_WASM))

.PHONY: run test soak build guest plugins wasm-target lint

wasm-target:
	@rustup target list --installed | grep -qx '$(WASM_TARGET)' || rustup target add $(WASM_TARGET)

guest: wasm-target
	$(CARGO) build --release --locked -p confine-guest --target $(WASM_TARGET)

plugins: wasm-target
	$(CARGO) build --release --locked -p confine-test-plugin --target $(WASM_TARGET)

build: guest
	$(CARGO) build --release --locked -p confine

run: build plugins
	CONFINE=$(CONFINE) PROBE=$(PROBE_WASM) DEMO_DIR=$(DEMO_DIR) bash tests/demo.sh

FIGURES      := target/tmp/figures

test: build plugins
	@rm -rf $(FIGURES)
	$(CARGO) test --release --locked -p confine-guest
	$(CARGO) test --release --locked -p confine
	@echo "== what the suites tried (nothing lost in any) =="
	@cat $(FIGURES)/*.txt

# The same suites with CONFINE_SOAK times the trials (crashes, faults, stress).
SOAK ?= 20
soak: build plugins
	@rm -rf $(FIGURES)
	CONFINE_SOAK=$(SOAK) $(CARGO) test --release --locked -p confine
	@cat $(FIGURES)/*.txt

lint: build plugins
	$(CARGO) clippy --release --locked -p confine -p confine-guest --all-targets -- -D warnings
	$(CARGO) clippy --release --locked -p confine-guest -p confine-test-plugin --target $(WASM_TARGET) -- -D warnings
	$(CARGO) fmt --check
