/* Internal to the engine: the two halves of cm_parse_seconds(), exposed so
 * that tests (and fuzz targets) can check each on its own.  The front ends
 * use the prototypes in connmon.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_PARSE_H
#define CONNMON_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* Significant digits kept by the scanner.  A result in nanoseconds that
 * fits in int64_t has at most 19 digits, and rounding it needs one digit
 * more; every digit after those only matters as "zero or not", which the
 * sticky bit keeps.  So 20 is exact; more would only cost stack. */
#define CM_DECIMAL_KEEP 20

/* Saturation bound of the exponent written in the text.  Past it the value
 * is 0 or too large whatever the digits are (no string that fits in memory
 * has enough digits to move it back), and the sums of exponents below can
 * not overflow int64_t. */
#define CM_DECIMAL_EXP_LIMIT INT64_C(1000000000000000000)

/* A non-negative decimal number, exactly:
 *     value = digits × 10^exp10  (+ something below the last kept digit
 *                                  when sticky)
 * digits has no leading zero; ndigits == 0 means the value is 0. */
typedef struct cm_decimal {
    char    digits[CM_DECIMAL_KEEP]; /* '1'..'9' then '0'..'9', no NUL */
    int     ndigits;
    bool    sticky;                  /* a nonzero digit was dropped after them */
    int64_t exp10;
} cm_decimal;

/* Scanning: turns text into a cm_decimal, nothing rounded.  Accepts
 * blanks, an optional '+', digits with at most one '.', at least one digit,
 * an optional exponent ('e' or 'E', optional sign, digits), blanks.
 * Returns NULL on success or a static message: "no value given" (NULL
 * text), "must not be negative" (a leading '-', "-0" included), "is not a
 * number of seconds".  *out is undefined on failure. */
const char *cm_decimal_scan(const char *text, cm_decimal *out);

/* Rounding: value × 10^9 to the nearest integer, ties to even.  Returns
 * NULL and sets *ns_out, or returns "is too large" (result above
 * INT64_MAX) and leaves *ns_out alone. */
const char *cm_decimal_to_ns(const cm_decimal *d, int64_t *ns_out);

#endif /* CONNMON_PARSE_H */
