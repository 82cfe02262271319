# fuzz/fuzz.mk: libFuzzer targets for every parser of outside input,
# included by the top-level Makefile.
#
#   make fuzz                   fuzz each target for FUZZ_SECONDS (60) in
#                               turn; executions per target are printed and
#                               kept in build/fuzz/stats.txt
#   make fuzz FUZZ_SECONDS=10   shorter
#   make fuzz-check             run every target once over its committed
#                               seeds (seconds; no fuzzing)
#   make fuzz-build             only build build/fuzz/fuzz_*
#   make fuzz-deps              install clang and its fuzzer runtime (apt)
#
# Built with clang, -fsanitize=fuzzer,address,undefined, into build/fuzz/:
# lib/*.c is compiled again there with the fuzzer's coverage
# instrumentation, and each target links only the objects it needs (all of
# them without libvirt). Seeds are in fuzz/corpus/TARGET/ and are only
# read; what the fuzzer finds goes to build/fuzz/corpus/TARGET/, crashes to
# build/fuzz/crashes/. A crash becomes a test in tests/unit/test_regressions.c.

# Also set by the top-level Makefile; here so that the fragment can be
# read before it (MAKEFILES=fuzz/fuzz.mk make fuzz).
BUILD ?= build
PKG_CONFIG ?= pkg-config

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
# Per input, in seconds and MiB: anything slower or bigger is a finding.
FUZZ_TIMEOUT ?= 10
FUZZ_RSS_MB ?= 2048
# Extra libFuzzer flags for `make fuzz`, e.g. FUZZ_FLAGS=-jobs=2.
FUZZ_FLAGS ?=

FUZZ_BUILD = $(BUILD)/fuzz
FUZZ_TARGETS = agent ctl domxml conf hook
FUZZ_BINS = $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

# -fno-sanitize-recover: undefined behaviour stops the run like a crash
# does. The lib objects get -fsanitize=fuzzer-no-link (coverage, no main).
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=gnu11 $(WARNINGS) -Iinclude -D_GNU_SOURCE \
	$(shell $(PKG_CONFIG) --cflags json-c) -O1 -g $(FUZZ_SAN) -MMD -MP
FUZZ_LIBS = $(shell $(PKG_CONFIG) --libs json-c) -lm

$(FUZZ_BUILD)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/obj/%.o: fuzz/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

# What each target links: the parser's module and what it calls.
FUZZ_OBJS_agent = agent error
FUZZ_OBJS_ctl = ctl error
FUZZ_OBJS_domxml = domxml error
# vts_conf.c takes the set_time_fallback names from the fallback module
# and its defaults from the sync module.
FUZZ_OBJS_conf = conf sync sync_msg fallback safety agent domxml report clock error
# vts_conf.c takes the fallback names from the fallback module; the hook
# escapes its waiter's lines with the report module.
FUZZ_OBJS_hook = hook domxml conf ctl sync sync_msg fallback safety agent report clock log error

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/fuzz_%.o
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LIBS)

$(foreach t,$(FUZZ_TARGETS),$(eval \
	$(FUZZ_BUILD)/fuzz_$(t): $(FUZZ_OBJS_$(t):%=$(FUZZ_BUILD)/lib/vts_%.o)))

.PHONY: fuzz fuzz-build fuzz-check fuzz-deps

fuzz-deps:
	fuzz/deps.sh

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-deps
	$(MAKE) fuzz-build
	FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_TIMEOUT=$(FUZZ_TIMEOUT) FUZZ_RSS_MB=$(FUZZ_RSS_MB) \
		fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS) -- $(FUZZ_FLAGS)

fuzz-check: fuzz-deps
	$(MAKE) fuzz-build
	FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_TIMEOUT=$(FUZZ_TIMEOUT) FUZZ_RSS_MB=$(FUZZ_RSS_MB) \
		fuzz/run.sh 0 $(FUZZ_TARGETS)
