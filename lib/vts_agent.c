/* vts_agent.c: building guest agent commands and checking their replies. */
#include "vts_agent.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest reply we quote back in an error message. */
#define VTS_AGENT_QUOTE_MAX 80

int
vts_agent_format_set_time(char *buf, size_t len, int64_t time_ns, vts_error *err)
{
    int n;

    if (time_ns <= 0)
        return vts_error_set(err, VTS_ERR_INTERNAL,
                             "refusing to set a guest clock to %" PRId64 " ns", time_ns);
    n = snprintf(buf, len,
                 "{\"execute\":\"guest-set-time\",\"arguments\":{\"time\":%" PRId64 "}}",
                 time_ns);
    if (n < 0 || (size_t)n >= len)
        return vts_error_set(err, VTS_ERR_INTERNAL,
                             "guest-set-time command does not fit");
    return 0;
}

/* Parse @reply and hand back its "return" member (borrowed from *@root,
 * which the caller puts). */
static int
vts_agent_parse_return(const char *reply, json_object **root, json_object **ret,
                       vts_error *err)
{
    json_object *error = NULL;
    json_object *desc = NULL;
    enum json_tokener_error jerr = json_tokener_success;

    *root = NULL;
    *ret = NULL;
    if (!reply)
        return vts_error_set(err, VTS_ERR_BAD_REPLY,
                             "the guest agent sent an empty reply");

    *root = json_tokener_parse_verbose(reply, &jerr);
    if (!*root)
        return vts_error_set(err, VTS_ERR_BAD_REPLY,
                             "the guest agent's reply is not JSON (%s): %.*s",
                             json_tokener_error_desc(jerr), VTS_AGENT_QUOTE_MAX, reply);
    if (!json_object_is_type(*root, json_type_object))
        return vts_error_set(err, VTS_ERR_BAD_REPLY,
                             "the guest agent's reply is not a JSON object: %.*s",
                             VTS_AGENT_QUOTE_MAX, reply);
    if (json_object_object_get_ex(*root, "error", &error)) {
        const char *text = "unknown error";

        if (json_object_object_get_ex(error, "desc", &desc) &&
            json_object_is_type(desc, json_type_string))
            text = json_object_get_string(desc);
        return vts_error_set(err, VTS_ERR_AGENT_ERROR, "the guest agent reported: %s",
                             text);
    }
    if (!json_object_object_get_ex(*root, "return", ret))
        return vts_error_set(err, VTS_ERR_BAD_REPLY,
                             "the guest agent's reply has no \"return\": %.*s",
                             VTS_AGENT_QUOTE_MAX, reply);
    return 0;
}

int
vts_agent_parse_time(const char *reply, int64_t *time_ns, vts_error *err)
{
    json_object *root = NULL;
    json_object *ret = NULL;
    int64_t value;
    int rc = -1;

    if (vts_agent_parse_return(reply, &root, &ret, err) < 0)
        goto cleanup;
    /* Only a real integer is a time (not 1.7e18, not "1700..."). */
    if (!json_object_is_type(ret, json_type_int)) {
        vts_error_set(err, VTS_ERR_BAD_REPLY,
                      "the guest agent's time is not an integer: %.*s",
                      VTS_AGENT_QUOTE_MAX, reply);
        goto cleanup;
    }
    /* json-c 0.16 keeps integers beyond int64 as uint64 and clamps
     * get_int64 to INT64_MAX without an error: compare both views. */
    value = json_object_get_int64(ret);
    if (value <= 0 || (uint64_t)value != json_object_get_uint64(ret)) {
        vts_error_set(err, VTS_ERR_BAD_REPLY,
                      "the guest agent's time is out of range: %.*s", VTS_AGENT_QUOTE_MAX,
                      reply);
        goto cleanup;
    }
    *time_ns = value;
    rc = 0;

cleanup:
    json_object_put(root);
    return rc;
}

int
vts_agent_parse_empty(const char *reply, vts_error *err)
{
    json_object *root = NULL;
    json_object *ret = NULL;
    int rc;

    rc = vts_agent_parse_return(reply, &root, &ret, err);
    json_object_put(root);
    return rc;
}

/* Entries of guest-info's "supported_commands" read at most: qemu-ga 7.2
 * lists about 50; more is not a genuine agent, and not worth the time. */
#define VTS_AGENT_INFO_MAX_COMMANDS 4096

/* The "return" of @reply as a JSON object (borrowed from *@root, which the
 * caller puts). @what names the command in error messages. */
