#!/usr/bin/env python3
"""Black-box garbage run against a live gadgetron server on 127.0.0.1.

Usage: server_garbage.py PORT SERVER_PID [SECONDS] [MAX_SESSIONS] [SEED]

Connects many times (bounded by SECONDS, default 60, and MAX_SESSIONS,
default 3000) and sends mutated sessions: a valid FILENAME/CONFIG + HEADER,
then acquisition frames that are bit-flipped, truncated, given huge lengths
or random ids, interleaved with queries, and disconnects mid-frame or with a
reset. Every connection has a timeout. Afterwards the server must still be
alive (SERVER_PID), answer a QUERY and a short valid session, and its RSS
must not have grown without bound (checked against the RSS after a warm-up).
Exit status 0 when all holds, 1 otherwise. Deterministic for a given SEED.
"""
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import server_proto as sp  # noqa: E402

IDS = [1, 2, 3, 4, 5, 6, 7, 8, 1008, 1018, 1019, 1022, 1023, 1024, 1026,
       1050, 0, 9, 0xFFFF, 1027]


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def mutate(rng, b):
    b = bytearray(b)
    for _ in range(rng.randint(1, 8)):
        op = rng.randint(0, 5)
        if op == 0 and b:
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1 and b:
            i = rng.randrange(len(b))
            b[i] = rng.choice([0, 0xFF, 0x7F, 0x80, rng.randrange(256)])
        elif op == 2 and len(b) > 8:  # huge little-endian value in place
            i = rng.randrange(len(b) - 8)
            b[i:i + 8] = struct.pack("<Q", rng.choice(
                [2**64 - 1, 2**63, 2**32 - 1, 2**32, 2**31, 0xFFFF]))
        elif op == 3 and b:
            del b[rng.randrange(len(b)):]
        elif op == 4:
            i = rng.randrange(len(b) + 1)
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 32)))
        elif op == 5 and len(b) >= 2:
            b[0:2] = struct.pack("<H", rng.choice(IDS))
    return bytes(b)


def acq_header_fields(rng):
    """A valid acquisition with odd but legal geometry."""
    return sp.frame_acq(samples=rng.choice([1, 2, 8, 32, 64]),
                        channels=rng.choice([1, 2, 4]),
                        scan=rng.randrange(1000), line=rng.randrange(64),
                        rep=rng.randrange(4))


def huge_length(rng):
    mid = rng.choice([2, 3, 5, 6, 7, 8, 1019])
    if mid == 6:
        return struct.pack("<HQQQ", 6, 0, rng.randrange(2**64), rng.choice(
            [2**64 - 1, 2**40, 2**31])) + b"x" * 16
    if mid == 1019:
        return struct.pack("<HQ", mid, rng.choice([2**64 - 1, 2**40])) + b"x" * 16
    return struct.pack("<HI", mid, rng.choice([2**32 - 1, 2**31, 2**30])) + b"<x"


def composite_garbage(rng):
    mid = rng.choice([1023, 1024, 1050])
    body = struct.pack("<Q", rng.choice([0, 1, 2, 2**32, 2**64 - 1]))
    body += bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))
    return struct.pack("<H", mid) + body


def session(rng, port, stats):
    s = sp.connect(port)
    s.settimeout(5.0)
    out = []
    if rng.random() < 0.7:
        out.append(sp.frame_filename(rng.choice(["default.xml", "isalive.xml",
                                                 "nonexistent.xml", "../etc/passwd"])))
    else:
        out.append(sp.frame_text(2, rng.choice([
            "<gadgetronStreamConfiguration/>", "<configuration><version>2</version>"
            "<stream><gadget><classname>NoSuchGadget</classname></gadget></stream>"
            "</configuration>", "<<<", ""])))
    if rng.random() < 0.9:
        out.append(sp.frame_text(3, sp.header_xml(rng.choice([8, 16, 32]))))
    for _ in range(rng.randint(0, 12)):
        k = rng.random()
        if k < 0.4:
            out.append(acq_header_fields(rng))
        elif k < 0.6:
            out.append(mutate(rng, acq_header_fields(rng)))
        elif k < 0.7:
            out.append(sp.frame_query(rng.choice(["gadgetron::version",
                                                  "gadgetron::info", "x" * 300]),
                                      rng.randrange(2**64)))
        elif k < 0.8:
            out.append(huge_length(rng))
        elif k < 0.9:
            out.append(composite_garbage(rng))
        else:
            out.append(struct.pack("<H", rng.randrange(65536)) +
                       bytes(rng.randrange(256) for _ in range(rng.randint(0, 64))))
    ending = rng.random()
    if ending < 0.5:
        out.append(sp.CLOSE)
    data = b"".join(out)
    if ending >= 0.5 and ending < 0.75 and data:
        data = data[:rng.randrange(len(data))]  # vanish mid-frame
    try:
        s.sendall(data)
        if ending < 0.5 and rng.random() < 0.5:
            try:
                sp.read_until_close(s)  # drain answers (errors expected)
                stats["answered"] += 1
            except (sp.Fail, OSError, struct.error, KeyError):
                pass
        if rng.random() < 0.3:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    finally:
        s.close()


def check_ok(port):
    """The server answers a query and a short valid session."""
    s = sp.connect(port)
    sp.sync(s, 99)
    s.sendall(sp.CLOSE)
    sp.read_until_close(s)
    s.close()
    s = sp.connect(port)
    s.sendall(sp.frame_filename("default.xml") + sp.frame_text(3, sp.MINIMAL_HEADER))
    for i in range(32):
        s.sendall(sp.frame_acq(scan=i, line=i))
    s.sendall(sp.CLOSE)
    frames = sp.read_until_close(s)
    s.close()
    errs = [p for (m, p) in frames if m == 5]
    if errs:
        raise sp.Fail("valid session after garbage got errors: %r" % errs)
    return sum(1 for (m, _) in frames if m == 1022)


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    port, pid = int(sys.argv[1]), int(sys.argv[2])
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
    max_sessions = int(sys.argv[4]) if len(sys.argv) > 4 else 3000
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    stats = {"sessions": 0, "answered": 0, "errors": 0}
    try:
        check_ok(port)
        t0 = time.time()
        base = None
        while time.time() - t0 < seconds and stats["sessions"] < max_sessions:
            try:
                session(rng, port, stats)
            except OSError:
                stats["errors"] += 1
            stats["sessions"] += 1
            if stats["sessions"] == 200:
                time.sleep(0.5)
                base = rss_kb(pid)
            if stats["sessions"] % 100 == 0 and not alive(pid):
                raise sp.Fail("server died after %d sessions" % stats["sessions"])
        time.sleep(1.0)
        if not alive(pid):
            raise sp.Fail("server died")
        images = check_ok(port)
        time.sleep(0.5)
        end = rss_kb(pid)
        print("sessions %d answered %d socket-errors %d images %d rss %s -> %d kB in %.0f s"
              % (stats["sessions"], stats["answered"], stats["errors"], images, base, end,
                 time.time() - t0))
        if base and end > 2 * base + 64 * 1024:
            raise sp.Fail("RSS grew from %d kB to %d kB" % (base, end))
    except (sp.Fail, OSError, struct.error) as e:
        print("FAIL: %s (after %d sessions)" % (e, stats["sessions"]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
