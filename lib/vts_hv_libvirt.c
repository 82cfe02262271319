/* vts_hv_libvirt.c: the hypervisor seam over libvirt and libvirt-qemu.
 *
 * The only file of vmtimesync that includes libvirt's headers.
 */
#define VTS_HV_LIBVIRT_ALLOW_PRIV
#include "vts_hv_libvirt_priv.h"

#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/timex.h>
#include <string.h>
#include <time.h>

#include "vts_clock.h"
#include "vts_domxml.h"
#include "vts_hv.h"

/* The domain events we listen to. */
enum {
    VTS_CB_LIFECYCLE,
    VTS_CB_AGENT,
    VTS_CB_JOB,
    VTS_CB_PMWAKEUP,
    VTS_CB_COUNT,
};

struct vts_hv_conn {
    virConnectPtr conn;
    int callback_ids[VTS_CB_COUNT];
    bool close_registered;
    vts_hv_event_fn event_fn;
    vts_hv_close_fn close_fn;
    void *opaque;
};

struct vts_hv_dom {
    virDomainPtr dom;
};

vts_err_code
vts_hv_libvirt_map_error(int vir_code, int vir_domain, const char *message)
{
    const char *msg = message ? message : "";

    switch (vir_code) {
    case VIR_ERR_NO_DOMAIN:
        return VTS_ERR_NOT_FOUND;
    case VIR_ERR_OPERATION_INVALID:
        /* "domain is not running" (paused or shut off: the caller looks) */
        return VTS_ERR_NOT_RUNNING;
    case VIR_ERR_ARGUMENT_UNSUPPORTED:
        if (strstr(msg, "not configured"))
            return VTS_ERR_NO_AGENT_CHANNEL;
        return VTS_ERR_AGENT_ERROR;
    case VIR_ERR_AGENT_UNRESPONSIVE:
        /* "not connected", "disappeared", "not available due to an error"
         * are about the channel; "not available for now" is a timeout. */
        if (strstr(msg, "not connected") || strstr(msg, "disappeared") ||
            strstr(msg, "due to an error"))
            return VTS_ERR_AGENT_NOT_CONNECTED;
        return VTS_ERR_AGENT_TIMEOUT;
    case VIR_ERR_OPERATION_TIMEOUT:
        /* Another agent job (a hung command) holds the domain's agent. */
        return VTS_ERR_AGENT_TIMEOUT;
    case VIR_ERR_AGENT_UNSYNCED:
        /* The agent answered guest-sync with a stale id: a confused agent. */
        return VTS_ERR_AGENT_TIMEOUT;
    case VIR_ERR_INTERNAL_ERROR:
        if (strstr(msg, "QEMU agent command") || strstr(msg, "agent reply"))
            return VTS_ERR_AGENT_ERROR;
        break;
    case VIR_ERR_NO_CONNECT:
    case VIR_ERR_AUTH_FAILED:
    case VIR_ERR_AUTH_CANCELLED:
    case VIR_ERR_AUTH_UNAVAILABLE:
    case VIR_ERR_RPC:
    case VIR_ERR_INVALID_CONN:
        return VTS_ERR_CONNECT;
    default:
        break;
    }
    if (vir_domain == VIR_FROM_RPC || vir_domain == VIR_FROM_REMOTE)
        return VTS_ERR_CONNECT;
    return VTS_ERR_INTERNAL;
}