static int
vts_agent_parse_return_object(const char *reply, const char *what, json_object **root,
                              json_object **ret, vts_error *err)
{
    if (vts_agent_parse_return(reply, root, ret, err) < 0)
        return -1;
    if (!json_object_is_type(*ret, json_type_object))
        return vts_error_set(err, VTS_ERR_BAD_REPLY,
                             "the guest agent's %s reply is not an object: %.*s", what,
                             VTS_AGENT_QUOTE_MAX, reply);
    return 0;
}

/* Member @key of @obj as an int in [@min, @max]. Returns 1 when present and
 * valid, 0 when absent, -1 (BAD_REPLY) when present but not such an int. */
static int
vts_agent_get_int(json_object *obj, const char *key, int64_t min, int64_t max,
                  int64_t *out, vts_error *err)
{
    json_object *v = NULL;
    int64_t value;

    if (!json_object_object_get_ex(obj, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_int))
        return vts_error_set(err, VTS_ERR_BAD_REPLY,
                             "the guest agent's \"%s\" is not an integer", key);
    /* get_int64 clamps what does not fit; the clamped value is out of any
     * range we ask for. */
    value = json_object_get_int64(v);
    if (value < min || value > max)
        return vts_error_set(err, VTS_ERR_BAD_REPLY,
                             "the guest agent's \"%s\" is out of range (%" PRId64 ")",
                             key, value);
    *out = value;
    return 1;
}

int
vts_agent_parse_info(const char *reply, const char *const *names, size_t count,
                     const char **disabled, vts_error *err)
{
    json_object *root = NULL, *ret = NULL, *cmds = NULL;
    bool enabled[VTS_AGENT_EXEC_MAX_ARGS] = {false};
    size_t n, i, j;
    int rc = -1;

    if (count > VTS_AGENT_EXEC_MAX_ARGS) {
        vts_error_set(err, VTS_ERR_INTERNAL,
                      "too many commands to look up in guest-info");
        goto cleanup;
    }
    if (vts_agent_parse_return_object(reply, "guest-info", &root, &ret, err) < 0)
        goto cleanup;
    if (!json_object_object_get_ex(ret, "supported_commands", &cmds) ||
        !json_object_is_type(cmds, json_type_array)) {
        vts_error_set(err, VTS_ERR_BAD_REPLY,
                      "the guest agent's guest-info reply has no \"supported_commands\" "
                      "list: %.*s",
                      VTS_AGENT_QUOTE_MAX, reply);
        goto cleanup;
    }
    n = json_object_array_length(cmds);
    if (n > VTS_AGENT_INFO_MAX_COMMANDS)
        n = VTS_AGENT_INFO_MAX_COMMANDS;
    for (i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(cmds, i);
        json_object *name = NULL, *on = NULL;

        if (!json_object_is_type(c, json_type_object) ||
            !json_object_object_get_ex(c, "name", &name) ||
            !json_object_is_type(name, json_type_string))
            continue;
        for (j = 0; j < count; j++) {
            if (strcmp(json_object_get_string(name), names[j]) != 0)
                continue;
            /* Listed twice: the last word counts, as for any JSON member. */
            enabled[j] = json_object_object_get_ex(c, "enabled", &on) &&
                         json_object_is_type(on, json_type_boolean) &&
                         json_object_get_boolean(on);
        }
    }
    *disabled = NULL;
    for (j = 0; j < count && !*disabled; j++)
        if (!enabled[j])
            *disabled = names[j];
    rc = 0;

cleanup:
    json_object_put(root);
    return rc;
}

