/* test_sched.c: the daemon's per-domain state machine (lib/vts_sched.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vts_sched.h"

#define S (1000000000LL)
#define MS (1000000LL)

static const vts_sched_conf conf = {
    .agent_wait_ns = 600 * S,
    .retry_max = 3,
    .backoff_initial_ns = 1 * S,
    .backoff_max_ns = 4 * S,
};

static int
setup(void **state)
{
    *state = vts_sched_new(&conf);
    return *state ? 0 : -1;
}

static int
teardown(void **state)
{
    vts_sched_free(*state);
    return 0;
}

static vts_sync_result
ok_result(void)
{
    vts_sync_result r;

    memset(&r, 0, sizeof(r));
    r.action = VTS_ACTION_STEPPED;
    r.have_offset = true;
    r.offset_ns = -3 * S;
    return r;
}

static vts_sync_result
err_result(vts_err_code code)
{
    vts_sync_result r;

    memset(&r, 0, sizeof(r));
    r.action = VTS_ACTION_ERROR;
    r.err.code = code;
    return r;
}

/* Take @name as a worker would and finish it with @res. */
static vts_sched_outcome
run_job(vts_sched *s, const char *name, vts_sync_result res, int64_t now)
{
    vts_sched_entry job;

    assert_true(vts_sched_begin(s, name, &job));
    return vts_sched_finish(s, name, &res, now);
}

/* The watch waits while any sync is queued (vts_sched_queued): queued
 * domains count until a worker takes them. */
static void
test_queued_counts_syncs_waiting_for_a_worker(void **state)
{
    vts_sched *s = *state;
    vts_sched_entry job;

    assert_int_equal(vts_sched_queued(s), 0);
    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 10));
    assert_true(vts_sched_trigger(s, "b", "watch", 10));
    assert_int_equal(vts_sched_queued(s), 2);
    assert_true(vts_sched_begin(s, "a", &job));
    assert_int_equal(vts_sched_queued(s), 1);
    assert_true(vts_sched_begin(s, "b", &job));
    assert_int_equal(vts_sched_queued(s), 0);
}

/* The step delay a domain's syncs met is remembered, and the next job
 * carries the median of the last five: one slow step does not move it. */
static void
test_step_delay_is_learned_per_domain(void **state)
{
    static const int64_t met[] = {3 * MS, 2 * MS, 40 * MS, 3 * MS, 4 * MS, 3 * MS};
    vts_sched *s = *state;
    vts_sched_entry job;
    vts_sync_result r = ok_result();

    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 10));
    assert_true(vts_sched_begin(s, "a", &job));
    assert_true(vts_sched_step_delay(&job) == -1);
    r.have_landed_delay = true;
    for (size_t i = 0; i < sizeof(met) / sizeof(met[0]); i++) {
        r.landed_delay_ns = met[i];
        if (i > 0) {
            assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 20 + (int64_t)i));
            assert_true(vts_sched_begin(s, "a", &job));
        }
        assert_int_equal(vts_sched_finish(s, "a", &r, 20 + (int64_t)i), VTS_SCHED_DONE);
    }
    /* The last five: 2, 40, 3, 4, 3 ms. */
    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 30));
    assert_true(vts_sched_begin(s, "a", &job));
    assert_true(vts_sched_step_delay(&job) == 3 * MS);
    /* Another domain knows nothing yet. */
    assert_true(vts_sched_trigger(s, "b", "resumed/unpaused", 30));
    assert_true(vts_sched_begin(s, "b", &job));
    assert_true(vts_sched_step_delay(&job) == -1);
}

static void
test_trigger_queues_once_and_coalesces(void **state)
{
    vts_sched *s = *state;

    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 10));
    /* A second trigger while queued is served by the same sync. */
    assert_false(vts_sched_trigger(s, "a", "resumed/unpaused", 11));
    assert_false(vts_sched_trigger(s, "a", "started/restored", 12));
    assert_int_equal(vts_sched_get(s, "a")->phase, VTS_PHASE_QUEUED);
    assert_int_equal(run_job(s, "a", ok_result(), 20), VTS_SCHED_DONE);
    assert_int_equal(vts_sched_get(s, "a")->phase, VTS_PHASE_IDLE);
}

static void
test_trigger_during_sync_runs_once_more(void **state)
{
    vts_sched *s = *state;
    vts_sched_entry job;
    vts_sync_result ok = ok_result();

    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 10));
    assert_true(vts_sched_begin(s, "a", &job));
    assert_false(vts_sched_trigger(s, "a", "resumed/unpaused", 11));
    assert_false(vts_sched_trigger(s, "a", "resumed/unpaused", 12));
    assert_int_equal(vts_sched_finish(s, "a", &ok, 13), VTS_SCHED_REQUEUE);
    /* Exactly one more: the two triggers during the sync coalesced. */
    assert_int_equal(run_job(s, "a", ok_result(), 14), VTS_SCHED_DONE);
    assert_false(vts_sched_begin(s, "a", &job));
}

static void
test_stale_queue_item_is_skipped(void **state)
{
    vts_sched *s = *state;
    vts_sched_entry job;

    assert_false(vts_sched_begin(s, "never-seen", &job));
    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 10));
    vts_sched_stopped(s, "a");
    assert_false(vts_sched_begin(s, "a", &job));
}

