/* SPDX-License-Identifier: MIT */
/* The whole program lives in libfwrun.a so the tests can link it; this file
 * is only the entry point. */
#include "fwrun.h"

int main(int argc, char **argv)
{
	return fwrun_main(argc, argv);
}
