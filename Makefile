# Tram: the two commands a newcomer needs are `make run` and `make test`.
# Each sets up what it needs first (Debian packages, configure, build).
.PHONY: deps build run test bench asan clean format

deps:
	@scripts/setup-deps.sh

build: deps
	@cmake --preset dev >/dev/null
	@cmake --build --preset dev

# The main job: until the server and demo exist, the engine demonstration.
run: build
	@./build/dev/examples/engine-demo/tram-engine-demo var schemas

# Every test: the fast suite and the slow label (1,000-seed convergence).
test: build
	@ctest --preset dev

bench: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release
	@scripts/run-bench.sh build/release
	@scripts/run-loadgen.sh build/release
	@scripts/run-client-bench.sh build/release

asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan
	@ctest --preset asan

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.hpp' '*.h' '*.c')

clean:
	rm -rf build var
