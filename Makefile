# vmtimesync: step libvirt guests' clocks to the host's time after pauses,
# migrations and restores.
#
#   make               build the programs
#   make check         install the test host's packages (apt), then run the
#                      unit tests, bench/report.sh on its fixture
#                      (check-bench-report), the simulation's self-check, the
#                      monitoring checks and the end-to-end tests on a real
#                      libvirtd
#   make check-unit    unit tests only (cmocka)
#   make check-format  every C file as .clang-format says (CI runs it)
#   make check-e2e     end-to-end tests only
#   make check-monitoring  the alert rules (promtool) and the Grafana
#                      dashboard against the metrics the library exports
#   make check-soak    the daemon over SOAK_CYCLES (1000) pause/resume cycles
#                      of one guest: no crash, every resume synced, RSS
#                      growth under 1 MiB (tests/soak/soak.sh; about 6 min)
#   make check-deploy  the .deb on a real systemd host with Debian's libvirt
#                      (tests/deploy/run.sh; a few minutes)
#   make demo          the main job on a built-in demo host
#   make sim           vmtimesyncd's scheduler, pool and sync with 12 to 500
#                      simulated guests (sim/README.md); check-sim: a quick
#                      self-check
#   make install       PREFIX, DESTDIR, SBINDIR as usual; never runs systemctl
#
# WERROR=1 turns warnings into errors; SANITIZE=address,undefined builds with
# those sanitizers.

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
# libvirt looks for hooks here whatever our PREFIX is.
HOOKDIR ?= /etc/libvirt/hooks/qemu.d
DESTDIR ?=

CC ?= cc
PKG_CONFIG ?= pkg-config
BUILD ?= build

WARNINGS = -Wall -Wextra -Wformat=2 -Wshadow -Wmissing-prototypes \
	-Wstrict-prototypes -Wwrite-strings -Wvla
CFLAGS ?= -O2 -g
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
endif

# Deferred (=): evaluated only when a compile runs, after `make deps`.
PKGS = libvirt libvirt-qemu json-c
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS))
CMOCKA_CFLAGS = $(shell $(PKG_CONFIG) --cflags cmocka)
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka)

ALL_CFLAGS = -std=gnu11 $(WARNINGS) -Iinclude -D_GNU_SOURCE $(PKG_CFLAGS) $(CFLAGS) -MMD -MP

LIB_SRCS = lib/vts_clock.c lib/vts_error.c lib/vts_hv.c lib/vts_hv_libvirt.c lib/vts_agent.c \
	lib/vts_domxml.c lib/vts_sync.c lib/vts_sync_msg.c lib/vts_fallback.c lib/vts_safety.c lib/vts_report.c \
	lib/vts_sched.c lib/vts_pool.c lib/vts_log.c lib/vts_conf.c lib/vts_ctl.c \
	lib/vts_ctl_server.c lib/vts_daemon.c lib/vts_daemon_conn.c lib/vts_daemon_jobs.c \
	lib/vts_daemon_watch.c lib/vts_daemon_ctl.c lib/vts_daemon_loop.c \
	lib/vts_hook.c lib/vts_waiter.c lib/vts_metrics.c lib/vts_connect.c lib/vts_watch.c
LIB_OBJS = $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB = $(BUILD)/libvmtimesync.a

PROGS = $(BUILD)/vmtimesync $(BUILD)/vmtimesyncd $(BUILD)/vmtimesync-hook
UNIT_TESTS = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
UNIT_SUPPORT = $(BUILD)/tests/unit/fake_hv.o $(BUILD)/tests/unit/sync_fixture.o \
	$(BUILD)/tests/unit/daemon_fixture.o
PROBE = $(BUILD)/vts-probe

.SECONDARY:

.PHONY: all deps check check-format check-unit check-e2e check-soak check-deploy demo install uninstall clean

