/* Unit tests of the per-file storage of the plugin's results: the result
 * codec (engine/result_codec.c), the arena and index (engine/arena.c),
 * the frame store (engine/frame_store.c) and the label table
 * (engine/label_table.c). */
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "check.h"
#include "connmon.h"
#include "fields.h"
#include "frame_store.h"
#include "label_table.h"
#include "result_codec.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* A value of `size` bytes of one of several shapes: zero, small, typical
 * delays in whole us or in ns, extremes, anything. */
static uint64_t random_value(const cm_codec_member *m, uint32_t frame)
{
    uint64_t v;
    switch (rnd() % 8) {
    case 0: v = 0; break;
    case 1: v = rnd() % 100; break;
    case 2: v = (rnd() % 500000) * 1000; break;                 /* us */
    case 3: v = rnd() % 200000000; break;                       /* ns */
    case 4: v = rnd() & 1 ? UINT64_MAX : UINT64_C(1) << 63; break;
    case 5: v = (uint64_t)-(int64_t)(rnd() % 100000); break;   /* small negative */
    case 6: v = frame - rnd() % 1000; break;                    /* a recent frame */
    default: v = rnd(); break;
    }
    if (m->kind == CM_CODEC_FLAG)
        v &= 1;
    if (m->size < 8)
        v &= (UINT64_C(1) << (8 * m->size)) - 1;
    return v;
}

static void set_member(cm_result *r, const cm_codec_member *m, uint64_t v)
{
    memcpy((uint8_t *)r + m->offset, &v, m->size); /* little-endian host */
}

static void random_result(cm_result *r, uint32_t frame)
{
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < cm_codec_member_count; i++)
        set_member(r, &cm_codec_members[i], random_value(&cm_codec_members[i], frame));
}

static uint32_t random_frame(void)
{
    switch (rnd() % 4) {
    case 0: return (uint32_t)(rnd() % 100);
    case 1: return UINT32_MAX - (uint32_t)(rnd() % 3);
    default: return (uint32_t)rnd();
    }
}

/* The table covers cm_result: members do not overlap, and what lies
 * between them (and after the last) is too small to be a member of the
 * alignment that follows, i.e. padding.  A member added to cm_result and
 * not to the table fails here (unless it hides in tail padding, which the
 * explicit test below then misses too: add it there). */
static void test_table_covers_struct(void)
{
    size_t n = cm_codec_member_count;
    size_t covered = 0, end = 0;
    for (size_t pass = 0; pass < n; pass++) {
        /* members in offset order */
        const cm_codec_member *next = NULL;
        for (size_t i = 0; i < n; i++) {
            const cm_codec_member *m = &cm_codec_members[i];
            if (m->offset >= end && (!next || m->offset < next->offset))
                next = m;
        }
        CHECK(next != NULL);
        if (!next)
            return;
        size_t gap = next->offset - end;
        CHECK(gap < next->size);               /* padding before an aligned member */
        if (gap >= next->size)
            fprintf(stderr, "  %zu uncovered bytes before %s\n", gap, next->name);
        covered += next->size;
        end = next->offset + next->size;
    }
    CHECK(sizeof(cm_result) - end < 8);          /* tail padding */
    CHECK(covered <= sizeof(cm_result));
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            CHECK(strcmp(cm_codec_members[i].name, cm_codec_members[j].name) != 0);
}

