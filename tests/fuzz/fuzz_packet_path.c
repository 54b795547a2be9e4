/* libFuzzer target: the command line's whole packet path, frame after
 * frame, so that state builds up as it does on a capture: link-layer
 * decoding (cli/decode_frame.c), connection numbering, idle expiry and
 * eviction (cli/conntrack.c), the engine (cm_engine_analyse), every output
 * format (cli/output.c: human, machine, JSON), each line checked, and the
 * per-connection records of --flows (cli/records.c), written when
 * connections are forgotten and at the end.
 *
 * Input (tests/fuzz/make_corpus.py writes it from capture files):
 *
 *   byte 0    link type: LINKS[byte % NLINKS] (the last one unsupported)
 *   byte 1    configuration: bits 0-1 --ts-pure-acks (3: clocked),
 *             bits 2-4 --rtdMaxAge (MAX_AGES), bits 5-6 --flowMaxIdle
 *             (MAX_IDLES), bit 7 -Q
 *   byte 2    bits 0-1 capture time of the start (BASES), bits 2-3
 *             --maxFlows (MAX_FLOWS)
 *   frames    until the input ends, each
 *               caplen  u16 big-endian (cut to what is left)
 *               wirelen u32 big-endian (the frame's length on the wire)
 *               step    u32 big-endian: the time since the previous frame,
 *                       bits 30-31 its unit (0 ns, 1 us, 2 ms forward,
 *                       3 us backward), bits 0-29 the count
 *               bytes   caplen of them
 *
 * Times stay in what the command line can be given: a pcap record's u32
 * seconds and u32 fraction (nanoseconds).  Each frame is copied into a
 * heap buffer of exactly caplen bytes, so that AddressSanitizer sees any
 * read past the captured bytes.
 *
 * Properties checked beyond the sanitizers: a twin engine that packs idle
 * connections after every packet gives the same results; the per-packet
 * result is consistent (connmon.h and docs/semantics.md: round trips never negative,
 * minrtd set with them and not above them, seqgap on every packet but a
 * flow's first, referenced frames earlier than the packet), the flow label
 * is the packet's own direction, every output line is whole (the human and
 * machine lines have their 8 columns, the JSON line is one valid object,
 * as is every --flows record), and --maxFlows holds.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connmon.h"
#include "conntrack.h"
#include "decode_frame.h"
#include "fuzz_check.h"
#include "output.h"
#include "records.h"

/* DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW (Linux), LINKTYPE_RAW,
 * DLT_RAW (OpenBSD), DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP, and Bluetooth
 * HCI H4 (187), which the command line refuses. */
static const int LINKS[] = {1, 113, 276, 12, 101, 14, 228, 229, 0, 108, 187};
#define NLINKS (sizeof LINKS / sizeof LINKS[0])

static const int64_t MAX_AGES[8] = {
    CM_DEFAULT_RTD_MAX_AGE_NS, 0, 1, 1000000, 50000000, 1000000000,
    INT64_C(100000000000), INT64_MAX};
static const int64_t MAX_IDLES[4] = {INT64_C(300000000000), 0, 1000000000, 1};
static const size_t MAX_FLOWS[4] = {0, 1, 3, 64};
#define SWEEP_INTERVAL_NS INT64_C(1000000000) /* as cli/main.c */

/* Capture times a pcap record can carry: u32 seconds, u32 nanoseconds. */
#define T_MAX (INT64_C(4294967295) * 1000000000 + INT64_C(4294967295))
static const int64_t BASES[4] = {INT64_C(1700000000) * 1000000000, 0,
                                 INT64_C(4294967295) * 1000000000, 999999999};

#define FRAME_HEADER 10

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t step_time(int64_t t, uint32_t step)
{
    static const int64_t unit[4] = {1, 1000, 1000000, 1000};
    int64_t d = (int64_t)(step & 0x3fffffffu) * unit[step >> 30];
    if (step >> 30 == 3)
        return t - d < 0 ? 0 : t - d;
    return t + d > T_MAX ? T_MAX : t + d;
}

/* ---- output lines ---------------------------------------------------------- */

