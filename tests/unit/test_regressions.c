/* test_regressions.c: one test for each defect that fuzzing (fuzz/) or the
 * sanitizer builds found, with the input that showed it, so that it stays
 * fixed. Each says where it was found and what was wrong.
 *
 * Some defects are undefined behaviour that works by accident on today's
 * compilers and only a sanitizer sees. So that such a test fails rather
 * than print a warning and pass, this file makes UndefinedBehaviorSanitizer
 * stop at its first report (below); build it with
 * `make check-unit CC=clang SANITIZE=address,undefined` (gcc's UBSan does
 * not check pointer arithmetic on NULL). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pthread.h>

#include "daemon_fixture.h"
#include "fake_hv.h"
#include "vts_daemon.h"
#include "vts_domxml.h"
#include "vts_hook.h"
#include "vts_sync.h"

/* Read by the UBSan runtime when the binary is built with it; unused
 * otherwise. UBSAN_OPTIONS still overrides it. */
const char *__ubsan_default_options(void);
const char *
__ubsan_default_options(void)
{
    return "halt_on_error=1:print_stacktrace=1";
}

/* --- vts_domxml_scan ---------------------------------------------------- */

/* Found by `make check-unit CC=clang SANITIZE=address,undefined` (through
 * test_domxml's empty-input test): vts_domxml_scan computed `xml + len`
 * before checking xml for NULL. NULL + 0 is undefined in C ("applying zero
 * offset to null pointer"), NULL + 16 as well; the NULL check came one
 * line too late. */
static void
test_domxml_scan_null_text_is_refused_without_pointer_arithmetic(void **state)
{
    vts_domxml_info info;
    vts_error err;

    (void)state;
    memset(&info, 0x5a, sizeof(info));
    vts_error_clear(&err);
    assert_int_equal(vts_domxml_scan(NULL, 0, &info, &err), -1);
    assert_int_equal(err.code, VTS_ERR_BAD_REPLY);
    assert_string_equal(err.message, "the domain XML is empty");
    assert_false(info.has_agent_channel);

    /* A NULL text with a length is a caller's mistake, refused the same
     * way. */
    vts_error_clear(&err);
    assert_int_equal(vts_domxml_scan(NULL, 16, &info, &err), -1);
    assert_int_equal(err.code, VTS_ERR_BAD_REPLY);
}

/* The same path from the hook: an announcing decision given no stdin at
 * all is ignored, with the reason, and no undefined behaviour. */
static void
test_hook_decide_xml_without_text_ignores(void **state)
{
    char *argv[] = {(char *)"/etc/libvirt/hooks/qemu.d/vmtimesync",
                    (char *)"web-1",
                    (char *)"migrate",
                    (char *)"begin",
                    (char *)"-",
                    NULL};
    vts_hook_decision d;

    (void)state;
    vts_hook_decide_args(5, argv, &d);
    assert_int_equal(d.action, VTS_HOOK_ANNOUNCE);
    vts_hook_decide_xml(NULL, 0, &d);
    assert_int_equal(d.action, VTS_HOOK_IGNORE);
    assert_false(d.needs_xml);
    assert_non_null(strstr(d.why, "unreadable domain XML"));
}

/* --- vmtimesyncd's sync options ----------------------------------------- */

/* Found by tests/memcheck/e2e.sh (memcheck, "Conditional jump or move
 * depends on uninitialised value(s)" in vts_sync_dom and
 * vts_safety_check_step, created by a stack allocation in vts_daemon_job):
 * the daemon's worker filled its vts_sync_opts with vts_conf_to_sync_opts()
 * alone, which by its contract leaves check_only and force alone, without
 * vts_sync_opts_init() first. Whatever the worker's stack held decided
 * whether the daemon only measured (check_only) and whether it ignored
 * max_step and max_backward (force).
 *
 * The test runs vmtimesyncd over the fake hypervisor with a small poll()
 * event loop (daemon_fixture.h), one worker, and a guest 3 s behind: its start-up sweep
 * must step the guest. glibc hands a new thread the stack of the last one that ended,
 * without clearing it, so a thread that fills its stack with 0xff first puts garbage
 * where the worker's options are; the sanitizer build (a bool holding 255) and memcheck
 * see the defect even without that. */

/* Fill this thread's stack with 0xff and end: the next thread created gets
 * this stack back as it was left. */
static void *
dirty_stack(void *arg)
{
    volatile unsigned char junk[256 * 1024];

    memset((void *)junk, 0xff, sizeof(junk));
    (void)arg;
    return (void *)(uintptr_t)junk[sizeof(junk) / 2];
}

/* Stop the daemon once it stepped the guest. */
static bool
stepped_once(const daemon_run *r)
{
    (void)r;
    return __atomic_load_n(&set_time_calls, __ATOMIC_SEQ_CST) > 0;
}

