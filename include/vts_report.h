/* vts_report.h: a sync result as a line for people or a JSON object.
 *
 * The CLI prints these, the daemon logs them and serves them on its control
 * socket: one wording everywhere. Domain names are data, not text to trust:
 * control characters in them are escaped.
 */
#ifndef VTS_REPORT_H
#define VTS_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "vts_clock.h"
#include "vts_sync.h"

/* Copy @in into @buf of @len bytes with control characters and backslashes
 * escaped as \xNN, so that a name cannot forge a log line. Truncates to fit;
 * always NUL-terminates. */
void vts_report_escape(char *buf, size_t len, const char *in);

/* One line without newline, e.g.
 * "web-1: offset -5.003 s -> stepped -> residual +0.20 ms (rtt 2.70 ms)";
 * "stepped via guest-exec" when the guest's date did it. */
void vts_report_text(char *buf, size_t len, const char *domain,
                     const vts_sync_result *res);

/* One JSON object without newline: domain, action, offset_ns, residual_ns,
 * rtt_ns, steps, via ("guest-set-time", "guest-exec", or null when no step
 * was made or tried), error ({code, message} or null). Absent numbers are null.
 * Returns a string the caller frees with free(), or NULL when out of memory. */
char *vts_report_json(const char *domain, const vts_sync_result *res);

#endif /* VTS_REPORT_H */
