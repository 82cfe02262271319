/* daemon_fixture.c: vmtimesyncd over the fake hypervisor and a poll()
 * event loop, for the daemon's unit tests (daemon_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "vts_clock.h"
#include "vts_ctl.h"
#include "vts_log.h"

#define VTS_DAEMON_ALLOW_PRIV
#include "vts_daemon_priv.h"

#define LOOP_MAX 64

int set_time_calls;
int agent_calls;
int agent_call_ms;
int daemon_fx_connects;
int daemon_fx_disconnects;
int daemon_fx_lists;
int daemon_fx_registrations;

#define CONNECTS_KEPT 16
static int connects_to_fail;              /* atomic */
static int connect_attempts;              /* atomic */
static int64_t connect_at[CONNECTS_KEPT]; /* written before connect_attempts moves */

typedef struct {
    bool used;
    int fd;
    int events;
    vts_hv_handle_fn hfn;
    int ms; /* timers: -1 disabled, 0 at once, else the period */
    int64_t due;
    vts_hv_timer_fn tfn;
    void *opaque;
} loop_slot;

/* loop_lock guards the slots, the registration, the call handed to the
 * loop and the hold on list_running. */
static pthread_mutex_t loop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t loop_cond = PTHREAD_COND_INITIALIZER;
static loop_slot loop_handles[LOOP_MAX];
static loop_slot loop_timers[LOOP_MAX];

/* Who registered for the loop's connection's events. */
static struct {
    vts_hv_conn *conn;
    vts_hv_event_fn fn;
    vts_hv_close_fn close_fn;
    void *opaque;
} reg;

/* A call handed to the loop thread (daemon_run_on_loop). */
static struct {
    void (*fn)(vts_daemon *d, void *arg);
    vts_daemon *d;
    void *arg;
    unsigned asked, done;
} call;

static bool hold_lists;
/* daemon_fx_race_wake: the loop thread, the held connect, and the wakes
 * from other threads seen so far. */
static pthread_t loop_thread;
static bool loop_thread_known;
static bool race_wake;    /* armed */
static bool hold_connect; /* the connect waits for the race */
static int foreign_wakes;

static int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
loop_init(vts_error *err)
{
    (void)err;
    pthread_mutex_lock(&loop_lock);
    memset(loop_handles, 0, sizeof(loop_handles));
    memset(loop_timers, 0, sizeof(loop_timers));
    pthread_mutex_unlock(&loop_lock);
    return 0;
}

static int
loop_add_handle(int fd, int events, vts_hv_handle_fn fn, void *opaque)
{
    int id = -1;

    pthread_mutex_lock(&loop_lock);
    for (int i = 0; i < LOOP_MAX && id < 0; i++) {
        if (!loop_handles[i].used) {
            loop_handles[i] = (loop_slot){
                .used = true, .fd = fd, .events = events, .hfn = fn, .opaque = opaque};
            id = i;
        }
    }
    pthread_mutex_unlock(&loop_lock);
    return id;
}

static void
loop_remove_handle(int watch)
{
    pthread_mutex_lock(&loop_lock);
    if (watch >= 0 && watch < LOOP_MAX)
        loop_handles[watch].used = false;
    pthread_mutex_unlock(&loop_lock);
}

static int
loop_add_timer(int ms, vts_hv_timer_fn fn, void *opaque)
{
    int id = -1;

    pthread_mutex_lock(&loop_lock);
    for (int i = 0; i < LOOP_MAX && id < 0; i++) {
        if (!loop_timers[i].used) {
            loop_timers[i] = (loop_slot){.used = true,
                                         .ms = ms,
                                         .due = mono_ms() + ms,
                                         .tfn = fn,
                                         .opaque = opaque};
            id = i;
        }
    }
    pthread_mutex_unlock(&loop_lock);
    return id;
}

/* A wake from another thread comes while the loop thread is re-arming
 * its timer for later: let the held connect finish, and wait (2 s at most)
 * for its wake to land first. With loop_lock held. */
static void
loop_race_wake(int ms)
{
    struct timespec until;

    if (!race_wake || ms == 0 || !loop_thread_known ||
        !pthread_equal(pthread_self(), loop_thread))
        return;
    race_wake = false;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2;
    hold_connect = false;
    pthread_cond_broadcast(&loop_cond);
    while (foreign_wakes == 0 &&
           pthread_cond_timedwait(&loop_cond, &loop_lock, &until) == 0)
        ;
}

