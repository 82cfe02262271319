/* sim_hv.c: the simulation's fake hypervisor (see sim_hv.h). */
#include "sim_hv.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_clock.h"
#include "vts_agent.h"
#include "vts_sync.h"

#define MS (1000000LL)

struct vts_hv_conn {
    int inflight; /* calls of this connection libvirtd is serving */
    struct sim_queue *wait_head, *wait_tail;
};

struct vts_hv_dom {
    vts_hv_conn *conn;
    sim_guest *g;
};

/* A call waiting its turn (a libvirtd worker, or a connection's slot). */
typedef struct sim_queue {
    sim_waiter w;
    struct sim_queue *next;
} sim_queue;

/* All guarded by the clock's lock. */
static sim_hv_conf hv_conf;
static sim_guest *hv_guests;
static int hv_count;
static int hv_busy;      /* libvirtd workers held */
static int hv_busy_ours; /* ... by our calls */
static sim_queue *hv_wait_head, *hv_wait_tail;
static int hv_inflight; /* our agent calls under way */
static sim_hv_stats hv_stats;

static bool bg_stop;
static int bg_alive;
static pthread_t bg_threads[64];
static int bg_count;

/* splitmix64: small, fast, and good enough for latencies. */
static uint64_t
sim_hv_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int64_t
sim_hv_draw(uint64_t *rng, int64_t lo, int64_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + (int64_t)(sim_hv_next(rng) % (uint64_t)(hi - lo + 1));
}

void
sim_hv_conf_init(sim_hv_conf *conf, bool busybox)
{
    /* TESTHOST.md: guest-get-time over one connection on TCG. */
    conf->rtt_min_ns = 2600 * MS / 1000;
    conf->rtt_max_ns = 5500 * MS / 1000;
    /* Issue 10: guest-set-time took 0.9-2.0 s with util-linux's hwclock
     * (8 calls); about 12 ms with busybox's (TESTHOST.md). */
    if (busybox) {
        conf->hold_min_ns = 8 * MS;
        conf->hold_max_ns = 16 * MS;
    } else {
        conf->hold_min_ns = 900 * MS;
        conf->hold_max_ns = 2000 * MS;
    }
    /* The noise floor: about +-1 ms with nothing touching the guest. */
    conf->noise_ns = 1 * MS;
    conf->libvirt_ns = MS / 5;
    conf->max_workers = 20;
    conf->max_client_requests = 5;
}

int
sim_hv_init(const sim_hv_conf *conf, int n, int hung_every, uint64_t seed)
{
    hv_conf = *conf;
    hv_guests = calloc((size_t)n, sizeof(*hv_guests));
    if (!hv_guests)
        return -1;
    hv_count = n;
    for (int i = 0, healthy = 0; i < n; i++) {
        sim_guest *g = &hv_guests[i];

        snprintf(g->name, sizeof(g->name), "guest-%d", i);
        g->hung = hung_every > 0 && i % hung_every == hung_every - 1;
        /* The k-th healthy guest draws the same numbers whether or not
         * hung guests sit between: runs with and without them compare. */
        g->rng =
            seed ^ ((uint64_t)(g->hung ? n + i + 1 : ++healthy) * 0x2545f4914f6cdd1dULL);
        g->within_ns = -1;
    }
    hv_busy = hv_busy_ours = hv_inflight = 0;
    hv_wait_head = hv_wait_tail = NULL;
    memset(&hv_stats, 0, sizeof(hv_stats));
    return 0;
}

void
sim_hv_fini(void)
{
    free(hv_guests);
    hv_guests = NULL;
    hv_count = 0;
}

sim_guest *
sim_hv_guest(int i)
{
    return &hv_guests[i];
}

int
sim_hv_count(void)
{
    return hv_count;
}

void
sim_hv_pause(int i, int64_t min_ns, int64_t max_ns)
{
    sim_clock_lock();
    hv_guests[i].offset_ns = -sim_hv_draw(&hv_guests[i].rng, min_ns, max_ns);
    hv_guests[i].within_ns = -1;
    sim_clock_unlock();
}

void
sim_hv_stats_get(sim_hv_stats *st)
{
    sim_clock_lock();
    *st = hv_stats;
    sim_clock_unlock();
}

static void
sim_queue_add(sim_queue **head, sim_queue **tail, sim_queue *q)
{
    q->next = NULL;
    if (*tail)
        (*tail)->next = q;
    else
        *head = q;
    *tail = q;
}

static sim_queue *
sim_queue_pop(sim_queue **head, sim_queue **tail)
{
    sim_queue *q = *head;

    if (q) {
        *head = q->next;
        if (!*head)
            *tail = NULL;
    }
    return q;
}

/* With the lock: take a libvirtd worker, waiting in line for one. The
 * worker is handed over by the call that frees it. */
