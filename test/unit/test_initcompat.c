/* SPDX-License-Identifier: MIT */
/* What a real init expects (initcompat.h): ELF machines and their names,
 * the hint for a foreign binary, #! lines, the kind of init and its stop
 * signal, UUIDs and machine ids, binfmt_misc entries. No root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <signal.h>
#include <string.h>

#include "initcompat.h"

/* The first 20 bytes of an ELF header of that class, byte order, machine. */
static size_t elf_header(unsigned char *buf, int cls, bool big, uint16_t machine)
{
	memset(buf, 0, 64);
	memcpy(buf, ELFMAG, SELFMAG);
	buf[EI_CLASS] = (unsigned char)cls;
	buf[EI_DATA] = big ? ELFDATA2MSB : ELFDATA2LSB;
	buf[EI_VERSION] = EV_CURRENT;
	buf[big ? 17 : 16] = ET_EXEC;
	buf[big ? 18 : 19] = (unsigned char)(machine >> 8);
	buf[big ? 19 : 18] = (unsigned char)(machine & 0xff);
	return 64;
}

static void elf_machines(void **state)
{
	unsigned char h[64];
	uint16_t m = 0;
	int cls = 0;
	bool big = true;
	(void)state;

	size_t n = elf_header(h, ELFCLASS64, false, EM_AARCH64);
	assert_int_equal(initcompat_elf_machine(h, n, &m, &cls, &big), 0);
	assert_int_equal(m, EM_AARCH64);
	assert_int_equal(cls, ELFCLASS64);
	assert_false(big);
	assert_string_equal(initcompat_arch_name(m, cls, big), "arm64");

	n = elf_header(h, ELFCLASS32, true, EM_MIPS);
	assert_int_equal(initcompat_elf_machine(h, n, &m, &cls, &big), 0);
	assert_int_equal(m, EM_MIPS);
	assert_true(big);
	assert_string_equal(initcompat_arch_name(m, cls, big), "mips");
	n = elf_header(h, ELFCLASS32, false, EM_MIPS);
	assert_int_equal(initcompat_elf_machine(h, n, &m, &cls, &big), 0);
	assert_string_equal(initcompat_arch_name(m, cls, big), "mipsel");
	assert_string_equal(initcompat_arch_name(EM_ARM, ELFCLASS32, false), "armhf/armel");
	assert_string_equal(initcompat_arch_name(EM_X86_64, ELFCLASS64, false), "amd64");
	assert_string_equal(initcompat_arch_name(EM_RISCV, ELFCLASS64, false), "riscv64");
	assert_null(initcompat_arch_name(0x1234, ELFCLASS64, false));

	/* not ELF: too short, bad magic, bad class, bad data */
	assert_int_equal(initcompat_elf_machine(h, 19, &m, &cls, &big), -ENOEXEC);
	assert_int_equal(initcompat_elf_machine((const unsigned char *)"#!/bin/sh\n12345678901234",
						24, &m, &cls, &big), -ENOEXEC);
	h[EI_CLASS] = 3;
	assert_int_equal(initcompat_elf_machine(h, n, &m, &cls, &big), -ENOEXEC);
	h[EI_CLASS] = ELFCLASS32;
	h[EI_DATA] = 0;
	assert_int_equal(initcompat_elf_machine(h, n, &m, &cls, &big), -ENOEXEC);
	assert_int_equal(initcompat_elf_machine(NULL, 0, &m, &cls, &big), -ENOEXEC);
}

static void noexec_hints(void **state)
{
	char buf[128];
	(void)state;

	initcompat_noexec_hint(buf, sizeof(buf), EM_AARCH64, ELFCLASS64, false);
	assert_string_equal(buf, "an arm64 binary: install qemu-user-static and binfmt-support");
	initcompat_noexec_hint(buf, sizeof(buf), EM_MIPS, ELFCLASS32, true);
	assert_string_equal(buf, "a mips binary: install qemu-user-static and binfmt-support");
	initcompat_noexec_hint(buf, sizeof(buf), EM_IA_64, ELFCLASS64, false);
	assert_string_equal(buf, "an ia64 binary: no emulator for it on this host, "
			    "qemu-user-static has none");
	initcompat_noexec_hint(buf, sizeof(buf), 0x1234, ELFCLASS64, false);
	assert_string_equal(buf, "an ELF machine 4660 binary: no emulator for it on this "
			    "host, qemu-user-static has none");
	/* the host's own machine, or no ELF: nothing to say */
	initcompat_noexec_hint(buf, sizeof(buf), initcompat_host_machine(), ELFCLASS64, false);
	assert_string_equal(buf, "");
	initcompat_noexec_hint(buf, sizeof(buf), EM_NONE, 0, false);
	assert_string_equal(buf, "");
	assert_true(initcompat_qemu_covers(EM_ARM, ELFCLASS32));
	assert_false(initcompat_qemu_covers(EM_IA_64, ELFCLASS64));
}

