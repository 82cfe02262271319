/* test_hv.c: unit tests for lib/vts_hv.c, the helpers shared by backends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmtimesync/vts_hv.h"

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

/* LeakSanitizer reports any name or array left behind. */
static void
test_hv_names_free_frees_every_name_and_the_array(void **state)
{
    char **names = calloc(3, sizeof(*names));

    (void)state;
    assert_non_null(names);
    names[0] = strdup("web-1");
    names[1] = strdup("db");
    names[2] = strdup("cache");
    vts_hv_names_free(names, 3);
    /* An empty list as list_running hands it back. */
    names = calloc(1, sizeof(*names));
    assert_non_null(names);
    vts_hv_names_free(names, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hv_names_free_accepts_null, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hv_names_free_frees_every_name_and_the_array,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