static void
test_agent_not_connected_waits_for_agent_event(void **state)
{
    vts_sched *s = *state;

    assert_true(vts_sched_trigger(s, "m", "resumed/migrated", 100));
    assert_int_equal(run_job(s, "m", err_result(VTS_ERR_AGENT_NOT_CONNECTED), 101),
                     VTS_SCHED_WAIT);
    assert_int_equal(vts_sched_get(s, "m")->phase, VTS_PHASE_WAITING);
    /* Nothing is polled: the next due time is the deadline. */
    assert_int_equal(vts_sched_next_due(s), 100 + conf.agent_wait_ns);
    assert_true(vts_sched_agent_connected(s, "m", 120));
    assert_int_equal(run_job(s, "m", ok_result(), 130), VTS_SCHED_DONE);
    /* The latency counts from the first trigger. */
    assert_int_equal(vts_sched_get(s, "m")->last_latency_ns, 30);
}

static void
test_agent_connects_while_first_attempt_runs(void **state)
{
    vts_sched *s = *state;
    vts_sched_entry job;
    vts_sync_result notconn = err_result(VTS_ERR_AGENT_NOT_CONNECTED);

    assert_true(vts_sched_trigger(s, "m", "resumed/migrated", 100));
    assert_true(vts_sched_begin(s, "m", &job));
    assert_false(vts_sched_agent_connected(s, "m", 101));
    /* The attempt failed before the agent came: try again at once. */
    assert_int_equal(vts_sched_finish(s, "m", &notconn, 102), VTS_SCHED_REQUEUE);
    assert_int_equal(run_job(s, "m", ok_result(), 103), VTS_SCHED_DONE);
}

static void
test_agent_connect_without_trigger_does_nothing(void **state)
{
    vts_sched *s = *state;

    assert_false(vts_sched_agent_connected(s, "idle", 5));
    assert_true(vts_sched_trigger(s, "x", "resumed/unpaused", 10));
    assert_int_equal(run_job(s, "x", ok_result(), 11), VTS_SCHED_DONE);
    assert_false(vts_sched_agent_connected(s, "x", 12));
}

static void
test_restore_paused_then_resumed(void **state)
{
    vts_sched *s = *state;

    /* Started/restored arrives while the vCPUs are still paused. */
    assert_true(vts_sched_trigger(s, "r", "started/restored", 0));
    assert_int_equal(run_job(s, "r", err_result(VTS_ERR_PAUSED), 1), VTS_SCHED_WAIT);
    assert_true(vts_sched_trigger(s, "r", "resumed/from-snapshot", 2));
    assert_int_equal(run_job(s, "r", err_result(VTS_ERR_AGENT_NOT_CONNECTED), 3),
                     VTS_SCHED_WAIT);
    assert_true(vts_sched_agent_connected(s, "r", 13));
    assert_int_equal(run_job(s, "r", ok_result(), 15), VTS_SCHED_DONE);
    assert_string_equal(vts_sched_get(s, "r")->last_trigger, "resumed/from-snapshot");
    /* From the resume (2), not from the start while still paused (0). */
    assert_int_equal(vts_sched_get(s, "r")->last_latency_ns, 13);
}

static void
test_wait_deadline_expires(void **state)
{
    vts_sched *s = *state;
    int calls = 0;

    assert_true(vts_sched_trigger(s, "slow", "resumed/migrated", 0));
    assert_int_equal(run_job(s, "slow", err_result(VTS_ERR_AGENT_NOT_CONNECTED), 1),
                     VTS_SCHED_WAIT);
    assert_int_equal(vts_sched_expire(s, conf.agent_wait_ns - 1, NULL, &calls), 0);
    assert_int_equal(vts_sched_get(s, "slow")->phase, VTS_PHASE_WAITING);
}

static void
count_expiry(const char *name, vts_sched_expiry what, void *opaque)
{
    int *n = opaque;

    (void)name;
    *n += what == VTS_SCHED_EXPIRE_TIMEOUT ? 100 : 1;
}

/* The expiry kind of the last call, for the paused case below. */
static void
last_expiry(const char *name, vts_sched_expiry what, void *opaque)
{
    (void)name;
    *(vts_sched_expiry *)opaque = what;
}

/* A guest restored paused and still paused when the wait for its agent
 * runs out: that is no timeout (its resume is a trigger of its own). */
static void
test_wait_deadline_while_paused_is_no_timeout(void **state)
{
    vts_sched *s = *state;
    vts_sched_expiry what = VTS_SCHED_EXPIRE_QUEUE;

    assert_true(vts_sched_trigger(s, "p", "started/restored", 0));
    vts_sched_suspended(s, "p", "restored", 1);
    assert_int_equal(run_job(s, "p", err_result(VTS_ERR_PAUSED), 2), VTS_SCHED_WAIT);
    assert_int_equal(vts_sched_expire(s, conf.agent_wait_ns, last_expiry, &what), 1);
    assert_int_equal(what, VTS_SCHED_EXPIRE_PAUSED);
    assert_int_equal(vts_sched_get(s, "p")->phase, VTS_PHASE_IDLE);
    /* Its resume syncs it. */
    assert_true(vts_sched_trigger(s, "p", "resumed/unpaused", conf.agent_wait_ns + 1));
}

