/* libFuzzer target: the parsers behind connmon.rtd_max_age / --rtdMaxAge
 * (cm_parse_seconds and its halves cm_decimal_scan, cm_decimal_to_ns) and
 * connmon.ts_pure_acks / --ts-pure-acks (cm_parse_ts_pure_acks), each
 * checked against a reference written here another way.
 *
 * Input: the text (up to its first NUL), copied into a heap buffer of
 * exactly its size.
 *
 * The seconds reference works on the text as a decimal string: it reads
 * the syntax with its own character classes, then shifts the digit string
 * by the exponent and rounds it as a string (to nearest, ties to even), so
 * any number of digits and any exponent come out exact.  The accepted /
 * rejected decision, the message and the value must all agree.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connmon.h"
#include "fuzz_check.h"
#include "parse.h"

#define NO_VALUE     "no value given"
#define NEGATIVE     "must not be negative"
#define NOT_A_NUMBER "is not a number of seconds"
#define TOO_LARGE    "is too large"

/* ---- reference: syntax ------------------------------------------------------- */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Where the pieces of a number are in the text. */
typedef struct pieces {
    const char *int_digits, *frac_digits, *exp_digits;
    size_t int_len, frac_len, exp_len;
    bool exp_negative;
} pieces;

static size_t count_digits(const char *s)
{
    size_t n = 0;
    while (is_digit(s[n]))
        n++;
    return n;
}

static const char *ref_syntax(const char *s, pieces *pc)
{
    memset(pc, 0, sizeof *pc);
    while (is_blank(*s))
        s++;
    if (*s == '-')
        return NEGATIVE;
    if (*s == '+')
        s++;
    pc->int_digits = s;
    pc->int_len = count_digits(s);
    s += pc->int_len;
    if (*s == '.') {
        pc->frac_digits = ++s;
        pc->frac_len = count_digits(s);
        s += pc->frac_len;
    }
    if (pc->int_len + pc->frac_len == 0)
        return NOT_A_NUMBER;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            pc->exp_negative = *s++ == '-';
        pc->exp_digits = s;
        pc->exp_len = count_digits(s);
        if (pc->exp_len == 0)
            return NOT_A_NUMBER;
        s += pc->exp_len;
    }
    while (is_blank(*s))
        s++;
    return *s ? NOT_A_NUMBER : NULL;
}

/* ---- reference: value --------------------------------------------------------- */

/* The mantissa's digits, integer then fraction, without leading zeros. */
static char *significant_digits(const pieces *pc, size_t *len)
{
    char *all = malloc(pc->int_len + pc->frac_len + 1);
    FUZZ_CHECK(all != NULL, "out of memory");
    memcpy(all, pc->int_digits, pc->int_len);
    if (pc->frac_len)
        memcpy(all + pc->int_len, pc->frac_digits, pc->frac_len);
    size_t n = pc->int_len + pc->frac_len, lead = 0;
    while (lead < n && all[lead] == '0')
        lead++;
    memmove(all, all + lead, n - lead);
    *len = n - lead;
    all[*len] = '\0';
    return all;
}

/* Digits as an integer; at most 19 of them, so it fits. */
static uint64_t digits_value(const char *s, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (uint64_t)(s[i] - '0');
    return v;
}

#define HUGE_EXP 1000000000 /* far beyond any shift the digits can undo */

/* The written exponent, or +-HUGE_EXP when it has more than 9 digits. */
static int64_t written_exponent(const pieces *pc)
{
    const char *e = pc->exp_digits;
    size_t n = pc->exp_len;
    while (n > 0 && *e == '0')
        e++, n--;
    int64_t v = n > 9 ? HUGE_EXP : (int64_t)digits_value(e, n);
    return pc->exp_negative ? -v : v;
}

/* value = D × 10^k ns, D the significant digits (D[0] != '0'). */
static const char *ref_round(const char *D, size_t L, int64_t k, int64_t *ns)
{
    uint64_t v;
    if (k >= 0) {
        if ((int64_t)L + k > 19)
            return TOO_LARGE;
        v = digits_value(D, L);
        for (int64_t i = 0; i < k; i++)
            v *= 10;
    } else {
        size_t m = (size_t)-k; /* digits after the point */
        if (L > m && L - m > 19)
            return TOO_LARGE;
        size_t int_len = L > m ? L - m : 0;
        v = digits_value(D, int_len);
        /* the fraction, as written: m - L zeros first when L < m */
        char first = L >= m ? D[int_len] : '0';
        bool rest_nonzero = false;
        size_t rest_from = L >= m ? int_len + 1 : 0; /* within D */
        for (size_t i = rest_from; i < L; i++)
            rest_nonzero = rest_nonzero || D[i] != '0';
        if (first > '5' || (first == '5' && (rest_nonzero || (v & 1))))
            v++;
    }
    if (v > (uint64_t)INT64_MAX)
        return TOO_LARGE;
    *ns = (int64_t)v;
    return NULL;
}

