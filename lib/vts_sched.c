/* vts_sched.c: the daemon's per-domain state machine. */
#include "vts_sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vts_sched {
    vts_sched_conf conf;
    vts_sched_entry *entries;
    size_t count;
    size_t alloc;
    uint64_t queued_seq;      /* the last entry queued */
    int unresponsive_running; /* syncs of entries marked unresponsive */
    size_t held;              /* pool items consumed with such an entry left queued */
};

vts_sched *
vts_sched_new(const vts_sched_conf *conf)
{
    vts_sched *s = calloc(1, sizeof(*s));

    if (s)
        s->conf = *conf;
    return s;
}

void
vts_sched_free(vts_sched *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->count; i++)
        free(s->entries[i].name);
    free(s->entries);
    free(s);
}

void
vts_sched_set_conf(vts_sched *s, const vts_sched_conf *conf)
{
    s->conf = *conf;
}

const char *
vts_phase_name(vts_phase phase)
{
    switch (phase) {
    case VTS_PHASE_IDLE:
        return "idle";
    case VTS_PHASE_QUEUED:
        return "queued";
    case VTS_PHASE_SYNCING:
        return "syncing";
    case VTS_PHASE_WAITING:
        return "waiting";
    case VTS_PHASE_BACKOFF:
        return "backoff";
    case VTS_PHASE_RECHECK:
        return "recheck";
    }
    return "unknown";
}

static vts_sched_entry *
vts_sched_find(const vts_sched *s, const char *name)
{
    for (size_t i = 0; i < s->count; i++) {
        if (strcmp(s->entries[i].name, name) == 0)
            return &s->entries[i];
    }
    return NULL;
}

const vts_sched_entry *
vts_sched_get(const vts_sched *s, const char *name)
{
    return vts_sched_find(s, name);
}

/* The test behind vts_sched_busy, on an entry. */
static bool
vts_sched_entry_busy(const vts_sched_entry *e)
{
    return e->phase != VTS_PHASE_IDLE || e->suspended_ns != 0;
}

bool
vts_sched_busy(const vts_sched *s, const char *name)
{
    const vts_sched_entry *e = vts_sched_find(s, name);

    return e && vts_sched_entry_busy(e);
}

size_t
vts_sched_count(const vts_sched *s)
{
    return s->count;
}

size_t
vts_sched_queued(const vts_sched *s)
{
    size_t n = 0;

    for (size_t i = 0; i < s->count; i++)
        n += s->entries[i].phase == VTS_PHASE_QUEUED;
    return n;
}

/* Forget @e (an element of s->entries), keeping the others' order. */
static void
vts_sched_remove(vts_sched *s, vts_sched_entry *e)
{
    size_t i = (size_t)(e - s->entries);

    free(e->name);
    memmove(e, e + 1, (s->count - i - 1) * sizeof(*e));
    s->count--;
}

/* Find or add the entry of @name; NULL when out of memory. */
static vts_sched_entry *
vts_sched_entry_of(vts_sched *s, const char *name)
{
    vts_sched_entry *e = vts_sched_find(s, name);

    if (e)
        return e;
    if (s->count == s->alloc) {
        size_t alloc = s->alloc ? s->alloc * 2 : 16;
        vts_sched_entry *grown = realloc(s->entries, alloc * sizeof(*grown));

        if (!grown)
            return NULL;
        s->entries = grown;
        s->alloc = alloc;
    }
    e = &s->entries[s->count];
    memset(e, 0, sizeof(*e));
    e->name = strdup(name);
    if (!e->name)
        return NULL;
    e->pause_ns = -1;
    s->count++;
    return e;
}

/* Queue @e behind those queued before it. */
static void
vts_sched_enqueue(vts_sched *s, vts_sched_entry *e)
{
    e->phase = VTS_PHASE_QUEUED;
    e->queued_seq = ++s->queued_seq;
}

/* Start serving a new trigger: queue the domain with a fresh deadline. */
static void
vts_sched_queue_new(vts_sched *s, vts_sched_entry *e, const char *trigger, int64_t now)
{
    /* Latency counts from the trigger that let the guest run: a guest
     * waiting to be resumed (restore, incoming migration) was not losing
     * time to us while its vCPUs were stopped. */
    if (e->phase == VTS_PHASE_IDLE || e->phase == VTS_PHASE_WAITING ||
        e->phase == VTS_PHASE_RECHECK)
        e->trigger_ns = now;
    if (e->phase == VTS_PHASE_IDLE || e->phase == VTS_PHASE_RECHECK)
        e->attempts = 0;
    /* A new trigger is a new pause: a regular sync, not a re-check (even
     * when a re-check found the guest paused and waits for it). */
    e->rechecks = 0;
    e->deadline_ns = now + s->conf.agent_wait_ns;
    snprintf(e->trigger, sizeof(e->trigger), "%s", trigger);
    vts_sched_enqueue(s, e);
}