static void
loop_update_timer(int timer, int ms)
{
    pthread_mutex_lock(&loop_lock);
    loop_race_wake(ms);
    if (ms == 0 && loop_thread_known && !pthread_equal(pthread_self(), loop_thread)) {
        foreign_wakes++;
        pthread_cond_broadcast(&loop_cond);
    }
    if (timer >= 0 && timer < LOOP_MAX) {
        loop_timers[timer].ms = ms;
        loop_timers[timer].due = mono_ms() + (ms > 0 ? ms : 0);
    }
    pthread_mutex_unlock(&loop_lock);
}

static void
loop_remove_timer(int timer)
{
    pthread_mutex_lock(&loop_lock);
    if (timer >= 0 && timer < LOOP_MAX)
        loop_timers[timer].used = false;
    pthread_mutex_unlock(&loop_lock);
}

/* One round: wait at most 10 ms (other threads arm timers without waking
 * us), run the ready handles, the due timers, then a call handed to us. */
static int
loop_run_once(vts_error *err)
{
    struct pollfd pfd[LOOP_MAX];
    int ids[LOOP_MAX];
    int n = 0;

    (void)err;
    pthread_mutex_lock(&loop_lock);
    loop_thread = pthread_self();
    loop_thread_known = true;
    for (int i = 0; i < LOOP_MAX; i++) {
        if (loop_handles[i].used) {
            short ev = 0;

            if (loop_handles[i].events & VTS_HV_READABLE)
                ev |= POLLIN;
            if (loop_handles[i].events & VTS_HV_WRITABLE)
                ev |= POLLOUT;
            pfd[n] = (struct pollfd){.fd = loop_handles[i].fd, .events = ev};
            ids[n++] = i;
        }
    }
    pthread_mutex_unlock(&loop_lock);
    if (poll(pfd, (nfds_t)n, 10) > 0) {
        for (int k = 0; k < n; k++) {
            vts_hv_handle_fn fn = NULL;
            void *opaque = NULL;
            int events = 0;

            if (pfd[k].revents & POLLIN)
                events |= VTS_HV_READABLE;
            if (pfd[k].revents & POLLOUT)
                events |= VTS_HV_WRITABLE;
            if (pfd[k].revents & POLLERR)
                events |= VTS_HV_ERROR;
            if (pfd[k].revents & POLLHUP)
                events |= VTS_HV_HANGUP;
            if (!events)
                continue;
            pthread_mutex_lock(&loop_lock);
            if (loop_handles[ids[k]].used && loop_handles[ids[k]].fd == pfd[k].fd) {
                fn = loop_handles[ids[k]].hfn;
                opaque = loop_handles[ids[k]].opaque;
            }
            pthread_mutex_unlock(&loop_lock);
            if (fn)
                fn(ids[k], pfd[k].fd, events, opaque);
        }
    }
    for (int i = 0; i < LOOP_MAX; i++) {
        vts_hv_timer_fn fn = NULL;
        void *opaque = NULL;

        pthread_mutex_lock(&loop_lock);
        if (loop_timers[i].used && loop_timers[i].ms >= 0 &&
            mono_ms() >= loop_timers[i].due) {
            fn = loop_timers[i].tfn;
            opaque = loop_timers[i].opaque;
            loop_timers[i].due = mono_ms() + loop_timers[i].ms;
        }
        pthread_mutex_unlock(&loop_lock);
        if (fn)
            fn(i, opaque);
    }
    pthread_mutex_lock(&loop_lock);
    if (call.asked != call.done) {
        pthread_mutex_unlock(&loop_lock);
        call.fn(call.d, call.arg);
        pthread_mutex_lock(&loop_lock);
        call.done = call.asked;
        pthread_cond_broadcast(&loop_cond);
    }
    pthread_mutex_unlock(&loop_lock);
    return 0;
}

void
daemon_fx_loop_ops(vts_hv_ops *ops)
{
    ops->loop_init = loop_init;
    ops->loop_run_once = loop_run_once;
    ops->loop_add_handle = loop_add_handle;
    ops->loop_remove_handle = loop_remove_handle;
    ops->loop_add_timer = loop_add_timer;
    ops->loop_update_timer = loop_update_timer;
    ops->loop_remove_timer = loop_remove_timer;
}

