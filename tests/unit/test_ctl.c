/* test_ctl.c: unit tests for vts_ctl (the control socket). The protocol
 * tests need no sockets; the socket tests run a small server in a forked
 * child, in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vts_ctl.h"

/* The hook's budget: it calls with about 20 ms and must be back in 50. */
#define HOOK_TIMEOUT_MS 20
/* Slack allowed over a timeout: scheduling, sanitizers, a busy CI host. */
#define SLACK_MS 30

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
    poll(NULL, 0, ms);
}

/* ---- the protocol ---- */

static void
parse_ok(const char *text, vts_ctl_request *req)
{
    vts_error err;

    vts_error_clear(&err);
    if (vts_ctl_parse_request(text, strlen(text), req, &err) != 0)
        fail_msg("parse of %s failed: %s", text, err.message);
}

static void
parse_fails(const char *text, size_t len, const char *message)
{
    vts_ctl_request req;
    vts_error err;

    vts_error_clear(&err);
    memset(&req, 0x5a, sizeof(req));
    if (vts_ctl_parse_request(text, len, &req, &err) != -1)
        fail_msg("parse of %.*s succeeded", (int)len, text);
    assert_int_equal(err.code, VTS_ERR_BAD_REPLY);
    /* A trailing '*' matches json-c's own words, which vary by version. */
    if (message[strlen(message) - 1] == '*') {
        if (strncmp(err.message, message, strlen(message) - 1) != 0)
            fail_msg("\"%s\" does not start with \"%.*s\"", err.message,
                     (int)strlen(message) - 1, message);
    } else {
        assert_string_equal(err.message, message);
    }
    /* Nothing half-filled is left behind. */
    assert_string_equal(req.domain, "");
    assert_string_equal(req.reason, "");
}

static void
test_ctl_parse_good(void **state)
{
    static const char not_terminated[] = "{\"cmd\":\"status\"}GARBAGE";
    vts_ctl_request req;
    vts_error err;

    (void)state;
    parse_ok("{\"cmd\":\"status\"}", &req);
    assert_int_equal(req.cmd, VTS_CTL_STATUS);
    assert_string_equal(req.domain, "");
    parse_ok("  {\"cmd\" : \"status\"}  \r\n", &req);
    assert_int_equal(req.cmd, VTS_CTL_STATUS);

    parse_ok("{\"cmd\":\"pending\",\"domain\":\"web-1\",\"reason\":\"migrate\"}\n", &req);
    assert_int_equal(req.cmd, VTS_CTL_PENDING);
    assert_string_equal(req.domain, "web-1");
    assert_string_equal(req.reason, "migrate");

    parse_ok("{\"domain\":\"db\",\"cmd\":\"pending\"}", &req);
    assert_string_equal(req.domain, "db");
    assert_string_equal(req.reason, "hook");

    /* Unknown keys are ignored, whatever their type. */
    parse_ok("{\"cmd\":\"pending\",\"domain\":\"a\",\"reason\":\"re-connect\",\"v\":2,"
             "\"x\":{\"y\":[1,2,{}]},\"z\":null}",
             &req);
    assert_string_equal(req.reason, "re-connect");
    /* domain and reason mean nothing to status. */
    parse_ok("{\"cmd\":\"status\",\"domain\":7}", &req);
    assert_int_equal(req.cmd, VTS_CTL_STATUS);

    /* Escapes: the name is what JSON says, not what the bytes look like. */
    parse_ok("{\"cmd\":\"pending\",\"domain\":\"a\\\"b\\\\c\\nd\\u00e9\\/\"}", &req);
    assert_string_equal(req.domain, "a\"b\\c\nd\xc3\xa9/");

    /* Only @len bytes are read: no NUL needed at the end. */
    assert_int_equal(vts_ctl_parse_request(not_terminated, 16, &req, &err), 0);
    assert_int_equal(req.cmd, VTS_CTL_STATUS);
}

