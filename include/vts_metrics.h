/* vts_metrics.h: the daemon's counters, in the Prometheus text format.
 *
 * For node_exporter's textfile collector: the file is written whole to a
 * temporary name and renamed over the old one, so a scrape never reads half
 * of it. Thread-safe: workers record, anyone renders.
 */
#ifndef VTS_METRICS_H
#define VTS_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "vts_error.h"
#include "vts_sync.h"

typedef struct vts_metrics vts_metrics;

/* A new, empty set of metrics; NULL when out of memory. Free with
 * vts_metrics_free(), which accepts NULL. */
vts_metrics *vts_metrics_new(void);
void vts_metrics_free(vts_metrics *m);

/* Count one finished sync of @domain: @trigger ("resumed/unpaused",
 * "sweep"...; only the part before '/' is a label), its result, and, when
 * measured, the offset before and the residual after. @when_ns is the
 * host's CLOCK_REALTIME at the end, kept as @domain's last sync unless
 * @domain is NULL (a domain that left meanwhile). */
void vts_metrics_record(vts_metrics *m, const char *domain, const char *trigger,
                        const vts_sync_result *res, int64_t when_ns);

/* Drop @domain's own series (it stopped or left this host): its last sync
 * and its watched offset; the totals keep counting what it did. */
void vts_metrics_forget(vts_metrics *m, const char *domain);

/* The watch measured @domain's offset (guest minus host, signed) at
 * @wall_ns (CLOCK_REALTIME): vmtimesync_guest_offset_seconds and
 * vmtimesync_guest_offset_timestamp_seconds. Both go with
 * vts_metrics_forget. */
void vts_metrics_guest_offset(vts_metrics *m, const char *domain, int64_t offset_ns,
                              int64_t wall_ns);

/* Count one watch measurement by @result (vts_watch_verdict_name: "ok",
 * "fixed", "held", "failed", "skipped"; anything else counts as failed):
 * vmtimesync_watch_measurements_total{result}. */
void vts_metrics_watch_measured(vts_metrics *m, const char *result);

/* Whether the daemon is connected to libvirt (a gauge). */
void vts_metrics_set_connected(vts_metrics *m, bool connected);

/* The whole exposition as a string the caller frees with free(); NULL when
 * out of memory. */
char *vts_metrics_render(vts_metrics *m);

/* Render and write to @path (mode 0644 whatever the umask: node_exporter
 * runs as another user) atomically (PATH.tmp, then rename); callers on
 * any thread take turns, so every rename publishes a whole, newest file. */
int vts_metrics_write(vts_metrics *m, const char *path, vts_error *err);

#endif /* VTS_METRICS_H */
