/* test_watch.c: watch mode's schedule and correction policy
 * (lib/vts_watch.c), with the fake hypervisor for the measurements. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_hv.h"
#include "vts_watch.h"

#define S (1000000000LL)
#define MS (1000000LL)
#define T0 (1000 * S)

static vts_watch_conf
conf_of(int64_t interval, int64_t fix_above, int max_running)
{
    vts_watch_conf c = {interval, fix_above, max_running, 42};

    return c;
}

static vts_sync_result
measured(int64_t offset)
{
    return (vts_sync_result){.action = VTS_ACTION_CHECKED,
                             .have_offset = true,
                             .offset_ns = offset,
                             .rtt_ns = 2 * MS};
}

static vts_sync_result
failed(vts_err_code code)
{
    return (vts_sync_result){.action = VTS_ACTION_ERROR, .err = {.code = code}};
}

/* Run the watch from @from to @to in steps of @step as the daemon's loop
 * would: every measurement due starts and ends at once with @offset.
 * Records in @at[i] (up to @max) the time of each, in @who[i] its name's
 * index ("d<N>"). Returns how many. */
static size_t
simulate(vts_watch *w, int64_t from, int64_t to, int64_t step, int64_t offset,
         int64_t *at, int *who, size_t max)
{
    size_t n = 0;

    for (int64_t now = from; now < to; now += step) {
        vts_watch_entry job;

        while (vts_watch_begin_next(w, now, false, NULL, NULL, &job, NULL)) {
            vts_sync_result r = measured(offset);
            char name[32];
            int64_t moved;

            snprintf(name, sizeof(name), "%s", job.name);
            if (n < max) {
                at[n] = now;
                who[n] = atoi(name + 1);
                n++;
            }
            vts_watch_finish(w, name, &r, now, now, &moved);
        }
    }
    return n;
}

static vts_watch *
watch_with(int ndomains, const vts_watch_conf *c)
{
    vts_watch *w = vts_watch_new(c, T0);

    assert_non_null(w);
    for (int i = 0; i < ndomains; i++) {
        char name[32];

        snprintf(name, sizeof(name), "d%d", i);
        assert_true(vts_watch_add(w, name, T0));
    }
    return w;
}

/* Ten domains added at once are measured once each per interval, spread
 * over it: never a burst, never a quarter of the interval without one. */
static void
test_watch_spreads_measurements_over_the_interval(void **state)
{
    vts_watch_conf c = conf_of(60 * S, 1 * S, 4);
    vts_watch *w = watch_with(10, &c);
    int64_t at[200];
    int who[200];
    size_t n;

    (void)state;
    assert_false(vts_watch_add(w, "d3", T0)); /* once only */
    n = simulate(w, T0, T0 + 5 * 60 * S, 100 * MS, 0, at, who, 200);
    /* 5 intervals, 10 domains (jitter may push a fifth-interval one out). */
    assert_true(n >= 45 && n <= 50);
    for (int k = 0; k < 4; k++) {
        int seen[10] = {0};

        for (size_t i = 0; i < n; i++) {
            int64_t rel = at[i] - T0 - k * 60 * S;

            if (rel >= 6 * S && rel < 66 * S)
                seen[who[i]]++;
        }
        for (int d = 0; d < 10; d++)
            assert_int_equal(seen[d], 1);
    }
    /* Every window of 15 s (a quarter) holds 1 to 5 of them. */
    for (int64_t win = T0 + 60 * S; win + 15 * S <= T0 + 4 * 60 * S; win += S) {
        int in = 0;

        for (size_t i = 0; i < n; i++)
            in += at[i] >= win && at[i] < win + 15 * S;
        assert_in_range(in, 1, 5);
    }
    vts_watch_free(w);
}

/* A domain's measurement lands at its slot plus a jitter below a tenth of
 * the interval, drawn anew each interval, and never drifts away. */
static void
test_watch_jitter_is_bounded_and_varies(void **state)
{
    vts_watch_conf c = conf_of(60 * S, 1 * S, 4);
    vts_watch *w = watch_with(1, &c);
    const vts_watch_entry *e = vts_watch_get(w, "d0");
    int64_t first_slot = e->slot_ns;
    int64_t jitters[20];
    bool differ = false;

    (void)state;
    for (int k = 0; k < 20; k++) {
        vts_watch_entry job;
        vts_sync_result r = measured(0);
        int64_t moved;

        e = vts_watch_get(w, "d0");
        assert_true(e->slot_ns == first_slot + k * 60 * S);
        jitters[k] = e->due_ns - e->slot_ns;
        assert_in_range(jitters[k], 0, 6 * S - 1);
        if (k > 0 && jitters[k] != jitters[0])
            differ = true;
        assert_false(
            vts_watch_begin_next(w, e->due_ns - 1, false, NULL, NULL, &job, NULL));
        assert_true(vts_watch_begin_next(w, e->due_ns, false, NULL, NULL, &job, NULL));
        vts_watch_finish(w, "d0", &r, job.due_ns, job.due_ns, &moved);
    }
    assert_true(differ);
    vts_watch_free(w);
}