bool
vts_sched_trigger(vts_sched *s, const char *name, const char *trigger, int64_t now)
{
    vts_sched_entry *e = vts_sched_entry_of(s, name);

    if (!e)
        return false;
    e->news_ns = now;
    if (e->suspended_ns > 0) {
        e->pause_ns = now - e->suspended_ns;
        e->suspended_ns = 0;
    }
    switch (e->phase) {
    case VTS_PHASE_QUEUED:
        /* Coalesce: the queued sync serves this trigger too. */
        return false;
    case VTS_PHASE_SYNCING:
        /* The running sync may have measured before this trigger: sync
         * once more afterwards, and credit that sync to this trigger. */
        e->rerun = true;
        e->gone = false;
        e->rechecks = 0;
        snprintf(e->trigger, sizeof(e->trigger), "%s", trigger);
        return false;
    case VTS_PHASE_IDLE:
    case VTS_PHASE_WAITING:
    case VTS_PHASE_BACKOFF:
    case VTS_PHASE_RECHECK:
        break;
    }
    vts_sched_queue_new(s, e, trigger, now);
    return true;
}

void
vts_sched_expect(vts_sched *s, const char *name, const char *trigger, int64_t now)
{
    vts_sched_entry *e = vts_sched_entry_of(s, name);

    if (!e)
        return;
    e->news_ns = now;
    if (e->phase != VTS_PHASE_IDLE)
        return;
    e->trigger_ns = now;
    e->attempts = 0;
    e->rechecks = 0;
    e->deadline_ns = now + s->conf.agent_wait_ns;
    snprintf(e->trigger, sizeof(e->trigger), "%s", trigger);
    e->phase = VTS_PHASE_WAITING;
}

bool
vts_sched_agent_connected(vts_sched *s, const char *name, int64_t now)
{
    vts_sched_entry *e = vts_sched_find(s, name);

    if (!e)
        return false;
    e->news_ns = now;
    switch (e->phase) {
    case VTS_PHASE_WAITING:
    case VTS_PHASE_BACKOFF:
        /* A fresh agent (qemu-ga restarted) deserves a fresh place. */
        e->unresponsive = false;
        vts_sched_enqueue(s, e);
        return true;
    case VTS_PHASE_SYNCING:
        e->agent_kick = true;
        return false;
    case VTS_PHASE_IDLE:
    case VTS_PHASE_QUEUED:
    case VTS_PHASE_RECHECK:
        break;
    }
    return false;
}

void
vts_sched_suspended(vts_sched *s, const char *name, const char *reason, int64_t now)
{
    vts_sched_entry *e = vts_sched_entry_of(s, name);

    if (!e)
        return;
    e->suspended_ns = e->news_ns = now;
    snprintf(e->pause_reason, sizeof(e->pause_reason), "%s", reason ? reason : "");
}

void
vts_sched_stopped(vts_sched *s, const char *name)
{
    vts_sched_entry *e = vts_sched_find(s, name);

    if (!e)
        return;
    /* A worker that is on it finds it gone when it finishes. */
    if (e->phase == VTS_PHASE_SYNCING) {
        e->suspended_ns = 0;
        e->rerun = false;
        e->agent_kick = false;
        e->gone = true;
        return;
    }
    vts_sched_remove(s, e);
}

size_t
vts_sched_prune(vts_sched *s, char *const *running, size_t count, int64_t listed_ns,
                void (*fn)(const char *name, void *opaque), void *opaque)
{
    size_t gone = 0;
    size_t i = 0;

    while (i < s->count) {
        vts_sched_entry *e = &s->entries[i];
        bool seen = false;

        for (size_t j = 0; j < count && !seen; j++)
            seen = strcmp(running[j], e->name) == 0;
        /* News since the list: it came after, and is not gone for that. */
        if (seen || vts_sched_entry_busy(e) || e->news_ns >= listed_ns) {
            i++;
            continue;
        }
        if (fn)
            fn(e->name, opaque);
        vts_sched_remove(s, e);
        gone++;
    }
    return gone;
}