static void shebangs(void **state)
{
	char in[64];
	(void)state;

	assert_int_equal(initcompat_shebang("#!/bin/sh\necho", 14, in, sizeof(in)), 0);
	assert_string_equal(in, "/bin/sh");
	assert_int_equal(initcompat_shebang("#! /bin/busybox sh -e\n", 22, in, sizeof(in)), 0);
	assert_string_equal(in, "/bin/busybox");
	/* cut at the buffer's end (a first line longer than what was read) */
	assert_int_equal(initcompat_shebang("#!/usr/bin/env", 14, in, sizeof(in)), 0);
	assert_string_equal(in, "/usr/bin/env");
	assert_int_equal(initcompat_shebang("#!\n", 3, in, sizeof(in)), -ENOEXEC);
	assert_int_equal(initcompat_shebang("#!  \t\n", 6, in, sizeof(in)), -ENOEXEC);
	assert_int_equal(initcompat_shebang("\177ELF", 4, in, sizeof(in)), -ENOEXEC);
	assert_int_equal(initcompat_shebang("#!/a/very/long/one", 18, in, 8), -ENOEXEC);
}

static void kinds_and_stop_signals(void **state)
{
	(void)state;

	assert_int_equal(initcompat_kind("/lib/systemd/systemd", NULL), INIT_KIND_SYSTEMD);
	assert_int_equal(initcompat_kind("/sbin/init", "/usr/lib/systemd/systemd"),
			 INIT_KIND_SYSTEMD);
	assert_int_equal(initcompat_kind("systemd", ""), INIT_KIND_SYSTEMD);
	assert_int_equal(initcompat_kind("/sbin/init", "/bin/busybox"), INIT_KIND_BUSYBOX);
	assert_int_equal(initcompat_kind("/linuxrc", "/bin/busybox"), INIT_KIND_BUSYBOX);
	/* busybox as a shell, or an init we cannot see through */
	assert_int_equal(initcompat_kind("/bin/sh", "/bin/busybox"), INIT_KIND_OTHER);
	assert_int_equal(initcompat_kind("/sbin/init", ""), INIT_KIND_OTHER);
	assert_int_equal(initcompat_kind("/sbin/boxinit", "/sbin/boxinit"), INIT_KIND_OTHER);
	assert_int_equal(initcompat_kind("/init", "/init"), INIT_KIND_OTHER);	/* Android */
	assert_int_equal(initcompat_kind("/sbin/systemd-not", NULL), INIT_KIND_OTHER);

	assert_int_equal(initcompat_stop_signal(INIT_KIND_SYSTEMD), SIGRTMIN + 3);
	assert_int_equal(initcompat_stop_signal(INIT_KIND_SYSTEMD), 37);	/* as systemd counts */
	assert_int_equal(initcompat_stop_signal(INIT_KIND_BUSYBOX), SIGUSR2);
	assert_int_equal(initcompat_stop_signal(INIT_KIND_OTHER), SIGTERM);
	assert_string_equal(initcompat_kind_name(INIT_KIND_SYSTEMD), "systemd");
}

