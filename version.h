/* SPDX-License-Identifier: MIT */
/* fwrun's version: --version, the AppArmor profile's header. */
#ifndef FWRUN_VERSION_H
#define FWRUN_VERSION_H

#define FWRUN_VERSION "0.1.0"

#endif
