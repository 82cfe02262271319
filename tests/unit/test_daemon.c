/* test_daemon.c: lib/vts_daemon.c, vmtimesyncd's lifecycle: it runs until
 * SIGTERM and then leaves nothing behind, SIGHUP reloads the
 * configuration (and keeps the running one when the new one is bad), and
 * SIGTERM's grace. Over the fake hypervisor (daemon_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "vts_conf.h"
#include "vts_sync.h"

/* Running: connected, swept, answering on its control socket. */
static bool
running(daemon_run *r)
{
    char *status = NULL;

    if (!daemon_run_wait_metric(r, "vmtimesync_connected", 1, 5000) ||
        !daemon_run_wait_metric(
            r, "vmtimesync_syncs_total{trigger=\"sweep\",result=\"none\"}", 1, 5000))
        return false;
    if (!(status = daemon_run_status(r)))
        return daemon_run_fail(r, "no answer on the control socket");
    free(status);
    return true;
}

/* When vts_daemon_run returned: the control socket is gone, and the
 * metrics say nobody watches libvirt any more. */
static bool
stopped_clean(const daemon_run *r)
{
    struct stat st;

    return stat(r->sock, &st) < 0 && file_has_line(r->metrics, "vmtimesync_connected 0");
}

/* SIGTERM (sent by the fixture when the script is done) stops it:
 * vts_daemon_run returns 0, and every thread it started ends (the
 * fixture checks). */
static void
test_runs_until_sigterm_and_leaves_nothing_behind(void **state)
{
    daemon_run r;

    (void)state;
    fake_hv_reset();
    daemon_run_start_script(&r, running, NULL, NULL);
    daemon_run_finish(&r, stopped_clean);
    assert_true(r.met);
    fake_hv_cleanup();
}

/* The status's "uri" is @arg. */
static bool
status_uri_is(daemon_run *r, const char *want)
{
    char *status = daemon_run_status(r);
    json_object *root = status ? json_tokener_parse(status) : NULL;
    json_object *uri = NULL;
    bool ok;

    ok = root && json_object_object_get_ex(root, "uri", &uri) &&
         strcmp(json_object_get_string(uri), want) == 0;
    if (!ok)
        daemon_run_fail(r, "status %s, want uri %s", status ? status : "(none)", want);
    json_object_put(root);
    free(status);
    return ok;
}

static bool
registered_twice(const daemon_run *r)
{
    (void)r;
    return __atomic_load_n(&daemon_fx_registrations, __ATOMIC_SEQ_CST) == 2;
}

static bool
reload_refused(const daemon_run *r)
{
    char want[160];

    /* The reason, with where in the file. */
    snprintf(want, sizeof(want),
             "reload failed, keeping the running configuration: %s:6: ", r->conf_path);
    return daemon_run_log_has((daemon_run *)r, want) &&
           daemon_run_log_has((daemon_run *)r, "threshold");
}

/* SIGHUP with a changed uri: the daemon reports the new one and connects
 * to it. Then SIGHUP with a bad file: it says why, where, and that it
 * keeps the running configuration, which goes on working. */
static bool
reload_script(daemon_run *r)
{
    if (!running(r) || !status_uri_is(r, "fake:///"))
        return false;
    if (!daemon_run_write_conf(r, "uri = fake:///second\n"))
        return false;
    kill(getpid(), SIGHUP);
    if (!daemon_run_wait(r, registered_twice, 5000))
        return daemon_run_fail(r, "no reconnect to the new uri");
    if (!status_uri_is(r, "fake:///second"))
        return false;

    if (!daemon_run_write_conf(r, "threshold = soon\nuri = fake:///third\n"))
        return false;
    kill(getpid(), SIGHUP);
    if (!daemon_run_wait(r, reload_refused, 5000))
        return daemon_run_fail(r, "no clear message for the bad reload; log:\n%s",
                               r->log);
    if (!status_uri_is(r, "fake:///second"))
        return false;
    if (__atomic_load_n(&daemon_fx_registrations, __ATOMIC_SEQ_CST) != 2)
        return daemon_run_fail(r, "a refused reload reconnected");
    return true;
}

static void
test_sighup_reloads_and_keeps_the_old_config_when_bad(void **state)
{
    (void)state;
    fake_hv_reset();
    daemon_run_script(reload_script, NULL, NULL);
    fake_hv_cleanup();
}

/* SIGTERM's grace with the guest-exec fallback: a whole sync with its
 * extra calls, each at the agent timeout, and 2 s. */
static void
test_stop_grace_counts_the_fallbacks_calls(void **state)
{
    vts_conf conf;

    (void)state;
    vts_conf_init(&conf);
    conf.agent_timeout_s = 3;
    conf.samples = 2;
    conf.set_time_fallback = VTS_FALLBACK_GUEST_EXEC;
    assert_int_equal(vts_daemon_stop_grace_ns(&conf),
                     (VTS_SYNC_MAX_AGENT_CALLS(2, true) * 3 + 2) * VTS_NS_PER_SEC);
    assert_true(VTS_SYNC_MAX_AGENT_CALLS(2, true) > VTS_SYNC_MAX_AGENT_CALLS(2, false));
    vts_conf_clear(&conf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs_until_sigterm_and_leaves_nothing_behind),
        cmocka_unit_test(test_sighup_reloads_and_keeps_the_old_config_when_bad),
        cmocka_unit_test(test_stop_grace_counts_the_fallbacks_calls),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
