/* test_daemon_ctl.c: lib/vts_daemon_ctl.c, what vmtimesyncd answers on
 * its control socket: the status JSON of `vmtimesync --status`, the
 * hook's announcements, and an error for a request it does not know.
 * Asked through the real socket, over the fake hypervisor
 * (daemon_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_fixture.h"
#include "vts_ctl.h"
#include "vts_sync.h"

#define S VTS_NS_PER_SEC
#define MS VTS_NS_PER_MS

/* @o's member @key as a string, "" when absent or not a string. */
static const char *
str_of(json_object *o, const char *key)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return "";
    return json_object_get_string(v);
}

/* The status's entry for @name, borrowed from @root, or NULL. */
static json_object *
status_domain(json_object *root, const char *name)
{
    json_object *arr = NULL;

    if (!json_object_object_get_ex(root, "domains", &arr) ||
        !json_object_is_type(arr, json_type_array))
        return NULL;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *o = json_object_array_get_idx(arr, i);

        if (strcmp(str_of(o, "domain"), name) == 0)
            return o;
    }
    return NULL;
}

/* What the script saw, checked by the test's thread. */
typedef struct {
    char *status;        /* after web-1's step and db-2's failure */
    char *pending_reply; /* to the hook's announcement */
    int pending_phase;   /* web-1's phase after it */
    char *bad_reply;     /* to an unknown command */
    char *status_after;  /* after the bad request */
} ctl_seen;

static bool
ask(daemon_run *r, const char *request, char **reply)
{
    vts_error err;

    if (vts_ctl_call(r->sock, request, 5000, reply, &err) < 0)
        return daemon_run_fail(r, "%s: %s", request, err.message);
    return true;
}

static bool
status_script(daemon_run *r)
{
    ctl_seen *seen = (ctl_seen *)r->arg;

    if (!daemon_run_wait_metric(
            r, "vmtimesync_syncs_total{trigger=\"sweep\",result=\"stepped\"}", 1, 5000) ||
        !daemon_run_idle(r, FAKE_HV_DOMAIN))
        return false;
    /* A domain that left before its sync: listed with its error. */
    if (!daemon_run_event(r, "db-2", VTS_EV_RESUMED, VTS_EVD_UNPAUSED))
        return daemon_run_fail(r, "nobody registered for events");
    if (!daemon_run_wait_metric(
            r, "vmtimesync_syncs_total{trigger=\"resumed\",result=\"not-found\"}", 1,
            5000) ||
        !daemon_run_idle(r, "db-2"))
        return false;
    if (!(seen->status = daemon_run_status(r)))
        return daemon_run_fail(r, "no status");
    /* The hook announces an incoming migration: the daemon waits for it. */
    if (!ask(r, "{\"cmd\":\"pending\",\"domain\":\"web-1\",\"reason\":\"migrate\"}",
             &seen->pending_reply))
        return false;
    seen->pending_phase = daemon_run_phase(r, FAKE_HV_DOMAIN);
    if (!ask(r, "{\"cmd\":\"reboot\"}", &seen->bad_reply))
        return false;
    if (!(seen->status_after = daemon_run_status(r)))
        return daemon_run_fail(r, "no status after a bad request");
    return true;
}

static void
expect_last(json_object *root, const char *name, const char *action, const char *trigger)
{
    json_object *d = status_domain(root, name);
    json_object *last = NULL;

    if (!d)
        fail_msg("%s is not in the status", name);
    assert_string_equal(str_of(d, "phase"), "idle");
    assert_string_equal(str_of(d, "trigger"), trigger);
    assert_true(json_object_object_get_ex(d, "last", &last));
    assert_string_equal(str_of(last, "action"), action);
}

/* The status names each domain with its last action, trigger and offset:
 * web-1 stepped by the sweep from 3 s behind; db-2's sync failed, with
 * the reason. */