static void
test_ctl_parse_bad(void **state)
{
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        {"", "request: empty"},
        {"\n", "request: not a complete JSON object"},
        {"   ", "request: not a complete JSON object"},
        {"{", "request: not a complete JSON object"},
        {"{\"cmd\":\"status\"", "request: not a complete JSON object"},
        {"{\"cmd\":\"sta", "request: not a complete JSON object"},
        {"status", "request: not JSON (*"},
        {"{cmd:status}", "request: not JSON (*"},
        {"{\"cmd\":\"status\",}", "request: not JSON (*"},
        {"{\"cmd\":\"status\"}x", "request: not JSON (*"},
        {"{\"cmd\":\"status\"}{}", "request: not JSON (*"},
        {"{\"cmd\":\"status\"}\n{}", "request: not JSON (*"},
        {"[\"status\"]", "request: not a JSON object"},
        {"\"status\"", "request: not a JSON object"},
        {"null", "request: not a JSON object"},
        {"true", "request: not a JSON object"},
        {"42", "request: not a JSON object"},
        {"{}", "request: no \"cmd\""},
        {"{\"command\":\"status\"}", "request: no \"cmd\""},
        {"{\"cmd\":null}", "request: \"cmd\" must be a string"},
        {"{\"cmd\":1}", "request: \"cmd\" must be a string"},
        {"{\"cmd\":[\"status\"]}", "request: \"cmd\" must be a string"},
        {"{\"cmd\":\"STATUS\"}",
         "request: unknown \"cmd\" (known: \"status\", \"pending\")"},
        {"{\"cmd\":\"stop\"}",
         "request: unknown \"cmd\" (known: \"status\", \"pending\")"},
        {"{\"cmd\":\"\"}", "request: unknown \"cmd\" (known: \"status\", \"pending\")"},
        {"{\"cmd\":\"status\\u0000\"}",
         "request: unknown \"cmd\" (known: \"status\", \"pending\")"},
        {"{\"cmd\":\"pending\"}", "request: \"pending\" needs a \"domain\""},
        {"{\"cmd\":\"pending\",\"domain\":null}", "request: \"domain\" must be a string"},
        {"{\"cmd\":\"pending\",\"domain\":5}", "request: \"domain\" must be a string"},
        {"{\"cmd\":\"pending\",\"domain\":{}}", "request: \"domain\" must be a string"},
        {"{\"cmd\":\"pending\",\"domain\":\"\"}", "request: \"domain\" is empty"},
        {"{\"cmd\":\"pending\",\"domain\":\"a\\u0000b\"}",
         "request: \"domain\" contains a NUL character"},
        {"{\"cmd\":\"pending\",\"domain\":\"a\",\"reason\":null}",
         "request: \"reason\" must be a string"},
        {"{\"cmd\":\"pending\",\"domain\":\"a\",\"reason\":1}",
         "request: \"reason\" must be a string"},
        {"{\"cmd\":\"pending\",\"domain\":\"a\",\"reason\":\"\"}",
         "request: \"reason\" must be 1 to 31 characters of a-z and '-'"},
        {"{\"cmd\":\"pending\",\"domain\":\"a\",\"reason\":\"Migrate\"}",
         "request: \"reason\" must be 1 to 31 characters of a-z and '-'"},
        {"{\"cmd\":\"pending\",\"domain\":\"a\",\"reason\":\"a b\"}",
         "request: \"reason\" must be 1 to 31 characters of a-z and '-'"},
        {"{\"cmd\":\"pending\",\"domain\":\"a\",\"reason\":\"x\\n\"}",
         "request: \"reason\" must be 1 to 31 characters of a-z and '-'"},
        {"{\"cmd\":\"pending\",\"domain\":\"a\",\"reason\":\"migrate_2\"}",
         "request: \"reason\" must be 1 to 31 characters of a-z and '-'"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        parse_fails(cases[i].text, strlen(cases[i].text), cases[i].message);

    /* A NUL byte inside the buffer, outside any JSON string. */
    parse_fails("{\"cmd\":\"status\"}\0", 17, "request: contains a NUL byte");
    parse_fails("{\"cmd\":\"st\0atus\"}", 17, "request: contains a NUL byte");
    /* NULL with a length is refused, not read. */
    parse_fails(NULL, 5, "request: empty");
}

static void
test_ctl_parse_limits(void **state)
{
    static char buf[2 * VTS_CTL_MAX_REQUEST];
    char name[VTS_CTL_DOMAIN_MAX + 1];
    char reason[VTS_CTL_REASON_MAX + 1];
    vts_ctl_request req;
    vts_error err;
    int n;

    (void)state;
    /* The longest name, 1023 bytes; 1024 is refused. */
    memset(name, 'n', sizeof(name));
    name[VTS_CTL_DOMAIN_MAX - 1] = '\0';
    snprintf(buf, 2 * VTS_CTL_MAX_REQUEST, "{\"cmd\":\"pending\",\"domain\":\"%s\"}",
             name);
    parse_ok(buf, &req);
    assert_string_equal(req.domain, name);
    name[VTS_CTL_DOMAIN_MAX - 1] = 'n';
    name[VTS_CTL_DOMAIN_MAX] = '\0';
    snprintf(buf, 2 * VTS_CTL_MAX_REQUEST, "{\"cmd\":\"pending\",\"domain\":\"%s\"}",
             name);
    parse_fails(buf, strlen(buf),
                "request: \"domain\" is 1024 bytes long; at most 1023 are allowed");

    /* The longest reason, 31 characters; 32 is refused. */
    memset(reason, 'r', sizeof(reason));
    reason[VTS_CTL_REASON_MAX - 1] = '\0';
    snprintf(buf, 2 * VTS_CTL_MAX_REQUEST,
             "{\"cmd\":\"pending\",\"domain\":\"a\",\"reason\":\"%s\"}", reason);
    parse_ok(buf, &req);
    assert_string_equal(req.reason, reason);
    reason[VTS_CTL_REASON_MAX - 1] = 'r';
    reason[VTS_CTL_REASON_MAX] = '\0';
    snprintf(buf, 2 * VTS_CTL_MAX_REQUEST,
             "{\"cmd\":\"pending\",\"domain\":\"a\",\"reason\":\"%s\"}", reason);
    parse_fails(buf, strlen(buf),
                "request: \"reason\" must be 1 to 31 characters of a-z and '-'");

    /* 4096 bytes, padding and newline included, is fine; 4097 is not. */
    n = snprintf(buf, 2 * VTS_CTL_MAX_REQUEST, "{\"cmd\":\"status\"}");
    memset(buf + n, ' ', 2 * VTS_CTL_MAX_REQUEST - (size_t)n);
    buf[VTS_CTL_MAX_REQUEST - 1] = '\n';
    assert_int_equal(vts_ctl_parse_request(buf, VTS_CTL_MAX_REQUEST, &req, &err), 0);
    buf[VTS_CTL_MAX_REQUEST - 1] = ' ';
    buf[VTS_CTL_MAX_REQUEST] = '\n';
    parse_fails(buf, VTS_CTL_MAX_REQUEST + 1, "request: longer than 4096 bytes");

    /* Nesting deeper than json-c's limit is an error, not a stack overflow. */
    memset(buf, '[', VTS_CTL_MAX_REQUEST);
    memcpy(buf, "{\"x\":", 5);
    parse_fails(buf, VTS_CTL_MAX_REQUEST, "request: not JSON (*");
}

/* A small deterministic generator: the same inputs on every run. */
static uint32_t
xorshift(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Not a fuzzer, but the same contract: any bytes in, 0 or -1 out, a
 * well-formed request on 0, and nothing for the sanitizers to see. */
static void
test_ctl_parse_any_bytes(void **state)
{
    static const char *const seeds[] = {
        "{\"cmd\":\"pending\",\"domain\":\"web-1\",\"reason\":\"migrate\"}\n",
        "{\"cmd\":\"status\"}\n",
        "{\"cmd\":\"pending\",\"domain\":\"\\u00e9\\\"\\n\",\"x\":[1,{\"a\":null}]}",
    };
    static const char alphabet[] = "{}[]\":,\\nu0019aeflnrstu \t\n\x80\xc3\xff\x00";
    char buf[VTS_CTL_MAX_REQUEST + 16];
    vts_ctl_request req;
    vts_error err;
    uint32_t seed = 0x9e3779b9;
    size_t len, k, i, j;
    int iter, accepted = 0;

    (void)state;
    for (iter = 0; iter < 50000; iter++) {
        const char *s = seeds[xorshift(&seed) % 3];

        len = strlen(s);
        memcpy(buf, s, len);
        k = 1 + xorshift(&seed) % 4;
        for (i = 0; i < k; i++) {
            j = xorshift(&seed) % (len + 1);
            switch (xorshift(&seed) % 4) {
            case 0: /* replace a byte */
                if (j < len)
                    buf[j] = alphabet[xorshift(&seed) % (sizeof(alphabet) - 1)];
                break;
            case 1: /* truncate */
                len = j;
                break;
            case 2: /* insert a byte */
                if (len < sizeof(buf) - 1) {
                    memmove(buf + j + 1, buf + j, len - j);
                    buf[j] = (char)(xorshift(&seed) & 0xff);
                    len++;
                }
                break;
            default: /* a random byte anywhere */
                if (j < len)
                    buf[j] = (char)(xorshift(&seed) & 0xff);
                break;
            }
        }
        vts_error_clear(&err);
        if (vts_ctl_parse_request(buf, len, &req, &err) == 0) {
            accepted++;
            assert_true(req.cmd == VTS_CTL_STATUS || req.cmd == VTS_CTL_PENDING);
            if (req.cmd == VTS_CTL_PENDING) {
                assert_true(strlen(req.domain) > 0);
                assert_true(strlen(req.reason) > 0);
                assert_int_equal(strspn(req.reason, "abcdefghijklmnopqrstuvwxyz-"),
                                 strlen(req.reason));
            }
        } else {
            assert_int_not_equal(err.code, VTS_OK);
            assert_true(strncmp(err.message, "request: ", 9) == 0);
        }
    }
    /* The mutations are mild enough that some inputs still parse. */
    assert_true(accepted > 0);
}

static void
assert_round_trip(const char *domain, const char *reason)
{
    vts_ctl_request req;
    vts_error err;
    char *line = NULL;
    size_t len;

    line = vts_ctl_format_pending(domain, reason);
    assert_non_null(line);
    len = strlen(line);
    assert_true(len <= VTS_CTL_MAX_REQUEST);
    /* One line: the only newline is the last byte. */
    assert_true(len > 0 && line[len - 1] == '\n');
    assert_ptr_equal(strchr(line, '\n'), line + len - 1);
    if (vts_ctl_parse_request(line, len, &req, &err) != 0)
        fail_msg("%s: %s", line, err.message);
    assert_int_equal(req.cmd, VTS_CTL_PENDING);
    assert_string_equal(req.domain, domain);
    assert_string_equal(req.reason, reason ? reason : "hook");
    free(line);
}

static void
test_ctl_format_round_trip(void **state)
{
    char name[VTS_CTL_DOMAIN_MAX + 1];
    char *line = NULL;
    int c;

    (void)state;
    assert_round_trip("web-1", "migrate");
    assert_round_trip("web-1", NULL);
    assert_round_trip("my \"quoted\" vm", "restore");
    assert_round_trip("back\\slash", "reconnect");
    assert_round_trip("line\nbreak\r\n", "hook");
    assert_round_trip("tab\tand\x01\x1f\x7f", "x");
    assert_round_trip("caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x95\x92", "migrate");
    assert_round_trip("not utf-8 \xff\xfe\xc3", "migrate");
    assert_round_trip("</script><a href='x'>/", "migrate");
    assert_round_trip("{\"cmd\":\"status\"}\n", "migrate");

    line = vts_ctl_format_pending("web-1", "migrate");
    assert_string_equal(
        line, "{\"cmd\":\"pending\",\"domain\":\"web-1\",\"reason\":\"migrate\"}\n");
    free(line);

    /* The longest name, and every byte value but NUL. */
    memset(name, 'x', sizeof(name));
    name[VTS_CTL_DOMAIN_MAX - 1] = '\0';
    assert_round_trip(name, NULL);
    for (c = 1; c < 256; c++)
        name[c - 1] = (char)c;
    name[255] = '\0';
    assert_round_trip(name, NULL);
    /* Quotes escape to two bytes: a full-length name still fits. */
    memset(name, '"', VTS_CTL_DOMAIN_MAX - 1);
    name[VTS_CTL_DOMAIN_MAX - 1] = '\0';
    assert_round_trip(name, NULL);

    /* What the daemon would refuse is not formatted. */
    errno = 0;
    assert_null(vts_ctl_format_pending("", "migrate"));
    assert_int_equal(errno, EINVAL);
    assert_null(vts_ctl_format_pending(NULL, "migrate"));
    assert_null(vts_ctl_format_pending("a", ""));
    assert_null(vts_ctl_format_pending("a", "Migrate"));
    assert_null(vts_ctl_format_pending("a", "\"x\""));
    memset(name, 'x', sizeof(name));
    name[VTS_CTL_DOMAIN_MAX] = '\0';
    assert_null(vts_ctl_format_pending(name, NULL));
    /* 1023 control characters escape to six bytes each: too long a line. */
    memset(name, '\x01', VTS_CTL_DOMAIN_MAX - 1);
    name[VTS_CTL_DOMAIN_MAX - 1] = '\0';
    errno = 0;
    assert_null(vts_ctl_format_pending(name, NULL));
    assert_int_equal(errno, EINVAL);
}

/* ---- the server's read buffer ---- */

typedef struct {
    int sv[2]; /* sv[0]: the server's end, sv[1]: the client's */
    vts_ctl_client client;
} pair_fixture;

static int
pair_setup(void **state)
{
    pair_fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->sv) < 0) {
        free(f);
        return -1;
    }
    vts_ctl_client_init(&f->client, f->sv[0], 42);
    *state = f;
    return 0;
}