bool
vts_sched_begin(vts_sched *s, const char *name, vts_sched_entry *job)
{
    vts_sched_entry *e = vts_sched_find(s, name);

    if (!e || e->phase != VTS_PHASE_QUEUED)
        return false;
    e->phase = VTS_PHASE_SYNCING;
    if (e->unresponsive)
        s->unresponsive_running++;
    e->rerun = false;
    e->agent_kick = false;
    e->gone = false;
    *job = *e;
    return true;
}

bool
vts_sched_begin_next(vts_sched *s, vts_sched_entry *job)
{
    vts_sched_entry *best = NULL;
    bool full = s->conf.unresponsive_max > 0 &&
                s->unresponsive_running >= s->conf.unresponsive_max;
    bool held = false;

    for (size_t i = 0; i < s->count; i++) {
        vts_sched_entry *e = &s->entries[i];

        if (e->phase != VTS_PHASE_QUEUED)
            continue;
        if (e->unresponsive && full) {
            held = true;
            continue;
        }
        if (!best || e->unresponsive < best->unresponsive ||
            (e->unresponsive == best->unresponsive && e->queued_seq < best->queued_seq))
            best = e;
    }
    if (!best && held)
        s->held++;
    return best && vts_sched_begin(s, best->name, job);
}

size_t
vts_sched_unhold(vts_sched *s)
{
    size_t n = s->held;
    int room = s->conf.unresponsive_max - s->unresponsive_running;

    if (s->conf.unresponsive_max > 0 && n > (size_t)(room > 0 ? room : 0))
        n = (size_t)(room > 0 ? room : 0);
    s->held -= n;
    return n;
}

bool
vts_sched_is_wait(vts_err_code code)
{
    return code == VTS_ERR_AGENT_NOT_CONNECTED || code == VTS_ERR_PAUSED;
}

/* Is @code final: retrying cannot help until someone changes something? */
static bool
vts_sched_is_permanent(vts_err_code code)
{
    switch (code) {
    case VTS_ERR_NO_AGENT_CHANNEL:
    case VTS_ERR_SET_TIME_UNSUPPORTED:
    case VTS_ERR_NOT_FOUND:
    case VTS_ERR_NOT_RUNNING:
    case VTS_ERR_OPTED_OUT:
    case VTS_ERR_CONFIG:
    case VTS_ERR_STEP_TOO_LARGE:
    case VTS_ERR_BACKWARD_REFUSED:
        return true;
    default:
        return false;
    }
}

static int64_t
vts_sched_backoff(const vts_sched_conf *conf, int attempts)
{
    int64_t delay = conf->backoff_initial_ns;

    for (int i = 1; i < attempts && delay < conf->backoff_max_ns; i++)
        delay *= 2;
    return delay < conf->backoff_max_ns ? delay : conf->backoff_max_ns;
}

/* The delay before re-check number @done + 1: doubled each time, never
 * over VTS_SCHED_RECHECK_DELAY_MAX (nor a recheck_delay set longer). */
static int64_t
vts_sched_recheck_delay(const vts_sched_conf *conf, int done)
{
    int64_t delay = conf->recheck_delay_ns;

    for (int i = 0; i < done && delay < VTS_SCHED_RECHECK_DELAY_MAX; i++)
        delay *= 2;
    return delay < VTS_SCHED_RECHECK_DELAY_MAX ? delay : VTS_SCHED_RECHECK_DELAY_MAX;
}

/* Did a sync that went well leave @e's guest further off than the
 * tolerance, with a re-check left to try? */
static bool
vts_sched_wants_recheck(const vts_sched_conf *conf, const vts_sched_entry *e,
                        const vts_sync_result *res)
{
    return res->action == VTS_ACTION_STEPPED && res->have_residual &&
           llabs(res->residual_ns) > conf->tolerance_ns &&
           e->rechecks < conf->recheck_max;
}

int64_t
vts_sched_step_delay(const vts_sched_entry *e)
{
    int n = e->ndelays < VTS_SCHED_DELAYS ? e->ndelays : VTS_SCHED_DELAYS;

    return n == 0 ? -1 : vts_sync_median(e->delays, (size_t)n);
}

