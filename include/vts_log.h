/* vts_log.h: the daemon's and the hook's log: syslog (journald) or stderr.
 *
 * Thread-safe. Callers escape domain names (vts_report_escape) before they
 * put them in a message: names are data.
 */
#ifndef VTS_LOG_H
#define VTS_LOG_H

#include <stdbool.h>

typedef enum {
    VTS_LOG_ERR,
    VTS_LOG_WARNING,
    VTS_LOG_INFO,
    VTS_LOG_DEBUG,
} vts_log_level;

/* Where the library's diagnostics go (the library never prints): a sync's
 * vts_sync_opts.log, for one. */
typedef void (*vts_log_fn)(void *opaque, vts_log_level level, const char *domain,
                           const char *msg);

/* Log as @ident, to stderr when @to_stderr, else to syslog's daemon
 * facility (our own non-blocking datagram socket to /dev/log: a message
 * the journal has no room for is dropped, never waited for); drop
 * messages less important than @level. Looks once whether
 * stderr is the journal (JOURNAL_STREAM, set by systemd, names fd 2's
 * device and inode): then every line on stderr starts with its priority as
 * sd-daemon(3)'s "<N>", which journald turns into the entry's priority,
 * and no time or name (journald adds both). */
void vts_log_open(const char *ident, bool to_stderr, vts_log_level level);

/* "<3>" to "<7>" for @level when vts_log_open found stderr to be the
 * journal, else "": for a line a program writes to stderr itself (the
 * daemon's start-up error). Static strings. */
const char *vts_log_stderr_prefix(vts_log_level level);

/* Close the syslog socket (before closing every descriptor, in a child
 * that goes on logging: it reconnects on the next message). */
void vts_log_close(void);

/* Syslog's socket: /dev/log, or @path (tests); NULL restores /dev/log. */
void vts_log_set_syslog_path(const char *path);

/* Change the level (on reload). */
void vts_log_set_level(vts_log_level level);

/* Log one line. */
void vts_log(vts_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A vts_log_fn for vts_sync_opts: logs "DOMAIN: msg" with the name escaped. */
void vts_log_sync_cb(void *opaque, vts_log_level level, const char *domain,
                     const char *msg);

/* "err", "warning", "info", "debug". */
const char *vts_log_level_name(vts_log_level level);

#endif /* VTS_LOG_H */
