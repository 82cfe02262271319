/* vts_sched.h: the daemon's per-domain state machine.
 *
 * Pure bookkeeping, no threads and no clock of its own: every call gets the
 * time, and returns what the caller must do (queue the domain for a worker,
 * log that it gave up...). The daemon serialises calls with one mutex. This
 * is where coalescing, waiting for the agent, deadlines and backoff live, so
 * that they are unit-tested without libvirt.
 *
 *   IDLE --trigger--> QUEUED --worker--> SYNCING --ok--> IDLE
 *                       ^                   |--agent not there--> WAITING
 *                       |                   |--agent hung-------> BACKOFF
 *                       |                   |--ok, residual over--> RECHECK
 *                       |                   |  the tolerance
 *                       +--agent connects / retry time / new trigger
 *
 * A sync counts as done when its verifying measurement is within the
 * threshold plus that measurement's round trip: on a loaded host a step can
 * land a few ms off and the measurement cannot tell better. RECHECK comes
 * back later, when the host is likely quieter, measures again and steps
 * when the guest is more than the tolerance off; a few times at most.
 *
 * Entries go when their domain stops or leaves (or a sweep does not see it
 * running), so the table follows the host's guests, not their history.
 */
#ifndef VTS_SCHED_H
#define VTS_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vts_sync.h"

typedef struct {
    int64_t agent_wait_ns;      /* how long a trigger waits for the agent */
    int retry_max;              /* attempts after an unresponsive agent */
    int64_t backoff_initial_ns; /* first retry delay, doubled each time */
    int64_t backoff_max_ns;
    int recheck_max;          /* re-checks after a sync left a residual */
    int64_t recheck_delay_ns; /* before the first, doubled each time */
    int64_t tolerance_ns;     /* residual that calls for a re-check */
    int unresponsive_max;     /* syncs at once of domains whose agent last
                               * timed out; 0: no limit */
} vts_sched_conf;

typedef enum {
    VTS_PHASE_IDLE,
    VTS_PHASE_QUEUED,  /* handed to the worker pool */
    VTS_PHASE_SYNCING, /* a worker is on it */
    VTS_PHASE_WAITING, /* for the agent to connect or the guest to run */
    VTS_PHASE_BACKOFF, /* the agent did not answer; retry at next_ns */
    VTS_PHASE_RECHECK, /* synced, but not to the tolerance; again at next_ns */
} vts_phase;

#define VTS_SCHED_TRIGGER_MAX 48
/* Step delays remembered per domain. */
#define VTS_SCHED_DELAYS 5
/* Re-checks never wait longer than this, however many are configured. */
#define VTS_SCHED_RECHECK_DELAY_MAX (60LL * 1000000000LL)

typedef struct {
    char *name;
    vts_phase phase;
    char trigger[VTS_SCHED_TRIGGER_MAX]; /* e.g. "resumed/migrated" */
    int64_t trigger_ns;                  /* first trigger not yet served */
    int64_t deadline_ns;                 /* give up waiting after this */
    int64_t next_ns;                     /* BACKOFF: retry at */
    int attempts;                        /* failed attempts since the trigger */
    int rechecks;                        /* re-checks since the trigger */
    bool rerun;                          /* triggered again while syncing */
    bool agent_kick;                     /* agent connected while syncing */
    bool gone;                           /* stopped while syncing */
    int64_t suspended_ns;                /* last pause began, 0 if not paused */
    int64_t news_ns;       /* last trigger, expectation, pause, agent or finish */
    int64_t pause_ns;      /* last pause's length, -1 unknown */
    char pause_reason[16]; /* its reason ("ioerror"), "" unknown */
    uint64_t queued_seq;   /* order of queueing, for begin_next */
    bool unresponsive;     /* the agent's last call timed out */

    bool have_last; /* the last finished sync, for status */
    char last_trigger[VTS_SCHED_TRIGGER_MAX];
    int64_t last_ns;         /* when it finished */
    int64_t last_latency_ns; /* from trigger to finished */
    int64_t last_pause_ns;
    vts_sync_result last;
    /* guest-set-time's one-way delay as this domain's last steps met it
     * (a ring, newest at (ndelays - 1) % VTS_SCHED_DELAYS): the next step
     * uses their median, so it lands within the tolerance the first time. */
    int64_t delays[VTS_SCHED_DELAYS];
    int ndelays;
} vts_sched_entry;

/* What a finished sync leads to. */
typedef enum {
    VTS_SCHED_DONE,    /* fine; nothing more to do */
    VTS_SCHED_REQUEUE, /* queue the domain again now */
    VTS_SCHED_WAIT,    /* wait for the agent or a resume, until the deadline */
    VTS_SCHED_RETRY,   /* retry at the entry's next_ns */
    VTS_SCHED_RECHECK, /* fine, but check again at the entry's next_ns */
    VTS_SCHED_GAVE_UP, /* permanent failure or out of time/attempts */
} vts_sched_outcome;

/* What vts_sched_expire did to a domain. */
typedef enum {
    VTS_SCHED_EXPIRE_QUEUE,   /* backoff or re-check time: queue it */
    VTS_SCHED_EXPIRE_TIMEOUT, /* waited past the deadline: gave up */
    VTS_SCHED_EXPIRE_PAUSED,  /* the wait ran out while the guest is paused: no
                               * failure, its resume is a trigger of its own */
} vts_sched_expiry;

typedef struct vts_sched vts_sched;

/* Create an empty scheduler with @conf (copied). NULL when out of memory.
 * Free with vts_sched_free(), which accepts NULL. */
vts_sched *vts_sched_new(const vts_sched_conf *conf);
void vts_sched_free(vts_sched *s);