static int
events_register(vts_hv_conn *conn, vts_hv_event_fn fn, vts_hv_close_fn close_fn,
                void *opaque, vts_error *err)
{
    (void)err;
    __atomic_add_fetch(&daemon_fx_registrations, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_lock(&loop_lock);
    reg.conn = conn;
    reg.fn = fn;
    reg.close_fn = close_fn;
    reg.opaque = opaque;
    pthread_mutex_unlock(&loop_lock);
    return 0;
}

void
daemon_fx_race_wake(bool on)
{
    pthread_mutex_lock(&loop_lock);
    race_wake = on;
    hold_connect = on;
    foreign_wakes = 0;
    pthread_cond_broadcast(&loop_cond);
    pthread_mutex_unlock(&loop_lock);
}

void
daemon_fx_fail_connects(int n)
{
    __atomic_store_n(&connects_to_fail, n, __ATOMIC_SEQ_CST);
}

int64_t
daemon_fx_connect_at(int i)
{
    if (i < 0 || i >= CONNECTS_KEPT ||
        i >= __atomic_load_n(&connect_attempts, __ATOMIC_SEQ_CST))
        return -1;
    return connect_at[i];
}

static int
counting_connect(const char *uri, vts_hv_conn **conn, vts_error *err)
{
    int n = __atomic_load_n(&connect_attempts, __ATOMIC_SEQ_CST);
    int rc;

    pthread_mutex_lock(&loop_lock);
    while (hold_connect)
        pthread_cond_wait(&loop_cond, &loop_lock);
    pthread_mutex_unlock(&loop_lock);
    if (n < CONNECTS_KEPT)
        connect_at[n] = vts_mono_ns();
    __atomic_add_fetch(&connect_attempts, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&connects_to_fail, __ATOMIC_SEQ_CST) > 0) {
        __atomic_sub_fetch(&connects_to_fail, 1, __ATOMIC_SEQ_CST);
        *conn = NULL;
        return vts_error_set(err, VTS_ERR_CONNECT,
                             "Failed to connect socket to '/run/libvirt/libvirt-sock': "
                             "No such file or directory");
    }
    rc = fake_hv_ops.connect(uri, conn, err);

    if (rc == 0)
        __atomic_add_fetch(&daemon_fx_connects, 1, __ATOMIC_SEQ_CST);
    return rc;
}

/* Registrations end with disconnect, as libvirt's do. */
static void
counting_disconnect(vts_hv_conn *conn)
{
    if (!conn)
        return;
    pthread_mutex_lock(&loop_lock);
    if (reg.conn == conn)
        memset(&reg, 0, sizeof(reg));
    pthread_mutex_unlock(&loop_lock);
    __atomic_add_fetch(&daemon_fx_disconnects, 1, __ATOMIC_SEQ_CST);
    fake_hv_ops.disconnect(conn);
}

static int
holding_list_running(vts_hv_conn *conn, char ***names, size_t *count, vts_error *err)
{
    pthread_mutex_lock(&loop_lock);
    while (hold_lists)
        pthread_cond_wait(&loop_cond, &loop_lock);
    pthread_mutex_unlock(&loop_lock);
    __atomic_add_fetch(&daemon_fx_lists, 1, __ATOMIC_SEQ_CST);
    return fake_hv_ops.list_running(conn, names, count, err);
}

void
daemon_fx_hold_lists(bool hold)
{
    pthread_mutex_lock(&loop_lock);
    hold_lists = hold;
    pthread_cond_broadcast(&loop_cond);
    pthread_mutex_unlock(&loop_lock);
}

/* The fake's agent, counting the calls begun and the guest-set-time calls
 * it executed. */
static int
counting_agent_command(vts_hv_dom *dom, const char *cmd, int timeout_s, char **reply,
                       vts_error *err)
{
    int rc;

    __atomic_add_fetch(&agent_calls, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&agent_call_ms, __ATOMIC_SEQ_CST) > 0)
        poll(NULL, 0, __atomic_load_n(&agent_call_ms, __ATOMIC_SEQ_CST));
    rc = fake_hv_ops.agent_command(dom, cmd, timeout_s, reply, err);
    if (rc == 0 && strstr(cmd, "guest-set-time"))
        __atomic_add_fetch(&set_time_calls, 1, __ATOMIC_SEQ_CST);
    return rc;
}

