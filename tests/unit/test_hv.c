/* test_hv.c: unit tests for lib/vts_hv.c, the helpers shared by backends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <stdbool.h>

#include "vts_hv.h"

static int
setup(void **state)
{
    *state = NULL;
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    return 0;
}

static void
test_hv_names_free_accepts_null(void **state)
{
    (void)state;
    vts_hv_names_free(NULL, 0);
    vts_hv_names_free(NULL, 5);
}

/* Every name and the array go. This binary's free() notes which of the
 * pointers a test tracks went through it, then hands them to glibc's.
 * Under AddressSanitizer, whose allocator that would bypass, LeakSanitizer
 * reports what is left behind instead. */
#if defined(__SANITIZE_ADDRESS__)
#define TRACK_FREE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TRACK_FREE 0
#endif
#endif
#ifndef TRACK_FREE
#define TRACK_FREE 1
#endif

#define TRACKED_MAX 8
static void *tracked[TRACKED_MAX];
static bool tracked_freed[TRACKED_MAX];

#if TRACK_FREE
void __libc_free(void *p);

void
free(void *p)
{
    for (int i = 0; p && i < TRACKED_MAX; i++) {
        if (tracked[i] == p)
            tracked_freed[i] = true;
    }
    __libc_free(p);
}
#endif

/* Is this binary's free() the one called? Not under valgrind, whose
 * allocator replaces it (memcheck's leak check then reports what is left
 * behind, as LeakSanitizer does). */
static bool
free_is_tracked(void)
{
    void *p = malloc(1);
    bool seen;

    if (!TRACK_FREE || !p) {
        free(p);
        return false;
    }
    tracked[TRACKED_MAX - 1] = p;
    tracked_freed[TRACKED_MAX - 1] = false;
    free(p);
    seen = tracked_freed[TRACKED_MAX - 1];
    tracked[TRACKED_MAX - 1] = NULL;
    return seen;
}

static void
test_hv_names_free_frees_every_name_and_the_array(void **state)
{
    char **names = calloc(3, sizeof(*names));
    bool track = free_is_tracked();

    (void)state;
    assert_non_null(names);
    names[0] = strdup("web-1");
    names[1] = strdup("db");
    names[2] = strdup("cache");
    assert_true(names[0] && names[1] && names[2]);
    memset(tracked_freed, 0, sizeof(tracked_freed));
    tracked[0] = names;
    tracked[1] = names[0];
    tracked[2] = names[1];
    tracked[3] = names[2];
    vts_hv_names_free(names, 3);
    for (int i = 0; track && i < 4; i++) {
        if (!tracked_freed[i])
            fail_msg("%s not freed", i == 0 ? "the array" : "a name");
    }
    /* An empty list as list_running hands it back. */
    names = calloc(1, sizeof(*names));
    assert_non_null(names);
    tracked[0] = names;
    tracked_freed[0] = false;
    vts_hv_names_free(names, 0);
    assert_true(!track || tracked_freed[0]);
    memset(tracked, 0, sizeof(tracked));
}

/* The names are labels in the metrics (syncs_total's trigger) and words in
 * the log: each kind and detail has its own, stable one. */
static void
test_hv_event_names_are_stable(void **state)
{
    static const char *const kinds[] = {
        "started",         "suspended",          "resumed",      "stopped", "pmwakeup",
        "agent-connected", "agent-disconnected", "job-completed"};
    static const char *const details[] = {
        "-",        "booted",   "paused",        "unpaused",
        "migrated", "restored", "from-snapshot", "postcopy",
        "wakeup",   "saved",    "ioerror",       "other"};

    (void)state;
    assert_int_equal(sizeof(kinds) / sizeof(kinds[0]), VTS_EV_JOB_COMPLETED + 1);
    for (int k = 0; k <= VTS_EV_JOB_COMPLETED; k++)
        assert_string_equal(vts_ev_kind_name((vts_ev_kind)k), kinds[k]);
    assert_string_equal(vts_ev_kind_name((vts_ev_kind)(VTS_EV_JOB_COMPLETED + 1)),
                        "unknown");
    assert_int_equal(sizeof(details) / sizeof(details[0]), VTS_EVD_OTHER + 1);
    for (int d = 0; d <= VTS_EVD_OTHER; d++)
        assert_string_equal(vts_ev_detail_name((vts_ev_detail)d), details[d]);
    assert_string_equal(vts_ev_detail_name((vts_ev_detail)(VTS_EVD_OTHER + 1)), "other");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hv_names_free_accepts_null, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hv_names_free_frees_every_name_and_the_array,
                                        setup, teardown),
        cmocka_unit_test(test_hv_event_names_are_stable),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
