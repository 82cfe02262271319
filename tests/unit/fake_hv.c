/* fake_hv.c: a scripted hypervisor for the unit tests (see fake_hv.h). */
#include "fake_hv.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Scripts that name a command rather than a call number. */
#define FAKE_HV_MAX_COMMAND_SCRIPTS 8

struct vts_hv_conn {
    int unused;
};

struct vts_hv_dom {
    int unused;
};

/* What an agent call does instead of executing. */
typedef struct {
    bool set;
    vts_err_code code; /* VTS_OK: answer @raw */
    char message[VTS_ERROR_MSG_MAX];
    char *raw;
} fake_hv_outcome;

typedef struct {
    bool set;
    int64_t out_ns;
    int64_t back_ns;
} fake_hv_delay;

typedef struct {
    bool any; /* every command */
    char execute[64];
    fake_hv_outcome outcome;
    fake_hv_delay delay;
} fake_hv_command_script;

static const char fake_hv_default_xml[] =
    "<domain type='kvm' id='1'>\n"
    "  <name>" FAKE_HV_DOMAIN "</name>\n"
    "  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>\n"
    "  <devices>\n"
    "    <channel type='unix'>\n"
    "      <source mode='bind' path='/run/libvirt/qemu/channel/1-web-1/"
    "org.qemu.guest_agent.0'/>\n"
    "      <target type='virtio' name='org.qemu.guest_agent.0' state='connected'/>\n"
    "      <alias name='channel0'/>\n"
    "      <address type='virtio-serial' controller='0' bus='0' port='1'/>\n"
    "    </channel>\n"
    "  </devices>\n"
    "</domain>\n";

static struct {
    char domain[256];
    vts_dom_state state;
    fake_hv_outcome lookup_failure;
    fake_hv_outcome state_failure;
    char *xml; /* NULL: fake_hv_default_xml */

    int64_t now;
    int64_t tick;
    int reads;
    bool jump_set[FAKE_HV_MAX_READS];
    int64_t jump[FAKE_HV_MAX_READS];

    int64_t guest_offset;
    bool ignore_set_time;
    bool late[FAKE_HV_MAX_CALLS]; /* executed, answered past the timeout */
    int exec_exitcode;            /* of the last date run */
    char exec_stderr[160];
    bool host_unsynced;       /* adjtimex would report STA_UNSYNC */
    int64_t host_maxerror_ns; /* adjtimex's maximum error */
    int rtc_resets;           /* rtc-reset-reinjection calls */
    bool rtc_reset_fails;
    fake_hv_delay delay;
    fake_hv_command_script commands[FAKE_HV_MAX_COMMAND_SCRIPTS];
    size_t ncommands;
    fake_hv_outcome call_outcome[FAKE_HV_MAX_CALLS];
    fake_hv_delay call_delay[FAKE_HV_MAX_CALLS];
    bool state_change_set[FAKE_HV_MAX_CALLS];
    vts_dom_state state_change[FAKE_HV_MAX_CALLS];

    bool exec_blocked;       /* guest-info: guest-exec disabled */
    char date_path[64];      /* where the guest's date is */
    int64_t date_latency_ns; /* execution to clock set and exit */
    int date_exitcode;
    char date_stderr[128];
    bool date_whole_seconds; /* busybox: drops the fraction */
    int64_t proc_pid;        /* the last process started, 0: none */
    int64_t proc_exit_ns;    /* host time it exits */

    fake_hv_call calls[FAKE_HV_MAX_CALLS];
    int ncalls;
    int lookups;
    int open_doms;
} fake;

static void
fake_hv_outcome_clear(fake_hv_outcome *o)
{
    free(o->raw);
    memset(o, 0, sizeof(*o));
}

static void
fake_hv_outcome_fail(fake_hv_outcome *o, vts_err_code code, const char *message)
{
    fake_hv_outcome_clear(o);
    o->set = true;
    o->code = code;
    snprintf(o->message, sizeof(o->message), "%s", message ? message : "");
}

