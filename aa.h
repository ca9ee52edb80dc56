/* SPDX-License-Identifier: MIT */
/* AppArmor confinement of the firmware (doc/design.md, "Host protection").
 *
 * One profile, "fwrun", for every instance: allow by default, deny what breaks
 * the host (the clock first), audit every denial. Paths are the firmware's
 * (attach_disconnected). The supervisor loads it with apparmor_parser only
 * when the kernel does not already hold this very text (aa_prepare()); the
 * setup thread asks for it on exec (aa_apply_onexec()) while the host's /proc
 * is reachable, and pid 1 inherits that request at its clone.
 *
 * Pure half (no root, unit-tested): aa_mode_parse(), aa_quote(),
 * aa_profile_text(), aa_fnv1a64(), aa_decide(), aa_state_text(),
 * aa_kept_text(), aa_profiles_has(), aa_describe().
 * Applying half: aa_kernel_enabled(), aa_prepare(), aa_apply_onexec(),
 * aa_onexec_self(). */
#ifndef FWRUN_AA_H
#define FWRUN_AA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define AA_PROFILE_NAME "fwrun"
#define AA_LABEL_MAX 256

enum aa_mode { AA_MODE_AUTO = 0, AA_MODE_ON, AA_MODE_OFF };

/* "auto" | "on" | "off" -> 0, anything else -EINVAL. */
int aa_mode_parse(const char *s, enum aa_mode *mode);
const char *aa_mode_name(enum aa_mode mode);

/* A profile name as AppArmor policy text: as is when made of [A-Za-z0-9._-]
 * only, else in double quotes with '"' backslash-escaped. Returns the length,
 * -EINVAL (empty, control characters, glob characters *?[]{} and backslash,
 * which the parser would not take literally), -ENAMETOOLONG. */
int aa_quote(const char *name, char *out, size_t size);

/* The profile text for profile `name`. Returns its length, or -errno from
 * aa_quote(), or -ENAMETOOLONG when buf is too small. */
int aa_profile_text(const char *name, char *buf, size_t size);

/* fwrun's own profile (AA_PROFILE_NAME), built once. */
const char *aa_profile(void);

/* FNV-1a, 64 bits: the cheap fingerprint of the profile text. */
uint64_t aa_fnv1a64(const void *data, size_t len);

/* Where the applying half looks. aa_env_system is the real system; the unit
 * tests point these at a fake tree and a fake parser. */
struct aa_env {
	const char *enabled_file;	/* /sys/module/apparmor/parameters/enabled */
	const char *securityfs;		/* /sys/kernel/security/apparmor */
	const char *run_dir;		/* /run/fwrun: the record of what we loaded */
	const char *keep_dir;		/* /var/lib/fwrun: the record kept across
					   boots (NULL: none) */
	const char *const *parsers;	/* apparmor_parser paths to try, NULL-ended */
};
extern const struct aa_env aa_env_system;

/* The record's file name in run_dir. */
#define AA_STATE_FILE "apparmor.state"
/* The kept record's file name in keep_dir (a leading dot: never an
 * instance's name). */
#define AA_KEPT_FILE ".apparmor.state"

enum aa_load {
	AA_LOAD_NONE = 0,	/* not prepared (off, no AppArmor, --dry-run) */
	AA_LOAD_REUSED,		/* the kernel holds our text already: no parser run */
	AA_LOAD_KEPT,		/* the same, known from the kept record (first run
				   since boot: the AppArmor service loaded it) */
	AA_LOAD_LOADED,		/* apparmor_parser --replace ran */
	AA_LOAD_EXTERNAL,	/* --profile: checked to be loaded */
};

struct aa_plan {
	enum aa_mode mode;
	bool kernel_enabled;	/* /sys/module/apparmor/parameters/enabled is Y */
	bool confine;		/* apply `label` on exec */
	bool own;		/* label is fwrun's own profile */
	char label[AA_LABEL_MAX];
	enum aa_load load;	/* what aa_prepare() did */
	uint64_t parser_ns;	/* how long apparmor_parser took (AA_LOAD_LOADED) */
	uint64_t prepare_ns;	/* how long aa_prepare() took in all */
	char kernel_id[384];	/* the loaded profile: "<dir> <hash>" */
};

