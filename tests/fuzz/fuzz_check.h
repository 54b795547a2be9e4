/* What the fuzz targets do when a property does not hold: say which and
 * where on stderr, then abort(), which libFuzzer reports as a crash and
 * saves the input as an artifact (scripts/fuzz.sh fails on it).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_FUZZ_CHECK_H
#define CONNMON_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond, ...)                                                  \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: property failed: %s\n  ", __FILE__,        \
                    __LINE__, #cond);                                          \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
            abort();                                                           \
        }                                                                      \
    } while (0)

#endif
