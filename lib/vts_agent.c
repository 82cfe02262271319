/* vts_agent.c: building guest agent commands and checking their replies. */
#include "vmtimesync/vts_agent.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
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
    n = snprintf(buf, len, "{\"execute\":\"guest-set-time\",\"arguments\":{\"time\":%" PRId64 "}}",
                 time_ns);
    if (n < 0 || (size_t)n >= len)
        return vts_error_set(err, VTS_ERR_INTERNAL, "guest-set-time command does not fit");
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
        return vts_error_set(err, VTS_ERR_BAD_REPLY, "the guest agent sent an empty reply");

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
        return vts_error_set(err, VTS_ERR_AGENT_ERROR, "the guest agent reported: %s", text);
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
                      "the guest agent's time is not an integer: %.*s", VTS_AGENT_QUOTE_MAX,
                      reply);
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