static int
pair_teardown(void **state)
{
    pair_fixture *f = *state;

    if (f->sv[0] >= 0)
        close(f->sv[0]);
    if (f->sv[1] >= 0)
        close(f->sv[1]);
    free(f);
    return 0;
}

static void
send_str(int fd, const char *s)
{
    assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

static void
test_ctl_client_read_partial(void **state)
{
    pair_fixture *f = *state;
    vts_ctl_request req;
    vts_error err;

    assert_int_equal(f->client.fd, f->sv[0]);
    assert_int_equal(f->client.started_ns, 42);
    assert_int_equal(f->client.len, 0);
    /* Nothing yet: more is needed, not an error. */
    assert_int_equal(vts_ctl_client_read(&f->client, &req, &err), 0);
    send_str(f->sv[1], "{\"cmd\":\"pending\",");
    assert_int_equal(vts_ctl_client_read(&f->client, &req, &err), 0);
    assert_int_equal(f->client.len, 17);
    send_str(f->sv[1], "\"domain\":\"web 1\"}");
    assert_int_equal(vts_ctl_client_read(&f->client, &req, &err), 0);
    /* The newline completes it; what follows it is ignored. */
    send_str(f->sv[1], "\n{\"cmd\":\"status\"}\n");
    assert_int_equal(vts_ctl_client_read(&f->client, &req, &err), 1);
    assert_int_equal(req.cmd, VTS_CTL_PENDING);
    assert_string_equal(req.domain, "web 1");
    assert_string_equal(req.reason, "hook");
}

static void
test_ctl_client_read_slow(void **state)
{
    static const char line[] =
        "{\"cmd\":\"pending\",\"domain\":\"a\\nb\",\"reason\":\"restore\"}\n";
    pair_fixture *f = *state;
    vts_ctl_request req;
    vts_error err;
    size_t i;

    /* One byte at a time, as a slow or hostile client sends. */
    for (i = 0; i < sizeof(line) - 2; i++) {
        assert_int_equal(send(f->sv[1], line + i, 1, MSG_NOSIGNAL), 1);
        assert_int_equal(vts_ctl_client_read(&f->client, &req, &err), 0);
        assert_int_equal(f->client.len, i + 1);
    }
    assert_int_equal(send(f->sv[1], "\n", 1, MSG_NOSIGNAL), 1);
    assert_int_equal(vts_ctl_client_read(&f->client, &req, &err), 1);
    assert_string_equal(req.domain, "a\nb");
    assert_string_equal(req.reason, "restore");
}

static void
test_ctl_client_read_max(void **state)
{
    pair_fixture *f = *state;
    char buf[VTS_CTL_MAX_REQUEST];
    vts_ctl_request req;
    vts_error err;
    int n;

    /* Exactly VTS_CTL_MAX_REQUEST bytes with the newline is accepted. */
    n = snprintf(buf, sizeof(buf), "{\"cmd\":\"status\"}");
    memset(buf + n, ' ', sizeof(buf) - (size_t)n);
    buf[sizeof(buf) - 1] = '\n';
    assert_int_equal(send(f->sv[1], buf, sizeof(buf), MSG_NOSIGNAL),
                     (ssize_t)sizeof(buf));
    assert_int_equal(vts_ctl_client_read(&f->client, &req, &err), 1);
    assert_int_equal(req.cmd, VTS_CTL_STATUS);
}

static void
test_ctl_client_read_oversize(void **state)
{
    pair_fixture *f = *state;
    char buf[VTS_CTL_MAX_REQUEST + 1];
    vts_ctl_request req;
    vts_error err;

    /* One byte more, newline last: refused once the buffer is full. */
    memset(buf, ' ', sizeof(buf));
    buf[sizeof(buf) - 1] = '\n';
    assert_int_equal(send(f->sv[1], buf, sizeof(buf), MSG_NOSIGNAL),
                     (ssize_t)sizeof(buf));
    assert_int_equal(vts_ctl_client_read(&f->client, &req, &err), -1);
    assert_int_equal(err.code, VTS_ERR_BAD_REPLY);
    assert_string_equal(err.message, "request: longer than 4096 bytes without a newline");
    /* The buffer was never overrun. */
    assert_int_equal(f->client.len, VTS_CTL_MAX_REQUEST);
}

static void
test_ctl_client_read_eof(void **state)
{
    pair_fixture *f = *state;
    vts_ctl_request req;
    vts_error err;

    send_str(f->sv[1], "{\"cmd\":\"status\"}");
    close(f->sv[1]);
    f->sv[1] = -1;
    assert_int_equal(vts_ctl_client_read(&f->client, &req, &err), -1);
    assert_string_equal(err.message, "request: the client closed before the newline");
}

static void
test_ctl_client_read_empty_eof(void **state)
{
    pair_fixture *f = *state;
    vts_ctl_request req;
    vts_error err;

    close(f->sv[1]);
    f->sv[1] = -1;
    assert_int_equal(vts_ctl_client_read(&f->client, &req, &err), -1);
    assert_string_equal(err.message, "request: the client closed without sending one");
}

static void
test_ctl_client_read_bad(void **state)
{
    pair_fixture *f = *state;
    vts_ctl_request req;
    vts_error err;

    send_str(f->sv[1], "{\"cmd\":\"reboot\"}\n");
    assert_int_equal(vts_ctl_client_read(&f->client, &req, &err), -1);
    assert_string_equal(err.message,
                        "request: unknown \"cmd\" (known: \"status\", \"pending\")");
}

static void
test_ctl_send_reply(void **state)
{
    pair_fixture *f = *state;
    char buf[64];
    ssize_t n;

    assert_int_equal(vts_ctl_send_reply(f->sv[0], "{\"ok\":true}\n"), 0);
    n = recv(f->sv[1], buf, sizeof(buf) - 1, 0);
    assert_int_equal(n, 12);
    buf[n] = '\0';
    assert_string_equal(buf, "{\"ok\":true}\n");

    /* To a client that went away: an error, and no SIGPIPE (the default
     * action would end this test program). */
    signal(SIGPIPE, SIG_DFL);
    close(f->sv[1]);
    f->sv[1] = -1;
    errno = 0;
    assert_int_equal(vts_ctl_send_reply(f->sv[0], "{\"ok\":true}\n"), -1);
    assert_int_equal(errno, EPIPE);
}

static void
test_ctl_send_reply_full(void **state)
{
    pair_fixture *f = *state;
    char *big = NULL;
    size_t size = 8 * 1024 * 1024;
    int64_t start;

    /* Larger than any socket buffer: best effort, never blocks. */
    big = malloc(size + 1);
    assert_non_null(big);
    memset(big, 'x', size);
    big[size] = '\0';
    start = now_ms();
    errno = 0;
    assert_int_equal(vts_ctl_send_reply(f->sv[0], big), -1);
    assert_int_equal(errno, EAGAIN);
    assert_true(now_ms() - start < 1000);
    free(big);
}

static void
test_ctl_peer_is_root(void **state)
{
    pair_fixture *f = *state;
    int pfd[2];

    /* The peer is this process: the same user as the "daemon". */
    assert_true(vts_ctl_peer_is_root(f->sv[0]));
    assert_true(vts_ctl_peer_is_root(f->sv[1]));
    /* Not a socket, or no fd at all: no credentials, no trust. */
    assert_int_equal(pipe(pfd), 0);
    assert_false(vts_ctl_peer_is_root(pfd[0]));
    close(pfd[0]);
    close(pfd[1]);
    assert_false(vts_ctl_peer_is_root(-1));
}

/* A peer of another user, as on the real control socket: a child that
 * drops to uid 65534 connects to an abstract socket we listen on (no file,
 * so no permissions in the way). SO_PEERCRED records the uid at connect().
 * Needs root (to switch users): skipped otherwise. */
static void
test_ctl_peer_of_another_uid_is_refused(void **state)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    socklen_t salen;
    int lfd, cfd;
    pid_t child;
    int status = -1;

    (void)state;
    if (geteuid() != 0)
        skip();
    snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "vts-test-ctl-peer.%ld",
             (long)getpid());
    salen =
        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sa.sun_path + 1));
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(lfd >= 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, salen), 0);
    assert_int_equal(listen(lfd, 1), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        int fd;
        char c;

        if (setgid(65534) < 0 || setuid(65534) < 0)
            _exit(3);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, salen) < 0)
            _exit(4);
        /* Stay connected until the parent has looked. */
        if (read(fd, &c, 1) < 0)
            _exit(5);
        _exit(0);
    }
    cfd = accept(lfd, NULL, NULL);
    assert_true(cfd >= 0);
    assert_false(vts_ctl_peer_is_root(cfd));
    close(cfd);
    close(lfd);
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---- the socket: listen and call ---- */

