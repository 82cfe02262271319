/* vmtimesync-hook: the libvirt hook, installed as
 * /etc/libvirt/hooks/qemu.d/vmtimesync.
 *
 * libvirtd waits for a hook with no timeout, and a non-zero exit aborts the
 * guest's start, restore or migration. So this program never calls libvirt,
 * never prints to stdout (for migrate and restore libvirt would take it as
 * the new domain XML), always exits 0, and returns within a few tens of
 * milliseconds whatever state vmtimesyncd is in:
 *
 *  - on "migrate begin", "restore begin" and "reconnect begin" for a domain
 *    with a guest agent channel, it tells vmtimesyncd over its control
 *    socket that the domain will need a sync;
 *  - when the daemon is not there (or does not answer in time) it leaves a
 *    detached waiter behind (`vmtimesync --hook-waiter`, see vts_waiter.h),
 *    which connects to libvirt only after this process has exited, waits
 *    for the guest to run with its agent connected, syncs it once and logs
 *    to syslog; a process of ours stays beside it to log what it says on
 *    stderr, and whether it could start at all.
 *
 * It links no libvirt: loading libvirt's libraries alone takes longer than
 * a hook may.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "vts_clock.h"
#include "vts_conf.h"
#include "vts_ctl.h"
#include "vts_hook.h"
#include "vts_log.h"
#include "vts_report.h"

/* The budget: libvirtd is blocked while we run. */
#define VTS_HOOK_STDIN_MS 15
#define VTS_HOOK_DAEMON_MS 15
#ifndef VTS_HOOK_CLI
#define VTS_HOOK_CLI "/usr/local/sbin/vmtimesync"
#endif
/* A domain XML is a few KiB; more than this is not one. */
#define VTS_HOOK_MAX_XML (1024 * 1024)
/* The waiter waits at most this long for the hook to have exited. */
#define VTS_HOOK_PARENT_WAIT_MS 5000

/* Read stdin until EOF, at most VTS_HOOK_MAX_XML bytes kept, for at most
 * VTS_HOOK_STDIN_MS. Returns a malloc'd buffer (maybe empty) and its length
 * in @len; sets @complete when EOF was reached within the limits. */
static char *
vts_hook_read_stdin(size_t *len, bool *complete)
{
    int64_t deadline = vts_mono_ms() + VTS_HOOK_STDIN_MS;
    size_t cap = 16384, n = 0;
    char *buf = malloc(cap);
    int flags = fcntl(STDIN_FILENO, F_GETFL);

    *complete = false;
    *len = 0;
    if (!buf)
        return NULL;
    if (flags >= 0)
        fcntl(STDIN_FILENO, F_SETFL, flags | O_NONBLOCK);
    for (;;) {
        struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
        int64_t left = deadline - vts_mono_ms();
        ssize_t r;

        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            break;
        if (n == cap) {
            char *grown;

            if (cap >= VTS_HOOK_MAX_XML)
                break; /* too big to be a domain XML */
            grown = realloc(buf, cap * 2);
            if (!grown)
                break;
            buf = grown;
            cap *= 2;
        }
        r = read(STDIN_FILENO, buf + n, cap - n);
        if (r == 0) {
            *complete = true;
            break;
        }
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            break;
        }
        n += (size_t)r;
    }
    *len = n;
    return buf;
}

/* The detached waiter, in the child: wait for the hook to have returned to
 * libvirtd, then run `vmtimesync --hook-waiter` and relay what it says on
 * stderr to the log. The hook itself does not link libvirt (loading it
 * alone costs tens of ms); the CLI does. Never returns. */
static void
vts_hook_become_waiter(pid_t hook, const vts_conf *conf, const char *domain,
                       const char *reason, const char *name)
{
    int64_t until = vts_mono_ms() + VTS_HOOK_PARENT_WAIT_MS;
    struct rlimit rl;
    vts_hook_waiter_cmd cmd;

    /* Leave the CPU to the hook (and libvirtd) until the hook is gone. */
    setsid();
    if (nice(10) < 0) {
        /* not fatal: we only wait a little less politely */
    }
    while (kill(hook, 0) == 0 && vts_mono_ms() < until) {
        struct timespec ms = {0, 1000000};

        nanosleep(&ms, NULL);
    }
    vts_hook_waiter_cmd_fill(&cmd, conf, VTS_HOOK_CLI, domain, reason);
    vts_log_close();
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        for (rlim_t fd = 3; fd < rl.rlim_cur && fd < 65536; fd++)
            close((int)fd);
    }
    /* Only now, with the hook returned to libvirtd, talk to libvirt; and
     * stay, so that what the waiter says on stderr (ours is /dev/null)
     * and its end reach the log. */
    vts_log_open("vmtimesync-hook", false, VTS_LOG_INFO);
    vts_hook_waiter_supervise(cmd.argv, name);
    _exit(0);
}

