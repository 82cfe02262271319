/* vts_connect.c: hypervisor connections opened on threads of their own,
 * polled or waited for up to a deadline, abandoned when they hang. */
#include "vts_connect.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vts_clock.h"

/* Shared by the attempt's thread and its owner; freed by whichever of the
 * two lets go last. */
struct vts_connect {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* signalled when done */
    const vts_hv_ops *ops;
    vts_connect_spec spec;
    char *uri;
    bool done;
    bool abandoned; /* the owner let go */
    vts_hv_conn *conn;
    vts_error err;
};

static pthread_mutex_t vts_connect_count_lock = PTHREAD_MUTEX_INITIALIZER;
static int vts_connect_count; /* threads running */

static void
vts_connect_free(vts_connect *c)
{
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    free(c->uri);
    free(c);
}

static void *
vts_connect_thread(void *opaque)
{
    vts_connect *c = opaque;
    vts_hv_conn *conn = NULL;
    vts_error err;
    bool abandoned;

    memset(&err, 0, sizeof(err));
    c->ops->disconnect(c->spec.to_close);
    if (c->ops->connect(c->uri, &conn, &err) == 0 && c->spec.event_fn &&
        c->ops->events_register(conn, c->spec.event_fn, c->spec.close_fn,
                                c->spec.event_opaque, &err) < 0) {
        c->ops->disconnect(conn);
        conn = NULL;
    }

    pthread_mutex_lock(&c->lock);
    abandoned = c->abandoned;
    if (!abandoned) {
        c->conn = conn;
        c->err = err;
        c->done = true;
        pthread_cond_signal(&c->cond);
        /* Under the lock, so that an owner that abandons us afterwards
         * knows we are no longer calling it. */
        if (c->spec.done_fn)
            c->spec.done_fn(c->spec.done_opaque);
    }
    pthread_mutex_unlock(&c->lock);
    if (abandoned) {
        c->ops->disconnect(conn);
        vts_connect_free(c);
    }
    pthread_mutex_lock(&vts_connect_count_lock);
    vts_connect_count--;
    pthread_mutex_unlock(&vts_connect_count_lock);
    return NULL;
}

vts_connect *
vts_connect_start(const vts_hv_ops *ops, const vts_connect_spec *spec, vts_error *err)
{
    vts_connect *c = NULL;
    pthread_attr_t attr;
    pthread_condattr_t cattr;
    pthread_t tid;
    int rc, running;

    pthread_mutex_lock(&vts_connect_count_lock);
    running = vts_connect_count;
    if (running < VTS_CONNECT_MAX_THREADS)
        vts_connect_count++;
    pthread_mutex_unlock(&vts_connect_count_lock);
    if (running >= VTS_CONNECT_MAX_THREADS) {
        vts_error_set(err, VTS_ERR_CONNECT,
                      "%d connections to libvirt at %s are still waiting for libvirtd to "
                      "answer: is libvirtd hung?",
                      running, spec->uri);
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (!c || !(c->uri = strdup(spec->uri))) {
        vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
        goto error;
    }
    pthread_mutex_init(&c->lock, NULL);
    /* Deadlines on the monotonic clock: NTP may step the wall clock. */
    pthread_condattr_init(&cattr);
    pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &cattr);
    pthread_condattr_destroy(&cattr);
    c->ops = ops;
    c->spec = *spec;
    c->spec.uri = c->uri;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&tid, &attr, vts_connect_thread, c);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        vts_error_set(err, VTS_ERR_INTERNAL, "cannot start a thread to connect: %s",
                      strerror(rc));
        vts_connect_free(c);
        c = NULL;
        goto error;
    }
    return c;

error:
    if (c) {
        free(c->uri);
        free(c);
    }
    pthread_mutex_lock(&vts_connect_count_lock);
    vts_connect_count--;
    pthread_mutex_unlock(&vts_connect_count_lock);
    return NULL;
}

/* With c->lock held and c->done: hand the result over and free @c. */
static int
vts_connect_take(vts_connect *c, vts_hv_conn **conn, vts_error *err)
{
    int rc = c->conn ? 0 : -1;

    *conn = c->conn;
    if (!c->conn)
        *err = c->err;
    pthread_mutex_unlock(&c->lock);
    vts_connect_free(c);
    return rc;
}

int
vts_connect_poll(vts_connect *c, vts_hv_conn **conn, vts_error *err)
{
    *conn = NULL;
    pthread_mutex_lock(&c->lock);
    if (!c->done) {
        pthread_mutex_unlock(&c->lock);
        return 0;
    }
    vts_connect_take(c, conn, err);
    return 1;
}

int
vts_connect_wait(vts_connect *c, int64_t timeout_ns, vts_hv_conn **conn, vts_error *err)
{
    struct timespec until;

    *conn = NULL;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(timeout_ns / VTS_NS_PER_SEC);
    until.tv_nsec += (long)(timeout_ns % VTS_NS_PER_SEC);
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->lock);
    while (!c->done) {
        if (pthread_cond_timedwait(&c->cond, &c->lock, &until) == ETIMEDOUT && !c->done) {
            vts_error_set(err, VTS_ERR_CONNECT,
                          "libvirt at %s did not answer within %lld s: is libvirtd hung?",
                          c->uri, (long long)(timeout_ns / VTS_NS_PER_SEC));
            pthread_mutex_unlock(&c->lock);
            vts_connect_abandon(c);
            return -1;
        }
    }
    return vts_connect_take(c, conn, err);
}

void
vts_connect_abandon(vts_connect *c)
{
    vts_hv_conn *conn = NULL;
    bool done;

    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    done = c->done;
    c->abandoned = true;
    conn = c->conn;
    pthread_mutex_unlock(&c->lock);
    /* Done: the thread is gone or going, and left the rest to us. */
    if (done) {
        c->ops->disconnect(conn);
        vts_connect_free(c);
    }
}
