/* vts_hook.c: what the libvirt hook decides for each call libvirtd makes,
 * and how it starts and watches the detached waiter (vts_waiter.c). */
#include "vts_hook.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vts_domxml.h"
#include "vts_log.h"
#include "vts_report.h"

static const struct {
    const char *op;
    const char *subop;
} vts_hook_announcing[] = {
    {"migrate", "begin"},
    {"restore", "begin"},
    {"reconnect", "begin"},
};

static void
vts_hook_ignore(vts_hook_decision *d, const char *why)
{
    d->action = VTS_HOOK_IGNORE;
    d->needs_xml = false;
    snprintf(d->why, sizeof(d->why), "%s", why);
}

void
vts_hook_decide_args(int argc, char *const *argv, vts_hook_decision *d)
{
    memset(d, 0, sizeof(*d));
    if (argc != 5) {
        vts_hook_ignore(
            d, argc < 5 ? "too few arguments (want DOMAIN OPERATION SUBOP EXTRA)"
                        : "too many arguments (want DOMAIN OPERATION SUBOP EXTRA)");
        return;
    }
    if (!argv[1][0]) {
        vts_hook_ignore(d, "empty domain name");
        return;
    }
    if (strlen(argv[1]) >= VTS_CTL_DOMAIN_MAX) {
        vts_hook_ignore(d, "domain name too long");
        return;
    }
    d->domain = argv[1];
    for (size_t i = 0; i < sizeof(vts_hook_announcing) / sizeof(vts_hook_announcing[0]);
         i++) {
        if (strcmp(argv[2], vts_hook_announcing[i].op) == 0 &&
            strcmp(argv[3], vts_hook_announcing[i].subop) == 0) {
            d->action = VTS_HOOK_ANNOUNCE;
            d->needs_xml = true;
            snprintf(d->reason, sizeof(d->reason), "%s", vts_hook_announcing[i].op);
            return;
        }
    }
    /* Every other operation (prepare, start, started, stopped, release...)
     * is normal and needs nothing: no log line for them. */
    vts_hook_ignore(d, "");
}

void
vts_hook_decide_xml(const char *xml, size_t len, vts_hook_decision *d)
{
    vts_domxml_info info;
    vts_error err;

    if (d->action != VTS_HOOK_ANNOUNCE)
        return;
    d->needs_xml = false;
    if (vts_domxml_scan(xml, len, &info, &err) < 0) {
        char why[sizeof(d->why)];

        snprintf(why, sizeof(why), "unreadable domain XML on stdin: %.100s", err.message);
        vts_hook_ignore(d, why);
        return;
    }
    if (!info.has_agent_channel)
        vts_hook_ignore(d, "no guest agent channel: nothing to sync");
    else if (info.opted_out)
        vts_hook_ignore(d, "opted out in its metadata");
}

void
vts_hook_decide_conf(const vts_conf *conf, vts_hook_decision *d)
{
    if (d->action == VTS_HOOK_ANNOUNCE && !vts_conf_domain_wanted(conf, d->domain))
        vts_hook_ignore(d,
                        "left out by the include/exclude patterns of the configuration");
}

void
vts_hook_conf_path(const char *argv0, char *buf, size_t len)
{
    char dir[4096];
    char *slash;

    snprintf(buf, len, "%s", VTS_CONF_DEFAULT_PATH);
    if (!argv0 || argv0[0] != '/' || strlen(argv0) >= sizeof(dir))
        return;
    memcpy(dir, argv0, strlen(argv0) + 1);
    /* .../hooks/qemu.d/vmtimesync -> .../hooks */
    for (int i = 0; i < 2; i++) {
        slash = strrchr(dir, '/');
        if (!slash || slash == dir)
            return;
        *slash = '\0';
    }
    if (strlen(dir) + sizeof("/vmtimesync.conf") > len)
        return;
    {
        char candidate[4096 + 32];

        snprintf(candidate, sizeof(candidate), "%s/vmtimesync.conf", dir);
        if (access(candidate, R_OK) == 0)
            snprintf(buf, len, "%s", candidate);
    }
}