typedef struct {
    char dir[64];
    char sub[96];   /* dir/run: made by vts_ctl_listen */
    char path[128]; /* dir/run/control.sock */
    int lfd;
    pid_t child;
} sock_fixture;

static int
sock_setup(void **state)
{
    sock_fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_ctl.XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->sub, sizeof(f->sub), "%s/run", f->dir);
    snprintf(f->path, sizeof(f->path), "%s/control.sock", f->sub);
    f->lfd = -1;
    f->child = -1;
    *state = f;
    return 0;
}

static int
sock_teardown(void **state)
{
    sock_fixture *f = *state;

    if (f->child > 0) {
        kill(f->child, SIGKILL);
        waitpid(f->child, NULL, 0);
    }
    if (f->lfd >= 0)
        close(f->lfd);
    unlink(f->path);
    rmdir(f->sub);
    rmdir(f->dir);
    free(f);
    return 0;
}

typedef enum {
    SERVE_ECHO,   /* answer status with {"status":"ok"}, pending with the request */
    SERVE_SILENT, /* read the request, then never answer */
    SERVE_CLOSE,  /* read the request, close without answering */
    SERVE_DRIP,   /* send a byte every 5 ms, never close */
    SERVE_BIG,    /* answer with `size` bytes */
    SERVE_SLOW,   /* answer in four pieces, 5 ms apart */
} serve_mode;

