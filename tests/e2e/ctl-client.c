/*
 * ctl-client: a raw client for vmtimesyncd's control socket, for the e2e
 * tests (t_ctl.sh) that must send what no well-behaved client sends:
 * oversized, partial, slow, malformed requests, NUL bytes, many at once.
 * It shares no code with vmtimesync; t_ctl.sh builds it with cc.
 *
 *   ctl-client SOCKET req [-s] [-c] [-p MS] [-r N] [-w MS] [-t MS] DATA
 *       connect, send DATA (escapes: \n \0 \\ \xHH), repeated N times
 *       (-r), one byte every MS ms (-p); then shutdown(SHUT_WR) (-s) or
 *       close at once without reading (-c); else wait -w MS (a client slow
 *       to read) and read until the daemon closes or the -t timeout
 *       (default 10000 ms, from the connect). The reply goes to
 *       stdout as received; stderr gets "ctl-client: eof after MS ms, N
 *       bytes" or "ctl-client: timeout after MS ms, N bytes". A reset
 *       connection counts as EOF (the daemon closed without reading all
 *       we sent). When a send fails, it says "ctl-client: send: <strerror>
 *       after MS ms" and still reads what the daemon sent before closing.
 *       Exit 0 on EOF (or -c), 3 on timeout, 1 when connect or a send
 *       failed (stderr: "ctl-client: connect: <strerror>").
 *
 *   ctl-client SOCKET many N [-t MS]
 *       open N connections at once and keep them; after MS ms (default 500)
 *       count those the daemon refused ("busy" in the reply, then closed),
 *       closed silently, or kept open; then send {"cmd":"status"} on every
 *       kept one and count the JSON replies. Prints one line:
 *       "connected=N busy=N closed=N held=N answered=N other=N".
 *       Exit 0, 1 when a connect fails.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CC_MAX_CONNS 1024

static long long
cc_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
cc_connect(const char *path)
{
    struct sockaddr_un sa;
    int fd;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int saved = errno;

        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static int
cc_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode the escapes of @in into @out (as long as @in); returns the length. */
static size_t
cc_unescape(const char *in, char *out)
{
    size_t n = 0;

    while (*in) {
        if (in[0] != '\\' || !in[1]) {
            out[n++] = *in++;
            continue;
        }
        switch (in[1]) {
        case 'n':
            out[n++] = '\n';
            in += 2;
            break;
        case '0':
            out[n++] = '\0';
            in += 2;
            break;
        case 'x':
            if (cc_hex(in[2]) >= 0 && cc_hex(in[3]) >= 0) {
                out[n++] = (char)(cc_hex(in[2]) * 16 + cc_hex(in[3]));
                in += 4;
                break;
            }
            /* fall through */
        default:
            out[n++] = in[1];
            in += 2;
            break;
        }
    }
    return n;
}

static int
cc_send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Read until EOF or @deadline; the bytes go to stdout. 1 on EOF, 0 on
 * timeout, -1 on error. */
static int
cc_read_reply(int fd, long long deadline, size_t *total)
{
    char buf[4096];

    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        long long left = deadline - cc_now_ms();
        ssize_t n;

        if (left <= 0)
            return 0;
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == ECONNRESET ? 1 : -1;
        if (n == 0)
            return 1;
        fwrite(buf, 1, (size_t)n, stdout);
        *total += (size_t)n;
    }
}