/* Every member of cm_result by name, and every field of fields.def. */
static void test_every_member_by_name(void)
{
    cm_result r, d;
    memset(&r, 0, sizeof r);
    r.present = CM_HAS_TSRTD | CM_HAS_SEQRTD | CM_HAS_MINRTD | CM_HAS_SEQGAP | CM_HAS_DUPACK |
                CM_HAS_PATHRTD;
    r.expert = CM_EXPERT_HOLE | CM_EXPERT_BEHIND | CM_EXPERT_DUPACK;
    r.tsrtd_ns = 40123000;
    r.seqrtd_ns = 40087001;
    r.minrtd_ns = 39950000;
    r.dupack_ns = -5;
    r.pathrtd_ns = INT64_MAX;
    r.flowbytes = UINT64_MAX;
    r.tsrtd_frame = 1234;
    r.seqrtd_frame = 1233;
    r.dupack_num = 7;
    r.dupack_frame = 1;
    r.pathrtd_frame = 2000; /* after the frame itself: still exact */
    r.payload = 1448;
    r.seqgap = INT32_MIN;
    r.tsrtd_pureack = true;
    r.flow_first = true;
    r.direction = 1;
    uint8_t buf[CM_RESULT_ENCODED_MAX];
    size_t n = cm_result_encode(&r, 1240, buf);
    CHECK_EQ_I64(cm_result_decode(buf, n, 1240, &d), n);
    CHECK(memcmp(&r, &d, sizeof r) == 0);
    CHECK_EQ_I64(d.tsrtd_ns, 40123000);
    CHECK_EQ_I64(d.seqrtd_ns, 40087001);
    CHECK_EQ_I64(d.dupack_ns, -5);
    CHECK(d.pathrtd_ns == INT64_MAX);
    CHECK(d.flowbytes == UINT64_MAX);
    CHECK_EQ_I64(d.pathrtd_frame, 2000);
    CHECK_EQ_I64(d.seqgap, INT32_MIN);
    CHECK(d.tsrtd_pureack && d.flow_first && d.direction == 1);
    for (int id = 0; id < CM_F_COUNT; id++) {
        int64_t a = 0, b = 0;
        bool ha = cm_field_value(&r, (cm_field_id)id, &a);
        bool hb = cm_field_value(&d, (cm_field_id)id, &b);
        CHECK(ha == hb);
        CHECK_EQ_I64(a, b);
        if (id != CM_F_FLOW)
            CHECK(ha);
    }
}

static void test_round_trip_random(void)
{
    for (int i = 0; i < 200000; i++) {
        uint32_t frame = random_frame();
        cm_result r, d;
        random_result(&r, frame);
        uint8_t buf[CM_RESULT_ENCODED_MAX + 8];
        size_t n = cm_result_encode(&r, frame, buf);
        CHECK(n >= 1 && n <= CM_RESULT_ENCODED_MAX);
        /* trailing bytes are not read */
        memset(buf + n, 0xff, 8);
        size_t used = cm_result_decode(buf, n + 8, frame, &d);
        CHECK_EQ_I64(used, n);
        if (memcmp(&r, &d, sizeof r) != 0) {
            CHECK(memcmp(&r, &d, sizeof r) == 0);
            fprintf(stderr, "  round trip %d differs (frame %u)\n", i, frame);
            break;
        }
        /* cut short: never a whole result */
        if (n > 1) {
            size_t cut = (size_t)(rnd() % (n - 1)) + 1;
            CHECK_EQ_I64(cm_result_decode(buf, cut, frame, &d), 0);
        }
    }
}

/* Random bytes decode to something or to nothing, reading within len. */
static void test_decode_garbage(void)
{
    for (int i = 0; i < 100000; i++) {
        uint8_t buf[64];
        size_t len = (size_t)(rnd() % sizeof buf);
        for (size_t k = 0; k < len; k++)
            buf[k] = (uint8_t)rnd();
        cm_result d;
        size_t used = cm_result_decode(buf, len, (uint32_t)rnd(), &d);
        CHECK(used <= len);
    }
    cm_result d;
    CHECK_EQ_I64(cm_result_decode((const uint8_t *)"", 0, 1, &d), 0);
    /* a mask naming a member past the table */
    uint8_t bad[12];
    size_t n = cm_varint_put(bad, UINT64_C(1) << cm_codec_member_count);
    CHECK_EQ_I64(cm_result_decode(bad, n, 1, &d), 0);
}