static void
fake_hv_outcome_reply(fake_hv_outcome *o, const char *raw)
{
    fake_hv_outcome_clear(o);
    o->set = true;
    o->code = VTS_OK;
    o->raw = strdup(raw);
    if (!o->raw)
        abort();
}

/* The script for command @execute (NULL: every command), created if new. */
static fake_hv_command_script *
fake_hv_command(const char *execute)
{
    fake_hv_command_script *s;
    size_t i;

    for (i = 0; i < fake.ncommands; i++) {
        s = &fake.commands[i];
        if (execute ? !s->any && strcmp(s->execute, execute) == 0 : s->any)
            return s;
    }
    if (fake.ncommands == FAKE_HV_MAX_COMMAND_SCRIPTS)
        abort(); /* a test scripts more commands than the fake holds */
    s = &fake.commands[fake.ncommands++];
    s->any = execute == NULL;
    snprintf(s->execute, sizeof(s->execute), "%s", execute ? execute : "");
    return s;
}

/* The script of the first command entry that matches @execute and has the
 * part @want_outcome (else the delay) set, or NULL. Named commands win over
 * "every command". */
static const fake_hv_command_script *
fake_hv_command_match(const char *execute, bool want_outcome)
{
    const fake_hv_command_script *any = NULL;
    size_t i;

    for (i = 0; i < fake.ncommands; i++) {
        const fake_hv_command_script *s = &fake.commands[i];
        bool has = want_outcome ? s->outcome.set : s->delay.set;

        if (!has)
            continue;
        if (s->any)
            any = s;
        else if (strcmp(s->execute, execute) == 0)
            return s;
    }
    return any;
}

void
fake_hv_cleanup(void)
{
    size_t i;

    for (i = 0; i < FAKE_HV_MAX_CALLS; i++)
        fake_hv_outcome_clear(&fake.call_outcome[i]);
    for (i = 0; i < FAKE_HV_MAX_COMMAND_SCRIPTS; i++)
        fake_hv_outcome_clear(&fake.commands[i].outcome);
    fake_hv_outcome_clear(&fake.lookup_failure);
    fake_hv_outcome_clear(&fake.state_failure);
    free(fake.xml);
    fake.xml = NULL;
}

void
fake_hv_reset(void)
{
    fake_hv_cleanup();
    memset(&fake, 0, sizeof(fake));
    snprintf(fake.domain, sizeof(fake.domain), "%s", FAKE_HV_DOMAIN);
    fake.state = VTS_DOM_RUNNING;
    fake.now = FAKE_HV_START_NS;
    fake.host_maxerror_ns = 1000000; /* a synchronized host: 1 ms */
    snprintf(fake.date_path, sizeof(fake.date_path), "/bin/date");
}

void
fake_hv_set_exec_allowed(bool allowed)
{
    fake.exec_blocked = !allowed;
}

void
fake_hv_set_exec_date(const char *path, int64_t latency_ns, int exitcode,
                      const char *stderr_text, bool whole_seconds)
{
    snprintf(fake.date_path, sizeof(fake.date_path), "%s", path);
    fake.date_latency_ns = latency_ns;
    fake.date_exitcode = exitcode;
    snprintf(fake.date_stderr, sizeof(fake.date_stderr), "%s",
             stderr_text ? stderr_text : "");
    fake.date_whole_seconds = whole_seconds;
}

void
fake_hv_set_host_clock(bool synced, int64_t maxerror_ns)
{
    fake.host_unsynced = !synced;
    fake.host_maxerror_ns = maxerror_ns;
}

int
fake_hv_rtc_resets(void)
{
    return fake.rtc_resets;
}

void
fake_hv_fail_rtc_reset(bool fail)
{
    fake.rtc_reset_fails = fail;
}