static const char *ref_parse_seconds(const char *text, int64_t *ns)
{
    pieces pc;
    const char *err = ref_syntax(text, &pc);
    if (err)
        return err;
    size_t L;
    char *D = significant_digits(&pc, &L);
    int64_t e = written_exponent(&pc);
    if (L == 0) {
        *ns = 0;
    } else if (e == HUGE_EXP) {
        err = TOO_LARGE;
    } else if (e == -HUGE_EXP) {
        *ns = 0; /* below 10^-(HUGE_EXP - length) ns: not even a tie */
    } else {
        err = ref_round(D, L, e - (int64_t)pc.frac_len + 9, ns);
    }
    free(D);
    return err;
}

/* ---- reference: pure-ACK modes -------------------------------------------------- */

static bool same_letters(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        if (x != *b)
            return false;
    }
    return *a == *b;
}

static int ref_mode(const char *text)
{
    if (same_letters(text, "clocked"))
        return CM_TS_PURE_ACKS_CLOCKED;
    if (same_letters(text, "all"))
        return CM_TS_PURE_ACKS_ALL;
    if (same_letters(text, "none"))
        return CM_TS_PURE_ACKS_NONE;
    return -1;
}

/* ---- the checks ------------------------------------------------------------------ */

static bool same_message(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static void check_seconds(const char *text)
{
    const int64_t untouched = -42;
    int64_t ns = untouched, want = untouched;
    const char *err = cm_parse_seconds(text, &ns);
    const char *want_err = ref_parse_seconds(text, &want);
    FUZZ_CHECK(same_message(err, want_err), "\"%s\": \"%s\", reference \"%s\"", text,
               err ? err : "accepted", want_err ? want_err : "accepted");
    FUZZ_CHECK(ns == want, "\"%s\": %lld ns, reference %lld ns", text, (long long)ns,
               (long long)want);

    /* the two halves agree with the whole */
    cm_decimal d;
    const char *scan_err = cm_decimal_scan(text, &d);
    if (scan_err) {
        FUZZ_CHECK(same_message(scan_err, err), "\"%s\": scan says %s", text, scan_err);
        return;
    }
    FUZZ_CHECK(d.ndigits >= 0 && d.ndigits <= CM_DECIMAL_KEEP, "ndigits %d", d.ndigits);
    FUZZ_CHECK(d.ndigits == 0 || d.digits[0] != '0', "\"%s\": leading zero kept", text);
    for (int i = 0; i < d.ndigits; i++)
        FUZZ_CHECK(is_digit(d.digits[i]), "\"%s\": digit %d is 0x%02x", text, i,
                   (unsigned char)d.digits[i]);
    FUZZ_CHECK(d.ndigits == CM_DECIMAL_KEEP || !d.sticky, "\"%s\": sticky with room left",
               text);
    int64_t ns2 = untouched;
    const char *round_err = cm_decimal_to_ns(&d, &ns2);
    FUZZ_CHECK(same_message(round_err, err) && ns2 == ns, "\"%s\": halves give %s %lld", text,
               round_err ? round_err : "accepted", (long long)ns2);
}

static void check_mode(const char *text)
{
    cm_ts_pure_acks mode = (cm_ts_pure_acks)77;
    bool ok = cm_parse_ts_pure_acks(text, &mode);
    int want = ref_mode(text);
    FUZZ_CHECK(ok == (want >= 0), "\"%s\": %s, reference %d", text, ok ? "accepted" : "rejected",
               want);
    if (ok) {
        FUZZ_CHECK((int)mode == want, "\"%s\": mode %d, reference %d", text, (int)mode, want);
        FUZZ_CHECK(same_letters(text, cm_ts_pure_acks_name(mode)), "name %s",
                   cm_ts_pure_acks_name(mode));
    } else {
        FUZZ_CHECK((int)mode == 77, "\"%s\": mode written on failure", text);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool once;
    if (!once) {
        int64_t ns = 5;
        cm_ts_pure_acks m;
        FUZZ_CHECK(same_message(cm_parse_seconds(NULL, &ns), NO_VALUE) && ns == 5, "NULL text");
        FUZZ_CHECK(!cm_parse_ts_pure_acks(NULL, &m), "NULL mode");
        FUZZ_CHECK(strcmp(cm_ts_pure_acks_name((cm_ts_pure_acks)3), "?") == 0, "name of 3");
        once = true;
    }
    const uint8_t *nul = memchr(data, 0, size);
    size_t len = nul ? (size_t)(nul - data) : size;
    char *text = malloc(len + 1);
    FUZZ_CHECK(text != NULL, "out of memory");
    memcpy(text, data, len);
    text[len] = '\0';
    check_seconds(text);
    check_mode(text);
    free(text);
    return 0;
}