static void
test_wait_deadline_gives_up(void **state)
{
    vts_sched *s = *state;
    int calls = 0;

    assert_true(vts_sched_trigger(s, "slow", "resumed/migrated", 0));
    assert_int_equal(run_job(s, "slow", err_result(VTS_ERR_AGENT_NOT_CONNECTED), 1),
                     VTS_SCHED_WAIT);
    assert_int_equal(vts_sched_expire(s, conf.agent_wait_ns, count_expiry, &calls), 1);
    assert_int_equal(calls, 100);
    assert_int_equal(vts_sched_get(s, "slow")->phase, VTS_PHASE_IDLE);
    assert_int_equal(vts_sched_next_due(s), -1);
    /* A late agent connection after giving up does not queue. */
    assert_false(vts_sched_agent_connected(s, "slow", conf.agent_wait_ns + 1));
}

static void
test_unresponsive_agent_backs_off_exponentially(void **state)
{
    vts_sched *s = *state;
    int64_t now = 0;
    int queued = 0;
    const int64_t expected[] = {1 * S, 2 * S, 4 * S};

    assert_true(vts_sched_trigger(s, "hung", "resumed/unpaused", now));
    for (int i = 0; i < 3; i++) {
        now += 5 * S; /* each attempt times out after the agent timeout */
        assert_int_equal(run_job(s, "hung", err_result(VTS_ERR_AGENT_TIMEOUT), now),
                         VTS_SCHED_RETRY);
        assert_int_equal(vts_sched_get(s, "hung")->phase, VTS_PHASE_BACKOFF);
        assert_int_equal(vts_sched_next_due(s), now + expected[i]);
        /* Not before its time. */
        assert_int_equal(
            vts_sched_expire(s, now + expected[i] - 1, count_expiry, &queued), 0);
        now += expected[i];
        assert_int_equal(vts_sched_expire(s, now, count_expiry, &queued), 1);
        assert_int_equal(vts_sched_get(s, "hung")->phase, VTS_PHASE_QUEUED);
    }
    assert_int_equal(queued, 3);
    /* retry_max (3) used up: the fourth failure gives up. */
    assert_int_equal(run_job(s, "hung", err_result(VTS_ERR_AGENT_TIMEOUT), now + 5 * S),
                     VTS_SCHED_GAVE_UP);
    assert_int_equal(vts_sched_get(s, "hung")->phase, VTS_PHASE_IDLE);
}

static void
test_backoff_is_capped(void **state)
{
    vts_sched_conf c = conf;
    vts_sched *s;
    int64_t now = 0;
    int queued = 0;

    (void)state;
    c.retry_max = 10;
    s = vts_sched_new(&c);
    assert_non_null(s);
    assert_true(vts_sched_trigger(s, "hung", "resumed/unpaused", now));
    for (int i = 0; i < 6; i++) {
        assert_int_equal(run_job(s, "hung", err_result(VTS_ERR_AGENT_TIMEOUT), now),
                         VTS_SCHED_RETRY);
        assert_true(vts_sched_next_due(s) - now <= c.backoff_max_ns);
        now = vts_sched_next_due(s);
        vts_sched_expire(s, now, count_expiry, &queued);
    }
    assert_int_equal(vts_sched_next_due(s), -1);
    vts_sched_free(s);
}

static void
test_agent_reconnect_cuts_backoff_short(void **state)
{
    vts_sched *s = *state;

    assert_true(vts_sched_trigger(s, "h", "resumed/unpaused", 0));
    assert_int_equal(run_job(s, "h", err_result(VTS_ERR_AGENT_TIMEOUT), 5 * S),
                     VTS_SCHED_RETRY);
    /* qemu-ga restarted in the guest: no need to wait out the backoff. */
    assert_true(vts_sched_agent_connected(s, "h", 5 * S + 10));
    assert_int_equal(run_job(s, "h", ok_result(), 5 * S + 20), VTS_SCHED_DONE);
}

static void
test_permanent_errors_give_up_at_once(void **state)
{
    vts_sched *s = *state;
    const vts_err_code permanent[] = {
        VTS_ERR_NO_AGENT_CHANNEL, VTS_ERR_SET_TIME_UNSUPPORTED,
        VTS_ERR_NOT_FOUND,        VTS_ERR_NOT_RUNNING,
        VTS_ERR_OPTED_OUT,
    };

    for (size_t i = 0; i < sizeof(permanent) / sizeof(permanent[0]); i++) {
        assert_true(vts_sched_trigger(s, "p", "resumed/unpaused", 0));
        assert_int_equal(run_job(s, "p", err_result(permanent[i]), 1), VTS_SCHED_GAVE_UP);
        assert_int_equal(vts_sched_get(s, "p")->phase, VTS_PHASE_IDLE);
        assert_int_equal(vts_sched_next_due(s), -1);
    }
}

static void
test_permanent_error_ignores_rerun(void **state)
{
    vts_sched *s = *state;
    vts_sched_entry job;
    vts_sync_result r = err_result(VTS_ERR_NO_AGENT_CHANNEL);

    assert_true(vts_sched_trigger(s, "p", "resumed/unpaused", 0));
    assert_true(vts_sched_begin(s, "p", &job));
    assert_false(vts_sched_trigger(s, "p", "resumed/unpaused", 1));
    /* No retry loop for a domain that cannot be served. */
    assert_int_equal(vts_sched_finish(s, "p", &r, 2), VTS_SCHED_GAVE_UP);
}

static void
test_pause_length_is_recorded(void **state)
{
    vts_sched *s = *state;

    vts_sched_suspended(s, "a", "paused", 1 * S);
    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 4 * S));
    assert_int_equal(vts_sched_get(s, "a")->pause_ns, 3 * S);
    assert_int_equal(run_job(s, "a", ok_result(), 4 * S + 5), VTS_SCHED_DONE);
    assert_int_equal(vts_sched_get(s, "a")->last_pause_ns, 3 * S);
    /* The next trigger without a pause reports none. */
    assert_true(vts_sched_trigger(s, "a", "sweep", 10 * S));
    assert_int_equal(vts_sched_get(s, "a")->pause_ns, -1);
}

