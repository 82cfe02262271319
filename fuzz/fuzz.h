/* fuzz.h: what the libFuzzer targets in fuzz/ share: the entry point's
 * prototype and checks of the properties every parser promises, which
 * abort (a finding, like a crash) when they do not hold. */
#ifndef VTS_FUZZ_H
#define VTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vts_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise is a finding: say which, and abort so that libFuzzer
 * keeps the input. */
#define FUZZ_CHECK(cond)                                                                 \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: property does not hold: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                              \
            abort();                                                                     \
        }                                                                                \
    } while (0)

/* @data as a C string: a malloc'd copy of its bytes up to the first NUL
 * (the seam hands the parsers C strings), sized exactly, so that ASan sees
 * a read past the terminator. Aborts when out of memory. */
static inline char *
fuzz_cstring(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    size_t n = nul ? (size_t)(nul - data) : size;
    char *s = malloc(n + 1);

    FUZZ_CHECK(s != NULL);
    memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

/* A failure fills the error: a known code other than VTS_OK, and a
 * non-empty message terminated inside its buffer. */
static inline void
fuzz_check_error(const vts_error *err)
{
    FUZZ_CHECK(err->code > VTS_OK && err->code < VTS_ERR__COUNT);
    FUZZ_CHECK(memchr(err->message, '\0', sizeof(err->message)) != NULL);
    FUZZ_CHECK(err->message[0] != '\0');
}

/* Control characters in a message would forge log lines or send terminal
 * escapes. A tab is allowed when @tab_ok (the configuration's lines may
 * hold tabs as blanks, and quote them back). */
static inline int
fuzz_has_control(const char *s, int tab_ok)
{
    for (; *s; s++)
        if (((unsigned char)*s < 0x20 && !(tab_ok && *s == '\t')) || *s == 0x7f)
            return 1;
    return 0;
}

#endif /* VTS_FUZZ_H */