vts_sched_outcome
vts_sched_finish(vts_sched *s, const char *name, const vts_sync_result *res, int64_t now)
{
    vts_sched_entry *e = vts_sched_find(s, name);
    vts_err_code code = res->action == VTS_ACTION_ERROR ? res->err.code : VTS_OK;
    bool again;

    if (!e || e->phase != VTS_PHASE_SYNCING)
        return VTS_SCHED_DONE;

    e->have_last = true;
    e->news_ns = now;
    memcpy(e->last_trigger, e->trigger, sizeof(e->last_trigger));
    e->last_ns = now;
    e->last_latency_ns = now - e->trigger_ns;
    e->last_pause_ns = e->pause_ns;
    e->last = *res;
    if (res->have_landed_delay) {
        e->delays[e->ndelays % VTS_SCHED_DELAYS] = res->landed_delay_ns;
        e->ndelays++;
    }

    if (e->unresponsive)
        s->unresponsive_running--;
    /* Losing our own connection says nothing about the agent. */
    if (code != VTS_ERR_CONNECT)
        e->unresponsive = code == VTS_ERR_AGENT_TIMEOUT;
    again = e->rerun || (e->agent_kick && vts_sched_is_wait(code));
    e->rerun = false;
    e->agent_kick = false;
    if (e->gone) {
        /* The domain stopped or left while we synced: forget it. */
        vts_sched_remove(s, e);
        return code == VTS_OK ? VTS_SCHED_DONE : VTS_SCHED_GAVE_UP;
    }

    if (code == VTS_OK || vts_sched_is_permanent(code)) {
        if (again && code == VTS_OK) {
            vts_sched_enqueue(s, e);
            e->trigger_ns = now;
            e->rechecks = 0;
            return VTS_SCHED_REQUEUE;
        }
        if (code == VTS_OK && vts_sched_wants_recheck(&s->conf, e, res)) {
            e->next_ns = now + vts_sched_recheck_delay(&s->conf, e->rechecks);
            e->rechecks++;
            e->phase = VTS_PHASE_RECHECK;
            return VTS_SCHED_RECHECK;
        }
        e->phase = VTS_PHASE_IDLE;
        e->pause_ns = -1;
        e->pause_reason[0] = '\0';
        return code == VTS_OK ? VTS_SCHED_DONE : VTS_SCHED_GAVE_UP;
    }
    if (again) {
        vts_sched_enqueue(s, e);
        return VTS_SCHED_REQUEUE;
    }
    if (vts_sched_is_wait(code)) {
        if (now >= e->deadline_ns) {
            e->phase = VTS_PHASE_IDLE;
            return VTS_SCHED_GAVE_UP;
        }
        e->phase = VTS_PHASE_WAITING;
        return VTS_SCHED_WAIT;
    }
    /* Unresponsive or confused agent, lost connection: back off. */
    e->attempts++;
    if (e->attempts > s->conf.retry_max || now >= e->deadline_ns) {
        e->phase = VTS_PHASE_IDLE;
        return VTS_SCHED_GAVE_UP;
    }
    e->next_ns = now + vts_sched_backoff(&s->conf, e->attempts);
    e->phase = VTS_PHASE_BACKOFF;
    return VTS_SCHED_RETRY;
}

int64_t
vts_sched_next_due(const vts_sched *s)
{
    int64_t due = -1;

    for (size_t i = 0; i < s->count; i++) {
        const vts_sched_entry *e = &s->entries[i];
        int64_t t;

        if (e->phase == VTS_PHASE_WAITING)
            t = e->deadline_ns;
        else if (e->phase == VTS_PHASE_BACKOFF || e->phase == VTS_PHASE_RECHECK)
            t = e->next_ns;
        else
            continue;
        if (due < 0 || t < due)
            due = t;
    }
    return due;
}

size_t
vts_sched_expire(vts_sched *s, int64_t now,
                 void (*fn)(const char *name, vts_sched_expiry what, void *opaque),
                 void *opaque)
{
    size_t n = 0;
    size_t i = 0;

    while (i < s->count) {
        vts_sched_entry *e = &s->entries[i];

        if ((e->phase == VTS_PHASE_BACKOFF || e->phase == VTS_PHASE_RECHECK) &&
            e->next_ns <= now) {
            vts_sched_enqueue(s, e);
            fn(e->name, VTS_SCHED_EXPIRE_QUEUE, opaque);
            n++;
        } else if (e->phase == VTS_PHASE_WAITING && e->deadline_ns <= now) {
            e->phase = VTS_PHASE_IDLE;
            fn(e->name,
               e->suspended_ns != 0 ? VTS_SCHED_EXPIRE_PAUSED : VTS_SCHED_EXPIRE_TIMEOUT,
               opaque);
            n++;
            if (!e->have_last && e->suspended_ns == 0) {
                vts_sched_remove(s, e);
                continue;
            }
        }
        i++;
    }
    return n;
}

void
vts_sched_foreach(const vts_sched *s, void (*fn)(const vts_sched_entry *e, void *opaque),
                  void *opaque)
{
    for (size_t i = 0; i < s->count; i++)
        fn(&s->entries[i], opaque);
}
