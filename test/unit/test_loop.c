/* SPDX-License-Identifier: MIT */
/* loop_claim(), the loop device allocation of rootfs.c, against a fake
 * control device on which every attach races: a herd of other processes
 * takes the device LOOP_CTL_GET_FREE hands out before we can attach it (as
 * they all got the same answer), and, where asked, the devices we spread
 * to as well. No root needed; time is the fake's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <linux/loop.h>

#include "rootfs.h"

#define FAKE_DEVS 4096
#define FD_BASE 100		/* fd = FD_BASE + device index */
#define SEC 1000000000ULL
#define DEADLINE (10 * SEC)

struct fake {
	bool exists[FAKE_DEVS];
	bool bound[FAKE_DEVS];
	bool open[FAKE_DEVS];
	int handed_out;		/* what LOOP_CTL_GET_FREE last answered, to us
				 * and to the herd alike */
	int lowest_races;	/* attaches of that device the herd wins
				 * first (-1: every one) */
	int other_races;	/* attaches of any other device it wins first */
	int get_free_err, add_err, open_err, configure_err;
	int missing_once;	/* this index's node is missing at first open */
	uint64_t now, slept, longest_sleep;
	uint64_t call_ns;	/* what each call costs in fake time */
	int get_free_calls, add_calls, open_calls, configure_calls, sleeps;
};

static int lowest_free(struct fake *f)
{
	for (int i = 0; i < FAKE_DEVS; i++)
		if (f->exists[i] && !f->bound[i])
			return i;
	return -1;
}

static int fake_get_free(void *ctx)
{
	struct fake *f = ctx;
	f->get_free_calls++;
	f->now += f->call_ns;
	if (f->get_free_err)
		return f->get_free_err;
	int nr = lowest_free(f);
	if (nr < 0) {
		/* None free: the kernel adds one. */
		for (nr = 0; nr < FAKE_DEVS && f->exists[nr]; nr++)
			;
		if (nr >= FAKE_DEVS) {
			fail_msg("no fake device left");
			return -ENOSPC;
		}
		f->exists[nr] = true;
	}
	f->handed_out = nr;
	return nr;
}

static int fake_add(void *ctx, int nr)
{
	struct fake *f = ctx;
	f->add_calls++;
	f->now += f->call_ns;
	if (f->add_err)
		return f->add_err;
	assert_true(nr >= 0 && nr < FAKE_DEVS);
	if (f->exists[nr])
		return -EEXIST;
	f->exists[nr] = true;
	return nr;
}

static int fake_open(void *ctx, int nr)
{
	struct fake *f = ctx;
	f->open_calls++;
	f->now += f->call_ns;
	if (f->open_err)
		return f->open_err;
	assert_true(nr >= 0 && nr < FAKE_DEVS);
	if (nr == f->missing_once) {
		f->missing_once = -1;
		return -ENOENT;
	}
	if (!f->exists[nr])
		return -ENXIO;
	assert_false(f->open[nr]);
	f->open[nr] = true;
	return FD_BASE + nr;
}

static int fake_configure(void *ctx, int fd)
{
	struct fake *f = ctx;
	int nr = fd - FD_BASE;
	f->configure_calls++;
	f->now += f->call_ns;
	assert_true(nr >= 0 && nr < FAKE_DEVS && f->open[nr]);
	if (f->configure_err)
		return f->configure_err;
	/* The race: another process attaches first. */
	if (!f->bound[nr] && nr == f->handed_out && f->lowest_races) {
		if (f->lowest_races > 0)
			f->lowest_races--;
		f->bound[nr] = true;
	} else if (!f->bound[nr] && f->other_races) {
		if (f->other_races > 0)
			f->other_races--;
		f->bound[nr] = true;
	}
	if (f->bound[nr])
		return -EBUSY;
	f->bound[nr] = true;
	return 0;
}

static void fake_close(void *ctx, int fd)
{
	struct fake *f = ctx;
	int nr = fd - FD_BASE;
	if (nr < 0 || nr >= FAKE_DEVS || !f->open[nr]) {
		fail_msg("closing fd %d, which is no open fake device", fd);
		return;
	}
	f->open[nr] = false;
}

static uint64_t fake_now(void *ctx)
{
	return ((struct fake *)ctx)->now;
}

static void fake_sleep(void *ctx, uint64_t ns)
{
	struct fake *f = ctx;
	assert_true(ns > 0);
	f->sleeps++;
	f->slept += ns;
	f->now += ns;
	if (ns > f->longest_sleep)
		f->longest_sleep = ns;
}

