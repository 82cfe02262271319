/* sync_fixture.c: the fixture the sync and fallback unit tests share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sync_fixture.h"

int
sync_fixture_setup(void **state)
{
    sync_fixture *f = calloc(1, sizeof(*f));
    vts_error err;

    if (!f)
        return -1;
    fake_hv_reset();
    if (fake_hv_ops.connect("fake:///", &f->conn, &err) < 0) {
        free(f);
        return -1;
    }
    vts_sync_opts_init(&f->opts);
    *state = f;
    return 0;
}

int
sync_fixture_teardown(void **state)
{
    sync_fixture *f = *state;
    int open = fake_hv_open_doms();

    fake_hv_ops.disconnect(f->conn);
    fake_hv_cleanup();
    free(f);
    /* Every domain the library looked up, it released. */
    assert_int_equal(open, 0);
    return 0;
}

void
sync_domain(sync_fixture *f)
{
    memset(&f->res, 0x5a, sizeof(f->res));
    f->rc = vts_sync_domain(&fake_hv_ops, f->conn, FAKE_HV_DOMAIN, &f->opts, &f->res);
}

void
expect_ok(sync_fixture *f, vts_action action)
{
    if (f->rc != 0 || f->res.action != action)
        fail_msg("rc %d, action %s, want %s (%s: %s)", f->rc,
                 vts_action_name(f->res.action), vts_action_name(action),
                 vts_error_code_name(f->res.err.code), f->res.err.message);
    assert_true(f->res.have_offset);
}

void
expect_error(sync_fixture *f, vts_err_code code, const char *hint)
{
    if (f->rc != -1 || f->res.action != VTS_ACTION_ERROR || f->res.err.code != code)
        fail_msg("rc %d, action %s, code %s, want %s (%s)", f->rc,
                 vts_action_name(f->res.action), vts_error_code_name(f->res.err.code),
                 vts_error_code_name(code), f->res.err.message);
    assert_true(strlen(f->res.err.message) > 10);
    if (hint && !strstr(f->res.err.message, hint))
        fail_msg("message \"%s\" lacks \"%s\"", f->res.err.message, hint);
    if (strstr(f->res.err.message, FAKE_HV_DOMAIN))
        fail_msg("message \"%s\" names the domain", f->res.err.message);
}

const fake_hv_call *
nth_call(const char *execute, int n)
{
    int i;

    for (i = 0; i < fake_hv_ncalls(); i++) {
        const fake_hv_call *c = fake_hv_call_at(i);

        if (strcmp(c->execute, execute) == 0 && n-- == 0)
            return c;
    }
    fail_msg("no %s number %d", execute, n);
    return NULL;
}

const fake_hv_call *
set_time_call(int n)
{
    return nth_call("guest-set-time", n);
}