static int
fake_hv_op_host_clock(bool *synced, int64_t *maxerror_ns, vts_error *err)
{
    (void)err;
    *synced = !fake.host_unsynced;
    *maxerror_ns = fake.host_maxerror_ns;
    return 0;
}

static int
fake_hv_op_rtc_reset_reinjection(vts_hv_dom *dom, vts_error *err)
{
    (void)dom;
    fake.rtc_resets++;
    if (fake.rtc_reset_fails)
        return vts_error_set(err, VTS_ERR_INTERNAL,
                             "fake_hv: rtc-reset-reinjection failed");
    return 0;
}

void
fake_hv_set_now(int64_t ns)
{
    fake.now = ns;
}

int64_t
fake_hv_now(void)
{
    return fake.now;
}

void
fake_hv_set_tick(int64_t ns)
{
    fake.tick = ns;
}

void
fake_hv_jump_at_read(int read, int64_t delta_ns)
{
    if (read < 0 || read >= FAKE_HV_MAX_READS)
        abort();
    fake.jump_set[read] = true;
    fake.jump[read] = delta_ns;
}

int
fake_hv_reads(void)
{
    return fake.reads;
}

void
fake_hv_set_guest_offset(int64_t ns)
{
    fake.guest_offset = ns;
}

int64_t
fake_hv_guest_offset(void)
{
    return fake.guest_offset;
}

void
fake_hv_set_delay(int64_t out_ns, int64_t back_ns)
{
    fake.delay.set = true;
    fake.delay.out_ns = out_ns;
    fake.delay.back_ns = back_ns;
}

void
fake_hv_set_command_delay(const char *execute, int64_t out_ns, int64_t back_ns)
{
    fake_hv_command_script *s = fake_hv_command(execute);

    s->delay.set = true;
    s->delay.out_ns = out_ns;
    s->delay.back_ns = back_ns;
}

void
fake_hv_set_call_delay(int call, int64_t out_ns, int64_t back_ns)
{
    if (call < 0 || call >= FAKE_HV_MAX_CALLS)
        abort();
    fake.call_delay[call].set = true;
    fake.call_delay[call].out_ns = out_ns;
    fake.call_delay[call].back_ns = back_ns;
}

void
fake_hv_ignore_set_time(bool ignore)
{
    fake.ignore_set_time = ignore;
}

void
fake_hv_answer_late(int call)
{
    if (call < 0 || call >= FAKE_HV_MAX_CALLS)
        abort();
    fake.late[call] = true;
}

void
fake_hv_fail_call(int call, vts_err_code code, const char *message)
{
    if (call < 0 || call >= FAKE_HV_MAX_CALLS)
        abort();
    fake_hv_outcome_fail(&fake.call_outcome[call], code, message);
}

void
fake_hv_fail_command(const char *execute, vts_err_code code, const char *message)
{
    fake_hv_outcome_fail(&fake_hv_command(execute)->outcome, code, message);
}

void
fake_hv_reply_call(int call, const char *raw)
{
    if (call < 0 || call >= FAKE_HV_MAX_CALLS)
        abort();
    fake_hv_outcome_reply(&fake.call_outcome[call], raw);
}

void
fake_hv_reply_command(const char *execute, const char *raw)
{
    fake_hv_outcome_reply(&fake_hv_command(execute)->outcome, raw);
}

void
fake_hv_set_state_at_call(int call, vts_dom_state state)
{
    if (call < 0 || call >= FAKE_HV_MAX_CALLS)
        abort();
    fake.state_change_set[call] = true;
    fake.state_change[call] = state;
}

void
fake_hv_set_domain(const char *name)
{
    snprintf(fake.domain, sizeof(fake.domain), "%s", name);
}

void
fake_hv_set_state(vts_dom_state state)
{
    fake.state = state;
}

void
fake_hv_fail_state(vts_err_code code, const char *message)
{
    fake_hv_outcome_fail(&fake.state_failure, code, message);
}