/* What typical bulk packets cost: the point of the codec. */
static void test_typical_sizes(void)
{
    cm_result r;
    uint8_t buf[CM_RESULT_ENCODED_MAX];
    memset(&r, 0, sizeof r);
    /* a data segment: seqgap 0, minrtd, payload, flowbytes ~1 GB */
    r.present = CM_HAS_SEQGAP | CM_HAS_MINRTD;
    r.direction = 1;
    r.minrtd_ns = 16000000;
    r.payload = 1448;
    r.flowbytes = 1000000000;
    CHECK(cm_result_encode(&r, 700000, buf) <= 15);
    /* an ACK with a TS and a seq round trip and pathrtd */
    memset(&r, 0, sizeof r);
    r.present = CM_HAS_SEQGAP | CM_HAS_MINRTD | CM_HAS_TSRTD | CM_HAS_SEQRTD | CM_HAS_PATHRTD;
    r.tsrtd_ns = r.seqrtd_ns = r.minrtd_ns = 4000000;
    r.pathrtd_ns = 20000000;
    r.tsrtd_frame = r.seqrtd_frame = 699960;
    r.pathrtd_frame = 699990;
    r.flowbytes = 1;
    CHECK(cm_result_encode(&r, 700000, buf) <= 24);
    /* a SYN: first of its flow, nothing else */
    memset(&r, 0, sizeof r);
    r.flow_first = true;
    CHECK_EQ_I64(cm_result_encode(&r, 5, buf), 1);
}

static void test_varint(void)
{
    uint64_t vals[] = {0, 1, 127, 128, 16383, 16384, UINT32_MAX, UINT64_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        uint8_t buf[10];
        uint64_t v = 1;
        size_t n = cm_varint_put(buf, vals[i]);
        CHECK_EQ_I64(cm_varint_get(buf, n, &v), n);
        CHECK(v == vals[i]);
        CHECK_EQ_I64(cm_varint_get(buf, n - 1, &v), 0);
    }
    uint8_t eleven[11];
    memset(eleven, 0x80, sizeof eleven);
    uint64_t v;
    CHECK_EQ_I64(cm_varint_get(eleven, sizeof eleven, &v), 0);
}

static void test_arena_and_index(void)
{
    cm_arena a = CM_ARENA_INIT;
    uint32_t pos, prev_chunk = 0;
    CHECK(cm_arena_alloc(&a, 0, &pos) == NULL);
    CHECK(cm_arena_alloc(&a, CM_ARENA_CHUNK + 1, &pos) == NULL);
    CHECK_EQ_I64(cm_arena_memory(&a), 0);
    /* items never span chunks; what is written stays */
    for (uint32_t i = 0; i < 100000; i++) {
        size_t n = 1 + i % 97;
        uint8_t *p = cm_arena_alloc(&a, n, &pos);
        CHECK(p != NULL);
        if (!p)
            break;
        CHECK(pos / CM_ARENA_CHUNK == (pos + n - 1) / CM_ARENA_CHUNK);
        CHECK(cm_arena_at(&a, pos) == p);
        CHECK(pos / CM_ARENA_CHUNK >= prev_chunk);
        prev_chunk = pos / CM_ARENA_CHUNK;
        memset(p, (int)(i & 0xff), n);
    }
    CHECK(a.nchunks > 1);
    CHECK(cm_arena_memory(&a) >= (size_t)a.nchunks * CM_ARENA_CHUNK);
    uint8_t *whole = cm_arena_alloc(&a, CM_ARENA_CHUNK, &pos);
    CHECK(whole != NULL && pos % CM_ARENA_CHUNK == 0);
    cm_arena_free(&a);
    CHECK_EQ_I64(cm_arena_memory(&a), 0);
    CHECK(cm_arena_alloc(&a, 10, &pos) != NULL && pos == 0);
    cm_arena_free(&a);

    cm_u32_index x = CM_U32_INDEX_INIT;
    CHECK_EQ_I64(cm_u32_index_get(&x, 12345), 0);
    CHECK(cm_u32_index_set(&x, 5, 0));               /* 0 on an empty index: no page */
    CHECK_EQ_I64(cm_u32_index_memory(&x), 0);
    CHECK(cm_u32_index_set(&x, 5, 50));
    CHECK(cm_u32_index_set(&x, UINT32_MAX, 7));
    CHECK(cm_u32_index_set(&x, 3 * CM_INDEX_PAGE + 1, 9));
    CHECK_EQ_I64(cm_u32_index_get(&x, 5), 50);
    CHECK_EQ_I64(cm_u32_index_get(&x, UINT32_MAX), 7);
    CHECK_EQ_I64(cm_u32_index_get(&x, 3 * CM_INDEX_PAGE + 1), 9);
    CHECK_EQ_I64(cm_u32_index_get(&x, 3 * CM_INDEX_PAGE), 0);
    CHECK_EQ_I64(cm_u32_index_get(&x, 2 * CM_INDEX_PAGE), 0);
    CHECK_EQ_I64(x.allocated, 3);
    cm_u32_index_free(&x);
    CHECK_EQ_I64(cm_u32_index_get(&x, 5), 0);
}