/* A JSON text, by RFC 8259's grammar (nesting bounded). */
static const char *json_value(const char *s, const char *end, int depth);

static const char *json_ws(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
        s++;
    return s;
}

static const char *json_string(const char *s, const char *end)
{
    if (s >= end || *s != '"')
        return NULL;
    for (s++; s < end && *s != '"'; s++) {
        if ((unsigned char)*s < 0x20)
            return NULL;
        if (*s == '\\') {
            if (++s >= end)
                return NULL;
            if (*s == 'u') {
                for (int i = 0; i < 4; i++)
                    if (++s >= end || !strchr("0123456789abcdefABCDEF", *s))
                        return NULL;
            } else if (!strchr("\"\\/bfnrt", *s)) {
                return NULL;
            }
        }
    }
    return s < end ? s + 1 : NULL;
}

static const char *json_digits(const char *s, const char *end)
{
    const char *start = s;
    while (s < end && *s >= '0' && *s <= '9')
        s++;
    return s > start ? s : NULL;
}

static const char *json_number(const char *s, const char *end)
{
    if (s < end && *s == '-')
        s++;
    if (s < end && *s == '0')
        s++;
    else if (!(s = json_digits(s, end)))
        return NULL;
    if (s < end && *s == '.' && !(s = json_digits(s + 1, end)))
        return NULL;
    if (s < end && (*s == 'e' || *s == 'E')) {
        s++;
        if (s < end && (*s == '+' || *s == '-'))
            s++;
        s = json_digits(s, end);
    }
    return s;
}

/* '{' members '}' or '[' elements ']' */
static const char *json_container(const char *s, const char *end, int depth)
{
    char close = *s == '{' ? '}' : ']';
    bool object = close == '}';
    s = json_ws(s + 1, end);
    if (s < end && *s == close)
        return s + 1;
    for (;;) {
        if (object) {
            s = json_string(json_ws(s, end), end);
            if (!s || (s = json_ws(s, end)) >= end || *s++ != ':')
                return NULL;
        }
        s = json_value(s, end, depth + 1);
        if (!s || (s = json_ws(s, end)) >= end)
            return NULL;
        if (*s == close)
            return s + 1;
        if (*s++ != ',')
            return NULL;
    }
}

static const char *json_value(const char *s, const char *end, int depth)
{
    static const char *const words[] = {"true", "false", "null"};
    s = json_ws(s, end);
    if (s >= end || depth > 16)
        return NULL;
    if (*s == '{' || *s == '[')
        return json_container(s, end, depth);
    if (*s == '"')
        return json_string(s, end);
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(end - s) >= n && memcmp(s, words[i], n) == 0)
            return s + n;
    }
    return json_number(s, end);
}

/* One JSON object filling [s, end). */
static bool json_object_ok(const char *s, const char *end)
{
    if (s >= end || *s != '{')
        return false;
    s = json_value(s, end, 0);
    return s && json_ws(s, end) == end;
}

/* One output line, just written: whole, one '\n' at its end, and the
 * format's shape. */
static void check_line(out_format fmt, const char *s, size_t n, const char *flow)
{
    FUZZ_CHECK(n > 0 && s[n - 1] == '\n', "format %d: line cut: %.*s", (int)fmt, (int)n, s);
    FUZZ_CHECK(memchr(s, '\n', n - 1) == NULL, "format %d: two lines", (int)fmt);
    FUZZ_CHECK(memchr(s, '\0', n) == NULL, "format %d: NUL in line", (int)fmt);
    if (fmt == OUT_JSON) {
        static const char head[] = "{\"frame\":";
        FUZZ_CHECK(n > sizeof head && memcmp(s, head, sizeof head - 1) == 0 &&
                       json_object_ok(s, s + n - 1),
                   "bad JSON line: %.*s", (int)n, s);
    } else {
        int spaces = 0;
        for (size_t i = 0; i < n; i++)
            spaces += s[i] == ' ';
        FUZZ_CHECK(spaces == 7, "%d columns: %.*s", spaces + 1, (int)n, s);
        size_t flen = strlen(flow);
        FUZZ_CHECK(n > flen && memcmp(s + n - 1 - flen, flow, flen) == 0,
                   "flow label not at the end: %.*s", (int)n, s);
    }
}

