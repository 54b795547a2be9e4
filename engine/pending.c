/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pending.h"

#include "connmon.h"

#include <stdlib.h>
#include <string.h>

void cm_pending_init(cm_pending *q, cm_entry *ring, uint32_t cap)
{
    memset(q, 0, sizeof *q);
    q->ring = ring;
    q->cap = cap;
    q->ring_inline = true;
}

static void free_ring(cm_pending *q, cm_pool *pool)
{
    if (!q->ring_inline)
        cm_pool_free(pool, q->ring, (size_t)q->cap * sizeof *q->ring);
}

void cm_pending_free(cm_pending *q, cm_pool *pool)
{
    free_ring(q, pool);
    memset(q, 0, sizeof *q);
}

bool cm_pending_reserve(cm_pending *q, cm_pool *pool, uint32_t count)
{
    if (count <= q->cap)
        return true;
    uint32_t ncap = q->cap ? q->cap : 2; /* most flows hold one or two */
    while (ncap < count) {
        if (ncap >= UINT32_MAX / 2)
            return false;
        ncap *= 2;
    }
    cm_entry *nring = cm_pool_alloc(pool, (size_t)ncap * sizeof *nring);
    if (!nring)
        return false;
    for (uint32_t i = 0; i < q->count; i++)
        nring[i] = *cm_pending_at(q, i);
    free_ring(q, pool);
    q->ring_inline = false;
    q->ring = nring;
    q->cap = ncap;
    q->head = 0;
    return true;
}

/* Offset of a key from the head key: the queue's sort coordinate. */
static inline uint32_t offset_of(const cm_pending *q, uint32_t key)
{
    return key - cm_pending_at(q, 0)->key;
}

cm_entry *cm_pending_push(cm_pending *q, cm_pool *pool, uint32_t key)
{
    if (q->count == q->cap && !cm_pending_reserve(q, pool, q->count + 1))
        return NULL;
    if (q->count == 0) {
        q->unsorted = false;
    } else if (!q->unsorted) {
        uint32_t off = offset_of(q, key);
        uint32_t tail_off = offset_of(q, cm_pending_at(q, q->count - 1)->key);
        if (off >= 0x80000000u || off <= tail_off)
            q->unsorted = true;
    }
    cm_entry *e = cm_pending_at(q, q->count);
    q->count++;
    memset(e, 0, sizeof *e);
    e->key = key;
    return e;
}

cm_entry *cm_pending_find(cm_pending *q, uint32_t key, int64_t min_t)
{
    if (q->count == 0)
        return NULL;
    if (q->unsorted) {
        for (uint32_t i = 0; i < q->count; i++) {
            cm_entry *e = cm_pending_at(q, i);
            if (e->key == key && !e->removed && e->t_ns >= min_t)
                return e;
        }
        return NULL;
    }
    uint32_t want = offset_of(q, key);
    uint32_t lo = 0, hi = q->count; /* search [lo, hi) */
    if (want > offset_of(q, cm_pending_at(q, q->count - 1)->key))
        return NULL;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint32_t off = offset_of(q, cm_pending_at(q, mid)->key);
        if (off < want)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < q->count) {
        cm_entry *e = cm_pending_at(q, lo);
        if (e->key == key && !e->removed && e->t_ns >= min_t)
            return e;
    }
    return NULL;
}

void cm_pending_remove_upto(cm_pending *q, uint32_t key)
{
    while (q->count > 0) {
        cm_entry *h = cm_pending_at(q, 0);
        if (!h->removed && !cm_serial_le(h->key, key))
            break;
        q->head = (q->head + 1) & (q->cap - 1);
        q->count--;
    }
    if (q->count == 0) {
        q->unsorted = false;
        return;
    }
    /* Sorted and head after key: everything after key only if the tail is. */
    if (!q->unsorted && !cm_serial_le(cm_pending_at(q, q->count - 1)->key, key))
        return;
    for (uint32_t i = 0; i < q->count; i++) {
        cm_entry *e = cm_pending_at(q, i);
        if (cm_serial_le(e->key, key))
            e->removed = true;
    }
}

uint32_t cm_pending_trim(cm_pending *q, int64_t min_t)
{
    uint32_t expired = 0;
    while (q->count > 0) {
        cm_entry *h = cm_pending_at(q, 0);
        if (!h->removed && h->t_ns >= min_t)
            break;
        expired += !h->removed;
        q->head = (q->head + 1) & (q->cap - 1);
        q->count--;
    }
    if (q->count == 0)
        q->unsorted = false;
    return expired;
}
