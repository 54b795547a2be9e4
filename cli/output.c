/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "output.h"

#include <inttypes.h>
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

/* ns as seconds with `decimals` (6 or 9) decimals, rounded half away from
 * zero, without going through floating point. */
static int format_seconds(char *buf, size_t size, int64_t ns, int decimals)
{
    bool neg = ns < 0;
    uint64_t v = neg ? (uint64_t)(-(ns + 1)) + 1 : (uint64_t)ns;
    uint64_t unit = decimals == 6 ? 1000 : 1;
    uint64_t scaled = (v + unit / 2) / unit;
    uint64_t per_sec = decimals == 6 ? 1000000 : 1000000000;
    return snprintf(buf, size, "%s%" PRIu64 ".%0*" PRIu64, neg ? "-" : "", scaled / per_sec,
                    decimals, scaled % per_sec);
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

static void json_line(FILE *out, const cm_packet *p, const cm_result *r)
{
    char t[40], flow[CM_FLOW_LABEL_MAX];
    format_seconds(t, sizeof t, p->t_ns, 9);
    fprintf(out, "{\"frame\":%" PRIu32 ",\"time\":%s", p->frame, t);
    if (r->present & CM_HAS_TSRTD) {
        format_seconds(t, sizeof t, r->tsrtd_ns, 9);
        fprintf(out, ",\"connmon.tsrtd\":%s,\"connmon.tsrtd.frame\":%" PRIu32
                     ",\"connmon.tsrtd.pureack\":%s",
                t, r->tsrtd_frame, r->tsrtd_pureack ? "true" : "false");
    }
    if (r->present & CM_HAS_SEQRTD) {
        format_seconds(t, sizeof t, r->seqrtd_ns, 9);
        fprintf(out, ",\"connmon.seqrtd\":%s,\"connmon.seqrtd.frame\":%" PRIu32, t,
                r->seqrtd_frame);
    }
    if (r->present & CM_HAS_MINRTD) {
        format_seconds(t, sizeof t, r->minrtd_ns, 9);
        fprintf(out, ",\"connmon.minrtd\":%s", t);
    }
    if (r->present & CM_HAS_SEQGAP)
        fprintf(out, ",\"connmon.seqgap\":%" PRId32, r->seqgap);
    if (r->present & CM_HAS_DUPACK) {
        format_seconds(t, sizeof t, r->dupack_ns, 9);
        fprintf(out, ",\"connmon.dupack\":%s,\"connmon.dupack.num\":%" PRIu32
                     ",\"connmon.dupack.frame\":%" PRIu32,
                t, r->dupack_num, r->dupack_frame);
    }
    cm_format_flow(flow, sizeof flow, p);
    fprintf(out, ",\"connmon.payload\":%" PRIu32 ",\"connmon.flowbytes\":%" PRIu64
                 ",\"connmon.flow\":\"%s\"",
            r->payload, r->flowbytes, flow);
    if (r->expert & CM_EXPERT_HOLE)
        fputs(",\"connmon.expert.hole\":true", out);
    if (r->expert & CM_EXPERT_BEHIND)
        fputs(",\"connmon.expert.behind\":true", out);
    if (r->expert & CM_EXPERT_DUPACK)
        fputs(",\"connmon.expert.dupack\":true", out);
    fputs("}\n", out);
}

void output_line(FILE *out, out_format fmt, const cm_packet *p, const cm_result *r)
{
    if (fmt == OUT_JSON) {
        json_line(out, p, r);
        return;
    }
    char when[40], ts[32], sq[32], dup[32], flow[CM_FLOW_LABEL_MAX];
    const bool machine = fmt == OUT_MACHINE;
    void (*dur)(char *, size_t, int64_t) = format_duration_human;
    if (machine) {
        format_seconds(when, sizeof when, p->t_ns, 6);
    } else {
        time_t secs = (time_t)(p->t_ns / 1000000000);
        struct tm tm;
        localtime_r(&secs, &tm);
        strftime(when, sizeof when, "%H:%M:%S", &tm);
    }
    if (r->present & CM_HAS_TSRTD) {
        if (machine)
            format_seconds(ts, sizeof ts, r->tsrtd_ns, 6);
        else
            dur(ts, sizeof ts, r->tsrtd_ns);
    } else {
        strcpy(ts, "*");
    }
    if (r->present & CM_HAS_SEQRTD) {
        if (machine)
            format_seconds(sq, sizeof sq, r->seqrtd_ns, 6);
        else
            dur(sq, sizeof sq, r->seqrtd_ns);
    } else {
        strcpy(sq, "*");
    }
    if (r->present & CM_HAS_DUPACK) {
        if (machine)
            format_seconds(dup, sizeof dup, r->dupack_ns, 6);
        else
            dur(dup, sizeof dup, r->dupack_ns);
    } else {
        strcpy(dup, "-");
    }
    cm_format_flow(flow, sizeof flow, p);
    fprintf(out, "%s %s %s %" PRId32 " %s %" PRIu32 " %" PRIu64 " %s\n", when, ts, sq,
            (r->present & CM_HAS_SEQGAP) ? r->seqgap : 0, dup, r->payload, r->flowbytes, flow);
}