/* Busy while a sync is queued, under way or waiting for its agent, and
 * while the guest is paused; not for an unknown domain, nor once served. */
static void
test_busy_while_a_sync_is_pending_or_the_guest_paused(void **state)
{
    vts_sched *s = *state;
    vts_sched_entry job;
    vts_sync_result ok = ok_result();

    assert_false(vts_sched_busy(s, "a"));
    assert_true(vts_sched_trigger(s, "a", "sweep", 1 * S));
    assert_true(vts_sched_busy(s, "a")); /* queued */
    assert_true(vts_sched_begin(s, "a", &job));
    assert_true(vts_sched_busy(s, "a")); /* syncing */
    assert_int_equal(vts_sched_finish(s, "a", &ok, 1 * S + 5), VTS_SCHED_DONE);
    assert_false(vts_sched_busy(s, "a"));
    vts_sched_suspended(s, "a", "paused", 2 * S);
    assert_true(vts_sched_busy(s, "a")); /* paused, nothing pending */
    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 3 * S));
    assert_int_equal(run_job(s, "a", ok_result(), 3 * S + 5), VTS_SCHED_DONE);
    assert_false(vts_sched_busy(s, "a"));
    vts_sched_expect(s, "a", "restored", 4 * S);
    assert_true(vts_sched_busy(s, "a")); /* waiting for its agent */
    assert_false(vts_sched_busy(s, "b"));
}

/* An I/O-error pause is told apart from a plain one, for the log line of
 * the sync at resume; the next pause says its own reason. */
static void
test_pause_reason_is_recorded(void **state)
{
    vts_sched *s = *state;
    vts_sched_entry job;
    vts_sync_result ok = ok_result();

    vts_sched_suspended(s, "a", "ioerror", 1 * S);
    assert_string_equal(vts_sched_get(s, "a")->pause_reason, "ioerror");
    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 11 * S));
    assert_true(vts_sched_begin(s, "a", &job));
    assert_string_equal(job.pause_reason, "ioerror");
    assert_int_equal(job.pause_ns, 10 * S);
    assert_int_equal(vts_sched_finish(s, "a", &ok, 11 * S + 5), VTS_SCHED_DONE);
    /* Served: a later trigger without a pause has no reason either. */
    assert_true(vts_sched_trigger(s, "a", "sweep", 20 * S));
    assert_string_equal(vts_sched_get(s, "a")->pause_reason, "");
    assert_int_equal(run_job(s, "a", ok_result(), 20 * S + 5), VTS_SCHED_DONE);
    vts_sched_suspended(s, "a", "paused", 30 * S);
    assert_string_equal(vts_sched_get(s, "a")->pause_reason, "paused");
    /* NULL: no reason known. */
    vts_sched_suspended(s, "a", NULL, 40 * S);
    assert_string_equal(vts_sched_get(s, "a")->pause_reason, "");
}

static void
test_hook_expectation_waits_for_resume(void **state)
{
    vts_sched *s = *state;

    vts_sched_expect(s, "in", "hook/migrate", 0);
    assert_int_equal(vts_sched_get(s, "in")->phase, VTS_PHASE_WAITING);
    /* Nothing to queue before the guest runs; the agent or the resume
     * queues it. */
    assert_true(vts_sched_trigger(s, "in", "resumed/migrated", 2 * S));
    assert_int_equal(run_job(s, "in", ok_result(), 2 * S + 30), VTS_SCHED_DONE);
    /* Counted from the resume, not from the hook's announcement. */
    assert_int_equal(vts_sched_get(s, "in")->last_latency_ns, 30);
}

static void
test_hook_expectation_leaves_busy_entry(void **state)
{
    vts_sched *s = *state;

    assert_true(vts_sched_trigger(s, "b", "resumed/unpaused", 0));
    vts_sched_expect(s, "b", "hook/restore", 1);
    assert_int_equal(vts_sched_get(s, "b")->phase, VTS_PHASE_QUEUED);
}

static void
test_stopped_cancels_wait(void **state)
{
    vts_sched *s = *state;

    assert_true(vts_sched_trigger(s, "gone", "resumed/migrated", 0));
    assert_int_equal(run_job(s, "gone", err_result(VTS_ERR_AGENT_NOT_CONNECTED), 1),
                     VTS_SCHED_WAIT);
    vts_sched_stopped(s, "gone");
    /* Forgotten: the table follows the host's guests. */
    assert_null(vts_sched_get(s, "gone"));
    assert_int_equal(vts_sched_count(s), 0);
    assert_int_equal(vts_sched_next_due(s), -1);
}

static void
test_stopped_during_sync_does_not_wait(void **state)
{
    vts_sched *s = *state;
    vts_sched_entry job;
    vts_sync_result r = err_result(VTS_ERR_AGENT_NOT_CONNECTED);

    assert_true(vts_sched_trigger(s, "gone", "resumed/unpaused", 0));
    assert_true(vts_sched_begin(s, "gone", &job));
    /* Destroyed while the worker is on it; the worker then reports that
     * the agent is not connected. */
    vts_sched_stopped(s, "gone");
    assert_int_equal(vts_sched_finish(s, "gone", &r, 1), VTS_SCHED_GAVE_UP);
    assert_null(vts_sched_get(s, "gone"));
    assert_int_equal(vts_sched_next_due(s), -1);
    /* Started again later: served as usual. */
    assert_true(vts_sched_trigger(s, "gone", "started/restored", 10));
    assert_int_equal(run_job(s, "gone", ok_result(), 11), VTS_SCHED_DONE);
}