static const struct loop_ops fake_ops = {
	.get_free = fake_get_free, .add = fake_add, .open = fake_open,
	.configure = fake_configure, .close = fake_close,
	.now_ns = fake_now, .sleep_ns = fake_sleep,
};

/* A control device with devices 0..n-1, the first `bound` of them taken. */
static void fake_init(struct fake *f, int n, int bound)
{
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < n; i++)
		f->exists[i] = true;
	for (int i = 0; i < bound; i++)
		f->bound[i] = true;
	f->missing_once = -1;
	f->handed_out = -1;
	f->call_ns = 10000;	/* 10 us a call */
}

/* Only the fd returned is open, on the device it names, now bound. */
static void assert_claimed(struct fake *f, int fd, int nr)
{
	assert_int_equal(fd, FD_BASE + nr);
	assert_true(f->bound[nr]);
	for (int i = 0; i < FAKE_DEVS; i++)
		assert_int_equal(f->open[i], i == nr);
}

static void assert_none_open(struct fake *f)
{
	for (int i = 0; i < FAKE_DEVS; i++)
		assert_false(f->open[i]);
}

/* Alone: one question, one open, one attach; nothing added, no pause. */
static void uncontended(void **state)
{
	struct fake f;
	enum loop_stage stage;
	int nr = -1;
	(void)state;

	fake_init(&f, 8, 3);
	int fd = loop_claim(&fake_ops, &f, DEADLINE, 42, &nr, &stage);
	assert_int_equal(nr, 3);
	assert_claimed(&f, fd, 3);
	assert_int_equal(f.get_free_calls, 1);
	assert_int_equal(f.open_calls, 1);
	assert_int_equal(f.configure_calls, 1);
	assert_int_equal(f.add_calls, 0);
	assert_int_equal(f.sleeps, 0);
}

/* The herd always wins the lowest free device: the loser goes above it,
 * adding the device it picked, and needs no pause. */
static void every_lowest_attach_races(void **state)
{
	struct fake f;
	enum loop_stage stage;
	(void)state;

	for (uint64_t seed = 1; seed <= 200; seed++) {
		int nr = -1;
		fake_init(&f, 4, 0);
		f.lowest_races = -1;
		int fd = loop_claim(&fake_ops, &f, DEADLINE, seed, &nr, &stage);
		assert_true(fd >= 0);
		assert_claimed(&f, fd, nr);
		assert_true(nr > 0 && nr <= 1 + 8);	/* within the first spread */
		assert_int_equal(f.get_free_calls, 1);
		assert_int_equal(f.configure_calls, 2);
		assert_int_equal(f.sleeps, 0);
		assert_int_equal(f.add_calls, nr >= 4);
	}
}

/* Every attach races, the spread ones too, the first 12 times: the range
 * doubles with each loss, so few rounds are lost, none paused. */
static void every_attach_races(void **state)
{
	struct fake f;
	enum loop_stage stage;
	int nr = -1;
	(void)state;

	fake_init(&f, 0, 0);
	f.lowest_races = -1;
	f.other_races = 12;
	int fd = loop_claim(&fake_ops, &f, DEADLINE, 7, &nr, &stage);
	assert_true(fd >= 0);
	assert_claimed(&f, fd, nr);
	/* 1 + 12 lost, 1 won; a pick may land on a device already taken */
	assert_true(f.configure_calls >= 14 && f.configure_calls <= 20);
	assert_true(nr >= 1 && nr <= 1024);
	assert_int_equal(f.sleeps, 0);
	assert_int_equal(f.get_free_calls, 1);
}

/* Where devices cannot be added (LOOP_CTL_ADD refused), losers ask for
 * the lowest free device again after a random pause, bounded. */
static void no_add_backs_off(void **state)
{
	struct fake f;
	enum loop_stage stage;
	int nr = -1;
	(void)state;

	fake_init(&f, 0, 0);	/* devices made as asked for */
	f.lowest_races = 40;
	f.missing_once = 5;	/* and one node not there yet */
	f.add_err = -EPERM;
	int fd = loop_claim(&fake_ops, &f, DEADLINE, 3, &nr, &stage);
	assert_true(fd >= 0);
	assert_int_equal(nr, 40);
	assert_claimed(&f, fd, 40);
	assert_int_equal(f.add_calls, 1);	/* tried once, then never */
	/* A pause after the pick that could not be added, after each of
	 * the 39 losses to the herd that followed, and after the missing
	 * node; none after the first loss (it went to add one). */
	assert_int_equal(f.sleeps, 41);
	assert_true(f.longest_sleep <= 20 * 1000 * 1000);
	assert_true(f.slept > 0 && f.now < DEADLINE);
}

