/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Lines are built by hand in a small buffer: printf-style formatting was
 * three quarters of the command line's CPU time. */
#include "output.h"

#include "digits.h"
#include "fields.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

bool output_selects(const cm_result *r, bool quick)
{
    if (r->present & (CM_HAS_TSRTD | CM_HAS_SEQRTD))
        return true;
    if (quick)
        return false;
    return (r->present & CM_HAS_DUPACK) || ((r->present & CM_HAS_SEQGAP) && r->seqgap > 0);
}

typedef struct line {
    char buf[512];
    size_t n;
} line;

static inline void put_mem(line *l, const char *s, size_t len)
{
    if (l->n + len < sizeof l->buf) {
        memcpy(l->buf + l->n, s, len);
        l->n += len;
    }
}

static inline void put_str(line *l, const char *s)
{
    put_mem(l, s, strlen(s));
}

static inline void put_ch(line *l, char c)
{
    if (l->n + 1 < sizeof l->buf)
        l->buf[l->n++] = c;
}

/* Two digits per division (digits.h): every packet prints several numbers. */

/* The last `width` digits of v, zero-padded, ending at end. */
static void digits_right(char *end, uint64_t v, int width)
{
    while (width >= 2) {
        const char *d = cm_digit_pairs + 2 * (v % 100);
        v /= 100;
        *--end = d[1];
        *--end = d[0];
        width -= 2;
    }
    if (width)
        *--end = (char)('0' + v % 10);
}

static void put_u64(line *l, uint64_t v)
{
    char tmp[24];
    int i = sizeof tmp;
    while (v >= 100) {
        const char *d = cm_digit_pairs + 2 * (v % 100);
        v /= 100;
        tmp[--i] = d[1];
        tmp[--i] = d[0];
    }
    if (v >= 10) {
        tmp[--i] = cm_digit_pairs[2 * v + 1];
        tmp[--i] = cm_digit_pairs[2 * v];
    } else {
        tmp[--i] = (char)('0' + v);
    }
    if (l->n + (sizeof tmp - (size_t)i) < sizeof l->buf) {
        memcpy(l->buf + l->n, tmp + i, sizeof tmp - (size_t)i);
        l->n += sizeof tmp - (size_t)i;
    }
}

static void put_i64(line *l, int64_t v)
{
    if (v < 0) {
        put_ch(l, '-');
        put_u64(l, (uint64_t)(-(v + 1)) + 1);
    } else {
        put_u64(l, (uint64_t)v);
    }
}

/* ns as seconds with 6 or 9 decimals, rounded half away from zero. */
static void put_seconds(line *l, int64_t ns, int decimals)
{
    uint64_t v = ns < 0 ? (uint64_t)(-(ns + 1)) + 1 : (uint64_t)ns;
    uint64_t unit = decimals == 6 ? 1000 : 1, per_sec = decimals == 6 ? 1000000 : 1000000000;
    uint64_t scaled = (v + unit / 2) / unit;
    if (ns < 0)
        put_ch(l, '-');
    put_u64(l, scaled / per_sec);
    put_ch(l, '.');
    char frac[10];
    digits_right(frac + decimals, scaled % per_sec, decimals);
    if (l->n + (size_t)decimals < sizeof l->buf) {
        memcpy(l->buf + l->n, frac, (size_t)decimals);
        l->n += (size_t)decimals;
    }
}

void format_duration_human(char *buf, size_t size, int64_t ns)
{
    static const struct { double scale; const char *unit; } units[] = {
        {1e3, "us"}, {1e6, "ms"}, {1e9, "s"}};
    const char *sign = ns < 0 ? "-" : "";
    double v = ns < 0 ? -(double)ns : (double)ns;
    if (v < 999.5) {
        snprintf(buf, size, "%s%.0fns", sign, v);
        return;
    }
    for (int i = 0; i < 3; i++) {
        double x = v / units[i].scale;
        if (x < 999.5 || i == 2) {
            if (x >= 999.5)
                snprintf(buf, size, "%s%.0f%s", sign, x, units[i].unit);
            else
                snprintf(buf, size, "%s%.3g%s", sign, x, units[i].unit);
            return;
        }
    }
}

