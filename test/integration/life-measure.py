#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Measure what fwrun's console relay costs, under a pty of our own:
#   - keystroke round trip (write a byte, read its echo) through one kernel
#     pty (baseline) and through fwrun (our pty -> fwrun -> the firmware's
#     pty, echoed by its line discipline -> fwrun -> our pty); the relay's
#     added latency per keystroke is the difference of the medians;
#   - fwrun's CPU time (utime+stime from /proc/PID/stat) while the firmware
#     idles, with the pty relay and without a terminal.
# Usage: life-measure.py FWRUN ROOTFS NAME [KEYS] [IDLE_SECS]
# Prints key=value lines (times in microseconds, CPU in clock ticks).
import fcntl, os, select, signal, statistics, subprocess, sys, termios, time

fwrun, rootfs, name = sys.argv[1:4]
keys = int(sys.argv[4]) if len(sys.argv) > 4 else 500
idle = float(sys.argv[5]) if len(sys.argv) > 5 else 10.0
TICKS = os.sysconf("SC_CLK_TCK")


def spawn_on_pty(argv):
    master, slave = os.openpty()

    def child_setup():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                         preexec_fn=child_setup, close_fds=True)
    os.close(slave)
    return p, master


def drain(fd, secs):
    end = time.monotonic() + secs
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            return
        try:
            os.read(fd, 65536)
        except OSError:
            return


def round_trips(fd, n):
    out = []
    for i in range(n):
        ch = b"abcdefghijklmnopqrstuvwxyz"[i % 26:i % 26 + 1]
        t0 = time.perf_counter_ns()
        os.write(fd, ch)
        got = b""
        while ch not in got:
            r, _, _ = select.select([fd], [], [], 2.0)
            if not r:
                raise SystemExit("no echo within 2 s")
            got += os.read(fd, 1024)
        out.append((time.perf_counter_ns() - t0) / 1000.0)
        if i % 64 == 63:		# keep the firmware's line short
            os.write(fd, b"\x15")	# ^U: kill the line
            drain(fd, 0.02)
    return out


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])	# utime, stime


def report(tag, samples):
    samples.sort()
    print(f"{tag}_median_us={statistics.median(samples):.1f}")
    print(f"{tag}_p99_us={samples[int(len(samples) * 0.99) - 1]:.1f}")


# Baseline: a program that does nothing on a pty in cooked mode: the kernel echoes.
p, m = spawn_on_pty(["sleep", "1000"])
drain(m, 0.2)
base = round_trips(m, keys)
p.kill(); p.wait(); os.close(m)
report("direct", base)

# Through fwrun: the firmware's init sleeps; its pty (cooked, echo) answers.
p, m = spawn_on_pty([fwrun, "--rootfs", rootfs, "--ephemeral", "--name", name,
                     "/bin/probe", "ready", "sleep"])
t0 = time.monotonic()
buf = b""
while b"ready=1" not in buf:
    r, _, _ = select.select([m], [], [], 10)
    if not r:
        raise SystemExit("the firmware never got ready: %r" % buf)
    buf += os.read(m, 4096)
print(f"start_ms={(time.monotonic() - t0) * 1000:.0f}")
drain(m, 0.3)
relayed = round_trips(m, keys)
report("fwrun", relayed)
print(f"added_median_us={statistics.median(relayed) - statistics.median(base):.1f}")

drain(m, 0.3)
c0 = cpu_ticks(p.pid)
time.sleep(idle)
c1 = cpu_ticks(p.pid)
print(f"idle_pty_secs={idle:g}")
print(f"idle_pty_ticks={c1 - c0}")
os.write(m, b"\x1d\x1d\x1d")			# the escape sequence
try:
    rc = p.wait(timeout=5)
except subprocess.TimeoutExpired:
    p.kill(); rc = "hung"
print(f"escape_status={rc}")
os.close(m)

# Without a terminal: no relay at all.
p = subprocess.Popen([fwrun, "--rootfs", rootfs, "--ephemeral", "--name", name,
                      "/bin/probe", "ready", "sleep"], stdin=subprocess.DEVNULL,
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
p.stdout.readline()
time.sleep(0.3)
c0 = cpu_ticks(p.pid)
time.sleep(idle)
c1 = cpu_ticks(p.pid)
print(f"idle_pipe_ticks={c1 - c0}")
p.send_signal(signal.SIGINT)
time.sleep(0.2)		# two at once would merge into one pending SIGINT
p.send_signal(signal.SIGINT)
print(f"double_sigint_status={p.wait(timeout=5)}")
