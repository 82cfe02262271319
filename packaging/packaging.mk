# packaging/packaging.mk: man pages, the systemd unit, the files a package
# installs besides the programs, release tarballs, .deb and .rpm packages.
# Included by the top-level Makefile, after its variables (PREFIX, SBINDIR,
# DESTDIR, BUILD, PROGS) are set.
#
#   make packaging-deps  install with apt what the targets below need
#                        (root; a no-op when everything is there)
#   make man             build/man/man8/*.8, build/man/man5/*.5 (scdoc)
#   make check-man       render them; fail on any groff or man warning
#   make systemd-unit    build/systemd/vmtimesyncd.service for SBINDIR
#   make check-systemd   systemd-analyze verify, and the security score
#   make install-extra   man pages, unit, bash completion, the Prometheus
#                        rules and Grafana dashboard (VTS_DATADIR), and the
#                        default configuration (never overwritten); the
#                        programs and the libvirt hook are the top-level
#                        `install`'s
#   make uninstall-extra the same, removed (the configuration only when
#                        unchanged)
#   make dist            build/vmtimesync-VERSION.tar.gz from git (HEAD, or
#                        DIST_REF=<commit, tag or tree>)
#   make distcheck       unpack that tarball, build and install it
#   make deb             .deb from the tarball with dpkg-buildpackage and
#                        lintian, into build/
#   make test-deb        unpack the .deb into a throwaway root and check it
#   make rpm             .rpm and .src.rpm from the tarball with rpmbuild
#   make test-rpm        the same checks on the .rpm
#   make check-packaging all of the above checks
#   make check-sandbox   vmtimesyncd in the unit's sandbox (rebuilt without
#                        systemd) against a real test libvirtd and guest
#
# Install directories (override as usual): SYSCONFDIR is /etc whatever
# PREFIX is, because vmtimesyncd reads /etc/vmtimesync/vmtimesync.conf.

SYSCONFDIR ?= /etc
MANDIR ?= $(PREFIX)/share/man
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# Files for other programs to load: the alert rules and the dashboard.
VTS_DATADIR ?= $(PREFIX)/share/vmtimesync
MONITORING_FILES = packaging/prometheus/vmtimesync-rules.yml \
	packaging/grafana/vmtimesync-dashboard.json
SCDOC ?= scdoc

VTS_VERSION_H = include/vts_version.h
VTS_PKG_VERSION := $(shell sed -n 's/^\#define VTS_VERSION "\(.*\)"$$/\1/p' $(VTS_VERSION_H))

# Absolute, since the package builds run in other directories.
PKG_BUILD = $(abspath $(BUILD))

# ---- what the targets need ----

# Debian package names. The compiler and the build's own libraries come
# with them, so that `make packaging-deps deb` works on a fresh machine.
PACKAGING_DEPS = build-essential pkg-config libvirt-dev libjson-c-dev \
	libcmocka-dev scdoc groff-base man-db debhelper devscripts dpkg-dev \
	fakeroot lintian rpm cpio git systemd bash-completion python3-seccomp

