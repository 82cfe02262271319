/* test_hook.c: the libvirt hook's decisions (lib/vts_hook.c): arguments,
 * the domain XML on stdin, and where it reads its configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vts_conf.h"
#include "vts_hook.h"
#include "vts_log.h"

#define AGENT_XML                                                                        \
    "<domain type='qemu'><name>web-1</name><devices>"                                    \
    "<channel type='unix'><source mode='bind'/>"                                         \
    "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>"                    \
    "</devices></domain>"

static vts_hook_decision
decide(int argc, const char *a1, const char *a2, const char *a3, const char *a4)
{
    char *argv[] = {(char *)"/etc/libvirt/hooks/qemu.d/vmtimesync",
                    (char *)a1,
                    (char *)a2,
                    (char *)a3,
                    (char *)a4,
                    NULL};
    vts_hook_decision d;

    vts_hook_decide_args(argc, argv, &d);
    return d;
}

static void
test_announcing_operations(void **state)
{
    const char *ops[] = {"migrate", "restore", "reconnect"};

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        vts_hook_decision d = decide(5, "web-1", ops[i], "begin", "-");

        assert_int_equal(d.action, VTS_HOOK_ANNOUNCE);
        assert_true(d.needs_xml);
        assert_string_equal(d.domain, "web-1");
        assert_string_equal(d.reason, ops[i]);
    }
}

static void
test_other_operations_are_ignored_silently(void **state)
{
    const char *ops[][2] = {
        {"prepare", "begin"}, {"start", "begin"},  {"started", "begin"},
        {"stopped", "end"},   {"release", "end"},  {"migrate", "end"},
        {"restore", "end"},   {"attach", "begin"}, {"", ""}};

    (void)state;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        vts_hook_decision d = decide(5, "web-1", ops[i][0], ops[i][1], "-");

        assert_int_equal(d.action, VTS_HOOK_IGNORE);
        /* Normal operations are not worth a log line. */
        assert_string_equal(d.why, "");
    }
}

static void
test_bad_argument_counts_are_ignored_with_a_reason(void **state)
{
    char *none[] = {(char *)"hook", NULL};
    char *six[] = {
        (char *)"hook",  (char *)"a", (char *)"migrate", (char *)"begin", (char *)"-",
        (char *)"extra", NULL};
    vts_hook_decision d;

    (void)state;
    vts_hook_decide_args(1, none, &d);
    assert_int_equal(d.action, VTS_HOOK_IGNORE);
    assert_non_null(strstr(d.why, "too few"));
    vts_hook_decide_args(6, six, &d);
    assert_int_equal(d.action, VTS_HOOK_IGNORE);
    assert_non_null(strstr(d.why, "too many"));
    d = decide(4, "a", "migrate", "begin", NULL);
    assert_int_equal(d.action, VTS_HOOK_IGNORE);
}

static void
test_empty_and_huge_domain_names(void **state)
{
    char *huge = malloc(5000);
    vts_hook_decision d;

    (void)state;
    assert_non_null(huge);
    d = decide(5, "", "migrate", "begin", "-");
    assert_int_equal(d.action, VTS_HOOK_IGNORE);
    assert_non_null(strstr(d.why, "empty"));
    memset(huge, 'a', 4999);
    huge[4999] = '\0';
    d = decide(5, huge, "migrate", "begin", "-");
    assert_int_equal(d.action, VTS_HOOK_IGNORE);
    assert_non_null(strstr(d.why, "too long"));
    free(huge);
}

static void
test_odd_but_valid_domain_names_are_data(void **state)
{
    const char *names[] = {"web 1",       "it's \"quoted\"", "line\nbreak",
                           "caf\xc3\xa9", "-dash",           "$(rm -rf /)"};

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        vts_hook_decision d = decide(5, names[i], "restore", "begin", "-");

        assert_int_equal(d.action, VTS_HOOK_ANNOUNCE);
        assert_ptr_equal(d.domain, names[i]);
    }
}

