/* A compact, exact byte encoding of a cm_result, for front ends that keep
 * every frame's result (the plugin shows it again on every later pass).
 *
 * A cm_result is ~110 bytes in memory; most of it is zero or small on a
 * real packet.  The encoding is a mask saying which members are not zero,
 * then only those members, each a variable-length integer:
 *
 *   flags (direction, flow_first, tsrtd_pureack)   the mask bit is the value
 *   times (ns)           zigzag, in microseconds when whole ones (pcap
 *                        timestamps are microseconds: 3 bytes, not 4)
 *   frame numbers        zigzag distance back from the frame itself
 *   seqgap               zigzag
 *   present, expert, payload, flowbytes, dupack_num      unsigned
 *
 * so a typical result takes 5-25 bytes.  Decoding gives back every member
 * exactly (padding reads 0).  The members are listed once, in
 * CM_RESULT_MEMBERS in result_codec.c (encoder, decoder and the table
 * below are made from it): a member added to cm_result needs a row there,
 * and tests/unit/test_result_codec.c checks that the table covers the
 * struct.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_RESULT_CODEC_H
#define CONNMON_RESULT_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "connmon.h"

/* No encoded result is longer than this. */
#define CM_RESULT_ENCODED_MAX 256

/* Encodes r, the result of frame `frame`, into out; returns the length
 * (1 .. CM_RESULT_ENCODED_MAX).  Members that are flags must be 0 or 1. */
size_t cm_result_encode(const cm_result *r, uint32_t frame, uint8_t *out);

/* Decodes a result of frame `frame` from the len bytes at in into *r;
 * returns the bytes used, or 0 when they are not a whole encoded result
 * (then *r is zeroed). */
size_t cm_result_decode(const uint8_t *in, size_t len, uint32_t frame, cm_result *r);

/* ---- the member table, for the tests ----------------------------------- */

typedef enum cm_codec_kind {
    CM_CODEC_FLAG,      /* 0 or 1, carried in the mask */
    CM_CODEC_UNSIGNED,
    CM_CODEC_SIGNED,
    CM_CODEC_TIME,      /* signed nanoseconds */
    CM_CODEC_FRAME,     /* a frame number */
} cm_codec_kind;

typedef struct cm_codec_member {
    const char *name;
    uint16_t offset;    /* offsetof(cm_result, member) */
    uint8_t size;       /* 1, 2, 4 or 8 */
    uint8_t kind;       /* cm_codec_kind */
} cm_codec_member;

extern const cm_codec_member cm_codec_members[];
extern const size_t cm_codec_member_count;

/* Variable-length unsigned integers (LEB128), shared with the frame
 * store: 7 bits per byte, low first, at most 10 bytes. */
size_t cm_varint_put(uint8_t *out, uint64_t v);
/* Reads one from in[0 .. len); returns the bytes used, 0 when cut short
 * or longer than 10 bytes. */
size_t cm_varint_get(const uint8_t *in, size_t len, uint64_t *v);

#endif
