/* Two containers for a front end's per-file storage (the plugin keeps one
 * record per frame and one label per flow for the whole file):
 *
 *   cm_arena      append-only bytes in fixed-size chunks, addressed by a
 *                 32-bit position; what is stored never moves and never
 *                 spans two chunks, so a pointer to it stays valid until
 *                 the arena is freed.
 *   cm_u32_index  a uint32 per uint32 key (frame number, flow id), in pages
 *                 allocated on first write; keys never written read 0.
 *
 * Both cost nothing until written and free everything at once.  No
 * per-item allocation, header or alignment: the memory is the data plus
 * the unused tail of the last chunk or page.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_ARENA_H
#define CONNMON_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CM_ARENA_CHUNK (256u * 1024u)   /* bytes per chunk; an item is at most this */

typedef struct cm_arena {
    uint8_t **chunks;
    uint32_t nchunks, cap;  /* chunks in use, slots in `chunks` */
    uint32_t used;          /* bytes used in the last chunk */
} cm_arena;

#define CM_ARENA_INIT {NULL, 0, 0, 0}

/* Reserves n bytes (1 <= n <= CM_ARENA_CHUNK) and returns where they are,
 * their position in *pos.  Returns NULL, changing nothing, when out of
 * memory or when positions would pass 2^32 - 1 - CM_ARENA_CHUNK (4 GB). */
uint8_t *cm_arena_alloc(cm_arena *a, size_t n, uint32_t *pos);

/* The bytes at a position cm_arena_alloc gave out. */
static inline uint8_t *cm_arena_at(const cm_arena *a, uint32_t pos)
{
    return a->chunks[pos / CM_ARENA_CHUNK] + pos % CM_ARENA_CHUNK;
}

/* Bytes allocated (chunks and the chunk table). */
size_t cm_arena_memory(const cm_arena *a);

/* Frees everything; the arena is empty (and reusable) afterwards. */
void cm_arena_free(cm_arena *a);

#define CM_INDEX_PAGE 16384u            /* keys per page */

typedef struct cm_u32_index {
    uint32_t **pages;
    uint32_t npages;        /* slots in `pages` (NULL where never written) */
    size_t allocated;       /* pages allocated */
} cm_u32_index;

#define CM_U32_INDEX_INIT {NULL, 0, 0}

/* The value of key, 0 when never set. */
static inline uint32_t cm_u32_index_get(const cm_u32_index *x, uint32_t key)
{
    uint32_t p = key / CM_INDEX_PAGE;
    return p < x->npages && x->pages[p] ? x->pages[p][key % CM_INDEX_PAGE] : 0;
}

/* Sets key to value; returns false, changing nothing, when out of memory. */
bool cm_u32_index_set(cm_u32_index *x, uint32_t key, uint32_t value);

/* Bytes allocated (pages and the page table). */
size_t cm_u32_index_memory(const cm_u32_index *x);

void cm_u32_index_free(cm_u32_index *x);

#endif