static void *
daemon_watch(void *opaque)
{
    daemon_run *r = opaque;
    int64_t until = mono_ms() + r->timeout_ms;

    if (r->script) {
        r->met = r->script(r);
    } else {
        while (!(r->met = r->done(r)) && mono_ms() < until)
            poll(NULL, 0, 10);
    }
    daemon_fx_hold_lists(false);
    daemon_fx_race_wake(false);
    kill(getpid(), SIGTERM);
    return NULL;
}

/* The daemon's log comes to a datagram socket in r->dir, as to syslog. */
static void
daemon_run_log_open(daemon_run *r)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    snprintf(r->log_sock, sizeof(r->log_sock), "%s/log.sock", r->dir);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", r->log_sock);
    r->log_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    assert_true(r->log_fd >= 0);
    assert_int_equal(bind(r->log_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    vts_log_set_syslog_path(r->log_sock);
    vts_log_open("vmtimesyncd", false, VTS_LOG_ERR);
}

bool
daemon_run_write_conf(daemon_run *r, const char *extra)
{
    char tmp[80];
    FILE *f = NULL;

    /* Whole or not at all, as an editor saves it. */
    snprintf(tmp, sizeof(tmp), "%s.tmp", r->conf_path);
    if (!(f = fopen(tmp, "w")))
        return daemon_run_fail(r, "cannot write %s", tmp);
    fprintf(f,
            "uri = fake:///\ncontrol_socket = %s\nmetrics_file = %s\nworkers = 1\n"
            "log_level = err\n%s",
            r->sock, r->metrics, extra ? extra : "");
    fclose(f);
    if (rename(tmp, r->conf_path) < 0)
        return daemon_run_fail(r, "cannot rename %s", tmp);
    return true;
}

static void
daemon_run_begin(daemon_run *r, const void *arg, int timeout_ms, const char *extra)
{
    vts_error err;

    memset(r, 0, sizeof(*r));
    r->ops = fake_hv_ops;
    r->ops.connect = counting_connect;
    r->ops.disconnect = counting_disconnect;
    r->ops.list_running = holding_list_running;
    daemon_fx_loop_ops(&r->ops);
    r->ops.events_register = events_register;
    r->ops.agent_command = counting_agent_command;
    r->arg = arg;
    r->timeout_ms = timeout_ms;
    r->log_fd = -1;
    __atomic_store_n(&set_time_calls, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&agent_calls, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&daemon_fx_connects, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&daemon_fx_disconnects, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&daemon_fx_lists, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&daemon_fx_registrations, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&connect_attempts, 0, __ATOMIC_SEQ_CST);
    pthread_mutex_lock(&loop_lock);
    memset(&reg, 0, sizeof(reg));
    call.asked = call.done = 0;
    pthread_mutex_unlock(&loop_lock);
    snprintf(r->dir, sizeof(r->dir), "/tmp/vts-daemon.XXXXXX");
    assert_non_null(mkdtemp(r->dir));
    snprintf(r->conf_path, sizeof(r->conf_path), "%s/vmtimesync.conf", r->dir);
    snprintf(r->sock, sizeof(r->sock), "%s/control.sock", r->dir);
    snprintf(r->metrics, sizeof(r->metrics), "%s/metrics.prom", r->dir);
    daemon_run_log_open(r);
    assert_true(daemon_run_write_conf(r, extra));
    r->d = vts_daemon_new(&r->ops, r->conf_path, NULL, &err);
    assert_non_null(r->d);
}

void
daemon_run_start(daemon_run *r, bool (*done)(const daemon_run *r), const void *arg,
                 int timeout_ms, const char *extra)
{
    daemon_run_begin(r, arg, timeout_ms, extra);
    r->done = done;
    assert_int_equal(pthread_create(&r->watcher, NULL, daemon_watch, r), 0);
}

void
daemon_run_start_script(daemon_run *r, bool (*script)(daemon_run *r), const void *arg,
                        const char *extra)
{
    daemon_run_begin(r, arg, 0, extra);
    r->script = script;
    assert_int_equal(pthread_create(&r->watcher, NULL, daemon_watch, r), 0);
}

int
daemon_fx_count_entries(const char *path)
{
    DIR *dir = opendir(path);
    struct dirent *e;
    int n = 0;

    if (!dir)
        return -1;
    while ((e = readdir(dir)))
        if (e->d_name[0] != '.')
            n++;
    closedir(dir);
    return n;
}

void
daemon_run_finish(daemon_run *r, bool (*at_return)(const daemon_run *r))
{
    vts_error err;
    char buf[4096];
    FILE *f = NULL;
    size_t n;
    bool now = true;
    int64_t until;

    assert_int_equal(vts_daemon_run(r->d, &err), 0);
    if (at_return)
        now = at_return(r);
    assert_int_equal(pthread_join(r->watcher, NULL), 0);
    r->met = r->met && now;
    vts_daemon_free(r->d);
    r->d = NULL;
    daemon_fx_fail_connects(0);
    pthread_mutex_lock(&loop_lock);
    loop_thread_known = false;
    pthread_mutex_unlock(&loop_lock);
    /* Connects the daemon abandoned end by themselves: wait, so that no
     * thread outlives the test (valgrind would call it a leak). */
    until = mono_ms() + 5000;
    while (daemon_fx_count_entries("/proc/self/task") > 1 && mono_ms() < until)
        poll(NULL, 0, 1);
    if (!r->met && (f = fopen(r->metrics, "r")) != NULL) {
        n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        print_message("%s:\n%s", r->metrics, buf);
    }
    if (!r->met && r->why[0])
        print_message("\n%s\n", r->why);
    if (!r->met && !daemon_run_log_has(r, "\n\n"))
        print_message("log:\n%s\n", r->log);
    vts_log_set_syslog_path(NULL);
    vts_log_close();
    vts_log_open("vmtimesyncd", true, VTS_LOG_ERR);
    close(r->log_fd);
    unlink(r->log_sock);
    unlink(r->metrics);
    unlink(r->conf_path);
    unlink(r->sock);
    assert_int_equal(rmdir(r->dir), 0);
    assert_int_equal(daemon_fx_count_entries("/proc/self/task"), 1);
}

void
daemon_run_script(bool (*script)(daemon_run *r), const void *arg, const char *extra)
{
    daemon_run r;

    daemon_run_start_script(&r, script, arg, extra);
    daemon_run_finish(&r, NULL);
    assert_true(r.met);
}

bool
daemon_run_wait(daemon_run *r, bool (*pred)(const daemon_run *r), int timeout_ms)
{
    int64_t until = mono_ms() + timeout_ms;

    while (!pred(r)) {
        if (mono_ms() >= until)
            return false;
        poll(NULL, 0, 10);
    }
    return true;
}

bool
daemon_run_fail(daemon_run *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->why, sizeof(r->why), fmt, ap);
    va_end(ap);
    return false;
}

