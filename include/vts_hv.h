/* vts_hv.h: the one seam between vmtimesync and the hypervisor.
 *
 * Everything in lib/ talks to libvirt through this table of operations; only
 * lib/vts_hv_libvirt.c includes libvirt's headers. Unit tests put a fake
 * table in its place, so the sync logic is tested without a hypervisor and
 * the real backend is tested end to end against a real libvirtd.
 *
 * Every operation that can fail returns 0 or -1 and fills @err with a code
 * from vts_error.h and a message that says what to do. Strings and arrays
 * handed back are owned by the caller and freed with free().
 */
#ifndef VTS_HV_H
#define VTS_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vts_error.h"

typedef struct vts_hv_conn vts_hv_conn; /* an open hypervisor connection */
typedef struct vts_hv_dom vts_hv_dom;   /* a reference to one domain */

typedef enum {
    VTS_DOM_RUNNING,
    VTS_DOM_PAUSED,
    VTS_DOM_OTHER, /* shut off, shutting down, crashed, suspended to RAM... */
} vts_dom_state;

/* What happened to a domain, as the daemon needs to know it. */
typedef enum {
    VTS_EV_STARTED,   /* detail: booted, migrated, restored, from-snapshot, wakeup */
    VTS_EV_SUSPENDED, /* vCPUs stopped: paused, migrated, ... */
    VTS_EV_RESUMED,   /* detail: unpaused, migrated, from-snapshot, postcopy */
    VTS_EV_STOPPED,   /* gone from this host: shut down, migrated away, saved */
    VTS_EV_PMWAKEUP,  /* woke up from guest-initiated S3 */
    VTS_EV_AGENT_CONNECTED,
    VTS_EV_AGENT_DISCONNECTED,
    VTS_EV_JOB_COMPLETED, /* downtime_ms set for a finished migration */
} vts_ev_kind;

typedef enum {
    VTS_EVD_NONE,
    VTS_EVD_BOOTED,
    VTS_EVD_PAUSED,
    VTS_EVD_UNPAUSED,
    VTS_EVD_MIGRATED,
    VTS_EVD_RESTORED,
    VTS_EVD_FROM_SNAPSHOT,
    VTS_EVD_POSTCOPY,
    VTS_EVD_WAKEUP,
    VTS_EVD_SAVED,
    VTS_EVD_IOERROR, /* suspended: a disk with error_policy='stop' failed */
    VTS_EVD_OTHER,
} vts_ev_detail;

typedef struct {
    vts_ev_kind kind;
    vts_ev_detail detail;
    const char *domain;  /* borrowed for the callback's duration */
    int64_t downtime_ms; /* VTS_EV_JOB_COMPLETED: migration downtime, or -1 */
} vts_hv_event;

/* Called in the event loop's thread; must not block. */
typedef void (*vts_hv_event_fn)(const vts_hv_event *ev, void *opaque);
/* The connection broke (libvirtd stopped, keepalive timed out). */
typedef void (*vts_hv_close_fn)(void *opaque);
typedef void (*vts_hv_handle_fn)(int watch, int fd, int events, void *opaque);
typedef void (*vts_hv_timer_fn)(int timer, void *opaque);

/* Event loop handle events (the same values as libvirt's). */
#define VTS_HV_READABLE 1
#define VTS_HV_WRITABLE 2
#define VTS_HV_ERROR 4
#define VTS_HV_HANGUP 8

typedef struct vts_hv_ops {
    /* Open a connection to @uri (never NULL). After loop_init, every
     * connection is kept alive with keepalive probes: when the hypervisor
     * stops answering, calls in flight fail instead of hanging. */
    int (*connect)(const char *uri, vts_hv_conn **conn, vts_error *err);
    /* Close @conn; NULL is allowed. */
    void (*disconnect)(vts_hv_conn *conn);
    /* The names of the domains whose vCPUs run now (not paused). */
    int (*list_running)(vts_hv_conn *conn, char ***names, size_t *count, vts_error *err);
    /* Find the domain called @name; VTS_ERR_NOT_FOUND when there is none. */
    int (*lookup)(vts_hv_conn *conn, const char *name, vts_hv_dom **dom, vts_error *err);
    /* Release a domain reference; NULL is allowed. */
    void (*dom_free)(vts_hv_dom *dom);
    /* The domain's state. */
    int (*dom_state)(vts_hv_dom *dom, vts_dom_state *state, vts_error *err);
    /* The live domain XML. */
    int (*dom_xml)(vts_hv_dom *dom, char **xml, vts_error *err);
    /* Send one JSON command to the guest agent and return its JSON reply.
     * @timeout_s is a positive number of seconds. Errors are mapped to
     * VTS_ERR_NO_AGENT_CHANNEL, _AGENT_NOT_CONNECTED, _AGENT_TIMEOUT,
     * _NOT_RUNNING, _PAUSED or _AGENT_ERROR (the agent's own message). */
    int (*agent_command)(vts_hv_dom *dom, const char *cmd, int timeout_s, char **reply,
                         vts_error *err);
    /* The host's CLOCK_REALTIME in nanoseconds since the epoch. */
    int64_t (*now_ns)(void);
    /* Is the host's own clock synchronized (adjtimex(2): no STA_UNSYNC),
     * and its estimated maximum error in ns (-1 when unknown)? */
    int (*host_clock)(bool *synced, int64_t *maxerror_ns, vts_error *err);
    /* Tell QEMU to drop the RTC interrupts it owes the guest
     * (rtc-reset-reinjection), after setting the time of a guest whose RTC
     * timer uses tickpolicy='catchup', as virDomainSetTime does. */
    int (*rtc_reset_reinjection)(vts_hv_dom *dom, vts_error *err);
    /* Wait @ns nanoseconds between polls of a guest process. Optional:
     * NULL means nanosleep(2); the unit tests' fake moves its clock. */
    void (*sleep_ns)(int64_t ns);

    /* The event loop. loop_init must be called once, before connect. The
     * handle and timer calls may be made from any thread. */
    int (*loop_init)(vts_error *err);
    int (*loop_run_once)(vts_error *err);
    int (*loop_add_handle)(int fd, int events, vts_hv_handle_fn fn, void *opaque);
    void (*loop_remove_handle)(int watch);
    /* @ms: -1 disabled, 0 as soon as possible, else the period. */
    int (*loop_add_timer)(int ms, vts_hv_timer_fn fn, void *opaque);
    void (*loop_update_timer)(int timer, int ms);
    void (*loop_remove_timer)(int timer);

    /* Deliver @conn's domain events to @fn and its loss (including a
     * keepalive timeout) to @close_fn. Registrations end with disconnect. */
    int (*events_register)(vts_hv_conn *conn, vts_hv_event_fn fn,
                           vts_hv_close_fn close_fn, void *opaque, vts_error *err);
} vts_hv_ops;

/* The real backend, over libvirt and libvirt-qemu. */
extern const vts_hv_ops vts_hv_libvirt_ops;

/* Human words for logs: "resumed", "unpaused", ... Never NULL. */
const char *vts_ev_kind_name(vts_ev_kind kind);
const char *vts_ev_detail_name(vts_ev_detail detail);

/* Free a list returned by list_running: each name, then the array. NULL is
 * allowed. */
void vts_hv_names_free(char **names, size_t count);

#endif /* VTS_HV_H */
