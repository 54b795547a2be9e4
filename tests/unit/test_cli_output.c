/* Unit tests of the command line's output (cli/output.c): the original
 * connmon's human and machine lines, JSON lines, durations, line selection.
 *
 * Times are shown in UTC (TZ is set before the first line).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "connmon.h"
#include "output.h"

#define MS(x) ((int64_t)(x) * 1000000)
#define US(x) ((int64_t)(x) * 1000)
#define T0 INT64_C(1700000000123456500) /* 2023-11-14 22:13:20.1234565 UTC */
#define FLOW "10.0.0.1:40000+10.0.0.2:80"

static bool duration_is(int64_t ns, const char *want)
{
    char buf[32];
    format_duration_human(buf, sizeof buf, ns);
    if (strcmp(buf, want) == 0)
        return true;
    fprintf(stderr, "  %lld ns shown as \"%s\", expected \"%s\"\n", (long long)ns, buf, want);
    return false;
}

static bool line_is(out_format fmt, const cm_packet *p, const cm_result *r, const char *want)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        return false;
    output_line(f, fmt, p, r, FLOW);
    fclose(f);
    bool same = strcmp(text, want) == 0;
    if (!same)
        fprintf(stderr, "  got:      %s  expected: %s", text, want);
    free(text);
    return same;
}

static cm_packet packet_at(int64_t t_ns, uint32_t frame)
{
    cm_packet p;
    memset(&p, 0, sizeof p);
    p.t_ns = t_ns;
    p.frame = frame;
    return p;
}

/* A result with every optional value. */
static cm_result full_result(void)
{
    cm_result r;
    memset(&r, 0, sizeof r);
    r.present = CM_HAS_TSRTD | CM_HAS_SEQRTD | CM_HAS_MINRTD | CM_HAS_SEQGAP | CM_HAS_DUPACK;
    r.expert = CM_EXPERT_HOLE | CM_EXPERT_BEHIND | CM_EXPERT_DUPACK;
    r.tsrtd_ns = 40200000;
    r.tsrtd_frame = 3;
    r.seqrtd_ns = US(812);
    r.seqrtd_frame = 4;
    r.minrtd_ns = US(812);
    r.seqgap = -1448;
    r.dupack_ns = MS(1250);
    r.dupack_num = 2;
    r.dupack_frame = 5;
    r.payload = 100;
    r.flowbytes = 2000;
    return r;
}

static void test_durations(void)
{
    CHECK(duration_is(40200000, "40.2ms"));
    CHECK(duration_is(US(812), "812us"));
    CHECK(duration_is(MS(1250), "1.25s"));
    CHECK(duration_is(0, "0ns"));
    CHECK(duration_is(999, "999ns"));
    CHECK(duration_is(1000, "1us"));
    CHECK(duration_is(MS(1), "1ms"));
    CHECK(duration_is(12345678, "12.3ms"));
    CHECK(duration_is(999400, "999us"));
    CHECK(duration_is(MS(999400), "999s"));
    CHECK(duration_is(MS(1500000), "1500s"));
    CHECK(duration_is(-40200000, "-40.2ms"));
    CHECK(duration_is(-500, "-500ns"));
}

static void test_line_selection(void)
{
    cm_result r;
    memset(&r, 0, sizeof r);
    CHECK(!output_selects(&r, false));
    r.present = CM_HAS_SEQGAP; /* no gap */
    CHECK(!output_selects(&r, false));
    r.seqgap = -100;           /* behind: not a hole */
    CHECK(!output_selects(&r, false));
    r.seqgap = 1448;           /* a hole */
    CHECK(output_selects(&r, false));
    CHECK(!output_selects(&r, true));
    r.present = CM_HAS_DUPACK;
    CHECK(output_selects(&r, false));
    CHECK(!output_selects(&r, true));
    r.present = CM_HAS_TSRTD | CM_HAS_MINRTD;
    CHECK(output_selects(&r, false));
    CHECK(output_selects(&r, true));
    r.present = CM_HAS_SEQRTD | CM_HAS_MINRTD;
    CHECK(output_selects(&r, true));
}

