/* SPDX-License-Identifier: MIT */
/* The whole program lives in libfwrun.a so the tests can link it; this file
 * is only the entry point. */
#include "fwrun.h"

#ifdef FWRUN_FAULT_INJECTION
#include <string.h>
#include "fault.h"
#endif

int main(int argc, char **argv)
{
#ifdef FWRUN_FAULT_INJECTION
	/* Test build only: the fault points, for t-faults.sh. */
	if (argc == 2 && strcmp(argv[1], "--list-fault-points") == 0) {
		fw_fault_list(stdout);
		return 0;
	}
#endif
	return fwrun_main(argc, argv);
}