vts_err_code
vts_hv_libvirt_map_agent_error(int vir_code, int vir_domain, const char *message,
                               const vts_domxml_info *info, int64_t elapsed_ns,
                               int timeout_s)
{
    /* libvirt waits for the agent at most this long (guest-sync waits up to
     * 5 s, the command up to @timeout_s): a failure well before that was
     * not a wait that ran out. */
    int64_t wait_s = timeout_s < 5 ? timeout_s : 5;

    switch (vir_code) {
    case VIR_ERR_ARGUMENT_UNSUPPORTED:
        /* With flags 0, virDomainQemuAgentCommand raises this code only
         * for "QEMU guest agent is not configured". */
        if (info)
            return info->has_agent_channel ? VTS_ERR_AGENT_ERROR
                                           : VTS_ERR_NO_AGENT_CHANNEL;
        break;
    case VIR_ERR_AGENT_UNRESPONSIVE:
        /* One code for "not connected", "not available due to an error",
         * "disappeared while executing command" and "not available for
         * now" (a timeout), each in libvirtd's language: tell them apart
         * by the channel's state and by how long libvirt took. */
        if (info && info->agent_state == VTS_AGENT_STATE_DISCONNECTED)
            return VTS_ERR_AGENT_NOT_CONNECTED;
        if (elapsed_ns >= 0 && elapsed_ns < wait_s * VTS_NS_PER_SEC / 2)
            return VTS_ERR_AGENT_NOT_CONNECTED;
        if (info && info->agent_state == VTS_AGENT_STATE_CONNECTED)
            return VTS_ERR_AGENT_TIMEOUT;
        break;
    case VIR_ERR_INTERNAL_ERROR:
        /* The agent's error reply, or a reply libvirt could not use. */
        if (vir_domain == VIR_FROM_QEMU)
            return VTS_ERR_AGENT_ERROR;
        break;
    default:
        break;
    }
    return vts_hv_libvirt_map_error(vir_code, vir_domain, message);
}

/* Fill @err from libvirt's last error of this thread. */
static int
vts_hv_libvirt_error(vts_error *err, const char *what)
{
    virErrorPtr e = virGetLastError();

    if (!e)
        return vts_error_set(err, VTS_ERR_INTERNAL, "%s failed", what);
    return vts_error_set(err, vts_hv_libvirt_map_error(e->code, e->domain, e->message),
                         "%s", e->message ? e->message : what);
}

/* libvirt prints every error to stderr unless told otherwise; we report
 * errors ourselves. */
static void
vts_hv_libvirt_quiet(void *opaque, virErrorPtr error)
{
    (void)opaque;
    (void)error;
}

/* Set once libvirt's event loop is registered (the daemon), so that every
 * connection opened afterwards gets keepalive: a libvirtd that stops
 * answering then fails the calls in flight instead of hanging them. */
static bool vts_hv_libvirt_loop_ready;

static int
vts_hv_libvirt_connect(const char *uri, vts_hv_conn **out, vts_error *err)
{
    vts_hv_conn *c = NULL;
    virErrorPtr e;

    *out = NULL;
    virSetErrorFunc(NULL, vts_hv_libvirt_quiet);
    if (virInitialize() < 0)
        return vts_error_set(err, VTS_ERR_INTERNAL, "cannot initialise libvirt");
    c = calloc(1, sizeof(*c));
    if (!c)
        return vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
    for (int i = 0; i < VTS_CB_COUNT; i++)
        c->callback_ids[i] = -1;
    c->conn = virConnectOpen(uri);
    if (!c->conn) {
        e = virGetLastError();
        free(c);
        return vts_error_set(
            err, VTS_ERR_CONNECT,
            "cannot connect to libvirt at %s (%s): is libvirtd or virtqemud "
            "running, and may this user manage it (root, or group libvirt)?",
            uri, e && e->message ? e->message : "unknown error");
    }
    /* Probe every 5 s; 3 unanswered probes close the connection. */
    if (vts_hv_libvirt_loop_ready && virConnectSetKeepAlive(c->conn, 5, 3) < 0) {
        vts_hv_libvirt_error(err, "enabling keepalive");
        virConnectClose(c->conn);
        free(c);
        return -1;
    }
    *out = c;
    return 0;
}

static void vts_hv_libvirt_close_cb(virConnectPtr conn, int reason, void *opaque);

static void
vts_hv_libvirt_disconnect(vts_hv_conn *c)
{
    if (!c)
        return;
    for (int i = 0; i < VTS_CB_COUNT; i++) {
        if (c->callback_ids[i] >= 0)
            virConnectDomainEventDeregisterAny(c->conn, c->callback_ids[i]);
    }
    if (c->close_registered)
        virConnectUnregisterCloseCallback(c->conn, vts_hv_libvirt_close_cb);
    if (c->conn)
        virConnectClose(c->conn);
    free(c);
}