static void
test_rerun_is_credited_to_the_newer_trigger(void **state)
{
    vts_sched *s = *state;
    vts_sched_entry job;
    vts_sync_result ok = ok_result();

    assert_true(vts_sched_trigger(s, "a", "sweep", 0));
    assert_true(vts_sched_begin(s, "a", &job));
    vts_sched_suspended(s, "a", "paused", 1);
    assert_false(vts_sched_trigger(s, "a", "resumed/unpaused", 3));
    assert_int_equal(vts_sched_finish(s, "a", &ok, 4), VTS_SCHED_REQUEUE);
    assert_true(vts_sched_begin(s, "a", &job));
    assert_string_equal(job.trigger, "resumed/unpaused");
    assert_int_equal(job.pause_ns, 2);
}

static void
test_many_domains_are_independent(void **state)
{
    vts_sched *s = *state;
    char name[32];

    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "dom-%d", i);
        assert_true(vts_sched_trigger(s, name, "resumed/unpaused", i));
    }
    assert_int_equal(run_job(s, "dom-50", err_result(VTS_ERR_AGENT_TIMEOUT), 200),
                     VTS_SCHED_RETRY);
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "dom-%d", i);
        if (i != 50)
            assert_int_equal(run_job(s, name, ok_result(), 300), VTS_SCHED_DONE);
    }
    assert_int_equal(vts_sched_get(s, "dom-50")->phase, VTS_PHASE_BACKOFF);
}

static void
test_stopped_keeps_the_others_and_their_order(void **state)
{
    vts_sched *s = *state;
    vts_sched_entry job;
    vts_sync_result ok = ok_result();

    assert_true(vts_sched_trigger(s, "a", "sweep", 0));
    assert_true(vts_sched_trigger(s, "b", "sweep", 0));
    assert_true(vts_sched_trigger(s, "c", "sweep", 0));
    /* A worker holds c's copy while b goes: c's name stays valid. */
    assert_true(vts_sched_begin(s, "c", &job));
    vts_sched_stopped(s, "b");
    assert_int_equal(vts_sched_count(s), 2);
    assert_string_equal(job.name, "c");
    assert_int_equal(vts_sched_finish(s, "c", &ok, 1), VTS_SCHED_DONE);
    assert_int_equal(vts_sched_get(s, "a")->phase, VTS_PHASE_QUEUED);
    assert_int_equal(vts_sched_get(s, "c")->phase, VTS_PHASE_IDLE);
    vts_sched_stopped(s, "nobody");
    assert_int_equal(vts_sched_count(s), 2);
}

static void
collect_name(const char *name, void *opaque)
{
    char *seen = opaque;

    strcat(seen, name);
}

static void
test_prune_forgets_idle_domains_not_running(void **state)
{
    vts_sched *s = *state;
    char a[] = "a";
    char *running[] = {a};
    char seen[16] = "";

    assert_true(vts_sched_trigger(s, "a", "sweep", 0));
    assert_int_equal(run_job(s, "a", ok_result(), 1), VTS_SCHED_DONE);
    assert_true(vts_sched_trigger(s, "b", "sweep", 0));
    assert_int_equal(run_job(s, "b", ok_result(), 1), VTS_SCHED_DONE);
    assert_true(vts_sched_trigger(s, "busy", "sweep", 0)); /* queued: kept */
    vts_sched_suspended(s, "paused", "paused", 2);         /* paused: kept */
    assert_true(vts_sched_trigger(s, "c", "sweep", 0));
    assert_int_equal(run_job(s, "c", ok_result(), 1), VTS_SCHED_DONE);

    assert_int_equal(vts_sched_prune(s, running, 1, 10, collect_name, seen), 2);
    assert_string_equal(seen, "bc");
    assert_non_null(vts_sched_get(s, "a"));
    assert_non_null(vts_sched_get(s, "busy"));
    assert_non_null(vts_sched_get(s, "paused"));
    assert_int_equal(vts_sched_count(s), 3);
}

/* The sweep lists the running domains, then checks each one (agent calls
 * that take a while), then prunes. A domain that started or arrived in
 * between and was synced by its own event is not in the list, yet very
 * much there: it keeps its entry (its status and metrics). */
