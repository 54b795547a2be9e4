/* Unit tests of the parsers (engine/parse.c): decimal seconds to whole
 * nanoseconds and the pure-ACK mode names.  Besides exact cases, random
 * strings are checked against a reference written here another way: the
 * syntax by a POSIX regular expression, the value by shifting the whole
 * digit string by the exponent and rounding it as a decimal string. */
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "connmon.h"
#include "parse.h"

#define NOT_A_NUMBER "is not a number of seconds"
#define NEGATIVE     "must not be negative"
#define TOO_LARGE    "is too large"

/* Parses text; returns the message, *ns left at -42 on failure. */
static const char *parse(const char *text, int64_t *ns)
{
    *ns = -42;
    const char *err = cm_parse_seconds(text, ns);
    if (err)
        CHECK_EQ_I64(*ns, -42);
    return err;
}

#define CHECK_NS(text, expected)                                    \
    do {                                                            \
        int64_t ns_;                                                \
        const char *err_ = parse(text, &ns_);                       \
        CHECK(err_ == NULL);                                        \
        if (err_)                                                   \
            fprintf(stderr, "  \"%s\": %s\n", text, err_);          \
        CHECK_EQ_I64(ns_, expected);                                \
    } while (0)

#define CHECK_ERR(text, message)                                    \
    do {                                                            \
        int64_t ns_;                                                \
        const char *err_ = parse(text, &ns_);                       \
        CHECK(err_ && strcmp(err_, message) == 0);                  \
        if (!err_ || strcmp(err_, message) != 0)                    \
            fprintf(stderr, "  \"%s\": %s\n", text, err_ ? err_ : "accepted"); \
    } while (0)

static void test_seconds_values(void)
{
    CHECK_NS("10", INT64_C(10000000000));
    CHECK_NS("0.5", 500000000);
    CHECK_NS(".25", 250000000);
    CHECK_NS("5.", INT64_C(5000000000));
    CHECK_NS("1e-3", 1000000);
    CHECK_NS("2.5E1", INT64_C(25000000000));
    CHECK_NS(" 0.000000001 ", 1);
    CHECK_NS("\t\n1\r\v\f", 1000000000);
    CHECK_NS("0", 0);
    CHECK_NS("000", 0);
    CHECK_NS("0.000", 0);
    CHECK_NS("+3", INT64_C(3000000000));
    CHECK_NS("+.5e+1", INT64_C(5000000000));
    CHECK_NS("0.1", 100000000);
    CHECK_NS("1e-12", 0);
    CHECK_NS("007.50", INT64_C(7500000000));
    CHECK_NS("9000000000", INT64_C(9000000000000000000));
    CHECK_NS("1e+0000000000000000000000000000001", INT64_C(10000000000));
}

static void test_seconds_rounding(void)
{
    /* to nearest, ties to even */
    CHECK_NS("0.0000000005", 0);
    CHECK_NS("0.0000000015", 2);
    CHECK_NS("0.0000000025", 2);
    CHECK_NS("0.0000000035", 4);
    CHECK_NS("0.00000000250001", 3);
    CHECK_NS("0.0000000014999", 1);
    CHECK_NS("0.00000000049999999999", 0);
    CHECK_NS("1.0000000005", 1000000000);
    CHECK_NS("1.0000000015", 1000000002);
    CHECK_NS("5e-10", 0);
    CHECK_NS("15e-10", 2);
    CHECK_NS("0.6e-9", 1);
    /* the largest value there is, and what rounds past it */
    CHECK_NS("9223372036.854775807", INT64_MAX);
    CHECK_NS("9223372036.8547758074999999", INT64_MAX);
    CHECK_NS("9223372036854775807e-9", INT64_MAX);
    CHECK_NS("9223372036.8547758065", INT64_MAX - 1); /* tie, even below */
    CHECK_ERR("9223372036.8547758075", TOO_LARGE);     /* tie, odd: up, past */
    CHECK_ERR("9223372036.854775808", TOO_LARGE);
    CHECK_ERR("9999999999.9999999995", TOO_LARGE);
    CHECK_ERR("99999999999", TOO_LARGE);
    CHECK_ERR("1e400", TOO_LARGE);
}