static int
vts_hv_libvirt_list_running(vts_hv_conn *c, char ***names, size_t *count, vts_error *err)
{
    virDomainPtr *doms = NULL;
    char **out = NULL;
    size_t kept = 0;
    int n, i;
    int ret = -1;

    *names = NULL;
    *count = 0;
    n = virConnectListAllDomains(c->conn, &doms, VIR_CONNECT_LIST_DOMAINS_RUNNING);
    if (n < 0)
        return vts_hv_libvirt_error(err, "listing the running domains");
    out = calloc((size_t)n + 1, sizeof(*out));
    if (!out) {
        vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < n; i++) {
        const char *name = virDomainGetName(doms[i]);

        if (!name)
            continue;
        out[kept] = strdup(name);
        if (!out[kept]) {
            vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
            goto cleanup;
        }
        kept++;
    }
    *names = out;
    *count = kept;
    out = NULL;
    ret = 0;

cleanup:
    vts_hv_names_free(out, kept);
    for (i = 0; i < n; i++)
        virDomainFree(doms[i]);
    free(doms);
    return ret;
}

static int
vts_hv_libvirt_lookup(vts_hv_conn *c, const char *name, vts_hv_dom **out, vts_error *err)
{
    vts_hv_dom *d;

    *out = NULL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
    d->dom = virDomainLookupByName(c->conn, name);
    if (!d->dom) {
        free(d);
        return vts_hv_libvirt_error(err, "looking up the domain");
    }
    *out = d;
    return 0;
}

static void
vts_hv_libvirt_dom_free(vts_hv_dom *d)
{
    if (!d)
        return;
    if (d->dom)
        virDomainFree(d->dom);
    free(d);
}

static int
vts_hv_libvirt_dom_state(vts_hv_dom *d, vts_dom_state *state, vts_error *err)
{
    int st, reason;

    if (virDomainGetState(d->dom, &st, &reason, 0) < 0)
        return vts_hv_libvirt_error(err, "reading the domain's state");
    switch (st) {
    case VIR_DOMAIN_RUNNING:
        *state = VTS_DOM_RUNNING;
        break;
    case VIR_DOMAIN_PAUSED:
        *state = VTS_DOM_PAUSED;
        break;
    default:
        *state = VTS_DOM_OTHER;
        break;
    }
    return 0;
}

static int
vts_hv_libvirt_dom_xml(vts_hv_dom *d, char **xml, vts_error *err)
{
    *xml = virDomainGetXMLDesc(d->dom, 0);
    if (!*xml)
        return vts_hv_libvirt_error(err, "reading the domain XML");
    return 0;
}

/* Fill @err from the agent command's error, classified by its code, the
 * agent channel's state in the live XML and the @elapsed_ns it took, never
 * by its text: libvirtd translates its messages (libvirt-l10n). */
static int
vts_hv_libvirt_agent_error(vts_hv_dom *d, int timeout_s, int64_t elapsed_ns,
                           vts_error *err)
{
    virErrorPtr e = virSaveLastError();
    vts_domxml_info info;
    vts_error xerr;
    char *xml = NULL;
    bool have_info = false;
    vts_err_code code;

    if (!e)
        return vts_error_set(err, VTS_ERR_INTERNAL, "the guest agent command failed");
    if (e->code == VIR_ERR_AGENT_UNRESPONSIVE ||
        e->code == VIR_ERR_ARGUMENT_UNSUPPORTED) {
        xml = virDomainGetXMLDesc(d->dom, 0);
        have_info = xml && vts_domxml_scan(xml, strlen(xml), &info, &xerr) == 0;
        free(xml);
    }
    code = vts_hv_libvirt_map_agent_error(
        e->code, e->domain, e->message, have_info ? &info : NULL, elapsed_ns, timeout_s);
    vts_error_set(err, code, "%s",
                  e->message ? e->message : "the guest agent command failed");
    virFreeError(e);
    return -1;
}

static int
vts_hv_libvirt_agent_command(vts_hv_dom *d, const char *cmd, int timeout_s, char **reply,
                             vts_error *err)
{
    int64_t start;

    /* Zero would mean "do not wait" to libvirt; we always wait a bit. */
    if (timeout_s < 1)
        timeout_s = 1;
    start = vts_mono_ns();
    *reply = virDomainQemuAgentCommand(d->dom, cmd, timeout_s, 0);
    if (!*reply)
        return vts_hv_libvirt_agent_error(d, timeout_s, vts_mono_ns() - start, err);
    return 0;
}