/* Losing every race, it gives up at the deadline, not before, and not
 * long after: EBUSY from attaching, no fd left open. */
static void deadline_bounds_it(void **state)
{
	struct fake f;
	enum loop_stage stage;
	int nr = -1;
	(void)state;

	for (int can_add = 0; can_add < 2; can_add++) {
		fake_init(&f, 0, 0);
		f.lowest_races = -1;
		f.other_races = -1;
		f.add_err = can_add ? 0 : -EPERM;
		f.call_ns = 1000 * 1000;	/* slow calls: 1 ms each */
		int r = loop_claim(&fake_ops, &f, DEADLINE, 9, &nr, &stage);
		assert_int_equal(r, -EBUSY);
		assert_int_equal(stage, LOOP_ATTACH);
		assert_true(f.now >= DEADLINE);
		assert_true(f.now <= DEADLINE + 4 * f.call_ns);
		assert_true(nr >= 0);
		assert_none_open(&f);
		if (!can_add)
			assert_true(f.sleeps > 0);
		else
			assert_int_equal(f.sleeps, 0);
	}
}

/* What is not a race fails at once, saying where. */
static void other_errors_fail_at_once(void **state)
{
	struct fake f;
	enum loop_stage stage;
	int nr = -1;
	(void)state;

	fake_init(&f, 8, 0);
	f.get_free_err = -ENOMEM;
	assert_int_equal(loop_claim(&fake_ops, &f, DEADLINE, 1, &nr, &stage), -ENOMEM);
	assert_int_equal(stage, LOOP_FIND);

	fake_init(&f, 8, 0);
	f.open_err = -EACCES;
	assert_int_equal(loop_claim(&fake_ops, &f, DEADLINE, 1, &nr, &stage), -EACCES);
	assert_int_equal(stage, LOOP_OPEN);
	assert_int_equal(nr, 0);

	fake_init(&f, 8, 0);
	f.configure_err = -EIO;
	assert_int_equal(loop_claim(&fake_ops, &f, DEADLINE, 1, &nr, &stage), -EIO);
	assert_int_equal(stage, LOOP_ATTACH);
	assert_int_equal(f.configure_calls, 1);
	assert_none_open(&f);
}

/* The record of the device an image's instances share: a decimal index,
 * nothing else. */
static void record_parse(void **state)
{
	(void)state;
	assert_int_equal(loop_record_parse("12"), 12);
	assert_int_equal(loop_record_parse("0\n"), 0);
	assert_int_equal(loop_record_parse("1048575"), 1048575);
	assert_int_equal(loop_record_parse(""), -1);	/* made, not written yet */
	assert_int_equal(loop_record_parse("\n"), -1);
	assert_int_equal(loop_record_parse("12x"), -1);
	assert_int_equal(loop_record_parse("loop3"), -1);
	assert_int_equal(loop_record_parse("-1"), -1);
	assert_int_equal(loop_record_parse(" 1"), -1);
	assert_int_equal(loop_record_parse("1\n\n"), -1);
	assert_int_equal(loop_record_parse("99999999999"), -1);
}

/* Only a device on the very file, all of it, read-only, with autoclear
 * serves another instance. */
static void serves(void **state)
{
	const struct loop_info64 ours = {
		.lo_device = 65024, .lo_inode = 77,
		.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR,
	};
	struct loop_info64 li;
	(void)state;

	assert_true(loop_serves(&ours, 65024, 77));
	li = ours;
	li.lo_flags |= LO_FLAGS_PARTSCAN;	/* more is no matter */
	assert_true(loop_serves(&li, 65024, 77));
	assert_false(loop_serves(&ours, 65025, 77));	/* another file system */
	assert_false(loop_serves(&ours, 65024, 78));	/* another file */
	li = ours;
	li.lo_offset = 1024;				/* a part of it */
	assert_false(loop_serves(&li, 65024, 77));
	li = ours;
	li.lo_sizelimit = 4096;
	assert_false(loop_serves(&li, 65024, 77));
	li = ours;
	li.lo_flags = LO_FLAGS_AUTOCLEAR;		/* writable */
	assert_false(loop_serves(&li, 65024, 77));
	li = ours;
	li.lo_flags = LO_FLAGS_READ_ONLY;		/* somebody's own, kept */
	assert_false(loop_serves(&li, 65024, 77));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(uncontended),
		cmocka_unit_test(every_lowest_attach_races),
		cmocka_unit_test(every_attach_races),
		cmocka_unit_test(no_add_backs_off),
		cmocka_unit_test(deadline_bounds_it),
		cmocka_unit_test(other_errors_fail_at_once),
		cmocka_unit_test(record_parse),
		cmocka_unit_test(serves),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
