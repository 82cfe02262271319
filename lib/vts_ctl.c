/* vts_ctl.c: the control socket's protocol, server helpers and client. */
#include "vts_ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vts_clock.h"

#define VTS_CTL_DEFAULT_REASON "hook"

/* Connections the kernel queues before vmtimesyncd accepts them. Hooks come
 * in bursts (libvirtd restarts, host resume with many guests). */
#define VTS_CTL_BACKLOG 64

/* How long vts_ctl_call() sleeps before retrying a connect that found the
 * daemon's queue full. */
#define VTS_CTL_RETRY_MS 2

/* ---- the protocol ---- */

/* Does @s hold 1 to VTS_CTL_REASON_MAX - 1 characters of [a-z-]? */
static bool
vts_ctl_reason_ok(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len >= VTS_CTL_REASON_MAX)
        return false;
    for (i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-'))
            return false;
    return true;
}

static int
vts_ctl_parse_pending(json_object *root, vts_ctl_request *req, vts_error *err)
{
    json_object *domain = NULL;
    json_object *reason = NULL;
    const char *s = NULL;
    size_t len;

    if (!json_object_object_get_ex(root, "domain", &domain))
        return vts_error_set(err, VTS_ERR_BAD_REPLY,
                             "request: \"pending\" needs a \"domain\"");
    if (!json_object_is_type(domain, json_type_string))
        return vts_error_set(err, VTS_ERR_BAD_REPLY,
                             "request: \"domain\" must be a string");
    s = json_object_get_string(domain);
    len = (size_t)json_object_get_string_len(domain);
    if (len == 0)
        return vts_error_set(err, VTS_ERR_BAD_REPLY, "request: \"domain\" is empty");
    if (len >= sizeof(req->domain))
        return vts_error_set(
            err, VTS_ERR_BAD_REPLY,
            "request: \"domain\" is %zu bytes long; at most %zu are allowed", len,
            sizeof(req->domain) - 1);
    if (memchr(s, '\0', len))
        return vts_error_set(err, VTS_ERR_BAD_REPLY,
                             "request: \"domain\" contains a NUL character");
    memcpy(req->domain, s, len + 1);

    if (!json_object_object_get_ex(root, "reason", &reason)) {
        memcpy(req->reason, VTS_CTL_DEFAULT_REASON, sizeof(VTS_CTL_DEFAULT_REASON));
        return 0;
    }
    if (!json_object_is_type(reason, json_type_string))
        return vts_error_set(err, VTS_ERR_BAD_REPLY,
                             "request: \"reason\" must be a string");
    s = json_object_get_string(reason);
    len = (size_t)json_object_get_string_len(reason);
    if (!vts_ctl_reason_ok(s, len))
        return vts_error_set(
            err, VTS_ERR_BAD_REPLY,
            "request: \"reason\" must be 1 to %d characters of a-z and '-'",
            VTS_CTL_REASON_MAX - 1);
    memcpy(req->reason, s, len + 1);
    return 0;
}

