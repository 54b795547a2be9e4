/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "slab.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <malloc.h>
#else
#include <sys/mman.h>
#endif

/* Under AddressSanitizer, blocks not handed out are poisoned, so a use
 * after free of a connection is caught as it was when each came from
 * malloc (the first word of a free block holds the free list's link). */
#if defined(__SANITIZE_ADDRESS__)
#define CM_SLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CM_SLAB_ASAN 1
#endif
#endif
#ifdef CM_SLAB_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* 64 KiB chunks, aligned to their size, so that a block finds its chunk by
 * masking its address.  Large enough that the chunk header is noise, small
 * enough that an engine with a handful of flows stays small. */
#define CHUNK_BYTES ((uintptr_t)65536)

struct cm_slab_chunk {
    cm_lru_link link;           /* in the slab's chunks with a block to give
                                   (full ones are in no list); emptied ones
                                   are chained through link.older */
    void *free_list;            /* freed blocks of this chunk */
    uint32_t live;              /* blocks handed out */
    uint32_t fresh;             /* blocks never handed out (the chunk's tail) */
    bool full;                  /* out of the list */
    /* blocks follow, 8-aligned */
};

#define CHUNK_HEADER ((sizeof(cm_slab_chunk) + 7) & ~(size_t)7)

/* Chunks are carved from 1 MiB regions: one mapping per chunk would make a
 * large capture hit the kernel's limit on mappings (65530 by default: 4 GB
 * of chunks).  An emptied chunk's pages go back with MADV_DONTNEED and the
 * chunk waits, mapped, for reuse; regions are unmapped at the end. */
#define REGION_CHUNKS 16
#define REGION_BYTES (REGION_CHUNKS * CHUNK_BYTES)

/* A region aligned to CHUNK_BYTES, or NULL. */
static char *region_alloc(void)
{
#ifdef _WIN32
    return _aligned_malloc(REGION_BYTES, CHUNK_BYTES);
#else
    /* map one chunk more than needed and trim to the chunk alignment */
    size_t len = REGION_BYTES + CHUNK_BYTES;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    char *aligned = (char *)(((uintptr_t)p + CHUNK_BYTES - 1) & ~(CHUNK_BYTES - 1));
    if (aligned > p)
        munmap(p, (size_t)(aligned - p));
    if (p + len > aligned + REGION_BYTES)
        munmap(aligned + REGION_BYTES, (size_t)(p + len - (aligned + REGION_BYTES)));
    return aligned;
#endif
}

static void region_free(char *r)
{
    /* the addresses may be mapped again by anyone: no stale poison */
    UNPOISON(r, REGION_BYTES);
#ifdef _WIN32
    _aligned_free(r);
#else
    munmap(r, REGION_BYTES);
#endif
}

static bool region_new(cm_slab *s)
{
    if (s->nregions == s->regions_cap) {
        size_t cap = s->regions_cap ? 2 * s->regions_cap : 8;
        char **r = realloc(s->regions, cap * sizeof *r);
        if (!r)
            return false;
        s->regions = r;
        s->regions_cap = cap;
    }
    char *r = region_alloc();
    if (!r)
        return false;
    s->regions[s->nregions++] = r;
    s->carve = r;
    s->carve_left = REGION_CHUNKS;
    return true;
}

/* A chunk for new blocks: an emptied one, the next of the current region,
 * or one from a new region. */
static cm_slab_chunk *chunk_acquire(cm_slab *s)
{
    cm_slab_chunk *c = s->unused;
    if (c) {
        s->unused = CM_LRU_ENTRY(c->link.older, cm_slab_chunk, link);
        return c;
    }
    if (s->carve_left == 0 && !region_new(s))
        return NULL;
    c = (cm_slab_chunk *)s->carve;
    s->carve += CHUNK_BYTES;
    s->carve_left--;
    return c;
}

/* An emptied chunk: its pages back to the system, the chunk kept for reuse. */
static void chunk_release(cm_slab *s, cm_slab_chunk *c)
{
#ifndef _WIN32
    madvise(c, CHUNK_BYTES, MADV_DONTNEED);
#endif
    c->link.older = s->unused ? &s->unused->link : NULL; /* touches one page again */
    s->unused = c;
}

static inline cm_slab_chunk *chunk_of(const void *block)
{
    return (cm_slab_chunk *)((uintptr_t)block & ~(CHUNK_BYTES - 1));
}

void cm_slab_init(cm_slab *s, size_t size)
{
    size = size < 8 ? 8 : (size + 7) & ~(size_t)7;
    memset(s, 0, sizeof *s);
    s->size = size;
    s->per_chunk = (CHUNK_BYTES - CHUNK_HEADER) / size;
}

void cm_slab_destroy(cm_slab *s)
{
    for (size_t i = 0; i < s->nregions; i++)
        region_free(s->regions[i]);
    free(s->regions);
    size_t size = s->size;
    cm_slab_init(s, size);
}

