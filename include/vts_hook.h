/* vts_hook.h: the libvirt hook's decisions, and how it starts its detached
 * waiter (the waiter itself is vts_waiter.h).
 *
 * libvirtd runs every executable in /etc/libvirt/hooks/qemu.d/ with argv
 * "DOMAIN OPERATION SUBOP EXTRA" and the domain XML on stdin, and waits for
 * it with no timeout; a non-zero exit aborts the operation. So the hook
 * decides from its arguments and the XML alone (never calling libvirt),
 * tells vmtimesyncd, or leaves a detached waiter behind, and exits 0 within
 * milliseconds. The pure decision lives here so it is unit-tested; the I/O
 * is in hook/vmtimesync-hook.c.
 */
#ifndef VTS_HOOK_H
#define VTS_HOOK_H

#include <stdbool.h>
#include <stddef.h>

#include "vts_conf.h"
#include "vts_ctl.h"

/* The operations that announce a guest which will need a sync:
 * "migrate begin" (incoming migration), "restore begin", and
 * "reconnect begin" (libvirtd restarted; events may have been missed). */
typedef enum {
    VTS_HOOK_IGNORE,   /* nothing to do; @why says why */
    VTS_HOOK_ANNOUNCE, /* tell the daemon, or start a waiter */
} vts_hook_action;

typedef struct {
    vts_hook_action action;
    const char *domain;              /* argv's, borrowed */
    char reason[VTS_CTL_REASON_MAX]; /* "migrate", "restore", "reconnect" */
    bool needs_xml;                  /* the decision depends on the XML on stdin */
    char why[160];                   /* for the log when ignored */
} vts_hook_decision;

/* Decide from the arguments alone: @argc and @argv as main() got them.
 * Bad arguments (missing, extra, empty or over-long domain names, unknown
 * operations) give VTS_HOOK_IGNORE with a reason; an announcing operation
 * gives VTS_HOOK_ANNOUNCE with needs_xml set. */
void vts_hook_decide_args(int argc, char *const *argv, vts_hook_decision *d);

/* Refine an announcing decision with the domain XML (@xml, @len bytes, not
 * necessarily NUL-terminated): a domain without a guest agent channel, one
 * opted out in its metadata, or XML that cannot be read turns it into
 * VTS_HOOK_IGNORE with a reason. */
void vts_hook_decide_xml(const char *xml, size_t len, vts_hook_decision *d);

/* Refine an announcing decision with the configuration: a domain that its
 * include and exclude patterns leave out turns into VTS_HOOK_IGNORE, so the
 * hook's waiter serves the same domains as the daemon. */
void vts_hook_decide_conf(const vts_conf *conf, vts_hook_decision *d);

/* The configuration file the hook reads: "vmtimesync.conf" in the parent of
 * the directory holding @argv0 (/etc/libvirt/hooks/vmtimesync.conf for
 * /etc/libvirt/hooks/qemu.d/vmtimesync, so that a containerised libvirt
 * carries its own) when that file exists, else VTS_CONF_DEFAULT_PATH.
 * Writes the path into @buf of @len bytes. */
void vts_hook_conf_path(const char *argv0, char *buf, size_t len);

/* The waiter's command line (vmtimesync --hook-waiter), with room for
 * every argument. */
#define VTS_HOOK_WAITER_ARGS 32

typedef struct {
    char *argv[VTS_HOOK_WAITER_ARGS]; /* NULL-terminated */
    char values[VTS_CONF__NUMBERS][32];
} vts_hook_waiter_cmd;

/* Fill @cmd with "@cli --hook-waiter @reason --connect URI", then for every
 * numeric setting vmtimesync has an option for (vts_conf_bounds_of) that
 * option and @conf's value as vts_conf_format_arg writes it, then the
 * flags (--allow-unsynced-host, --set-time-fallback=guest-exec), "--" and
 * @domain. Shares the configuration's bounds table with vmtimesync, so
 * that it accepts every value the file does. The strings are borrowed from
 * @cli, @conf, @domain, @reason and @cmd itself. */
void vts_hook_waiter_cmd_fill(vts_hook_waiter_cmd *cmd, const vts_conf *conf,
                              const char *cli, const char *domain, const char *reason);

/* Run the waiter @argv (vts_hook_waiter_cmd's) in a child and wait for
 * it, its stderr read line by line into the log ("NAME: waiter: LINE"),
 * since the hook's own stderr is /dev/null: a waiter that cannot start (a
 * usage error, a missing program or library) or that dies says so, and
 * that its guest is not synced. @name is the domain's escaped name. Returns
 * the waiter's exit status, 128 + the signal that killed it, or -1 when it
 * could not be started at all (logged). */
int vts_hook_waiter_supervise(char *const *argv, const char *name);

#endif /* VTS_HOOK_H */
