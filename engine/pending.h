/* Pending round-trip starts of one flow, in recording order.
 *
 * Both kinds of entries (TS entries keyed by TSval, seq entries keyed by the
 * segment's end) are recorded with keys strictly increasing in serial
 * order, so the queue is normally sorted and found by binary search.  Odd
 * captures (jumps of 2^31 and more) can break that; the queue then notices
 * and falls back to linear scans until it empties.  Removal leaves a
 * tombstone; dead entries are popped from the head.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_PENDING_H
#define CONNMON_PENDING_H

#include <stdbool.h>
#include <stdint.h>

#include "slab.h"

typedef struct cm_entry {
    int64_t  t_ns;
    uint32_t key;       /* TSval, or end of the segment */
    uint32_t seq, end;  /* sequence range [seq, end) the entry stands for */
    uint32_t frame;
    bool     removed;
    bool     pureack;   /* recorded by a pure ACK (TS entries) */
} cm_entry;

typedef struct cm_pending {
    cm_entry *ring;
    uint32_t  cap;      /* power of two, or 0 */
    uint32_t  head;     /* index of the oldest entry */
    uint32_t  count;
    bool      unsorted; /* keys no longer increase along the queue */
    bool      ring_inline; /* ring is the owner's first small one, not the pool's */
} cm_pending;

/* The i-th entry from the head. */
static inline cm_entry *cm_pending_at(const cm_pending *q, uint32_t i)
{
    return &q->ring[(q->head + i) & (q->cap - 1)];
}

/* An empty queue using the owner's `ring` of `cap` (a power of two) entries
 * until it needs more; larger rings come from the pool. */
void cm_pending_init(cm_pending *q, cm_entry *ring, uint32_t cap);

/* Frees a pool ring (not the owner's). */
void cm_pending_free(cm_pending *q, cm_pool *pool);

/* Room for `count` entries; false when out of memory (nothing changed). */
bool cm_pending_reserve(cm_pending *q, cm_pool *pool, uint32_t count);

/* Appends an entry; returns NULL when out of memory. */
cm_entry *cm_pending_push(cm_pending *q, cm_pool *pool, uint32_t key);

/* Finds a live entry with this key that is not older than the horizon
 * (t_ns >= min_t is required: older ones are forgotten). */
cm_entry *cm_pending_find(cm_pending *q, uint32_t key, int64_t min_t);

/* Removes every entry whose key is at or before `key` in serial order. */
void cm_pending_remove_upto(cm_pending *q, uint32_t key);

/* Pops removed and forgotten entries from the head; returns how many of
 * them were forgotten (never answered). */
uint32_t cm_pending_trim(cm_pending *q, int64_t min_t);

/* True when the non-empty ranges [s1,e1) and [s2,e2) overlap (serial). */
static inline bool cm_ranges_overlap(uint32_t s1, uint32_t e1, uint32_t s2, uint32_t e2)
{
    if (s1 == e1 || s2 == e2)
        return false;
    /* s1 < e2 && s2 < e1, serially */
    uint32_t a = e2 - s1, b = e1 - s2;
    return a != 0 && a < 0x80000000u && b != 0 && b < 0x80000000u;
}

#endif