void
vts_hook_waiter_cmd_fill(vts_hook_waiter_cmd *cmd, const vts_conf *conf, const char *cli,
                         const char *domain, const char *reason)
{
    int n = 0;

    cmd->argv[n++] = (char *)cli;
    cmd->argv[n++] = (char *)"--hook-waiter";
    cmd->argv[n++] = (char *)reason;
    cmd->argv[n++] = (char *)"--connect";
    cmd->argv[n++] = (char *)vts_conf_uri(conf);
    for (int k = 0; k < VTS_CONF__NUMBERS; k++) {
        const vts_conf_bounds *b = vts_conf_bounds_of((vts_conf_number)k);

        if (!b->option)
            continue;
        vts_conf_format_arg((vts_conf_number)k,
                            vts_conf_number_get(conf, (vts_conf_number)k), cmd->values[k],
                            sizeof(cmd->values[k]));
        cmd->argv[n++] = (char *)b->option;
        cmd->argv[n++] = cmd->values[k];
    }
    if (conf->allow_unsynced_host)
        cmd->argv[n++] = (char *)"--allow-unsynced-host";
    if (conf->set_time_fallback == VTS_FALLBACK_GUEST_EXEC)
        cmd->argv[n++] = (char *)"--set-time-fallback=guest-exec";
    cmd->argv[n++] = (char *)"--";
    cmd->argv[n++] = (char *)domain;
    cmd->argv[n] = NULL;
}

/* One line the waiter wrote on stderr, into the log. */
static void
vts_hook_relay_line(const char *name, const char *line)
{
    char esc[512];

    vts_report_escape(esc, sizeof(esc), line);
    vts_log(VTS_LOG_WARNING, "%s: waiter: %s", name, esc);
}

int
vts_hook_waiter_supervise(char *const *argv, const char *name)
{
    char buf[1024];
    size_t len = 0;
    int pfd[2];
    int status = 0;
    pid_t child;

    if (pipe2(pfd, O_CLOEXEC) < 0) {
        vts_log(VTS_LOG_ERR, "%s: cannot start the hook's waiter: pipe: %s; not synced",
                name, strerror(errno));
        return -1;
    }
    child = fork();
    if (child < 0) {
        vts_log(VTS_LOG_ERR, "%s: cannot start the hook's waiter: %s; not synced", name,
                strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (child == 0) {
        dup2(pfd[1], STDERR_FILENO);
        execv(argv[0], argv);
        dprintf(STDERR_FILENO, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    for (;;) {
        ssize_t r = read(pfd[0], buf + len, sizeof(buf) - 1 - len);
        char *nl;

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
        while ((nl = strchr(buf, '\n')) != NULL) {
            *nl = '\0';
            vts_hook_relay_line(name, buf);
            len -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, len + 1);
        }
        if (len == sizeof(buf) - 1) { /* a very long line: in pieces */
            vts_hook_relay_line(name, buf);
            len = 0;
        }
    }
    if (len > 0) {
        buf[len] = '\0';
        vts_hook_relay_line(name, buf);
    }
    close(pfd[0]);
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    if (WIFSIGNALED(status)) {
        vts_log(VTS_LOG_ERR, "%s: the hook's waiter died of signal %d; not synced", name,
                WTERMSIG(status));
        return 128 + WTERMSIG(status);
    }
    /* 2: usage; 126, 127: not run. 1 and 3 the waiter logged itself. */
    if (WEXITSTATUS(status) == 2 || WEXITSTATUS(status) >= 126)
        vts_log(VTS_LOG_ERR,
                "%s: the hook's waiter could not start (%s exited %d); not synced (see "
                "above; run 'vmtimesync %s' by hand)",
                name, argv[0], WEXITSTATUS(status), name);
    return WEXITSTATUS(status);
}
