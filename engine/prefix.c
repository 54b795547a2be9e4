/* Address prefixes: see prefix.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "prefix.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned width_of(int family)
{
    return family == 6 ? 128 : 32;
}

static size_t bytes_of(int family)
{
    return family == 6 ? 16 : 4;
}

void cm_prefix_of(const cm_addr *a, unsigned len, cm_prefix *out)
{
    memset(out, 0, sizeof *out);
    out->addr.family = a->family == 6 ? 6 : 4;
    if (len > width_of(out->addr.family))
        len = width_of(out->addr.family);
    out->len = (uint8_t)len;
    size_t whole = len / 8;
    memcpy(out->addr.bytes, a->bytes, whole);
    if (len % 8)
        out->addr.bytes[whole] = (uint8_t)(a->bytes[whole] & (0xFFu << (8 - len % 8)));
}

bool cm_prefix_contains(const cm_prefix *p, const cm_addr *a)
{
    if (a->family != p->addr.family)
        return false;
    unsigned whole = p->len / 8u, rest = p->len % 8u;
    for (unsigned i = 0; i < whole; i++)
        if (a->bytes[i] != p->addr.bytes[i])
            return false;
    return rest == 0 || (a->bytes[whole] & (0xFFu << (8 - rest))) == p->addr.bytes[whole];
}

int cm_prefix_cmp(const cm_prefix *a, const cm_prefix *b)
{
    if (a->addr.family != b->addr.family)
        return a->addr.family < b->addr.family ? -1 : 1;
    int c = memcmp(a->addr.bytes, b->addr.bytes, bytes_of(a->addr.family));
    if (c)
        return c < 0 ? -1 : 1;
    return (a->len > b->len) - (a->len < b->len);
}

size_t cm_prefix_format(const cm_prefix *p, char *buf, size_t size)
{
    char text[INET6_ADDRSTRLEN];
    if (!inet_ntop(p->addr.family == 6 ? AF_INET6 : AF_INET, p->addr.bytes, text, sizeof text))
        text[0] = '\0'; /* cannot happen: both families are supported */
    int n = snprintf(buf, size, "%s/%u", text, (unsigned)p->len);
    return n < 0 ? 0 : (size_t)n;
}

const char *cm_prefix_parse_len(const char *text, int family, unsigned *out)
{
    unsigned max = width_of(family);
    unsigned v = 0;
    size_t i = 0;
    for (; text[i] >= '0' && text[i] <= '9'; i++) {
        v = v * 10 + (unsigned)(text[i] - '0');
        if (v > max)
            break;
    }
    if (i == 0 || text[i] != '\0' || v > max)
        return family == 6 ? "is not a prefix length from 0 to 128"
                           : "is not a prefix length from 0 to 32";
    *out = v;
    return NULL;
}

/* The address part of "ADDR/LEN" (or a bare address) into *a. */
static const char *parse_address(const char *text, size_t n, cm_addr *a)
{
    char addr[INET6_ADDRSTRLEN + 1];
    if (n == 0)
        return "has no address before the '/'";
    if (n >= sizeof addr)
        return "is not an IPv4 or IPv6 address";
    memcpy(addr, text, n);
    addr[n] = '\0';
    memset(a, 0, sizeof *a);
    if (memchr(addr, ':', n)) {
        a->family = 6;
        if (inet_pton(AF_INET6, addr, a->bytes) != 1)
            return "is not an IPv6 address (e.g. 2001:db8::/32)";
    } else {
        a->family = 4;
        if (inet_pton(AF_INET, addr, a->bytes) != 1)
            return "is not an IPv4 address in dotted-quad form (e.g. 10.0.0.0/8)";
    }
    return NULL;
}

const char *cm_prefix_parse(const char *text, cm_prefix *out)
{
    memset(out, 0, sizeof *out);
    const char *slash = strchr(text, '/');
    size_t n = slash ? (size_t)(slash - text) : strlen(text);
    cm_addr a;
    const char *err = parse_address(text, n, &a);
    if (err)
        return err;
    unsigned len = width_of(a.family);
    if (slash && (err = cm_prefix_parse_len(slash + 1, a.family, &len)) != NULL)
        return a.family == 6 ? "has no prefix length from 0 to 128 after the '/'"
                             : "has no prefix length from 0 to 32 after the '/'";
    cm_prefix_of(&a, len, out);
    if (!cm_addr_eq(&out->addr, &a))
        return "has address bits set past the prefix length";
    return NULL;
}

/* ---- lists ------------------------------------------------------------------------ */

void cm_prefix_list_init(cm_prefix_list *l)
{
    memset(l, 0, sizeof *l);
}

void cm_prefix_list_free(cm_prefix_list *l)
{
    free(l->v);
    cm_prefix_list_init(l);
}

bool cm_prefix_list_add(cm_prefix_list *l, const cm_prefix *p)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        cm_prefix *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return false;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *p;
    return true;
}

bool cm_prefix_list_match(const cm_prefix_list *l, const cm_addr *a)
{
    for (size_t i = 0; i < l->n; i++)
        if (cm_prefix_contains(&l->v[i], a))
            return true;
    return false;
}
