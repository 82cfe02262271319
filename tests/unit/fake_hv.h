/* fake_hv.h: a scripted hypervisor for the unit tests.
 *
 * fake_hv_ops stands in for vts_hv_libvirt_ops. It simulates one domain with
 * a guest agent and a guest clock on a host clock that moves only when the
 * code under test reads it or talks to the agent, so every round trip is
 * exact and no test depends on real time:
 *
 *  - now_ns() returns the host clock, then advances it by the tick
 *    (fake_hv_set_tick, 0 by default). A jump scripted for a read
 *    (fake_hv_jump_at_read) is applied just before that read.
 *  - An agent command leaves at the host's current time T. The guest
 *    executes it at T + out (the outbound delay) and the reply arrives at
 *    T + out + back: the call moves the host clock by out + back.
 *  - The guest clock is the host clock plus the guest offset:
 *    guest-get-time returns (host time at execution) + offset, and
 *    guest-set-time to t sets the offset to t - (host time at execution).
 *  - guest-info lists guest-exec and guest-exec-status, enabled unless
 *    fake_hv_set_exec_allowed(false). guest-exec runs the guest's "date"
 *    (only at the path fake_hv_set_exec_date gives, /bin/date by default;
 *    other paths fail as qemu-ga does): with "-u -s 'now +S.N seconds'"
 *    (or -S.N) it reads the guest clock on execution and sets it to that
 *    reading plus S.N when it exits, at (execution + latency), with the
 *    scripted exit code (so the clock moves by S.N - latency);
 *    guest-exec-status reports it running until that host time.
 *    sleep_ns() moves the host clock.
 *  - A call to a domain that is not running fails as libvirt does
 *    (VTS_ERR_NOT_RUNNING, "domain is not running"), taking no time.
 *
 * The event loop and domain events are not simulated: those operations
 * fail ("fake_hv: no event loop") or do nothing.
 *
 * Scripts for a given agent call (numbered from 0 in the order the code
 * under test makes them) win over scripts for a command name, which win over
 * the defaults. Every agent call is logged. One fake domain at a time: call
 * fake_hv_reset() in each test's setup and fake_hv_cleanup() in its
 * teardown.
 */
#ifndef FAKE_HV_H
#define FAKE_HV_H

#include <stdbool.h>
#include <stdint.h>

#include "vts_error.h"
#include "vts_hv.h"

/* The name of the fake domain after fake_hv_reset(). */
#define FAKE_HV_DOMAIN "web-1"
/* The host clock after fake_hv_reset(): 2023-11-14T22:13:20Z. */
#define FAKE_HV_START_NS (1700000000LL * 1000000000LL)
/* Agent calls and clock reads that can be scripted and logged. */
#define FAKE_HV_MAX_CALLS 256
#define FAKE_HV_MAX_READS 1024

/* One agent call as the fake saw it. */
typedef struct {
    char cmd[256];       /* the command text (truncated to fit) */
    char execute[64];    /* its "execute" member, "" when absent */
    bool has_time;       /* "arguments":{"time":...} was present */
    int64_t time_ns;     /* its value */
    int timeout_s;       /* the timeout passed by the caller */
    int64_t sent_ns;     /* host time when the command left */
    int64_t executed_ns; /* host time when the guest executed it, -1 if refused */
    char exec_path[64];  /* guest-exec: "path" */
    char exec_args[128]; /* guest-exec: "arg", joined by blanks */
} fake_hv_call;

/* The operations table to hand to the code under test. */
extern const vts_hv_ops fake_hv_ops;

/* Forget every script and log entry and start again: domain FAKE_HV_DOMAIN,
 * running, with a libvirt-like live XML that has a connected agent channel;
 * host clock at FAKE_HV_START_NS, tick 0, no delays, guest offset 0. */
void fake_hv_reset(void);

/* Free what the fake holds (raw replies, the XML). Safe to call twice. */
void fake_hv_cleanup(void);

/* --- host clock ---------------------------------------------------- */

/* Set the host clock to @ns. */
void fake_hv_set_now(int64_t ns);

/* The host clock, without counting as a read. */
int64_t fake_hv_now(void);

/* Advance the host clock by @ns after each now_ns() read. */
void fake_hv_set_tick(int64_t ns);

/* Step the host clock by @delta_ns (negative: backwards) just before the
 * @read-th now_ns() read (0-based). The guest's clock does not follow: the
 * guest offset, relative to the host's clock, changes by -@delta_ns. */