static void test_machine_lines(void)
{
    cm_packet p = packet_at(T0, 7);
    cm_result r = full_result();
    CHECK(line_is(OUT_MACHINE, &p, &r,
                  "1700000000.123457 0.040200 0.000812 -1448 1.250000 100 2000 " FLOW "\n"));
    /* absent values: * for delays, 0 for the gap, - for the duplicate ACK */
    r.present = 0;
    CHECK(line_is(OUT_MACHINE, &p, &r, "1700000000.123457 * * 0 - 100 2000 " FLOW "\n"));
    /* microseconds rounded half away from zero */
    r.present = CM_HAS_TSRTD | CM_HAS_SEQRTD | CM_HAS_DUPACK;
    r.tsrtd_ns = 1499;
    r.seqrtd_ns = 1500;
    r.dupack_ns = -1500;
    CHECK(line_is(OUT_MACHINE, &p, &r,
                  "1700000000.123457 0.000001 0.000002 0 -0.000002 100 2000 " FLOW "\n"));
}

static void test_human_lines(void)
{
    cm_packet p = packet_at(T0, 7);
    cm_result r = full_result();
    CHECK(line_is(OUT_HUMAN, &p, &r, "22:13:20 40.2ms 812us -1448 1.25s 100 2000 " FLOW "\n"));
    r.present = CM_HAS_TSRTD | CM_HAS_SEQGAP;
    r.seqgap = 0;
    CHECK(line_is(OUT_HUMAN, &p, &r, "22:13:20 40.2ms * 0 - 100 2000 " FLOW "\n"));
    /* the clock follows the capture time */
    p.t_ns += MS(1000);
    CHECK(line_is(OUT_HUMAN, &p, &r, "22:13:21 40.2ms * 0 - 100 2000 " FLOW "\n"));
    p.t_ns += MS(3600 * 1000);
    CHECK(line_is(OUT_HUMAN, &p, &r, "23:13:21 40.2ms * 0 - 100 2000 " FLOW "\n"));
}

static void test_json_lines(void)
{
    cm_packet p = packet_at(T0, 7);
    cm_result r = full_result();
    CHECK(line_is(OUT_JSON, &p, &r,
                  "{\"frame\":7,\"time\":1700000000.123456500,"
                  "\"connmon.tsrtd\":0.040200000,\"connmon.tsrtd.frame\":3,"
                  "\"connmon.tsrtd.pureack\":false,"
                  "\"connmon.seqrtd\":0.000812000,\"connmon.seqrtd.frame\":4,"
                  "\"connmon.minrtd\":0.000812000,\"connmon.seqgap\":-1448,"
                  "\"connmon.dupack\":1.250000000,\"connmon.dupack.num\":2,"
                  "\"connmon.dupack.frame\":5,\"connmon.payload\":100,"
                  "\"connmon.flowbytes\":2000,\"connmon.flow\":\"" FLOW "\","
                  "\"connmon.expert.hole\":true,\"connmon.expert.behind\":true,"
                  "\"connmon.expert.dupack\":true}\n"));
    /* only what is present */
    memset(&r, 0, sizeof r);
    r.present = CM_HAS_TSRTD;
    r.tsrtd_ns = 1;
    r.tsrtd_frame = 1;
    r.tsrtd_pureack = true;
    p = packet_at(1, 2);
    CHECK(line_is(OUT_JSON, &p, &r,
                  "{\"frame\":2,\"time\":0.000000001,\"connmon.tsrtd\":0.000000001,"
                  "\"connmon.tsrtd.frame\":1,\"connmon.tsrtd.pureack\":true,"
                  "\"connmon.payload\":0,\"connmon.flowbytes\":0,"
                  "\"connmon.flow\":\"" FLOW "\"}\n"));
    /* a gap of 0 is still written when present; large counts in full */
    memset(&r, 0, sizeof r);
    r.present = CM_HAS_SEQGAP;
    r.flowbytes = UINT64_C(12345678901234);
    r.payload = 4294967295u;
    CHECK(line_is(OUT_JSON, &p, &r,
                  "{\"frame\":2,\"time\":0.000000001,\"connmon.seqgap\":0,"
                  "\"connmon.payload\":4294967295,\"connmon.flowbytes\":12345678901234,"
                  "\"connmon.flow\":\"" FLOW "\"}\n"));
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    RUN(test_durations);
    RUN(test_line_selection);
    RUN(test_machine_lines);
    RUN(test_human_lines);
    RUN(test_json_lines);
    return check_summary("test_cli_output");
}