static void put_duration(line *l, int64_t ns, bool machine)
{
    if (machine) {
        put_seconds(l, ns, 6);
    } else {
        char tmp[32];
        format_duration_human(tmp, sizeof tmp, ns);
        put_str(l, tmp);
    }
}

/* A duration column and its separator; `absent` when the result has no
 * such value. */
static void put_column(line *l, const cm_result *r, uint32_t has, int64_t ns, char absent,
                       bool machine)
{
    if (r->present & has)
        put_duration(l, ns, machine);
    else
        put_ch(l, absent);
    put_ch(l, ' ');
}

/* HH:MM:SS in local time; localtime_r once per second of capture time. */
static void put_clock(line *l, int64_t t_ns)
{
    static time_t cached_secs = (time_t)-1;
    static char cached[16];
    time_t secs = (time_t)(t_ns / 1000000000);
    if (secs != cached_secs) {
        struct tm tm;
        localtime_r(&secs, &tm);
        strftime(cached, sizeof cached, "%H:%M:%S", &tm);
        cached_secs = secs;
    }
    put_str(l, cached);
}

/* One JSON object: "frame", "time", then every field of engine/fields.def
 * the packet carries, in table order, then its expert infos. */
static void json_line(line *l, const cm_packet *p, const cm_result *r, const char *flow)
{
    put_str(l, "{\"frame\":");
    put_u64(l, p->frame);
    put_str(l, ",\"time\":");
    put_seconds(l, p->t_ns, 9);
    /* ,"key": of every field, made at compile time from the table */
    static const struct { const char *text; unsigned len; } keys[CM_F_COUNT] = {
#define CM_FIELD(id, abbrev, kind, name, blurb) {",\"" abbrev "\":", sizeof(",\"" abbrev "\":") - 1},
#include "fields.def"
    };
    for (int id = 0; id < CM_F_COUNT; id++) {
        const cm_field_info *f = &cm_field_table[id];
        int64_t v = 0;
        if (f->kind != CM_KIND_STRING && !cm_field_value(r, (cm_field_id)id, &v))
            continue;
        put_mem(l, keys[id].text, keys[id].len);
        switch (f->kind) {
        case CM_KIND_TIME:
            put_seconds(l, v, 9);
            break;
        case CM_KIND_BOOL:
            put_str(l, v ? "true" : "false");
            break;
        case CM_KIND_INT32:
            put_i64(l, v);
            break;
        case CM_KIND_STRING: /* the flow label: addresses and ports only */
            put_ch(l, '"');
            put_str(l, flow);
            put_ch(l, '"');
            break;
        default:
            put_u64(l, (uint64_t)v);
            break;
        }
    }
    for (int e = 0; e < CM_E_COUNT; e++) {
        if (r->expert & cm_expert_table[e].bit) {
            put_str(l, ",\"");
            put_str(l, cm_expert_table[e].abbrev);
            put_str(l, "\":true");
        }
    }
    put_str(l, "}\n");
}

/* The original connmon's columns: time, TS and seq delays, gap, duplicate
 * ACK, payload, flow bytes, flow. */
static void original_line(line *l, const cm_packet *p, const cm_result *r, const char *flow,
                          bool machine)
{
    if (machine)
        put_seconds(l, p->t_ns, 6);
    else
        put_clock(l, p->t_ns);
    put_ch(l, ' ');
    put_column(l, r, CM_HAS_TSRTD, r->tsrtd_ns, '*', machine);
    put_column(l, r, CM_HAS_SEQRTD, r->seqrtd_ns, '*', machine);
    put_i64(l, (r->present & CM_HAS_SEQGAP) ? r->seqgap : 0);
    put_ch(l, ' ');
    put_column(l, r, CM_HAS_DUPACK, r->dupack_ns, '-', machine);
    put_u64(l, r->payload);
    put_ch(l, ' ');
    put_u64(l, r->flowbytes);
    put_ch(l, ' ');
    put_str(l, flow);
    put_ch(l, '\n');
}

void output_line(FILE *out, out_format fmt, const cm_packet *p, const cm_result *r,
                 const char *flow)
{
    line l;
    l.n = 0;
    if (fmt == OUT_JSON)
        json_line(&l, p, r, flow);
    else
        original_line(&l, p, r, flow, fmt == OUT_MACHINE);
    fwrite(l.buf, 1, l.n, out);
}
