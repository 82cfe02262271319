/* daemon_fixture.h: what the unit tests of vmtimesyncd (lib/vts_daemon*.c)
 * share: the daemon over the fake hypervisor (fake_hv.h) and a small
 * poll() event loop, in a temporary directory, with domain events and
 * connection losses injected on the loop thread, counters of what the
 * daemon asked of the hypervisor, and its log captured.
 *
 * Threads: the test's thread runs vts_daemon_run() (daemon_run_finish); a
 * watcher thread runs the test's @done predicate or @script, then sends
 * SIGTERM. cmocka's assertions belong to the test's thread only: a script
 * says why it failed with daemon_run_fail(), and the test asserts r.met.
 */
#ifndef DAEMON_FIXTURE_H
#define DAEMON_FIXTURE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fake_hv.h"
#include "vts_daemon.h"

/* Counters, atomic (__atomic_*): the worker writes, the watcher reads.
 * Reset by daemon_run_start(), except agent_call_ms, the real time each
 * agent call takes, which the test sets before its run. */
extern int set_time_calls; /* guest-set-time calls executed */
extern int agent_calls;    /* agent calls begun */
extern int agent_call_ms;
extern int daemon_fx_connects;      /* connections opened (loop's and workers') */
extern int daemon_fx_disconnects;   /* connections closed */
extern int daemon_fx_lists;         /* list_running calls (one per sweep) */
extern int daemon_fx_registrations; /* events_register: the loop's connects */

typedef struct daemon_run daemon_run;
struct daemon_run {
    char dir[32];
    char conf_path[64];
    char sock[64];
    char metrics[64];
    char log_sock[64];
    vts_hv_ops ops;
    vts_daemon *d;
    bool (*done)(const daemon_run *r);
    bool (*script)(daemon_run *r);
    const void *arg; /* for @done and @script */
    int timeout_ms;
    bool met;       /* @done said so in time, or @script succeeded */
    char why[1024]; /* what the script saw go wrong */
    int log_fd;     /* the daemon's log, as syslog datagrams */
    char log[32768];
    size_t log_len;
    pthread_t watcher;
};

/* Write the configuration (@extra: more lines, may be NULL), make the
 * daemon and start the watcher, which stops the daemon when @done says so
 * or after @timeout_ms; daemon_run_finish() runs it. */
void daemon_run_start(daemon_run *r, bool (*done)(const daemon_run *r), const void *arg,
                      int timeout_ms, const char *extra);

/* The same with a @script, run on the watcher thread while the daemon
 * runs; its result is r->met. Then SIGTERM. */
void daemon_run_start_script(daemon_run *r, bool (*script)(daemon_run *r),
                             const void *arg, const char *extra);

/* Run the daemon until the watcher stops it; wait for every other thread
 * to end, restore the log and clean the directory. When the watcher gave
 * up, show the metrics file and the script's reason. @at_return, when not
 * NULL, is asked as soon as vts_daemon_run returned, before a worker it
 * left behind could go on: it decides r->met, with what the watcher saw. */
void daemon_run_finish(daemon_run *r, bool (*at_return)(const daemon_run *r));

/* Start, run and finish a daemon with @script (as above), and assert
 * that the script succeeded. */
void daemon_run_script(bool (*script)(daemon_run *r), const void *arg, const char *extra);

/* Script helpers (watcher thread). */

/* Write the configuration again (the control socket, metrics file and a
 * one worker as at the start, then @extra), for a reload. */
bool daemon_run_write_conf(daemon_run *r, const char *extra);

/* Poll @pred every 10 ms until it holds or @timeout_ms passed. */
bool daemon_run_wait(daemon_run *r, bool (*pred)(const daemon_run *r), int timeout_ms);

/* Record why the script failed (printf-like); returns false. */
bool daemon_run_fail(daemon_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Run @fn(@r->d, @arg) on the loop thread, between two rounds, and wait
 * for it (5 s at most: false when the loop did not run it). */
bool daemon_run_on_loop(daemon_run *r, void (*fn)(vts_daemon *d, void *arg), void *arg);

/* Deliver a domain event to whoever registered for the loop's connection,
 * on the loop thread; false when nobody is registered (not connected). */
bool daemon_run_event(daemon_run *r, const char *domain, vts_ev_kind kind,
                      vts_ev_detail detail);

/* libvirt closes the loop's connection: its close callback, on the loop
 * thread; false when nobody is registered. */
bool daemon_run_close(daemon_run *r);

/* Whether the daemon logged a line holding @text (at the configuration's
 * log_level, "err" by default). */
bool daemon_run_log_has(daemon_run *r, const char *text);

/* Put the fixture's poll() event loop in @ops (loop_*); for tests of what
 * runs on a loop without a daemon (vts_ctl_server). */
void daemon_fx_loop_ops(vts_hv_ops *ops);

/* The next @n connects fail, as when libvirtd is down (until the end of
 * the run: set before daemon_run_start). */
void daemon_fx_fail_connects(int n);

/* Set before daemon_run_start: the first connect waits until the loop
 * thread re-arms its timer for later, and that re-arming waits until the
 * connect's wake (from its own thread) landed: the race of a wake with the
 * end of the timer's pass, made certain. */
void daemon_fx_race_wake(bool on);

/* When connect attempt number @i (from 0, failed ones too) began, in
 * monotonic ns; -1 when there was none (only the first 16 are kept). */
int64_t daemon_fx_connect_at(int i);

/* The daemon's answer to `vmtimesync --status` through its control
 * socket, for free(); NULL when it gave none. */
char *daemon_run_status(daemon_run *r);

/* @name's phase in the daemon's scheduler (vts_phase), read on the loop
 * thread; -1 when the daemon does not know it, -2 when the loop did not
 * answer. */
int daemon_run_phase(daemon_run *r, const char *name);

/* Wait (5 s at most) until @name is idle in the daemon's scheduler:
 * nothing queued, running or planned for it. */
bool daemon_run_idle(daemon_run *r, const char *name);

/* Wait (@timeout_ms at most) until the metrics file's @series is @value. */
bool daemon_run_wait_metric(daemon_run *r, const char *series, long long value,
                            int timeout_ms);

/* Wait (@timeout_ms at most) until the metrics file's @series counts at
 * least @least. */
bool daemon_run_wait_metric_at_least(daemon_run *r, const char *series, long long least,
                                     int timeout_ms);

/* Block (true) or let go (false) the fake's list_running, as a libvirtd
 * slow to answer: holds the sweep's worker. */
void daemon_fx_hold_lists(bool hold);

/* How many entries the directory @path has ("." and ".." aside): threads
 * in /proc/self/task, descriptors in /proc/self/fd. -1 when unreadable. */
int daemon_fx_count_entries(const char *path);

/* Whether the file @path has the whole line @line now. */
bool file_has_line(const char *path, const char *line);

/* Whether the metrics file has every line of @r->arg (NULL-terminated). */
bool metrics_has_lines(const daemon_run *r);

/* The value of the metrics file's sample @series (its whole name and
 * labels), or -1 when absent. */
long long metrics_value(const daemon_run *r, const char *series);

/* The value of the metrics file's sample @series as a number with a
 * fraction (a gauge in seconds), or NAN when absent. */
double metrics_gauge(const daemon_run *r, const char *series);

#endif /* DAEMON_FIXTURE_H */