static void
sim_hv_worker_take(bool ours)
{
    int64_t start = sim_clock_now();

    if (hv_busy < hv_conf.max_workers) {
        hv_busy++;
    } else {
        sim_queue q = {.w = {.wake_ns = SIM_NEVER}};

        sim_queue_add(&hv_wait_head, &hv_wait_tail, &q);
        sim_clock_wait_locked(&q.w);
    }
    if (ours) {
        hv_busy_ours++;
        hv_stats.worker_wait_ns += sim_clock_now() - start;
        hv_stats.calls++;
        if (hv_busy_ours > hv_stats.workers_ours_max)
            hv_stats.workers_ours_max = hv_busy_ours;
    }
    if (hv_busy > hv_stats.workers_all_max)
        hv_stats.workers_all_max = hv_busy;
}

static void
sim_hv_worker_give(bool ours)
{
    sim_queue *q = sim_queue_pop(&hv_wait_head, &hv_wait_tail);

    if (ours)
        hv_busy_ours--;
    if (q)
        sim_clock_release_locked(&q->w); /* it keeps the worker */
    else
        hv_busy--;
}

/* With the lock: a slot of @conn (max_client_requests), then a worker. */
static void
sim_hv_call_begin(vts_hv_conn *conn)
{
    if (conn->inflight >= hv_conf.max_client_requests) {
        sim_queue q = {.w = {.wake_ns = SIM_NEVER}};

        sim_queue_add(&conn->wait_head, &conn->wait_tail, &q);
        sim_clock_wait_locked(&q.w);
    } else {
        conn->inflight++;
    }
    sim_hv_worker_take(true);
}

static void
sim_hv_call_end(vts_hv_conn *conn)
{
    sim_queue *q = sim_queue_pop(&conn->wait_head, &conn->wait_tail);

    sim_hv_worker_give(true);
    if (q)
        sim_clock_release_locked(&q->w);
    else
        conn->inflight--;
}

static void
sim_hv_sleep_locked(int64_t ns)
{
    sim_waiter w = {.wake_ns = sim_clock_now() + ns};

    sim_clock_wait_locked(&w);
}

/* A short libvirt call that does not reach the guest. */
static void
sim_hv_libvirt_call(vts_hv_conn *conn)
{
    sim_clock_lock();
    sim_hv_call_begin(conn);
    sim_hv_sleep_locked(hv_conf.libvirt_ns);
    sim_hv_call_end(conn);
    sim_clock_unlock();
}

static int
sim_hv_connect(const char *uri, vts_hv_conn **conn, vts_error *err)
{
    (void)uri;
    *conn = calloc(1, sizeof(**conn));
    if (!*conn)
        return vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
    return 0;
}

static void
sim_hv_disconnect(vts_hv_conn *conn)
{
    free(conn);
}

static int
sim_hv_list_running(vts_hv_conn *conn, char ***names, size_t *count, vts_error *err)
{
    (void)conn;
    (void)names;
    (void)count;
    return vts_error_set(err, VTS_ERR_INTERNAL, "not simulated");
}

static int
sim_hv_lookup(vts_hv_conn *conn, const char *name, vts_hv_dom **dom, vts_error *err)
{
    int i;

    sim_hv_libvirt_call(conn);
    if (sscanf(name, "guest-%d", &i) != 1 || i < 0 || i >= hv_count)
        return vts_error_set(err, VTS_ERR_NOT_FOUND, "no domain %s", name);
    *dom = calloc(1, sizeof(**dom));
    if (!*dom)
        return vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
    (*dom)->conn = conn;
    (*dom)->g = &hv_guests[i];
    return 0;
}

static void
sim_hv_dom_free(vts_hv_dom *dom)
{
    free(dom);
}

static int
sim_hv_dom_state(vts_hv_dom *dom, vts_dom_state *state, vts_error *err)
{
    (void)err;
    sim_hv_libvirt_call(dom->conn);
    *state = VTS_DOM_RUNNING;
    return 0;
}

static int
sim_hv_dom_xml(vts_hv_dom *dom, char **xml, vts_error *err)
{
    sim_hv_libvirt_call(dom->conn);
    *xml = strdup("<domain type='qemu'><name>g</name><devices><channel type='unix'>"
                  "<target type='virtio' name='org.qemu.guest_agent.0' "
                  "state='connected'/></channel></devices></domain>");
    if (!*xml)
        return vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
    return 0;
}

/* The guest's clock now, as the agent reads it. */
static int64_t
sim_hv_guest_time(sim_guest *g)
{
    return SIM_EPOCH_NS + sim_clock_now() + g->offset_ns +
           sim_hv_draw(&g->rng, -hv_conf.noise_ns, hv_conf.noise_ns);
}

