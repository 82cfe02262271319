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

#include "vmtimesync/vts_domxml.h"
#include "vmtimesync/vts_hook.h"

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
    char *argv[] = {(char *)"/etc/libvirt/hooks/qemu.d/vmtimesync", (char *)"web-1",
                    (char *)"migrate", (char *)"begin", (char *)"-", NULL};
    vts_hook_decision d;

    (void)state;
    vts_hook_decide_args(5, argv, &d);
    assert_int_equal(d.action, VTS_HOOK_ANNOUNCE);
    vts_hook_decide_xml(NULL, 0, &d);
    assert_int_equal(d.action, VTS_HOOK_IGNORE);
    assert_false(d.needs_xml);
    assert_non_null(strstr(d.why, "unreadable domain XML"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_domxml_scan_null_text_is_refused_without_pointer_arithmetic),
        cmocka_unit_test(test_hook_decide_xml_without_text_ignores),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