bool
daemon_run_on_loop(daemon_run *r, void (*fn)(vts_daemon *d, void *arg), void *arg)
{
    struct timespec until;
    unsigned mine;
    bool ok = true;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&loop_lock);
    call.fn = fn;
    call.d = r->d;
    call.arg = arg;
    mine = ++call.asked;
    while (call.done != mine && ok)
        ok = pthread_cond_timedwait(&loop_cond, &loop_lock, &until) == 0;
    if (call.done != mine) {
        call.asked = call.done; /* withdrawn */
        ok = false;
    }
    pthread_mutex_unlock(&loop_lock);
    return ok;
}

/* An event, or the connection's close (@ev NULL), for whoever registered. */
typedef struct {
    const vts_hv_event *ev;
    bool delivered;
} daemon_fx_delivery;

static void
deliver(vts_daemon *d, void *arg)
{
    daemon_fx_delivery *x = arg;
    vts_hv_event_fn fn;
    vts_hv_close_fn close_fn;
    void *opaque;

    (void)d;
    pthread_mutex_lock(&loop_lock);
    fn = reg.fn;
    close_fn = reg.close_fn;
    opaque = reg.opaque;
    pthread_mutex_unlock(&loop_lock);
    if (x->ev && fn)
        fn(x->ev, opaque);
    else if (!x->ev && close_fn)
        close_fn(opaque);
    x->delivered = x->ev ? fn != NULL : close_fn != NULL;
}

bool
daemon_run_event(daemon_run *r, const char *domain, vts_ev_kind kind,
                 vts_ev_detail detail)
{
    vts_hv_event ev = {
        .kind = kind, .detail = detail, .domain = domain, .downtime_ms = -1};
    daemon_fx_delivery x = {&ev, false};

    return daemon_run_on_loop(r, deliver, &x) && x.delivered;
}