static void
test_xml_with_agent_keeps_the_announcement(void **state)
{
    vts_hook_decision d = decide(5, "web-1", "migrate", "begin", "-");

    (void)state;
    vts_hook_decide_xml(AGENT_XML, strlen(AGENT_XML), &d);
    assert_int_equal(d.action, VTS_HOOK_ANNOUNCE);
    assert_false(d.needs_xml);
}

static void
test_xml_without_agent_is_ignored(void **state)
{
    const char *xml = "<domain type='qemu'><name>web-1</name><devices>"
                      "<channel type='spicevmc'><target type='virtio' "
                      "name='com.redhat.spice.0'/></channel></devices></domain>";
    vts_hook_decision d = decide(5, "web-1", "migrate", "begin", "-");

    (void)state;
    vts_hook_decide_xml(xml, strlen(xml), &d);
    assert_int_equal(d.action, VTS_HOOK_IGNORE);
    assert_non_null(strstr(d.why, "no guest agent channel"));
}

static void
test_conf_patterns_leave_domains_out(void **state)
{
    vts_conf conf;
    vts_error err;
    const char *text = "include = web-*\nexclude = web-test\n";
    vts_hook_decision d;

    (void)state;
    vts_conf_init(&conf);
    assert_int_equal(vts_conf_parse_string(&conf, text, "t.conf", &err), 0);
    d = decide(5, "web-1", "migrate", "begin", "-");
    vts_hook_decide_conf(&conf, &d);
    assert_int_equal(d.action, VTS_HOOK_ANNOUNCE);
    d = decide(5, "web-test", "migrate", "begin", "-");
    vts_hook_decide_conf(&conf, &d);
    assert_int_equal(d.action, VTS_HOOK_IGNORE);
    assert_non_null(strstr(d.why, "include/exclude"));
    d = decide(5, "db-1", "reconnect", "begin", "-");
    vts_hook_decide_conf(&conf, &d);
    assert_int_equal(d.action, VTS_HOOK_IGNORE);
    vts_conf_clear(&conf);
}

static void
test_xml_opted_out_is_ignored(void **state)
{
    const char *xml = "<domain type='qemu'><name>web-1</name><metadata>"
                      "<v:sync xmlns:v='http://vmtimesync.org/xmlns/domain/1.0' "
                      "enabled='no'/></metadata>"
                      "<devices><channel type='unix'><target type='virtio' "
                      "name='org.qemu.guest_agent.0'/></channel></devices></domain>";
    vts_hook_decision d = decide(5, "web-1", "restore", "begin", "-");

    (void)state;
    vts_hook_decide_xml(xml, strlen(xml), &d);
    assert_int_equal(d.action, VTS_HOOK_IGNORE);
    assert_non_null(strstr(d.why, "opted out"));
}

static void
test_bad_stdin_is_ignored_with_a_reason(void **state)
{
    const char *bad[] = {"", "not xml at all", "<domain",
                         "<network><name>n</name></network>", "\x01\x02\x03\xff"};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vts_hook_decision d = decide(5, "web-1", "migrate", "begin", "-");

        vts_hook_decide_xml(bad[i], strlen(bad[i]), &d);
        assert_int_equal(d.action, VTS_HOOK_IGNORE);
        assert_non_null(strstr(d.why, "unreadable domain XML"));
    }
}

static void
test_xml_does_not_revive_an_ignored_decision(void **state)
{
    vts_hook_decision d = decide(5, "web-1", "started", "begin", "-");

    (void)state;
    vts_hook_decide_xml(AGENT_XML, strlen(AGENT_XML), &d);
    assert_int_equal(d.action, VTS_HOOK_IGNORE);
}

