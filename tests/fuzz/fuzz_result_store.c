/* libFuzzer target: the plugin's per-frame storage, where every analysed
 * frame's result waits for the later passes (engine/result_codec.c,
 * engine/frame_store.c, engine/arena.c).
 *
 * Input: byte 0 picks the frame numbers' base (0xff: 2^32 - 2^16, else 0;
 * near 2^32 the index has 2^18 pages, slow to free, so only now and then),
 * then operations until the input ends:
 *
 *   op & 1 == 0   put: frame (u16 big-endian, plus the base), then an
 *                 entry: every cm_result member in declaration order, the
 *                 stream (u32) and has_ts, ENTRY_BYTES in all
 *   op & 1 == 1   get: frame (u16 big-endian, plus the base)
 *
 * Checked: every entry comes back exactly (cm_result_encode then
 * cm_result_decode; cm_frame_store_get after cm_frame_store_put, the
 * latest put of a frame winning; a frame never put has no record), an
 * encoding is never longer than CM_RESULT_ENCODED_MAX, and the whole input
 * read as an encoded result (garbage) decodes without reading past it, to
 * something that encodes and decodes back to itself.  The members are
 * filled here by name, not through the codec's own member table, so a
 * member missing from that table shows.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connmon.h"
#include "frame_store.h"
#include "fuzz_check.h"
#include "result_codec.h"

typedef struct reader {
    const uint8_t *p, *end;
} reader;

/* n bytes big-endian (zeros past the end of the input). */
static uint64_t take(reader *rd, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | (rd->p < rd->end ? *rd->p++ : 0);
    return v;
}

static void take_entry(reader *rd, cm_frame_entry *e)
{
    memset(e, 0, sizeof *e); /* padding 0, as cm_result_decode leaves it */
    cm_result *r = &e->r;
    r->present = (uint32_t)take(rd, 4);
    r->expert = (uint32_t)take(rd, 4);
    r->tsrtd_ns = (int64_t)take(rd, 8);
    r->seqrtd_ns = (int64_t)take(rd, 8);
    r->minrtd_ns = (int64_t)take(rd, 8);
    r->dupack_ns = (int64_t)take(rd, 8);
    r->pathrtd_ns = (int64_t)take(rd, 8);
    r->flowbytes = take(rd, 8);
    r->tsrtd_frame = (uint32_t)take(rd, 4);
    r->seqrtd_frame = (uint32_t)take(rd, 4);
    r->dupack_num = (uint32_t)take(rd, 4);
    r->dupack_frame = (uint32_t)take(rd, 4);
    r->pathrtd_frame = (uint32_t)take(rd, 4);
    r->payload = (uint32_t)take(rd, 4);
    r->seqgap = (int32_t)(uint32_t)take(rd, 4);
    uint8_t bits = (uint8_t)take(rd, 1);
    r->tsrtd_pureack = bits & 1;
    r->flow_first = bits >> 1 & 1;
    r->direction = bits >> 2 & 1;
    e->has_ts = bits >> 3 & 1;
    e->stream = (uint32_t)take(rd, 4);
}

static void check_codec(const cm_result *r, uint32_t frame)
{
    uint8_t buf[CM_RESULT_ENCODED_MAX + 16];
    size_t n = cm_result_encode(r, frame, buf);
    FUZZ_CHECK(n >= 1 && n <= CM_RESULT_ENCODED_MAX, "encoded length %zu", n);
    /* exactly n bytes on the heap: decoding must not read past them */
    uint8_t *copy = malloc(n);
    FUZZ_CHECK(copy != NULL, "out of memory");
    memcpy(copy, buf, n);
    cm_result back;
    size_t used = cm_result_decode(copy, n, frame, &back);
    free(copy);
    FUZZ_CHECK(used == n, "decoded %zu of %zu bytes", used, n);
    FUZZ_CHECK(memcmp(&back, r, sizeof back) == 0, "frame %u: result changed by encoding",
               frame);
}

