# Tram: the two commands a newcomer needs are `make run` and `make test`.
# Each sets up what it needs first (Debian packages, configure, build).
.PHONY: deps build web run serve engine-demo test soak bench bench-web bench-links asan arm64 fuzz fuzz-smoke clean format

deps:
	@scripts/setup-deps.sh

build: deps
	@cmake --preset dev >/dev/null
	@cmake --build --preset dev
	@scripts/build-web.sh

# The web app alone (web/dist), which tram-server serves at /.
web: deps
	@scripts/build-web.sh

# The main job: the end-to-end demonstration (a real server, five devices running tram-field).
run: build
	@scripts/demo.sh

# The engine alone, in one process (no server, no SDK).
engine-demo: build
	@./build/dev/examples/engine-demo/tram-engine-demo var schemas

# A server for real use on var/server (seeded on first start; seeding again is a no-op).
LISTEN ?= 127.0.0.1:8080
serve: build
	@mkdir -p var/server
	@./build/dev/server/tram-server seed --data var/server
	@echo "To enrol a device, in another terminal:"
	@echo "  build/dev/server/tram-server admin create-user --data var/server --id minh --role official --units 03808"
	@echo "  build/dev/server/tram-server admin enrol-code --data var/server --user minh"
	@echo "  build/dev/examples/field-app/tram-field init --home var/phones/minh --server http://$(LISTEN) --code CODE --name 'Lò Văn Minh'"
	@echo "  (tram-field asks for a passphrase that protects the device key, or takes TRAM_FIELD_KEY, 64 hex digits)"
	@echo "The web app: http://$(LISTEN)/"
	@./build/dev/server/tram-server serve --data var/server --listen $(LISTEN) --web web/dist

# Every test: the fast suite and the slow label (1,000-seed convergence).
test: build
	@ctest --preset dev

# The soak (issue 17), not in `make test`: 1,000 server SIGKILLs under pushes from 4 devices,
# 1,000 SIGKILLs of an SDK process writing and syncing, 10,000 convergence seeds; one summary line
# per phase. Counts: SOAK_SERVER_KILLS, SOAK_SDK_KILLS, SOAK_SEEDS (tests/soak/run.sh has the rest).
soak: deps
	@tests/soak/run.sh

bench: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release
	@scripts/run-bench.sh build/release
	@scripts/run-loadgen.sh build/release
	@scripts/run-client-bench.sh build/release

# The web app's budgets (docs/web.md §4): shell size, first visit over EDGE, offline reopen, a
# report's save, a fresh phone's first sync; medians, printed as a table. TRAM_BENCH_STRICT=1
# fails on a missed budget.
bench-web: build
	@cd web && node bench/budgets.mjs

# The field-link scenarios of issue 16 in full (EDGE, GPRS, 3G with stalls; tram-field through
# the weak-link relay tools/linkem), with a table of the figures; minutes each, so not in `make test`
# (CI runs their shortened forms, ctest -L links). TRAM_LINKS_SCALE=0.05 shrinks the photos.
bench-links: deps
	@cmake --preset dev >/dev/null
	@cmake --build --preset dev --target tram-server tram-field linkem
	@tests/links/bench.sh

# Every test again under AddressSanitizer + UBSan, but the browser tests (their server and device
# code is JavaScript and the server paths they take are covered here by the C++ tests), the
# install test (it builds an outside project, which the sanitizer runtime does not reach) and the
# power-loss tests (they LD_PRELOAD a SQLite VFS shim, and the sanitizer runtime must come first).
asan: deps
	@scripts/build-web.sh
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan
	@ctest --preset asan -LE "web|install" -E "^power\.slow$$"

# The libFuzzer targets of every decoder of untrusted bytes (fuzz/README.md), built with clang
# (preset fuzz, ASan + UBSan), each run for FUZZ_SECONDS on a copy of its seed corpus; fails on
# any crash. `make fuzz-smoke`: 30 s each, what CI runs.
FUZZ_SECONDS ?= 600
fuzz:
	@fuzz/run.sh $(FUZZ_SECONDS)

fuzz-smoke:
	@FUZZ_PARALLEL=$${FUZZ_PARALLEL:-2} FUZZ_SEED=$${FUZZ_SEED-1} fuzz/run.sh 30

# The device side for ARM64, what phones run (engine, client SDK, tram-field), cross-built with
# Debian's toolchain; its tests run under qemu-user against this machine's x86-64 tram-server
# (build/dev), and the stripped libtram_client.so is checked against its 2.5 MiB budget. The slow
# label (300 more convergence seeds, ~5 min under emulation) is left to the native runs.
arm64: build
	@scripts/setup-arm64.sh
	@cmake --preset arm64 >/dev/null
	@cmake --build --preset arm64
	@ctest --preset arm64 -LE slow

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.hpp' '*.h' '*.c')

clean:
	rm -rf build var web/dist web/node_modules