void
fake_hv_fail_lookup(vts_err_code code, const char *message)
{
    fake_hv_outcome_fail(&fake.lookup_failure, code, message);
}

void
fake_hv_set_xml(const char *xml)
{
    free(fake.xml);
    fake.xml = NULL;
    if (xml) {
        fake.xml = strdup(xml);
        if (!fake.xml)
            abort();
    }
}

int
fake_hv_ncalls(void)
{
    return fake.ncalls;
}

const fake_hv_call *
fake_hv_call_at(int i)
{
    if (i < 0 || i >= fake.ncalls || i >= FAKE_HV_MAX_CALLS)
        return NULL;
    return &fake.calls[i];
}

int
fake_hv_count(const char *execute)
{
    int i, n = 0;

    for (i = 0; i < fake.ncalls && i < FAKE_HV_MAX_CALLS; i++)
        if (strcmp(fake.calls[i].execute, execute) == 0)
            n++;
    return n;
}

int
fake_hv_lookups(void)
{
    return fake.lookups;
}

int
fake_hv_open_doms(void)
{
    return fake.open_doms;
}

/* --- the operations ------------------------------------------------- */

static int
fake_hv_op_connect(const char *uri, vts_hv_conn **conn, vts_error *err)
{
    (void)uri;
    *conn = calloc(1, sizeof(**conn));
    if (!*conn)
        return vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
    return 0;
}

static void
fake_hv_op_disconnect(vts_hv_conn *conn)
{
    free(conn);
}

static int
fake_hv_op_list_running(vts_hv_conn *conn, char ***names, size_t *count, vts_error *err)
{
    (void)conn;
    *names = calloc(1, sizeof(**names));
    *count = 0;
    if (!*names)
        return vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
    if (fake.state == VTS_DOM_RUNNING) {
        (*names)[0] = strdup(fake.domain);
        if (!(*names)[0])
            abort();
        *count = 1;
    }
    return 0;
}

static int
fake_hv_op_lookup(vts_hv_conn *conn, const char *name, vts_hv_dom **dom, vts_error *err)
{
    (void)conn;
    *dom = NULL;
    if (fake.lookup_failure.set)
        return vts_error_set(err, fake.lookup_failure.code, "%s",
                             fake.lookup_failure.message);
    if (strcmp(name, fake.domain) != 0)
        return vts_error_set(err, VTS_ERR_NOT_FOUND,
                             "Domain not found: no domain with matching name '%s'", name);
    *dom = calloc(1, sizeof(**dom));
    if (!*dom)
        return vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
    fake.lookups++;
    fake.open_doms++;
    return 0;
}

static void
fake_hv_op_dom_free(vts_hv_dom *dom)
{
    if (!dom)
        return;
    fake.open_doms--;
    free(dom);
}

static int
fake_hv_op_dom_state(vts_hv_dom *dom, vts_dom_state *state, vts_error *err)
{
    (void)dom;
    if (fake.state_failure.set)
        return vts_error_set(err, fake.state_failure.code, "%s",
                             fake.state_failure.message);
    *state = fake.state;
    return 0;
}

static int
fake_hv_op_dom_xml(vts_hv_dom *dom, char **xml, vts_error *err)
{
    (void)dom;
    *xml = strdup(fake.xml ? fake.xml : fake_hv_default_xml);
    if (!*xml)
        return vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
    return 0;
}