/* Serialise @obj (put here) into a new string. */
static char *
vts_agent_to_string(json_object *obj, vts_error *err)
{
    char *out = NULL;

    if (obj)
        out = strdup(json_object_to_json_string_ext(
            obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(obj);
    if (!out)
        vts_error_set(err, VTS_ERR_INTERNAL,
                      "out of memory building a guest agent command");
    return out;
}

char *
vts_agent_build_exec(const char *path, const char *const *argv, size_t argc,
                     vts_error *err)
{
    json_object *cmd = NULL, *args = NULL, *list = NULL;
    size_t i;

    if (argc > VTS_AGENT_EXEC_MAX_ARGS) {
        vts_error_set(err, VTS_ERR_INTERNAL, "too many arguments for guest-exec");
        return NULL;
    }
    cmd = json_object_new_object();
    args = json_object_new_object();
    list = json_object_new_array();
    if (!cmd || !args || !list) {
        json_object_put(list);
        json_object_put(args);
        json_object_put(cmd);
        return vts_agent_to_string(NULL, err);
    }
    for (i = 0; i < argc; i++)
        json_object_array_add(list, json_object_new_string(argv[i]));
    json_object_object_add(args, "path", json_object_new_string(path));
    json_object_object_add(args, "arg", list);
    json_object_object_add(args, "capture-output", json_object_new_boolean(1));
    json_object_object_add(cmd, "execute", json_object_new_string("guest-exec"));
    json_object_object_add(cmd, "arguments", args);
    return vts_agent_to_string(cmd, err);
}

int
vts_agent_parse_exec(const char *reply, int64_t *pid, vts_error *err)
{
    json_object *root = NULL, *ret = NULL;
    int64_t value = 0;
    int rc = -1, got;

    if (vts_agent_parse_return_object(reply, "guest-exec", &root, &ret, err) < 0)
        goto cleanup;
    got = vts_agent_get_int(ret, "pid", 1, INT32_MAX, &value, err);
    if (got < 0)
        goto cleanup;
    if (got == 0) {
        vts_error_set(err, VTS_ERR_BAD_REPLY,
                      "the guest agent's guest-exec reply has no pid");
        goto cleanup;
    }
    *pid = value;
    rc = 0;

cleanup:
    json_object_put(root);
    return rc;
}

char *
vts_agent_build_exec_status(int64_t pid, vts_error *err)
{
    json_object *cmd = NULL, *args = NULL;

    if (pid < 1 || pid > INT32_MAX) {
        vts_error_set(err, VTS_ERR_INTERNAL, "no such guest process id: %" PRId64, pid);
        return NULL;
    }
    cmd = json_object_new_object();
    args = json_object_new_object();
    if (!cmd || !args) {
        json_object_put(args);
        json_object_put(cmd);
        return vts_agent_to_string(NULL, err);
    }
    json_object_object_add(args, "pid", json_object_new_int64(pid));
    json_object_object_add(cmd, "execute", json_object_new_string("guest-exec-status"));
    json_object_object_add(cmd, "arguments", args);
    return vts_agent_to_string(cmd, err);
}

/* The value of one base64 character, or -1. */
static int
vts_agent_b64(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decode the start of base64 @in into @out of @len bytes (NUL-terminated),
 * stopping at padding, at a NUL byte decoded, when full, or at anything
 * that is not base64 (then @out is emptied: only a message is lost). */
static void
vts_agent_b64_prefix(const char *in, char *out, size_t len)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0, v;

    for (; *in && *in != '=' && o + 1 < len; in++) {
        if ((v = vts_agent_b64((unsigned char)*in)) < 0) {
            o = 0;
            break;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o] = (char)((acc >> bits) & 0xff);
            if (out[o] == '\0')
                break;
            o++;
        }
    }
    out[o] = '\0';
}

int
vts_agent_parse_exec_status(const char *reply, vts_agent_exec_status *st, vts_error *err)
{
    json_object *root = NULL, *ret = NULL, *v = NULL;
    vts_agent_exec_status s;
    int64_t value = 0;
    int rc = -1, got;

    memset(&s, 0, sizeof(s));
    if (vts_agent_parse_return_object(reply, "guest-exec-status", &root, &ret, err) < 0)
        goto cleanup;
    if (!json_object_object_get_ex(ret, "exited", &v) ||
        !json_object_is_type(v, json_type_boolean)) {
        vts_error_set(
            err, VTS_ERR_BAD_REPLY,
            "the guest agent's guest-exec-status reply has no boolean \"exited\": "
            "%.*s",
            VTS_AGENT_QUOTE_MAX, reply);
        goto cleanup;
    }
    s.exited = json_object_get_boolean(v);
    if ((got = vts_agent_get_int(ret, "exitcode", INT32_MIN, INT32_MAX, &value, err)) < 0)
        goto cleanup;
    s.has_exitcode = got == 1;
    s.exitcode = (int)value;
    if ((got = vts_agent_get_int(ret, "signal", 0, INT32_MAX, &value, err)) < 0)
        goto cleanup;
    s.has_signal = got == 1;
    s.signal = (int)value;
    if (s.exited && !s.has_exitcode && !s.has_signal) {
        vts_error_set(err, VTS_ERR_BAD_REPLY,
                      "the guest agent says the process exited, without an exit code or "
                      "signal: %.*s",
                      VTS_AGENT_QUOTE_MAX, reply);
        goto cleanup;
    }
    if (json_object_object_get_ex(ret, "err-data", &v) &&
        json_object_is_type(v, json_type_string))
        vts_agent_b64_prefix(json_object_get_string(v), s.err_data, sizeof(s.err_data));
    *st = s;
    rc = 0;

cleanup:
    json_object_put(root);
    return rc;
}
