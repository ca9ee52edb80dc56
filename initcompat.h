/* SPDX-License-Identifier: MIT */
/* What a real firmware's init expects of the one who starts it (issue 16,
 * doc/design.md and fwrun(8), FIRMWARES), apart from the namespaces themselves:
 *
 * - INIT read before it runs: its ELF machine (or that of its #!
 *   interpreter), so that a foreign binary without a binfmt_misc handler
 *   fails with a line naming the architecture and what to install, and -v
 *   says which emulator runs it when there is one;
 * - the kind of init (systemd, busybox init, another), which picks the
 *   default --stop-signal: each init's own "power off" request;
 * - systemd's container interface (systemd.io/CONTAINER_INTERFACE), applied
 *   when INIT is systemd: container_uuid in the environment, /proc premounted
 *   with /proc/sys read-only except the network namespace's /proc/sys/net,
 *   /sys read-only, a tmpfs /run with /run/host/ (container-manager,
 *   container-uuid, the host's os-release), and a transient /etc/machine-id
 *   when the image has none or an empty one.
 *
 * The pure half (ELF and #! parsing, names, hints, the stop signal, the
 * binfmt_misc entry matcher, the UUID's text) is unit-tested without root;
 * the applying half runs in the setup thread once it is in the firmware's
 * root (initcompat_inspect) and in pid 1 before its execve
 * (initcompat_init_mounts). */
#ifndef FWRUN_INITCOMPAT_H
#define FWRUN_INITCOMPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum init_kind {
	INIT_KIND_OTHER = 0,	/* boxinit, an Android init, a shell script... */
	INIT_KIND_SYSTEMD,	/* systemd as pid 1 */
	INIT_KIND_BUSYBOX,	/* busybox's init applet (init, linuxrc) */
};

#define INITCOMPAT_HDR_MAX 128		/* bytes of the ELF header kept */
#define INITCOMPAT_PATH_MAX 256
#define INITCOMPAT_UUID_LEN 36		/* 8-4-4-4-12 */
#define INITCOMPAT_OS_RELEASE_MAX 2048

/* What the setup thread found of INIT inside the firmware's root. */
struct initcompat_exe {
	bool read;				/* INIT (or its interpreter) was read */
	char resolved[INITCOMPAT_PATH_MAX];	/* INIT, symlinks resolved ("" unknown) */
	char interp[INITCOMPAT_PATH_MAX];	/* its #! interpreter, "" for none */
	unsigned char hdr[INITCOMPAT_HDR_MAX];	/* the ELF's first bytes */
	size_t hdr_len;
	uint16_t machine;			/* e_machine, 0: not ELF */
	int elf_class;				/* ELFCLASS32/64, 0: not ELF */
	bool big_endian;
	char noexec_hint[128];			/* for an ENOEXEC of execve, or "" */
	char notfound_hint[160];		/* INIT missing: what / holds, or "" */
};

/* The container interface for one run: uuid and os_release filled by the
 * supervisor (initcompat_plan), the rest by the setup thread once it has
 * read INIT (initcompat_inspect), before pid 1 starts. */
struct initcompat {
	enum init_kind kind;		/* see initcompat_kind */
	bool api_mounts;		/* /proc, /proc/sys ro, /sys ro, /run + /run/host,
					 * a transient /etc/machine-id if unset */
	char uuid[INITCOMPAT_UUID_LEN + 1];	/* container_uuid */
	char os_release[INITCOMPAT_OS_RELEASE_MAX];	/* the host's, "" if none */
	struct initcompat_exe exe;	/* written by the setup thread */
};

/* ---- pure ---- */

/* e_machine, class and byte order of an ELF header; -ENOEXEC when buf is
 * no ELF header (too short, bad magic, class or data). */
int initcompat_elf_machine(const unsigned char *buf, size_t len, uint16_t *machine,
			   int *elf_class, bool *big_endian);

/* Debian's name of an architecture ("arm64", "armhf"... "ia64"), or NULL
 * when unknown. */
const char *initcompat_arch_name(uint16_t machine, int elf_class, bool big_endian);