static void
test_conf_path_beside_the_hooks_directory(void **state)
{
    char dir[] = "/tmp/vts-hook-test.XXXXXX";
    char qemud[128], conf[128], hook[160], out[4096];
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(qemud, sizeof(qemud), "%s/qemu.d", dir);
    snprintf(conf, sizeof(conf), "%s/vmtimesync.conf", dir);
    snprintf(hook, sizeof(hook), "%s/vmtimesync", qemud);
    assert_int_equal(mkdir(qemud, 0755), 0);

    /* No file beside the hooks: the system's configuration. */
    vts_hook_conf_path(hook, out, sizeof(out));
    assert_string_equal(out, VTS_CONF_DEFAULT_PATH);

    f = fopen(conf, "w");
    assert_non_null(f);
    fclose(f);
    vts_hook_conf_path(hook, out, sizeof(out));
    assert_string_equal(out, conf);

    /* Relative or odd argv[0]: the default. */
    vts_hook_conf_path("vmtimesync", out, sizeof(out));
    assert_string_equal(out, VTS_CONF_DEFAULT_PATH);
    vts_hook_conf_path(NULL, out, sizeof(out));
    assert_string_equal(out, VTS_CONF_DEFAULT_PATH);
    vts_hook_conf_path("/vmtimesync", out, sizeof(out));
    assert_string_equal(out, VTS_CONF_DEFAULT_PATH);

    unlink(conf);
    rmdir(qemud);
    rmdir(dir);
}

/* The hook passes its file's settings to its waiter on the command line,
 * with stderr on /dev/null. The file took max_step up to 100 years while
 * vmtimesync refused more than 1e6 s: with max_step = 720h every waiter
 * exited 2, silently. Now both read one table: whatever the file accepts
 * (here every setting at its bound) the waiter's command line carries, and
 * vmtimesync's parser reads back exactly. */
static void
check_waiter_cmd_round_trips(const vts_conf *conf)
{
    vts_hook_waiter_cmd cmd;
    vts_error err;
    int found = 0;
    int last = 0;

    vts_hook_waiter_cmd_fill(&cmd, conf, "/usr/sbin/vmtimesync", "web-1", "migrate");
    assert_string_equal(cmd.argv[0], "/usr/sbin/vmtimesync");
    assert_string_equal(cmd.argv[1], "--hook-waiter");
    assert_string_equal(cmd.argv[2], "migrate");
    while (cmd.argv[last])
        last++;
    assert_true(last < VTS_HOOK_WAITER_ARGS);
    assert_string_equal(cmd.argv[last - 2], "--");
    assert_string_equal(cmd.argv[last - 1], "web-1");
    for (int n = 0; n < VTS_CONF__NUMBERS; n++) {
        const vts_conf_bounds *b = vts_conf_bounds_of((vts_conf_number)n);
        int64_t v = -1;
        int k;

        if (!b->option)
            continue;
        for (k = 3; cmd.argv[k] && strcmp(cmd.argv[k], b->option) != 0; k++)
            ;
        assert_non_null(cmd.argv[k]);
        if (vts_conf_parse_arg((vts_conf_number)n, cmd.argv[k + 1], &v, &err) < 0)
            fail_msg("%s %s: vmtimesync refuses it: %s", b->option, cmd.argv[k + 1],
                     err.message);
        assert_int_equal(v, vts_conf_number_get(conf, (vts_conf_number)n));
        found++;
    }
    /* --threshold, --samples, --timeout, --wait, --max-step, --max-backward */
    assert_int_equal(found, 6);
}

static void
test_waiter_cmd_takes_every_value_the_file_takes(void **state)
{
    static const char *const files[] = {
        /* The report: a month. */
        "max_step = 720h\n",
        /* Every setting the waiter gets, at its upper bound, then its lower. */
        "threshold = 1h\nsamples = 64\nagent_timeout = 1h\nagent_wait = 24h\n"
        "max_step = 876000h\nmax_backward = 876000h\n",
        "threshold = 0\nsamples = 1\nagent_timeout = 1s\nagent_wait = 1s\n"
        "max_step = 0\nmax_backward = 0\n",
        /* Odd ones: fractions of a second, flags. */
        "threshold = 1.5ms\nagent_wait = 90.25s\nmax_backward = 2.000000001s\n"
        "host_unsynced = allow\nset_time_fallback = guest-exec\nuri = test:///default\n",
    };
    vts_conf conf;
    vts_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        assert_int_equal(vts_conf_parse_string(&conf, files[i], NULL, &err), 0);
        check_waiter_cmd_round_trips(&conf);
        vts_conf_clear(&conf);
    }
}