int
vts_ctl_parse_request(const char *buf, size_t len, vts_ctl_request *req, vts_error *err)
{
    json_tokener *tok = NULL;
    json_object *root = NULL;
    json_object *cmd = NULL;
    enum json_tokener_error jerr;
    const char *name = NULL;
    size_t name_len;
    int rc = -1;

    memset(req, 0, sizeof(*req));
    if (!buf || len == 0) {
        vts_error_set(err, VTS_ERR_BAD_REPLY, "request: empty");
        goto cleanup;
    }
    if (len > VTS_CTL_MAX_REQUEST) {
        vts_error_set(err, VTS_ERR_BAD_REPLY, "request: longer than %d bytes",
                      VTS_CTL_MAX_REQUEST);
        goto cleanup;
    }
    /* json-c would stop at a NUL in some states and not in others. */
    if (memchr(buf, '\0', len)) {
        vts_error_set(err, VTS_ERR_BAD_REPLY, "request: contains a NUL byte");
        goto cleanup;
    }
    if (!(tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH))) {
        vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
        goto cleanup;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    root = json_tokener_parse_ex(tok, buf, (int)len);
    jerr = json_tokener_get_error(tok);
    if (jerr == json_tokener_continue) {
        /* An object ends at its '}'; a bare number or literal needs the end
         * of input, which json-c takes as a NUL fed after the text. */
        root = json_tokener_parse_ex(tok, "", 1);
        if (json_tokener_get_error(tok) != json_tokener_success) {
            vts_error_set(err, VTS_ERR_BAD_REPLY, "request: not a complete JSON object");
            goto cleanup;
        }
    } else if (jerr != json_tokener_success) {
        vts_error_set(err, VTS_ERR_BAD_REPLY, "request: not JSON (%s at byte %zu)",
                      json_tokener_error_desc(jerr), json_tokener_get_parse_end(tok));
        goto cleanup;
    } else if (json_tokener_get_parse_end(tok) < len) {
        vts_error_set(err, VTS_ERR_BAD_REPLY, "request: data after the JSON object");
        goto cleanup;
    }
    /* root is NULL for a JSON null. */
    if (!json_object_is_type(root, json_type_object)) {
        vts_error_set(err, VTS_ERR_BAD_REPLY, "request: not a JSON object");
        goto cleanup;
    }
    if (!json_object_object_get_ex(root, "cmd", &cmd)) {
        vts_error_set(err, VTS_ERR_BAD_REPLY, "request: no \"cmd\"");
        goto cleanup;
    }
    if (!json_object_is_type(cmd, json_type_string)) {
        vts_error_set(err, VTS_ERR_BAD_REPLY, "request: \"cmd\" must be a string");
        goto cleanup;
    }
    /* Compare lengths too: "status\u0000" is not "status". */
    name = json_object_get_string(cmd);
    name_len = (size_t)json_object_get_string_len(cmd);
    if (name_len == strlen("status") && strcmp(name, "status") == 0) {
        req->cmd = VTS_CTL_STATUS;
    } else if (name_len == strlen("pending") && strcmp(name, "pending") == 0) {
        req->cmd = VTS_CTL_PENDING;
        if (vts_ctl_parse_pending(root, req, err) < 0)
            goto cleanup;
    } else {
        /* Not quoted: it is the peer's text and could be anything. */
        vts_error_set(err, VTS_ERR_BAD_REPLY,
                      "request: unknown \"cmd\" (known: \"status\", \"pending\")");
        goto cleanup;
    }
    rc = 0;

cleanup:
    if (rc < 0)
        memset(req, 0, sizeof(*req));
    json_object_put(root);
    if (tok) /* unlike json_object_put, not NULL-safe in json-c 0.16 */
        json_tokener_free(tok);
    return rc;
}

char *
vts_ctl_format_pending(const char *domain, const char *reason)
{
    json_object *obj = NULL;
    json_object *str = NULL;
    const char *text = NULL;
    char *line = NULL;
    size_t dlen, tlen;

    if (!reason)
        reason = VTS_CTL_DEFAULT_REASON;
    dlen = domain ? strlen(domain) : 0;
    if (dlen == 0 || dlen >= VTS_CTL_DOMAIN_MAX ||
        !vts_ctl_reason_ok(reason, strlen(reason))) {
        errno = EINVAL;
        return NULL;
    }
    if (!(obj = json_object_new_object()))
        goto nomem;
    /* json_object_object_add takes ownership of each new value. */
    if (!(str = json_object_new_string("pending")) ||
        json_object_object_add(obj, "cmd", str) < 0)
        goto nomem;
    if (!(str = json_object_new_string_len(domain, (int)dlen)) ||
        json_object_object_add(obj, "domain", str) < 0)
        goto nomem;
    if (!(str = json_object_new_string(reason)) ||
        json_object_object_add(obj, "reason", str) < 0)
        goto nomem;
    str = NULL;
    text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!text)
        goto nomem;
    tlen = strlen(text);
    /* Control characters grow six-fold when escaped. */
    if (tlen + 1 > VTS_CTL_MAX_REQUEST) {
        json_object_put(obj);
        errno = EINVAL;
        return NULL;
    }
    if (!(line = malloc(tlen + 2)))
        goto nomem;
    memcpy(line, text, tlen);
    memcpy(line + tlen, "\n", 2);
    json_object_put(obj);
    return line;

nomem:
    /* A value whose add failed is still ours; once added, the object's. */
    json_object_put(str);
    json_object_put(obj);
    errno = ENOMEM;
    return NULL;
}

/* ---- the server ---- */

/* Fill @addr for @path (not NULL); -1 with @err (VTS_ERR_CONFIG) when it is
 * empty or does not fit. */
static int
vts_ctl_addr(const char *path, struct sockaddr_un *addr, vts_error *err)
{
    size_t len = strlen(path);

    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    if (len == 0)
        return vts_error_set(err, VTS_ERR_CONFIG, "the control socket path is empty");
    if (len >= sizeof(addr->sun_path))
        return vts_error_set(err, VTS_ERR_CONFIG,
                             "the control socket path %s is %zu bytes; at most %zu fit",
                             path, len, sizeof(addr->sun_path) - 1);
    memcpy(addr->sun_path, path, len + 1);
    return 0;
}

