/* test_ctl_server.c: the control socket's server (lib/vts_ctl_server.c)
 * over a real Unix socket in a temporary directory, on the fixture's
 * poll() loop driven by the test's thread, with a callback for answers.
 * Clients are vts_ctl_call() on threads of their own, as `vmtimesync
 * --status` and the hook are, or raw sockets where a client misbehaves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "daemon_fixture.h"
#include "vts_clock.h"
#include "vts_ctl_server.h"
#include "vts_sync.h"

#define NCLIENTS 4

typedef struct {
    char dir[32];
    char path[64];
    vts_hv_ops ops;
    vts_ctl_server *s;
    int answers; /* callback calls, loop thread */
    int wakes;   /* wake calls, loop thread */
    vts_ctl_request last;
    int fds_before;
} server_fixture;

/* One vts_ctl_call() on a thread of its own. */
typedef struct {
    const char *path;
    char request[128];
    char *reply;
    int rc;
    int saved_errno;
    bool done; /* atomic */
    pthread_t t;
} client;

/* The owner's answer: says which request it answers. */
static char *
answer(const vts_ctl_request *req, void *opaque)
{
    server_fixture *f = opaque;
    char *out = NULL;

    f->answers++;
    f->last = *req;
    if (req->cmd == VTS_CTL_STATUS)
        return strdup("{\"status\":\"fine\"}");
    if (asprintf(&out, "{\"pending\":\"%s\",\"reason\":\"%s\"}", req->domain,
                 req->reason) < 0)
        return NULL;
    return out;
}

static void
wake(void *opaque)
{
    server_fixture *f = opaque;

    f->wakes++;
}

static int
setup(void **state)
{
    server_fixture *f = calloc(1, sizeof(*f));
    vts_error err;

    assert_non_null(f);
    f->fds_before = daemon_fx_count_entries("/proc/self/fd");
    snprintf(f->dir, sizeof(f->dir), "/tmp/vts-ctlsrv.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/control.sock", f->dir);
    f->ops = fake_hv_ops;
    daemon_fx_loop_ops(&f->ops);
    assert_int_equal(f->ops.loop_init(&err), 0);
    f->s = vts_ctl_server_new(&f->ops, f->path, answer, wake, f, &err);
    assert_non_null(f->s);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    server_fixture *f = *state;

    vts_ctl_server_free(f->s);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Run the loop until @cond(@arg) holds, 5 s at most. */
static bool
pump(server_fixture *f, bool (*cond)(void *arg), void *arg)
{
    int64_t until = vts_mono_ns() + 5 * VTS_NS_PER_SEC;
    vts_error err;

    while (!cond(arg)) {
        if (vts_mono_ns() > until)
            return false;
        f->ops.loop_run_once(&err);
    }
    return true;
}

static void *
client_run(void *opaque)
{
    client *c = opaque;
    vts_error err;

    c->rc = vts_ctl_call(c->path, c->request, 5000, &c->reply, &err);
    c->saved_errno = errno;
    __atomic_store_n(&c->done, true, __ATOMIC_SEQ_CST);
    return NULL;
}

static void
client_start(client *c, const char *path, const char *request)
{
    memset(c, 0, sizeof(*c));
    c->path = path;
    snprintf(c->request, sizeof(c->request), "%s", request);
    assert_int_equal(pthread_create(&c->t, NULL, client_run, c), 0);
}

static bool
clients_done(void *arg)
{
    client *c = arg;

    for (int i = 0; i < NCLIENTS; i++)
        if (c[i].path && !__atomic_load_n(&c[i].done, __ATOMIC_SEQ_CST))
            return false;
    return true;
}

/* `vmtimesync --status` gets the callback's answer, and the line's
 * newline added by the server. */
static void
expect_status_answered(server_fixture *f)
{
    client c[NCLIENTS];

    memset(c, 0, sizeof(c));
    client_start(&c[0], f->path, "{\"cmd\":\"status\"}");
    assert_true(pump(f, clients_done, c));
    assert_int_equal(pthread_join(c[0].t, NULL), 0);
    assert_int_equal(c[0].rc, 0);
    assert_string_equal(c[0].reply, "{\"status\":\"fine\"}\n");
    free(c[0].reply);
}

static void
test_request_gets_the_callbacks_answer(void **state)
{
    server_fixture *f = *state;

    expect_status_answered(f);
    assert_int_equal(f->answers, 1);
    assert_int_equal(f->last.cmd, VTS_CTL_STATUS);
    assert_int_equal(f->wakes, 1);
}

/* Four clients at once: each gets the answer to its own request. */
static void
test_several_clients_each_get_their_answer(void **state)
{
    server_fixture *f = *state;
    client c[NCLIENTS];
    char want[128], req[128];

    for (int i = 0; i < NCLIENTS; i++) {
        snprintf(req, sizeof(req),
                 "{\"cmd\":\"pending\",\"domain\":\"dom-%d\",\"reason\":\"migrate\"}", i);
        client_start(&c[i], f->path, req);
    }
    assert_true(pump(f, clients_done, c));
    for (int i = 0; i < NCLIENTS; i++) {
        assert_int_equal(pthread_join(c[i].t, NULL), 0);
        assert_int_equal(c[i].rc, 0);
        snprintf(want, sizeof(want), "{\"pending\":\"dom-%d\",\"reason\":\"migrate\"}\n",
                 i);
        assert_string_equal(c[i].reply, want);
        free(c[i].reply);
    }
    assert_int_equal(f->answers, NCLIENTS);
    assert_int_equal(f->wakes, NCLIENTS);
}

static int
raw_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* The server accepted a client (and asked for its time limit). */
static bool
woken(void *arg)
{
    const server_fixture *f = arg;

    return f->wakes >= 1;
}

/* What the server sent @fd until it closed (or 5 s), in @buf; the last
 * recv's errno in *@end_errno (0: closed cleanly). */
static size_t
read_until_closed(int fd, char *buf, size_t size, int *end_errno)
{
    size_t len = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};

    *end_errno = ETIMEDOUT;
    while (len < size - 1 && poll(&p, 1, 5000) > 0) {
        ssize_t n = recv(fd, buf + len, size - 1 - len, MSG_DONTWAIT);

        if (n == 0) {
            *end_errno = 0;
            break;
        }
        if (n < 0) {
            *end_errno = errno;
            break;
        }
        len += (size_t)n;
    }
    buf[len] = '\0';
    return len;
}

