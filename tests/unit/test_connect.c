/* test_connect.c: unit tests for lib/vts_connect.c.
 *
 * A hypervisor whose connect blocks until the test lets it go stands in
 * for a libvirtd that accepts and never answers.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dirent.h>

#include <cmocka.h>

#include "vts_clock.h"
#include "vts_connect.h"

/* The blocking hypervisor: connect waits while `hold` is set. */
static pthread_mutex_t hv_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hv_cond = PTHREAD_COND_INITIALIZER;
static bool hv_hold;
static int hv_open, hv_closed, hv_registered;
static int hv_conn_token; /* &hv_conn_token stands for a connection */

static int
hv_connect(const char *uri, vts_hv_conn **conn, vts_error *err)
{
    pthread_mutex_lock(&hv_lock);
    while (hv_hold)
        pthread_cond_wait(&hv_cond, &hv_lock);
    pthread_mutex_unlock(&hv_lock);
    if (strcmp(uri, "refuse:///") == 0) {
        *conn = NULL;
        return vts_error_set(err, VTS_ERR_CONNECT, "refused");
    }
    pthread_mutex_lock(&hv_lock);
    hv_open++;
    pthread_mutex_unlock(&hv_lock);
    *conn = (vts_hv_conn *)&hv_conn_token;
    return 0;
}

static void
hv_disconnect(vts_hv_conn *conn)
{
    if (!conn)
        return;
    pthread_mutex_lock(&hv_lock);
    hv_closed++;
    pthread_cond_broadcast(&hv_cond);
    pthread_mutex_unlock(&hv_lock);
}

static int
hv_events_register(vts_hv_conn *conn, vts_hv_event_fn fn, vts_hv_close_fn close_fn,
                   void *opaque, vts_error *err)
{
    (void)conn, (void)fn, (void)close_fn, (void)opaque, (void)err;
    pthread_mutex_lock(&hv_lock);
    hv_registered++;
    pthread_mutex_unlock(&hv_lock);
    return 0;
}

static void
on_event(const vts_hv_event *ev, void *opaque)
{
    (void)ev, (void)opaque;
}

static void
on_close(void *opaque)
{
    (void)opaque;
}

static const vts_hv_ops hv_ops = {
    .connect = hv_connect,
    .disconnect = hv_disconnect,
    .events_register = hv_events_register,
};

static void
hv_set_hold(bool hold)
{
    pthread_mutex_lock(&hv_lock);
    hv_hold = hold;
    pthread_cond_broadcast(&hv_cond);
    pthread_mutex_unlock(&hv_lock);
}

