# tests/memcheck/memcheck.mk: valgrind memcheck over the unit tests and
# over the programs on real test hosts, included by the top-level Makefile.
#
#   make check-unit-valgrind    every unit test under memcheck (about 30 s;
#                               not with SANITIZE, which valgrind cannot run)
#   make check-valgrind         vmtimesync, vmtimesyncd and the hook under
#                               memcheck on two test hosts
#                               (tests/memcheck/e2e.sh; as root; about 1.5 min)
#   Either fails on any memcheck error: an invalid read or write, a use of
#   uninitialised memory, a bad free, a definite or possible leak. valgrind
#   comes with the test host's packages (`make deps`).

.PHONY: check-valgrind check-unit-valgrind

# Like check-e2e: the test host's packages, then the programs, then the run.
check-valgrind: deps
	$(MAKE) $(BUILD)/vmtimesync $(BUILD)/vmtimesyncd $(BUILD)/vts-probe \
		$(BUILD)/e2e/vmtimesync-hook
	VTS_BUILD_DIR=$(BUILD) tests/memcheck/e2e.sh

# Memory errors and definite or possible leaks fail a test (exit 99).
VALGRIND_UNIT = valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,possible --track-origins=yes

check-unit-valgrind: deps
	$(MAKE) $(UNIT_TESTS)
	@fail=0; for t in $(UNIT_TESTS); do $(VALGRIND_UNIT) $$t || fail=1; done; exit $$fail
