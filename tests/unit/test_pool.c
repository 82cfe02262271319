/* test_pool.c: unit tests for lib/vts_pool.c, the worker threads that run
 * the daemon's agent calls: every pushed name runs once, a hung job holds
 * one worker and no more, and stopping drops the queue and waits only as
 * long as it is told. Jobs here block on a gate the test opens. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "vts_pool.h"

#define MAX_RAN 64

/* What the jobs saw. Jobs whose name starts with "hold" wait until the
 * gate opens; the others return at once. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    bool open;
    int running;     /* jobs under way now */
    int max_running; /* the most at once */
    size_t nran;
    char ran[MAX_RAN][16]; /* names, in the order the jobs began */
} jobs;

static void
job(const char *name, void *opaque)
{
    jobs *j = opaque;

    pthread_mutex_lock(&j->lock);
    if (j->nran < MAX_RAN)
        snprintf(j->ran[j->nran++], sizeof(j->ran[0]), "%s", name);
    j->running++;
    if (j->running > j->max_running)
        j->max_running = j->running;
    pthread_cond_broadcast(&j->changed);
    while (strncmp(name, "hold", 4) == 0 && !j->open)
        pthread_cond_wait(&j->changed, &j->lock);
    j->running--;
    pthread_cond_broadcast(&j->changed);
    pthread_mutex_unlock(&j->lock);
}

/* Wait up to 5 s until @nran jobs have begun and @running are under way.
 * Returns whether that came. */
static bool
wait_jobs(jobs *j, size_t nran, int running)
{
    struct timespec until;
    bool met;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&j->lock);
    while (!(met = j->nran == nran && j->running == running))
        if (pthread_cond_timedwait(&j->changed, &j->lock, &until) != 0)
            break;
    met = j->nran == nran && j->running == running;
    pthread_mutex_unlock(&j->lock);
    return met;
}

static void
open_gate(jobs *j)
{
    pthread_mutex_lock(&j->lock);
    j->open = true;
    pthread_cond_broadcast(&j->changed);
    pthread_mutex_unlock(&j->lock);
}

static int
setup(void **state)
{
    jobs *j = calloc(1, sizeof(*j));

    if (!j)
        return -1;
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->changed, NULL);
    *state = j;
    return 0;
}

static int
teardown(void **state)
{
    jobs *j = *state;

    pthread_mutex_destroy(&j->lock);
    pthread_cond_destroy(&j->changed);
    free(j);
    return 0;
}

/* One worker: every name runs once, in the order pushed. */
static void
test_pool_runs_each_name_once_in_order(void **state)
{
    jobs *j = *state;
    vts_error err;
    vts_pool *pool = vts_pool_new(1, job, j, &err);
    char name[16];

    assert_non_null(pool);
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "dom-%d", i);
        assert_int_equal(vts_pool_push(pool, name), 0);
    }
    assert_true(wait_jobs(j, 10, 0));
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "dom-%d", i);
        assert_string_equal(j->ran[i], name);
    }
    assert_int_equal(j->max_running, 1);
    assert_int_equal(vts_pool_stop(pool, 1000), 0);
    vts_pool_free(pool);
}

/* Three workers run three jobs at once, and no more: a fourth waits for a
 * free worker. */
static void
test_pool_runs_as_many_jobs_as_workers(void **state)
{
    jobs *j = *state;
    vts_error err;
    vts_pool *pool = vts_pool_new(3, job, j, &err);

    assert_non_null(pool);
    assert_int_equal(vts_pool_push(pool, "hold-1"), 0);
    assert_int_equal(vts_pool_push(pool, "hold-2"), 0);
    assert_int_equal(vts_pool_push(pool, "hold-3"), 0);
    assert_int_equal(vts_pool_push(pool, "hold-4"), 0);
    assert_true(wait_jobs(j, 3, 3));
    open_gate(j);
    assert_true(wait_jobs(j, 4, 0));
    assert_int_equal(j->max_running, 3);
    assert_int_equal(vts_pool_stop(pool, 1000), 0);
    vts_pool_free(pool);
}