/* Fill @c's execute and time from the JSON command @cmd. */
static void
fake_hv_decode(const char *cmd, fake_hv_call *c)
{
    json_object *root = json_tokener_parse(cmd);
    json_object *v = NULL, *args = NULL;

    if (json_object_object_get_ex(root, "execute", &v) &&
        json_object_is_type(v, json_type_string))
        snprintf(c->execute, sizeof(c->execute), "%s", json_object_get_string(v));
    if (json_object_object_get_ex(root, "arguments", &args) &&
        json_object_object_get_ex(args, "time", &v) &&
        json_object_is_type(v, json_type_int)) {
        c->has_time = true;
        c->time_ns = json_object_get_int64(v);
    }
    if (json_object_object_get_ex(args, "path", &v) &&
        json_object_is_type(v, json_type_string))
        snprintf(c->exec_path, sizeof(c->exec_path), "%s", json_object_get_string(v));
    if (json_object_object_get_ex(args, "arg", &v) &&
        json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            size_t n = strlen(c->exec_args);

            snprintf(c->exec_args + n, sizeof(c->exec_args) - n, "%s%s", i ? " " : "",
                     json_object_get_string(json_object_array_get_idx(v, i)));
        }
    }
    if (json_object_object_get_ex(args, "pid", &v) &&
        json_object_is_type(v, json_type_int))
        c->time_ns = json_object_get_int64(v); /* guest-exec-status: the pid */
    json_object_put(root);
}

/* Base64 of @in into @out of @len bytes (NUL-terminated), as qemu-ga sends
 * captured output. */
static void
fake_hv_base64(const char *in, char *out, size_t len)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in), i, o = 0;

    for (i = 0; i < n && o + 5 < len; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;

        if (i + 1 < n)
            v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)in[i + 2];
        out[o++] = abc[(v >> 18) & 63];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? abc[v & 63] : '=';
    }
    out[o] = '\0';
}

/* guest-info, guest-exec and guest-exec-status, executed at c->executed_ns.
 * Writes the reply into @buf. */
static int
fake_hv_exec(fake_hv_call *c, char *buf, size_t len, vts_error *err)
{
    const char *on = fake.exec_blocked ? "false" : "true";
    char b64[200];

    if (strcmp(c->execute, "guest-info") == 0) {
        snprintf(
            buf, len,
            "{\"return\":{\"version\":\"7.2.0\",\"supported_commands\":["
            "{\"enabled\":true,\"name\":\"guest-set-time\",\"success-response\":true},"
            "{\"enabled\":%s,\"name\":\"guest-exec\",\"success-response\":true},"
            "{\"enabled\":%s,\"name\":\"guest-exec-status\",\"success-response\":true}"
            "]}}",
            on, on);
        return 0;
    }
    if (fake.exec_blocked)
        return vts_error_set(err, VTS_ERR_AGENT_ERROR,
                             "internal error: unable to execute QEMU agent command '%s': "
                             "The command %s has been disabled for this instance",
                             c->execute, c->execute);
    if (strcmp(c->execute, "guest-exec") == 0) {
        long long sec = 0, nsec = 0;
        int64_t t;

        if (strcmp(c->exec_path, fake.date_path) != 0)
            return vts_error_set(
                err, VTS_ERR_AGENT_ERROR,
                "internal error: unable to execute QEMU agent command "
                "'guest-exec': Guest agent command failed, error was "
                "'Failed to execute child process \"%s\" (No such file or "
                "directory)'",
                c->exec_path);
        char sign = 0, unit[16] = "";

        if (sscanf(c->exec_args, "-u -s now %c%lld.%9lld %15s", &sign, &sec, &nsec,
                   unit) != 4 ||
            (sign != '+' && sign != '-') || strcmp(unit, "seconds") != 0)
            abort(); /* the code under test ran something else */
        t = sec * 1000000000LL + nsec;
        fake.proc_pid = 1000 + c - fake.calls;
        fake.proc_exit_ns = c->executed_ns + fake.date_latency_ns;
        /* GNU date moves the clock relative to its own reading, whenever it
         * runs; busybox's does not parse a relative time and fails. */
        if (fake.date_whole_seconds) {
            fake.exec_exitcode = 1;
            snprintf(fake.exec_stderr, sizeof(fake.exec_stderr),
                     "date: invalid date 'now %c%lld.%09lld seconds'\n", sign, sec, nsec);
        } else {
            fake.exec_exitcode = fake.date_exitcode;
            snprintf(fake.exec_stderr, sizeof(fake.exec_stderr), "%s", fake.date_stderr);
        }
        /* It reads the clock when it starts and sets it when it exits. */
        if (fake.exec_exitcode == 0 && !fake.ignore_set_time)
            fake.guest_offset += (sign == '-' ? -t : t) - fake.date_latency_ns;
        snprintf(buf, len, "{\"return\":{\"pid\":%lld}}", (long long)fake.proc_pid);
        return 0;
    }
    /* guest-exec-status */
    if (c->time_ns != fake.proc_pid || fake.proc_pid == 0)
        return vts_error_set(err, VTS_ERR_AGENT_ERROR,
                             "internal error: unable to execute QEMU agent command "
                             "'guest-exec-status': Invalid parameter 'pid'");
    if (c->executed_ns < fake.proc_exit_ns) {
        snprintf(buf, len, "{\"return\":{\"exited\":false}}");
        return 0;
    }
    fake_hv_base64(fake.exec_stderr, b64, sizeof(b64));
    snprintf(buf, len,
             "{\"return\":{\"exited\":true,\"exitcode\":%d,\"err-data\":\"%s\"}}",
             fake.exec_exitcode, b64);
    fake.proc_pid = 0; /* qemu-ga forgets a process once it reported its exit */
    return 0;
}