/* Replace the configuration (on reload); pending deadlines are kept. */
void vts_sched_set_conf(vts_sched *s, const vts_sched_conf *conf);

/* Is @code worth waiting for: the agent is not there yet, or the guest does
 * not run yet (a restore starts paused)? Such a try is a step on the way,
 * not a result. */
bool vts_sched_is_wait(vts_err_code code);

/* A trigger (resume, start, wakeup, hook, sweep) for @name. Returns true
 * when the caller must queue @name for a worker; false when it is already
 * queued, or is syncing (then it syncs once more afterwards). Out of
 * memory also gives false, with nothing recorded. */
bool vts_sched_trigger(vts_sched *s, const char *name, const char *trigger, int64_t now);

/* @name is about to arrive or run (the libvirt hook announced a migration,
 * a restore...): wait for it to resume or for its agent to connect, until
 * the agent_wait deadline. Nothing to queue yet; an entry that is already
 * busy is left alone. */
void vts_sched_expect(vts_sched *s, const char *name, const char *trigger, int64_t now);

/* The agent of @name connected. Returns true when the caller must queue it
 * (it was waiting, or backing off). */
bool vts_sched_agent_connected(vts_sched *s, const char *name, int64_t now);

/* @name's vCPUs stopped, for @reason (an event detail such as "paused" or
 * "ioerror"; NULL when unknown): remembered to report the pause's length
 * and reason with the sync at resume. */
void vts_sched_suspended(vts_sched *s, const char *name, const char *reason, int64_t now);

/* @name left this host or stopped: forget it, and what was pending for
 * it. An entry a worker is on goes when that worker finishes. */
void vts_sched_stopped(vts_sched *s, const char *name);

/* Forget the idle entries of domains that are not in @running (@count
 * names, listed at @listed_ns), except those paused (a paused domain is not
 * listed as running) and those with news at or after @listed_ns (a trigger,
 * an expectation, a finished sync: the domain came after the list was
 * taken). For events missed while disconnected. @fn, when not NULL, is
 * called with each name just before it goes. Returns how many went. */
size_t vts_sched_prune(vts_sched *s, char *const *running, size_t count,
                       int64_t listed_ns, void (*fn)(const char *name, void *opaque),
                       void *opaque);

/* How many domains the scheduler knows. */
size_t vts_sched_count(const vts_sched *s);

/* How many domains are queued, waiting for a worker (the watch measures
 * nothing while a sync waits: event-triggered syncs go first). */
size_t vts_sched_queued(const vts_sched *s);

/* A worker takes @name. Returns true and copies the entry into @job (its
 * name pointer stays owned by the scheduler and valid until the matching
 * vts_sched_finish, which may free it) when @name is queued; false for a
 * stale queue item. job->rechecks > 0 marks a re-check. */
bool vts_sched_begin(vts_sched *s, const char *name, vts_sched_entry *job);

/* A worker takes the queued domain that should go first: domains whose
 * agent answered (or is not known yet) in the order they were queued,
 * then those whose agent last timed out, in the same order. A hung agent
 * holds a worker for a whole timeout: it must not hold up those that
 * answer, and at most unresponsive_max of those sync at once. Returns
 * false when nothing may start; else as vts_sched_begin,
 * with job->name the scheduler's (copy it: vts_sched_finish may free it).
 * The pool's items then only count the work; a stale one finds nothing. */
bool vts_sched_begin_next(vts_sched *s, vts_sched_entry *job);

/* How many pool items the caller must push again now. A worker that found
 * only domains whose agent last timed out, with unresponsive_max of them
 * already syncing, took none and consumed its item; after a sync ends
 * (call this after every vts_sched_finish) as many may start as there is
 * room for. The names pushed do not matter to vts_sched_begin_next. */
size_t vts_sched_unhold(vts_sched *s);

/* A worker finished @name with @res. Returns what to do next; the entry's
 * deadline and next_ns say when for WAIT, RETRY and RECHECK. When the
 * domain stopped meanwhile, its entry is gone after this call. */
vts_sched_outcome vts_sched_finish(vts_sched *s, const char *name,
                                   const vts_sync_result *res, int64_t now);

/* The one-way delay @e's next guest-set-time should allow for: the median
 * of the delays its last steps met, or -1 when none is known yet. */
int64_t vts_sched_step_delay(const vts_sched_entry *e);

/* The earliest time at which vts_sched_expire has work, or -1. */
int64_t vts_sched_next_due(const vts_sched *s);

/* Move due domains on: backoffs that are over and re-checks that are due
 * become QUEUED, waits past their deadline become IDLE (and are forgotten
 * when nothing ever synced them: a name the hook announced that never
 * came). @fn is called for each, before any forgetting; returns how many. */
size_t vts_sched_expire(vts_sched *s, int64_t now,
                        void (*fn)(const char *name, vts_sched_expiry what, void *opaque),
                        void *opaque);

/* Call @fn for every known domain, in the order they were first seen. */
void vts_sched_foreach(const vts_sched *s,
                       void (*fn)(const vts_sched_entry *e, void *opaque), void *opaque);

/* The entry of @name, or NULL. Borrowed; valid until the next call. */
const vts_sched_entry *vts_sched_get(const vts_sched *s, const char *name);

/* Is a sync of @name pending, under way or waiting for its agent, or is
 * the guest paused? False for a domain the scheduler does not know. The
 * watch measures only guests that are not busy, and only entries that are
 * not busy are forgotten when their domain is gone. */
bool vts_sched_busy(const vts_sched *s, const char *name);

/* "idle", "queued", "syncing", "waiting", "backoff", "recheck". */
const char *vts_phase_name(vts_phase phase);

#endif /* VTS_SCHED_H */
