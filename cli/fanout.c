/* --fanout GROUP: see fanout.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "fanout.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifdef __linux__
#include <linux/if_packet.h>
#include <sys/socket.h>
#endif

const char *fanout_parse_group(const char *text, unsigned *group)
{
    unsigned v = 0;
    size_t i = 0;
    for (; text[i] >= '0' && text[i] <= '9' && v <= 65535; i++)
        v = v * 10 + (unsigned)(text[i] - '0');
    if (i == 0 || text[i] != '\0' || v > 65535)
        return "is not a group id from 0 to 65535";
    *group = v;
    return NULL;
}

const char *fanout_join(pcap_t *p, unsigned group, char *err, size_t err_size)
{
#if defined(__linux__) && defined(PACKET_FANOUT)
    int fd = pcap_fileno(p);
    int arg = (int)(group | ((unsigned)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16));
    if (fd < 0) {
        snprintf(err, err_size, "the capture has no socket to join a fanout group with");
        return err;
    }
    if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0) {
        int e = errno;
        snprintf(err, err_size, "cannot join fanout group %u: %s%s", group, strerror(e),
                 e == EINVAL ? " (the group exists with another mode or interface, "
                               "or the kernel has no PACKET_FANOUT)"
                 : e == ENOTSOCK || e == ENOPROTOOPT ? " (not a Linux packet socket)"
                                                     : "");
        return err;
    }
    return NULL;
#else
    (void)p;
    (void)group;
    snprintf(err, err_size, "--fanout needs Linux (PACKET_FANOUT)");
    return err;
#endif
}