/* ---- the per-packet result ------------------------------------------------- */

static void check_result(const cm_packet *p, const cm_result *r)
{
    const uint32_t rtd = CM_HAS_TSRTD | CM_HAS_SEQRTD;
    FUZZ_CHECK(!(r->present & CM_HAS_MINRTD) == !(r->present & rtd),
               "frame %u: minrtd present 0x%x", p->frame, r->present);
    if (r->present & CM_HAS_TSRTD) {
        FUZZ_CHECK(r->tsrtd_ns >= 0, "frame %u: tsrtd %" PRId64, p->frame, r->tsrtd_ns);
        FUZZ_CHECK(r->minrtd_ns <= r->tsrtd_ns, "frame %u: minrtd above tsrtd", p->frame);
        FUZZ_CHECK(r->tsrtd_frame >= 1 && r->tsrtd_frame < p->frame,
                   "frame %u: tsrtd.frame %u", p->frame, r->tsrtd_frame);
    }
    if (r->present & CM_HAS_SEQRTD) {
        FUZZ_CHECK(r->seqrtd_ns >= 0, "frame %u: seqrtd %" PRId64, p->frame, r->seqrtd_ns);
        FUZZ_CHECK(r->minrtd_ns <= r->seqrtd_ns, "frame %u: minrtd above seqrtd", p->frame);
        FUZZ_CHECK(r->seqrtd_frame >= 1 && r->seqrtd_frame < p->frame,
                   "frame %u: seqrtd.frame %u", p->frame, r->seqrtd_frame);
    }
    if (r->present & CM_HAS_MINRTD)
        FUZZ_CHECK(r->minrtd_ns >= 0, "frame %u: minrtd %" PRId64, p->frame, r->minrtd_ns);
    if (r->present & CM_HAS_PATHRTD) {
        int64_t half = (r->present & CM_HAS_TSRTD) ? r->tsrtd_ns : r->seqrtd_ns;
        FUZZ_CHECK(r->present & rtd, "frame %u: pathrtd without a half", p->frame);
        FUZZ_CHECK(r->pathrtd_ns >= half, "frame %u: pathrtd %" PRId64 " below its half %" PRId64,
                   p->frame, r->pathrtd_ns, half);
        FUZZ_CHECK(r->pathrtd_frame >= 1 && r->pathrtd_frame < p->frame,
                   "frame %u: pathrtd.frame %u", p->frame, r->pathrtd_frame);
    }
    FUZZ_CHECK(!r->flow_first == !!(r->present & CM_HAS_SEQGAP),
               "frame %u: flow_first %d, seqgap present 0x%x", p->frame, r->flow_first, r->present);
    if (r->expert & CM_EXPERT_HOLE)
        FUZZ_CHECK((r->present & CM_HAS_SEQGAP) && r->seqgap > 0, "frame %u: hole, seqgap %d",
                   p->frame, r->seqgap);
    FUZZ_CHECK(!(r->expert & CM_EXPERT_DUPACK) == !(r->present & CM_HAS_DUPACK),
               "frame %u: dupack expert/value disagree", p->frame);
    if (r->present & CM_HAS_DUPACK)
        FUZZ_CHECK(r->dupack_num >= 1 && r->dupack_frame >= 1 && r->dupack_frame < p->frame,
                   "frame %u: dupack num %u frame %u", p->frame, r->dupack_num, r->dupack_frame);
    FUZZ_CHECK(r->payload == p->payload, "frame %u: payload %u != %u", p->frame, r->payload,
               p->payload);
    FUZZ_CHECK(r->flowbytes >= r->payload, "frame %u: flowbytes below payload", p->frame);
    FUZZ_CHECK(r->direction <= 1, "frame %u: direction %u", p->frame, r->direction);
}

/* ---- the run ----------------------------------------------------------------- */

typedef struct run {
    int dlt;
    cm_engine *eng;
    cm_engine *packing;  /* the same packets, idle connections packed after
                            every packet: must give the same results */
    conntrack *ct;
    bool quick;
    int64_t max_idle_ns, next_sweep_ns;
    uint32_t frames;
    size_t max_flows;
    FILE *out;           /* the lines, one at a time, to memory */
    char *out_buf;
    size_t out_size;
    records *rs;         /* --flows */
    FILE *rec_out;       /* the records, to memory */
    char *rec_buf;
    size_t rec_size;
} run;

