#!/usr/bin/env python3
"""Socket helpers of bench_dist.sh (python3 stdlib only).

  bench_dist_pump.py record PORTFILE OUT
      Listens on 127.0.0.1 (ephemeral port written to PORTFILE), takes one
      client connection, stores every byte it sends (the ISMRMRD stream:
      config, header, acquisitions, CLOSE) in OUT, answers CLOSE.
  bench_dist_pump.py pump HOST PORT STREAM CONFIG.xml
      Replays STREAM with its first frame replaced by CONFIG (a config
      script, id 2) to a gadgetron and waits until the server closes the
      connection; prints "bytes seconds MB/s".
  bench_dist_pump.py raw BYTES
      Raw loopback TCP: one socket pair through 127.0.0.1, BYTES sent with
      the same chunking as pump and fully received; prints "bytes seconds MB/s".
"""
import socket
import struct
import sys
import threading
import time

CHUNK = 1 << 20


def record(portfile, out):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    with open(portfile, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    c, _ = srv.accept()
    c.settimeout(1.0)
    data = bytearray()
    while True:
        try:
            b = c.recv(CHUNK)
        except socket.timeout:
            break
        if not b:
            break
        data += b
        if data.endswith(b"\x04\x00") and len(data) > 8:
            c.settimeout(0.3)
    c.sendall(struct.pack("<H", 4))
    c.close()
    with open(out, "wb") as f:
        f.write(data)


def first_frame_len(stream):
    fid = struct.unpack_from("<H", stream, 0)[0]
    if fid == 1:  # CONFIG_FILE: 1024-byte name
        return 2 + 1024
    if fid == 2:  # CONFIG_SCRIPT: uint32 length + text
        return 2 + 4 + struct.unpack_from("<I", stream, 2)[0]
    raise SystemExit("stream does not start with a config frame (id %d)" % fid)


def send_all(sock, buf):
    mv = memoryview(buf)
    for off in range(0, len(mv), CHUNK):
        sock.sendall(mv[off:off + CHUNK])


def pump(host, port, stream_path, config_path):
    stream = open(stream_path, "rb").read()
    cfg = open(config_path, "rb").read()
    body = stream[first_frame_len(stream):]
    msg = struct.pack("<HI", 2, len(cfg)) + cfg + body
    s = socket.create_connection((host, int(port)))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    got = bytearray()

    def reader():
        while True:
            b = s.recv(CHUNK)
            if not b:
                break
            got.extend(b)

    t0 = time.perf_counter()
    th = threading.Thread(target=reader)
    th.start()
    send_all(s, msg)
    th.join()
    dt = time.perf_counter() - t0
    s.close()
    if not got.endswith(struct.pack("<H", 4)):
        raise SystemExit("server did not end with CLOSE (%d bytes back)" % len(got))
    print("%d %.4f %.1f" % (len(msg), dt, len(msg) / dt / 1e6))


def raw(nbytes):
    nbytes = int(nbytes)
    buf = bytes(nbytes)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    done = threading.Event()

    def sink():
        c, _ = srv.accept()
        rb = bytearray(CHUNK)
        n = 0
        while n < nbytes:
            k = c.recv_into(rb)
            if not k:
                break
            n += k
        c.sendall(b"k")
        c.close()
        done.set()

    th = threading.Thread(target=sink)
    th.start()
    s = socket.create_connection(srv.getsockname())
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t0 = time.perf_counter()
    send_all(s, buf)
    s.recv(1)
    dt = time.perf_counter() - t0
    th.join()
    s.close()
    print("%d %.4f %.1f" % (nbytes, dt, nbytes / dt / 1e6))


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "record" and len(sys.argv) == 4:
        record(sys.argv[2], sys.argv[3])
    elif cmd == "pump" and len(sys.argv) == 6:
        pump(*sys.argv[2:6])
    elif cmd == "raw" and len(sys.argv) == 3:
        raw(sys.argv[2])
    else:
        sys.exit(__doc__)
