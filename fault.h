/* SPDX-License-Identifier: MIT */
/* Fault injection, for the test build only (make FAULTS=1, which defines
 * FWRUN_FAULT_INJECTION). Each fault point sits in front of one operation
 * that can fail between start and exec:
 *
 *     if (FW_FAULT("overlay-mount") || mount(...) < 0)
 *             return fw_fail(e, errno, "mount overlay on", target);
 *     r = FW_FAULT_ERR("net-move-in") ?: move_link(...);
 *
 * With FWRUN_FAULT=POINT[:ERRNO[:TIMES]] in the environment (ERRNO a name
 * such as ENOENT or a number, default EIO; TIMES default 1, 0 for every
 * time) the named point fails at its first TIMES hits in each process that
 * reaches it: errno is set and the code goes down its real error path, so
 * the error line is the real one. `fwrun --list-fault-points`
 * prints the table (fault.c), which test/integration/t-faults.sh walks.
 *
 * In the shipped build both macros are the constant 0: no table, no getenv,
 * no option; t-faults.sh checks the binary has no trace of them. */
#ifndef FWRUN_FAULT_H
#define FWRUN_FAULT_H

#ifdef FWRUN_FAULT_INJECTION
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

/* true (errno set) when point is the one FWRUN_FAULT names and it is to
 * fail this time in this process. Aborts on a point missing from the table. */
bool fw_fault_hit(const char *point);
/* The table, one "POINT\tWHERE" line each. */
void fw_fault_list(FILE *f);

#define FW_FAULT(point) fw_fault_hit(point)
#define FW_FAULT_ERR(point) (fw_fault_hit(point) ? -errno : 0)
#else
/* (the point is still "used": no unused-parameter warning where it is one) */
#define FW_FAULT(point) ((void)(point), 0)
#define FW_FAULT_ERR(point) ((void)(point), 0)
#endif

#endif