static void test_frame_store(void)
{
    enum { N = 300000 };
    static cm_frame_entry kept[N];
    cm_frame_store s = CM_FRAME_STORE_INIT;
    cm_frame_entry e;
    CHECK(!cm_frame_store_get(&s, 1, &e));
    /* frames 1..N, every third left out, stored in a scrambled order */
    for (uint32_t k = 0; k < N; k++) {
        uint32_t f = (uint32_t)(((uint64_t)k * 7919) % N) + 1;
        if (f % 3 == 0)
            continue;
        cm_frame_entry *want = &kept[f - 1];
        random_result(&want->r, f);
        want->stream = (uint32_t)(rnd() % 4 ? rnd() % 1000 : rnd());
        want->has_ts = rnd() & 1;
        CHECK(cm_frame_store_put(&s, f, want));
    }
    CHECK_EQ_I64(s.frames, N - N / 3);
    CHECK_EQ_I64(s.failures, 0);
    for (uint32_t f = 1; f <= N; f++) {
        bool got = cm_frame_store_get(&s, f, &e);
        CHECK(got == (f % 3 != 0));
        if (!got)
            continue;
        const cm_frame_entry *want = &kept[f - 1];
        if (memcmp(&e.r, &want->r, sizeof e.r) != 0 || e.stream != want->stream ||
            e.has_ts != want->has_ts) {
            CHECK(!"frame store round trip");
            fprintf(stderr, "  frame %u differs\n", f);
            break;
        }
    }
    CHECK(!cm_frame_store_get(&s, N + 1, &e));
    CHECK(!cm_frame_store_get(&s, 0, &e));
    /* a frame stored again shows its new record */
    memset(&e, 0, sizeof e);
    e.stream = 77;
    e.r.payload = 5;
    CHECK(cm_frame_store_put(&s, 1, &e));
    cm_frame_entry g;
    CHECK(cm_frame_store_get(&s, 1, &g) && g.stream == 77 && g.r.payload == 5 && !g.has_ts);
    /* memory: the records, 4 bytes per frame, the unused tails */
    size_t mem = cm_frame_store_memory(&s);
    CHECK(mem >= s.record_bytes && mem < s.record_bytes + N * 4 + 2 * CM_ARENA_CHUNK +
                                              2 * CM_INDEX_PAGE * 4 + 65536);
    /* the far end of the frame numbers */
    CHECK(cm_frame_store_put(&s, UINT32_MAX, &kept[1]));
    CHECK(cm_frame_store_get(&s, UINT32_MAX, &g));
    CHECK(memcmp(&g.r, &kept[1].r, sizeof g.r) == 0);
    cm_frame_store_free(&s);
    CHECK_EQ_I64(cm_frame_store_memory(&s), 0);
    CHECK(!cm_frame_store_get(&s, 2, &g));
}

/* The bulk case's budget: index + record per frame, well under 48 B. */
static void test_frame_store_bulk_cost(void)
{
    cm_frame_store s = CM_FRAME_STORE_INIT;
    uint64_t flowbytes = 0;
    for (uint32_t f = 1; f <= 200000; f++) {
        cm_frame_entry e;
        memset(&e, 0, sizeof e);
        e.has_ts = true;
        e.r.present = CM_HAS_SEQGAP | CM_HAS_MINRTD;
        if (f % 3) { /* data */
            e.r.direction = 1;
            e.r.payload = 1448;
            flowbytes += 1448;
            e.r.flowbytes = flowbytes;
            e.r.minrtd_ns = 16000000;
        } else {     /* ACK with every round trip */
            e.r.present |= CM_HAS_TSRTD | CM_HAS_SEQRTD | CM_HAS_PATHRTD;
            e.r.tsrtd_ns = 4116000;
            e.r.seqrtd_ns = 4000000;
            e.r.minrtd_ns = 4000000;
            e.r.pathrtd_ns = 20116000;
            e.r.tsrtd_frame = f - 40;
            e.r.seqrtd_frame = f - 37;
            e.r.pathrtd_frame = f - 2;
            e.r.flowbytes = 1;
        }
        CHECK(cm_frame_store_put(&s, f, &e));
    }
    double per_frame = (double)cm_frame_store_memory(&s) / 200000;
    printf("  bulk-like frames: %.1f bytes each (records %.1f)\n", per_frame,
           (double)s.record_bytes / 200000);
    CHECK(per_frame < 30);
    cm_frame_store_free(&s);
}