void fake_hv_jump_at_read(int read, int64_t delta_ns);

/* How many times now_ns() was called. */
int fake_hv_reads(void);

/* --- guest clock and agent ----------------------------------------- */

/* Set the guest clock to the host clock + @ns. */
void fake_hv_set_guest_offset(int64_t ns);

/* The guest clock - the host clock, as it is now (the truth the code under
 * test tries to measure). */
int64_t fake_hv_guest_offset(void);

/* One-way delays of every agent call: out to the guest, back to the host. */
void fake_hv_set_delay(int64_t out_ns, int64_t back_ns);

/* One-way delays of every call of the command @execute (e.g.
 * "guest-set-time"), overriding fake_hv_set_delay. */
void fake_hv_set_command_delay(const char *execute, int64_t out_ns, int64_t back_ns);

/* One-way delays of agent call number @call only. */
void fake_hv_set_call_delay(int call, int64_t out_ns, int64_t back_ns);

/* When @ignore, guest-set-time answers success but leaves the clock alone
 * (as if NTP in the guest stepped it straight back). */
void fake_hv_ignore_set_time(bool ignore);

/* Does guest-info list guest-exec and guest-exec-status as enabled
 * (default true)? */
void fake_hv_set_exec_allowed(bool allowed);

/* The guest's date for guest-exec: found only at @path; takes @latency_ns
 * from execution to exiting; exits with @exitcode (not 0: the clock is left
 * alone) writing @stderr_text (may be NULL). When @whole_seconds, it is
 * busybox's date: it cannot parse a relative time, and exits 1 saying so. */
void fake_hv_set_exec_date(const char *path, int64_t latency_ns, int exitcode,
                           const char *stderr_text, bool whole_seconds);

/* --- scripted failures ---------------------------------------------- */

/* Make agent call number @call fail with @code and @message, as the real
 * backend would report it. The guest does not execute it. */
void fake_hv_fail_call(int call, vts_err_code code, const char *message);

/* guest-set-time call number @call is executed, but its answer comes after
 * the caller's timeout (util-linux's hwclock -w taking its time, or hung):
 * the call fails with VTS_ERR_AGENT_TIMEOUT after timeout_s. */
void fake_hv_answer_late(int call);

/* Make every call of command @execute fail the same way; NULL @execute
 * means every command. */
void fake_hv_fail_command(const char *execute, vts_err_code code, const char *message);

/* Make agent call number @call "succeed" with the reply text @raw (copied),
 * e.g. malformed JSON. The guest does not execute it. */
void fake_hv_reply_call(int call, const char *raw);

/* The same for every call of command @execute; NULL means every command. */
void fake_hv_reply_command(const char *execute, const char *raw);

/* Change the domain's state to @state when agent call number @call starts
 * (e.g. VTS_DOM_PAUSED: paused between the state check and the agent). */
void fake_hv_set_state_at_call(int call, vts_dom_state state);

/* --- the domain ----------------------------------------------------- */

/* Rename the fake domain; other names are not found. */
void fake_hv_set_domain(const char *name);

/* Set the domain's state. */
void fake_hv_set_state(vts_dom_state state);

/* Make dom_state() fail with @code and @message. */
void fake_hv_fail_state(vts_err_code code, const char *message);

/* Make lookup() fail with @code and @message even for the fake domain. */
void fake_hv_fail_lookup(vts_err_code code, const char *message);

/* Replace the live XML that dom_xml() returns (copied); NULL restores the
 * default. */
void fake_hv_set_xml(const char *xml);

/* --- the log -------------------------------------------------------- */

/* How many agent calls were made. */
int fake_hv_ncalls(void);

/* Agent call number @i, or NULL when there is no such call. */
const fake_hv_call *fake_hv_call_at(int i);

/* How many agent calls ran the command @execute. */
int fake_hv_count(const char *execute);

/* How many lookups succeeded, and how many of those are not freed yet. */
int fake_hv_lookups(void);
int fake_hv_open_doms(void);

/* The host's own clock as adjtimex would report it (default after
 * fake_hv_reset: synchronized, maximum error 1 ms). */
void fake_hv_set_host_clock(bool synced, int64_t maxerror_ns);

/* How many rtc-reset-reinjection calls were made; make them fail. */
int fake_hv_rtc_resets(void);
void fake_hv_fail_rtc_reset(bool fail);

#endif /* FAKE_HV_H */