/* Make the directory that will hold @path, if missing (one level: /run is
 * there, /run/vmtimesync may not be). */
static int
vts_ctl_make_parent(const char *path, vts_error *err)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char *slash = NULL;

    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0; /* relative name in the cwd, or directly under / */
    *slash = '\0';
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return vts_error_set(err, VTS_ERR_CONFIG, "cannot create the directory %s: %s",
                             dir, strerror(errno));
    return 0;
}

/* Does a live server accept connections on @addr? Only a plain "connection
 * refused" means it is dead: any other answer (accepted, queue full,
 * permission denied) means someone is, or may be, there. */
static bool
vts_ctl_someone_listens(const struct sockaddr_un *addr)
{
    int fd;
    int rc;
    int saved;

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return true;
    rc = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
    saved = errno;
    close(fd);
    return rc == 0 || (saved != ECONNREFUSED && saved != ENOENT);
}

int
vts_ctl_listen(const char *path, vts_error *err)
{
    struct sockaddr_un addr;
    struct stat st;
    int fd = -1;
    int attempt;
    int rc = -1;

    if (!path)
        path = "";
    if (vts_ctl_addr(path, &addr, err) < 0)
        goto cleanup;
    if (vts_ctl_make_parent(path, err) < 0)
        goto cleanup;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        vts_error_set(err, VTS_ERR_INTERNAL, "cannot create a socket: %s",
                      strerror(errno));
        goto cleanup;
    }
    /* Twice at most: once, and once more after removing a stale socket. */
    for (attempt = 0;; attempt++) {
        if (bind(fd, (const struct sockaddr *)&addr, sizeof(addr)) == 0)
            break;
        if (errno != EADDRINUSE || attempt > 0) {
            vts_error_set(err, VTS_ERR_CONFIG, "cannot bind the control socket %s: %s",
                          path, strerror(errno));
            goto cleanup;
        }
        if (lstat(path, &st) < 0) {
            if (errno == ENOENT)
                continue; /* removed meanwhile */
            vts_error_set(err, VTS_ERR_CONFIG, "cannot inspect %s: %s", path,
                          strerror(errno));
            goto cleanup;
        }
        if (!S_ISSOCK(st.st_mode)) {
            vts_error_set(
                err, VTS_ERR_CONFIG,
                "%s exists and is not a socket: remove it or set control_socket "
                "to another path",
                path);
            goto cleanup;
        }
        if (vts_ctl_someone_listens(&addr)) {
            vts_error_set(
                err, VTS_ERR_CONFIG,
                "another vmtimesyncd is running (it answers on %s): stop it first", path);
            goto cleanup;
        }
        if (unlink(path) < 0 && errno != ENOENT) {
            vts_error_set(err, VTS_ERR_CONFIG, "cannot remove the stale socket %s: %s",
                          path, strerror(errno));
            goto cleanup;
        }
    }
    /* Until this chmod the socket has the umask's mode, which (022 or
     * stricter) already denies others the write access connect needs; and
     * the daemon checks each peer's uid anyway. */
    if (chmod(path, 0600) < 0) {
        vts_error_set(err, VTS_ERR_CONFIG, "cannot chmod the control socket %s: %s", path,
                      strerror(errno));
        unlink(path);
        goto cleanup;
    }
    if (listen(fd, VTS_CTL_BACKLOG) < 0) {
        vts_error_set(err, VTS_ERR_INTERNAL, "cannot listen on %s: %s", path,
                      strerror(errno));
        unlink(path);
        goto cleanup;
    }
    rc = fd;
    fd = -1;

cleanup:
    if (fd >= 0)
        close(fd);
    return rc;
}

bool
vts_ctl_peer_is_root(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred))
        return false;
    return cred.uid == 0 || cred.uid == geteuid();
}

void
vts_ctl_client_init(vts_ctl_client *c, int fd, int64_t now_ns)
{
    c->fd = fd;
    c->buf[0] = '\0';
    c->len = 0;
    c->started_ns = now_ns;
}