/* A hung job (an agent that does not answer) holds one worker: the other
 * domains are still served by the rest. */
static void
test_pool_hung_job_holds_only_its_worker(void **state)
{
    jobs *j = *state;
    vts_error err;
    vts_pool *pool = vts_pool_new(2, job, j, &err);

    assert_non_null(pool);
    assert_int_equal(vts_pool_push(pool, "hold-hung"), 0);
    assert_true(wait_jobs(j, 1, 1));
    assert_int_equal(vts_pool_push(pool, "a"), 0);
    assert_int_equal(vts_pool_push(pool, "b"), 0);
    assert_int_equal(vts_pool_push(pool, "c"), 0);
    assert_true(wait_jobs(j, 4, 1));
    assert_string_equal(j->ran[3], "c");
    open_gate(j);
    assert_true(wait_jobs(j, 4, 0));
    assert_int_equal(vts_pool_stop(pool, 1000), 0);
    vts_pool_free(pool);
}

/* Stopping drops what is queued at once (it never runs, even when the job
 * under way ends within the grace) and refuses new work. */
static void
test_pool_stop_drops_the_queue_and_refuses_work(void **state)
{
    jobs *j = *state;
    vts_error err;
    vts_pool *pool = vts_pool_new(1, job, j, &err);

    assert_non_null(pool);
    assert_int_equal(vts_pool_push(pool, "hold-1"), 0);
    assert_true(wait_jobs(j, 1, 1));
    assert_int_equal(vts_pool_push(pool, "queued-1"), 0);
    assert_int_equal(vts_pool_push(pool, "queued-2"), 0);
    assert_int_equal(vts_pool_stop(pool, 50), 1);
    assert_int_equal(vts_pool_push(pool, "late"), -1);
    open_gate(j);
    assert_int_equal(vts_pool_stop(pool, 5000), 0);
    assert_int_equal(j->nran, 1);
    assert_string_equal(j->ran[0], "hold-1");
    vts_pool_free(pool);
}

/* A job still running when the grace ends is counted and left; once it
 * ends, another stop joins the threads and the pool can be freed. */
static void
test_pool_stop_grace_counts_jobs_still_running(void **state)
{
    jobs *j = *state;
    vts_error err;
    vts_pool *pool = vts_pool_new(2, job, j, &err);
    struct timespec t0, t1;
    int64_t waited_ms;

    assert_non_null(pool);
    assert_int_equal(vts_pool_push(pool, "hold-hung"), 0);
    assert_true(wait_jobs(j, 1, 1));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(vts_pool_stop(pool, 200), 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    waited_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(waited_ms >= 190);
    vts_pool_free(pool); /* refused while a thread runs: a no-op */
    open_gate(j);
    assert_int_equal(vts_pool_stop(pool, 5000), 0);
    vts_pool_free(pool);
}

/* The number of workers is bounded, with a message that says the range. */
static void
test_pool_worker_count_is_bounded(void **state)
{
    jobs *j = *state;
    vts_error err;

    assert_null(vts_pool_new(0, job, j, &err));
    assert_int_equal(err.code, VTS_ERR_CONFIG);
    assert_non_null(strstr(err.message, "workers must be from 1 to 64, not 0"));
    assert_null(vts_pool_new(65, job, j, &err));
    assert_non_null(strstr(err.message, "not 65"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_pool_runs_each_name_once_in_order),
        T(test_pool_runs_as_many_jobs_as_workers),
        T(test_pool_hung_job_holds_only_its_worker),
        T(test_pool_stop_drops_the_queue_and_refuses_work),
        T(test_pool_stop_grace_counts_jobs_still_running),
        T(test_pool_worker_count_is_bounded),
    };

    return cmocka_run_group_tests_name("pool", tests, NULL, NULL);
}
