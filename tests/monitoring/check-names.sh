#!/bin/bash
# Checks that the Grafana dashboard parses and is importable as shipped,
# and that it and the alert rules use only metric names vmtimesyncd
# exports, taken from a metrics file the library itself wrote
# (metrics-sample.c): every `# TYPE` family, with _bucket, _sum and _count
# for histograms, and node_exporter's own textfile series. The dashboard
# must also show every family, so a new metric gets a panel.
#
# Usage: tests/monitoring/check-names.sh SAMPLE.prom DASHBOARD.json RULES.yml
set -euo pipefail

[ $# -eq 3 ] || { echo "usage: $0 SAMPLE.prom DASHBOARD.json RULES.yml" >&2; exit 2; }
sample=$1 dashboard=$2 rules=$3
fail=0

bad() {
	echo "check-names: $*" >&2
	fail=1
}

# The names a scrape of vmtimesync's file can carry.
families=$(awk '$1 == "#" && $2 == "TYPE" { print $3 }' "$sample")
[ -n "$families" ] || { echo "check-names: no # TYPE line in $sample" >&2; exit 1; }
allowed=$(awk '$1 == "#" && $2 == "TYPE" {
	print $3
	if ($4 == "histogram") { print $3 "_bucket"; print $3 "_sum"; print $3 "_count" }
}' "$sample"
	# node_exporter's, about the file itself.
	echo node_textfile_mtime_seconds
	echo node_textfile_scrape_error)

# The metric names in PromQL expressions on stdin, one expression a line:
# what is left once strings, label matchers, ranges, grouping clauses,
# numbers, durations, Grafana variables, functions and keywords are gone.
metric_names() {
	sed -E -e 's/\$\{[A-Za-z_]+\}|\$[A-Za-z_]+//g' \
		-e 's/label_values\(([^,]*),[^)]*\)/\1/g' \
		-e 's/"([^"\\]|\\.)*"//g' \
		-e 's/\{[^}]*\}//g' \
		-e 's/\[[^]]*\]//g' \
		-e 's/\b(by|without|on|ignoring|group_left|group_right)[[:space:]]*\([^)]*\)//g' \
		-e 's/\b[0-9][0-9.eE+-]*[a-z]*//g' |
		grep -oE '[A-Za-z_:][A-Za-z0-9_:]*[[:space:]]*\(?' |
		grep -vE '\($' |
		grep -vxE '(and|or|unless|bool|offset|by|without|on|ignoring|group_left|group_right|inf|nan)[[:space:]]*' |
		sed -E 's/[[:space:]]+$//' | sort -u || true
}

# ---- the dashboard ----
jq empty "$dashboard" || { echo "check-names: $dashboard is not JSON" >&2; exit 1; }
jq -e '.title and .uid and (.panels | length > 0)' "$dashboard" >/dev/null ||
	bad "$dashboard: no title, uid or panels"
for v in datasource instance; do
	jq -e --arg v "$v" '[.templating.list[].name] | index($v)' "$dashboard" >/dev/null ||
		bad "$dashboard: no template variable \$$v"
done
# Every query goes to the chosen data source, not one of the author's.
# shellcheck disable=SC2016 # the literal ${datasource}
while read -r uid; do
	bad "$dashboard: a data source uid '$uid', not \${datasource}"
done < <(jq -r '.. | objects | select(has("datasource") and (.datasource | type == "object"))
	| .datasource.uid' "$dashboard" | grep -vxF '${datasource}' | sort -u)
# Every panel but a row has a query.
while read -r t; do
	bad "$dashboard: panel '$t' has no query"
done < <(jq -r '.panels[] | select(.type != "row" and ((.targets // []) | length) == 0)
	| .title' "$dashboard")

dash_exprs=$(jq -r '(.. | objects | .expr? // empty),
	(.templating.list[] | select(.type == "query") | .query.query // .query)' "$dashboard")
dash_names=$(metric_names <<<"$dash_exprs")
[ -n "$dash_names" ] || bad "$dashboard: no metric name found in its queries"

# ---- the rules: every expr:, on one line or folded over several ----
rule_exprs=$(awk '
	in_expr && match($0, /^ */) && RLENGTH > indent { printf " %s", $0; next }
	in_expr { print ""; in_expr = 0 }
	/^ *expr:/ {
		match($0, /^ */); indent = RLENGTH
		rest = $0; sub(/^ *expr: */, "", rest)
		if (rest ~ /^[|>]/) { in_expr = 1; next }
		print rest
	}
	END { if (in_expr) print "" }' "$rules")
[ "$(grep -c 'expr:' "$rules")" -eq "$(grep -c . <<<"$rule_exprs")" ] ||
	bad "$rules: could not read every expr:"
rule_names=$(metric_names <<<"$rule_exprs")
[ -n "$rule_names" ] || bad "$rules: no metric name found in its expressions"

# ---- compare ----
for n in $dash_names; do
	grep -qxF "$n" <<<"$allowed" || bad "$dashboard uses $n, which vmtimesyncd does not export"
done
for n in $rule_names; do
	grep -qxF "$n" <<<"$allowed" || bad "$rules uses $n, which vmtimesyncd does not export"
done
for f in $families; do
	grep -qxE "${f}(_bucket|_sum|_count)?" <<<"$dash_names" ||
		bad "$dashboard shows nothing of $f"
done

if [ "$fail" -eq 0 ]; then
	echo "check-names: the dashboard and the rules use only exported names" \
		"($(wc -w <<<"$dash_names") in the dashboard, $(wc -w <<<"$rule_names") in the rules)"
fi
exit "$fail"