/* "0." followed by `zeros` zeros, then tail. */
static char *zeros_then(int zeros, const char *tail)
{
    static char buf[512];
    int n = snprintf(buf, sizeof buf, "0.");
    for (int i = 0; i < zeros; i++)
        buf[n++] = '0';
    snprintf(buf + n, sizeof buf - (size_t)n, "%s", tail);
    return buf;
}

/* The cases a check against a decimal reference found wrong (issue 8), and
 * more of the same: any number of digits, any exponent. */
static void test_seconds_long_and_huge(void)
{
    CHECK_NS("0.01e11", INT64_C(1000000000000000000));
    CHECK_NS("0.0000000001e19", INT64_C(1000000000000000000));
    /* digits after the 64th (here the 70th) count */
    CHECK_NS(zeros_then(69, "1e70"), 1000000000);
    CHECK_NS(zeros_then(69, "5e60"), 0);         /* 0.5 ns: tie, even below */
    CHECK_NS(zeros_then(69, "15e61"), 2);        /* 1.5 ns: tie, even above */
    CHECK_NS(zeros_then(69, "25e61"), 2);
    CHECK_NS(zeros_then(200, "1e202"), INT64_C(10000000000));
    /* a tie decided by a nonzero digit far beyond the kept digits */
    char buf[512];
    snprintf(buf, sizeof buf, "%s", zeros_then(8, "25"));
    CHECK_NS(buf, 2);
    snprintf(buf, sizeof buf, "%s%s", zeros_then(8, "25"), zeros_then(100, "1") + 2);
    CHECK_NS(buf, 3);
    /* an integer part of more than 64 digits, with a negative exponent */
    memset(buf, 0, sizeof buf);
    for (int i = 0; i < 70; i++)
        buf[i] = (char)('1' + i % 9);
    strcat(buf, "e-300");
    CHECK_NS(buf, 0);
    memset(buf, 0, sizeof buf);
    buf[0] = '1';
    memset(buf + 1, '0', 69);                    /* 10^69 */
    strcat(buf, "e-60");
    CHECK_NS(buf, INT64_C(1000000000000000000));
    buf[70] = 0;
    strcat(buf, "e-78");                         /* 10^-9 s */
    CHECK_NS(buf, 1);
    buf[70] = 0;
    strcat(buf, "e-61");
    CHECK_NS(buf, INT64_C(100000000000000000));
    /* 25 then 40 zeros then 1, as 2.5...01 ns: the 1 is past what is kept */
    memset(buf, 0, sizeof buf);
    strcpy(buf, "25");
    memset(buf + 2, '0', 40);
    strcat(buf, "1e-51");
    CHECK_NS(buf, 3);
    buf[42] = 0;
    strcat(buf, "e-50");                         /* 2.5 ns exactly */
    CHECK_NS(buf, 2);
    /* exponents of any size */
    CHECK_ERR("1e99999999999", TOO_LARGE);
    CHECK_ERR("1e99999999999999999999999999999999", TOO_LARGE);
    CHECK_NS("1e-99999999999", 0);
    CHECK_NS("1e-99999999999999999999999999999999", 0);
    CHECK_NS("0e99999999999999999999999999999999", 0);
    CHECK_NS("0.0e99999999999", 0);
    CHECK_NS("1e-1000000000000000000", 0);
    CHECK_ERR("1e1000000000000000000", TOO_LARGE);
    CHECK_ERR("1e9223372036854775807", TOO_LARGE);
    CHECK_NS("1e-9223372036854775808", 0);
}

