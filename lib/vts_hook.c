/* vts_hook.c: what the libvirt hook decides, and its detached waiter. */
#include "vmtimesync/vts_hook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmtimesync/vts_clock.h"
#include "vmtimesync/vts_domxml.h"
#include "vmtimesync/vts_log.h"
#include "vmtimesync/vts_report.h"
#include "vmtimesync/vts_sync.h"

/* The waiter polls this often: it is a short-lived helper, not the daemon. */
#define VTS_HOOK_POLL_NS (100 * VTS_NS_PER_MS)
/* How long the waiter retries connecting while libvirtd starts up. */
#define VTS_HOOK_CONNECT_NS (30 * VTS_NS_PER_SEC)
/* How long a domain may take to show up (an incoming migration defines it
 * at "prepare", right after "migrate begin"). */
#define VTS_HOOK_APPEAR_NS (60 * VTS_NS_PER_SEC)
/* Syncs a waiter makes at most: the first, and re-checks or retries (see
 * vts_hook_again). */
#define VTS_HOOK_SYNC_TRIES 3

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
        vts_hook_ignore(d, argc < 5 ? "too few arguments (want DOMAIN OPERATION SUBOP EXTRA)"
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
    for (size_t i = 0; i < sizeof(vts_hook_announcing) / sizeof(vts_hook_announcing[0]); i++) {
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
        vts_hook_ignore(d, "left out by the include/exclude patterns of the configuration");
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

static void
vts_hook_sleep(int64_t ns)
{
    struct timespec ts = {ns / VTS_NS_PER_SEC, ns % VTS_NS_PER_SEC};

    nanosleep(&ts, NULL);
}

/* Is @domain running with its agent connected? Sets *@seen when the domain
 * exists, *@gone_for_good when waiting cannot help. */
static bool
vts_hook_ready(const vts_hv_ops *ops, vts_hv_conn *conn, const char *domain, bool *seen,
               bool *gone_for_good, vts_error *err)
{
    vts_hv_dom *dom = NULL;
    vts_dom_state state;
    vts_domxml_info info;
    char *xml = NULL;
    bool ready = false;

    if (ops->lookup(conn, domain, &dom, err) < 0) {
        /* Seen, then gone: the migration failed or the guest left. */
        *gone_for_good = *seen || err->code != VTS_ERR_NOT_FOUND;
        goto cleanup;
    }
    *seen = true;
    if (ops->dom_state(dom, &state, err) < 0 || state != VTS_DOM_RUNNING)
        goto cleanup;
    if (ops->dom_xml(dom, &xml, err) < 0 || vts_domxml_scan(xml, strlen(xml), &info, err) < 0)
        goto cleanup;
    if (!info.has_agent_channel) {
        vts_error_set(err, VTS_ERR_NO_AGENT_CHANNEL, "no guest agent channel");
        *gone_for_good = true;
        goto cleanup;
    }
    ready = info.agent_state == VTS_AGENT_STATE_CONNECTED;

cleanup:
    free(xml);
    ops->dom_free(dom);
    return ready;
}

/* Should the waiter sync once more, as vmtimesyncd would re-check or retry
 * (right after a migration or restore the guest and the host are at their
 * busiest, and a step can land off)? A step that left more than the
 * tolerance is re-checked, a failed verify or an agent timeout retried:
 * VTS_HOOK_SYNC_TRIES syncs in all. Sets opts->recheck for a re-check. */
static bool
vts_hook_again(vts_sync_opts *opts, const vts_sync_result *res, int *tries)
{
    bool off = res->action == VTS_ACTION_STEPPED && res->have_residual &&
               llabs(res->residual_ns) > opts->tolerance_ns;
    bool failed = res->action == VTS_ACTION_ERROR && (res->err.code == VTS_ERR_VERIFY_FAILED ||
                                                      res->err.code == VTS_ERR_AGENT_TIMEOUT);

    if ((!off && !failed) || ++*tries >= VTS_HOOK_SYNC_TRIES)
        return false;
    opts->recheck = off;
    return true;
}

int
vts_hook_waiter_run(const vts_hv_ops *ops, const vts_conf *conf, const char *domain,
                    const char *reason)
{
    const char *uri = vts_conf_uri(conf);
    int64_t start = vts_mono_ns();
    vts_hv_conn *conn = NULL;
    vts_sync_opts opts;
    vts_sync_result res;
    vts_error err;
    char name[256], line[1024];
    bool seen = false, gone = false;
    int tries = 0;
    int ret = -1;

    vts_report_escape(name, sizeof(name), domain);
    while (ops->connect(uri, &conn, &err) < 0) {
        if (vts_mono_ns() - start > VTS_HOOK_CONNECT_NS) {
            vts_log(VTS_LOG_ERR, "%s: after %s: %s", name, reason, err.message);
            return -1;
        }
        vts_hook_sleep(500 * VTS_NS_PER_MS);
    }

    vts_sync_opts_init(&opts);
    vts_conf_to_sync_opts(conf, &opts);
    opts.log = vts_log_sync_cb;
    for (;;) {
        int64_t waited = vts_mono_ns() - start;

        vts_error_clear(&err);
        if (vts_hook_ready(ops, conn, domain, &seen, &gone, &err)) {
            vts_sync_domain(ops, conn, domain, &opts, &res);
            /* The agent may drop between our look and the sync: wait on. */
            if (res.action != VTS_ACTION_ERROR ||
                (res.err.code != VTS_ERR_AGENT_NOT_CONNECTED && res.err.code != VTS_ERR_PAUSED)) {
                bool again = vts_hook_again(&opts, &res, &tries);

                vts_report_text(line, sizeof(line), domain, &res);
                vts_log(res.action == VTS_ACTION_ERROR && !again ? VTS_LOG_WARNING
                                                                 : VTS_LOG_INFO,
                        "%s [after %s, by the hook's waiter, %.1f s after the hook]%s", line,
                        reason, (double)(vts_mono_ns() - start) / VTS_NS_PER_SEC,
                        again ? "; checking again in 1 s" : "");
                ret = res.action == VTS_ACTION_ERROR ? -1 : 0;
                if (!again)
                    break;
                vts_hook_sleep(VTS_NS_PER_SEC);
                continue;
            }
        }
        if (gone) {
            vts_log(VTS_LOG_INFO, "%s: not syncing after %s: %s", name, reason,
                    err.message[0] ? err.message : "the domain went away");
            break;
        }
        if ((!seen && waited > VTS_HOOK_APPEAR_NS) || waited > conf->agent_wait_ns) {
            vts_log(VTS_LOG_WARNING,
                    "%s: after %s, the guest %s within %.0f s; giving up (run 'vmtimesync %s' "
                    "once its agent runs)",
                    name, reason, seen ? "agent did not connect" : "did not appear",
                    (double)waited / VTS_NS_PER_SEC, name);
            break;
        }
        vts_hook_sleep(VTS_HOOK_POLL_NS);
    }
    ops->disconnect(conn);
    return ret;
}