static void
test_prune_keeps_domains_with_news_since_the_list(void **state)
{
    vts_sched *s = *state;
    char a[] = "a";
    char *running[] = {a};
    char seen[16] = "";
    int calls = 0;

    assert_true(vts_sched_trigger(s, "a", "sweep", 0));
    assert_int_equal(run_job(s, "a", ok_result(), 1), VTS_SCHED_DONE);
    assert_true(vts_sched_trigger(s, "old", "resumed/unpaused", 2));
    assert_int_equal(run_job(s, "old", ok_result(), 3), VTS_SCHED_DONE);
    /* The list is taken at 10; then "new" arrives and syncs... */
    assert_true(vts_sched_trigger(s, "new", "resumed/migrated", 11));
    assert_int_equal(run_job(s, "new", ok_result(), 12), VTS_SCHED_DONE);
    /* ...and "hooked" is announced by the hook, its wait since given up. */
    vts_sched_expect(s, "hooked", "hook/migrate", 13);
    assert_true(vts_sched_trigger(s, "hooked", "resumed/migrated", 14));
    assert_int_equal(run_job(s, "hooked", err_result(VTS_ERR_AGENT_NOT_CONNECTED), 15),
                     VTS_SCHED_WAIT);
    assert_int_equal(vts_sched_expire(s, 700 * S, count_expiry, &calls), 1);

    assert_int_equal(vts_sched_prune(s, running, 1, 10, collect_name, seen), 1);
    assert_string_equal(seen, "old");
    assert_non_null(vts_sched_get(s, "a"));
    assert_non_null(vts_sched_get(s, "new"));
    assert_true(vts_sched_get(s, "new")->have_last);
    assert_non_null(vts_sched_get(s, "hooked"));
    assert_int_equal(vts_sched_count(s), 3);
}

static void
test_expectation_that_never_came_is_forgotten(void **state)
{
    vts_sched *s = *state;
    int calls = 0;

    /* The hook announced names that never ran here; one of them synced
     * before, and stays known. */
    vts_sched_expect(s, "ghost", "hook/migrate", 0);
    assert_true(vts_sched_trigger(s, "known", "sweep", 0));
    assert_int_equal(run_job(s, "known", ok_result(), 1), VTS_SCHED_DONE);
    vts_sched_expect(s, "known", "hook/restore", 2);
    assert_int_equal(vts_sched_expire(s, 700 * S, count_expiry, &calls), 2);
    assert_int_equal(calls, 200); /* two timeouts */
    assert_null(vts_sched_get(s, "ghost"));
    assert_int_equal(vts_sched_get(s, "known")->phase, VTS_PHASE_IDLE);
}

static const vts_sched_conf recheck_conf = {
    .agent_wait_ns = 600 * S,
    .retry_max = 3,
    .backoff_initial_ns = 1 * S,
    .backoff_max_ns = 4 * S,
    .recheck_max = 2,
    .recheck_delay_ns = 1 * S,
    .tolerance_ns = 1000000,
};

static vts_sync_result
stepped_to(int64_t residual_ns)
{
    vts_sync_result r = ok_result();

    r.have_residual = true;
    r.residual_ns = residual_ns;
    return r;
}

static void
test_residual_over_tolerance_is_rechecked(void **state)
{
    vts_sched *s = vts_sched_new(&recheck_conf);
    vts_sched_entry job;
    vts_sync_result r;
    int calls = 0;

    (void)state;
    assert_non_null(s);
    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 0));
    assert_true(vts_sched_begin(s, "a", &job));
    assert_int_equal(job.rechecks, 0);
    r = stepped_to(-4000000); /* 4 ms off: within threshold + rtt */
    assert_int_equal(vts_sched_finish(s, "a", &r, 10), VTS_SCHED_RECHECK);
    assert_int_equal(vts_sched_get(s, "a")->phase, VTS_PHASE_RECHECK);
    assert_int_equal(vts_sched_next_due(s), 10 + 1 * S);
    assert_int_equal(vts_sched_expire(s, 5 + 1 * S, count_expiry, &calls), 0);
    assert_int_equal(vts_sched_expire(s, 10 + 1 * S, count_expiry, &calls), 1);

    /* The re-check: marked, credited to the same trigger. */
    assert_true(vts_sched_begin(s, "a", &job));
    assert_int_equal(job.rechecks, 1);
    assert_string_equal(job.trigger, "resumed/unpaused");
    assert_int_equal(job.trigger_ns, 0);
    r = stepped_to(3000000);
    assert_int_equal(vts_sched_finish(s, "a", &r, 2 * S), VTS_SCHED_RECHECK);
    /* The second waits twice as long. */
    assert_int_equal(vts_sched_next_due(s), 4 * S);
    assert_int_equal(vts_sched_expire(s, 4 * S, count_expiry, &calls), 1);
    r = stepped_to(2000000);
    /* Out of re-checks: done, whatever is left. */
    assert_int_equal(run_job(s, "a", r, 5 * S), VTS_SCHED_DONE);
    assert_int_equal(vts_sched_get(s, "a")->phase, VTS_PHASE_IDLE);
    vts_sched_free(s);
}

static void
test_recheck_ends_when_within_tolerance_or_untouched(void **state)
{
    vts_sched *s = vts_sched_new(&recheck_conf);
    vts_sync_result none = ok_result();
    int calls = 0;

    (void)state;
    assert_non_null(s);
    /* Within the tolerance: done at once. */
    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 0));
    assert_int_equal(run_job(s, "a", stepped_to(-900000), 1), VTS_SCHED_DONE);
    /* Left alone (within the threshold), or only measured: no re-check. */
    none.action = VTS_ACTION_NONE;
    assert_true(vts_sched_trigger(s, "a", "resumed/migrated", 2));
    assert_int_equal(run_job(s, "a", none, 3), VTS_SCHED_DONE);
    /* A re-check that finds the guest fine ends it. */
    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 4));
    assert_int_equal(run_job(s, "a", stepped_to(5000000), 5), VTS_SCHED_RECHECK);
    assert_int_equal(vts_sched_expire(s, 5 + 1 * S, count_expiry, &calls), 1);
    assert_int_equal(run_job(s, "a", none, 2 * S), VTS_SCHED_DONE);
    vts_sched_free(s);
}

