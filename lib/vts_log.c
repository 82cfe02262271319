/* vts_log.c: one log line at a time to syslog or stderr; on stderr that is
 * the journal, with sd-daemon(3)'s priority prefix on every line. Syslog
 * is our own non-blocking datagram socket to /dev/log, not syslog(3),
 * whose blocking send would hold libvirtd (waiting for the hook) or the
 * daemon's event loop while journald does not read. */
#include "vts_log.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "vts_report.h"

static const char *vts_log_ident = "vmtimesync";
static bool vts_log_stderr = true;
static bool vts_log_journal;
static volatile vts_log_level vts_log_max = VTS_LOG_INFO;
/* The syslog socket, connected on first use and again after an error
 * (journald restarted); guarded by vts_log_lock. */
static pthread_mutex_t vts_log_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *vts_log_dev = "/dev/log";
static int vts_log_fd = -1;

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
}

void
vts_log_set_syslog_path(const char *path)
{
    pthread_mutex_lock(&vts_log_lock);
    vts_log_dev = path ? path : "/dev/log";
    if (vts_log_fd >= 0)
        close(vts_log_fd);
    vts_log_fd = -1;
    pthread_mutex_unlock(&vts_log_lock);
}

void
vts_log_close(void)
{
    vts_log_set_syslog_path(vts_log_dev);
}

/* Connect vts_log_fd to vts_log_dev (under vts_log_lock): non-blocking, so
 * that a full queue drops the message instead of waiting for journald. */
static void
vts_log_connect(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    vts_log_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (vts_log_fd < 0)
        return;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", vts_log_dev);
    if (connect(vts_log_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(vts_log_fd);
        vts_log_fd = -1;
    }
}

/* One message to syslog as syslog(3) formats it, facility daemon:
 * "<PRI>Mmm dd hh:mm:ss IDENT[PID]: MSG". Dropped, never waited for, when
 * the receiver does not read; sent again once over a fresh connection
 * when the old one broke (journald restarted). */
static void
vts_log_syslog(int prio, const char *msg)
{
    char buf[1280], stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    int len;

    localtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
    len = snprintf(buf, sizeof(buf), "<%d>%s %s[%ld]: %s", LOG_DAEMON | prio, stamp,
                   vts_log_ident, (long)getpid(), msg);
    if (len < 0)
        return;
    if ((size_t)len >= sizeof(buf))
        len = sizeof(buf) - 1;
    pthread_mutex_lock(&vts_log_lock);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (vts_log_fd < 0)
            vts_log_connect();
        if (vts_log_fd < 0 ||
            send(vts_log_fd, buf, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
            break;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
            break; /* the journal is behind: drop this one */
        close(vts_log_fd);
        vts_log_fd = -1;
    }
    pthread_mutex_unlock(&vts_log_lock);
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
        vts_log_syslog(prio[level], msg);
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