/* Every record written since the last look: whole JSON objects, one a
 * line. */
static void check_records(run *st)
{
    fflush(st->rec_out);
    long size = ftell(st->rec_out);
    FUZZ_CHECK(size >= 0 && (size_t)size <= st->rec_size, "memory stream at %ld", size);
    const char *s = st->rec_buf, *end = st->rec_buf + size;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        FUZZ_CHECK(nl != NULL, "record without its newline: %.*s", (int)(end - s), s);
        FUZZ_CHECK(json_object_ok(s, nl), "bad --flows record: %.*s", (int)(nl - s), s);
        s = nl + 1;
    }
    rewind(st->rec_out);
}

/* conntrack forgot a connection (idle, evicted, port reused): its record
 * is written, as cli/main.c does. */
static void on_forget(uint32_t stream, void *arg)
{
    run *st = arg;
    records_forget(st->rs, stream);
    cm_engine_forget_stream(st->packing, stream);
}

static void write_lines(run *st, const cm_packet *p, const cm_result *r, const char *flow)
{
    static const out_format formats[] = {OUT_HUMAN, OUT_MACHINE, OUT_JSON};
    bool all = output_selects(r, false), quick = output_selects(r, true);
    FUZZ_CHECK(all || !quick, "frame %u: -Q selects what the default does not", p->frame);
    if (!(st->quick ? quick : all) && st->frames % 4 != 0)
        return; /* lines of unselected packets too, now and then */
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        rewind(st->out);
        output_line(st->out, formats[i], p, r, flow);
        fflush(st->out);
        long n = ftell(st->out);
        FUZZ_CHECK(n >= 0 && (size_t)n <= st->out_size, "memory stream at %ld", n);
        check_line(formats[i], st->out_buf, (size_t)n, flow);
    }
}

static void analyse(run *st, cm_packet *p)
{
    conn *c;
    cm_result r;
    FUZZ_CHECK(p->src.family == 4 || p->src.family == 6, "family %u", p->src.family);
    FUZZ_CHECK(p->dst.family == p->src.family, "families %u/%u", p->src.family, p->dst.family);
    FUZZ_CHECK(conntrack_assign(st->ct, p, &c), "conntrack_assign failed");
    FUZZ_CHECK(c != NULL, "no connection");
    FUZZ_CHECK(!st->max_flows || conntrack_count(st->ct) <= st->max_flows,
               "%zu connections held, --maxFlows %zu", conntrack_count(st->ct), st->max_flows);
    FUZZ_CHECK(cm_engine_analyse(st->eng, p, &r), "cm_engine_analyse failed");
    check_result(p, &r);
    cm_result packed_r;
    FUZZ_CHECK(cm_engine_analyse(st->packing, p, &packed_r), "cm_engine_analyse failed (packing)");
    FUZZ_CHECK(memcmp(&packed_r, &r, sizeof r) == 0, "packing changed frame %u's result", p->frame);
    FUZZ_CHECK(records_add(st->rs, p, &r), "records_add failed");

    char want[CM_FLOW_LABEL_MAX];
    size_t n = cm_format_flow(want, sizeof want, p);
    FUZZ_CHECK(n > 0 && n < sizeof want - 1, "label length %zu", n);
    const char *flow = conntrack_label(st->ct, p);
    FUZZ_CHECK(strcmp(flow, want) == 0, "label %s for a packet of %s", flow, want);
    write_lines(st, p, &r, flow);
}

