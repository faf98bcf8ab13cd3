#!/usr/bin/env python3
"""A scripted, byte-exact Gadgetron protocol peer for testing the client.

Listens on 127.0.0.1:0, writes its port to --port-file, then serves one
connection per --session argument, in order. For each session it parses
exactly what the client sends (protocol.md section 1.3-1.7: FILENAME,
CONFIG, HEADER, CLOSE, TEXT, QUERY, acquisitions, waveforms) and records it
in the JSON log (--log, rewritten after every session). Replies are
scripted:

  --session "early=ACTIONS;late=ACTIONS"

'early' actions are sent right after the client's first frame after
FILENAME/CONFIG (normally the HEADER), i.e. while the client is still
sending; 'late' actions after the client's CLOSE. ACTIONS is a comma list:

  image:SERIES:NX:NY[:DTYPE]  a 1022 image (float=5 or cxfloat=7), pixel k
                              = 0.5*k + SERIES (real part), attribute XML
                              sent with its NUL, as C++ Gadgetron does
  text:STRING                 a TEXT (5)
  response:STRING             a RESPONSE (7) echoing the query's id
  dep:STRING                  a DEPENDENCY_QUERY (1019) reply
  partial:SERIES:NX:NY:BYTES  only the first BYTES bytes of an image frame
  bogus:ID                    a frame with an unknown id and junk bytes
  close                       CLOSE (4)
  eof                         close the socket now
  sleep:SECONDS

Any parse error or unexpected byte is recorded as "error" in the log.
"""
import argparse
import json
import os
import socket
import struct
import sys
import time

IMAGE_HEADER = struct.Struct("<HHQI3H3fH3f3f3f3f3fHHHHHHI3IHHH8i8fI")
assert IMAGE_HEADER.size == 198

ATTR_XML = ('<?xml version="1.0"?><ismrmrdMeta><meta><name>GADGETRON_ImageNumber</name>'
            '<value>1</value></meta><meta><name>series</name><value>%d</value></meta>'
            '</ismrmrdMeta>')


class PeerError(Exception):
    pass


def recv_exact(sock, n):
    chunks = []
    while n > 0:
        b = sock.recv(min(n, 1 << 20))
        if not b:
            raise PeerError("client closed the connection (EOF) with %d bytes missing" % n)
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


def read_frame(sock):
    """Returns a dict describing one client frame."""
    (mid,) = struct.unpack("<H", recv_exact(sock, 2))
    fr = {"id": mid}
    if mid == 1:
        body = recv_exact(sock, 1024)
        fr["text"] = body.split(b"\0", 1)[0].decode("latin1")
    elif mid in (2, 3, 5):
        (n,) = struct.unpack("<I", recv_exact(sock, 4))
        if n > 64 << 20:
            raise PeerError("text length %d too large" % n)
        body = recv_exact(sock, n)
        fr["len"] = n
        fr["hex"] = body.hex()
        fr["text"] = body.decode("latin1")
    elif mid == 4:
        pass
    elif mid == 6:
        reserved, corr, n = struct.unpack("<QQQ", recv_exact(sock, 24))
        fr.update(reserved=reserved, corr=corr, text=recv_exact(sock, n).decode("latin1"))
    elif mid == 1008:
        h = recv_exact(sock, 340)
        (flags,) = struct.unpack_from("<Q", h, 2)
        scan, stamp = struct.unpack_from("<II", h, 14)
        (ns, _avail, ch) = struct.unpack_from("<HHH", h, 34)
        (tdim,) = struct.unpack_from("<H", h, 176)
        recv_exact(sock, tdim * ns * 4 + ns * ch * 8)
        fr.update(stamp=stamp, scan=scan, flags=flags, samples=ns, channels=ch)
    elif mid == 1026:
        h = recv_exact(sock, 40)
        (stamp,) = struct.unpack_from("<I", h, 24)
        ns, ch = struct.unpack_from("<HH", h, 28)
        data = recv_exact(sock, ns * ch * 4)
        fr.update(stamp=stamp, samples=ns, channels=ch,
                  data=list(struct.unpack("<%dI" % (ns * ch), data)))
    else:
        raise PeerError("unknown message id %d from client" % mid)
    return fr


