/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "slab.h"

#include <stdlib.h>

/* 64 KiB chunks: large enough that the chunk header and malloc's own are
 * noise, small enough that an engine with a handful of flows stays small. */
#define CHUNK_BYTES 65536

struct cm_slab_chunk {
    cm_slab_chunk *next;
    /* blocks follow, 8-aligned (the header is one pointer) */
};

void cm_slab_init(cm_slab *s, size_t size)
{
    size = size < 8 ? 8 : (size + 7) & ~(size_t)7;
    s->size = size;
    s->per_chunk = (CHUNK_BYTES - sizeof(cm_slab_chunk)) / size;
    if (s->per_chunk == 0)
        s->per_chunk = 1;
    s->free_list = NULL;
    s->chunks = NULL;
    s->fresh = 0;
    s->live = 0;
}

void cm_slab_destroy(cm_slab *s)
{
    for (cm_slab_chunk *c = s->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    s->chunks = NULL;
    s->nchunks = 0;
    s->free_list = NULL;
    s->fresh = 0;
    s->live = 0;
}

void *cm_slab_alloc(cm_slab *s)
{
    void *b = s->free_list;
    if (b) {
        s->free_list = *(void **)b;
    } else {
        if (s->fresh == 0) {
            cm_slab_chunk *c = malloc(sizeof *c + s->per_chunk * s->size);
            if (!c)
                return NULL;
            c->next = s->chunks;
            s->chunks = c;
            s->nchunks++;
            s->fresh = s->per_chunk;
        }
        /* the newest chunk's blocks in address order */
        b = (char *)(s->chunks + 1) + (s->per_chunk - s->fresh) * s->size;
        s->fresh--;
    }
    s->live++;
    return b;
}

void cm_slab_free(cm_slab *s, void *block)
{
    if (!block)
        return;
    *(void **)block = s->free_list;
    s->free_list = block;
    s->live--;
}

size_t cm_slab_bytes(const cm_slab *s)
{
    return s->nchunks * (sizeof(cm_slab_chunk) + s->per_chunk * s->size);
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