packaging-deps:
	@missing=$$(for p in $(PACKAGING_DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q ' installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "packaging-deps: installing" $$missing; \
		apt-get -o DPkg::Lock::Timeout=600 update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
			install -y -qq --no-install-recommends $$missing; \
	fi

# ---- man pages ----

MAN_SRCS = man/vmtimesync.8.scd man/vmtimesyncd.8.scd man/vmtimesync.conf.5.scd
# build/man/man8/vmtimesync.8: a MANPATH layout, so that `man` and
# systemd-analyze find the pages in the build tree.
MANS = $(foreach s,$(MAN_SRCS),$(BUILD)/man/man$(subst .,,$(suffix $(basename $(s))))/$(notdir $(basename $(s))))

# The date in the pages: the commit's in a git tree, else the files' (a
# tarball from `make dist` carries the commit's time), so that builds of
# one commit give the same pages. dpkg-buildpackage sets it from the
# changelog.
SOURCE_DATE_EPOCH ?= $(shell if [ -e .git ]; then git log -1 --format=%ct 2>/dev/null; \
	else stat -c %Y $(VTS_VERSION_H); fi)

man: $(MANS)

define vts_man_rule
$(BUILD)/man/man$(subst .,,$(suffix $(basename $(1))))/$(notdir $(basename $(1))): $(1) $(VTS_VERSION_H)
	@mkdir -p $$(@D)
	@command -v $(SCDOC) >/dev/null 2>&1 || { \
		echo "man: $(SCDOC) not found: run 'make packaging-deps' (or apt-get install scdoc)" >&2; \
		exit 1; }
	sed 's/@VERSION@/$(VTS_PKG_VERSION)/g' $(1) | SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(SCDOC) > $$@.tmp
	mv $$@.tmp $$@
endef
$(foreach s,$(MAN_SRCS),$(eval $(call vts_man_rule,$(s))))

check-man: $(MANS)
	packaging/check-man.sh $(MANS)

# ---- systemd unit ----

UNIT = $(BUILD)/systemd/vmtimesyncd.service

systemd-unit: $(UNIT)

$(UNIT): packaging/systemd/vmtimesyncd.service.in
	@mkdir -p $(@D)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' $< > $@.tmp
	mv $@.tmp $@

# verify checks that ExecStart= and the Documentation= pages exist, so the
# unit under test points at the build tree. `security --offline` scores
# the sandboxing without a running systemd (systemd 250 and later) and
# fails above SYSTEMD_EXPOSURE_MAX (in tenths: 15 is 1.5; the unit scores
# 1.1, "OK").
SYSTEMD_EXPOSURE_MAX ?= 15
check-systemd: $(BUILD)/vmtimesyncd $(MANS)
	@mkdir -p $(BUILD)/systemd-check
	sed -e 's|@SBINDIR@|$(PKG_BUILD)|g' packaging/systemd/vmtimesyncd.service.in \
		> $(BUILD)/systemd-check/vmtimesyncd.service
	MANPATH=$(PKG_BUILD)/man systemd-analyze verify $(BUILD)/systemd-check/vmtimesyncd.service
	systemd-analyze security --offline=true --no-pager --threshold=$(SYSTEMD_EXPOSURE_MAX) \
		$(BUILD)/systemd-check/vmtimesyncd.service > $(BUILD)/systemd-check/security.txt; \
		rc=$$?; tail -n 1 $(BUILD)/systemd-check/security.txt; exit $$rc

# ---- install ----

install-extra: $(MANS) $(UNIT)
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	install -m 0644 $(BUILD)/man/man8/vmtimesync.8 $(DESTDIR)$(MANDIR)/man8/vmtimesync.8
	install -m 0644 $(BUILD)/man/man8/vmtimesyncd.8 $(DESTDIR)$(MANDIR)/man8/vmtimesyncd.8
	install -m 0644 $(BUILD)/man/man5/vmtimesync.conf.5 $(DESTDIR)$(MANDIR)/man5/vmtimesync.conf.5
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0644 $(UNIT) $(DESTDIR)$(SYSTEMDUNITDIR)/vmtimesyncd.service
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 completion/vmtimesync $(DESTDIR)$(BASHCOMPDIR)/vmtimesync
	install -d $(DESTDIR)$(VTS_DATADIR)
	install -m 0644 $(MONITORING_FILES) $(DESTDIR)$(VTS_DATADIR)/
	install -d $(DESTDIR)$(SYSCONFDIR)/vmtimesync
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/vmtimesync/vmtimesync.conf ]; then \
		echo "install-extra: keeping $(DESTDIR)$(SYSCONFDIR)/vmtimesync/vmtimesync.conf"; \
	else \
		echo "install -m 0644 packaging/vmtimesync.conf $(DESTDIR)$(SYSCONFDIR)/vmtimesync/vmtimesync.conf"; \
		install -m 0644 packaging/vmtimesync.conf $(DESTDIR)$(SYSCONFDIR)/vmtimesync/vmtimesync.conf; \
	fi

uninstall-extra:
	rm -f $(DESTDIR)$(MANDIR)/man8/vmtimesync.8 $(DESTDIR)$(MANDIR)/man8/vmtimesyncd.8 \
		$(DESTDIR)$(MANDIR)/man5/vmtimesync.conf.5 \
		$(DESTDIR)$(SYSTEMDUNITDIR)/vmtimesyncd.service \
		$(DESTDIR)$(BASHCOMPDIR)/vmtimesync \
		$(addprefix $(DESTDIR)$(VTS_DATADIR)/,$(notdir $(MONITORING_FILES)))
	rmdir $(DESTDIR)$(VTS_DATADIR) 2>/dev/null || true
	@conf=$(DESTDIR)$(SYSCONFDIR)/vmtimesync/vmtimesync.conf; \
	if [ -e $$conf ] && ! cmp -s $$conf packaging/vmtimesync.conf; then \
		echo "uninstall-extra: keeping $$conf (changed)"; \
	else \
		rm -f $$conf; rmdir $(DESTDIR)$(SYSCONFDIR)/vmtimesync 2>/dev/null || true; \
	fi

# ---- release tarball ----

# What is committed, as a release would be: uncommitted changes are not in
# it (a warning says so). DIST_REF may name a commit, a tag or a tree.
DIST_REF ?= HEAD
DIST_VERSION = $(shell git show $(DIST_REF):$(VTS_VERSION_H) 2>/dev/null | \
	sed -n 's/^\#define VTS_VERSION "\(.*\)"$$/\1/p')
DIST_NAME = vmtimesync-$(DIST_VERSION)
DIST_TARBALL = $(PKG_BUILD)/$(DIST_NAME).tar.gz

dist:
	@test -n "$(DIST_VERSION)" || { \
		echo "dist: no VTS_VERSION in $(DIST_REF):$(VTS_VERSION_H) (not a git tree?)" >&2; exit 1; }
	@deb=$$(git show $(DIST_REF):packaging/debian/changelog | \
		sed -n '1s/^vmtimesync (\([^)]*\)-[^-)]*).*/\1/p'); \
	rpm=$$(git show $(DIST_REF):packaging/rpm/vmtimesync.spec | \
		sed -n 's/^Version:[[:space:]]*//p'); \
	if [ "$$deb" != "$(DIST_VERSION)" ] || [ "$$rpm" != "$(DIST_VERSION)" ]; then \
		echo "dist: version $(DIST_VERSION) in $(VTS_VERSION_H), but '$$deb' in" \
			"packaging/debian/changelog and '$$rpm' in packaging/rpm/vmtimesync.spec:" \
			"add a changelog entry (dch -v $(DIST_VERSION)-1) and update the spec" >&2; \
		exit 1; \
	fi
	@if [ "$(DIST_REF)" = HEAD ] && [ -n "$$(git status --porcelain --untracked-files=no)" ]; then \
		echo "dist: warning: uncommitted changes are not in the tarball (it is HEAD)" >&2; \
	fi
	@mkdir -p $(PKG_BUILD)
	git archive --format=tar.gz --prefix=$(DIST_NAME)/ -o $(DIST_TARBALL) $(DIST_REF)
	@echo "dist: $(DIST_TARBALL)"

# The tarball builds, installs and uninstalls on its own, without git.
distcheck: dist
	packaging/distcheck.sh $(DIST_TARBALL)

# ---- Debian package ----

# Every package build works in a temporary directory outside the build
# directory (the top-level Makefile includes every *.d under it, and a
# package tree has etc/libvirt/hooks/qemu.d). The unit tests run in the
# package build unless DEB_BUILD_OPTIONS has nocheck; `make check` runs
# them anyway.
DEB_BUILD_OPTIONS ?= nocheck

deb: packaging-deps dist
	DEB_BUILD_OPTIONS="$(DEB_BUILD_OPTIONS)" packaging/build-deb.sh $(DIST_TARBALL) $(PKG_BUILD)

test-deb:
	packaging/test-deb.sh $(PKG_BUILD)

# ---- RPM package ----

# On a Debian build machine the rpm database knows none of the
# BuildRequires: skip the check there.
RPMBUILD_FLAGS ?= $(if $(wildcard /etc/debian_version),--nodeps)

rpm: packaging-deps dist
	packaging/build-rpm.sh $(DIST_TARBALL) $(PKG_BUILD) $(RPMBUILD_FLAGS)

test-rpm:
	packaging/test-rpm.sh $(PKG_BUILD)

# ---- the unit's sandbox, for real ----

# The unit cannot be started where systemd is not PID 1 (build machines,
# CI): test-sandbox.sh rebuilds its sandbox (no capabilities, the same
# system call filter, private network, read-only system) and runs the
# daemon in it against a private test libvirtd with a real guest.
check-sandbox: packaging-deps deps $(BUILD)/vmtimesyncd $(BUILD)/vmtimesync $(PROBE)
	tests/e2e/build-guest.sh $(PKG_BUILD)/guest
	TH_GUEST_DIR=$(PKG_BUILD)/guest packaging/test-sandbox.sh $(PKG_BUILD)

# ---- everything ----

check-packaging: packaging-deps
	$(MAKE) check-man check-systemd
	packaging/test-completion.sh
	$(MAKE) distcheck
	$(MAKE) deb
	$(MAKE) test-deb
	$(MAKE) rpm
	$(MAKE) test-rpm

.PHONY: packaging-deps man check-man systemd-unit check-systemd install-extra \
	uninstall-extra dist distcheck deb test-deb rpm test-rpm check-packaging check-sandbox
