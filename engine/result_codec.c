/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "result_codec.h"

#include <string.h>

/* Every member of cm_result, as X(member, kind).  Row i is bit i of the
 * mask: the members a typical packet carries come first, so that the mask
 * of a result without experts or duplicate ACKs fits one or two bytes. */
#define CM_RESULT_MEMBERS(X)                                                   \
    X(direction, FLAG)                                                         \
    X(flow_first, FLAG)                                                        \
    X(tsrtd_pureack, FLAG)                                                     \
    X(present, UNSIGNED)                                                       \
    X(payload, UNSIGNED)                                                       \
    X(flowbytes, UNSIGNED)                                                     \
    X(seqgap, SIGNED)                                                          \
    X(minrtd_ns, TIME)                                                         \
    X(tsrtd_ns, TIME)                                                          \
    X(tsrtd_frame, FRAME)                                                      \
    X(seqrtd_ns, TIME)                                                         \
    X(seqrtd_frame, FRAME)                                                     \
    X(pathrtd_ns, TIME)                                                        \
    X(pathrtd_frame, FRAME)                                                    \
    X(expert, UNSIGNED)                                                        \
    X(dupack_ns, TIME)                                                         \
    X(dupack_num, UNSIGNED)                                                    \
    X(dupack_frame, FRAME)

#define MEMBER_ROW(m, kind)                                                    \
    {#m, (uint16_t)offsetof(cm_result, m), (uint8_t)sizeof(((cm_result *)0)->m), \
     CM_CODEC_##kind},

/* The same list as a table (for the tests: it must cover the struct). */
const cm_codec_member cm_codec_members[] = {CM_RESULT_MEMBERS(MEMBER_ROW)};
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

/* Encoders per kind: the bytes of a non-zero value at out. */
static inline size_t enc_UNSIGNED(uint8_t *out, uint64_t v, uint32_t frame)
{
    (void)frame;
    return cm_varint_put(out, v);
}

static inline size_t enc_SIGNED(uint8_t *out, int64_t v, uint32_t frame)
{
    (void)frame;
    return cm_varint_put(out, zigzag(v));
}

static inline size_t enc_TIME(uint8_t *out, int64_t v, uint32_t frame)
{
    (void)frame;
    return put_time(out, v);
}

static inline size_t enc_FRAME(uint8_t *out, uint32_t v, uint32_t frame)
{
    return cm_varint_put(out, zigzag((int64_t)frame - (int64_t)v));
}

static inline size_t enc_FLAG(uint8_t *out, bool v, uint32_t frame)
{
    (void)out, (void)v, (void)frame;
    return 0;
}

size_t cm_result_encode(const cm_result *r, uint32_t frame, uint8_t *out)
{
    uint8_t body[CM_RESULT_ENCODED_MAX];
    size_t n = 0;
    uint64_t mask = 0, bit = 1;
#define ENCODE(m, kind)                                                        \
    if (r->m) {                                                                \
        mask |= bit;                                                           \
        n += enc_##kind(body + n, r->m, frame);                                \
    }                                                                          \
    bit <<= 1;
    CM_RESULT_MEMBERS(ENCODE)
#undef ENCODE
    size_t h = cm_varint_put(out, mask);
    memcpy(out + h, body, n);
    return h + n;
}

/* Decoders per kind: a value from in[0 .. len) into *v (sign-extended for
 * the signed kinds); the bytes used, 0 when malformed. */
static inline size_t dec_UNSIGNED(const uint8_t *in, size_t len, uint32_t frame, uint64_t *v)
{
    (void)frame;
    return cm_varint_get(in, len, v);
}

static inline size_t dec_SIGNED(const uint8_t *in, size_t len, uint32_t frame, uint64_t *v)
{
    (void)frame;
    size_t k = cm_varint_get(in, len, v);
    *v = (uint64_t)unzigzag(*v);
    return k;
}

static inline size_t dec_TIME(const uint8_t *in, size_t len, uint32_t frame, uint64_t *v)
{
    (void)frame;
    int64_t ns = 0;
    size_t k = get_time(in, len, &ns);
    *v = (uint64_t)ns;
    return k;
}

static inline size_t dec_FRAME(const uint8_t *in, size_t len, uint32_t frame, uint64_t *v)
{
    size_t k = cm_varint_get(in, len, v);
    /* frame - distance, wrapping: garbage must not overflow (only the low
     * 32 bits of a frame number matter) */
    *v = (uint64_t)frame - (uint64_t)unzigzag(*v);
    return k;
}

/* A flag's value is its mask bit: no bytes, never malformed. */
#define dec_FLAG(in, len, frame, v) (*(v) = 1, (size_t)1)
#define used_FLAG(k) 0
#define used_UNSIGNED(k) (k)
#define used_SIGNED(k) (k)
#define used_TIME(k) (k)
#define used_FRAME(k) (k)

size_t cm_result_decode(const uint8_t *in, size_t len, uint32_t frame, cm_result *r)
{
    memset(r, 0, sizeof *r);
    uint64_t mask, bit = 1, v;
    size_t n = cm_varint_get(in, len, &mask), k;
    if (!n || mask >> N_MEMBERS)
        goto bad;
    /* values wider than their member were never encoded from it: the
     * conversion keeps the low bits (two's complement for signed ones) */
#define DECODE(m, kind)                                                        \
    if (mask & bit) {                                                          \
        k = dec_##kind(in + n, len - n, frame, &v);                            \
        if (!k)                                                                \
            goto bad;                                                          \
        r->m = (__typeof__(r->m))v;                                            \
        n += used_##kind(k);                                                   \
    }                                                                          \
    bit <<= 1;
    CM_RESULT_MEMBERS(DECODE)
#undef DECODE
    return n;
bad:
    memset(r, 0, sizeof *r);
    return 0;
}