bool
daemon_run_close(daemon_run *r)
{
    daemon_fx_delivery x = {NULL, false};

    return daemon_run_on_loop(r, deliver, &x) && x.delivered;
}

bool
daemon_run_log_has(daemon_run *r, const char *text)
{
    ssize_t n;

    while (r->log_len < sizeof(r->log) - 2 &&
           (n = recv(r->log_fd, r->log + r->log_len, sizeof(r->log) - 2 - r->log_len,
                     MSG_DONTWAIT)) > 0) {
        r->log_len += (size_t)n;
        r->log[r->log_len++] = '\n';
    }
    r->log[r->log_len] = '\0';
    return strstr(r->log, text) != NULL;
}

/* The start of the file @path in @buf (NUL-terminated); false when it
 * cannot be read. */
static bool
read_text(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f)
        return false;
    n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
    return true;
}

/* Where @buf has @text at the start of a line followed by @next, or NULL. */
static const char *
find_line(const char *buf, const char *text, char next)
{
    size_t len = strlen(text);

    for (const char *p = buf; (p = strstr(p, text)) != NULL; p++) {
        if ((p == buf || p[-1] == '\n') && p[len] == next)
            return p + len;
    }
    return NULL;
}

bool
file_has_line(const char *path, const char *line)
{
    char buf[16384];

    return read_text(path, buf, sizeof(buf)) && find_line(buf, line, '\n');
}

bool
metrics_has_lines(const daemon_run *r)
{
    for (const char *const *line = r->arg; *line; line++) {
        if (!file_has_line(r->metrics, *line))
            return false;
    }
    return true;
}

double
metrics_gauge(const daemon_run *r, const char *series)
{
    char buf[16384];
    const char *p;

    if (!read_text(r->metrics, buf, sizeof(buf)) || !(p = find_line(buf, series, ' ')))
        return NAN;
    return strtod(p + 1, NULL);
}

long long
metrics_value(const daemon_run *r, const char *series)
{
    double v = metrics_gauge(r, series);

    return isnan(v) ? -1 : (long long)v;
}

char *
daemon_run_status(daemon_run *r)
{
    char *reply = NULL;
    vts_error err;

    if (vts_ctl_call(r->sock, "{\"cmd\":\"status\"}", 5000, &reply, &err) < 0)
        return NULL;
    return reply;
}

typedef struct {
    const char *name;
    int phase;
} phase_query;

static void
read_phase(vts_daemon *d, void *arg)
{
    phase_query *q = arg;
    const vts_sched_entry *e;

    pthread_mutex_lock(&d->lock);
    e = vts_sched_get(d->sched, q->name);
    q->phase = e ? (int)e->phase : -1;
    pthread_mutex_unlock(&d->lock);
}

int
daemon_run_phase(daemon_run *r, const char *name)
{
    phase_query q = {name, -2};

    if (!daemon_run_on_loop(r, read_phase, &q))
        return -2;
    return q.phase;
}

bool
daemon_run_idle(daemon_run *r, const char *name)
{
    int64_t until = mono_ms() + 5000;
    int phase;

    while ((phase = daemon_run_phase(r, name)) != VTS_PHASE_IDLE) {
        if (mono_ms() >= until)
            return daemon_run_fail(r, "%s is not idle but in phase %d", name, phase);
        poll(NULL, 0, 10);
    }
    return true;
}

/* Wait until @series is @value, or at least @value when @at_least. */
static bool
wait_metric(daemon_run *r, const char *series, long long value, bool at_least,
            int timeout_ms)
{
    int64_t until = mono_ms() + timeout_ms;
    long long now;

    while ((now = metrics_value(r, series)) != value && !(at_least && now > value)) {
        if (mono_ms() >= until)
            return daemon_run_fail(r, "%s is %lld, want %s%lld", series, now,
                                   at_least ? "at least " : "", value);
        poll(NULL, 0, 10);
    }
    return true;
}

bool
daemon_run_wait_metric(daemon_run *r, const char *series, long long value, int timeout_ms)
{
    return wait_metric(r, series, value, false, timeout_ms);
}

bool
daemon_run_wait_metric_at_least(daemon_run *r, const char *series, long long least,
                                int timeout_ms)
{
    return wait_metric(r, series, least, true, timeout_ms);
}