/* Write all of @len bytes of @data to the blocking @fd; 0 or -1. */
static int
write_all(int fd, const char *data, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The child's server: one connection, then _exit. Exit codes say what went
 * wrong (cmocka's asserts must not run in the child). */
static void
serve(int lfd, serve_mode mode, size_t size)
{
    struct pollfd pfd = {.fd = lfd, .events = POLLIN};
    vts_ctl_client c;
    vts_ctl_request req;
    vts_error err;
    char *reply = NULL;
    int fd, rc, i;

    alarm(10); /* never outlive a broken test */
    for (;;) {
        pfd.fd = lfd;
        if (poll(&pfd, 1, 5000) != 1)
            _exit(10);
        fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            _exit(11);
        if (!vts_ctl_peer_is_root(fd))
            _exit(12);
        if (mode == SERVE_DRIP) {
            for (i = 0; i < 400; i++) {
                if (send(fd, "x", 1, MSG_NOSIGNAL) != 1)
                    _exit(0);
                sleep_ms(5);
            }
            _exit(0);
        }
        vts_ctl_client_init(&c, fd, 0);
        pfd.fd = fd;
        while ((rc = vts_ctl_client_read(&c, &req, &err)) == 0)
            if (poll(&pfd, 1, 5000) != 1)
                _exit(13);
        if (rc > 0)
            break;
        /* vts_ctl_listen's probe for a live daemon: connects, sends
         * nothing, closes. Any other failure is a failed test. */
        if (c.len != 0)
            _exit(14);
        close(fd);
    }
    /* Back to blocking for the simple writes below. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    switch (mode) {
    case SERVE_ECHO:
        if (req.cmd == VTS_CTL_STATUS)
            reply = strdup("{\"status\":\"ok\"}\n");
        else
            reply = vts_ctl_format_pending(req.domain, req.reason);
        if (!reply || vts_ctl_send_reply(fd, reply) < 0)
            _exit(15);
        break;
    case SERVE_SILENT:
        for (;;)
            pause();
    case SERVE_CLOSE:
        break;
    case SERVE_BIG:
        if (!(reply = malloc(size)))
            _exit(16);
        memset(reply, 'b', size);
        if (write_all(fd, reply, size) < 0)
            _exit(0); /* the client gave up reading: expected */
        break;
    case SERVE_SLOW:
        for (i = 0; i < 4; i++) {
            static const char slow[] = "{\"a\":1}";

            if (write_all(fd, &slow[2 * i], i < 3 ? 2 : 1) < 0)
                _exit(17);
            sleep_ms(5);
        }
        break;
    case SERVE_DRIP:
        break;
    }
    free(reply);
    close(fd);
    _exit(0);
}

static void
start_server(sock_fixture *f, serve_mode mode, size_t size)
{
    vts_error err;

    if (f->lfd < 0) {
        f->lfd = vts_ctl_listen(f->path, &err);
        if (f->lfd < 0)
            fail_msg("listen: %s", err.message);
    }
    f->child = fork();
    assert_true(f->child >= 0);
    if (f->child == 0)
        serve(f->lfd, mode, size);
}

/* Wait for the child and check that it exited with 0. */
static void
reap(sock_fixture *f)
{
    int status = 0;

    assert_int_equal(waitpid(f->child, &status, 0), f->child);
    f->child = -1;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void
fill_addr(struct sockaddr_un *addr, const char *path)
{
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    assert_true(strlen(path) < sizeof(addr->sun_path));
    memcpy(addr->sun_path, path, strlen(path) + 1);
}

static void
test_ctl_listen_creates(void **state)
{
    sock_fixture *f = *state;
    struct stat st;
    vts_error err;
    mode_t mask = umask(0);
    int flags;

    umask(mask);
    f->lfd = vts_ctl_listen(f->path, &err);
    assert_true(f->lfd >= 0);
    assert_int_equal(stat(f->sub, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0755 & ~mask); /* mkdir obeys the umask */
    assert_int_equal(stat(f->path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    flags = fcntl(f->lfd, F_GETFL);
    assert_true(flags & O_NONBLOCK);
    flags = fcntl(f->lfd, F_GETFD);
    assert_true(flags & FD_CLOEXEC);
}

static void
test_ctl_call_round_trip(void **state)
{
    static const char nasty[] = "web \"1\"\n\\ caf\xc3\xa9 \xf0\x9f\x95\x92 \x01";
    sock_fixture *f = *state;
    char *reply = NULL;
    char *line = NULL;
    vts_error err;

    start_server(f, SERVE_ECHO, 0);
    /* No newline given: vts_ctl_call adds it. */
    assert_int_equal(vts_ctl_call(f->path, "{\"cmd\":\"status\"}", 2000, &reply, &err),
                     0);
    assert_string_equal(reply, "{\"status\":\"ok\"}\n");
    free(reply);
    reap(f);

    start_server(f, SERVE_ECHO, 0);
    line = vts_ctl_format_pending(nasty, "migrate");
    assert_non_null(line);
    assert_int_equal(vts_ctl_call(f->path, line, 2000, &reply, &err), 0);
    /* The server parsed the very name and formatted it back. */
    assert_string_equal(reply, line);
    free(reply);
    free(line);
    reap(f);
}

static void
test_ctl_call_slow_reply(void **state)
{
    sock_fixture *f = *state;
    char *reply = NULL;
    vts_error err;

    start_server(f, SERVE_SLOW, 0);
    assert_int_equal(vts_ctl_call(f->path, "{\"cmd\":\"status\"}\n", 2000, &reply, &err),
                     0);
    assert_string_equal(reply, "{\"a\":1}");
    free(reply);
    reap(f);
}

static void
test_ctl_listen_stale(void **state)
{
    sock_fixture *f = *state;
    struct sockaddr_un addr;
    char *reply = NULL;
    vts_error err;
    int fd;

    /* A daemon that died: its socket file is left, nobody listens. */
    assert_int_equal(mkdir(f->sub, 0755), 0);
    fill_addr(&addr, f->path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(fd, 1), 0);
    close(fd);

    /* The client sees it as not running. */
    errno = 0;
    assert_int_equal(vts_ctl_call(f->path, "{\"cmd\":\"status\"}\n", 1000, &reply, &err),
                     -1);
    assert_int_equal(errno, ECONNREFUSED);
    assert_int_equal(err.code, VTS_ERR_CONNECT);
    assert_non_null(
        strstr(err.message, "vmtimesyncd is not running (nobody listens on "));
    assert_null(reply);

    /* The new daemon replaces it and answers. */
    start_server(f, SERVE_ECHO, 0);
    assert_int_equal(vts_ctl_call(f->path, "{\"cmd\":\"status\"}\n", 2000, &reply, &err),
                     0);
    assert_string_equal(reply, "{\"status\":\"ok\"}\n");
    free(reply);
    reap(f);
}

static void
test_ctl_listen_live(void **state)
{
    sock_fixture *f = *state;
    char expected[256];
    char *reply = NULL;
    vts_error err;

    f->lfd = vts_ctl_listen(f->path, &err);
    assert_true(f->lfd >= 0);
    /* A second daemon must not steal the socket of a running one. */
    assert_int_equal(vts_ctl_listen(f->path, &err), -1);
    assert_int_equal(err.code, VTS_ERR_CONFIG);
    snprintf(expected, sizeof(expected),
             "another vmtimesyncd is running (it answers on %s): stop it first", f->path);
    assert_string_equal(err.message, expected);
    /* ... and the first one still works. */
    start_server(f, SERVE_ECHO, 0);
    assert_int_equal(vts_ctl_call(f->path, "{\"cmd\":\"status\"}\n", 2000, &reply, &err),
                     0);
    free(reply);
    reap(f);
}

static void
test_ctl_listen_not_socket(void **state)
{
    sock_fixture *f = *state;
    char expected[256], buf[16];
    vts_error err;
    FILE *fp;

    assert_int_equal(mkdir(f->sub, 0755), 0);
    fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs("precious", fp);
    fclose(fp);
    assert_int_equal(vts_ctl_listen(f->path, &err), -1);
    assert_int_equal(err.code, VTS_ERR_CONFIG);
    snprintf(
        expected, sizeof(expected),
        "%s exists and is not a socket: remove it or set control_socket to another path",
        f->path);
    assert_string_equal(err.message, expected);
    /* Left alone. */
    fp = fopen(f->path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(buf, sizeof(buf), fp));
    fclose(fp);
    assert_string_equal(buf, "precious");
}

static void
test_ctl_listen_bad_path(void **state)
{
    sock_fixture *f = *state;
    char path[256], expected[512];
    vts_error err;

    memset(path, 'a', sizeof(path));
    path[0] = '/';
    path[108] = '\0';
    assert_int_equal(vts_ctl_listen(path, &err), -1);
    assert_int_equal(err.code, VTS_ERR_CONFIG);
    snprintf(expected, sizeof(expected),
             "the control socket path %s is 108 bytes; at most 107 fit", path);
    assert_string_equal(err.message, expected);

    assert_int_equal(vts_ctl_listen("", &err), -1);
    assert_string_equal(err.message, "the control socket path is empty");

    /* Only the last directory is made. */
    snprintf(path, sizeof(path), "%s/no/such/control.sock", f->dir);
    assert_int_equal(vts_ctl_listen(path, &err), -1);
    snprintf(expected, sizeof(expected),
             "cannot create the directory %s/no/such: No such file or directory", f->dir);
    assert_string_equal(err.message, expected);
}

static void
test_ctl_call_not_running(void **state)
{
    sock_fixture *f = *state;
    char expected[256];
    char *reply = (char *)"not touched";
    vts_error err;
    int64_t start;

    start = now_ms();
    errno = 0;
    assert_int_equal(vts_ctl_call(f->path, "{\"cmd\":\"status\"}\n", 1000, &reply, &err),
                     -1);
    assert_true(now_ms() - start < 10); /* at once, not after the timeout */
    assert_int_equal(errno, ENOENT);
    assert_int_equal(err.code, VTS_ERR_CONNECT);
    snprintf(expected, sizeof(expected), "vmtimesyncd is not running (no socket at %s)",
             f->path);
    assert_string_equal(err.message, expected);
    assert_null(reply);
}

/* The hook's worst case: the daemon accepts (or the kernel queues the
 * connection) but never answers. The call must fail with a timeout every
 * time; its duration is judged on the best of three tries, because a busy
 * host can delay any wake-up (a poll(20 ms) alone has been seen to take 40),
 * while a real bug (waiting twice, or forever) shows in all three. */
static void
assert_times_out(const char *path, int timeout_ms)
{
    char expected[64];
    char *reply = NULL;
    vts_error err;
    int64_t start, took, best = INT64_MAX;
    int i;

    snprintf(expected, sizeof(expected), "vmtimesyncd did not answer within %d ms",
             timeout_ms);
    for (i = 0; i < 3; i++) {
        start = now_ms();
        errno = 0;
        assert_int_equal(
            vts_ctl_call(path, "{\"cmd\":\"status\"}\n", timeout_ms, &reply, &err), -1);
        took = now_ms() - start;
        assert_int_equal(errno, ETIMEDOUT);
        assert_int_equal(err.code, VTS_ERR_CONNECT);
        assert_string_equal(err.message, expected);
        assert_null(reply);
        if (took < timeout_ms - 1 || took > 10 * timeout_ms + 1000)
            fail_msg("took %lld ms for a %d ms timeout", (long long)took, timeout_ms);
        if (took < best)
            best = took;
        if (best < timeout_ms + SLACK_MS)
            return;
    }
    fail_msg("took at best %lld ms for a %d ms timeout", (long long)best, timeout_ms);
}

static void
test_ctl_call_never_accepted(void **state)
{
    sock_fixture *f = *state;
    vts_error err;

    f->lfd = vts_ctl_listen(f->path, &err);
    assert_true(f->lfd >= 0);
    assert_times_out(f->path, HOOK_TIMEOUT_MS);
}

static void
test_ctl_call_accepted_never_answered(void **state)
{
    sock_fixture *f = *state;

    start_server(f, SERVE_SILENT, 0);
    assert_times_out(f->path, HOOK_TIMEOUT_MS);
}

static void
test_ctl_call_drip(void **state)
{
    sock_fixture *f = *state;

    /* Bytes keep coming, but the timeout is for the whole call. */
    start_server(f, SERVE_DRIP, 0);
    assert_times_out(f->path, 50);
}

static void
test_ctl_call_queue_full(void **state)
{
    sock_fixture *f = *state;
    struct sockaddr_un addr;
    int fds[512];
    int n = 0, fd, lfd;

    /* A daemon so busy that its listen queue is full: connect() says
     * EAGAIN, which cannot be polled for. */
    assert_int_equal(mkdir(f->sub, 0755), 0);
    fill_addr(&addr, f->path);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(lfd >= 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(lfd, 0), 0);
    f->lfd = lfd;
    for (n = 0; n < 512; n++) {
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_true(fd >= 0);
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
            assert_int_equal(errno, EAGAIN);
            close(fd);
            break;
        }
        fds[n] = fd;
    }
    assert_true(n < 512);
    assert_times_out(f->path, HOOK_TIMEOUT_MS);
    while (n-- > 0)
        close(fds[n]);
}

static void
test_ctl_call_closed_without_answer(void **state)
{
    sock_fixture *f = *state;
    char *reply = NULL;
    vts_error err;

    start_server(f, SERVE_CLOSE, 0);
    errno = 0;
    assert_int_equal(vts_ctl_call(f->path, "{\"cmd\":\"status\"}\n", 2000, &reply, &err),
                     -1);
    assert_int_equal(errno, EPROTO);
    assert_int_equal(err.code, VTS_ERR_CONNECT);
    assert_string_equal(
        err.message, "vmtimesyncd closed the connection without answering: see its log");
    assert_null(reply);
    reap(f);
}

static void
test_ctl_call_reply_limit(void **state)
{
    sock_fixture *f = *state;
    char *reply = NULL;
    vts_error err;

    start_server(f, SERVE_BIG, VTS_CTL_MAX_REPLY);
    assert_int_equal(vts_ctl_call(f->path, "{\"cmd\":\"status\"}\n", 5000, &reply, &err),
                     0);
    assert_int_equal(strlen(reply), VTS_CTL_MAX_REPLY);
    free(reply);
    reap(f);

    start_server(f, SERVE_BIG, VTS_CTL_MAX_REPLY + 1);
    errno = 0;
    assert_int_equal(vts_ctl_call(f->path, "{\"cmd\":\"status\"}\n", 5000, &reply, &err),
                     -1);
    assert_int_equal(errno, EMSGSIZE);
    assert_string_equal(err.message, "vmtimesyncd's reply is longer than 1048576 bytes");
    assert_null(reply);
    reap(f);
}

static void
test_ctl_call_bad_arguments(void **state)
{
    sock_fixture *f = *state;
    char *request = NULL;
    char *reply = NULL;
    vts_error err;

    assert_int_equal(vts_ctl_call(f->path, NULL, 100, &reply, &err), -1);
    assert_int_equal(err.code, VTS_ERR_INTERNAL);
    request = malloc(VTS_CTL_MAX_REQUEST + 1);
    assert_non_null(request);
    memset(request, ' ', VTS_CTL_MAX_REQUEST);
    request[VTS_CTL_MAX_REQUEST] = '\0';
    /* 4096 bytes plus the newline that would be added. */
    assert_int_equal(vts_ctl_call(f->path, request, 100, &reply, &err), -1);
    assert_string_equal(err.message, "the request is longer than 4096 bytes");
    free(request);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctl_parse_good),
        cmocka_unit_test(test_ctl_parse_bad),
        cmocka_unit_test(test_ctl_parse_limits),
        cmocka_unit_test(test_ctl_parse_any_bytes),
        cmocka_unit_test(test_ctl_format_round_trip),
        cmocka_unit_test_setup_teardown(test_ctl_client_read_partial, pair_setup,
                                        pair_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_client_read_slow, pair_setup,
                                        pair_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_client_read_max, pair_setup,
                                        pair_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_client_read_oversize, pair_setup,
                                        pair_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_client_read_eof, pair_setup,
                                        pair_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_client_read_empty_eof, pair_setup,
                                        pair_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_client_read_bad, pair_setup,
                                        pair_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_send_reply, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_send_reply_full, pair_setup,
                                        pair_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_peer_is_root, pair_setup, pair_teardown),
        cmocka_unit_test(test_ctl_peer_of_another_uid_is_refused),
        cmocka_unit_test_setup_teardown(test_ctl_listen_creates, sock_setup,
                                        sock_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_call_round_trip, sock_setup,
                                        sock_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_call_slow_reply, sock_setup,
                                        sock_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_listen_stale, sock_setup, sock_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_listen_live, sock_setup, sock_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_listen_not_socket, sock_setup,
                                        sock_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_listen_bad_path, sock_setup,
                                        sock_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_call_not_running, sock_setup,
                                        sock_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_call_never_accepted, sock_setup,
                                        sock_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_call_accepted_never_answered, sock_setup,
                                        sock_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_call_drip, sock_setup, sock_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_call_queue_full, sock_setup,
                                        sock_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_call_closed_without_answer, sock_setup,
                                        sock_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_call_reply_limit, sock_setup,
                                        sock_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_call_bad_arguments, sock_setup,
                                        sock_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
