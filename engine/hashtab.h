/* One chained hash table for the engine (connections by tcp.stream) and
 * the command line (connections by address/port pair).
 *
 * Intrusive: the caller embeds a cm_hnode in its record, computes the
 * hash and compares keys itself, so one table serves any key.  Buckets
 * are picked by the hash's low bits: pass a mixed hash, or a dense id
 * such as tcp.stream (see hashtab.c).  Buckets are a
 * power of two and double when there are more records than buckets;
 * when doubling cannot be allocated the table keeps working with longer
 * chains.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_HASHTAB_H
#define CONNMON_HASHTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cm_hnode {
    struct cm_hnode *next;
    uint32_t hash;
    uint32_t tag;      /* the owner's (the node's padding otherwise) */
} cm_hnode;

typedef struct cm_htab {
    cm_hnode **buckets;
    size_t nbuckets;   /* power of two */
    size_t count;
    unsigned load_shift; /* grow beyond nbuckets >> load_shift records */
} cm_htab;

/* Returns false when the buckets cannot be allocated. */
bool cm_htab_init(cm_htab *t, size_t nbuckets);
/* Grow at one record per two buckets instead of one per bucket: a lookup
 * of an absent key (a new connection) then seldom touches a record, which
 * on a table of random keys far larger than the cache is a miss each. */
void cm_htab_keep_sparse(cm_htab *t);
/* Frees the buckets, not the records (free them with cm_htab_each first). */
void cm_htab_destroy(cm_htab *t);

/* The first record whose hash equals `hash`, then the next: callers walk
 * for (n = cm_htab_first(t, h); n; n = cm_htab_next(n)) and compare keys. */
cm_hnode *cm_htab_first(const cm_htab *t, uint32_t hash);
cm_hnode *cm_htab_next(const cm_hnode *n);

/* Asks the CPU to load the bucket of `hash` ahead of a lookup or removal
 * that is coming (the next connection to evict, say). */
void cm_htab_prefetch(const cm_htab *t, uint32_t hash);

/* Inserts n with n->hash already set. */
void cm_htab_insert(cm_htab *t, cm_hnode *n);
/* Puts n in old's place in its chain (old must be in the table): n takes
 * old's hash; the count and the buckets stay as they are. */
void cm_htab_replace(cm_htab *t, cm_hnode *old, cm_hnode *n);

/* Unlinks n (which must be in the table). */
void cm_htab_remove(cm_htab *t, cm_hnode *n);

/* Calls fn(n, arg) for every record; fn may remove or free n (and only n). */
void cm_htab_each(cm_htab *t, void (*fn)(cm_hnode *n, void *arg), void *arg);

#endif