static int
vts_hv_libvirt_host_clock(bool *synced, int64_t *maxerror_ns, vts_error *err)
{
    struct timex tx;
    int state;

    memset(&tx, 0, sizeof(tx));
    state = adjtimex(&tx);
    if (state < 0)
        return vts_error_set(err, VTS_ERR_INTERNAL, "adjtimex: %s", strerror(errno));
    *synced = state != TIME_ERROR && !(tx.status & STA_UNSYNC);
    *maxerror_ns = (int64_t)tx.maxerror * 1000; /* microseconds */
    return 0;
}

static int
vts_hv_libvirt_rtc_reset_reinjection(vts_hv_dom *d, vts_error *err)
{
    char *reply = NULL;

    if (virDomainQemuMonitorCommand(d->dom, "{\"execute\":\"rtc-reset-reinjection\"}",
                                    &reply, 0) < 0)
        return vts_hv_libvirt_error(err, "rtc-reset-reinjection");
    free(reply);
    return 0;
}

static int64_t
vts_hv_libvirt_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * VTS_NS_PER_SEC + ts.tv_nsec;
}

static int
vts_hv_libvirt_loop_init(vts_error *err)
{
    virSetErrorFunc(NULL, vts_hv_libvirt_quiet);
    if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0)
        return vts_error_set(err, VTS_ERR_INTERNAL, "cannot start libvirt's event loop");
    vts_hv_libvirt_loop_ready = true;
    return 0;
}

static int
vts_hv_libvirt_loop_run_once(vts_error *err)
{
    if (virEventRunDefaultImpl() < 0)
        return vts_hv_libvirt_error(err, "running the event loop");
    return 0;
}

/* vts_hv_handle_fn and virEventHandleCallback differ only in their types:
 * keep the caller's function and opaque in a small record. */
typedef struct {
    vts_hv_handle_fn fn;
    void *opaque;
} vts_hv_libvirt_watch;

static void
vts_hv_libvirt_handle_cb(int watch, int fd, int events, void *opaque)
{
    vts_hv_libvirt_watch *w = opaque;

    w->fn(watch, fd, events, w->opaque);
}

static int
vts_hv_libvirt_loop_add_handle(int fd, int events, vts_hv_handle_fn fn, void *opaque)
{
    vts_hv_libvirt_watch *w = malloc(sizeof(*w));
    int id;

    if (!w)
        return -1;
    w->fn = fn;
    w->opaque = opaque;
    id = virEventAddHandle(fd, events, vts_hv_libvirt_handle_cb, w, free);
    if (id < 0)
        free(w);
    return id;
}

static void
vts_hv_libvirt_loop_remove_handle(int watch)
{
    virEventRemoveHandle(watch);
}

typedef struct {
    vts_hv_timer_fn fn;
    void *opaque;
} vts_hv_libvirt_timer;

static void
vts_hv_libvirt_timer_cb(int timer, void *opaque)
{
    vts_hv_libvirt_timer *t = opaque;

    t->fn(timer, t->opaque);
}

static int
vts_hv_libvirt_loop_add_timer(int ms, vts_hv_timer_fn fn, void *opaque)
{
    vts_hv_libvirt_timer *t = malloc(sizeof(*t));
    int id;

    if (!t)
        return -1;
    t->fn = fn;
    t->opaque = opaque;
    id = virEventAddTimeout(ms, vts_hv_libvirt_timer_cb, t, free);
    if (id < 0)
        free(t);
    return id;
}

static void
vts_hv_libvirt_loop_update_timer(int timer, int ms)
{
    virEventUpdateTimeout(timer, ms);
}

static void
vts_hv_libvirt_loop_remove_timer(int timer)
{
    virEventRemoveTimeout(timer);
}

