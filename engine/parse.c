/* The parsers behind the preferences and options: a decimal number of
 * seconds (connmon.rtd_max_age, --rtdMaxAge, ...) and the pure-ACK mode
 * names (connmon.ts_pure_acks, --tsPureAcks).
 *
 * Seconds are parsed in two steps that know nothing of each other:
 * scanning turns the text into digits and a decimal exponent without
 * losing anything (cm_decimal_scan), rounding turns that into whole
 * nanoseconds (cm_decimal_to_ns).  Exact for every decimal string, however
 * many digits and however large its exponent.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "parse.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "connmon.h"

/* ---- scanning ------------------------------------------------------------- */

static const char *skip_blanks(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

/* Appends one mantissa digit.  Leading zeros are not significant: in the
 * fraction they only move the exponent.  Past CM_DECIMAL_KEEP digits a
 * digit only sets the sticky bit, and an integer digit still multiplies
 * the value by ten. */
static void add_digit(cm_decimal *d, char c, bool in_fraction)
{
    if (d->ndigits == 0 && c == '0') {
        if (in_fraction)
            d->exp10--;
        return;
    }
    if (d->ndigits < CM_DECIMAL_KEEP) {
        d->digits[d->ndigits++] = c;
        if (in_fraction)
            d->exp10--;
        return;
    }
    d->sticky = d->sticky || c != '0';
    if (!in_fraction)
        d->exp10++;
}

/* Digits with at most one '.' among them.  Returns where they end, or NULL
 * when there is no digit at all ("", ".", "e5"). */
static const char *scan_mantissa(const char *s, cm_decimal *d)
{
    bool any = false, in_fraction = false;
    for (;; s++) {
        if (isdigit((unsigned char)*s)) {
            add_digit(d, *s, in_fraction);
            any = true;
        } else if (*s == '.' && !in_fraction) {
            in_fraction = true;
        } else {
            return any ? s : NULL;
        }
    }
}

/* An optional exponent: 'e' or 'E', an optional sign, digits.  Its
 * magnitude saturates at CM_DECIMAL_EXP_LIMIT.  Returns where it ends (s
 * itself when there is none, *exp10 then 0), or NULL when malformed. */
static const char *scan_exponent(const char *s, int64_t *exp10)
{
    *exp10 = 0;
    if (*s != 'e' && *s != 'E')
        return s;
    s++;
    bool negative = *s == '-';
    if (*s == '+' || *s == '-')
        s++;
    if (!isdigit((unsigned char)*s))
        return NULL;
    int64_t e = 0;
    for (; isdigit((unsigned char)*s); s++)
        e = e > (CM_DECIMAL_EXP_LIMIT - 9) / 10 ? CM_DECIMAL_EXP_LIMIT : e * 10 + (*s - '0');
    *exp10 = negative ? -e : e;
    return s;
}

const char *cm_decimal_scan(const char *text, cm_decimal *out)
{
    if (!text)
        return "no value given";
    memset(out, 0, sizeof *out);
    const char *s = skip_blanks(text);
    if (*s == '-')
        return "must not be negative";
    if (*s == '+')
        s++;
    int64_t written_exp10 = 0;
    s = scan_mantissa(s, out);
    if (s)
        s = scan_exponent(s, &written_exp10);
    if (!s || *skip_blanks(s))
        return "is not a number of seconds";
    /* The mantissa moved the exponent by at most its length, far from
     * int64_t's ends even with a saturated written exponent. */
    out->exp10 += written_exp10;
    return NULL;
}

/* ---- rounding -------------------------------------------------------------- */

/* Digit i of d (0 is the most significant); zero outside the kept ones. */
static int digit_at(const cm_decimal *d, int64_t i)
{
    return i >= 0 && i < d->ndigits ? d->digits[i] - '0' : 0;
}

/* Whether any digit after position i is nonzero, dropped ones included. */
static bool nonzero_after(const cm_decimal *d, int64_t i)
{
    for (int64_t j = i < 0 ? 0 : i + 1; j < d->ndigits; j++)
        if (d->digits[j] != '0')
            return true;
    return d->sticky;
}

const char *cm_decimal_to_ns(const cm_decimal *d, int64_t *ns_out)
{
    if (d->ndigits == 0) {
        *ns_out = 0;
        return NULL;
    }
    /* digits × 10^(exp10 + 9) nanoseconds: its integer part has int_len
     * digits, led by digits[0], which is not zero. */
    int64_t int_len = d->ndigits + d->exp10 + 9;
    if (int_len > 19)
        return "is too large"; /* at least 10^19 > INT64_MAX */
    /* From here int_len < CM_DECIMAL_KEEP, so digits dropped by the scanner
     * (the sticky bit) all lie after the rounding digit. */
    uint64_t ns = 0;
    for (int64_t i = 0; i < int_len; i++)
        ns = ns * 10 + (uint64_t)digit_at(d, i);
    int round_digit = digit_at(d, int_len);
    if (round_digit > 5 || (round_digit == 5 && (nonzero_after(d, int_len) || (ns & 1))))
        ns++;
    if (ns > (uint64_t)INT64_MAX)
        return "is too large";
    *ns_out = (int64_t)ns;
    return NULL;
}

const char *cm_parse_seconds(const char *text, int64_t *ns_out)
{
    cm_decimal d;
    const char *err = cm_decimal_scan(text, &d);
    return err ? err : cm_decimal_to_ns(&d, ns_out);
}

/* ---- pure-ACK mode names ------------------------------------------------- */

/* Indexed by cm_ts_pure_acks. */
static const char *const mode_names[] = {"clocked", "all", "none"};
#define MODE_COUNT (sizeof mode_names / sizeof mode_names[0])

bool cm_parse_ts_pure_acks(const char *text, cm_ts_pure_acks *out)
{
    for (size_t i = 0; text && i < MODE_COUNT; i++) {
        if (strcasecmp(text, mode_names[i]) == 0) {
            *out = (cm_ts_pure_acks)i;
            return true;
        }
    }
    return false;
}

const char *cm_ts_pure_acks_name(cm_ts_pure_acks mode)
{
    return (unsigned)mode < MODE_COUNT ? mode_names[mode] : "?";
}