int
vts_ctl_client_read(vts_ctl_client *c, vts_ctl_request *req, vts_error *err)
{
    char *nl = NULL;
    ssize_t n;

    for (;;) {
        if (c->len >= VTS_CTL_MAX_REQUEST)
            return vts_error_set(err, VTS_ERR_BAD_REPLY,
                                 "request: longer than %d bytes without a newline",
                                 VTS_CTL_MAX_REQUEST);
        n = recv(c->fd, c->buf + c->len, VTS_CTL_MAX_REQUEST - c->len, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n < 0)
            return vts_error_set(err, VTS_ERR_CONNECT, "reading the request: %s",
                                 strerror(errno));
        if (n == 0)
            return vts_error_set(err, VTS_ERR_BAD_REPLY,
                                 c->len
                                     ? "request: the client closed before the newline"
                                     : "request: the client closed without sending one");
        nl = memchr(c->buf + c->len, '\n', (size_t)n);
        c->len += (size_t)n;
        c->buf[c->len] = '\0';
        if (nl)
            return vts_ctl_parse_request(c->buf, (size_t)(nl - c->buf), req, err) < 0 ? -1
                                                                                      : 1;
    }
}

int
vts_ctl_send_reply(int fd, const char *text)
{
    size_t len = strlen(text), off = 0;
    ssize_t n;

    while (off < len) {
        n = send(fd, text + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

/* ---- the client ---- */

/* Milliseconds left until @deadline, 0 when it has passed. */
static int
vts_ctl_left_ms(int64_t deadline)
{
    int64_t left = deadline - vts_mono_ms();

    return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* Wait until @fd has @events or the deadline passes. Returns 1 when ready,
 * 0 on timeout, -1 with errno on failure. */
static int
vts_ctl_wait(int fd, short events, int64_t deadline)
{
    struct pollfd pfd = {.fd = fd, .events = events};
    int left, n;

    for (;;) {
        left = vts_ctl_left_ms(deadline);
        n = poll(&pfd, 1, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return left == 0 || vts_ctl_left_ms(deadline) == 0 ? 0 : 1;
        return 1;
    }
}

static int
vts_ctl_timed_out(vts_error *err, int timeout_ms)
{
    errno = ETIMEDOUT;
    return vts_error_set(err, VTS_ERR_CONNECT, "vmtimesyncd did not answer within %d ms",
                         timeout_ms);
}

/* Connect @fd (non-blocking) to @addr before @deadline. */
static int
vts_ctl_connect(int fd, const struct sockaddr_un *addr, const char *path, int timeout_ms,
                int64_t deadline, vts_error *err)
{
    int soerr = 0;
    socklen_t slen = sizeof(soerr);
    int saved;

    for (;;) {
        if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0)
            return 0;
        saved = errno;
        if (saved == EINTR)
            continue;
        if (saved == ENOENT) {
            vts_error_set(err, VTS_ERR_CONNECT,
                          "vmtimesyncd is not running (no socket at %s)", path);
            errno = saved;
            return -1;
        }
        if (saved == ECONNREFUSED) {
            vts_error_set(err, VTS_ERR_CONNECT,
                          "vmtimesyncd is not running (nobody listens on %s)", path);
            errno = saved;
            return -1;
        }
        if (saved == EAGAIN) {
            /* AF_UNIX: the daemon's queue is full. Such a connect cannot
             * be polled for; try again shortly. */
            int left = vts_ctl_left_ms(deadline);

            if (left == 0)
                return vts_ctl_timed_out(err, timeout_ms);
            poll(NULL, 0, left < VTS_CTL_RETRY_MS ? left : VTS_CTL_RETRY_MS);
            continue;
        }
        if (saved == EINPROGRESS) {
            if (vts_ctl_wait(fd, POLLOUT, deadline) <= 0)
                return vts_ctl_timed_out(err, timeout_ms);
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) < 0)
                soerr = errno;
            if (soerr == 0)
                return 0;
            saved = soerr;
        }
        vts_error_set(err, VTS_ERR_CONNECT, "cannot connect to vmtimesyncd at %s: %s",
                      path, strerror(saved));
        errno = saved;
        return -1;
    }
}

/* Send @len bytes of @data on @fd before @deadline. Returns 0, 1 when the
 * peer closed first (read its reply anyway), or -1 with @err filled. */
static int
vts_ctl_send_all(int fd, const char *data, size_t len, int timeout_ms, int64_t deadline,
                 vts_error *err)
{
    size_t off = 0;
    ssize_t n;
    int saved;

    while (off < len) {
        n = send(fd, data + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) {
            off += (size_t)n;
            continue;
        }
        saved = errno;
        if (saved == EINTR)
            continue;
        if (saved == EAGAIN || saved == EWOULDBLOCK) {
            if (vts_ctl_wait(fd, POLLOUT, deadline) <= 0)
                return vts_ctl_timed_out(err, timeout_ms);
            continue;
        }
        /* The daemon answered and closed before reading us (a refusal:
         * not root, too many clients): its reply is still there to read. */
        if (saved == EPIPE || saved == ECONNRESET)
            return 1;
        vts_error_set(err, VTS_ERR_CONNECT, "sending to vmtimesyncd: %s",
                      strerror(saved));
        errno = saved;
        return -1;
    }
    return 0;
}

int
vts_ctl_call(const char *path, const char *request, int timeout_ms, char **reply,
             vts_error *err)
{
    struct sockaddr_un addr;
    int64_t deadline = vts_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    char *buf = NULL, *grown = NULL;
    size_t len = 0, cap = 0, rlen;
    ssize_t n;
    int fd = -1;
    int sent;
    int saved;
    int rc = -1;

    if (reply)
        *reply = NULL;
    if (!request || !reply) {
        errno = EINVAL;
        vts_error_set(err, VTS_ERR_INTERNAL, "vts_ctl_call: no request or reply");
        goto cleanup;
    }
    rlen = strlen(request);
    if (rlen + (rlen && request[rlen - 1] == '\n' ? 0 : 1) > VTS_CTL_MAX_REQUEST) {
        errno = EINVAL;
        vts_error_set(err, VTS_ERR_INTERNAL, "the request is longer than %d bytes",
                      VTS_CTL_MAX_REQUEST);
        goto cleanup;
    }
    if (!path)
        path = "";
    if (vts_ctl_addr(path, &addr, err) < 0) {
        errno = EINVAL;
        goto cleanup;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        saved = errno;
        vts_error_set(err, VTS_ERR_INTERNAL, "cannot create a socket: %s",
                      strerror(saved));
        errno = saved;
        goto cleanup;
    }
    if (vts_ctl_connect(fd, &addr, path, timeout_ms, deadline, err) < 0)
        goto cleanup;
    sent = vts_ctl_send_all(fd, request, rlen, timeout_ms, deadline, err);
    if (sent < 0)
        goto cleanup;
    if (sent == 0 && (rlen == 0 || request[rlen - 1] != '\n') &&
        vts_ctl_send_all(fd, "\n", 1, timeout_ms, deadline, err) < 0)
        goto cleanup;
    /* Tell the daemon that nothing more comes; it may ignore this. */
    shutdown(fd, SHUT_WR);

    for (;;) {
        if (len == cap) {
            if (cap > VTS_CTL_MAX_REPLY) {
                vts_error_set(err, VTS_ERR_CONNECT,
                              "vmtimesyncd's reply is longer than %d bytes",
                              VTS_CTL_MAX_REPLY);
                errno = EMSGSIZE;
                goto cleanup;
            }
            /* One byte beyond the limit, to see that it is crossed. */
            cap = cap ? cap * 2 : 4096;
            if (cap > VTS_CTL_MAX_REPLY + 1)
                cap = VTS_CTL_MAX_REPLY + 1;
            if (!(grown = realloc(buf, cap + 1))) {
                vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
                errno = ENOMEM;
                goto cleanup;
            }
            buf = grown;
        }
        n = recv(fd, buf + len, cap - len, MSG_DONTWAIT);
        if (n > 0) {
            len += (size_t)n;
            continue;
        }
        if (n == 0)
            break;
        saved = errno;
        if (saved == EINTR)
            continue;
        if (saved == EAGAIN || saved == EWOULDBLOCK) {
            if (vts_ctl_wait(fd, POLLIN, deadline) <= 0) {
                vts_ctl_timed_out(err, timeout_ms);
                goto cleanup;
            }
            continue;
        }
        vts_error_set(err, VTS_ERR_CONNECT, "reading vmtimesyncd's reply: %s",
                      strerror(saved));
        errno = saved;
        goto cleanup;
    }
    if (len == 0) {
        vts_error_set(err, VTS_ERR_CONNECT,
                      "vmtimesyncd closed the connection without answering: see its log");
        errno = EPROTO;
        goto cleanup;
    }
    if (memchr(buf, '\0', len)) {
        vts_error_set(err, VTS_ERR_CONNECT, "vmtimesyncd's reply contains a NUL byte");
        errno = EPROTO;
        goto cleanup;
    }
    buf[len] = '\0';
    *reply = buf;
    buf = NULL;
    rc = 0;

cleanup:
    saved = errno;
    if (fd >= 0)
        close(fd);
    free(buf);
    errno = saved;
    return rc;
}