static int
cc_req(const char *path, int argc, char **argv)
{
    int shut = 0, close_now = 0, pace_ms = 0, repeat = 1, timeout_ms = 10000, wait_ms = 0;
    char *data;
    size_t len, total = 0;
    long long start;
    int fd, opt, rc, send_failed = 0;

    while ((opt = getopt(argc, argv, "scp:r:t:w:")) != -1) {
        switch (opt) {
        case 'w':
            wait_ms = atoi(optarg);
            break;
        case 's':
            shut = 1;
            break;
        case 'c':
            close_now = 1;
            break;
        case 'p':
            pace_ms = atoi(optarg);
            break;
        case 'r':
            repeat = atoi(optarg);
            break;
        case 't':
            timeout_ms = atoi(optarg);
            break;
        default:
            return 2;
        }
    }
    if (optind != argc - 1 || repeat < 1)
        return 2;
    data = malloc(strlen(argv[optind]) + 1);
    if (!data)
        return 1;
    len = cc_unescape(argv[optind], data);

    start = cc_now_ms();
    fd = cc_connect(path);
    if (fd < 0) {
        fprintf(stderr, "ctl-client: connect: %s\n", strerror(errno));
        return 1;
    }
    for (int i = 0; i < repeat && !send_failed; i++) {
        for (size_t off = 0; off<len; off += pace_ms> 0 ? 1 : len) {
            if (cc_send_all(fd, data + off, pace_ms > 0 ? 1 : len) < 0) {
                /* The daemon may have answered and closed before
                 * reading (a refusal): the reply is still there. */
                fprintf(stderr, "ctl-client: send: %s after %lld ms\n", strerror(errno),
                        cc_now_ms() - start);
                send_failed = 1;
                break;
            }
            if (pace_ms > 0)
                poll(NULL, 0, pace_ms);
        }
    }
    free(data);
    if (close_now && !send_failed) {
        close(fd);
        fprintf(stderr, "ctl-client: closed after %lld ms\n", cc_now_ms() - start);
        return 0;
    }
    if (shut && !send_failed)
        shutdown(fd, SHUT_WR);
    if (wait_ms > 0)
        poll(NULL, 0, wait_ms);
    rc = cc_read_reply(fd, start + timeout_ms, &total);
    fflush(stdout);
    if (rc < 0) {
        fprintf(stderr, "ctl-client: recv: %s\n", strerror(errno));
        return 1;
    }
    fprintf(stderr, "ctl-client: %s after %lld ms, %zu bytes\n", rc ? "eof" : "timeout",
            cc_now_ms() - start, total);
    if (send_failed)
        return 1;
    return rc ? 0 : 3;
}

static int
cc_many(const char *path, int argc, char **argv)
{
    static int fds[CC_MAX_CONNS];
    static char got[CC_MAX_CONNS][512];
    static size_t glen[CC_MAX_CONNS];
    static const char req[] = "{\"cmd\":\"status\"}\n";
    int n, wait_ms = 500, opt;
    int busy = 0, closed = 0, held = 0, answered = 0, other = 0;
    struct timeval tv = {.tv_sec = 3};
    long long deadline;

    if (argc < 2)
        return 2;
    n = atoi(argv[1]);
    if (n < 1 || n > CC_MAX_CONNS)
        return 2;
    optind = 2;
    while ((opt = getopt(argc, argv, "t:")) != -1) {
        if (opt != 't')
            return 2;
        wait_ms = atoi(optarg);
    }
    for (int i = 0; i < n; i++) {
        fds[i] = cc_connect(path);
        if (fds[i] < 0) {
            fprintf(stderr, "ctl-client: connect %d: %s\n", i, strerror(errno));
            return 1;
        }
    }
    /* What the daemon says on each before we say anything. */
    deadline = cc_now_ms() + wait_ms;
    for (int i = 0; i < n; i++) {
        for (;;) {
            struct pollfd p = {.fd = fds[i], .events = POLLIN};
            long long left = deadline - cc_now_ms();
            ssize_t r;

            if (poll(&p, 1, left > 0 ? (int)left : 0) <= 0) {
                held++;
                break;
            }
            r = recv(fds[i], got[i] + glen[i], sizeof(got[i]) - 1 - glen[i], 0);
            if (r > 0) {
                glen[i] += (size_t)r;
                continue;
            }
            got[i][glen[i]] = '\0';
            if (glen[i] == 0)
                closed++;
            else if (strstr(got[i], "busy"))
                busy++;
            else
                other++;
            close(fds[i]);
            fds[i] = -1;
            break;
        }
    }
    /* The kept ones are real clients: each gets an answer. */
    for (int i = 0; i < n; i++) {
        size_t total = 0;
        char buf[8192];
        ssize_t r;

        if (fds[i] < 0)
            continue;
        setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (cc_send_all(fds[i], req, sizeof(req) - 1) < 0)
            continue;
        while ((r = recv(fds[i], buf + total, sizeof(buf) - 1 - total, 0)) > 0)
            total += (size_t)r;
        buf[total] = '\0';
        if (total > 0 && buf[0] == '{' && strstr(buf, "\"domains\""))
            answered++;
        close(fds[i]);
    }
    printf("connected=%d busy=%d closed=%d held=%d answered=%d other=%d\n", n, busy,
           closed, held, answered, other);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[2], "req") == 0)
        return cc_req(argv[1], argc - 2, argv + 2);
    if (argc >= 4 && strcmp(argv[2], "many") == 0)
        return cc_many(argv[1], argc - 2, argv + 2);
    fprintf(stderr,
            "usage: ctl-client SOCKET req [-s] [-c] [-p MS] [-r N] [-w MS] [-t MS] DATA\n"
            "       ctl-client SOCKET many N [-t MS]\n");
    return 2;
}