static int
sim_hv_agent_command(vts_hv_dom *dom, const char *cmd, int timeout_s, char **reply,
                     vts_error *err)
{
    sim_guest *g = dom->g;
    bool set = strstr(cmd, "guest-set-time") != NULL;
    const char *arg = strstr(cmd, "\"time\":");
    int64_t rtt, there, ret = 0;
    char buf[64] = "{\"return\":{}}";

    *reply = NULL;
    if (!set && strstr(cmd, "guest-get-time") == NULL)
        return vts_error_set(err, VTS_ERR_AGENT_ERROR, "command not simulated: %s", cmd);
    sim_clock_lock();
    g->calls++;
    hv_inflight++;
    if (hv_inflight > hv_stats.agent_inflight_max)
        hv_stats.agent_inflight_max = hv_inflight;
    sim_hv_call_begin(dom->conn);
    if (g->hung) {
        /* libvirt gives up after the timeout; the worker was held. */
        sim_hv_sleep_locked((int64_t)timeout_s * VTS_NS_PER_SEC);
        ret = vts_error_set(err, VTS_ERR_AGENT_TIMEOUT,
                            "Guest agent is not responding: Guest agent not available "
                            "for now (simulated hung agent)");
        goto cleanup;
    }
    /* The request reaches the agent somewhere in the round trip. */
    rtt = sim_hv_draw(&g->rng, hv_conf.rtt_min_ns, hv_conf.rtt_max_ns);
    there = rtt * sim_hv_draw(&g->rng, 35, 65) / 100;
    sim_hv_sleep_locked(there);
    if (set) {
        /* settimeofday, then hwclock -w; the answer comes when it exits. */
        g->offset_ns =
            (arg ? strtoll(arg + 7, NULL, 10) : 0) - SIM_EPOCH_NS - sim_clock_now();
        g->sets++;
        /* Within 2 ms since the first step that got it there, unless a
         * later one moved it out. */
        if (llabs(g->offset_ns) > 2 * MS)
            g->within_ns = -1;
        else if (g->within_ns < 0)
            g->within_ns = sim_clock_now();
        sim_hv_sleep_locked(
            sim_hv_draw(&g->rng, hv_conf.hold_min_ns, hv_conf.hold_max_ns));
    } else {
        snprintf(buf, sizeof(buf), "{\"return\":%" PRId64 "}", sim_hv_guest_time(g));
    }
    sim_hv_sleep_locked(rtt - there);
    *reply = strdup(buf);
    if (!*reply)
        ret = vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");

cleanup:
    sim_hv_call_end(dom->conn);
    hv_inflight--;
    sim_clock_unlock();
    return (int)ret;
}

static int64_t
sim_hv_now_ns(void)
{
    return SIM_EPOCH_NS + sim_clock_now();
}

static int
sim_hv_host_clock(bool *synced, int64_t *maxerror_ns, vts_error *err)
{
    (void)err;
    *synced = true;
    *maxerror_ns = 10 * MS;
    return 0;
}

const vts_hv_ops sim_hv_ops = {
    .connect = sim_hv_connect,
    .disconnect = sim_hv_disconnect,
    .list_running = sim_hv_list_running,
    .lookup = sim_hv_lookup,
    .dom_free = sim_hv_dom_free,
    .dom_state = sim_hv_dom_state,
    .dom_xml = sim_hv_dom_xml,
    .agent_command = sim_hv_agent_command,
    .now_ns = sim_hv_now_ns,
    .host_clock = sim_hv_host_clock,
    .sleep_ns = sim_clock_sleep,
};

/* A background client: hold a worker, think, again. */
static void *
sim_hv_background(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ULL;

    for (;;) {
        sim_clock_sleep(sim_hv_draw(&rng, 10 * MS, 190 * MS));
        sim_clock_lock();
        if (bg_stop)
            break;
        sim_hv_worker_take(false);
        sim_hv_sleep_locked(sim_hv_draw(&rng, 10 * MS, 190 * MS));
        sim_hv_worker_give(false);
        sim_clock_unlock();
    }
    bg_alive--;
    sim_clock_unlock();
    sim_clock_leave();
    return NULL;
}

int
sim_hv_background_start(int clients)
{
    bg_stop = false;
    bg_count = 0;
    for (int i = 0; i < clients && i < 64; i++) {
        sim_clock_join();
        sim_clock_lock();
        bg_alive++;
        sim_clock_unlock();
        if (pthread_create(&bg_threads[i], NULL, sim_hv_background,
                           (void *)(uintptr_t)(i + 1)) != 0) {
            sim_clock_lock();
            bg_alive--;
            sim_clock_unlock();
            sim_clock_leave();
            return -1;
        }
        bg_count++;
    }
    return 0;
}

void
sim_hv_background_stop(void)
{
    bool alive = true;

    sim_clock_lock();
    bg_stop = true;
    sim_clock_unlock();
    /* They leave at their next wake-up: let the clock run until then. */
    while (alive) {
        sim_clock_sleep(10 * MS);
        sim_clock_lock();
        alive = bg_alive > 0;
        sim_clock_unlock();
    }
    for (int i = 0; i < bg_count; i++)
        pthread_join(bg_threads[i], NULL);
    bg_count = 0;
}
