/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PACKET_CONNMON_H
#define PACKET_CONNMON_H

void proto_register_connmon(void);
void proto_reg_handoff_connmon(void);

#endif