static vts_ev_detail
vts_hv_libvirt_detail(int event, int detail)
{
    switch (event) {
    case VIR_DOMAIN_EVENT_STARTED:
        switch (detail) {
        case VIR_DOMAIN_EVENT_STARTED_BOOTED:
            return VTS_EVD_BOOTED;
        case VIR_DOMAIN_EVENT_STARTED_MIGRATED:
            return VTS_EVD_MIGRATED;
        case VIR_DOMAIN_EVENT_STARTED_RESTORED:
            return VTS_EVD_RESTORED;
        case VIR_DOMAIN_EVENT_STARTED_FROM_SNAPSHOT:
            return VTS_EVD_FROM_SNAPSHOT;
        case VIR_DOMAIN_EVENT_STARTED_WAKEUP:
            return VTS_EVD_WAKEUP;
        }
        break;
    case VIR_DOMAIN_EVENT_SUSPENDED:
        switch (detail) {
        case VIR_DOMAIN_EVENT_SUSPENDED_PAUSED:
            return VTS_EVD_PAUSED;
        case VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED:
            return VTS_EVD_MIGRATED;
        case VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY:
            return VTS_EVD_POSTCOPY;
        case VIR_DOMAIN_EVENT_SUSPENDED_IOERROR:
            return VTS_EVD_IOERROR;
        }
        break;
    case VIR_DOMAIN_EVENT_RESUMED:
        switch (detail) {
        case VIR_DOMAIN_EVENT_RESUMED_UNPAUSED:
            return VTS_EVD_UNPAUSED;
        case VIR_DOMAIN_EVENT_RESUMED_MIGRATED:
            return VTS_EVD_MIGRATED;
        case VIR_DOMAIN_EVENT_RESUMED_FROM_SNAPSHOT:
            return VTS_EVD_FROM_SNAPSHOT;
        case VIR_DOMAIN_EVENT_RESUMED_POSTCOPY:
            return VTS_EVD_POSTCOPY;
        }
        break;
    case VIR_DOMAIN_EVENT_STOPPED:
        switch (detail) {
        case VIR_DOMAIN_EVENT_STOPPED_MIGRATED:
            return VTS_EVD_MIGRATED;
        case VIR_DOMAIN_EVENT_STOPPED_SAVED:
            return VTS_EVD_SAVED;
        }
        break;
    }
    return VTS_EVD_OTHER;
}

static int
vts_hv_libvirt_lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int event, int detail,
                            void *opaque)
{
    vts_hv_conn *c = opaque;
    vts_hv_event ev = {.domain = virDomainGetName(dom), .downtime_ms = -1};

    (void)conn;
    switch (event) {
    case VIR_DOMAIN_EVENT_STARTED:
        ev.kind = VTS_EV_STARTED;
        break;
    case VIR_DOMAIN_EVENT_SUSPENDED:
        ev.kind = VTS_EV_SUSPENDED;
        break;
    case VIR_DOMAIN_EVENT_RESUMED:
        ev.kind = VTS_EV_RESUMED;
        break;
    case VIR_DOMAIN_EVENT_STOPPED:
        ev.kind = VTS_EV_STOPPED;
        break;
    default:
        return 0;
    }
    ev.detail = vts_hv_libvirt_detail(event, detail);
    if (ev.domain)
        c->event_fn(&ev, c->opaque);
    return 0;
}

static void
vts_hv_libvirt_agent_cb(virConnectPtr conn, virDomainPtr dom, int state, int reason,
                        void *opaque)
{
    vts_hv_conn *c = opaque;
    vts_hv_event ev = {.domain = virDomainGetName(dom), .downtime_ms = -1};

    (void)conn;
    (void)reason;
    if (state == VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_CONNECTED)
        ev.kind = VTS_EV_AGENT_CONNECTED;
    else
        ev.kind = VTS_EV_AGENT_DISCONNECTED;
    if (ev.domain)
        c->event_fn(&ev, c->opaque);
}

static void
vts_hv_libvirt_job_cb(virConnectPtr conn, virDomainPtr dom, virTypedParameterPtr params,
                      int nparams, void *opaque)
{
    vts_hv_conn *c = opaque;
    vts_hv_event ev = {
        .kind = VTS_EV_JOB_COMPLETED, .domain = virDomainGetName(dom), .downtime_ms = -1};
    unsigned long long downtime = 0;
    int op = VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT;

    (void)conn;
    /* A save (virsh save, managedsave) completes with a downtime too: it
     * is not a migration's. Without the operation, assume a migration. */
    if (virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_OPERATION, &op) != 1)
        op = VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT;
    if ((op == VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT ||
         op == VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN) &&
        virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DOWNTIME, &downtime) == 1)
        ev.downtime_ms = (int64_t)downtime;
    if (ev.domain)
        c->event_fn(&ev, c->opaque);
}

