/* Fixed-size blocks carved from large chunks, with a free list.
 *
 * The engine holds up to millions of small records (connections, their
 * pending queues, compressed idle connections).  From malloc each costs
 * 8-16 B of header and rounding, and freeing a million of them at the end
 * of a file costs most of a second in cache misses.  A slab gives blocks
 * without headers, reuses freed ones first (the hot ones), and frees every
 * chunk at once.  Freed blocks stay with the slab until cm_slab_destroy,
 * so memory follows the peak, not the current, number of records.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_SLAB_H
#define CONNMON_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lru.h"

typedef struct cm_slab_chunk cm_slab_chunk;

typedef struct cm_slab {
    size_t size;            /* block size: a multiple of 8, at least 8 */
    size_t per_chunk;       /* blocks per chunk */
    cm_lru partial;         /* chunks with a block to give; the newest is used */
    cm_slab_chunk *spare;   /* one empty chunk kept back */
    size_t nchunks;         /* chunks in use, the spare included */
    cm_slab_chunk *unused;  /* emptied chunks, their pages given back */
    char **regions;         /* the 1 MiB regions chunks are carved from */
    size_t nregions, regions_cap;
    char *carve;            /* the next chunk of the newest region */
    size_t carve_left;
    size_t live;            /* blocks handed out and not freed */
} cm_slab;

/* Blocks of `size` bytes (rounded up to a multiple of 8). */
void cm_slab_init(cm_slab *s, size_t size);
/* Frees every chunk: every block of the slab is gone. */
void cm_slab_destroy(cm_slab *s);

/* An uninitialised block; NULL when out of memory. */
void *cm_slab_alloc(cm_slab *s);
/* Gives a block of this slab back. */
void cm_slab_free(cm_slab *s, void *block);

/* Bytes the slab holds from the system (chunks). */
size_t cm_slab_bytes(const cm_slab *s);

/* Blocks of any size from a slab per 8-byte class up to CM_POOL_MAX;
 * larger ones come from malloc.  The caller passes the size it asked for
 * back to cm_pool_free (the block does not record it). */
#define CM_POOL_STEP 8
#define CM_POOL_CLASSES 32
#define CM_POOL_MAX (CM_POOL_STEP * CM_POOL_CLASSES)

typedef struct cm_pool_large cm_pool_large;

typedef struct cm_pool {
    cm_slab cls[CM_POOL_CLASSES];
    cm_lru large;          /* malloc'd blocks not freed yet, listed so that
                              cm_pool_destroy needs no walk of the owners */
    size_t large_bytes;    /* their sizes */
} cm_pool;

void cm_pool_init(cm_pool *p);
/* Frees every block, large ones too. */
void cm_pool_destroy(cm_pool *p);
void *cm_pool_alloc(cm_pool *p, size_t size);
void cm_pool_free(cm_pool *p, void *block, size_t size);
/* The bytes a block of `size` really takes. */
size_t cm_pool_rounded(size_t size);
/* Bytes the pool holds from the system. */
size_t cm_pool_bytes(const cm_pool *p);

#endif
