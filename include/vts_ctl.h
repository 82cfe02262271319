/* vts_ctl.h: the daemon's control socket, both ends.
 *
 * vmtimesyncd listens on an AF_UNIX stream socket; `vmtimesync --status` and
 * the libvirt hook are its clients. A client connects, sends ONE JSON object
 * on one line ending in "\n" (at most VTS_CTL_MAX_REQUEST bytes, newline
 * included), and reads the reply until the daemon closes the connection.
 *
 *   {"cmd":"status"}
 *   {"cmd":"pending","domain":"NAME","reason":"migrate"}
 *
 * "reason" is optional ("hook" when absent). Unknown keys are ignored, so
 * newer clients can add some. Domain names are data: any byte but NUL,
 * escaped by json-c; never build a request by hand.
 *
 * Everything here is non-blocking: the daemon drives the server side from
 * its event loop, and the hook must return to libvirtd within milliseconds
 * whatever state the daemon is in.
 */
#ifndef VTS_CTL_H
#define VTS_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vts_error.h"

#define VTS_CTL_DEFAULT_PATH "/run/vmtimesync/control.sock"

/* Longest request, its "\n" included. */
#define VTS_CTL_MAX_REQUEST 4096
/* Longest reply vts_ctl_call() accepts. */
#define VTS_CTL_MAX_REPLY (1024 * 1024)

/* sizeof(vts_ctl_request.domain): names up to 1023 bytes. libvirt itself
 * has no limit, but no real name comes near this. */
#define VTS_CTL_DOMAIN_MAX 1024
/* sizeof(vts_ctl_request.reason): up to 31 of [a-z-]. */
#define VTS_CTL_REASON_MAX 32

typedef enum {
    VTS_CTL_STATUS,  /* report what the daemon knows */
    VTS_CTL_PENDING, /* a domain needs a sync (the hook's hand-off) */
} vts_ctl_cmd;

typedef struct {
    vts_ctl_cmd cmd;
    char domain[VTS_CTL_DOMAIN_MAX]; /* VTS_CTL_PENDING only; else "" */
    char reason[VTS_CTL_REASON_MAX]; /* VTS_CTL_PENDING only; else "" */
} vts_ctl_request;

/* One accepted connection on the server side, with the bytes received so
 * far. The caller owns the struct and the fd (vts_ctl_client_read() never
 * closes it). started_ns is the caller's: stamp it at accept time with
 * vts_ctl_client_init() and drop clients that take too long. */
typedef struct vts_ctl_client {
    int fd;
    char buf[VTS_CTL_MAX_REQUEST + 1];
    size_t len;
    int64_t started_ns;
} vts_ctl_client;

/* Parse the request in the first @len bytes of @buf (need not be
 * NUL-terminated; a trailing "\n" is allowed). Strict: a JSON object with a
 * known "cmd"; "pending" needs a non-empty string "domain" of at most
 * VTS_CTL_DOMAIN_MAX - 1 bytes without NUL, and an optional "reason" of 1 to
 * VTS_CTL_REASON_MAX - 1 characters from [a-z-]. Safe on any input. Fills
 * @req (caller-owned) and returns 0, or returns -1 with @err filled
 * (VTS_ERR_BAD_REPLY: the peer sent something malformed). The error message
 * never quotes the domain name. */
int vts_ctl_parse_request(const char *buf, size_t len, vts_ctl_request *req,
                          vts_error *err);

/* The "pending" request line for @domain (non-NULL) and @reason (NULL means
 * "hook"), "\n" included, ready for vts_ctl_call(). Returns a string the
 * caller frees with free(), or NULL with errno set: ENOMEM, or EINVAL when
 * the daemon would refuse the request (empty or too long a name, a bad
 * reason, a line over VTS_CTL_MAX_REQUEST bytes). */
char *vts_ctl_format_pending(const char *domain, const char *reason);

/* Create the server socket at @path: make the parent directory (mode 0755)
 * when it is missing, remove a stale socket left by a daemon that died (only
 * if @path is a socket and nobody accepts on it), bind, chmod 0600, listen.
 * Returns a non-blocking, close-on-exec listening fd that the caller closes
 * (and unlinks @path at exit), or -1 with @err filled: VTS_ERR_CONFIG when
 * @path is unusable (too long, not a socket, directory cannot be made) or
 * another vmtimesyncd answers on it ("another vmtimesyncd is running"),
 * VTS_ERR_INTERNAL when the system refuses a socket. */
int vts_ctl_listen(const char *path, vts_error *err);

/* Is the peer of the connected AF_UNIX socket @fd root or the user this
 * process runs as? False when the credentials cannot be read. */
bool vts_ctl_peer_is_root(int fd);

/* The client: connect to @path, send @request (a "\n" is added when it does
 * not end in one), read the reply until the daemon closes, all within
 * @timeout_ms in total; never blocks longer, never raises SIGPIPE. On
 * success returns 0 and stores the NUL-terminated reply (at most
 * VTS_CTL_MAX_REPLY bytes) in *@reply, which the caller frees with free().
 * On failure returns -1, sets *@reply to NULL and fills @err with
 * VTS_ERR_CONNECT: "vmtimesyncd is not running (...)" when there is no
 * socket or nobody listens, "vmtimesyncd did not answer within N ms" on a
 * timeout. errno then tells these apart for programs: ENOENT or
 * ECONNREFUSED (not running), ETIMEDOUT (no answer in time), EMSGSIZE (reply
 * too long), EPROTO (empty reply or a NUL in it), else the system's error.
 * VTS_ERR_INTERNAL for a bad argument or no memory. */
int vts_ctl_call(const char *path, const char *request, int timeout_ms, char **reply,
                 vts_error *err);

/* Set up @c for the accepted connection @fd, with @now_ns as started_ns. */
void vts_ctl_client_init(vts_ctl_client *c, int fd, int64_t now_ns);

/* Read what is available on c->fd (non-blocking) into c->buf. Returns 1
 * when a whole request line arrived and was parsed into @req, 0 when more
 * bytes are needed (call again when the fd is readable), -1 with @err
 * filled when the request is bad, longer than VTS_CTL_MAX_REQUEST, ends
 * before its "\n", or the read fails. After 1 or -1, reply (or not) and
 * close the fd; do not call again. Bytes after the "\n" are ignored. */
int vts_ctl_client_read(vts_ctl_client *c, vts_ctl_request *req, vts_error *err);

/* Send @text on @fd without blocking and without SIGPIPE: best effort, for
 * a reply the daemon sends just before closing. Returns 0 when all of it was
 * sent, -1 with errno set otherwise (EAGAIN: the socket buffer was full and
 * the rest is lost; a reply must fit in the socket's send buffer). */
int vts_ctl_send_reply(int fd, const char *text);

#endif /* VTS_CTL_H */
