# fwrun - run a device firmware's init as pid 1 on a Linux host.
#
#   make                 build ./fwrun
#   make check           unit tests, then (as root) integration and VM tests
#   make check SANITIZE=1   the same, built with ASan+UBSan
#   make demo            build the busybox demo firmware and run it
#   make fuzz            each libFuzzer target for FUZZ_SECONDS (10; CI: 60)
#   make analyze         cppcheck + clang-tidy, failing on any finding
#   make valgrind        the unit tests under valgrind
#   make hardening       all three, plus check SANITIZE=1 (CI; FUZZ_SECONDS=60)
#   make install / uninstall   PREFIX=/usr/local DESTDIR=
#   make deb             the Debian package, in $(B)/deb/ (tools/mkdeb)
#   V=1 shows the commands, WERROR=1 turns warnings into errors (CI)
#   make FAULTS=1 B=build-fault   the test build with fault points (fault.h);
#                        make check builds it in $(B)-fault for t-faults.sh

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

# The version is written in one place, debian/changelog's top entry (dch -v):
# --version, the profile's header, the installed man page and the package
# take it from there (test/integration/t-pkg-build.sh checks all four).
VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
ifeq ($(VERSION),)
$(error cannot read the version from debian/changelog)
endif

CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS := libcap-ng libapparmor libseccomp

# Objects go to $(B); a second tree (B=build-asan) can live beside it.
ifeq ($(SANITIZE),1)
B ?= build-asan
# UB aborts (no recovery), so a test that hits it fails.
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
B ?= build
SAN_FLAGS :=
endif
# Never in a shipped binary: only the test build has fault points.
ifeq ($(FAULTS),1)
FAULT_FLAGS := -DFWRUN_FAULT_INJECTION
endif

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wno-format-nonliteral -Wundef -Wpointer-arith -Wvla
ifeq ($(WERROR),1)
WARN += -Werror
endif
CFLAGS ?= -O2 -g
FW_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 \
	-fstack-protector-strong -fPIE $(SAN_FLAGS) $(FAULT_FLAGS) \
	-DFWRUN_VERSION='"$(VERSION)"' $(CPPFLAGS) \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null) $(TEST_CFLAGS)
FW_LDFLAGS := -pie -Wl,-z,relro,-z,now $(SAN_FLAGS) $(LDFLAGS)
LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

# fwrun itself is a static PIE: a run forks two processes from it (the setup
# child, pid 1), and dynamically linked each would pay for the loader's
# mappings again, in page tables and copy-on-write faults (bench/RESULTS.md).
# STATIC=0 links it dynamically; sanitizer builds always are; tests are.
STATIC ?= 1
ifeq ($(SANITIZE),1)
STATIC := 0
endif
ifeq ($(STATIC),1)
BIN_LDFLAGS := -static-pie -Wl,-z,relro,-z,now $(LDFLAGS)
BIN_LIBS := $(shell $(PKG_CONFIG) --static --libs $(PKGS) 2>/dev/null)
else
BIN_LDFLAGS := $(FW_LDFLAGS)
BIN_LIBS := $(LIBS)
endif
# glibc's name services need its shared libraries even in a static binary:
# fwrun must call none of them. libcap-ng.a brings two along, unused, in
# capng_change_id(): the linker's warnings about those two are left out.
NSS_FUNCS := getpw|getgr|initgroups|getaddrinfo|getnameinfo|gethostby|getservby|getprotoby|dlopen
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Every module but main.c goes into libfwrun.a, which the tests link. Listed,
# not globbed: a stray .c left at the top level is never linked in.
LIB_SRCS := fwrun.c ns.c overlay.c rootfs.c state.c netsetup.c aa.c \
	cgroup.c caps.c console.c enter.c events.c fault.c initcompat.c instances.c nl.c plan.c \
	run.c rundir.c supervise.c sysfilter.c util.c
# The syscall filter's program is built when fwrun is (sysfilter.h): the
# generated $(B)/sysfilter_bpf.c goes in with them.
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o) $(B)/sysfilter_bpf.o
UNIT_SRCS := $(wildcard test/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:test/unit/%.c=$(B)/test/%)

all: fwrun

fwrun: $(B)/fwrun
	$(Q)ln -sf $(B)/fwrun fwrun

$(B)/fwrun: $(B)/main.o $(B)/libfwrun.a
	@echo "  LD      $@"
ifeq ($(STATIC),1)
	$(Q)if nm -u $^ | grep -Ew '($(NSS_FUNCS))[a-z_0-9]*'; then \
		echo "fwrun must not call glibc's name services (static build)" >&2; exit 1; fi
	$(Q)$(CC) $(BIN_LDFLAGS) -o $@ $^ $(BIN_LIBS) 2>$@.log; s=$$?; \
		grep -v -e "in function \`capng_change_id'" -e "Using '\(initgroups\|getpwuid\)' in statically linked" $@.log >&2; \
		rm -f $@.log; exit $$s
else
	$(Q)$(CC) $(BIN_LDFLAGS) -o $@ $^ $(BIN_LIBS)
endif