/* Run vts_hook_waiter_supervise(@argv) with the log on a temporary file
 * (as the journal would get it); returns its status, the log in @out. */
static int
supervise_logged(char *const *argv, char *out, size_t len)
{
    char path[] = "/tmp/vts-test-hook.XXXXXX";
    int fd = mkstemp(path);
    int saved = dup(STDERR_FILENO);
    int status;
    ssize_t n;

    assert_true(fd >= 0 && saved >= 0);
    fflush(stderr);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    unsetenv("JOURNAL_STREAM");
    vts_log_open("vmtimesync-hook", true, VTS_LOG_INFO);
    status = vts_hook_waiter_supervise(argv, "web-1");
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    n = pread(fd, out, len - 1, 0);
    assert_true(n >= 0);
    out[n] = '\0';
    close(fd);
    unlink(path);
    return status;
}

/* The waiter's stderr was /dev/null: one that could not start (a usage
 * error, as with max_step = 720h; a program that is not there) exited
 * without a word. Its stderr now reaches the log, with a line saying the
 * guest will not be synced. */
static void
test_waiter_that_cannot_start_says_so(void **state)
{
    char *usage[] = {
        (char *)"/bin/sh", (char *)"-c",
        (char *)"echo \"vmtimesync: --max-step takes seconds >= 0, not '2592000'\""
                " >&2; exit 2",
        NULL};
    char *missing[] = {(char *)"/nonexistent/vmtimesync", (char *)"--hook-waiter", NULL};
    char *killed[] = {(char *)"/bin/sh", (char *)"-c", (char *)"kill -9 $$", NULL};
    char *fine[] = {(char *)"/bin/sh", (char *)"-c", (char *)"exit 0", NULL};
    char log[4096];

    (void)state;
    assert_int_equal(supervise_logged(usage, log, sizeof(log)), 2);
    assert_non_null(strstr(log,
                           "web-1: waiter: vmtimesync: --max-step takes seconds >= 0, "
                           "not '2592000'\n"));
    assert_non_null(strstr(log, "web-1: the hook's waiter could not start"));
    assert_non_null(strstr(log, "not synced"));

    assert_int_equal(supervise_logged(missing, log, sizeof(log)), 127);
    assert_non_null(strstr(log, "/nonexistent/vmtimesync"));
    assert_non_null(strstr(log, "web-1: the hook's waiter could not start"));

    supervise_logged(killed, log, sizeof(log));
    assert_non_null(strstr(log, "web-1: the hook's waiter died of signal 9"));

    /* A waiter that ran says what it did itself: nothing more here. */
    assert_int_equal(supervise_logged(fine, log, sizeof(log)), 0);
    assert_string_equal(log, "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_announcing_operations),
        cmocka_unit_test(test_other_operations_are_ignored_silently),
        cmocka_unit_test(test_bad_argument_counts_are_ignored_with_a_reason),
        cmocka_unit_test(test_empty_and_huge_domain_names),
        cmocka_unit_test(test_odd_but_valid_domain_names_are_data),
        cmocka_unit_test(test_xml_with_agent_keeps_the_announcement),
        cmocka_unit_test(test_xml_without_agent_is_ignored),
        cmocka_unit_test(test_xml_opted_out_is_ignored),
        cmocka_unit_test(test_conf_patterns_leave_domains_out),
        cmocka_unit_test(test_bad_stdin_is_ignored_with_a_reason),
        cmocka_unit_test(test_xml_does_not_revive_an_ignored_decision),
        cmocka_unit_test(test_conf_path_beside_the_hooks_directory),
        cmocka_unit_test(test_waiter_cmd_takes_every_value_the_file_takes),
        cmocka_unit_test(test_waiter_that_cannot_start_says_so),
    };

    return cmocka_run_group_tests_name("hook", tests, NULL, NULL);
}