static void
test_status_names_each_domains_last_action_and_offset(void **state)
{
    ctl_seen seen = {0};
    json_object *root, *web, *last, *v, *err;

    (void)state;
    fake_hv_reset();
    fake_hv_set_guest_offset(-3 * S);
    daemon_run_script(status_script, &seen, NULL);

    root = json_tokener_parse(seen.status);
    assert_non_null(root);
    assert_string_equal(str_of(root, "uri"), "fake:///");
    assert_true(json_object_object_get_ex(root, "connected", &v));
    assert_true(json_object_get_boolean(v));

    expect_last(root, FAKE_HV_DOMAIN, "stepped", "sweep");
    web = status_domain(root, FAKE_HV_DOMAIN);
    assert_true(json_object_object_get_ex(web, "last", &last));
    assert_true(json_object_object_get_ex(last, "offset_ns", &v));
    assert_true(llabs(json_object_get_int64(v) + 3 * S) < 1 * MS);
    assert_true(json_object_object_get_ex(last, "residual_ns", &v));
    assert_true(llabs(json_object_get_int64(v)) < VTS_SYNC_DEFAULT_THRESHOLD_NS);

    expect_last(root, "db-2", "error", "resumed/unpaused");
    assert_true(json_object_object_get_ex(status_domain(root, "db-2"), "last", &last));
    assert_true(json_object_object_get_ex(last, "error", &err));
    assert_string_equal(str_of(err, "code"), "not-found");
    assert_string_equal(str_of(err, "message"),
                        "domain not found: check the name with 'virsh list --all'");
    json_object_put(root);

    /* The hook's announcement is acknowledged, and web-1 waits for it. */
    assert_string_equal(seen.pending_reply, "{\"ok\":true}\n");
    assert_int_equal(seen.pending_phase, VTS_PHASE_WAITING);

    /* An unknown command gets an error saying what is known, and the
     * daemon answers the next request. */
    root = json_tokener_parse(seen.bad_reply);
    assert_non_null(root);
    assert_string_equal(str_of(root, "error"),
                        "request: unknown \"cmd\" (known: \"status\", \"pending\")");
    json_object_put(root);
    root = json_tokener_parse(seen.status_after);
    assert_non_null(root);
    assert_non_null(status_domain(root, FAKE_HV_DOMAIN));
    json_object_put(root);

    free(seen.status);
    free(seen.pending_reply);
    free(seen.bad_reply);
    free(seen.status_after);
    fake_hv_cleanup();
}

/* The hook after libvirtd restarted ("reconnect"): no event will come for
 * a guest that runs already, so the daemon syncs it at once. */
static bool
reconnect_script(daemon_run *r)
{
    char *reply = NULL;
    bool ok;

    if (!daemon_run_wait_metric(
            r, "vmtimesync_syncs_total{trigger=\"sweep\",result=\"none\"}", 1, 5000) ||
        !daemon_run_idle(r, FAKE_HV_DOMAIN))
        return false;
    fake_hv_set_guest_offset(-2 * S);
    if (!ask(r, "{\"cmd\":\"pending\",\"domain\":\"web-1\",\"reason\":\"reconnect\"}",
             &reply))
        return false;
    ok = strcmp(reply, "{\"ok\":true}\n") == 0;
    free(reply);
    if (!ok)
        return daemon_run_fail(r, "the announcement was not acknowledged");
    return daemon_run_wait_metric(
               r, "vmtimesync_syncs_total{trigger=\"hook\",result=\"stepped\"}", 1,
               5000) &&
           daemon_run_idle(r, FAKE_HV_DOMAIN);
}

static void
test_hook_reconnect_announcement_syncs_at_once(void **state)
{
    (void)state;
    fake_hv_reset();
    daemon_run_script(reconnect_script, NULL, NULL);
    assert_true(llabs(fake_hv_guest_offset()) < VTS_SYNC_DEFAULT_THRESHOLD_NS);
    fake_hv_cleanup();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names_each_domains_last_action_and_offset),
        cmocka_unit_test(test_hook_reconnect_announcement_syncs_at_once),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
