# tests/monitoring/monitoring.mk: the Prometheus alert rules and the
# Grafana dashboard checked against what the library exports; included by
# the top-level Makefile, run by `make check`.
#
#   make check-monitoring   promtool check + promtool test rules; the
#                           dashboard parses and uses only exported names

.PHONY: check-monitoring monitoring-deps

# promtool (Debian's prometheus package, its server kept from starting)
# and jq, with apt, only when missing.
monitoring-deps:
	tests/monitoring/deps.sh

# One of every series, written by the library as the daemon writes it: the
# names the rules and the dashboard may use.
$(BUILD)/tests/metrics-sample: tests/monitoring/metrics-sample.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(PKG_LIBS) -lm -pthread

check-monitoring: monitoring-deps $(BUILD)/tests/metrics-sample
	promtool check rules packaging/prometheus/vmtimesync-rules.yml
	cd tests/monitoring && promtool test rules rules-test.yml
	$(BUILD)/tests/metrics-sample $(BUILD)/tests/metrics-sample.prom
	tests/monitoring/check-names.sh $(BUILD)/tests/metrics-sample.prom \
		packaging/grafana/vmtimesync-dashboard.json packaging/prometheus/vmtimesync-rules.yml
