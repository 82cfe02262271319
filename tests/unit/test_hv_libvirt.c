/* test_hv_libvirt.c: unit tests for lib/vts_hv_libvirt.c.
 *
 * The error mapping is tested with libvirt's real error numbers and the
 * messages libvirt 9.0's QEMU driver really formats (prefix included, as
 * virGetLastError() hands them over). The operations themselves are run
 * against libvirt's in-process test driver (test:///default): no daemon, no
 * guest, no real time.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#define VTS_HV_LIBVIRT_ALLOW_PRIV
#include "vts_hv_libvirt_priv.h"

#include "vts_hv.h"

typedef struct {
    int code;
    int domain;
    const char *message;
    vts_err_code want;
} map_case;

static void
expect_mapping(const map_case *cases, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        vts_err_code got =
            vts_hv_libvirt_map_error(cases[i].code, cases[i].domain, cases[i].message);

        if (got != cases[i].want)
            fail_msg("code %d, domain %d, \"%s\": %s, want %s", cases[i].code,
                     cases[i].domain, cases[i].message ? cases[i].message : "(null)",
                     vts_error_code_name(got), vts_error_code_name(cases[i].want));
    }
}

#define EXPECT_MAPPING(cases) expect_mapping((cases), sizeof(cases) / sizeof((cases)[0]))

static int
setup_nothing(void **state)
{
    *state = NULL;
    return 0;
}

static int
teardown_nothing(void **state)
{
    (void)state;
    return 0;
}

/* --- vts_hv_libvirt_map_error ----------------------------------------- */

static void
test_map_agent_not_configured_is_no_agent_channel(void **state)
{
    static const map_case cases[] = {
        {VIR_ERR_ARGUMENT_UNSUPPORTED, VIR_FROM_QEMU,
         "argument unsupported: QEMU guest agent is not configured",
         VTS_ERR_NO_AGENT_CHANNEL},
        {VIR_ERR_ARGUMENT_UNSUPPORTED, VIR_FROM_QEMU,
         "QEMU guest agent is not configured", VTS_ERR_NO_AGENT_CHANNEL},
        /* Other unsupported arguments are not about the channel. */
        {VIR_ERR_ARGUMENT_UNSUPPORTED, VIR_FROM_QEMU,
         "argument unsupported: unsupported flags (0x4)", VTS_ERR_AGENT_ERROR},
    };

    (void)state;
    EXPECT_MAPPING(cases);
}

static void
test_map_agent_not_connected_or_gone_is_agent_not_connected(void **state)
{
    static const map_case cases[] = {
        {VIR_ERR_AGENT_UNRESPONSIVE, VIR_FROM_QEMU,
         "Guest agent is not responding: QEMU guest agent is not connected",
         VTS_ERR_AGENT_NOT_CONNECTED},
        {VIR_ERR_AGENT_UNRESPONSIVE, VIR_FROM_QEMU,
         "Guest agent is not responding: Guest agent disappeared while executing command",
         VTS_ERR_AGENT_NOT_CONNECTED},
        {VIR_ERR_AGENT_UNRESPONSIVE, VIR_FROM_QEMU,
         "Guest agent is not responding: QEMU guest agent is not available due to an "
         "error",
         VTS_ERR_AGENT_NOT_CONNECTED},
    };

    (void)state;
    EXPECT_MAPPING(cases);
}

static void
test_map_agent_not_available_for_now_is_agent_timeout(void **state)
{
    static const map_case cases[] = {
        {VIR_ERR_AGENT_UNRESPONSIVE, VIR_FROM_QEMU,
         "Guest agent is not responding: Guest agent not available for now",
         VTS_ERR_AGENT_TIMEOUT},
        {VIR_ERR_AGENT_UNRESPONSIVE, VIR_FROM_QEMU, "Guest agent is not responding",
         VTS_ERR_AGENT_TIMEOUT},
    };

    (void)state;
    EXPECT_MAPPING(cases);
}