static cm_packet packet4(const char *src_last, uint16_t sport, uint16_t dport, int reverse)
{
    cm_packet p;
    memset(&p, 0, sizeof p);
    p.src.family = p.dst.family = 4;
    uint8_t a[4] = {10, 0, 0, (uint8_t)src_last[0]}, b[4] = {192, 0, 2, 1};
    memcpy(reverse ? p.dst.bytes : p.src.bytes, a, 4);
    memcpy(reverse ? p.src.bytes : p.dst.bytes, b, 4);
    p.sport = reverse ? dport : sport;
    p.dport = reverse ? sport : dport;
    return p;
}

static void test_label_table(void)
{
    cm_label_table t = CM_LABEL_TABLE_INIT;
    char buf[CM_FLOW_LABEL_MAX];
    CHECK(cm_label_table_get(&t, 0, 0, buf) == NULL);
    cm_packet fwd = packet4("\x05", 40000, 443, 0), rev = packet4("\x05", 40000, 443, 1);
    CHECK(cm_label_table_note(&t, 3, 0, &fwd));
    CHECK(cm_label_table_note(&t, 3, 1, &rev));
    const char *l0 = cm_label_table_get(&t, 3, 0, buf);
    CHECK(l0 && strcmp(l0, "10.0.0.5:40000+192.0.2.1:443") == 0);
    const char *l1 = cm_label_table_get(&t, 3, 1, buf);
    CHECK(l1 == buf && strcmp(l1, "192.0.2.1:443+10.0.0.5:40000") == 0);
    CHECK((cm_u32_index_get(&t.index, 7) & 0x80000000u) != 0); /* kept as a reverse */
    /* a label once made stays: a later packet does not change it */
    cm_packet other = packet4("\x09", 1, 2, 0);
    CHECK(cm_label_table_note(&t, 3, 0, &other));
    CHECK(strcmp(cm_label_table_get(&t, 3, 0, buf), "10.0.0.5:40000+192.0.2.1:443") == 0);
    /* a second direction that is not the reverse keeps its own text */
    CHECK(cm_label_table_note(&t, 4, 1, &fwd));
    CHECK(cm_label_table_note(&t, 4, 0, &other));
    CHECK(strcmp(cm_label_table_get(&t, 4, 1, buf), "10.0.0.5:40000+192.0.2.1:443") == 0);
    CHECK(strcmp(cm_label_table_get(&t, 4, 0, buf), "10.0.0.9:1+192.0.2.1:2") == 0);
    /* IPv6, reversed */
    cm_packet v6;
    memset(&v6, 0, sizeof v6);
    v6.src.family = v6.dst.family = 6;
    v6.src.bytes[0] = 0x20, v6.src.bytes[1] = 0x01, v6.src.bytes[15] = 1;
    v6.dst.bytes[0] = 0x20, v6.dst.bytes[1] = 0x01, v6.dst.bytes[15] = 2;
    v6.sport = 80, v6.dport = 5000;
    cm_packet v6r = v6;
    v6r.src = v6.dst, v6r.dst = v6.src, v6r.sport = 5000, v6r.dport = 80;
    CHECK(cm_label_table_note(&t, 1000000, 0, &v6));
    CHECK(cm_label_table_note(&t, 1000000, 1, &v6r));
    CHECK(strcmp(cm_label_table_get(&t, 1000000, 0, buf), "[2001::1]:80+[2001::2]:5000") == 0);
    CHECK(strcmp(cm_label_table_get(&t, 1000000, 1, buf), "[2001::2]:5000+[2001::1]:80") == 0);
    /* streams past the index */
    uint64_t failures = t.failures;
    CHECK(!cm_label_table_note(&t, 0x80000000u, 0, &fwd));
    CHECK_EQ_I64(t.failures, failures + 1);
    CHECK(cm_label_table_get(&t, 0x80000000u, 0, buf) == NULL);
    CHECK(cm_label_table_note(&t, 0x7fffffffu, 1, &fwd));
    CHECK(cm_label_table_get(&t, 0x7fffffffu, 1, buf) != NULL);
    /* many connections: one label and 8 index bytes each */
    size_t before = cm_label_table_memory(&t);
    for (uint32_t s = 10; s < 100010; s++) {
        cm_packet a = packet4("\x07", (uint16_t)s, 443, 0), b = packet4("\x07", (uint16_t)s, 443, 1);
        CHECK(cm_label_table_note(&t, s, 0, &a));
        CHECK(cm_label_table_note(&t, s, 1, &b));
    }
    double per_conn = (double)(cm_label_table_memory(&t) - before) / 100000;
    printf("  labels: %.1f bytes per connection\n", per_conn);
    CHECK(per_conn < 25);
    cm_label_table_free(&t);
    CHECK(cm_label_table_get(&t, 3, 0, buf) == NULL);
}