static void one_frame(run *st, const uint8_t *data, size_t caplen, size_t wirelen, int64_t t)
{
    st->frames++;
    if (st->max_idle_ns && t >= st->next_sweep_ns) {
        conntrack_expire(st->ct, t);
        st->next_sweep_ns = t + SWEEP_INTERVAL_NS;
    }
    /* exactly caplen bytes: a read past them is a heap overflow */
    uint8_t *frame = malloc(caplen ? caplen : 1);
    FUZZ_CHECK(frame != NULL, "out of memory");
    memcpy(frame, data, caplen);
    cm_packet p;
    memset(&p, 0, sizeof p);
    frame_kind k = decode_frame(st->dlt, frame, caplen, wirelen, &p);
    free(frame);
    FUZZ_CHECK(k == FRAME_TCP || k == FRAME_NOT_TCP, "kind %d on a supported link", (int)k);
    if (k != FRAME_TCP)
        return;
    p.t_ns = t;
    p.frame = st->frames;
    analyse(st, &p);
    if (st->frames % 64 == 0)
        check_records(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    run st;
    memset(&st, 0, sizeof st);
    st.dlt = LINKS[data[0] % NLINKS];
    FUZZ_CHECK(linktype_name(st.dlt) != NULL, "no name for %d", st.dlt);
    if (!linktype_supported(st.dlt)) {
        cm_packet p;
        FUZZ_CHECK(decode_frame(st.dlt, data, size, size, &p) == FRAME_BAD_LINK,
                   "unsupported link %d decoded", st.dlt);
        return 0;
    }
    cm_config cfg;
    cm_config_default(&cfg);
    uint8_t c = data[1];
    if ((c & 3) != 3)
        cfg.ts_pure_acks = (cm_ts_pure_acks)(c & 3);
    cfg.rtd_max_age_ns = MAX_AGES[(c >> 2) & 7];
    st.max_idle_ns = MAX_IDLES[(c >> 5) & 3];
    st.quick = c >> 7;
    int64_t t = BASES[data[2] & 3];
    st.max_flows = MAX_FLOWS[(data[2] >> 2) & 3];

    st.eng = cm_engine_new(&cfg);
    FUZZ_CHECK(st.eng != NULL, "cm_engine_new failed");
    cfg.pack_idle_ns = 0;
    st.packing = cm_engine_new(&cfg);
    FUZZ_CHECK(st.packing != NULL, "cm_engine_new failed (packing)");
    st.ct = conntrack_new(st.eng, st.max_idle_ns, st.max_flows);
    FUZZ_CHECK(st.ct != NULL, "conntrack_new failed");
    st.out = open_memstream(&st.out_buf, &st.out_size);
    st.rec_out = open_memstream(&st.rec_buf, &st.rec_size);
    FUZZ_CHECK(st.out != NULL && st.rec_out != NULL, "open_memstream failed");
    st.rs = records_new(st.rec_out, false);
    FUZZ_CHECK(st.rs != NULL, "records_new failed");
    conntrack_on_forget(st.ct, on_forget, &st);

    size_t off = 3;
    while (size - off >= FRAME_HEADER) {
        const uint8_t *h = data + off;
        size_t caplen = (size_t)h[0] << 8 | h[1];
        size_t wirelen = be32(h + 2);
        t = step_time(t, be32(h + 6));
        off += FRAME_HEADER;
        if (caplen > size - off)
            caplen = size - off;
        one_frame(&st, data + off, caplen, wirelen, t);
        off += caplen;
    }

    /* what the summary lines read */
    conn_stats cs = conntrack_stats(st.ct);
    cm_engine_counters ec;
    cm_engine_get_counters(st.eng, &ec);
    FUZZ_CHECK(cs.tally.one_way <= cs.tally.flows, "one-way %" PRIu64 " of %" PRIu64 " flows",
               cs.tally.one_way, cs.tally.flows);
    FUZZ_CHECK(conntrack_count(st.ct) <= st.frames, "more connections than frames");
    FUZZ_CHECK(ec.alloc_failures == 0, "allocation failures");
    (void)cm_engine_stream_count(st.eng);
    records_finish(st.rs);
    check_records(&st);
    records_stats rst = records_get_stats(st.rs);
    FUZZ_CHECK(rst.samples_lost == 0, "%" PRIu64 " delays lost", rst.samples_lost);

    records_free(st.rs);
    fclose(st.rec_out);
    free(st.rec_buf);
    fclose(st.out);
    free(st.out_buf);
    conntrack_free(st.ct);
    cm_engine_free(st.eng);
    cm_engine_free(st.packing);
    return 0;
}
