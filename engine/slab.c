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
    cm_slab_chunk *prev, *next; /* in the slab's partial or full list */
    void *free_list;            /* freed blocks of this chunk */
    uint32_t live;              /* blocks handed out */
    uint32_t fresh;             /* blocks never handed out (the chunk's tail) */
    bool full;                  /* in the full list */
    /* blocks follow, 8-aligned */
};

#define CHUNK_HEADER ((sizeof(cm_slab_chunk) + 7) & ~(size_t)7)

#ifndef _WIN32
/* Chunks are carved from 1 MiB regions: one mapping per chunk would make a
 * large capture hit the kernel's limit on mappings (65530 by default: 4 GB
 * of chunks).  An emptied chunk's pages go back with MADV_DONTNEED and the
 * chunk waits, mapped, for reuse; regions are unmapped at the end. */
#define REGION_CHUNKS 16

static bool region_map(cm_slab *s)
{
    if (s->nregions == s->regions_cap) {
        size_t cap = s->regions_cap ? 2 * s->regions_cap : 8;
        void **r = realloc(s->regions, cap * sizeof *r);
        if (!r)
            return false;
        s->regions = r;
        s->regions_cap = cap;
    }
    /* map one chunk more than needed and trim to the chunk alignment */
    size_t want = REGION_CHUNKS * CHUNK_BYTES, len = want + CHUNK_BYTES;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    char *aligned = (char *)(((uintptr_t)p + CHUNK_BYTES - 1) & ~(CHUNK_BYTES - 1));
    if (aligned > p)
        munmap(p, (size_t)(aligned - p));
    if (p + len > aligned + want)
        munmap(aligned + want, (size_t)(p + len - (aligned + want)));
    s->regions[s->nregions++] = aligned;
    s->carve = aligned;
    s->carve_left = REGION_CHUNKS;
    return true;
}
#endif

/* A chunk for new blocks: an emptied one, the next of the current region,
 * or one from a new region. */
static cm_slab_chunk *chunk_acquire(cm_slab *s)
{
#ifdef _WIN32
    return _aligned_malloc(CHUNK_BYTES, CHUNK_BYTES);
#else
    cm_slab_chunk *c = s->unused;
    if (c) {
        s->unused = c->next;
        return c;
    }
    if (s->carve_left == 0 && !region_map(s))
        return NULL;
    c = (cm_slab_chunk *)s->carve;
    s->carve += CHUNK_BYTES;
    s->carve_left--;
    return c;
#endif
}

/* An emptied chunk: its memory back to the system. */
static void chunk_release(cm_slab *s, cm_slab_chunk *c)
{
#ifdef _WIN32
    (void)s;
    _aligned_free(c);
#else
    madvise(c, CHUNK_BYTES, MADV_DONTNEED);
    c->next = s->unused; /* touches one page of it again */
    s->unused = c;
#endif
}

static inline cm_slab_chunk *chunk_of(const void *block)
{
    return (cm_slab_chunk *)((uintptr_t)block & ~(CHUNK_BYTES - 1));
}

static void list_push(cm_slab_chunk **head, cm_slab_chunk *c)
{
    c->prev = NULL;
    c->next = *head;
    if (*head)
        (*head)->prev = c;
    *head = c;
}

static void list_unlink(cm_slab_chunk **head, cm_slab_chunk *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        *head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
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
#ifdef _WIN32
    cm_slab_chunk *lists[] = {s->partial, s->full};
    for (size_t i = 0; i < 2; i++)
        for (cm_slab_chunk *c = lists[i], *next; c; c = next) {
            next = c->next;
            _aligned_free(c);
        }
    if (s->spare)
        _aligned_free(s->spare);
#else
    for (size_t i = 0; i < s->nregions; i++) {
        /* the addresses may be mapped again by anyone: no stale poison */
        UNPOISON(s->regions[i], REGION_CHUNKS * CHUNK_BYTES);
        munmap(s->regions[i], REGION_CHUNKS * CHUNK_BYTES);
    }
    free(s->regions);
#endif
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
    list_push(&s->partial, c);
    return c;
}

void *cm_slab_alloc(cm_slab *s)
{
    if (s->per_chunk == 0)
        return NULL; /* blocks larger than a chunk: cm_pool takes them to malloc */
    cm_slab_chunk *c = s->partial;
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
        list_unlink(&s->partial, c);
        list_push(&s->full, c);
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
        list_unlink(&s->full, c);
        list_push(&s->partial, c);
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
    list_unlink(&s->partial, c);
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
    cm_pool_large *prev, *next;
};

static inline size_t pool_class(size_t size)
{
    return (size + CM_POOL_STEP - 1) / CM_POOL_STEP - 1;
}

void cm_pool_init(cm_pool *p)
{
    for (size_t i = 0; i < CM_POOL_CLASSES; i++)
        cm_slab_init(&p->cls[i], (i + 1) * CM_POOL_STEP);
    p->large = NULL;
    p->large_bytes = 0;
}

void cm_pool_destroy(cm_pool *p)
{
    for (size_t i = 0; i < CM_POOL_CLASSES; i++)
        cm_slab_destroy(&p->cls[i]);
    for (cm_pool_large *l = p->large, *next; l; l = next) {
        next = l->next;
        free(l);
    }
    p->large = NULL;
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
    l->prev = NULL;
    l->next = p->large;
    if (p->large)
        p->large->prev = l;
    p->large = l;
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
    if (l->prev)
        l->prev->next = l->next;
    else
        p->large = l->next;
    if (l->next)
        l->next->prev = l->prev;
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