static void test_seconds_rejected(void)
{
    const char *syntax[] = {"abc", "", " ", ".", "+", "1.5.3", "1e", "1e+", "e5", ".e1",
                            "inf", "nan", "0x10", "10s", "1,5", "1 5", "+ 3", "++3",
                            "+-3", "1e5.0", "1e 5", "1 e5", "١", NULL};
    for (int i = 0; syntax[i]; i++)
        CHECK_ERR(syntax[i], NOT_A_NUMBER);
    const char *negative[] = {"-1", "-0", " -0.0", "-0.5", "-", "-abc", "\t-1e-400", NULL};
    for (int i = 0; negative[i]; i++)
        CHECK_ERR(negative[i], NEGATIVE);
    int64_t ns = 42;
    CHECK(strcmp(cm_parse_seconds(NULL, &ns), "no value given") == 0);
    CHECK_EQ_I64(ns, 42);
}

/* The scanner alone: exact digits and exponent, nothing rounded. */
static void test_decimal_scan(void)
{
    cm_decimal d;
    CHECK(cm_decimal_scan(" 00120.0500e3 ", &d) == NULL);
    CHECK(d.ndigits == 7 && memcmp(d.digits, "1200500", 7) == 0);
    CHECK_EQ_I64(d.exp10, -1);
    CHECK(!d.sticky);
    CHECK(cm_decimal_scan("0.000", &d) == NULL);
    CHECK_EQ_I64(d.ndigits, 0);
    CHECK(cm_decimal_scan(".00012", &d) == NULL);
    CHECK(d.ndigits == 2 && memcmp(d.digits, "12", 2) == 0);
    CHECK_EQ_I64(d.exp10, -5);
    /* 30 integer digits: 20 kept, 10 only in the exponent and sticky */
    CHECK(cm_decimal_scan("123456789012345678901000000001", &d) == NULL);
    CHECK(d.ndigits == CM_DECIMAL_KEEP && memcmp(d.digits, "12345678901234567890", 20) == 0);
    CHECK_EQ_I64(d.exp10, 10);
    CHECK(d.sticky);
    CHECK(cm_decimal_scan("123456789012345678900000000000.000", &d) == NULL);
    CHECK_EQ_I64(d.exp10, 10);
    CHECK(!d.sticky);
    /* dropped fraction digits leave the exponent alone */
    CHECK(cm_decimal_scan("1.2345678901234567890123e2", &d) == NULL);
    CHECK_EQ_I64(d.exp10, -19 + 2);
    CHECK(d.sticky);
    CHECK(cm_decimal_scan("1e-99999999999999999999", &d) == NULL);
    CHECK_EQ_I64(d.exp10, -CM_DECIMAL_EXP_LIMIT);
    CHECK(cm_decimal_scan("1e", &d) != NULL);

    /* the converter alone */
    int64_t ns = -1;
    cm_decimal big = {.digits = "25", .ndigits = 2, .sticky = false, .exp10 = -10};
    CHECK(cm_decimal_to_ns(&big, &ns) == NULL);
    CHECK_EQ_I64(ns, 2);
    big.sticky = true;
    CHECK(cm_decimal_to_ns(&big, &ns) == NULL);
    CHECK_EQ_I64(ns, 3);
    big.exp10 = 9;
    ns = 7;
    CHECK(cm_decimal_to_ns(&big, &ns) != NULL);
    CHECK_EQ_I64(ns, 7);
}

/* ---- the reference ----------------------------------------------------- */

static regex_t re_number, re_negative;

static void reference_init(void)
{
    /* blanks, '+', digits with one optional '.', exponent, blanks */
    CHECK(regcomp(&re_number,
                  "^[[:space:]]*[+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?[[:space:]]*$",
                  REG_EXTENDED | REG_NOSUB) == 0);
    CHECK(regcomp(&re_negative, "^[[:space:]]*-", REG_EXTENDED | REG_NOSUB) == 0);
}

/* Adds one to a string of decimal digits (room for one more left). */
static void decimal_increment(char *s)
{
    size_t n = strlen(s);
    for (size_t i = n; i-- > 0;) {
        if (s[i] != '9') {
            s[i]++;
            return;
        }
        s[i] = '0';
    }
    memmove(s + 1, s, n + 1);
    s[0] = '1';
}