def image_frame(series, nx, ny, dtype):
    n = nx * ny
    attr = (ATTR_XML % series).encode() + b"\0"
    if dtype == 5:
        pixels = struct.pack("<%df" % n, *[0.5 * k + series for k in range(n)])
    elif dtype == 7:
        vals = []
        for k in range(n):
            vals += [0.5 * k + series, 1.0]
        pixels = struct.pack("<%df" % (2 * n), *vals)
    else:
        raise PeerError("unsupported dtype %d" % dtype)
    zero3 = (0.0, 0.0, 0.0)
    head = IMAGE_HEADER.pack(
        1, dtype, 0, 42, nx, ny, 1, 200.0, 200.0, 5.0, 1,
        *zero3, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, *zero3,
        0, 0, 0, 0, 0, 0, 1234, 0, 0, 0,
        1, 1, series, *([0] * 8), *([0.0] * 8), len(attr))
    return struct.pack("<H", 1022) + head + struct.pack("<Q", len(attr)) + attr + pixels


def perform(sock, actions, state):
    """Sends scripted actions; returns False once the socket was closed."""
    for act in actions:
        if not act:
            continue
        kind, _, arg = act.partition(":")
        if kind == "image":
            parts = [int(x) for x in arg.split(":")]
            dtype = parts[3] if len(parts) > 3 else 5
            sock.sendall(image_frame(parts[0], parts[1], parts[2], dtype))
        elif kind == "partial":
            parts = [int(x) for x in arg.split(":")]
            sock.sendall(image_frame(parts[0], parts[1], parts[2], 5)[:parts[3]])
        elif kind == "text":
            b = arg.encode()
            sock.sendall(struct.pack("<HI", 5, len(b)) + b)
        elif kind == "response":
            b = arg.encode()
            sock.sendall(struct.pack("<HQQ", 7, state.get("corr", 0), len(b)) + b)
        elif kind == "dep":
            b = arg.encode()
            sock.sendall(struct.pack("<HQ", 1019, len(b)) + b)
        elif kind == "bogus":
            sock.sendall(struct.pack("<H", int(arg)) + b"\x01" * 64)
        elif kind == "close":
            sock.sendall(struct.pack("<H", 4))
        elif kind == "eof":
            sock.shutdown(socket.SHUT_RDWR)
            sock.close()
            return False
        elif kind == "sleep":
            time.sleep(float(arg))
        else:
            raise PeerError("bad action %r" % act)
    return True


def parse_spec(spec):
    out = {"early": [], "late": []}
    for part in spec.split(";"):
        if not part:
            continue
        key, _, val = part.partition("=")
        out[key] = val.split(",") if val else []
    return out


def serve(sock, spec, rec):
    frames = rec["frames"]
    early_done = False
    configured = False
    open_ = True
    while True:
        fr = read_frame(sock)
        frames.append(fr)
        if fr["id"] == 6:
            rec["state"]["corr"] = fr["corr"]
        if fr["id"] == 4:
            break
        if fr["id"] in (1, 2, 6) and not configured:
            configured = True
            continue
        if not early_done:
            early_done = True
            open_ = perform(sock, spec["early"], rec["state"])
            if not open_:
                return
    if not early_done and spec["early"]:
        open_ = perform(sock, spec["early"], rec["state"])
    if open_:
        open_ = perform(sock, spec["late"], rec["state"])
    if open_:
        # Wait for the client to hang up, then close.
        try:
            while sock.recv(65536):
                rec["after_close_bytes"] = rec.get("after_close_bytes", 0) + 1
        except OSError:
            pass
        sock.close()


def write_log(path, log):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(log, f, indent=1)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--session", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=30.0)
    args = ap.parse_args()

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(args.timeout)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.replace(args.port_file + ".tmp", args.port_file)

    log = {"sessions": []}
    rc = 0
    for spec in args.session:
        rec = {"frames": [], "state": {}}
        log["sessions"].append(rec)
        try:
            conn, _ = srv.accept()
            conn.settimeout(args.timeout)
            serve(conn, parse_spec(spec), rec)
        except (PeerError, OSError) as e:
            rec["error"] = str(e)
            rc = 1
        write_log(args.log, log)
    write_log(args.log, log)
    srv.close()
    return rc


if __name__ == "__main__":
    sys.exit(main())