/* Leave the waiter behind. Our stdin, stdout and stderr are libvirtd's
 * pipes, which it reads until they close: point them at /dev/null first,
 * so that they close the moment this process exits, however late the
 * waiter gets the CPU. The waiter is nobody's child to wait for once we
 * exit; it is reparented. */
static void
vts_hook_spawn_waiter(const vts_conf *conf, const char *domain, const char *reason,
                      const char *name)
{
    pid_t hook = getpid();
    int devnull = open("/dev/null", O_RDWR);
    pid_t child;

    if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 ||
        dup2(devnull, STDOUT_FILENO) < 0 || dup2(devnull, STDERR_FILENO) < 0) {
        vts_log(VTS_LOG_ERR, "%s: cannot start the waiter: /dev/null: %s", name,
                strerror(errno));
        if (devnull >= 0)
            close(devnull);
        return;
    }
    close(devnull);
    child = fork();
    if (child < 0)
        vts_log(VTS_LOG_ERR, "%s: cannot start the waiter: %s", name, strerror(errno));
    else if (child == 0)
        vts_hook_become_waiter(hook, conf, domain, reason, name);
}

int
main(int argc, char **argv)
{
    vts_hook_decision d;
    vts_conf conf;
    vts_error err;
    char conf_path[4096];
    char name[256];
    char *xml = NULL;
    char *request = NULL;
    char *reply = NULL;
    size_t len = 0;
    bool complete = false;

    signal(SIGPIPE, SIG_IGN);
    vts_log_open("vmtimesync-hook", false, VTS_LOG_INFO);
    vts_conf_init(&conf);

    vts_hook_decide_args(argc, argv, &d);
    if (d.action != VTS_HOOK_ANNOUNCE) {
        if (d.why[0])
            vts_log(VTS_LOG_WARNING, "ignoring a call with bad arguments: %s", d.why);
        goto done;
    }
    vts_report_escape(name, sizeof(name), d.domain);

    xml = vts_hook_read_stdin(&len, &complete);
    if (!complete) {
        vts_log(VTS_LOG_WARNING,
                "%s: %s: the domain XML on stdin did not end in time or is "
                "too large; not syncing",
                name, d.reason);
        goto done;
    }
    vts_hook_decide_xml(xml, len, &d);
    if (d.action != VTS_HOOK_ANNOUNCE) {
        vts_log(VTS_LOG_INFO, "%s: %s: %s", name, d.reason, d.why);
        goto done;
    }

    vts_hook_conf_path(argv[0], conf_path, sizeof(conf_path));
    if (vts_conf_load(&conf, conf_path, true, &err) < 0) {
        vts_log(VTS_LOG_ERR, "%s; using the defaults", err.message);
        vts_conf_init(&conf);
    }
    vts_hook_decide_conf(&conf, &d);
    if (d.action != VTS_HOOK_ANNOUNCE) {
        vts_log(VTS_LOG_INFO, "%s: %s: %s", name, d.reason, d.why);
        goto done;
    }

    request = vts_ctl_format_pending(d.domain, d.reason);
    vts_error_clear(&err);
    if (!request) {
        vts_error_set(&err, VTS_ERR_INTERNAL, "cannot build the request");
    } else if (vts_ctl_call(conf.control_socket, request, VTS_HOOK_DAEMON_MS, &reply,
                            &err) == 0) {
        char answer[128];

        if (strstr(reply, "\"ok\":true")) {
            vts_log(VTS_LOG_DEBUG, "%s: %s: handed to vmtimesyncd", name, d.reason);
            goto done;
        }
        /* Something answered without taking the domain: another version
         * of the daemon, or another program on the socket. */
        vts_report_escape(answer, sizeof(answer), reply);
        vts_error_set(&err, VTS_ERR_CONNECT, "the control socket answered %s", answer);
    }
    vts_log(VTS_LOG_INFO, "%s: %s: %s; a waiter will sync the guest once it runs", name,
            d.reason, err.message);
    vts_hook_spawn_waiter(&conf, d.domain, d.reason, name);

done:
    free(reply);
    free(request);
    free(xml);
    vts_conf_clear(&conf);
    return 0;
}
