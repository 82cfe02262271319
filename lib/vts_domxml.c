/* vts_domxml.c: a bounded scanner for the parts of a domain XML we use. */
#include "vts_domxml.h"

#include <string.h>

/* libvirt's domain XML nests about six deep; anything far deeper is not a
 * domain description. */
#define VTS_XML_MAX_DEPTH 64

typedef enum { VTS_TAG_OPEN, VTS_TAG_CLOSE, VTS_TAG_EMPTY } vts_tag_kind;

typedef struct {
    vts_tag_kind kind;
    const char *name;
    size_t name_len;
    const char *attrs; /* the raw text between the name and '>' */
    size_t attrs_len;
} vts_tag;

static bool
vts_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Find @needle in [p, end); return a pointer just past it, or NULL. */
static const char *
vts_skip_past(const char *p, const char *end, const char *needle)
{
    size_t n = strlen(needle);

    for (; (size_t)(end - p) >= n; p++) {
        if (memcmp(p, needle, n) == 0)
            return p + n;
    }
    return NULL;
}

/* Read the next element tag at or after *@cur. Returns 1 with @tag filled,
 * 0 at the end of the text, -1 when the text ends inside a tag. Comments,
 * processing instructions, CDATA and DOCTYPE are skipped. */
static int
vts_xml_next_tag(const char **cur, const char *end, vts_tag *tag)
{
    const char *p = *cur;
    const char *q;
    char quote = 0;

    for (;;) {
        p = memchr(p, '<', (size_t)(end - p));
        if (!p)
            return 0;
        if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
            p = vts_skip_past(p + 4, end, "-->");
        } else if (end - p >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
            p = vts_skip_past(p + 9, end, "]]>");
        } else if (end - p >= 2 && (p[1] == '?' || p[1] == '!')) {
            p = vts_skip_past(p + 2, end, ">");
        } else {
            break;
        }
        if (!p)
            return -1;
    }

    p++; /* past '<' */
    tag->kind = VTS_TAG_OPEN;
    if (p < end && *p == '/') {
        tag->kind = VTS_TAG_CLOSE;
        p++;
    }
    tag->name = p;
    while (p < end && !vts_is_space(*p) && *p != '>' && *p != '/')
        p++;
    tag->name_len = (size_t)(p - tag->name);
    tag->attrs = p;
    /* '>' inside a quoted attribute value does not end the tag. */
    for (q = p; q < end; q++) {
        if (quote) {
            if (*q == quote)
                quote = 0;
        } else if (*q == '"' || *q == '\'') {
            quote = *q;
        } else if (*q == '>') {
            break;
        }
    }
    if (q >= end || tag->name_len == 0)
        return -1;
    tag->attrs_len = (size_t)(q - p);
    if (tag->kind == VTS_TAG_OPEN && q > p && q[-1] == '/') {
        tag->kind = VTS_TAG_EMPTY;
        tag->attrs_len--;
    }
    *cur = q + 1;
    return 1;
}

/* Find the attribute named by the @want bytes at @name in @tag; on success
 * point @val at its raw value. */
static bool
vts_xml_attr_span(const vts_tag *tag, const char *name, size_t want, const char **val,
                  size_t *val_len)
{
    const char *p = tag->attrs;
    const char *end = tag->attrs + tag->attrs_len;

    while (p < end) {
        const char *an;
        size_t an_len;
        char quote;

        while (p < end && vts_is_space(*p))
            p++;
        an = p;
        while (p < end && !vts_is_space(*p) && *p != '=')
            p++;
        an_len = (size_t)(p - an);
        while (p < end && vts_is_space(*p))
            p++;
        if (p >= end || *p != '=')
            return false;
        p++;
        while (p < end && vts_is_space(*p))
            p++;
        if (p >= end || (*p != '"' && *p != '\''))
            return false;
        quote = *p++;
        *val = p;
        while (p < end && *p != quote)
            p++;
        if (p >= end)
            return false;
        *val_len = (size_t)(p - *val);
        p++;
        if (an_len == want && memcmp(an, name, want) == 0)
            return true;
    }
    return false;
}

static bool
vts_xml_attr(const vts_tag *tag, const char *name, const char **val, size_t *val_len)
{
    return vts_xml_attr_span(tag, name, strlen(name), val, val_len);
}