/* Random flows: every label is what cm_format_flow makes of the flow's
 * first packet, whichever way the second direction goes. */
static void test_label_table_random(void)
{
    enum { N = 20000 };
    static cm_packet first[N][2];
    static bool seen[N][2];
    cm_label_table t = CM_LABEL_TABLE_INIT;
    for (int i = 0; i < 4 * N; i++) {
        uint32_t s = (uint32_t)(rnd() % N);
        unsigned dir = (unsigned)(rnd() & 1);
        cm_packet p;
        memset(&p, 0, sizeof p);
        if (seen[s][!dir] && rnd() % 4) {
            /* mostly the exact reverse of the other direction */
            const cm_packet *o = &first[s][!dir];
            p.src = o->dst, p.dst = o->src, p.sport = o->dport, p.dport = o->sport;
            if (rnd() % 8 == 0)
                p.dst.bytes[rnd() % 4] ^= 1;          /* ... or nearly */
            if (rnd() % 16 == 0)
                p.sport++;
        } else {
            p.src.family = p.dst.family = (uint8_t)(rnd() % 3 ? 4 : 6);
            for (int k = 0; k < 16; k++)
                p.src.bytes[k] = (uint8_t)rnd(), p.dst.bytes[k] = (uint8_t)rnd();
            if (p.src.family == 4) {
                memset(p.src.bytes + 4, 0, 12);
                memset(p.dst.bytes + 4, 0, 12);
            }
            p.sport = (uint16_t)rnd(), p.dport = (uint16_t)rnd();
        }
        p.stream = s;
        CHECK(cm_label_table_note(&t, s, dir, &p));
        if (!seen[s][dir]) {
            seen[s][dir] = true;
            first[s][dir] = p;
        }
    }
    for (uint32_t s = 0; s < N; s++)
        for (unsigned dir = 0; dir < 2; dir++) {
            char buf[CM_FLOW_LABEL_MAX], want[CM_FLOW_LABEL_MAX];
            const char *got = cm_label_table_get(&t, s, dir, buf);
            CHECK((got != NULL) == seen[s][dir]);
            if (!got || !seen[s][dir])
                continue;
            cm_format_flow(want, sizeof want, &first[s][dir]);
            if (strcmp(got, want) != 0) {
                CHECK(strcmp(got, want) == 0);
                fprintf(stderr, "  stream %u dir %u: %s, want %s\n", s, dir, got, want);
                return;
            }
        }
    cm_label_table_free(&t);
}

int main(void)
{
    RUN(test_table_covers_struct);
    RUN(test_every_member_by_name);
    RUN(test_round_trip_random);
    RUN(test_decode_garbage);
    RUN(test_typical_sizes);
    RUN(test_varint);
    RUN(test_arena_and_index);
    RUN(test_frame_store);
    RUN(test_frame_store_bulk_cost);
    RUN(test_label_table);
    RUN(test_label_table_random);
    return check_summary("test_result_codec");
}
