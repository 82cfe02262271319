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
#include <unistd.h>

#include <cmocka.h>

#include "vmtimesync/vts_conf.h"
#include "vmtimesync/vts_hook.h"
#include "fake_hv.h"

#define AGENT_XML                                                                        \
    "<domain type='qemu'><name>web-1</name><devices>"                                    \
    "<channel type='unix'><source mode='bind'/>"                                         \
    "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>"                    \
    "</devices></domain>"

static vts_hook_decision
decide(int argc, const char *a1, const char *a2, const char *a3, const char *a4)
{
    char *argv[] = {(char *)"/etc/libvirt/hooks/qemu.d/vmtimesync", (char *)a1, (char *)a2,
                    (char *)a3, (char *)a4, NULL};
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
    const char *ops[][2] = {{"prepare", "begin"}, {"start", "begin"}, {"started", "begin"},
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
    char *six[] = {(char *)"hook", (char *)"a", (char *)"migrate", (char *)"begin",
                   (char *)"-", (char *)"extra", NULL};
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
    const char *names[] = {"web 1", "it's \"quoted\"", "line\nbreak", "caf\xc3\xa9",
                           "-dash", "$(rm -rf /)"};

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
    const char *xml =
        "<domain type='qemu'><name>web-1</name><metadata>"
        "<v:sync xmlns:v='http://vmtimesync.org/xmlns/domain/1.0' enabled='no'/></metadata>"
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
    const char *bad[] = {"", "not xml at all", "<domain", "<network><name>n</name></network>",
                         "\x01\x02\x03\xff"};

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

/* Right after a migration or restore a step can land off (the guest's
 * vCPU starved, the agent's delay varying). The waiter then syncs again,
 * as vmtimesyncd would retry, instead of leaving the guest off: here the
 * first sync's step meets a 20 ms spike, its correction lands on the other
 * side and the verify fails; the second sync fixes the guest. */
static void
test_waiter_tries_again_after_a_failed_verify(void **state)
{
    vts_conf conf;
    int rc;

    (void)state;
    fake_hv_reset();
    fake_hv_set_guest_offset(-5LL * 1000000000LL);
    fake_hv_set_delay(1000000, 1000000);
    fake_hv_set_call_delay(2, 20000000, 1000000); /* the first guest-set-time */
    vts_conf_init(&conf);
    conf.allow_unsynced_host = true;
    rc = vts_hook_waiter_run(&fake_hv_ops, &conf, FAKE_HV_DOMAIN, "migrate");
    assert_int_equal(rc, 0);
    assert_int_equal(fake_hv_count("guest-set-time"), 3);
    assert_true(llabs(fake_hv_guest_offset()) <= 2);
    vts_conf_clear(&conf);
    fake_hv_cleanup();
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
        cmocka_unit_test(test_waiter_tries_again_after_a_failed_verify),
    };

    return cmocka_run_group_tests_name("hook", tests, NULL, NULL);
}
