#!/usr/bin/env python3
"""Process measurements for bench/all.sh, read from /proc; every wait is
bounded.

  measure.py port PID               the first TCP port PID listens on (waits ≤ 10 s)
  measure.py rss PID                resident KiB: "anon file"
  measure.py cpu PID                CPU seconds PID has used (user + system)
  measure.py idle HOST:PORT N SECS  start N connections, each sending half a
                                    request head, hold them SECS, close them

The start-time probe is compiled (examples/start_probe.rs), so that
figure is pme's start and not Python's polling.
"""
import os
import select
import socket
import sys
import time


def socket_inodes(pid):
    """Socket inode → file descriptor number."""
    inodes = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes[target[8:-1]] = int(fd)
    return inodes


def listening_ports(pid):
    """Ports of the TCP sockets PID holds in state LISTEN, in the order it
    opened them (pme binds /metrics before /health)."""
    inodes = socket_inodes(pid)
    ports = []
    for table in ("tcp", "tcp6"):
        try:
            lines = open(f"/proc/{pid}/net/{table}").read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                ports.append((inodes[fields[9]], int(fields[1].rsplit(":", 1)[1], 16)))
    return [p for _, p in sorted(ports)]


def port(pid, deadline=10.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        ports = listening_ports(pid)
        if ports:
            return ports[0]
        time.sleep(0.0005)
    sys.exit(f"process {pid} listens on no TCP port after {deadline} s")


def rss(pid):
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        key, _, value = line.partition(":")
        fields[key] = value.split()[0] if value.split() else "0"
    return int(fields["RssAnon"]), int(fields["RssFile"]) + int(fields["RssShmem"])


def cpu(pid):
    stat = open(f"/proc/{pid}/stat").read()
    fields = stat[stat.rindex(")") + 2 :].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def idle(addr, count, secs):
    """Starts `count` connections at once (non-blocking: one the server's
    queue cannot take yet does not hold up the others), sends half a
    request head on each that connects within 5 s, holds them all `secs`,
    closes them; returns how many connected."""
    host, _, p = addr.rpartition(":")
    pending = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((host, int(p)))
        pending.append(s)
    connected = set()
    end = time.monotonic() + 5
    while time.monotonic() < end and len(connected) < count:
        waiting = [s for s in pending if s not in connected]
        _, writable, _ = select.select([], waiting[:1000], [], 0.1)
        for s in writable:
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                try:
                    s.send(b"GET /metrics HTTP/1.1\r\nHost: bench\r\n")
                except OSError:
                    pass
            connected.add(s)
    time.sleep(secs)
    for s in pending:
        s.close()
    return len(connected)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "port":
        print(port(int(args[0])))
    elif cmd == "rss":
        print(*rss(int(args[0])))
    elif cmd == "cpu":
        print(cpu(int(args[0])))
    elif cmd == "idle":
        print(idle(args[0], int(args[1]), float(args[2])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
