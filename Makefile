# llmotlp — `make run` and `make test` do all set-up on a fresh Debian 12 machine.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
CONFIG     ?= config.yaml
PRICING_DB ?= pricing/llmotlp.db
JOBS       ?= $(shell nproc)

.PHONY: all deps build build-asan run test test-unit test-e2e test-asan test-container container-deps bench bench-tail-sampling bench-llm e2e-deps clean fuzz fuzz-deps fuzz-build

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLLMOTLP_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

# The service creates the pricing DB on first start, seeded from the price list compiled into
# the binary (pricing/prices.csv): later edits go through `llmotlp pricing` and the running
# service picks them up without a restart; `llmotlp pricing update` applies a newer list.
run: build
	LLMOTLP_PRICING_DB=$(PRICING_DB) $(BUILD)/llmotlp --config $(CONFIG)

e2e-deps: deps
	@cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error

test: build e2e-deps
	ctest --test-dir $(BUILD) --output-on-failure
	LLMOTLP_BIN=$(CURDIR)/$(BUILD)/llmotlp bash tests/e2e/run.sh
	node deploy/grafana/check-dashboard.mjs

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: build-asan e2e-deps
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  LLMOTLP_BIN=$(CURDIR)/$(ASAN_BUILD)/llmotlp LLMOTLP_SLOW=1 bash tests/e2e/run.sh

# The image and the Compose stack on a real Docker engine (tests/container/): starts dockerd when
# none answers and stops it after, makes debian:12-slim by debootstrap when missing, builds the
# image from the Dockerfile. Images stay cached under /var/tmp/llmotlp-docker: a few minutes cold,
# about two warm. Needs root. See deploy/README.md.
container-deps: e2e-deps
	@bash scripts/install-deps.sh --container

test-container: container-deps
	bash tests/container/run.sh

bench: build
	bash bench/run.sh $(BUILD)

# The tail_sampling processor alone (part of `make bench` too): CPU against the codec floor,
# bytes per buffered span, heap under max_buffered_bytes. About 6 s.
bench-tail-sampling: build
	$(BUILD)/tail_sampling_bench

# The LLM pipeline end to end (issue 15): passthrough vs the default LLM pipeline vs each
# processor alone, fixed rates with latency, two receiver threads; markdown on stdout. About 6
# minutes; BENCH_SMOKE=1 make bench-llm checks the harness in about 1.5. Not part of `make bench`.
bench-llm: build
	bash bench/llm_pipeline.sh $(BUILD)

# libFuzzer targets of fuzz/ (clang + libclang-rt, installed here only): each runs FUZZ_SECONDS,
# one after the other; new crashes go to fuzz/regressions/<target>/, which `make test` replays.
FUZZ_TARGETS = fuzz_otlp_wire fuzz_otlp_json fuzz_config fuzz_pricing_csv fuzz_pricing_litellm \
               fuzz_http_request fuzz_regex fuzz_log_json fuzz_config_source fuzz_ottl fuzz_ottl_data \
               fuzz_genai_messages fuzz_pricing_names fuzz_genai_content fuzz_wire_index \
               fuzz_llm_wire_diff
fuzz-deps: deps
	@bash scripts/install-deps.sh --fuzz

fuzz-build: fuzz-deps
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLLMOTLP_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(FUZZ_TARGETS)

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_TARGETS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