/* The input as an encoded result. */
static void check_garbage(const uint8_t *data, size_t size)
{
    uint32_t frame = size >= 4 ? (uint32_t)data[0] << 24 | data[1] << 16 | data[2] << 8 | data[3]
                               : 1;
    uint8_t *copy = malloc(size ? size : 1);
    FUZZ_CHECK(copy != NULL, "out of memory");
    memcpy(copy, data, size);
    cm_result r;
    size_t used = cm_result_decode(copy, size, frame, &r);
    free(copy);
    FUZZ_CHECK(used <= size, "decoded %zu of %zu bytes", used, size);
    cm_result zero;
    memset(&zero, 0, sizeof zero);
    if (!used)
        FUZZ_CHECK(memcmp(&r, &zero, sizeof r) == 0, "a failed decode left values");
    else
        check_codec(&r, frame);

    uint64_t v;
    size_t k = cm_varint_get(data, size, &v);
    if (k) {
        uint8_t buf[16];
        size_t m = cm_varint_put(buf, v);
        uint64_t w;
        FUZZ_CHECK(m <= 10 && cm_varint_get(buf, m, &w) == m && w == v, "varint %llu",
                   (unsigned long long)v);
    }
}

#define MAX_SHADOW 1024

typedef struct shadow {
    uint32_t frame[MAX_SHADOW];
    cm_frame_entry entry[MAX_SHADOW];
    size_t n;
} shadow;

static const cm_frame_entry *shadow_find(const shadow *sh, uint32_t frame)
{
    for (size_t i = 0; i < sh->n; i++)
        if (sh->frame[i] == frame)
            return &sh->entry[i];
    return NULL;
}

static void shadow_put(shadow *sh, uint32_t frame, const cm_frame_entry *e)
{
    cm_frame_entry *old = (cm_frame_entry *)shadow_find(sh, frame);
    if (old) {
        *old = *e;
    } else if (sh->n < MAX_SHADOW) {
        sh->frame[sh->n] = frame;
        sh->entry[sh->n++] = *e;
    }
}

static void check_get(const cm_frame_store *s, const shadow *sh, uint32_t frame)
{
    cm_frame_entry got;
    memset(&got, 0, sizeof got);
    bool found = cm_frame_store_get(s, frame, &got);
    const cm_frame_entry *want = shadow_find(sh, frame);
    FUZZ_CHECK(found == (want != NULL), "frame %u: record %s", frame,
               found ? "of a frame never stored" : "lost");
    if (want) {
        FUZZ_CHECK(got.stream == want->stream && got.has_ts == want->has_ts,
                   "frame %u: stream %u/%u, has_ts %d/%d", frame, got.stream, want->stream,
                   got.has_ts, want->has_ts);
        FUZZ_CHECK(memcmp(&got.r, &want->r, sizeof got.r) == 0, "frame %u: result changed",
                   frame);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_garbage(data, size);
    if (size < 1)
        return 0;
    static shadow sh;
    sh.n = 0;
    uint32_t base = data[0] == 0xff ? UINT32_C(0xffff0000) : 0;
    reader rd = {data + 1, data + size};
    cm_frame_store store = CM_FRAME_STORE_INIT;
    while (rd.p < rd.end && sh.n < MAX_SHADOW) {
        uint8_t op = (uint8_t)take(&rd, 1);
        uint32_t frame = base + (uint32_t)take(&rd, 2);
        if (op & 1) {
            check_get(&store, &sh, frame);
            continue;
        }
        cm_frame_entry e;
        take_entry(&rd, &e);
        check_codec(&e.r, frame);
        FUZZ_CHECK(cm_frame_store_put(&store, frame, &e), "put of frame %u failed", frame);
        shadow_put(&sh, frame, &e);
    }
    for (size_t i = 0; i < sh.n; i++)
        check_get(&store, &sh, sh.frame[i]);
    FUZZ_CHECK(store.failures == 0, "%llu failures", (unsigned long long)store.failures);
    cm_frame_store_free(&store);
    return 0;
}