static bool
busy_d1(const char *name, void *opaque)
{
    (void)opaque;
    return strcmp(name, "d1") == 0;
}

/* Syncs go first: nothing starts while one is queued; a domain whose own
 * sync is pending is skipped to its next interval; a measurement given
 * back is due again at once. */
static void
test_watch_yields_to_syncs(void **state)
{
    vts_watch_conf c = conf_of(10 * S, 1 * S, 4);
    vts_watch *w = watch_with(2, &c);
    int64_t late = T0 + 20 * S;
    int64_t d1_slot = vts_watch_get(w, "d1")->slot_ns;
    vts_watch_entry job;
    size_t skipped = 0;

    (void)state;
    assert_false(vts_watch_begin_next(w, late, true, NULL, NULL, &job, &skipped));
    assert_true(vts_watch_begin_next(w, late, false, busy_d1, NULL, &job, &skipped));
    assert_string_equal(job.name, "d0");
    assert_false(vts_watch_begin_next(w, late, false, busy_d1, NULL, &job, &skipped));
    assert_int_equal(skipped, 1);
    assert_true(vts_watch_get(w, "d1")->slot_ns > d1_slot);
    assert_true(vts_watch_get(w, "d1")->due_ns > late);
    /* d0 given back: due again at once. */
    vts_watch_yield(w, "d0");
    assert_true(vts_watch_begin_next(w, late, false, NULL, NULL, &job, NULL));
    assert_string_equal(job.name, "d0");
    /* Off: nothing, ever. */
    c.interval_ns = 0;
    vts_watch_set_conf(w, &c, late);
    assert_true(vts_watch_next_due(w) < 0);
    assert_false(vts_watch_begin_next(w, late + 100 * S, false, NULL, NULL, &job, NULL));
    vts_watch_free(w);
}

/* At most max_running at once, plus one of an agent that timed out: a
 * hung agent does not hold up the others. */
static void
test_watch_bounds_measurements_at_once(void **state)
{
    vts_watch_conf c = conf_of(10 * S, 1 * S, 2);
    vts_watch *w = watch_with(4, &c);
    int64_t late = T0 + 20 * S;
    vts_sync_result timeout = failed(VTS_ERR_AGENT_TIMEOUT);
    vts_sync_result ok = measured(0);
    vts_watch_entry a, b, x;
    char hung[32];
    int64_t moved;

    (void)state;
    assert_true(vts_watch_begin_next(w, late, false, NULL, NULL, &a, NULL));
    assert_true(vts_watch_begin_next(w, late, false, NULL, NULL, &b, NULL));
    assert_false(vts_watch_begin_next(w, late, false, NULL, NULL, &x, NULL));
    assert_true(vts_watch_next_due(w) < 0); /* full: a finish calls again */
    snprintf(hung, sizeof(hung), "%s", a.name);
    assert_int_equal(vts_watch_finish(w, hung, &timeout, late, late, &moved),
                     VTS_WATCH_FAILED);
    assert_true(vts_watch_get(w, hung)->unresponsive);
    assert_int_equal(vts_watch_finish(w, b.name, &ok, late, late, &moved), VTS_WATCH_OK);
    /* Next interval: the hung one takes the extra place, two others run. */
    late += 12 * S;
    {
        int n = 0, unresp = 0;

        while (vts_watch_begin_next(w, late, false, NULL, NULL, &x, NULL)) {
            n++;
            unresp += x.unresponsive;
        }
        assert_int_equal(n, 3);
        assert_int_equal(unresp, 1);
    }
    vts_watch_free(w);
}

/* The next measurement of "d0", an interval after *@now, ends with @r. */
static vts_watch_verdict
next_round(vts_watch *w, int64_t *now, vts_sync_result r)
{
    vts_watch_entry job;
    int64_t moved;

    *now += 10 * S;
    assert_true(vts_watch_begin_next(w, *now, false, NULL, NULL, &job, NULL));
    return vts_watch_finish(w, "d0", &r, *now, 77 * S, &moved);
}

/* Below the bound: reported only; above: a sync; never: reported only. */
static void
test_watch_correction_bound(void **state)
{
    vts_watch_conf c = conf_of(10 * S, 1 * S, 4);
    vts_watch *w = watch_with(1, &c);
    int64_t now = T0 + 10 * S;

    (void)state;
    assert_int_equal(next_round(w, &now, measured(-50 * MS)), VTS_WATCH_OK);
    assert_true(vts_watch_get(w, "d0")->offset_ns == -50 * MS);
    assert_true(vts_watch_get(w, "d0")->measured_wall_ns == 77 * S);
    /* At the bound: not beyond it. */
    assert_int_equal(next_round(w, &now, measured(1 * S)), VTS_WATCH_OK);
    assert_int_equal(next_round(w, &now, measured(-3 * S)), VTS_WATCH_FIX);
    c.fix_above_ns = -1;
    vts_watch_set_conf(w, &c, now);
    assert_int_equal(next_round(w, &now, measured(-3 * S)), VTS_WATCH_OK);
    /* A domain that stopped is no longer watched. */
    assert_int_equal(next_round(w, &now, failed(VTS_ERR_NOT_RUNNING)), VTS_WATCH_GONE);
    assert_int_equal(vts_watch_count(w), 0);
    vts_watch_free(w);
}