static bool
vts_span_eq(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static bool
vts_attr_eq(const vts_tag *tag, const char *name, const char *lit)
{
    const char *v;
    size_t n;

    return vts_xml_attr(tag, name, &v, &n) && vts_span_eq(v, n, lit);
}

/* Does @tag (or, failing that, one of its @nenc enclosing elements,
 * innermost last) bind the prefix of @tag's name to our namespace? An
 * unprefixed name uses the default namespace (xmlns="..."). */
static bool
vts_in_our_ns(const vts_tag *tag, const vts_tag *enclosing, size_t nenc)
{
    const char *colon = memchr(tag->name, ':', tag->name_len);
    size_t prefix_len = colon ? (size_t)(colon - tag->name) : 0;
    /* "xmlns:" + prefix, or "xmlns" */
    char attr[6 + 256];
    size_t attr_len;

    if (prefix_len > 256)
        return false;
    memcpy(attr, "xmlns:", 6);
    memcpy(attr + 6, tag->name, prefix_len);
    attr_len = colon ? 6 + prefix_len : 5;

    /* The nearest declaration wins: the element itself, then outwards. */
    for (size_t i = 0; i <= nenc; i++) {
        const vts_tag *t = i == 0 ? tag : &enclosing[nenc - i];
        const char *v;
        size_t n;

        if (vts_xml_attr_span(t, attr, attr_len, &v, &n))
            return vts_span_eq(v, n, VTS_DOMXML_NS);
    }
    return false;
}

/* Is @tag vmtimesync's metadata element: local name VTS_DOMXML_ELEMENT in
 * our namespace, whatever prefix the writer chose and wherever it declared
 * it (virDomainSetMetadata declares it on the element itself)? */
static bool
vts_is_our_element(const vts_tag *tag, const vts_tag *enclosing, size_t nenc)
{
    const char *colon = memchr(tag->name, ':', tag->name_len);
    const char *local = colon ? colon + 1 : tag->name;
    size_t local_len = tag->name_len - (size_t)(local - tag->name);

    return vts_span_eq(local, local_len, VTS_DOMXML_ELEMENT) &&
           vts_in_our_ns(tag, enclosing, nenc);
}

int
vts_domxml_scan(const char *xml, size_t len, vts_domxml_info *info, vts_error *err)
{
    /* The open elements, outermost first. */
    vts_tag path[VTS_XML_MAX_DEPTH];
    size_t depth = 0;
    bool seen_domain = false;
    const char *cur = xml;
    const char *end;
    vts_tag tag;
    int rc;

    memset(info, 0, sizeof(*info));
    /* Before any arithmetic on @xml: NULL + 0 is undefined too. */
    if (!xml || len == 0)
        return vts_error_set(err, VTS_ERR_BAD_REPLY, "the domain XML is empty");
    end = xml + len;

    while ((rc = vts_xml_next_tag(&cur, end, &tag)) == 1) {
        if (tag.kind == VTS_TAG_CLOSE) {
            if (depth > 0)
                depth--;
            continue;
        }
        if (depth == 0) {
            if (!vts_span_eq(tag.name, tag.name_len, "domain"))
                return vts_error_set(err, VTS_ERR_BAD_REPLY,
                                     "the XML is not a <domain> description");
            seen_domain = true;
        }
        /* <domain><devices><channel><target .../> */
        if (depth == 3 && vts_span_eq(tag.name, tag.name_len, "target") &&
            vts_span_eq(path[1].name, path[1].name_len, "devices") &&
            vts_span_eq(path[2].name, path[2].name_len, "channel") &&
            vts_attr_eq(&tag, "type", "virtio") &&
            vts_attr_eq(&tag, "name", "org.qemu.guest_agent.0")) {
            info->has_agent_channel = true;
            if (vts_attr_eq(&tag, "state", "connected"))
                info->agent_state = VTS_AGENT_STATE_CONNECTED;
            else if (vts_attr_eq(&tag, "state", "disconnected"))
                info->agent_state = VTS_AGENT_STATE_DISCONNECTED;
        }
        /* <domain><clock><timer name='rtc' tickpolicy='catchup'/> */
        if (depth == 2 && vts_span_eq(tag.name, tag.name_len, "timer") &&
            vts_span_eq(path[1].name, path[1].name_len, "clock") &&
            vts_attr_eq(&tag, "name", "rtc") &&
            vts_attr_eq(&tag, "tickpolicy", "catchup"))
            info->rtc_catchup = true;
        /* <domain><metadata><ns:sync enabled='no'/> */
        if (depth == 2 && vts_span_eq(path[1].name, path[1].name_len, "metadata") &&
            vts_is_our_element(&tag, path, depth) && vts_attr_eq(&tag, "enabled", "no"))
            info->opted_out = true;

        if (tag.kind == VTS_TAG_OPEN) {
            if (depth == VTS_XML_MAX_DEPTH)
                return vts_error_set(err, VTS_ERR_BAD_REPLY,
                                     "the domain XML nests deeper than %d elements",
                                     VTS_XML_MAX_DEPTH);
            path[depth++] = tag;
        }
    }
    if (rc < 0)
        return vts_error_set(err, VTS_ERR_BAD_REPLY, "the domain XML ends inside a tag");
    if (!seen_domain)
        return vts_error_set(err, VTS_ERR_BAD_REPLY,
                             "the XML is not a <domain> description");
    return 0;
}
