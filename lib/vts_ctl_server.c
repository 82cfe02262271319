/* vts_ctl_server.c: the control socket's server side: accepting, reading
 * requests, writing replies, dropping slow clients. What a request means
 * is its owner's (vmtimesyncd: vts_daemon_ctl.c).
 *
 * Threads: the event loop thread alone runs everything here.
 */
#include "vts_ctl_server.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vts_clock.h"
#include "vts_log.h"
#include "vts_sync.h" /* VTS_NS_PER_SEC */

/* A control client gets this long to send its request. */
#define VTS_CTL_SERVER_REQUEST_TIMEOUT_NS (2 * VTS_NS_PER_SEC)
/* ... and this long to read our reply (a big status, read slowly). */
#define VTS_CTL_SERVER_REPLY_TIMEOUT_NS (10 * VTS_NS_PER_SEC)
#define VTS_CTL_SERVER_MAX_CLIENTS 32

/* One connected client: reading its request, then writing our reply. */
typedef struct {
    vts_ctl_client c;
    int watch;
    bool used;
    vts_ctl_server *s;
    char *out; /* the reply being written, when writing */
    size_t out_len, out_off;
} vts_ctl_server_client;

struct vts_ctl_server {
    const vts_hv_ops *ops;
    char *path; /* unlinked at close */
    int fd;
    int watch;
    vts_ctl_answer_fn answer;
    vts_ctl_wake_fn wake;
    void *opaque;
    vts_ctl_server_client clients[VTS_CTL_SERVER_MAX_CLIENTS];
};

static void
vts_ctl_server_client_close(vts_ctl_server *s, vts_ctl_server_client *cl)
{
    s->ops->loop_remove_handle(cl->watch);
    close(cl->c.fd);
    free(cl->out);
    cl->out = NULL;
    cl->used = false;
}

/* Loop thread: write what the socket takes of the reply; close when done
 * or when the client went away. */
