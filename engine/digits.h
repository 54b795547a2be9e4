/* Decimal digits two at a time, "00" to "99": one division by 100 gives two
 * characters.  Shared by the formatters that run once per packet (flow
 * labels, the command line's lines).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_DIGITS_H
#define CONNMON_DIGITS_H

extern const char cm_digit_pairs[201];

#endif