$(B)/libfwrun.a: $(LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(B)/%.o: %.c $(wildcard *.h) debian/changelog | $(B)
	@echo "  CC      $<"
	$(Q)$(CC) $(FW_CFLAGS) $(CFLAGS) -MMD -c -o $@ $<

# A build tool, run here: plain, whatever the build's sanitizers.
$(B)/sysfilter-gen: tools/sysfilter-gen.c sysfilter.c sysfilter.h | $(B)
	@echo "  CC      $@"
	$(Q)$(CC) -std=gnu11 $(WARN) -D_GNU_SOURCE -O1 -I. -o $@ tools/sysfilter-gen.c sysfilter.c \
		$(shell $(PKG_CONFIG) --cflags --libs libseccomp 2>/dev/null)

$(B)/sysfilter_bpf.c: $(B)/sysfilter-gen
	@echo "  GEN     $@"
	$(Q)$(B)/sysfilter-gen >$@.tmp && mv $@.tmp $@

$(B)/sysfilter_bpf.o: $(B)/sysfilter_bpf.c sysfilter.h | $(B)
	@echo "  CC      $<"
	$(Q)$(CC) $(FW_CFLAGS) $(CFLAGS) -I. -c -o $@ $<

# The unit tests link the test build's library: its fault points stay inert
# unless a test arms one (fw_fault_arm), e.g. to take an old kernel's path.
UNIT_LIB := $(B)-fault/libfwrun.a
$(UNIT_LIB): FORCE
	$(Q)$(MAKE) --no-print-directory FAULTS=1 B=$(B)-fault $@

$(B)/test/%: test/unit/%.c $(UNIT_LIB) | $(B)/test
	@echo "  CC      $<"
	$(Q)$(CC) $(FW_CFLAGS) -DFWRUN_FAULT_INJECTION $(CFLAGS) -I. -o $@ $< $(UNIT_LIB) $(FW_LDFLAGS) $(LIBS) $(CMOCKA_LIBS)

# Static helpers the integration tests put inside test images.
$(B)/test/probe: test/probe.c | $(B)/test
	@echo "  CC      $< (static)"
	$(Q)$(CC) -std=gnu11 -O2 -Wall -Wextra -static -o $@ $<

$(B)/test/androidinit: test/androidinit.c | $(B)/test
	@echo "  CC      $< (static)"
	$(Q)$(CC) -std=gnu11 -O2 -Wall -Wextra -static -o $@ $<

$(B) $(B)/test:
	$(Q)mkdir -p $@

unit: $(UNIT_BINS)

check: fwrun $(UNIT_BINS) $(B)/test/probe $(B)/test/androidinit fault-build
	$(Q)B=$(B) test/run

# The fault-injection build for t-faults.sh, beside $(B) (no ./fwrun link).
fault-build:
	$(Q)$(MAKE) --no-print-directory FAULTS=1 B=$(B)-fault $(B)-fault/fwrun

# --- hardening: fuzzing, static analysis, valgrind (issue 6) -------------
# libFuzzer targets fuzz/fuzz_*.c, built with clang against the library's
# sources compiled again with the fuzzer's instrumentation, in $(FB).
FUZZ_CC ?= clang
FB ?= $(B)/fuzz
FUZZ_SECONDS ?= 10
FUZZ_CFLAGS := -std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	-DFWRUN_VERSION='"$(VERSION)"' \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
FUZZ_SRCS := $(wildcard fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:fuzz/%.c=$(FB)/%)

$(FB)/obj/%.o: %.c $(wildcard *.h) debian/changelog | $(FB)/obj
	@echo "  CC      $< (fuzz)"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FB)/obj/sysfilter_bpf.o: $(B)/sysfilter_bpf.c sysfilter.h | $(FB)/obj
	@echo "  CC      $< (fuzz)"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -I. -c -o $@ $<

$(FB)/libfwrun.a: $(LIB_SRCS:%.c=$(FB)/obj/%.o) $(FB)/obj/sysfilter_bpf.o
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(FB)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FB)/libfwrun.a
	@echo "  LD      $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Wall -Wextra -Werror -fsanitize=fuzzer -I. -o $@ $< $(FB)/libfwrun.a $(LIBS)

$(FB)/obj:
	$(Q)mkdir -p $@

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	$(Q)fuzz/run $(FUZZ_SECONDS) $(FB) $(FUZZ_BINS)

analyze:
	$(Q)tools/analyze

valgrind: $(UNIT_BINS)
	$(Q)B=$(B) tools/valgrind-unit

# All of issue 6's CI jobs: analyze, valgrind, check SANITIZE=1, fuzz 60 s.
hardening:
	$(Q)tools/hardening

demo: fwrun
	$(Q)demo/run

install: fwrun
	install -D -m 0755 $(B)/fwrun $(DESTDIR)$(SBINDIR)/fwrun
	install -d $(DESTDIR)$(MANDIR)/man8
	sed '1,/^\.TH/s/"fwrun [^"]*"/"fwrun $(VERSION)"/' man/fwrun.8 >$(DESTDIR)$(MANDIR)/man8/fwrun.8
	chmod 0644 $(DESTDIR)$(MANDIR)/man8/fwrun.8
	install -D -m 0644 completions/fwrun.bash $(DESTDIR)$(BASHCOMPDIR)/fwrun

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/fwrun $(DESTDIR)$(MANDIR)/man8/fwrun.8 \
		$(DESTDIR)$(BASHCOMPDIR)/fwrun

# dpkg-buildpackage -us -uc -b in a copy of the tree: the .deb and the
# .changes land in $(B)/deb/, the tree itself is left as it is.
deb:
	$(Q)tools/mkdeb $(B)/deb

clean:
	rm -rf build build-asan build-fault build-asan-fault build-fuzz build-valgrind fwrun

FORCE:

.PHONY: all fwrun fault-build unit check demo install uninstall deb clean fuzz fuzz-build \
	analyze valgrind hardening

-include $(wildcard $(B)/*.d)