/* The reference: NULL and *ns, or the message, or SKIP for exponents too
 * large for it.  Works on the whole digit string: mantissa digits m (all of
 * them) with the point after p, written exponent e; in nanoseconds the
 * point sits after p + e + 9 digits, zero-padded on either side. */
static const char SKIP[] = "skipped";

static const char *reference(const char *text, int64_t *ns)
{
    if (regexec(&re_negative, text, 0, NULL, 0) == 0)
        return NEGATIVE;
    if (regexec(&re_number, text, 0, NULL, 0) != 0)
        return NOT_A_NUMBER;
    char m[512];
    long n = 0, p = -1;
    const char *s = text;
    for (; *s && *s != 'e' && *s != 'E'; s++) {
        if (*s >= '0' && *s <= '9')
            m[n++] = *s;
        else if (*s == '.')
            p = n;
    }
    if (p < 0)
        p = n;
    long e = (*s == 'e' || *s == 'E') ? strtol(s + 1, NULL, 10) : 0;
    if (e > 5000 || e < -5000)
        return SKIP;
    long point = p + e + 9;
    char ip[32], fp[8192];
    size_t ni = 0, nf = 0;
    for (long i = 0; i < point; i++) { /* integer part, no leading zeros */
        char c = i < n ? m[i] : '0';
        if (ni || c != '0')
            ip[ni++] = c;
        if (ni > 19)
            return TOO_LARGE;
    }
    if (ni == 0)
        ip[ni++] = '0';
    ip[ni] = 0;
    for (long i = point; i < n; i++) /* fraction, zeros first when point < 0 */
        fp[nf++] = i >= 0 ? m[i] : '0';
    bool rest = false;
    for (size_t i = 1; i < nf; i++)
        rest = rest || fp[i] != '0';
    bool odd = (ip[ni - 1] - '0') % 2;
    if (nf && (fp[0] > '5' || (fp[0] == '5' && (rest || odd))))
        decimal_increment(ip);
    const char *max = "9223372036854775807";
    if (strlen(ip) > strlen(max) || (strlen(ip) == strlen(max) && strcmp(ip, max) > 0))
        return TOO_LARGE;
    *ns = (int64_t)strtoull(ip, NULL, 10);
    return NULL;
}

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11) % n;
}

/* Digits biased towards zeros, fives and nines: ties and carries. */
static char random_digit(void)
{
    static const char pool[] = "00000123455556789999";
    return pool[rnd(sizeof pool - 1)];
}

static void append_digits(char *buf, size_t *n, int count)
{
    for (int i = 0; i < count; i++)
        buf[(*n)++] = random_digit();
}

/* Mostly well-formed numbers of every shape around the interesting
 * magnitudes (ties at the ninth fractional digit, the int64_t end), some
 * mutated into near misses.  At most ~300 characters. */
static void random_number(char *buf)
{
    static const char blanks[] = " \t\n";
    static const char junk[] = "0123456789.eE+- x";
    size_t n = 0;
    for (int k = 0; k < 3 && rnd(4) == 0; k++)
        buf[n++] = blanks[rnd(3)];
    if (rnd(8) == 0)
        buf[n++] = rnd(4) ? '+' : '-';
    for (int k = 0; k < 20 && rnd(3) == 0; k++)
        buf[n++] = '0';
    int int_digits = rnd(3) ? (int)rnd(12) : (int)rnd(90);
    append_digits(buf, &n, int_digits);
    if (rnd(3)) {
        buf[n++] = '.';
        for (int k = 0; k < 80 && rnd(2) == 0; k++)
            buf[n++] = '0';
        append_digits(buf, &n, rnd(3) ? (int)rnd(14) : (int)rnd(90));
    }
    if (rnd(2)) {
        /* near the end of int64_t, near the rounding digit, or anywhere */
        long target = rnd(2) ? 10 - int_digits : -9 - int_digits;
        long e = rnd(4) ? target + (long)rnd(7) - 3 : (long)rnd(801) - 400;
        buf[n++] = rnd(2) ? 'e' : 'E';
        if (e < 0 || rnd(3) == 0)
            buf[n++] = e < 0 ? '-' : '+';
        n += (size_t)sprintf(buf + n, "%s%ld", rnd(6) ? "" : "00", e < 0 ? -e : e);
    }
    for (int k = 0; k < 3 && rnd(4) == 0; k++)
        buf[n++] = blanks[rnd(3)];
    buf[n] = 0;
    if (n && rnd(10) == 0)
        buf[rnd((uint32_t)n)] = junk[rnd(sizeof junk - 1)];
    if (rnd(20) == 0) { /* an inserted character */
        size_t at = rnd((uint32_t)n + 1);
        memmove(buf + at + 1, buf + at, n - at + 1);
        buf[at] = junk[rnd(sizeof junk - 1)];
    }
}