/* Wait (bounded) until @counter reaches @want. */
static bool
hv_wait_count(const int *counter, int want)
{
    int64_t until = vts_mono_ns() + 5000000000LL;
    bool ok;

    for (;;) {
        pthread_mutex_lock(&hv_lock);
        ok = *counter >= want;
        pthread_mutex_unlock(&hv_lock);
        if (ok || vts_mono_ns() > until)
            return ok;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
}

static int
setup(void **state)
{
    (void)state;
    hv_set_hold(false);
    hv_open = hv_closed = hv_registered = 0;
    return 0;
}

/* The number of this process's threads, from /proc/self/task. */
static int
threads_alive(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* Each test ends when the attempts it started, abandoned ones too, have
 * exited: a thread alive at exit would be a leak for valgrind. */
static int
teardown(void **state)
{
    int64_t until = vts_mono_ns() + 5000000000LL;

    (void)state;
    hv_set_hold(false);
    while (threads_alive() > 1) {
        if (vts_mono_ns() > until)
            return -1;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    return 0;
}

static void
test_wait_returns_the_connection(void **state)
{
    vts_connect_spec spec = {.uri = "test:///"};
    vts_hv_conn *conn = NULL;
    vts_error err;
    vts_connect *c;

    (void)state;
    c = vts_connect_start(&hv_ops, &spec, &err);
    assert_non_null(c);
    assert_int_equal(vts_connect_wait(c, 5000000000LL, &conn, &err), 0);
    assert_ptr_equal(conn, &hv_conn_token);
    assert_int_equal(hv_registered, 0); /* no event_fn: no registration */
}

static void
test_wait_reports_a_refusal(void **state)
{
    vts_connect_spec spec = {.uri = "refuse:///"};
    vts_hv_conn *conn = (vts_hv_conn *)&conn;
    vts_error err;
    vts_connect *c;

    (void)state;
    c = vts_connect_start(&hv_ops, &spec, &err);
    assert_non_null(c);
    assert_int_equal(vts_connect_wait(c, 5000000000LL, &conn, &err), -1);
    assert_null(conn);
    assert_int_equal(err.code, VTS_ERR_CONNECT);
    assert_string_equal(err.message, "refused");
}

/* A libvirtd that never answers holds the waiter for the timeout only;
 * what the abandoned attempt opens later is closed. */
static void
test_wait_gives_up_on_a_silent_hypervisor(void **state)
{
    vts_connect_spec spec = {.uri = "test:///silent"};
    vts_hv_conn *conn = (vts_hv_conn *)&conn;
    vts_error err;
    vts_connect *c;
    int64_t start, took;

    (void)state;
    hv_set_hold(true);
    c = vts_connect_start(&hv_ops, &spec, &err);
    assert_non_null(c);
    start = vts_mono_ns();
    assert_int_equal(vts_connect_wait(c, 200000000LL, &conn, &err), -1);
    took = vts_mono_ns() - start;
    assert_null(conn);
    assert_int_equal(err.code, VTS_ERR_CONNECT);
    assert_non_null(strstr(err.message, "test:///silent"));
    assert_non_null(strstr(err.message, "did not answer"));
    assert_true(took >= 200000000LL && took < 2000000000LL);
    hv_set_hold(false);
    assert_true(hv_wait_count(&hv_open, 1));
    assert_true(hv_wait_count(&hv_closed, 1));
}

/* The event loop's way: poll never waits; the old connection is closed
 * and events are registered on the attempt's thread. */
static void
test_poll_never_waits_and_registers_events(void **state)
{
    vts_connect_spec spec = {.uri = "test:///",
                             .to_close = (vts_hv_conn *)&hv_conn_token,
                             .event_fn = on_event,
                             .close_fn = on_close};
    vts_hv_conn *conn = NULL;
    vts_error err;
    vts_connect *c;
    int64_t start;
    int rc;

    (void)state;
    hv_set_hold(true);
    c = vts_connect_start(&hv_ops, &spec, &err);
    assert_non_null(c);
    start = vts_mono_ns();
    assert_int_equal(vts_connect_poll(c, &conn, &err), 0);
    assert_true(vts_mono_ns() - start < 100000000LL);
    assert_null(conn);
    assert_true(hv_wait_count(&hv_closed, 1)); /* the old one, first */
    hv_set_hold(false);
    start = vts_mono_ns();
    while ((rc = vts_connect_poll(c, &conn, &err)) == 0 &&
           vts_mono_ns() - start < 5000000000LL)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    assert_int_equal(rc, 1);
    assert_ptr_equal(conn, &hv_conn_token);
    assert_int_equal(hv_registered, 1);
}

/* Attempts that hang cost at most VTS_CONNECT_MAX_THREADS threads. */
static void
test_hung_attempts_are_bounded(void **state)
{
    vts_connect_spec spec = {.uri = "test:///silent"};
    vts_connect *c[VTS_CONNECT_MAX_THREADS];
    vts_error err;

    (void)state;
    hv_set_hold(true);
    for (int i = 0; i < VTS_CONNECT_MAX_THREADS; i++) {
        c[i] = vts_connect_start(&hv_ops, &spec, &err);
        assert_non_null(c[i]);
    }
    assert_null(vts_connect_start(&hv_ops, &spec, &err));
    assert_int_equal(err.code, VTS_ERR_CONNECT);
    assert_non_null(strstr(err.message, "still waiting"));
    for (int i = 0; i < VTS_CONNECT_MAX_THREADS; i++)
        vts_connect_abandon(c[i]);
    hv_set_hold(false);
    /* Each abandoned attempt closes what it opened, and frees a slot. */
    assert_true(hv_wait_count(&hv_closed, VTS_CONNECT_MAX_THREADS));
    for (int64_t until = vts_mono_ns() + 5000000000LL;;) {
        vts_connect *again = vts_connect_start(&hv_ops, &spec, &err);

        if (again) {
            vts_connect_abandon(again);
            break;
        }
        assert_true(vts_mono_ns() < until);
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_wait_returns_the_connection),
        T(test_wait_reports_a_refusal),
        T(test_wait_gives_up_on_a_silent_hypervisor),
        T(test_poll_never_waits_and_registers_events),
        T(test_hung_attempts_are_bounded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