static void
test_new_trigger_during_recheck_wait_starts_afresh(void **state)
{
    vts_sched *s = vts_sched_new(&recheck_conf);
    vts_sched_entry job;
    int calls = 0;

    (void)state;
    assert_non_null(s);
    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 0));
    assert_int_equal(run_job(s, "a", stepped_to(5000000), 1), VTS_SCHED_RECHECK);
    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 100));
    assert_true(vts_sched_begin(s, "a", &job));
    assert_int_equal(job.rechecks, 0);
    assert_int_equal(job.trigger_ns, 100);
    vts_sched_stopped(s, "a");
    assert_int_equal(vts_sched_expire(s, 10 * S, count_expiry, &calls), 0);
    vts_sched_free(s);
}

static void
test_recheck_that_finds_the_guest_paused_gives_way_to_the_resume(void **state)
{
    vts_sched *s = vts_sched_new(&recheck_conf);
    vts_sched_entry job;
    vts_sync_result paused = err_result(VTS_ERR_PAUSED);
    int calls = 0;

    (void)state;
    assert_non_null(s);
    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 0));
    assert_int_equal(run_job(s, "a", stepped_to(5000000), 1), VTS_SCHED_RECHECK);
    assert_int_equal(vts_sched_expire(s, 1 + 1 * S, count_expiry, &calls), 1);
    /* Paused again before the re-check ran: it waits for the resume... */
    assert_true(vts_sched_begin(s, "a", &job));
    assert_int_equal(job.rechecks, 1);
    assert_int_equal(vts_sched_finish(s, "a", &paused, 2 * S), VTS_SCHED_WAIT);
    /* ...whose sync is a regular one. */
    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 3 * S));
    assert_true(vts_sched_begin(s, "a", &job));
    assert_int_equal(job.rechecks, 0);
    assert_int_equal(job.trigger_ns, 3 * S);
    vts_sched_free(s);
}

/* Take the domain that should go first, as a worker does, and check it is
 * @want. */
static void
take_next(vts_sched *s, const char *want, vts_sync_result res, int64_t now)
{
    vts_sched_entry job;

    assert_true(vts_sched_begin_next(s, &job));
    assert_string_equal(job.name, want);
    vts_sched_finish(s, want, &res, now);
}

static void
test_next_takes_domains_in_the_order_queued(void **state)
{
    vts_sched *s = *state;
    vts_sched_entry job;

    assert_true(vts_sched_trigger(s, "c", "resumed/unpaused", 10));
    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 11));
    assert_true(vts_sched_trigger(s, "b", "resumed/unpaused", 12));
    take_next(s, "c", ok_result(), 20);
    take_next(s, "a", ok_result(), 21);
    take_next(s, "b", ok_result(), 22);
    assert_false(vts_sched_begin_next(s, &job));
}

static void
test_hung_agent_goes_after_those_that_answer(void **state)
{
    vts_sched *s = *state;
    vts_sched_entry job;
    int calls = 0;

    /* The first round: nothing is known, first come first served. */
    assert_true(vts_sched_trigger(s, "hung", "resumed/unpaused", 10));
    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 10));
    take_next(s, "hung", err_result(VTS_ERR_AGENT_TIMEOUT), 5 * S);
    take_next(s, "a", ok_result(), 5 * S);

    /* Its retry is due before the others' next triggers, and still goes
     * after them: it would hold a worker for a whole timeout. */
    assert_int_equal(vts_sched_expire(s, 7 * S, count_expiry, &calls), 1);
    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 8 * S));
    assert_true(vts_sched_trigger(s, "b", "resumed/unpaused", 8 * S));
    take_next(s, "a", ok_result(), 9 * S);
    take_next(s, "b", ok_result(), 9 * S);
    take_next(s, "hung", err_result(VTS_ERR_AGENT_TIMEOUT), 14 * S);

    /* A new trigger for it (a mass resume) does not put it first either. */
    assert_true(vts_sched_trigger(s, "hung", "resumed/unpaused", 20 * S));
    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 20 * S));
    assert_true(vts_sched_trigger(s, "b", "resumed/unpaused", 20 * S));
    take_next(s, "a", ok_result(), 21 * S);
    take_next(s, "b", ok_result(), 21 * S);
    take_next(s, "hung", ok_result(), 21 * S);
    assert_false(vts_sched_begin_next(s, &job));
}

static void
test_agent_that_answers_again_regains_its_place(void **state)
{
    vts_sched *s = *state;
    int calls = 0;

    assert_true(vts_sched_trigger(s, "x", "resumed/unpaused", 10));
    take_next(s, "x", err_result(VTS_ERR_AGENT_TIMEOUT), 5 * S);
    /* It answered its retry: the next mass resume serves it in order. */
    assert_int_equal(vts_sched_expire(s, 7 * S, count_expiry, &calls), 1);
    take_next(s, "x", ok_result(), 8 * S);
    assert_true(vts_sched_trigger(s, "x", "resumed/unpaused", 20 * S));
    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 20 * S));
    take_next(s, "x", ok_result(), 21 * S);
    take_next(s, "a", ok_result(), 21 * S);

    /* So does one whose agent connected again (a restarted qemu-ga). */
    assert_true(vts_sched_trigger(s, "x", "resumed/unpaused", 30 * S));
    take_next(s, "x", err_result(VTS_ERR_AGENT_TIMEOUT), 35 * S);
    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 36 * S));
    assert_true(vts_sched_agent_connected(s, "x", 36 * S));
    take_next(s, "a", ok_result(), 37 * S);
    take_next(s, "x", ok_result(), 37 * S);
}