/* A client that connects and sends nothing holds a slot until
 * vts_ctl_server_expire() drops it, 2 s after it connected: the deadline
 * it returns is that, and passing it drops the client (it reads EOF). */
static void
test_silent_client_is_expired_at_its_deadline(void **state)
{
    server_fixture *f = *state;
    int64_t before, after, due;
    int end_errno;
    char buf[64];
    int fd;

    assert_int_equal(vts_ctl_server_expire(f->s, vts_mono_ns()), -1);
    before = vts_mono_ns();
    fd = raw_connect(f->path);
    assert_true(pump(f, woken, f));
    after = vts_mono_ns();
    assert_int_equal(f->wakes, 1);

    due = vts_ctl_server_expire(f->s, after);
    assert_true(due > before + 2 * VTS_NS_PER_SEC);
    assert_true(due <= after + 2 * VTS_NS_PER_SEC + 1);
    /* Just before the deadline it stays, and the deadline holds. */
    assert_int_equal(vts_ctl_server_expire(f->s, due - 1), due);
    /* At the deadline it goes: no client left, nothing to wait for. */
    assert_int_equal(vts_ctl_server_expire(f->s, due), -1);
    assert_int_equal(read_until_closed(fd, buf, sizeof(buf), &end_errno), 0);
    assert_int_equal(end_errno, 0);
    assert_int_equal(f->answers, 0);
    close(fd);
}

/* @buf is one line of JSON, {"error": @error}. */
static void
expect_error_reply(const char *what, const char *buf, const char *error)
{
    json_object *o = json_tokener_parse(buf);
    json_object *e = NULL;

    if (!o || !json_object_object_get_ex(o, "error", &e) ||
        strcmp(json_object_get_string(e), error) != 0 || buf[strlen(buf) - 1] != '\n')
        fail_msg("%s: reply '%s', want {\"error\":\"%s\"}", what, buf, error);
    json_object_put(o);
}

/* The server closed its end of @arg's socket (an int *): the reply, if
 * any, was all written. */
static bool
peer_closed(void *arg)
{
    struct pollfd p = {.fd = *(const int *)arg, .events = POLLIN};

    return poll(&p, 1, 0) > 0 && (p.revents & POLLHUP);
}