/* Y in enabled_file. */
bool aa_kernel_enabled(const struct aa_env *env);

/* Decide from --apparmor, --profile (NULL: fwrun's own) and the kernel:
 *   off: no confinement (--profile with it: -EINVAL, a usage error);
 *   on:  confine, or -EOPNOTSUPP when the kernel has no AppArmor;
 *   auto: confine when the kernel has AppArmor (else aa_describe() says the
 *         capability layer alone protects the clock); --profile without
 *         AppArmor in the kernel: -EOPNOTSUPP.
 * Fills *p (load = AA_LOAD_NONE). */
int aa_decide(struct aa_plan *p, enum aa_mode mode, const char *profile, bool kernel_enabled,
	      struct fw_error *e);

/* The record kept in run_dir: which text we loaded, and what the kernel
 * made of it. Returns the length or -ENAMETOOLONG. */
int aa_state_text(char *buf, size_t size, uint64_t text_hash, const char *kernel_id);

/* The record kept in keep_dir, across boots: the same, but with only the
 * hash of the loaded policy from kernel_id ("<dir> <hash>"), as the policy
 * directory's name changes from boot to boot. A hash names the compiled
 * policy, whoever compiled it: the AppArmor service's load of
 * /etc/apparmor.d/fwrun at boot gives the hash our own load gave when the
 * text, the parser and its feature ABI are the same. Returns the length,
 * -ENOENT when kernel_id has no hash ("-": the kernel neither hashes nor
 * exports policy), -ENAMETOOLONG. */
int aa_kept_text(char *buf, size_t size, uint64_t text_hash, const char *kernel_id);

/* Whether a securityfs "profiles" listing ("name (mode)\n"...) holds name. */
bool aa_profiles_has(const char *listing, const char *name);

/* Supervisor side, before any fork, when p->confine: for fwrun's own
 * profile, reuse what the kernel holds when the record in run_dir says it is
 * our current text and the kernel still shows the same profile (same policy
 * directory, same hash of the loaded policy); failing that (no record in
 * run_dir after a boot), when the kept record in keep_dir says our text
 * compiles to the very hash the kernel shows (then the run_dir record is
 * written, best effort); otherwise run `apparmor_parser --replace` with the
 * text on stdin and write the record (O_NOFOLLOW, atomic rename), and the
 * kept one (best effort: a read-only /var costs a parser run per boot). For
 * --profile, check that it is loaded. Sets p->load (and p->parser_ns). */
int aa_prepare(struct aa_plan *p, const struct aa_env *env, struct fw_error *e);

/* Setup child, at STEP_PRE_PIVOT (the host's /proc still mounted): ask for
 * p->label on the next exec. Forked children inherit the request. */
int aa_apply_onexec(const struct aa_plan *p, struct fw_error *e);

/* What aa_change_onexec(label) does, for the calling thread whatever its
 * pid namespace: "exec LABEL" into /proc/thread-self/attr/apparmor/exec
 * (attr/exec on kernels without the apparmor directory). libapparmor writes
 * /proc/<gettid()>/attr/..., and a process born in the firmware's pid
 * namespace (--enter's CMD) has there a tid that names another process in
 * the host's /proc: EPERM. 0 or -errno. */
int aa_onexec_self(const char *label);

/* One line for -v and --dry-run, e.g. "profile 'fwrun' (reused, no parser
 * run)". Returns the length (truncated to size). */
int aa_describe(const struct aa_plan *p, char *buf, size_t size);

/* The line --apparmor=auto prints on stderr when the kernel has no
 * AppArmor (without "fwrun: "). */
#define AA_NOTICE_UNAVAILABLE \
	"AppArmor is not enabled in this kernel: the bounding set, the syscall filter and the " \
	"cgroup still protect the host clock, devices and cgroups, but host-wide sysctls, /sys " \
	"writes and debugfs, devtmpfs and binfmt_misc mounts are open (fwrun(8), HOST PROTECTION)"

#endif