static void
test_map_operation_timeout_and_unsynced_are_agent_timeout(void **state)
{
    static const map_case cases[] = {
        {VIR_ERR_OPERATION_TIMEOUT, VIR_FROM_QEMU,
         "Timed out during operation: cannot acquire state change lock (held by "
         "agent=remoteDispatchDomainQemuAgentCommand)",
         VTS_ERR_AGENT_TIMEOUT},
        {VIR_ERR_AGENT_UNSYNCED, VIR_FROM_QEMU,
         "guest agent replied with wrong id to guest-sync command",
         VTS_ERR_AGENT_TIMEOUT},
    };

    (void)state;
    EXPECT_MAPPING(cases);
}

static void
test_map_no_domain_is_not_found(void **state)
{
    static const map_case cases[] = {
        {VIR_ERR_NO_DOMAIN, VIR_FROM_QEMU,
         "Domain not found: no domain with matching name 'web-1'", VTS_ERR_NOT_FOUND},
        {VIR_ERR_NO_DOMAIN, VIR_FROM_TEST, "Domain not found", VTS_ERR_NOT_FOUND},
        /* The code decides, even when it arrives through the remote driver. */
        {VIR_ERR_NO_DOMAIN, VIR_FROM_REMOTE, "Domain not found", VTS_ERR_NOT_FOUND},
    };

    (void)state;
    EXPECT_MAPPING(cases);
}

static void
test_map_operation_invalid_is_not_running(void **state)
{
    static const map_case cases[] = {
        {VIR_ERR_OPERATION_INVALID, VIR_FROM_QEMU,
         "Requested operation is not valid: domain is not running", VTS_ERR_NOT_RUNNING},
    };

    (void)state;
    EXPECT_MAPPING(cases);
}

static void
test_map_agent_command_failure_is_agent_error(void **state)
{
    static const map_case cases[] = {
        {VIR_ERR_INTERNAL_ERROR, VIR_FROM_QEMU,
         "internal error: unable to execute QEMU agent command 'guest-set-time': this "
         "feature "
         "or command is not currently supported",
         VTS_ERR_AGENT_ERROR},
        {VIR_ERR_INTERNAL_ERROR, VIR_FROM_QEMU,
         "internal error: unable to execute QEMU agent command 'guest-set-time': The "
         "command "
         "guest-set-time has been disabled for this instance",
         VTS_ERR_AGENT_ERROR},
        {VIR_ERR_INTERNAL_ERROR, VIR_FROM_QEMU,
         "internal error: unable to execute QEMU agent command 'guest-get-time'",
         VTS_ERR_AGENT_ERROR},
        {VIR_ERR_INTERNAL_ERROR, VIR_FROM_QEMU,
         "internal error: Missing agent reply object", VTS_ERR_AGENT_ERROR},
        /* An internal error that is not about the agent stays internal. */
        {VIR_ERR_INTERNAL_ERROR, VIR_FROM_QEMU, "internal error: unexpected QEMU state",
         VTS_ERR_INTERNAL},
    };

    (void)state;
    EXPECT_MAPPING(cases);
}

static void
test_map_rpc_and_connection_errors_are_connect(void **state)
{
    static const map_case cases[] = {
        {VIR_ERR_SYSTEM_ERROR, VIR_FROM_RPC, "Cannot write data: Broken pipe",
         VTS_ERR_CONNECT},
        {VIR_ERR_SYSTEM_ERROR, VIR_FROM_RPC,
         "End of file while reading data: Input/output error", VTS_ERR_CONNECT},
        {VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC, "internal error: client socket is closed",
         VTS_ERR_CONNECT},
        {VIR_ERR_RPC, VIR_FROM_REMOTE, "RPC error", VTS_ERR_CONNECT},
        {VIR_ERR_RPC, VIR_FROM_QEMU, "RPC error", VTS_ERR_CONNECT},
        {VIR_ERR_NO_CONNECT, VIR_FROM_NONE,
         "no connection driver available for bogus:///", VTS_ERR_CONNECT},
        {VIR_ERR_INVALID_CONN, VIR_FROM_NONE,
         "invalid connection pointer in virDomainGetState", VTS_ERR_CONNECT},
        {VIR_ERR_AUTH_FAILED, VIR_FROM_AUTH, "authentication failed: polkit",
         VTS_ERR_CONNECT},
        {VIR_ERR_AUTH_CANCELLED, VIR_FROM_AUTH, "authentication cancelled",
         VTS_ERR_CONNECT},
        {VIR_ERR_AUTH_UNAVAILABLE, VIR_FROM_AUTH, "authentication unavailable",
         VTS_ERR_CONNECT},
    };

    (void)state;
    EXPECT_MAPPING(cases);
}