all: $(PROGS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/vmtimesync: $(BUILD)/src/vmtimesync.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm -pthread

$(BUILD)/vmtimesyncd: $(BUILD)/src/vmtimesyncd.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm -pthread

# The hook links json-c only: libvirt's libraries take tens of ms to load,
# and libvirtd waits for the hook. It execs the CLI for its waiter.
HOOK_CLI ?= $(SBINDIR)/vmtimesync
JSONC_LIBS = $(shell $(PKG_CONFIG) --libs json-c)

$(BUILD)/hook/vmtimesync-hook.o: hook/vmtimesync-hook.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DVTS_HOOK_CLI='"$(HOOK_CLI)"' -c -o $@ $<

$(BUILD)/vmtimesync-hook: $(BUILD)/hook/vmtimesync-hook.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(JSONC_LIBS) -lm -pthread

# The end-to-end tests' copy of the hook runs the CLI from the build tree.
$(BUILD)/e2e/vmtimesync-hook: hook/vmtimesync-hook.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DVTS_HOOK_CLI='"$(abspath $(BUILD))/vmtimesync"' -o $@ $< $(LIB) \
		$(LDFLAGS) $(JSONC_LIBS) -lm -pthread

$(PROBE): tests/e2e/vts-probe.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS) $(PKG_LIBS)

$(BUILD)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) -Ilib -c -o $@ $<

$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(UNIT_SUPPORT) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS) -lm -pthread

# The packages needed to build and to run the end-to-end test host.
deps:
	tests/e2e/setup-host.sh

check: deps
	$(MAKE) check-unit
	$(MAKE) check-bench-report
	$(MAKE) check-sim
	$(MAKE) check-monitoring
	$(MAKE) check-e2e

# Every C file as .clang-format says (clang-format 14, Debian 12's);
# `clang-format -i FILE` fixes one.
FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

check-format: deps
	clang-format --dry-run --Werror $(FORMAT_FILES)

check-unit: $(UNIT_TESTS)
	@fail=0; for t in $(UNIT_TESTS); do $$t || fail=1; done; exit $$fail

check-e2e: $(PROGS) $(PROBE) $(BUILD)/e2e/vmtimesync-hook
	VTS_BUILD_DIR=$(BUILD) tests/e2e/run.sh

# Like check-valgrind: the test host's packages, then the programs, then
# the run (setup-host.sh again would only repeat deps' check).
SOAK_CYCLES ?= 1000

check-soak: deps
	$(MAKE) $(BUILD)/vmtimesync $(BUILD)/vmtimesyncd $(PROBE)
	VTS_BUILD_DIR=$(BUILD) VTS_E2E_NO_SETUP=1 tests/soak/soak.sh $(SOAK_CYCLES)

# The .deb installed on a real systemd host with Debian's libvirt-daemon-system,
# checked as an operator would (tests/deploy/; a few minutes).
check-deploy: deps
	$(MAKE) $(PROBE)
	tests/e2e/build-guest.sh $(abspath $(BUILD))/guest
	VTS_BUILD_DIR=$(BUILD) tests/deploy/run.sh

demo: deps
	$(MAKE) $(PROGS) $(PROBE)
	VTS_BUILD_DIR=$(BUILD) scripts/demo.sh

install: $(PROGS) install-extra
	install -d $(DESTDIR)$(SBINDIR)
	install -m 0755 $(BUILD)/vmtimesync $(DESTDIR)$(SBINDIR)/vmtimesync
	install -m 0755 $(BUILD)/vmtimesyncd $(DESTDIR)$(SBINDIR)/vmtimesyncd
	install -d $(DESTDIR)$(HOOKDIR)
	install -m 0755 $(BUILD)/vmtimesync-hook $(DESTDIR)$(HOOKDIR)/vmtimesync

uninstall: uninstall-extra
	rm -f $(DESTDIR)$(SBINDIR)/vmtimesync $(DESTDIR)$(SBINDIR)/vmtimesyncd
	rm -f $(DESTDIR)$(HOOKDIR)/vmtimesync

clean:
	rm -rf $(BUILD)

# Packaging (deb, rpm, man pages, systemd unit), benchmarks, fuzzing,
# memcheck and the simulation live in their own fragments.
-include packaging/packaging.mk
-include bench/bench.mk
-include fuzz/fuzz.mk
-include tests/memcheck/memcheck.mk
-include tests/monitoring/monitoring.mk
-include sim/sim.mk

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)
