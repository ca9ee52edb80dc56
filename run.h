/* SPDX-License-Identifier: MIT */
/* The applier: one run of a plan (plan.h), as a list of steps.
 *
 *   run_start()    once: runtime dirs, network checks, --status-fd,
 *                  subreaper, AppArmor profile, bounding set, console
 *   run_boot()     once per boot (--restart-on-reboot repeats it): the
 *                  setup thread, while it works the supervisor's share
 *                  (locks, taps, state dir, network), pid 1, supervision
 *   run_stop()     once, however the run went: console back, the last
 *                  word, interfaces back, locks and fds released
 *
 * Each step records what it did in struct run, and run_stop() undoes
 * exactly that: a step that failed half way leaves nothing to a second
 * cleanup path. A new feature is one more step in one of these. */
#ifndef FWRUN_RUN_H
#define FWRUN_RUN_H

#include "plan.h"

/* Run the firmware as planned; rootfs_fd comes from plan_probe() and is
 * closed here. Returns fwrun's exit status. Signals of supervise_sigmask()
 * must be blocked already. */
int run_plan(const struct fwrun_plan *p, int rootfs_fd);

/* The exited event of a run that failed before its init ran (boot: 0
 * when no boot began), on --status-fd (none when fd < 0). */
void run_report_setup_error(int status_fd, unsigned boot, int status, const struct fw_error *e);

#endif