static void
vts_hv_libvirt_pmwakeup_cb(virConnectPtr conn, virDomainPtr dom, int reason, void *opaque)
{
    vts_hv_conn *c = opaque;
    vts_hv_event ev = {.kind = VTS_EV_PMWAKEUP,
                       .detail = VTS_EVD_WAKEUP,
                       .domain = virDomainGetName(dom),
                       .downtime_ms = -1};

    (void)conn;
    (void)reason;
    if (ev.domain)
        c->event_fn(&ev, c->opaque);
}

static void
vts_hv_libvirt_close_cb(virConnectPtr conn, int reason, void *opaque)
{
    vts_hv_conn *c = opaque;

    (void)conn;
    (void)reason;
    c->close_fn(c->opaque);
}

static int
vts_hv_libvirt_events_register(vts_hv_conn *c, vts_hv_event_fn fn,
                               vts_hv_close_fn close_fn, void *opaque, vts_error *err)
{
    static const int ids[VTS_CB_COUNT] = {
        [VTS_CB_LIFECYCLE] = VIR_DOMAIN_EVENT_ID_LIFECYCLE,
        [VTS_CB_AGENT] = VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE,
        [VTS_CB_JOB] = VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
        [VTS_CB_PMWAKEUP] = VIR_DOMAIN_EVENT_ID_PMWAKEUP,
    };
    const virConnectDomainEventGenericCallback cbs[VTS_CB_COUNT] = {
        [VTS_CB_LIFECYCLE] = VIR_DOMAIN_EVENT_CALLBACK(vts_hv_libvirt_lifecycle_cb),
        [VTS_CB_AGENT] = VIR_DOMAIN_EVENT_CALLBACK(vts_hv_libvirt_agent_cb),
        [VTS_CB_JOB] = VIR_DOMAIN_EVENT_CALLBACK(vts_hv_libvirt_job_cb),
        [VTS_CB_PMWAKEUP] = VIR_DOMAIN_EVENT_CALLBACK(vts_hv_libvirt_pmwakeup_cb),
    };

    c->event_fn = fn;
    c->close_fn = close_fn;
    c->opaque = opaque;
    for (int i = 0; i < VTS_CB_COUNT; i++) {
        c->callback_ids[i] =
            virConnectDomainEventRegisterAny(c->conn, NULL, ids[i], cbs[i], c, NULL);
        if (c->callback_ids[i] < 0)
            return vts_hv_libvirt_error(err, "registering for domain events");
    }
    if (virConnectRegisterCloseCallback(c->conn, vts_hv_libvirt_close_cb, c, NULL) < 0)
        return vts_hv_libvirt_error(err, "registering for the connection's close");
    c->close_registered = true;
    return 0;
}

const vts_hv_ops vts_hv_libvirt_ops = {
    .connect = vts_hv_libvirt_connect,
    .disconnect = vts_hv_libvirt_disconnect,
    .list_running = vts_hv_libvirt_list_running,
    .lookup = vts_hv_libvirt_lookup,
    .dom_free = vts_hv_libvirt_dom_free,
    .dom_state = vts_hv_libvirt_dom_state,
    .dom_xml = vts_hv_libvirt_dom_xml,
    .agent_command = vts_hv_libvirt_agent_command,
    .now_ns = vts_hv_libvirt_now_ns,
    .host_clock = vts_hv_libvirt_host_clock,
    .rtc_reset_reinjection = vts_hv_libvirt_rtc_reset_reinjection,
    .loop_init = vts_hv_libvirt_loop_init,
    .loop_run_once = vts_hv_libvirt_loop_run_once,
    .loop_add_handle = vts_hv_libvirt_loop_add_handle,
    .loop_remove_handle = vts_hv_libvirt_loop_remove_handle,
    .loop_add_timer = vts_hv_libvirt_loop_add_timer,
    .loop_update_timer = vts_hv_libvirt_loop_update_timer,
    .loop_remove_timer = vts_hv_libvirt_loop_remove_timer,
    .events_register = vts_hv_libvirt_events_register,
};