/* Whether Debian's qemu-user-static has an emulator for that machine. */
bool initcompat_qemu_covers(uint16_t machine, int elf_class);

/* The machine fwrun itself was built for (the host's). */
uint16_t initcompat_host_machine(void);

/* The hint for an execve that failed with ENOEXEC on a binary of that
 * machine: "an arm64 binary: install qemu-user-static and binfmt-support".
 * Empty when machine is 0 or the host's (nothing to say about it). */
void initcompat_noexec_hint(char *buf, size_t size, uint16_t machine, int elf_class,
			    bool big_endian);

/* The interpreter of a "#!" script (its first word), into interp; -ENOEXEC
 * when buf does not start with "#!" or names none. */
int initcompat_shebang(const char *buf, size_t len, char *interp, size_t size);

/* Which init this is, from INIT as given (argv[0]) and, when known, the
 * path it resolves to inside the firmware ("" or NULL: unknown):
 * systemd when either's last component is "systemd"; busybox init when it
 * is called init or linuxrc and resolves to busybox. */
enum init_kind initcompat_kind(const char *argv0, const char *resolved);

/* The default --stop-signal for an init: what asks it to power off.
 * systemd: SIGRTMIN+3 (halt; its SIGTERM only re-executes it); busybox
 * init: SIGUSR2 (poweroff; its SIGTERM reboots); others: SIGTERM. */
int initcompat_stop_signal(enum init_kind kind);

const char *initcompat_kind_name(enum init_kind kind);

/* The text of a random (version 4) UUID from 16 bytes; out has room for
 * INITCOMPAT_UUID_LEN + 1. */
void initcompat_format_uuid(const uint8_t bytes[16], char *out);

/* The machine-id form of a UUID: its 32 hex digits and a newline into out
 * (room for 34). */
void initcompat_machine_id(const char *uuid, char *out);

/* Whether /etc/machine-id's content asks for an id: empty, only
 * whitespace, or "uninitialized". */
bool initcompat_machine_id_unset(const char *content, size_t len);

/* Does a /proc/sys/fs/binfmt_misc entry's text (enabled, interpreter,
 * flags, offset, magic, mask lines) match this file header? Its
 * interpreter into interp; true only for an enabled magic entry. */
bool initcompat_binfmt_match(const char *entry, const unsigned char *hdr, size_t hdr_len,
			     char *interp, size_t size);

/* The hint for INIT not found: what the firmware's / holds (names, sorted,
 * as many as fit), so that a directory that is no firmware's root shows. */
void initcompat_notfound_hint(char *buf, size_t size, const char *const *names, size_t n);

/* The hint for execve's err on INIT (exists: INIT's path exists), from
 * what initcompat_inspect found (c may be NULL); NULL when none. */
const char *initcompat_exec_hint(const struct initcompat *c, int err, bool exists);

/* ---- applying ---- */

/* A new random UUID and the host's os-release (/etc/os-release, else
 * /usr/lib/os-release) into c; the kind argv0 names (the setup thread
 * refines it). */
void initcompat_plan(struct initcompat *c, const char *argv0);

/* Setup thread, after the switch to the firmware's root: read INIT (and its
 * #! interpreter) there into c->exe, decide the kind of init and whether it
 * gets systemd's container interface. Never fails (c->exe.read says
 * whether INIT could be read). */
void initcompat_inspect(struct initcompat *c, const char *argv0);

/* --dry-run on a directory: initcompat_inspect in a child chrooted into
 * root (nothing is mounted or changed). 0, or -errno. */
int initcompat_inspect_tree(struct initcompat *c, const char *root, const char *argv0);

/* The binfmt_misc handler that would run this header (its interpreter into
 * interp); false when none is registered and enabled. */
bool initcompat_find_emulator(const unsigned char *hdr, size_t len, char *interp, size_t size);

/* pid 1, in the firmware's root and PID namespace, before its execve: the
 * API file systems, /run/host and the transient machine id when
 * c->api_mounts. 0 or -errno with e filled. */
int initcompat_init_mounts(const struct initcompat *c, struct fw_error *e);

#endif
