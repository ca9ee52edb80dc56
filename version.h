/* SPDX-License-Identifier: MIT */
/* fwrun's version: --version, the AppArmor profile's header. Written once,
 * in debian/changelog's top entry; the Makefile passes it as FWRUN_VERSION.
 * The fallback is for tools that read a file alone (cppcheck, clang-tidy). */
#ifndef FWRUN_VERSION_H
#define FWRUN_VERSION_H

#ifndef FWRUN_VERSION
#define FWRUN_VERSION "unknown"
#endif

#endif