static void
vts_ctl_server_on_client_write(int watch, int fd, int events, void *opaque)
{
    vts_ctl_server_client *cl = opaque;

    (void)watch;
    (void)events;
    while (cl->out_off < cl->out_len) {
        ssize_t n = send(fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
                         MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return; /* the loop calls again when the socket drains */
        if (n <= 0)
            break;
        cl->out_off += (size_t)n;
    }
    vts_ctl_server_client_close(cl->s, cl);
}

/* Hand @reply (taken over) to @cl: written as the client reads it, never
 * blocking the loop, however large. */
static void
vts_ctl_server_reply(vts_ctl_server *s, vts_ctl_server_client *cl, char *reply)
{
    s->ops->loop_remove_handle(cl->watch);
    cl->out = reply;
    cl->out_len = strlen(reply);
    cl->out_off = 0;
    cl->c.started_ns = vts_mono_ns();
    cl->watch = s->ops->loop_add_handle(cl->c.fd, VTS_HV_WRITABLE,
                                        vts_ctl_server_on_client_write, cl);
    if (cl->watch < 0) {
        close(cl->c.fd);
        free(cl->out);
        cl->out = NULL;
        cl->used = false;
    }
}

/* Answer one complete request: the owner's reply and a newline. */
static void
vts_ctl_server_answer(vts_ctl_server *s, vts_ctl_server_client *cl,
                      const vts_ctl_request *req)
{
    char *reply = s->answer(req, s->opaque);

    if (reply) {
        size_t len = strlen(reply);
        char *line = realloc(reply, len + 2);

        if (line) {
            reply = line;
            memcpy(reply + len, "\n", 2);
        }
        vts_ctl_server_reply(s, cl, reply);
        return;
    }
    vts_ctl_server_client_close(s, cl);
}

/* After the last reply on @cfd: read what the client sent and we will
 * not read. Closing a socket with unread data resets the connection, and
 * the client would read ECONNRESET instead of a clean end (or instead of
 * the reply, when it comes before). */
static void
vts_ctl_server_drain(int cfd)
{
    char sink[VTS_CTL_MAX_REQUEST];

    shutdown(cfd, SHUT_WR);
    while (recv(cfd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
        ;
}

/* Refuse a connection with a one-line reason. */
static void
vts_ctl_server_refuse(int cfd, const char *reply)
{
    vts_ctl_send_reply(cfd, reply);
    vts_ctl_server_drain(cfd);
    close(cfd);
}

/* Loop thread: a control client sent bytes. */
static void
vts_ctl_server_on_client(int watch, int fd, int events, void *opaque)
{
    vts_ctl_server_client *cl = opaque;
    vts_ctl_server *s = cl->s;
    vts_ctl_request req;
    vts_error err;
    int rc;

    (void)watch;
    (void)fd;
    (void)events;
    rc = vts_ctl_client_read(&cl->c, &req, &err);
    if (rc == 0)
        return;
    if (rc > 0) {
        vts_ctl_server_answer(s, cl, &req); /* replies, or closes */
        return;
    } else {
        char *reply = NULL;
        json_object *o = json_object_new_object();

        json_object_object_add(o, "error", json_object_new_string(err.message));
        if (asprintf(&reply, "%s\n", json_object_to_json_string(o)) > 0)
            vts_ctl_send_reply(cl->c.fd, reply);
        /* An oversize request leaves bytes unread. */
        vts_ctl_server_drain(cl->c.fd);
        free(reply);
        json_object_put(o);
        vts_log(VTS_LOG_DEBUG, "control: bad request: %s", err.message);
    }
    vts_ctl_server_client_close(s, cl);
}

/* Loop thread: the control socket has connections to accept. */
static void
vts_ctl_server_on_accept(int watch, int fd, int events, void *opaque)
{
    vts_ctl_server *s = opaque;

    (void)watch;
    (void)events;
    for (;;) {
        vts_ctl_server_client *cl = NULL;
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (cfd < 0)
            return; /* EAGAIN, or a client that gave up */
        if (!vts_ctl_peer_is_root(cfd)) {
            vts_ctl_server_refuse(cfd,
                                  "{\"error\":\"permission denied: only root may use "
                                  "vmtimesyncd's control socket\"}\n");
            vts_log(VTS_LOG_WARNING, "control: refused a client that is not root");
            continue;
        }
        for (int i = 0; i < VTS_CTL_SERVER_MAX_CLIENTS; i++) {
            if (!s->clients[i].used) {
                cl = &s->clients[i];
                break;
            }
        }
        if (!cl) {
            vts_ctl_server_refuse(cfd, "{\"error\":\"busy: too many clients\"}\n");
            continue;
        }
        vts_ctl_client_init(&cl->c, cfd, vts_mono_ns());
        cl->s = s;
        cl->watch =
            s->ops->loop_add_handle(cfd, VTS_HV_READABLE, vts_ctl_server_on_client, cl);
        if (cl->watch < 0) {
            close(cfd);
            continue;
        }
        cl->used = true;
        s->wake(s->opaque); /* arm the client's time limit */
    }
}

vts_ctl_server *
vts_ctl_server_new(const vts_hv_ops *ops, const char *path, vts_ctl_answer_fn answer,
                   vts_ctl_wake_fn wake, void *opaque, vts_error *err)
{
    vts_ctl_server *s = calloc(1, sizeof(*s));

    if (!s || !(s->path = strdup(path))) {
        free(s);
        vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    s->ops = ops;
    s->answer = answer;
    s->wake = wake;
    s->opaque = opaque;
    s->watch = -1;
    s->fd = vts_ctl_listen(path, err);
    if (s->fd < 0)
        goto error;
    s->watch = ops->loop_add_handle(s->fd, VTS_HV_READABLE, vts_ctl_server_on_accept, s);
    if (s->watch < 0) {
        vts_error_set(err, VTS_ERR_INTERNAL, "cannot watch the control socket");
        goto error;
    }
    return s;

error:
    vts_ctl_server_free(s);
    return NULL;
}

int64_t
vts_ctl_server_expire(vts_ctl_server *s, int64_t now)
{
    int64_t due = -1;

    for (int i = 0; i < VTS_CTL_SERVER_MAX_CLIENTS; i++) {
        vts_ctl_server_client *cl = &s->clients[i];

        if (!cl->used)
            continue;
        int64_t limit =
            cl->out ? VTS_CTL_SERVER_REPLY_TIMEOUT_NS : VTS_CTL_SERVER_REQUEST_TIMEOUT_NS;

        if (now - cl->c.started_ns > limit) {
            vts_log(VTS_LOG_DEBUG,
                    "control: dropping a client that sent no request in time");
            vts_ctl_server_client_close(s, cl);
        } else if (due < 0 || cl->c.started_ns + limit < due) {
            due = cl->c.started_ns + limit + 1;
        }
    }
    return due;
}

void
vts_ctl_server_close(vts_ctl_server *s)
{
    if (!s)
        return;
    if (s->watch >= 0)
        s->ops->loop_remove_handle(s->watch);
    s->watch = -1;
    if (s->fd >= 0) {
        close(s->fd);
        unlink(s->path);
    }
    s->fd = -1;
}

void
vts_ctl_server_free(vts_ctl_server *s)
{
    if (!s)
        return;
    for (int i = 0; i < VTS_CTL_SERVER_MAX_CLIENTS; i++) {
        if (s->clients[i].used)
            vts_ctl_server_client_close(s, &s->clients[i]);
    }
    vts_ctl_server_close(s);
    free(s->path);
    free(s);
}
