/* sync_fixture.h: what the unit tests of lib/vts_sync.c and
 * lib/vts_fallback.c share: a connection to the fake hypervisor, sync
 * options and a result, and checks on them. */
#ifndef SYNC_FIXTURE_H
#define SYNC_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "fake_hv.h"
#include "vts_sync.h"

#define US 1000LL
#define MS VTS_NS_PER_MS
#define S VTS_NS_PER_SEC

/* Messages libvirt 9.0 really reports, as the real backend passes them on. */
#define LV_NOT_CONFIGURED "argument unsupported: QEMU guest agent is not configured"
#define LV_NOT_CONNECTED                                                                 \
    "Guest agent is not responding: QEMU guest agent is not connected"
#define LV_NOT_AVAILABLE                                                                 \
    "Guest agent is not responding: Guest agent not available for now"
#define LV_UNSUPPORTED                                                                   \
    "internal error: unable to execute QEMU agent command 'guest-set-time': this "       \
    "feature "                                                                           \
    "or command is not currently supported"
#define LV_DISABLED                                                                      \
    "internal error: unable to execute QEMU agent command 'guest-set-time': The "        \
    "command "                                                                           \
    "guest-set-time has been disabled for this instance"

#define assert_near(got, want, tol)                                                      \
    do {                                                                                 \
        int64_t got_ = (got), want_ = (want), tol_ = (tol);                              \
        if (got_ < want_ - tol_ || got_ > want_ + tol_)                                  \
            fail_msg("%s = %lld, want %lld +- %lld", #got, (long long)got_,              \
                     (long long)want_, (long long)tol_);                                 \
    } while (0)

typedef struct {
    vts_hv_conn *conn;
    vts_sync_opts opts;
    vts_sync_result res;
    int rc;
    char log[16384]; /* the library's log lines, "LEVEL domain: msg\n" */
    size_t log_len;
} sync_fixture;

/* cmocka setup and teardown: a fresh fake, a fixture in *@state; the
 * teardown checks that every domain looked up was released. */
int sync_fixture_setup(void **state);
int sync_fixture_teardown(void **state);

/* vts_sync_domain() of the fake domain into f->res and f->rc. */
void sync_domain(sync_fixture *f);

/* The sync succeeded with @action and measured an offset. */
void expect_ok(sync_fixture *f, vts_action action);

/* The sync failed with @code, and its message says what to do: it holds
 * @hint, and no domain name (whoever prints it puts the name in front). */
void expect_error(sync_fixture *f, vts_err_code code, const char *hint);

/* The @n-th call of @execute in the fake's log. */
const fake_hv_call *nth_call(const char *execute, int n);

/* The @n-th call of guest-set-time in the fake's log. */
const fake_hv_call *set_time_call(int n);

#endif /* SYNC_FIXTURE_H */
