/* vts_log.c: one log line at a time to syslog or stderr; on stderr that is
 * the journal, with sd-daemon(3)'s priority prefix on every line. */
#include "vmtimesync/vts_log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "vmtimesync/vts_report.h"

static const char *vts_log_ident = "vmtimesync";
static bool vts_log_stderr = true;
static bool vts_log_journal;
static volatile vts_log_level vts_log_max = VTS_LOG_INFO;

/* Whether fd 2 is the stream systemd connected to the journal: systemd
 * exports its device and inode as JOURNAL_STREAM=DEV:INO (decimal). A
 * child that inherited the variable but not the stream sees another file. */
static bool
vts_log_stderr_is_journal(void)
{
    const char *env = getenv("JOURNAL_STREAM");
    uintmax_t dev;
    uintmax_t ino;
    char end;
    struct stat st;

    if (!env || sscanf(env, "%ju:%ju%c", &dev, &ino, &end) != 2)
        return false;
    if (fstat(STDERR_FILENO, &st) < 0)
        return false;
    return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

void
vts_log_open(const char *ident, bool to_stderr, vts_log_level level)
{
    vts_log_ident = ident;
    vts_log_stderr = to_stderr;
    vts_log_max = level;
    vts_log_journal = vts_log_stderr_is_journal();
    if (!to_stderr)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

const char *
vts_log_stderr_prefix(vts_log_level level)
{
    /* sd-daemon(3)'s SD_ERR, SD_WARNING, SD_INFO, SD_DEBUG. */
    static const char *const prefix[] = {"<3>", "<4>", "<6>", "<7>"};

    return vts_log_journal ? prefix[level] : "";
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
        const char *prefix = vts_log_stderr_prefix(level);
        const char *line = msg;
        size_t len = strcspn(line, "\n");
        struct timespec ts;
        struct tm tm;
        char stamp[32];

        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
        /* One fprintf per line, the stream held for the whole message: lines
         * do not mix. journald reads a priority prefix per line, so the
         * further lines of a message (an agent's or libvirt's error text)
         * repeat it. */
        flockfile(stderr);
        /* journald stamps every entry with the time and "ident[pid]"
         * itself: there, the priority prefix and the message only. */
        if (vts_log_journal)
            fprintf(stderr, "%s%.*s\n", prefix, (int)len, line);
        else
            fprintf(stderr, "%s.%03ld %s[%s]: %.*s\n", stamp, ts.tv_nsec / 1000000,
                    vts_log_ident, vts_log_level_name(level), (int)len, line);
        for (line += len; *line; line += len) {
            line++; /* the newline */
            len = strcspn(line, "\n");
            fprintf(stderr, "%s%.*s\n", prefix, (int)len, line);
        }
        funlockfile(stderr);
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
