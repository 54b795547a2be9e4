/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hashtab.h"

#include <stdlib.h>

/* The low bits pick the bucket: hashes must be mixed, or dense ids.  The
 * engine keys connections by tcp.stream itself: consecutive streams fill
 * consecutive buckets, so the streams of one busy second share cache lines
 * and a window of fewer streams than buckets never collides. */
static inline size_t slot(const cm_htab *t, uint32_t hash)
{
    return (size_t)(hash & (t->nbuckets - 1));
}

bool cm_htab_init(cm_htab *t, size_t nbuckets)
{
    size_t n = 1;
    while (n < nbuckets)
        n *= 2;
    t->buckets = calloc(n, sizeof *t->buckets);
    t->nbuckets = t->buckets ? n : 0;
    t->count = 0;
    t->load_shift = 0;
    return t->buckets != NULL;
}

void cm_htab_keep_sparse(cm_htab *t)
{
    t->load_shift = 1;
}

void cm_htab_destroy(cm_htab *t)
{
    free(t->buckets);
    t->buckets = NULL;
    t->nbuckets = 0;
    t->count = 0;
}

cm_hnode *cm_htab_first(const cm_htab *t, uint32_t hash)
{
    cm_hnode *n = t->buckets[slot(t, hash)];
    while (n && n->hash != hash)
        n = n->next;
    return n;
}

cm_hnode *cm_htab_next(const cm_hnode *n)
{
    uint32_t hash = n->hash;
    for (n = n->next; n && n->hash != hash; n = n->next)
        ;
    return (cm_hnode *)n;
}

static void grow(cm_htab *t)
{
    size_t nb = t->nbuckets * 2;
    cm_hnode **nbk = calloc(nb, sizeof *nbk);
    if (!nbk)
        return; /* keep the longer chains */
    cm_hnode **old = t->buckets;
    size_t oldn = t->nbuckets;
    t->buckets = nbk;
    t->nbuckets = nb;
    for (size_t i = 0; i < oldn; i++) {
        for (cm_hnode *n = old[i], *next; n; n = next) {
            next = n->next;
            size_t b = slot(t, n->hash);
            n->next = nbk[b];
            nbk[b] = n;
        }
    }
    free(old);
}

void cm_htab_insert(cm_htab *t, cm_hnode *n)
{
    size_t b = slot(t, n->hash);
    n->next = t->buckets[b];
    t->buckets[b] = n;
    if (++t->count > t->nbuckets >> t->load_shift)
        grow(t);
}

/* The pointer that points at n in its chain (NULL if n is not there). */
static cm_hnode **link_to(const cm_htab *t, const cm_hnode *n)
{
    for (cm_hnode **pp = &t->buckets[slot(t, n->hash)]; *pp; pp = &(*pp)->next)
        if (*pp == n)
            return pp;
    return NULL;
}

void cm_htab_remove(cm_htab *t, cm_hnode *n)
{
    cm_hnode **pp = link_to(t, n);
    if (pp) {
        *pp = n->next;
        t->count--;
    }
}

void cm_htab_replace(cm_htab *t, cm_hnode *old, cm_hnode *n)
{
    cm_hnode **pp = link_to(t, old);
    if (pp) {
        n->hash = old->hash;
        n->next = old->next;
        *pp = n;
    }
}

void cm_htab_each(cm_htab *t, void (*fn)(cm_hnode *n, void *arg), void *arg)
{
    for (size_t i = 0; i < t->nbuckets; i++) {
        for (cm_hnode *n = t->buckets[i], *next; n; n = next) {
            next = n->next; /* fn may unlink n */
            fn(n, arg);
        }
    }
}

void cm_htab_prefetch(const cm_htab *t, uint32_t hash)
{
    __builtin_prefetch(&t->buckets[slot(t, hash)]);
}
