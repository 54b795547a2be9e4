/* An intrusive list in order of last use: the engine's hot connections
 * (packed when idle, oldest first), the command line's connections
 * (evicted and expired oldest first) and a slab's chunks with free blocks.
 * A record embeds a cm_lru_link and finds itself from it with offsetof.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_LRU_H
#define CONNMON_LRU_H

#include <stddef.h>

typedef struct cm_lru_link {
    struct cm_lru_link *older, *newer;
} cm_lru_link;

typedef struct cm_lru {
    cm_lru_link *oldest, *newest;
} cm_lru;

/* The record of type T whose member M is the link L (NULL for NULL). */
#define CM_LRU_ENTRY(L, T, M) ((L) ? (T *)(void *)((char *)(L) - offsetof(T, M)) : (T *)NULL)

/* Takes e (which must be in l) out of l. */
static inline void cm_lru_unlink(cm_lru *l, cm_lru_link *e)
{
    if (e->older)
        e->older->newer = e->newer;
    else
        l->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        l->newest = e->older;
    e->older = e->newer = NULL;
}

/* Puts e (not in l) in as the newest. */
static inline void cm_lru_push(cm_lru *l, cm_lru_link *e)
{
    e->newer = NULL;
    e->older = l->newest;
    if (l->newest)
        l->newest->newer = e;
    else
        l->oldest = e;
    l->newest = e;
}

/* Makes e (in l) the newest. */
static inline void cm_lru_touch(cm_lru *l, cm_lru_link *e)
{
    if (l->newest == e)
        return;
    cm_lru_unlink(l, e);
    cm_lru_push(l, e);
}

#endif