static int
fake_hv_op_agent_command(vts_hv_dom *dom, const char *cmd, int timeout_s, char **reply,
                         vts_error *err)
{
    const fake_hv_command_script *s;
    const fake_hv_outcome *outcome = NULL;
    fake_hv_delay delay = fake.delay;
    fake_hv_call *c;
    char buf[512];
    int n;

    (void)dom;
    *reply = NULL;
    n = fake.ncalls++;
    if (n >= FAKE_HV_MAX_CALLS)
        return vts_error_set(err, VTS_ERR_INTERNAL, "fake_hv: too many agent calls");
    c = &fake.calls[n];
    snprintf(c->cmd, sizeof(c->cmd), "%s", cmd);
    fake_hv_decode(cmd, c);
    c->timeout_s = timeout_s;
    c->sent_ns = fake.now;

    if (fake.state_change_set[n])
        fake.state = fake.state_change[n];
    /* libvirt refuses before talking to the agent. */
    if (fake.state != VTS_DOM_RUNNING) {
        c->executed_ns = -1;
        return vts_error_set(err, VTS_ERR_NOT_RUNNING,
                             "Requested operation is not valid: domain is not running");
    }

    if ((s = fake_hv_command_match(c->execute, false)))
        delay = s->delay;
    if (fake.call_delay[n].set)
        delay = fake.call_delay[n];
    c->executed_ns = fake.now + delay.out_ns;
    fake.now += delay.out_ns + delay.back_ns;

    if ((s = fake_hv_command_match(c->execute, true)))
        outcome = &s->outcome;
    if (fake.call_outcome[n].set)
        outcome = &fake.call_outcome[n];
    if (outcome) {
        if (outcome->code != VTS_OK)
            return vts_error_set(err, outcome->code, "%s", outcome->message);
        *reply = strdup(outcome->raw);
        return *reply ? 0 : vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
    }

    if (strcmp(c->execute, "guest-get-time") == 0) {
        snprintf(buf, sizeof(buf), "{\"return\":%" PRId64 "}",
                 c->executed_ns + fake.guest_offset);
    } else if (strcmp(c->execute, "guest-set-time") == 0 && c->has_time) {
        if (!fake.ignore_set_time)
            fake.guest_offset = c->time_ns - c->executed_ns;
        snprintf(buf, sizeof(buf), "{\"return\":{}}");
        /* Executed, but the answer (after hwclock) comes too late. */
        if (fake.late[n]) {
            fake.now = c->sent_ns + (int64_t)timeout_s * 1000000000LL;
            return vts_error_set(
                err, VTS_ERR_AGENT_TIMEOUT,
                "Guest agent is not responding: Guest agent not available "
                "for now");
        }
    } else if (strcmp(c->execute, "guest-info") == 0 ||
               strcmp(c->execute, "guest-exec") == 0 ||
               strcmp(c->execute, "guest-exec-status") == 0) {
        if (fake_hv_exec(c, buf, sizeof(buf), err) < 0)
            return -1;
    } else {
        return vts_error_set(err, VTS_ERR_AGENT_ERROR,
                             "internal error: unable to execute QEMU agent command '%s': "
                             "The command %s has not been found",
                             c->execute, c->execute);
    }
    *reply = strdup(buf);
    return *reply ? 0 : vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
}