/* A request that is not JSON, and one longer than VTS_CTL_MAX_REQUEST:
 * each client reads an error that says what was wrong, and the server
 * goes on answering the next client. */
static void
test_bad_requests_get_an_error_and_others_are_served(void **state)
{
    server_fixture *f = *state;
    static const struct {
        const char *name;
        size_t len; /* 0: send @text */
        const char *text;
        const char *error;
    } bad[] = {
        {"garbage", 0, "hello, daemon\n",
         "request: not JSON (unexpected character at byte 0)"},
        {"oversize", VTS_CTL_MAX_REQUEST + 100, NULL,
         "request: longer than 4096 bytes without a newline"},
    };
    char big[VTS_CTL_MAX_REQUEST + 100];
    char buf[512];
    int end_errno;

    memset(big, 'x', sizeof(big));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int fd = raw_connect(f->path);
        const char *out = bad[i].len ? big : bad[i].text;
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);
        int before = f->wakes;

        assert_int_equal(send(fd, out, len, MSG_NOSIGNAL), (ssize_t)len);
        f->wakes = 0;
        assert_true(pump(f, woken, f));
        f->wakes += before;
        assert_true(pump(f, peer_closed, &fd));
        read_until_closed(fd, buf, sizeof(buf), &end_errno);
        expect_error_reply(bad[i].name, buf, bad[i].error);
        /* Closed cleanly, not reset: a reset may come before the client
         * read the reply, and tools report the reset, not the reason. */
        if (end_errno != 0)
            fail_msg("%s: the connection ended with %s after the reply", bad[i].name,
                     strerror(end_errno));
        close(fd);
    }
    assert_int_equal(f->answers, 0);
    expect_status_answered(f);
}

/* close: no socket file, no new client; the one connected before is
 * still answered. free: that client's connection closes too, and every
 * descriptor the server had is released. */
static void
test_close_and_free_release_the_socket(void **state)
{
    server_fixture *f = *state;
    struct stat st;
    client c[NCLIENTS];
    const char req[] = "{\"cmd\":\"status\"}\n";
    char buf[256];
    int end_errno;
    int early, late;

    assert_int_equal(stat(f->path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    early = raw_connect(f->path);
    assert_true(pump(f, woken, f));
    vts_ctl_server_close(f->s);
    vts_ctl_server_close(f->s); /* safe twice */
    assert_int_equal(stat(f->path, &st), -1);
    assert_int_equal(errno, ENOENT);

    /* A new client finds nobody. */
    memset(c, 0, sizeof(c));
    client_start(&c[0], f->path, "{\"cmd\":\"status\"}");
    assert_true(pump(f, clients_done, c));
    assert_int_equal(pthread_join(c[0].t, NULL), 0);
    assert_int_equal(c[0].rc, -1);
    assert_int_equal(c[0].saved_errno, ENOENT);

    /* The early client is still served. */
    assert_int_equal(send(early, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    assert_true(pump(f, peer_closed, &early));
    assert_int_equal(f->answers, 1);
    read_until_closed(early, buf, sizeof(buf), &end_errno);
    assert_string_equal(buf, "{\"status\":\"fine\"}\n");
    close(early);

    /* free closes a client still connected. */
    assert_int_equal(mkdir(f->dir, 0700) == 0 || errno == EEXIST, 1);
    vts_ctl_server_free(f->s);
    f->s = vts_ctl_server_new(&f->ops, f->path, answer, wake, f, &(vts_error){0});
    assert_non_null(f->s);
    late = raw_connect(f->path);
    f->wakes = 0;
    assert_true(pump(f, woken, f));
    vts_ctl_server_free(f->s);
    f->s = NULL;
    assert_int_equal(read_until_closed(late, buf, sizeof(buf), &end_errno), 0);
    assert_int_equal(end_errno, 0);
    close(late);
    assert_int_equal(stat(f->path, &st), -1);
    assert_int_equal(daemon_fx_count_entries("/proc/self/fd"), f->fds_before);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_request_gets_the_callbacks_answer),
        T(test_several_clients_each_get_their_answer),
        T(test_silent_client_is_expired_at_its_deadline),
        T(test_bad_requests_get_an_error_and_others_are_served),
        T(test_close_and_free_release_the_socket),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