static void
test_hung_agents_hold_at_most_their_share_of_workers(void **state)
{
    vts_sched_conf c = conf;
    vts_sched *s;
    vts_sched_entry job;
    vts_sync_result hung = err_result(VTS_ERR_AGENT_TIMEOUT);
    int calls = 0;

    (void)state;
    c.unresponsive_max = 1;
    s = vts_sched_new(&c);
    assert_non_null(s);
    assert_true(vts_sched_trigger(s, "h1", "resumed/unpaused", 0));
    assert_true(vts_sched_trigger(s, "h2", "resumed/unpaused", 0));
    take_next(s, "h1", hung, 5 * S);
    take_next(s, "h2", hung, 5 * S);
    assert_int_equal(vts_sched_unhold(s), 0);

    /* Both retries are due; one worker goes to the first... */
    assert_int_equal(vts_sched_expire(s, 6 * S, count_expiry, &calls), 2);
    assert_true(vts_sched_begin_next(s, &job));
    assert_string_equal(job.name, "h1");
    /* ...and the second worker does not also wait on a hung agent: it
     * stays free for a guest that answers. */
    assert_false(vts_sched_begin_next(s, &job));
    assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", 7 * S));
    take_next(s, "a", ok_result(), 8 * S);
    assert_int_equal(vts_sched_unhold(s), 0);

    /* When h1's retry ends, h2's may start: one pool item to push again. */
    assert_int_equal(vts_sched_finish(s, "h1", &hung, 11 * S), VTS_SCHED_RETRY);
    assert_int_equal(vts_sched_unhold(s), 1);
    assert_int_equal(vts_sched_unhold(s), 0);
    take_next(s, "h2", ok_result(), 12 * S);
    vts_sched_free(s);
}

/* vts_sched.h promises that a re-check never waits longer than
 * VTS_SCHED_RECHECK_DELAY_MAX (60 s): neither once doubled past it (40 s,
 * then 80 s) nor when recheck_delay itself is set longer (up to 10 min). */
static void
test_recheck_delay_is_capped(void **state)
{
    static const int64_t first[] = {40 * S, 10 * 60 * S};
    vts_sched_conf c = recheck_conf;
    int calls = 0;

    (void)state;
    c.recheck_max = 4;
    for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
        vts_sched *s;
        int64_t now = 0;

        c.recheck_delay_ns = first[i];
        s = vts_sched_new(&c);
        assert_non_null(s);
        assert_true(vts_sched_trigger(s, "a", "resumed/unpaused", now));
        for (int k = 0; k < c.recheck_max; k++) {
            int64_t want = first[i] << k;

            if (want > VTS_SCHED_RECHECK_DELAY_MAX)
                want = VTS_SCHED_RECHECK_DELAY_MAX;
            assert_int_equal(run_job(s, "a", stepped_to(5000000), now),
                             VTS_SCHED_RECHECK);
            assert_int_equal(vts_sched_next_due(s) - now, want);
            now += want;
            assert_int_equal(vts_sched_expire(s, now, count_expiry, &calls), 1);
        }
        vts_sched_free(s);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_trigger_queues_once_and_coalesces, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_step_delay_is_learned_per_domain, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_trigger_during_sync_runs_once_more, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stale_queue_item_is_skipped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_agent_not_connected_waits_for_agent_event,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_agent_connects_while_first_attempt_runs,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_agent_connect_without_trigger_does_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_paused_then_resumed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wait_deadline_expires, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_deadline_while_paused_is_no_timeout,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_deadline_gives_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unresponsive_agent_backs_off_exponentially,
                                        setup, teardown),
        cmocka_unit_test(test_backoff_is_capped),
        cmocka_unit_test_setup_teardown(test_agent_reconnect_cuts_backoff_short, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_permanent_errors_give_up_at_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_permanent_error_ignores_rerun, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pause_length_is_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_busy_while_a_sync_is_pending_or_the_guest_paused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pause_reason_is_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hook_expectation_waits_for_resume, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hook_expectation_leaves_busy_entry, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stopped_cancels_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stopped_during_sync_does_not_wait, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rerun_is_credited_to_the_newer_trigger,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_domains_are_independent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_next_takes_domains_in_the_order_queued,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_hung_agent_goes_after_those_that_answer,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_agent_that_answers_again_regains_its_place,
                                        setup, teardown),
        cmocka_unit_test(test_hung_agents_hold_at_most_their_share_of_workers),
        cmocka_unit_test_setup_teardown(test_stopped_keeps_the_others_and_their_order,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_forgets_idle_domains_not_running,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_keeps_domains_with_news_since_the_list,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_expectation_that_never_came_is_forgotten,
                                        setup, teardown),
        cmocka_unit_test(test_residual_over_tolerance_is_rechecked),
        cmocka_unit_test(test_recheck_ends_when_within_tolerance_or_untouched),
        cmocka_unit_test(test_new_trigger_during_recheck_wait_starts_afresh),
        cmocka_unit_test(
            test_recheck_that_finds_the_guest_paused_gives_way_to_the_resume),
        cmocka_unit_test(test_recheck_delay_is_capped),
        cmocka_unit_test_setup_teardown(test_queued_counts_syncs_waiting_for_a_worker,
                                        setup, teardown),
    };

    return cmocka_run_group_tests_name("sched", tests, NULL, NULL);
}