static void uuids_and_machine_ids(void **state)
{
	uint8_t b[16];
	char u[INITCOMPAT_UUID_LEN + 1], id[34];
	(void)state;

	memset(b, 0xff, sizeof(b));
	initcompat_format_uuid(b, u);
	assert_string_equal(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
	memset(b, 0, sizeof(b));
	initcompat_format_uuid(b, u);
	assert_string_equal(u, "00000000-0000-4000-8000-000000000000");
	initcompat_machine_id("0123abcd-0000-4000-8000-00000000beef", id);
	assert_string_equal(id, "0123abcd00004000800000000000beef\n");

	assert_true(initcompat_machine_id_unset("", 0));
	assert_true(initcompat_machine_id_unset("\n", 1));
	assert_true(initcompat_machine_id_unset("uninitialized\n", 14));
	assert_false(initcompat_machine_id_unset("0123abcd00004000800000000000beef\n", 33));
	assert_false(initcompat_machine_id_unset("uninitializedX", 14));
}

static void binfmt_entries(void **state)
{
	static const char qemu_aarch64[] =
		"enabled\n"
		"interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n"
		"flags: POCF\n"
		"offset 0\n"
		"magic 7f454c460201010000000000000000000200b700\n"
		"mask ffffffffffffff00fffffffffffffffffeffffff\n";
	unsigned char h[64];
	char in[128];
	(void)state;

	elf_header(h, ELFCLASS64, false, EM_AARCH64);
	h[16] = ET_DYN;	/* the mask lets ET_EXEC and ET_DYN both through */
	assert_true(initcompat_binfmt_match(qemu_aarch64, h, sizeof(h), in, sizeof(in)));
	assert_string_equal(in, "/usr/libexec/qemu-binfmt/aarch64-binfmt-P");
	elf_header(h, ELFCLASS64, false, EM_X86_64);
	assert_false(initcompat_binfmt_match(qemu_aarch64, h, sizeof(h), in, sizeof(in)));
	elf_header(h, ELFCLASS64, false, EM_AARCH64);
	assert_false(initcompat_binfmt_match("disabled\ninterpreter /x\noffset 0\nmagic 7f454c46\n",
					     h, sizeof(h), in, sizeof(in)));
	assert_false(initcompat_binfmt_match("enabled\ninterpreter /usr/bin/jexec\n"
					     "flags: \nextension .jar\n", h, sizeof(h), in,
					     sizeof(in)));
	/* a magic beyond what was read never matches */
	assert_false(initcompat_binfmt_match(qemu_aarch64, h, 10, in, sizeof(in)));
	/* no mask: every bit counts */
	assert_true(initcompat_binfmt_match("enabled\ninterpreter /e\noffset 1\nmagic 454c46\n",
					    h, sizeof(h), in, sizeof(in)));
	assert_string_equal(in, "/e");
}

static void exec_hints(void **state)
{
	static const char *const top[] = { "usr", ".", "etc", "..", "bin", "home" };
	static const char *const none[] = { ".", ".." };
	struct initcompat c;
	char buf[160];
	(void)state;

	initcompat_notfound_hint(buf, sizeof(buf), top, 6);
	assert_string_equal(buf, "not a firmware's root? its / holds bin, etc, home, usr");
	initcompat_notfound_hint(buf, sizeof(buf), none, 2);
	assert_string_equal(buf, "the firmware's / is empty");
	initcompat_notfound_hint(buf, 45, top, 6);
	assert_string_equal(buf, "not a firmware's root? its / holds bin, ...");
	assert_true(strlen(buf) < 45);

	memset(&c, 0, sizeof(c));
	assert_string_equal(initcompat_exec_hint(&c, ENOENT, true),
			    "its interpreter or dynamic loader is missing in the firmware");
	assert_null(initcompat_exec_hint(&c, ENOENT, false));
	assert_null(initcompat_exec_hint(NULL, ENOEXEC, true));
	assert_null(initcompat_exec_hint(&c, EACCES, true));
	strcpy(c.exe.notfound_hint, "nf");
	strcpy(c.exe.noexec_hint, "ne");
	assert_string_equal(initcompat_exec_hint(&c, ENOENT, false), "nf");
	assert_string_equal(initcompat_exec_hint(&c, ENOEXEC, true), "ne");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(elf_machines),
		cmocka_unit_test(noexec_hints),
		cmocka_unit_test(shebangs),
		cmocka_unit_test(kinds_and_stop_signals),
		cmocka_unit_test(uuids_and_machine_ids),
		cmocka_unit_test(binfmt_entries),
		cmocka_unit_test(exec_hints),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