static int64_t
fake_hv_op_now_ns(void)
{
    int64_t v;
    int r = fake.reads++;

    if (r < FAKE_HV_MAX_READS && fake.jump_set[r]) {
        fake.now += fake.jump[r];
        fake.guest_offset -= fake.jump[r];
    }
    v = fake.now;
    fake.now += fake.tick;
    return v;
}

static void
fake_hv_op_sleep_ns(int64_t ns)
{
    fake.now += ns;
}

/* The event loop and domain events are the daemon's business: the fake has
 * none, and says so instead of crashing on a NULL pointer. */
static int
fake_hv_op_loop_init(vts_error *err)
{
    return vts_error_set(err, VTS_ERR_INTERNAL, "fake_hv: no event loop");
}

static int
fake_hv_op_loop_run_once(vts_error *err)
{
    return vts_error_set(err, VTS_ERR_INTERNAL, "fake_hv: no event loop");
}

static int
fake_hv_op_loop_add_handle(int fd, int events, vts_hv_handle_fn fn, void *opaque)
{
    (void)fd;
    (void)events;
    (void)fn;
    (void)opaque;
    return -1;
}

static void
fake_hv_op_loop_remove_handle(int watch)
{
    (void)watch;
}

static int
fake_hv_op_loop_add_timer(int ms, vts_hv_timer_fn fn, void *opaque)
{
    (void)ms;
    (void)fn;
    (void)opaque;
    return -1;
}

static void
fake_hv_op_loop_update_timer(int timer, int ms)
{
    (void)timer;
    (void)ms;
}

static void
fake_hv_op_loop_remove_timer(int timer)
{
    (void)timer;
}

static int
fake_hv_op_events_register(vts_hv_conn *conn, vts_hv_event_fn fn,
                           vts_hv_close_fn close_fn, void *opaque, vts_error *err)
{
    (void)conn;
    (void)fn;
    (void)close_fn;
    (void)opaque;
    return vts_error_set(err, VTS_ERR_INTERNAL, "fake_hv: no domain events");
}

const vts_hv_ops fake_hv_ops = {
    .connect = fake_hv_op_connect,
    .disconnect = fake_hv_op_disconnect,
    .list_running = fake_hv_op_list_running,
    .lookup = fake_hv_op_lookup,
    .dom_free = fake_hv_op_dom_free,
    .dom_state = fake_hv_op_dom_state,
    .dom_xml = fake_hv_op_dom_xml,
    .agent_command = fake_hv_op_agent_command,
    .now_ns = fake_hv_op_now_ns,
    .host_clock = fake_hv_op_host_clock,
    .rtc_reset_reinjection = fake_hv_op_rtc_reset_reinjection,
    .sleep_ns = fake_hv_op_sleep_ns,
    .loop_init = fake_hv_op_loop_init,
    .loop_run_once = fake_hv_op_loop_run_once,
    .loop_add_handle = fake_hv_op_loop_add_handle,
    .loop_remove_handle = fake_hv_op_loop_remove_handle,
    .loop_add_timer = fake_hv_op_loop_add_timer,
    .loop_update_timer = fake_hv_op_loop_update_timer,
    .loop_remove_timer = fake_hv_op_loop_remove_timer,
    .events_register = fake_hv_op_events_register,
};
