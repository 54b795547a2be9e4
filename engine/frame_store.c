/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "frame_store.h"

#include <string.h>

#include "result_codec.h"

/* A record: varint(stream << 1 | has_ts), then the encoded result. */
#define RECORD_MAX (10 + CM_RESULT_ENCODED_MAX)

bool cm_frame_store_put(cm_frame_store *s, uint32_t frame, const cm_frame_entry *e)
{
    uint8_t rec[RECORD_MAX];
    size_t n = cm_varint_put(rec, (uint64_t)e->stream << 1 | (e->has_ts ? 1 : 0));
    n += cm_result_encode(&e->r, frame, rec + n);

    uint32_t pos;
    uint8_t *dst = cm_arena_alloc(&s->records, n, &pos);
    /* pos + 1 is the index value: the arena keeps positions far from 2^32 */
    if (!dst || !cm_u32_index_set(&s->index, frame, pos + 1)) {
        /* an arena allocation without its index entry is lost space only */
        s->failures++;
        return false;
    }
    memcpy(dst, rec, n);
    s->frames++;
    s->record_bytes += n;
    return true;
}

bool cm_frame_store_get(const cm_frame_store *s, uint32_t frame, cm_frame_entry *e)
{
    uint32_t v = cm_u32_index_get(&s->index, frame);
    if (!v)
        return false;
    uint32_t pos = v - 1;
    const uint8_t *rec = cm_arena_at(&s->records, pos);
    /* a record never spans chunks: it ends before the chunk does */
    size_t avail = CM_ARENA_CHUNK - pos % CM_ARENA_CHUNK;
    uint64_t head;
    size_t n = cm_varint_get(rec, avail, &head);
    if (!n || !cm_result_decode(rec + n, avail - n, frame, &e->r))
        return false;
    e->stream = (uint32_t)(head >> 1);
    e->has_ts = head & 1;
    return true;
}

size_t cm_frame_store_memory(const cm_frame_store *s)
{
    return cm_u32_index_memory(&s->index) + cm_arena_memory(&s->records);
}

void cm_frame_store_free(cm_frame_store *s)
{
    cm_u32_index_free(&s->index);
    cm_arena_free(&s->records);
    memset(s, 0, sizeof *s);
}
