/* vts_log.c: one log line at a time to syslog or stderr. */
#include "vmtimesync/vts_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "vmtimesync/vts_report.h"

static const char *vts_log_ident = "vmtimesync";
static bool vts_log_stderr = true;
static volatile vts_log_level vts_log_max = VTS_LOG_INFO;

void
vts_log_open(const char *ident, bool to_stderr, vts_log_level level)
{
    vts_log_ident = ident;
    vts_log_stderr = to_stderr;
    vts_log_max = level;
    if (!to_stderr)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
vts_log_set_level(vts_log_level level)
{
    vts_log_max = level;
}

const char *
vts_log_level_name(vts_log_level level)
{
    switch (level) {
    case VTS_LOG_ERR:
        return "err";
    case VTS_LOG_WARNING:
        return "warning";
    case VTS_LOG_INFO:
        return "info";
    case VTS_LOG_DEBUG:
        return "debug";
    }
    return "info";
}

void
vts_log(vts_log_level level, const char *fmt, ...)
{
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    char msg[1024];
    va_list ap;

    if (level > vts_log_max)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (vts_log_stderr) {
        struct timespec ts;
        struct tm tm;
        char stamp[32];

        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
        /* One fprintf per line: stdio locks the stream, lines do not mix. */
        fprintf(stderr, "%s.%03ld %s[%s]: %s\n", stamp, ts.tv_nsec / 1000000, vts_log_ident,
                vts_log_level_name(level), msg);
    } else {
        syslog(prio[level], "%s", msg);
    }
}

void
vts_log_sync_cb(void *opaque, vts_log_level level, const char *domain, const char *msg)
{
    char name[256];

    (void)opaque;
    vts_report_escape(name, sizeof(name), domain);
    vts_log(level, "%s: %s", name, msg);
}