static void
test_daemon_sweep_steps_with_initialised_options(void **state)
{
    daemon_run r;
    pthread_t t;

    (void)state;
    fake_hv_reset();
    fake_hv_set_guest_offset(-3 * VTS_NS_PER_SEC);
    set_time_calls = 0;

    daemon_run_start(&r, stepped_once, NULL, 10000, NULL);
    /* Last before the daemon makes its worker: the worker gets this stack. */
    assert_int_equal(pthread_create(&t, NULL, dirty_stack, NULL), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    daemon_run_finish(&r, NULL);

    /* The guest was 3 s behind: the sweep stepped it, and nothing else
     * (no check_only) stopped it. */
    assert_true(__atomic_load_n(&set_time_calls, __ATOMIC_SEQ_CST) > 0);
    assert_true(llabs(fake_hv_guest_offset()) < VTS_SYNC_DEFAULT_THRESHOLD_NS);
    fake_hv_cleanup();
}

/* --- defects found in review (issue 11) --------------------------------- */

/* The commonest failure after a migration or restore: the agent never
 * connects. Its wait expired in the scheduler with a log line only, and
 * waits were kept out of the metrics, so vmtimesync_failures_total, which
 * operators alert on, never counted it. */
static void
test_daemon_expired_agent_wait_counts_as_a_failure(void **state)
{
    static const char *const want[] = {
        "vmtimesync_failures_total{kind=\"agent-not-connected\"} 1",
        "vmtimesync_syncs_total{trigger=\"sweep\",result=\"agent-not-connected\"} 1",
        NULL};
    daemon_run r;

    (void)state;
    fake_hv_reset();
    fake_hv_fail_command(
        NULL, VTS_ERR_AGENT_NOT_CONNECTED,
        "Guest agent is not responding: QEMU guest agent is not connected");
    set_time_calls = 0;
    daemon_run_start(&r, metrics_has_lines, want, 8000, "agent_wait = 1s\n");
    daemon_run_finish(&r, NULL);
    assert_true(r.met);
    fake_hv_cleanup();
}

/* SIGTERM's grace was agent_timeout + 2 s, but a sync makes many agent
 * calls: a sync whose calls were all answered in time was abandoned
 * midway, unlike what the README promises ("SIGTERM finishes the syncs
 * under way"). Here every call takes 300 ms of real time with a 1 s agent
 * timeout: the sync (measure, step, verify: 11 calls) takes 3.3 s, more
 * than the old grace of 3 s. SIGTERM comes once the first call began; the
 * daemon must not return before the sync's result is in the metrics. */
static bool
first_agent_call(const daemon_run *r)
{
    (void)r;
    return __atomic_load_n(&agent_calls, __ATOMIC_SEQ_CST) > 0;
}

static bool
sweep_stepped(const daemon_run *r)
{
    return file_has_line(
        r->metrics, "vmtimesync_syncs_total{trigger=\"sweep\",result=\"stepped\"} 1");
}

/* The bound the README and vmtimesyncd(8) give: every call of a whole
 * sync at the agent timeout, and 2 s. */
static void
test_daemon_stop_grace_covers_a_whole_sync(void **state)
{
    vts_conf conf;

    (void)state;
    vts_conf_init(&conf);
    assert_int_equal(vts_daemon_stop_grace_ns(&conf),
                     (VTS_SYNC_MAX_AGENT_CALLS(5, false) * 5 + 2) * VTS_NS_PER_SEC);
    assert_int_equal(vts_daemon_stop_grace_ns(&conf), 72 * VTS_NS_PER_SEC);
    conf.agent_timeout_s = 2;
    conf.samples = 3;
    assert_int_equal(vts_daemon_stop_grace_ns(&conf),
                     (VTS_SYNC_MAX_AGENT_CALLS(3, false) * 2 + 2) * VTS_NS_PER_SEC);
    /* The guest-exec fallback makes more calls. */
    conf.set_time_fallback = VTS_FALLBACK_GUEST_EXEC;
    assert_true(vts_daemon_stop_grace_ns(&conf) >
                (VTS_SYNC_MAX_AGENT_CALLS(3, false) * 2 + 2) * VTS_NS_PER_SEC);
}

static void
test_daemon_sigterm_lets_a_whole_sync_finish(void **state)
{
    daemon_run r;

    (void)state;
    fake_hv_reset();
    fake_hv_set_guest_offset(-3 * VTS_NS_PER_SEC);
    set_time_calls = agent_calls = 0;
    agent_call_ms = 300;
    daemon_run_start(&r, first_agent_call, NULL, 10000, "agent_timeout = 1s\n");
    daemon_run_finish(&r, sweep_stepped);
    agent_call_ms = 0;
    assert_true(r.met);
    fake_hv_cleanup();
}

/* After a clean stop the metrics file said vmtimesync_connected 1 (seen by
 * node_exporter on a systemd host after systemctl stop and apt-get
 * remove): the README's alert on vmtimesync_connected == 0 never fired.
 * The daemon's last write says it is no longer connected. */
static bool
connected_now_stopped(const daemon_run *r)
{
    return file_has_line(r->metrics, "vmtimesync_connected 0") &&
           !file_has_line(r->metrics, "vmtimesync_connected 1");
}

static void
test_daemon_stopped_says_not_connected_in_its_metrics(void **state)
{
    static const char *const connected[] = {"vmtimesync_connected 1", NULL};
    daemon_run r;

    (void)state;
    fake_hv_reset();
    daemon_run_start(&r, metrics_has_lines, connected, 10000, NULL);
    daemon_run_finish(&r, connected_now_stopped);
    assert_true(r.met);
    fake_hv_cleanup();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_domxml_scan_null_text_is_refused_without_pointer_arithmetic),
        cmocka_unit_test(test_hook_decide_xml_without_text_ignores),
        cmocka_unit_test(test_daemon_sweep_steps_with_initialised_options),
        cmocka_unit_test(test_daemon_expired_agent_wait_counts_as_a_failure),
        cmocka_unit_test(test_daemon_stop_grace_covers_a_whole_sync),
        cmocka_unit_test(test_daemon_sigterm_lets_a_whole_sync_finish),
        cmocka_unit_test(test_daemon_stopped_says_not_connected_in_its_metrics),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
