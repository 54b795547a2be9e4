/* Address prefixes: the source prefix an aggregate or a metric is kept
 * under ("10.1.2.0/24", "2001:db8::/48") and the --exclude lists.
 *
 * A cm_prefix is an address with every bit past `len` cleared, so two
 * prefixes are equal exactly when their bytes are (cm_prefix_eq) and a
 * hash of the bytes is a hash of the prefix.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_PREFIX_H
#define CONNMON_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "connmon.h"

typedef struct cm_prefix {
    cm_addr addr;  /* family 4 or 6; bits past len are zero */
    uint8_t len;   /* 0 .. 32 (IPv4) or 0 .. 128 (IPv6) */
} cm_prefix;

/* The prefix of length len (clipped to the family's width) holding a. */
void cm_prefix_of(const cm_addr *a, unsigned len, cm_prefix *out);

/* The prefix of a, with len4 bits for IPv4 and len6 for IPv6. */
static inline void cm_prefix_of_family(const cm_addr *a, unsigned len4, unsigned len6,
                                       cm_prefix *out)
{
    cm_prefix_of(a, a->family == 6 ? len6 : len4, out);
}

/* a lies in p (same family, same first p->len bits). */
bool cm_prefix_contains(const cm_prefix *p, const cm_addr *a);

/* Inline: once or twice per packet with --metrics or --aggregate. */
static inline bool cm_prefix_eq(const cm_prefix *a, const cm_prefix *b)
{
    return a->len == b->len && cm_addr_eq(&a->addr, &b->addr);
}

/* A hash of the prefix (family, length and bytes): FNV-1a. */
static inline uint32_t cm_prefix_hash(const cm_prefix *p)
{
    uint32_t h = 2166136261u;
    h = (h ^ p->addr.family) * 16777619u;
    h = (h ^ p->len) * 16777619u;
    size_t n = p->addr.family == 6 ? 16 : 4;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p->addr.bytes[i]) * 16777619u;
    return h;
}

/* Ascending: IPv4 before IPv6, then by address, then shorter first. */
int cm_prefix_cmp(const cm_prefix *a, const cm_prefix *b);

/* Formats "10.1.2.0/24" or "2001:db8::/48" (RFC 5952 text); returns the
 * length without the NUL, like snprintf.  CM_PREFIX_TEXT_MAX is always
 * enough. */
#define CM_PREFIX_TEXT_MAX 48
size_t cm_prefix_format(const cm_prefix *p, char *buf, size_t size);

/* Parses "ADDR/LEN" or a bare address (a host: /32 or /128).  Returns NULL
 * on success or a static message saying what is wrong; bits set past LEN
 * are an error ("10.1.2.3/24" is most likely a typo for 10.1.2.0/24 or
 * 10.1.2.3/32), and cm_prefix_parse then still fills *out with the
 * prefix meant by the length, so the caller can suggest it. */
const char *cm_prefix_parse(const char *text, cm_prefix *out);

/* Parses a prefix length for `family` (4: 0..32, 6: 0..128).  Returns NULL
 * on success or a static message. */
const char *cm_prefix_parse_len(const char *text, int family, unsigned *out);

/* ---- a list of prefixes (--exclude) ----------------------------------------
 * Few entries (operators list a handful of networks), so a linear scan
 * with no allocation per lookup. */

typedef struct cm_prefix_list {
    cm_prefix *v;
    size_t n, cap;
} cm_prefix_list;

/* An empty list (all zero is empty too). */
void cm_prefix_list_init(cm_prefix_list *l);
void cm_prefix_list_free(cm_prefix_list *l);

/* Appends p.  Returns false when out of memory (the list is unchanged). */
bool cm_prefix_list_add(cm_prefix_list *l, const cm_prefix *p);

/* a lies in one of the list's prefixes. */
bool cm_prefix_list_match(const cm_prefix_list *l, const cm_addr *a);

#endif
