# bench/bench.mk: the benchmarks, included by the top-level Makefile.
#
#   make bench                  precision, reaction, scale and footprint on
#                               the real test host; prints the tables and
#                               writes docs/benchmarks.md and .png
#   make bench BENCH_QUICK=1    fewer trials and guests: a fast check
#   make bench BENCH_ONLY=triggers  snapshot revert and S3 wakeup alone
#                               (about 2 minutes); replaces that section
#   make bench BENCH_ONLY=mass  part 5 alone (storage outage, mass restore):
#                               replaces only its section of benchmarks.md
#   make bench BENCH_ONLY=watch the watch mode's cost alone (12 guests, two
#                               180 s windows): replaces only its section
#   make check-bench-report     bench/report.sh on the fixture in
#                               tests/bench/results: the page it writes must
#                               be tests/bench/expected/benchmarks.md
#
# As root, like `make check`: installs the test host's packages first
# (`make deps`), then builds what the run needs.

BENCH_QUICK ?= 0
BENCH_ONLY ?=
BENCH_BLINDSET = $(BUILD)/bench/blindset
BENCH_BINS = $(BUILD)/vmtimesync $(BUILD)/vmtimesyncd $(PROBE) $(BENCH_BLINDSET) $(BUILD)/bench/benchstat

.PHONY: bench bench-build check-bench-report

# The blind set of Nova/KubeVirt/oVirt, to compare with: libvirt only.
$(BENCH_BLINDSET): bench/blindset.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS) $(PKG_LIBS)

bench-build: $(BENCH_BINS)

bench: deps
	$(MAKE) bench-build
	VTS_BUILD_DIR=$(BUILD) BENCH_QUICK=$(BENCH_QUICK) BENCH_ONLY=$(BENCH_ONLY) bench/run.sh

# benchstat: the report's statistics (bench/report.sh lays out its output).
BENCHSTAT = $(BUILD)/bench/benchstat

$(BENCHSTAT): $(BUILD)/bench/benchstat.o $(BUILD)/bench/stats.o
	$(CC) $(LDFLAGS) -o $@ $^ -lm

# Its library's unit tests (tests/unit/test_stats.c) link it too.
$(BUILD)/tests/test_stats: $(BUILD)/bench/stats.o

# bench/report.sh on a fixture (tests/bench/check-report.sh); needs no
# gnuplot, no guest: part of `make check`.
check-bench-report: $(BENCHSTAT)
	BENCHSTAT=$(BENCHSTAT) tests/bench/check-report.sh
