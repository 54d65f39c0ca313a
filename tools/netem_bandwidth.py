#!/usr/bin/env python3
"""Tiny TCP bandwidth / RTT probe for tools/netem.sh (stdlib only).

  netem_bandwidth.py server PORT [--bind ADDR] [--timeout S]
      Accept ONE connection, read until EOF, then send back one line
      "bytes N seconds T" over the same socket and print
      "bytes N seconds T mbit X" on stdout.  T runs from the first byte to
      EOF, i.e. it ends when the receiver has everything.

  netem_bandwidth.py client HOST PORT --seconds S
      Send as fast as possible for S seconds, half-close, and wait for the
      server's line.  Prints the RECEIVER-measured rate first:
      "X Mbit/s (receiver: N bytes in T s; sender: M bytes in U s incl. drain)".
      Fails (exit 1) if the receiver did not get every byte that was sent.

  netem_bandwidth.py rtt HOST [--port P] [--count N] [--timeout S]
      ping substitute for hosts without ping: time TCP connects to a closed
      port (answered by a RST, i.e. one round trip).  Prints
      "rtt X ms (min of N tcp connects)"; exit 1 if HOST is unreachable.

Exit codes: 0 ok, 1 failure (unreachable, short transfer, timeout), 2 usage.
"""
import argparse
import socket
import sys
import time

CHUNK = 256 * 1024


def server(args):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.bind, args.port))
    ls.listen(1)
    ls.settimeout(args.timeout)
    try:
        conn, _ = ls.accept()
    except socket.timeout:
        print("netem_bandwidth: server: no connection within %gs" % args.timeout, file=sys.stderr)
        return 1
    ls.close()
    conn.settimeout(args.timeout)
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    total = 0
    t_first = None
    while True:
        n = conn.recv_into(view)
        if n == 0:
            break
        if t_first is None:
            t_first = time.monotonic()
        total += n
    t_end = time.monotonic()
    secs = (t_end - t_first) if t_first is not None else 0.0
    line = "bytes %d seconds %.6f" % (total, secs)
    conn.sendall((line + "\n").encode())
    conn.close()
    mbit = total * 8 / secs / 1e6 if secs > 0 else 0.0
    print("%s mbit %.1f" % (line, mbit), flush=True)
    return 0


def connect_retry(host, port, deadline):
    last = None
    while time.monotonic() < deadline:
        try:
            return socket.create_connection((host, port), timeout=2)
        except OSError as e:  # server not listening yet: retry
            last = e
            time.sleep(0.05)
    raise OSError("cannot connect to %s:%d: %s" % (host, port, last))


def client(args):
    try:
        s = connect_retry(args.host, args.port, time.monotonic() + args.connect_timeout)
    except OSError as e:
        print("netem_bandwidth: client: %s" % e, file=sys.stderr)
        return 1
    s.settimeout(30 + args.seconds)
    data = memoryview(bytes(CHUNK))
    sent = 0
    t0 = time.monotonic()
    stop = t0 + args.seconds
    while time.monotonic() < stop:
        sent += s.send(data)
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        part = s.recv(4096)
        if not part:
            break
        reply += part
    t_end = time.monotonic()
    s.close()
    fields = reply.decode(errors="replace").split()
    if len(fields) < 4 or fields[0] != "bytes" or fields[2] != "seconds":
        print("netem_bandwidth: client: bad reply from server: %r" % reply, file=sys.stderr)
        return 1
    got, secs = int(fields[1]), float(fields[3])
    if got != sent:
        print("netem_bandwidth: client: sent %d bytes but receiver got %d" % (sent, got), file=sys.stderr)
        return 1
    if secs <= 0:
        print("netem_bandwidth: client: transfer too short to time", file=sys.stderr)
        return 1
    print("%.1f Mbit/s (receiver: %d bytes in %.3f s; sender: %d bytes in %.3f s incl. drain)"
          % (got * 8 / secs / 1e6, got, secs, sent, t_end - t0), flush=True)
    return 0


def rtt(args):
    samples = []
    for _ in range(args.count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(args.timeout)
        t0 = time.perf_counter()
        try:
            s.connect((args.host, args.port))
        except ConnectionRefusedError:
            pass  # RST came back: one round trip
        except OSError as e:
            print("netem_bandwidth: rtt: %s unreachable: %s" % (args.host, e), file=sys.stderr)
            return 1
        samples.append(time.perf_counter() - t0)
        s.close()
    print("rtt %.3f ms (min of %d tcp connects)" % (min(samples) * 1e3, len(samples)), flush=True)
    return 0


def main(argv):
    p = argparse.ArgumentParser(prog="netem_bandwidth.py",
                                description="TCP bandwidth/RTT probe for tools/netem.sh")
    sub = p.add_subparsers(dest="mode", required=True)
    ps = sub.add_parser("server", help="receive one connection, report bytes and seconds")
    ps.add_argument("port", type=int)
    ps.add_argument("--bind", default="0.0.0.0")
    ps.add_argument("--timeout", type=float, default=30.0)
    pc = sub.add_parser("client", help="send for --seconds, print receiver-measured Mbit/s")
    pc.add_argument("host")
    pc.add_argument("port", type=int)
    pc.add_argument("--seconds", type=float, default=2.0)
    pc.add_argument("--connect-timeout", type=float, default=5.0)
    pr = sub.add_parser("rtt", help="round-trip time via TCP connect to a closed port")
    pr.add_argument("host")
    pr.add_argument("--port", type=int, default=9)
    pr.add_argument("--count", type=int, default=3)
    pr.add_argument("--timeout", type=float, default=2.0)
    args = p.parse_args(argv)
    return {"server": server, "client": client, "rtt": rtt}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