static void
test_map_unknown_errors_are_internal(void **state)
{
    static const map_case cases[] = {
        {VIR_ERR_NO_SUPPORT, VIR_FROM_TEST,
         "this function is not supported by the connection driver: "
         "virDomainQemuAgentCommand",
         VTS_ERR_INTERNAL},
        {VIR_ERR_OK, VIR_FROM_NONE, "", VTS_ERR_INTERNAL},
        {VIR_ERR_NO_MEMORY, VIR_FROM_QEMU, "out of memory", VTS_ERR_INTERNAL},
        {-1, -1, "nonsense", VTS_ERR_INTERNAL},
        {100000, 100000, "nonsense", VTS_ERR_INTERNAL},
    };

    (void)state;
    EXPECT_MAPPING(cases);
}

static void
test_map_null_message_is_safe(void **state)
{
    static const map_case cases[] = {
        {VIR_ERR_ARGUMENT_UNSUPPORTED, VIR_FROM_QEMU, NULL, VTS_ERR_AGENT_ERROR},
        {VIR_ERR_AGENT_UNRESPONSIVE, VIR_FROM_QEMU, NULL, VTS_ERR_AGENT_TIMEOUT},
        {VIR_ERR_INTERNAL_ERROR, VIR_FROM_QEMU, NULL, VTS_ERR_INTERNAL},
        {VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC, NULL, VTS_ERR_CONNECT},
        {VIR_ERR_NO_DOMAIN, VIR_FROM_QEMU, NULL, VTS_ERR_NOT_FOUND},
        {VIR_ERR_OPERATION_INVALID, VIR_FROM_QEMU, NULL, VTS_ERR_NOT_RUNNING},
        {VIR_ERR_OPERATION_TIMEOUT, VIR_FROM_QEMU, NULL, VTS_ERR_AGENT_TIMEOUT},
    };

    (void)state;
    EXPECT_MAPPING(cases);
}

/* --- vts_hv_libvirt_map_agent_error ---------------------------------- */

/* What libvirtd 9.0 says under LANG=ru_RU.UTF-8 with libvirt-l10n. */
#define RU_NOT_CONNECTED                                                                 \
    "\320\223\320\276\321\201\321\202\320\265\320\262\320\276\320\271 "                  \
    "\320\260\320\263\320\265\320\275\321\202 \320\275\320\265 "                         \
    "\320\276\321\202\320\262\320\265\321\207\320\260\320\265\321\202: QEMU guest "      \
    "agent "                                                                             \
    "\320\275\320\265 "                                                                  \
    "\320\277\320\276\320\264\320\272\320\273\321\216\321\207\320\265\320\275"

typedef struct {
    int code;
    int domain;
    const char *message;
    bool have_info;
    bool has_channel;
    vts_agent_state state;
    int64_t elapsed_ms;
    int timeout_s;
    vts_err_code want;
} agent_case;

static void
expect_agent_mapping(const agent_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        vts_domxml_info info = {.has_agent_channel = cases[i].has_channel,
                                .agent_state = cases[i].state};
        vts_err_code got = vts_hv_libvirt_map_agent_error(
            cases[i].code, cases[i].domain, cases[i].message,
            cases[i].have_info ? &info : NULL, cases[i].elapsed_ms * 1000000,
            cases[i].timeout_s);

        if (got != cases[i].want)
            fail_msg("case %zu: code %d, \"%s\", state %d, %lld ms: %s, want %s", i,
                     cases[i].code, cases[i].message, (int)cases[i].state,
                     (long long)cases[i].elapsed_ms, vts_error_code_name(got),
                     vts_error_code_name(cases[i].want));
    }
}

/* An agent still connecting after a restore or a migration, whatever
 * language libvirtd speaks, is not a hung one. */