static cm_slab_chunk *chunk_new(cm_slab *s)
{
    cm_slab_chunk *c = s->spare;
    if (c)
        s->spare = NULL;
    else if (!(c = chunk_acquire(s)))
        return NULL;
    else
        s->nchunks++;
    c->free_list = NULL;
    c->live = 0;
    c->fresh = (uint32_t)s->per_chunk;
    c->full = false;
    POISON((char *)c + CHUNK_HEADER, s->per_chunk * s->size);
    cm_lru_push(&s->partial, &c->link);
    return c;
}

void *cm_slab_alloc(cm_slab *s)
{
    if (s->per_chunk == 0)
        return NULL; /* blocks larger than a chunk: cm_pool takes them to malloc */
    /* the chunk that last got a block back or was made: still cached */
    cm_slab_chunk *c = CM_LRU_ENTRY(s->partial.newest, cm_slab_chunk, link);
    if (!c && !(c = chunk_new(s)))
        return NULL;
    void *b = c->free_list;
    if (b) {
        c->free_list = *(void **)b;
    } else {
        /* the chunk's blocks in address order */
        b = (char *)c + CHUNK_HEADER + (s->per_chunk - c->fresh) * s->size;
        c->fresh--;
    }
    UNPOISON(b, s->size);
    c->live++;
    s->live++;
    if (!c->free_list && c->fresh == 0) {
        cm_lru_unlink(&s->partial, &c->link);
        c->full = true;
    }
    return b;
}

void cm_slab_free(cm_slab *s, void *block)
{
    if (!block)
        return;
    cm_slab_chunk *c = chunk_of(block);
    if (c->full) {
        cm_lru_push(&s->partial, &c->link);
        c->full = false;
    }
    *(void **)block = c->free_list;
    c->free_list = block;
    POISON((char *)block + sizeof(void *), s->size - sizeof(void *));
    c->live--;
    s->live--;
    if (c->live > 0)
        return;
    /* empty: back to the system, but one spare is kept so that a table
     * hovering at a chunk boundary does not map and unmap all the time */
    cm_lru_unlink(&s->partial, &c->link);
    if (!s->spare) {
        s->spare = c;
    } else {
        chunk_release(s, c);
        s->nchunks--;
    }
}

size_t cm_slab_bytes(const cm_slab *s)
{
    return s->nchunks * CHUNK_BYTES;
}

/* ---- pool: a slab per size class ---------------------------------------- */

/* A large block's header: blocks are listed for cm_pool_destroy.  Two
 * pointers keep the payload as aligned as malloc's. */
struct cm_pool_large {
    cm_lru_link link;
};

static inline size_t pool_class(size_t size)
{
    return (size + CM_POOL_STEP - 1) / CM_POOL_STEP - 1;
}

void cm_pool_init(cm_pool *p)
{
    for (size_t i = 0; i < CM_POOL_CLASSES; i++)
        cm_slab_init(&p->cls[i], (i + 1) * CM_POOL_STEP);
    p->large = (cm_lru){NULL, NULL};
    p->large_bytes = 0;
}

void cm_pool_destroy(cm_pool *p)
{
    for (size_t i = 0; i < CM_POOL_CLASSES; i++)
        cm_slab_destroy(&p->cls[i]);
    for (cm_lru_link *l = p->large.oldest, *newer; l; l = newer) {
        newer = l->newer;
        free(CM_LRU_ENTRY(l, cm_pool_large, link));
    }
    p->large = (cm_lru){NULL, NULL};
    p->large_bytes = 0;
}

void *cm_pool_alloc(cm_pool *p, size_t size)
{
    if (size == 0)
        size = 1;
    if (size <= CM_POOL_MAX)
        return cm_slab_alloc(&p->cls[pool_class(size)]);
    if (size > SIZE_MAX - sizeof(cm_pool_large))
        return NULL;
    cm_pool_large *l = malloc(sizeof *l + size);
    if (!l)
        return NULL;
    cm_lru_push(&p->large, &l->link);
    p->large_bytes += cm_pool_rounded(size);
    return l + 1;
}

void cm_pool_free(cm_pool *p, void *block, size_t size)
{
    if (!block)
        return;
    if (size == 0)
        size = 1;
    if (size <= CM_POOL_MAX) {
        cm_slab_free(&p->cls[pool_class(size)], block);
        return;
    }
    cm_pool_large *l = (cm_pool_large *)block - 1;
    cm_lru_unlink(&p->large, &l->link);
    p->large_bytes -= cm_pool_rounded(size);
    free(l);
}

size_t cm_pool_rounded(size_t size)
{
    if (size == 0)
        size = 1;
    return size > CM_POOL_MAX ? size + sizeof(cm_pool_large) : (pool_class(size) + 1) * CM_POOL_STEP;
}

size_t cm_pool_bytes(const cm_pool *p)
{
    size_t n = p->large_bytes;
    for (size_t i = 0; i < CM_POOL_CLASSES; i++)
        n += cm_slab_bytes(&p->cls[i]);
    return n;
}
