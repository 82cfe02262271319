/* vts_conf_priv.h: the key table of vts_conf.c, read by its unit tests to
 * check it against the documentation. */
#ifndef VTS_CONF_ALLOW_PRIV
#error "vts_conf_priv.h is for lib/vts_conf.c and its tests only"
#endif
#ifndef VTS_CONF_PRIV_H
#define VTS_CONF_PRIV_H

#include <stdbool.h>
#include <stddef.h>

/* The number of keys in the table. */
size_t vts_conf_key_count(void);

/* The name of key @i (0 <= @i < vts_conf_key_count()), as in the file. */
const char *vts_conf_key_name(size_t i);

/* What key @i does, in one line. */
const char *vts_conf_key_doc(size_t i);

/* Write into @buf of @len bytes the default of key @i as the documentation
 * writes it ("5ms", "8", "info", "off"), and return true; for a key without
 * one, the word the documentation uses instead ("none", "empty") and
 * return false. */
bool vts_conf_key_default(size_t i, char *buf, size_t len);

#endif /* VTS_CONF_PRIV_H */