static void
test_agent_error_not_connected_in_any_language(void **state)
{
    static const agent_case cases[] = {
        /* Refused at once, channel disconnected. */
        {VIR_ERR_AGENT_UNRESPONSIVE, VIR_FROM_QEMU, RU_NOT_CONNECTED, true, true,
         VTS_AGENT_STATE_DISCONNECTED, 3, 2, VTS_ERR_AGENT_NOT_CONNECTED},
        /* The channel connected between the refusal and our look at the
         * XML: refused at once all the same. */
        {VIR_ERR_AGENT_UNRESPONSIVE, VIR_FROM_QEMU, RU_NOT_CONNECTED, true, true,
         VTS_AGENT_STATE_CONNECTED, 3, 2, VTS_ERR_AGENT_NOT_CONNECTED},
        /* The XML could not be read. */
        {VIR_ERR_AGENT_UNRESPONSIVE, VIR_FROM_QEMU, RU_NOT_CONNECTED, false, false,
         VTS_AGENT_STATE_UNKNOWN, 40, 5, VTS_ERR_AGENT_NOT_CONNECTED},
        /* Gone while a command waited ("disappeared"): the channel says so. */
        {VIR_ERR_AGENT_UNRESPONSIVE, VIR_FROM_QEMU, "Agent verschwunden", true, true,
         VTS_AGENT_STATE_DISCONNECTED, 1500, 2, VTS_ERR_AGENT_NOT_CONNECTED},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(
            vts_hv_libvirt_map_error(cases[i].code, cases[i].domain, cases[i].message) ==
                VTS_ERR_AGENT_TIMEOUT,
            true); /* what the text alone gets wrong */
    expect_agent_mapping(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_agent_error_hung_agent_is_timeout(void **state)
{
    static const agent_case cases[] = {
        /* guest-sync waited its full time on a connected channel. */
        {VIR_ERR_AGENT_UNRESPONSIVE, VIR_FROM_QEMU,
         "\320\260\320\263\320\265\320\275\321\202", true, true,
         VTS_AGENT_STATE_CONNECTED, 2001, 2, VTS_ERR_AGENT_TIMEOUT},
        {VIR_ERR_AGENT_UNRESPONSIVE, VIR_FROM_QEMU,
         "Guest agent is not responding: Guest agent not available for now", true, true,
         VTS_AGENT_STATE_CONNECTED, 5000, 10, VTS_ERR_AGENT_TIMEOUT},
        /* Another agent job held the domain. */
        {VIR_ERR_OPERATION_TIMEOUT, VIR_FROM_QEMU, "Zeit\303\274berschreitung", true,
         true, VTS_AGENT_STATE_CONNECTED, 30000, 2, VTS_ERR_AGENT_TIMEOUT},
    };

    (void)state;
    expect_agent_mapping(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_agent_error_other_classes_without_english(void **state)
{
    static const agent_case cases[] = {
        /* "QEMU guest agent is not configured", in German. */
        {VIR_ERR_ARGUMENT_UNSUPPORTED, VIR_FROM_QEMU,
         "Argument nicht unterst\303\274tzt: QEMU-Gast-Agent ist nicht konfiguriert",
         true, false, VTS_AGENT_STATE_UNKNOWN, 2, 2, VTS_ERR_NO_AGENT_CHANNEL},
        /* The agent's own error reply, libvirt's prefix translated. */
        {VIR_ERR_INTERNAL_ERROR, VIR_FROM_QEMU,
         "\320\262\320\275\321\203\321\202\321\200\320\265\320\275\320\275\321\217\321"
         "\217 "
         "'guest-set-time': this feature or command is not currently supported",
         false, false, VTS_AGENT_STATE_UNKNOWN, 12, 2, VTS_ERR_AGENT_ERROR},
        {VIR_ERR_NO_DOMAIN, VIR_FROM_QEMU, "x", false, false, VTS_AGENT_STATE_UNKNOWN, 1,
         2, VTS_ERR_NOT_FOUND},
        {VIR_ERR_OPERATION_INVALID, VIR_FROM_QEMU, "x", false, false,
         VTS_AGENT_STATE_UNKNOWN, 1, 2, VTS_ERR_NOT_RUNNING},
        {VIR_ERR_SYSTEM_ERROR, VIR_FROM_RPC, "x", false, false, VTS_AGENT_STATE_UNKNOWN,
         1, 2, VTS_ERR_CONNECT},
    };

    (void)state;
    expect_agent_mapping(cases, sizeof(cases) / sizeof(cases[0]));
}

/* --- the operations, over libvirt's test driver ----------------------- */

typedef struct {
    vts_hv_conn *conn;
    vts_hv_dom *dom;
    vts_error err;
} libvirt_fixture;

static int
setup_test_driver(void **state)
{
    libvirt_fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    /* Every connection to test:///default in a process shares one state,
     * reset when the last one closes: each test starts afresh. */
    if (vts_hv_libvirt_ops.connect("test:///default", &f->conn, &f->err) < 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int
teardown_test_driver(void **state)
{
    libvirt_fixture *f = *state;

    vts_hv_libvirt_ops.dom_free(f->dom);
    vts_hv_libvirt_ops.disconnect(f->conn);
    free(f);
    return 0;
}

static void
test_libvirt_ops_table_is_complete(void **state)
{
    const vts_hv_ops *ops = &vts_hv_libvirt_ops;

    (void)state;
    assert_non_null(ops->connect);
    assert_non_null(ops->disconnect);
    assert_non_null(ops->list_running);
    assert_non_null(ops->lookup);
    assert_non_null(ops->dom_free);
    assert_non_null(ops->dom_state);
    assert_non_null(ops->dom_xml);
    assert_non_null(ops->agent_command);
    assert_non_null(ops->now_ns);
    assert_non_null(ops->loop_init);
    assert_non_null(ops->loop_run_once);
    assert_non_null(ops->loop_add_handle);
    assert_non_null(ops->loop_remove_handle);
    assert_non_null(ops->loop_add_timer);
    assert_non_null(ops->loop_update_timer);
    assert_non_null(ops->loop_remove_timer);
    assert_non_null(ops->events_register);
    /* NULL is allowed where the header says so. */
    ops->disconnect(NULL);
    ops->dom_free(NULL);
}

static void
test_libvirt_connect_failure_is_connect_with_a_hint(void **state)
{
    vts_hv_conn *conn = (vts_hv_conn *)&conn;
    vts_error err;
    int saved = dup(STDERR_FILENO), devnull = open("/dev/null", O_WRONLY);
    int rc;

    (void)state;
    /* libxml2 prints an "I/O warning" about the missing file: not ours. */
    assert_true(saved >= 0 && devnull >= 0);
    dup2(devnull, STDERR_FILENO);
    rc = vts_hv_libvirt_ops.connect("test:///nonexistent/vmtimesync.xml", &conn, &err);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(devnull);
    assert_int_equal(rc, -1);
    assert_null(conn);
    assert_int_equal(err.code, VTS_ERR_CONNECT);
    assert_non_null(strstr(err.message, "test:///nonexistent/vmtimesync.xml"));
    assert_non_null(strstr(err.message, "libvirtd"));
}

static void
test_libvirt_lookup_of_missing_domain_is_not_found(void **state)
{
    libvirt_fixture *f = *state;

    f->dom = (vts_hv_dom *)f;
    assert_int_equal(
        vts_hv_libvirt_ops.lookup(f->conn, "no-such-domain", &f->dom, &f->err), -1);
    assert_null(f->dom);
    assert_int_equal(f->err.code, VTS_ERR_NOT_FOUND);
    assert_true(f->err.message[0] != '\0');
}

static void
test_libvirt_running_domain_state_xml_and_list(void **state)
{
    libvirt_fixture *f = *state;
    vts_dom_state st = VTS_DOM_OTHER;
    char **names = NULL;
    char *xml = NULL;
    size_t count = 0, i;
    bool found = false;

    assert_int_equal(vts_hv_libvirt_ops.lookup(f->conn, "test", &f->dom, &f->err), 0);
    assert_int_equal(vts_hv_libvirt_ops.dom_state(f->dom, &st, &f->err), 0);
    assert_int_equal(st, VTS_DOM_RUNNING);
    assert_int_equal(vts_hv_libvirt_ops.dom_xml(f->dom, &xml, &f->err), 0);
    assert_non_null(strstr(xml, "<domain"));
    assert_non_null(strstr(xml, "<name>test</name>"));
    free(xml);
    assert_int_equal(vts_hv_libvirt_ops.list_running(f->conn, &names, &count, &f->err),
                     0);
    for (i = 0; i < count; i++)
        found = found || strcmp(names[i], "test") == 0;
    assert_true(found);
    vts_hv_names_free(names, count);
}

static void
test_libvirt_paused_and_shut_off_states(void **state)
{
    libvirt_fixture *f = *state;
    virConnectPtr c = virConnectOpen("test:///default");
    virDomainPtr d;
    vts_dom_state st = VTS_DOM_RUNNING;
    char **names = NULL;
    size_t count = 0, i;

    assert_non_null(c);
    d = virDomainLookupByName(c, "test");
    assert_non_null(d);
    assert_int_equal(vts_hv_libvirt_ops.lookup(f->conn, "test", &f->dom, &f->err), 0);

    assert_int_equal(virDomainSuspend(d), 0);
    assert_int_equal(vts_hv_libvirt_ops.dom_state(f->dom, &st, &f->err), 0);
    assert_int_equal(st, VTS_DOM_PAUSED);
    /* A paused domain is not in the running list. */
    assert_int_equal(vts_hv_libvirt_ops.list_running(f->conn, &names, &count, &f->err),
                     0);
    for (i = 0; i < count; i++)
        assert_string_not_equal(names[i], "test");
    vts_hv_names_free(names, count);

    assert_int_equal(virDomainDestroy(d), 0);
    assert_int_equal(vts_hv_libvirt_ops.dom_state(f->dom, &st, &f->err), 0);
    assert_int_equal(st, VTS_DOM_OTHER);

    virDomainFree(d);
    virConnectClose(c);
}

static void
test_libvirt_agent_command_error_is_reported_not_crashed(void **state)
{
    libvirt_fixture *f = *state;
    char *reply = (char *)f;

    /* The test driver has no guest agent: libvirt says "not supported". */
    assert_int_equal(vts_hv_libvirt_ops.lookup(f->conn, "test", &f->dom, &f->err), 0);
    assert_int_equal(vts_hv_libvirt_ops.agent_command(
                         f->dom, "{\"execute\":\"guest-get-time\"}", 0, &reply, &f->err),
                     -1);
    assert_null(reply);
    assert_int_equal(f->err.code, VTS_ERR_INTERNAL);
    assert_non_null(strstr(f->err.message, "not supported"));
}

#define M(fn) cmocka_unit_test_setup_teardown(fn, setup_nothing, teardown_nothing)
#define L(fn) cmocka_unit_test_setup_teardown(fn, setup_test_driver, teardown_test_driver)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        M(test_map_agent_not_configured_is_no_agent_channel),
        M(test_map_agent_not_connected_or_gone_is_agent_not_connected),
        M(test_map_agent_not_available_for_now_is_agent_timeout),
        M(test_map_operation_timeout_and_unsynced_are_agent_timeout),
        M(test_map_no_domain_is_not_found),
        M(test_map_operation_invalid_is_not_running),
        M(test_map_agent_command_failure_is_agent_error),
        M(test_map_rpc_and_connection_errors_are_connect),
        M(test_map_unknown_errors_are_internal),
        M(test_map_null_message_is_safe),
        M(test_agent_error_not_connected_in_any_language),
        M(test_agent_error_hung_agent_is_timeout),
        M(test_agent_error_other_classes_without_english),
        M(test_libvirt_ops_table_is_complete),
        M(test_libvirt_connect_failure_is_connect_with_a_hint),
        L(test_libvirt_lookup_of_missing_domain_is_not_found),
        L(test_libvirt_running_domain_state_xml_and_list),
        L(test_libvirt_paused_and_shut_off_states),
        L(test_libvirt_agent_command_error_is_reported_not_crashed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
