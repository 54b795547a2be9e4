/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

/* Positions stay below this, so pos + n never wraps a uint32. */
#define ARENA_MAX_CHUNKS ((uint32_t)((UINT32_MAX - CM_ARENA_CHUNK) / CM_ARENA_CHUNK))

/* Makes room for one more chunk pointer. */
static bool arena_grow_table(cm_arena *a)
{
    if (a->nchunks < a->cap)
        return true;
    uint32_t cap = a->cap ? a->cap * 2 : 16;
    uint8_t **t = realloc(a->chunks, cap * sizeof *t);
    if (!t)
        return false;
    a->chunks = t;
    a->cap = cap;
    return true;
}

uint8_t *cm_arena_alloc(cm_arena *a, size_t n, uint32_t *pos)
{
    if (n == 0 || n > CM_ARENA_CHUNK)
        return NULL;
    if (a->nchunks == 0 || a->used + n > CM_ARENA_CHUNK) {
        if (a->nchunks >= ARENA_MAX_CHUNKS || !arena_grow_table(a))
            return NULL;
        uint8_t *c = malloc(CM_ARENA_CHUNK);
        if (!c)
            return NULL;
        a->chunks[a->nchunks++] = c;
        a->used = 0;
    }
    uint32_t off = a->used;
    a->used += (uint32_t)n;
    *pos = (a->nchunks - 1) * CM_ARENA_CHUNK + off;
    return a->chunks[a->nchunks - 1] + off;
}

size_t cm_arena_memory(const cm_arena *a)
{
    return (size_t)a->nchunks * CM_ARENA_CHUNK + (size_t)a->cap * sizeof *a->chunks;
}

void cm_arena_free(cm_arena *a)
{
    for (uint32_t i = 0; i < a->nchunks; i++)
        free(a->chunks[i]);
    free(a->chunks);
    memset(a, 0, sizeof *a);
}

bool cm_u32_index_set(cm_u32_index *x, uint32_t key, uint32_t value)
{
    uint32_t p = key / CM_INDEX_PAGE;
    if (p >= x->npages) {
        if (!value)
            return true;            /* unset keys read 0 already */
        uint32_t n = x->npages ? x->npages : 16;
        while (n <= p)
            n *= 2;
        uint32_t **t = realloc(x->pages, n * sizeof *t);
        if (!t)
            return false;
        memset(t + x->npages, 0, (n - x->npages) * sizeof *t);
        x->pages = t;
        x->npages = n;
    }
    if (!x->pages[p]) {
        if (!value)
            return true;
        x->pages[p] = calloc(CM_INDEX_PAGE, sizeof **x->pages);
        if (!x->pages[p])
            return false;
        x->allocated++;
    }
    x->pages[p][key % CM_INDEX_PAGE] = value;
    return true;
}

size_t cm_u32_index_memory(const cm_u32_index *x)
{
    return x->allocated * CM_INDEX_PAGE * sizeof(uint32_t) + x->npages * sizeof *x->pages;
}

void cm_u32_index_free(cm_u32_index *x)
{
    for (uint32_t i = 0; i < x->npages; i++)
        free(x->pages[i]);
    free(x->pages);
    memset(x, 0, sizeof *x);
}