static void test_seconds_against_reference(void)
{
    reference_init();
    int accepted = 0, too_large = 0, rejected = 0, mismatches = 0;
    char buf[512];
    for (int i = 0; i < 200000; i++) {
        random_number(buf);
        int64_t got = -1, want = -1;
        const char *got_err = cm_parse_seconds(buf, &got);
        const char *want_err = reference(buf, &want);
        if (want_err == SKIP)
            continue;
        bool same = (got_err == NULL) == (want_err == NULL) &&
                    (got_err ? strcmp(got_err, want_err) == 0 : got == want);
        CHECK(same);
        if (!same && ++mismatches <= 10)
            fprintf(stderr, "  \"%s\": %s %" PRId64 ", reference %s %" PRId64 "\n", buf,
                    got_err ? got_err : "ok", got, want_err ? want_err : "ok", want);
        accepted += !got_err;
        too_large += got_err && strcmp(got_err, TOO_LARGE) == 0;
        rejected += got_err && strcmp(got_err, TOO_LARGE) != 0;
    }
    /* every outcome, and the accepting one a lot */
    printf("     %d accepted, %d too large, %d rejected\n", accepted, too_large, rejected);
    CHECK(accepted > 80000 && too_large > 10000 && rejected > 10000);
    regfree(&re_number);
    regfree(&re_negative);
}

static void test_modes(void)
{
    cm_ts_pure_acks m = CM_TS_PURE_ACKS_NONE;
    CHECK(cm_parse_ts_pure_acks("clocked", &m) && m == CM_TS_PURE_ACKS_CLOCKED);
    CHECK(cm_parse_ts_pure_acks("ALL", &m) && m == CM_TS_PURE_ACKS_ALL);
    CHECK(cm_parse_ts_pure_acks("None", &m) && m == CM_TS_PURE_ACKS_NONE);
    m = CM_TS_PURE_ACKS_ALL;
    CHECK(!cm_parse_ts_pure_acks("some", &m));
    CHECK(!cm_parse_ts_pure_acks("", &m));
    CHECK(!cm_parse_ts_pure_acks(" all", &m));
    CHECK(!cm_parse_ts_pure_acks(NULL, &m));
    CHECK(m == CM_TS_PURE_ACKS_ALL);
    CHECK(strcmp(cm_ts_pure_acks_name(CM_TS_PURE_ACKS_CLOCKED), "clocked") == 0);
    CHECK(strcmp(cm_ts_pure_acks_name(CM_TS_PURE_ACKS_ALL), "all") == 0);
    CHECK(strcmp(cm_ts_pure_acks_name(CM_TS_PURE_ACKS_NONE), "none") == 0);
    CHECK(strcmp(cm_ts_pure_acks_name((cm_ts_pure_acks)7), "?") == 0);
    /* every name parses back to its mode */
    for (int i = 0; i < 3; i++)
        CHECK(cm_parse_ts_pure_acks(cm_ts_pure_acks_name((cm_ts_pure_acks)i), &m) && (int)m == i);
}

int main(void)
{
    RUN(test_seconds_values);
    RUN(test_seconds_rounding);
    RUN(test_seconds_long_and_huge);
    RUN(test_seconds_rejected);
    RUN(test_decimal_scan);
    RUN(test_seconds_against_reference);
    RUN(test_modes);
    return check_summary("test_parse");
}