/* ---- with the fake hypervisor ---- */

typedef struct {
    vts_hv_conn *conn;
    vts_watch *w;
    vts_watch_conf c;
    vts_sync_opts opts;
    int64_t now;
} fix;

static int
setup_fake(void **state)
{
    fix *f = calloc(1, sizeof(*f));
    vts_error err;

    fake_hv_reset();
    fake_hv_set_delay(1 * MS, 1 * MS);
    if (!f || fake_hv_ops.connect("fake:///", &f->conn, &err) < 0)
        return -1;
    f->c = conf_of(60 * S, 1 * S, 4);
    f->now = T0;
    f->w = vts_watch_new(&f->c, f->now);
    vts_sync_opts_init(&f->opts);
    vts_watch_add(f->w, FAKE_HV_DOMAIN, f->now);
    *state = f;
    return 0;
}

static int
teardown_fake(void **state)
{
    fix *f = *state;

    fake_hv_ops.disconnect(f->conn);
    vts_watch_free(f->w);
    free(f);
    fake_hv_cleanup();
    return 0;
}

/* One watch round of the fake domain, as the daemon does it: the
 * measurement, then, for FIX, a sync whose end marks the domain fixed. */
static vts_watch_verdict
round_of(fix *f, int64_t *moved)
{
    vts_watch_entry job;
    vts_sync_result res;
    vts_watch_verdict v;

    f->now += 61 * S;
    assert_true(vts_watch_begin_next(f->w, f->now, false, NULL, NULL, &job, NULL));
    vts_watch_measure(&fake_hv_ops, f->conn, FAKE_HV_DOMAIN, &f->c, &f->opts, &res);
    v = vts_watch_finish(f->w, FAKE_HV_DOMAIN, &res, f->now, fake_hv_now(), moved);
    if (v == VTS_WATCH_FIX) {
        vts_sync_domain(&fake_hv_ops, f->conn, FAKE_HV_DOMAIN, &f->opts, &res);
        assert_int_equal(res.action, VTS_ACTION_STEPPED);
        vts_watch_fixed(f->w, FAKE_HV_DOMAIN);
    }
    return v;
}

/* A measurement is guest-get-time only, one call when the offset is
 * clearly on one side of the bound. */
static void
test_watch_measures_with_one_get_time(void **state)
{
    fix *f = *state;
    vts_sync_result res;

    fake_hv_set_guest_offset(-50 * MS);
    assert_int_equal(
        vts_watch_measure(&fake_hv_ops, f->conn, FAKE_HV_DOMAIN, &f->c, &f->opts, &res),
        0);
    assert_int_equal(res.action, VTS_ACTION_CHECKED);
    assert_true(res.offset_ns > -51 * MS && res.offset_ns < -49 * MS);
    assert_int_equal(fake_hv_ncalls(), 1);
    assert_int_equal(fake_hv_count("guest-get-time"), 1);
    assert_int_equal(fake_hv_guest_offset(), -50 * MS);
}

/* A guest whose clock the fake drifts back after each step: fixed once,
 * then reported once ("moved N ms since the last step") and left alone
 * until an event; then fixed again. */
static void
test_watch_does_not_fight_the_guest(void **state)
{
    fix *f = *state;
    int64_t moved;

    fake_hv_set_guest_offset(-3 * S);
    assert_int_equal(round_of(f, &moved), VTS_WATCH_FIX);
    assert_int_equal(fake_hv_count("guest-set-time"), 1);
    assert_true(llabs(fake_hv_guest_offset()) < 2 * MS);

    fake_hv_set_guest_offset(-3 * S); /* the guest's NTP puts it back */
    assert_int_equal(round_of(f, &moved), VTS_WATCH_HELD);
    assert_true(moved < -2990 * MS && moved > -3010 * MS);
    assert_int_equal(round_of(f, &moved), VTS_WATCH_HELD);
    assert_true(moved == 0); /* reported once */
    assert_int_equal(round_of(f, &moved), VTS_WATCH_HELD);
    assert_int_equal(fake_hv_count("guest-set-time"), 1); /* never stepped again */

    vts_watch_event(f->w, FAKE_HV_DOMAIN); /* e.g. resumed */
    assert_int_equal(round_of(f, &moved), VTS_WATCH_FIX);
    assert_int_equal(fake_hv_count("guest-set-time"), 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_watch_spreads_measurements_over_the_interval),
        cmocka_unit_test(test_watch_jitter_is_bounded_and_varies),
        cmocka_unit_test(test_watch_yields_to_syncs),
        cmocka_unit_test(test_watch_bounds_measurements_at_once),
        cmocka_unit_test(test_watch_correction_bound),
        cmocka_unit_test_setup_teardown(test_watch_measures_with_one_get_time, setup_fake,
                                        teardown_fake),
        cmocka_unit_test_setup_teardown(test_watch_does_not_fight_the_guest, setup_fake,
                                        teardown_fake),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
