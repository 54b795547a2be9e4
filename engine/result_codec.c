/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "result_codec.h"

#include <string.h>

#define MEMBER(m, kind)                                                        \
    {#m, (uint16_t)offsetof(cm_result, m), (uint8_t)sizeof(((cm_result *)0)->m), \
     CM_CODEC_##kind}

/* Every member of cm_result.  Row i is bit i of the mask: the members a
 * typical packet carries come first, so that the mask of a result without
 * experts or duplicate ACKs fits one or two bytes. */
const cm_codec_member cm_codec_members[] = {
    MEMBER(direction, FLAG),
    MEMBER(flow_first, FLAG),
    MEMBER(tsrtd_pureack, FLAG),
    MEMBER(present, UNSIGNED),
    MEMBER(payload, UNSIGNED),
    MEMBER(flowbytes, UNSIGNED),
    MEMBER(seqgap, SIGNED),
    MEMBER(minrtd_ns, TIME),
    MEMBER(tsrtd_ns, TIME),
    MEMBER(tsrtd_frame, FRAME),
    MEMBER(seqrtd_ns, TIME),
    MEMBER(seqrtd_frame, FRAME),
    MEMBER(pathrtd_ns, TIME),
    MEMBER(pathrtd_frame, FRAME),
    MEMBER(expert, UNSIGNED),
    MEMBER(dupack_ns, TIME),
    MEMBER(dupack_num, UNSIGNED),
    MEMBER(dupack_frame, FRAME),
};
#define N_MEMBERS (sizeof cm_codec_members / sizeof cm_codec_members[0])
const size_t cm_codec_member_count = N_MEMBERS;

/* The mask is one varint (at most 63 rows); each value at most 10 bytes. */
_Static_assert(N_MEMBERS <= 63, "too many members for a 64-bit mask");
_Static_assert(10 + 10 * N_MEMBERS <= CM_RESULT_ENCODED_MAX, "CM_RESULT_ENCODED_MAX too small");

size_t cm_varint_put(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

size_t cm_varint_get(const uint8_t *in, size_t len, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < len && i < 10; i++) {
        x |= (uint64_t)(in[i] & 0x7f) << (7 * i);
        if (!(in[i] & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* A member's value widened to 64 bits (sign-extended for signed kinds). */
static uint64_t load(const cm_result *r, const cm_codec_member *m)
{
    const uint8_t *p = (const uint8_t *)r + m->offset;
    bool is_signed = m->kind == CM_CODEC_SIGNED || m->kind == CM_CODEC_TIME;
    switch (m->size) {
    case 1: { uint8_t v; memcpy(&v, p, 1); return is_signed ? (uint64_t)(int8_t)v : v; }
    case 2: { uint16_t v; memcpy(&v, p, 2); return is_signed ? (uint64_t)(int16_t)v : v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return is_signed ? (uint64_t)(int32_t)v : v; }
    default: { uint64_t v; memcpy(&v, p, 8); return v; }
    }
}

static void store(cm_result *r, const cm_codec_member *m, uint64_t v)
{
    uint8_t *p = (uint8_t *)r + m->offset;
    switch (m->size) {
    case 1: { uint8_t x = (uint8_t)v; memcpy(p, &x, 1); break; }
    case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
    default: memcpy(p, &v, 8); break;
    }
}

/* A time: bit 0 of the first byte says "whole microseconds", the rest is
 * the zigzag value (in us or ns) as a varint starting with 6 bits. */
static size_t put_time(uint8_t *out, int64_t ns)
{
    bool us = ns % 1000 == 0;
    uint64_t u = zigzag(us ? ns / 1000 : ns);
    out[0] = (uint8_t)((us ? 1 : 0) | (u & 0x3f) << 1);
    if (u < 0x40)
        return 1;
    out[0] |= 0x80;
    return 1 + cm_varint_put(out + 1, u >> 6);
}

static size_t get_time(const uint8_t *in, size_t len, int64_t *ns)
{
    if (len < 1)
        return 0;
    uint64_t u = (in[0] >> 1) & 0x3f, rest = 0;
    size_t n = 1;
    if (in[0] & 0x80) {
        size_t k = cm_varint_get(in + 1, len - 1, &rest);
        if (!k || rest >> 58)
            return 0;
        u |= rest << 6;
        n += k;
    }
    int64_t v = unzigzag(u);
    /* v / 1000 of an int64 times 1000 never overflows; a decoded us value
     * that would was never encoded */
    if (in[0] & 1) {
        if (v > INT64_MAX / 1000 || v < INT64_MIN / 1000)
            return 0;
        v *= 1000;
    }
    *ns = v;
    return n;
}

size_t cm_result_encode(const cm_result *r, uint32_t frame, uint8_t *out)
{
    uint8_t body[CM_RESULT_ENCODED_MAX];
    size_t n = 0;
    uint64_t mask = 0;
    for (size_t i = 0; i < N_MEMBERS; i++) {
        const cm_codec_member *m = &cm_codec_members[i];
        uint64_t v = load(r, m);
        if (!v)
            continue;
        mask |= UINT64_C(1) << i;
        switch (m->kind) {
        case CM_CODEC_FLAG: break;
        case CM_CODEC_UNSIGNED: n += cm_varint_put(body + n, v); break;
        case CM_CODEC_SIGNED: n += cm_varint_put(body + n, zigzag((int64_t)v)); break;
        case CM_CODEC_TIME: n += put_time(body + n, (int64_t)v); break;
        case CM_CODEC_FRAME:
            n += cm_varint_put(body + n, zigzag((int64_t)frame - (int64_t)v));
            break;
        }
    }
    size_t h = cm_varint_put(out, mask);
    memcpy(out + h, body, n);
    return h + n;
}

/* One member's value from in; returns the bytes used, 0 when malformed. */
static size_t get_member(const cm_codec_member *m, const uint8_t *in, size_t len,
                         uint32_t frame, uint64_t *v)
{
    uint64_t u = 0;
    size_t k;
    switch (m->kind) {
    case CM_CODEC_FLAG:
        *v = 1;
        return 0;
    case CM_CODEC_TIME: {
        int64_t ns = 0;
        k = get_time(in, len, &ns);
        *v = (uint64_t)ns;
        return k;
    }
    default:
        break;
    }
    k = cm_varint_get(in, len, &u);
    if (m->kind == CM_CODEC_SIGNED)
        u = (uint64_t)unzigzag(u);
    else if (m->kind == CM_CODEC_FRAME)
        u = (uint64_t)((int64_t)frame - unzigzag(u));
    *v = u;
    return k;
}

size_t cm_result_decode(const uint8_t *in, size_t len, uint32_t frame, cm_result *r)
{
    memset(r, 0, sizeof *r);
    uint64_t mask;
    size_t n = cm_varint_get(in, len, &mask);
    if (!n || mask >> N_MEMBERS)
        goto bad;
    for (size_t i = 0; i < N_MEMBERS; i++) {
        if (!(mask >> i & 1))
            continue;
        const cm_codec_member *m = &cm_codec_members[i];
        uint64_t v;
        size_t k = get_member(m, in + n, len - n, frame, &v);
        if (!k && m->kind != CM_CODEC_FLAG)
            goto bad;
        store(r, m, v);
        n += k;
    }
    return n;
bad:
    memset(r, 0, sizeof *r);
    return 0;
}
