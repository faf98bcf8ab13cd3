#!/usr/bin/env python3
"""Raw-socket checks against a running gadgetron server (python3 stdlib only).

Usage: server_proto.py PORT CASE [ARGS...]; exit status 0 when the case
holds, 1 with a message otherwise. Every socket operation has a timeout.
Frame layouts: protocol.md section 1.
"""
import os
import socket
import struct
import sys
import time

TIMEOUT = 15.0

def header_xml(n=32):
    """ISMRMRD header of an n x n Cartesian scan."""
    return (
        '<?xml version="1.0"?>\n'
        '<ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD"><encoding>'
        '<encodedSpace><matrixSize><x>%d</x><y>%d</y><z>1</z></matrixSize>'
        '<fieldOfView_mm><x>300</x><y>300</y><z>10</z></fieldOfView_mm></encodedSpace>'
        '<reconSpace><matrixSize><x>%d</x><y>%d</y><z>1</z></matrixSize>'
        '<fieldOfView_mm><x>300</x><y>300</y><z>10</z></fieldOfView_mm></reconSpace>'
        '<encodingLimits><kspace_encoding_step_1><minimum>0</minimum><maximum>%d</maximum>'
        '<center>%d</center></kspace_encoding_step_1></encodingLimits>'
        '<trajectory>cartesian</trajectory></encoding></ismrmrdHeader>'
        % (n, n, n, n, n - 1, n // 2))


MINIMAL_HEADER = header_xml(32)


class Fail(Exception):
    pass


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    return s


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        d = s.recv(n - len(out))
        if not d:
            raise Fail("connection closed after %d of %d bytes" % (len(out), n))
        out += d
    return out


def read_frame(s):
    """Returns (id, payload) for the frames a server sends a client."""
    (mid,) = struct.unpack("<H", recv_exact(s, 2))
    if mid == 4:
        return mid, None
    if mid == 5:
        (n,) = struct.unpack("<I", recv_exact(s, 4))
        return mid, recv_exact(s, n).decode("utf-8", "replace")
    if mid == 7:
        corr, n = struct.unpack("<QQ", recv_exact(s, 16))
        return mid, (corr, recv_exact(s, n).decode("utf-8", "replace"))
    if mid == 1019:
        (n,) = struct.unpack("<Q", recv_exact(s, 8))
        return mid, recv_exact(s, n)
    if mid == 1022:
        head = recv_exact(s, 198)
        dtype = struct.unpack_from("<H", head, 2)[0]
        mx, my, mz = struct.unpack_from("<HHH", head, 16)
        ch = struct.unpack_from("<H", head, 34)[0]
        (alen,) = struct.unpack("<Q", recv_exact(s, 8))
        recv_exact(s, alen)
        size = {1: 2, 2: 2, 3: 4, 4: 4, 5: 4, 6: 8, 7: 8, 8: 16}[dtype]
        recv_exact(s, mx * my * mz * ch * size)
        return mid, head
    raise Fail("unexpected message id %d from server" % mid)


def expect_eof(s):
    try:
        d = s.recv(1)
    except ConnectionResetError:
        return
    if d:
        raise Fail("expected the server to end the connection, got more bytes")


def read_until_close(s):
    frames = []
    while True:
        f = read_frame(s)
        frames.append(f)
        if f[0] == 4:
            return frames


def frame_query(q, corr=0, reserved=0):
    b = q.encode()
    return struct.pack("<HQQQ", 6, reserved, corr, len(b)) + b


def frame_text(mid, text):
    b = text.encode() if isinstance(text, str) else text
    return struct.pack("<HI", mid, len(b)) + b


def frame_filename(name):
    b = name.encode()
    return struct.pack("<H", 1) + b + b"\0" * (1024 - len(b))


def frame_acq(samples=32, channels=2, scan=0, line=None, rep=0):
    head = bytearray(340)
    struct.pack_into("<H", head, 0, 1)
    struct.pack_into("<I", head, 14, scan)
    struct.pack_into("<HHH", head, 34, samples, channels, channels)
    struct.pack_into("<H", head, 172, samples // 2)  # center_sample
    struct.pack_into("<H", head, 242, scan % samples if line is None else line)  # e1
    struct.pack_into("<H", head, 254, rep)  # repetition
    data = b"\0" * (samples * channels * 8)
    return struct.pack("<H", 1008) + bytes(head) + data


CLOSE = struct.pack("<H", 4)


def sync(s, corr=4242):
    """Round trip through a QUERY: the server has handled every earlier frame."""
    s.sendall(frame_query("gadgetron::version", corr))
    m, payload = read_frame(s)
    if m != 7 or payload[0] != corr:
        raise Fail("sync: got %r %r" % (m, payload))


def expect_error(frames, needle=None):
    texts = [p for (m, p) in frames if m == 5]
    if not frames or frames[-1][0] != 4:
        raise Fail("no CLOSE at the end: %r" % (frames,))
    if not any("ERROR" in t for t in texts):
        raise Fail("no TEXT error before CLOSE: %r" % (frames,))
    if needle and not any(needle in t for t in texts):
        raise Fail("no error mentions %r: %r" % (needle, texts))
    return texts


# ---- cases -------------------------------------------------------------------

def case_query(port, query, expect_prefix="", corr="0"):
    """One QUERY then CLOSE in CONFIG state; prints the answer."""
    corr = int(corr)
    s = connect(port)
    s.sendall(frame_query(query, corr) + CLOSE)
    frames = read_until_close(s)
    expect_eof(s)
    if len(frames) != 2 or frames[0][0] != 7:
        raise Fail("expected RESPONSE + CLOSE, got %r" % (frames,))
    got_corr, text = frames[0][1]
    if got_corr != corr:
        raise Fail("correlation id %d, expected %d" % (got_corr, corr))
    if not text.startswith(expect_prefix):
        raise Fail("answer %r does not start with %r" % (text, expect_prefix))
    print(text)


def case_query_states(port, config_name):
    """QUERY answered in CONFIG, HEADER and STREAM states, ids echoed."""
    s = connect(port)
    s.sendall(frame_query("gadgetron::version", 11))
    m, (corr, v) = read_frame(s)
    if m != 7 or corr != 11 or not v.startswith("4."):
        raise Fail("CONFIG-state query: %r %r %r" % (m, corr, v))
    s.sendall(frame_filename(config_name) + frame_query("ismrmrd::version", 12))
    m, (corr, v) = read_frame(s)
    if m != 7 or corr != 12 or v != "0.0.0-alpha":
        raise Fail("HEADER-state query: %r %r %r" % (m, corr, v))
    s.sendall(frame_text(3, MINIMAL_HEADER) + frame_query("nope", 2**64 - 1))
    m, (corr, v) = read_frame(s)
    if m != 7 or corr != 2**64 - 1 or v != "Unknown query":
        raise Fail("STREAM-state query: %r %r %r" % (m, corr, v))
    s.sendall(CLOSE)
    frames = read_until_close(s)
    if any(m == 5 for m, _ in frames):
        raise Fail("unexpected errors: %r" % (frames,))
    expect_eof(s)


def case_error(port, kind, needle="", extra=""):
    """Sends something wrong; expects TEXT '... ERROR ...' then CLOSE, then EOF."""
    s = connect(port)
    if kind == "garbage":
        payload = b"\xff\xfe" + b"this is not gadgetron" * 10
    elif kind == "oversized":
        payload = struct.pack("<HI", 2, 0xFFFFFFF0) + b"<config"
    elif kind == "reserved":
        payload = frame_query("gadgetron::version", 1, reserved=7)
    elif kind == "header-first":
        payload = frame_text(3, MINIMAL_HEADER)
    elif kind == "filename":
        payload = frame_filename(needle) + frame_text(3, MINIMAL_HEADER) + CLOSE
        needle = extra
    elif kind == "config-file":
        with open(needle) as f:
            payload = frame_text(2, f.read()) + frame_text(3, MINIMAL_HEADER) + CLOSE
        needle = extra
    elif kind == "second-config":
        payload = frame_filename(needle) + frame_filename(needle)
        needle = "Received second config file. Only one allowed."
    else:
        raise Fail("unknown error kind " + kind)
    s.sendall(payload)
    frames = read_until_close(s)
    texts = expect_error(frames, needle or None)
    expect_eof(s)
    print(texts[0])


def case_truncate(port, what):
    """Sends a partial frame and disconnects."""
    s = connect(port)
    if what == "acq":
        s.sendall(frame_filename("default.xml") + frame_text(3, MINIMAL_HEADER) +
                  frame_acq()[:200])
    elif what == "config":
        s.sendall(struct.pack("<HI", 2, 1000) + b"<configuration>")
    else:
        s.sendall(b"\x06")
    time.sleep(0.1)
    s.close()


def case_vanish(port, config_name, count="200"):
    """Streams acquisitions, then resets the connection mid-stream."""
    s = connect(port)
    s.sendall(frame_filename(config_name) + frame_text(3, MINIMAL_HEADER))
    for i in range(int(count)):
        s.sendall(frame_acq(scan=i))
    time.sleep(0.3)  # let the stream start working on them
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def case_stream(port, config_name, gofile="", count="20"):
    """A well-formed session: config, header, acquisitions, CLOSE. With
    gofile, pauses after the first half until that file exists (so a test
    can signal the server mid-stream). Expects no errors; prints the number
    of images."""
    s = connect(port)
    n = int(count)
    s.sendall(frame_filename(config_name) + frame_text(3, MINIMAL_HEADER))
    for i in range(n // 2):
        s.sendall(frame_acq(scan=i))
    sync(s)
    print("streaming", flush=True)
    if gofile:
        deadline = time.time() + 30
        while not os.path.exists(gofile):
            if time.time() > deadline:
                raise Fail("nobody created " + gofile)
            time.sleep(0.02)
    for i in range(n // 2, n):
        s.sendall(frame_acq(scan=i))
    s.sendall(CLOSE)
    frames = read_until_close(s)
    errors = [p for (m, p) in frames if m == 5]
    if errors:
        raise Fail("errors: %r" % (errors,))
    expect_eof(s)
    print("images %d" % sum(1 for (m, _) in frames if m == 1022), flush=True)


def case_bulk(port, matrix="128", reps="100", delay="1.0"):
    """Backpressure both ways: a client whose reader starts `delay` seconds
    late on a tiny receive buffer. One image per repetition must arrive,
    no errors, then CLOSE."""
    import threading
    n, reps, delay = int(matrix), int(reps), float(delay)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    s.settimeout(TIMEOUT)
    s.connect(("127.0.0.1", port))
    result = {}

    def reader():
        time.sleep(delay)
        try:
            result["frames"] = read_until_close(s)
        except (Fail, OSError) as e:
            result["error"] = str(e)

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(frame_filename("default.xml") + frame_text(3, header_xml(n)))
    t0 = time.time()
    for r in range(reps):
        s.sendall(b"".join(frame_acq(samples=n, scan=r * n + i, line=i, rep=r)
                           for i in range(n)))
    s.sendall(CLOSE)
    send_time = time.time() - t0
    t.join(TIMEOUT * 4)
    if "error" in result or "frames" not in result:
        raise Fail("reader: %s" % result.get("error", "did not finish"))
    frames = result["frames"]
    errors = [p for (m, p) in frames if m == 5]
    images = sum(1 for (m, _) in frames if m == 1022)
    if errors or images != reps:
        raise Fail("%d images (expected %d), errors %r" % (images, reps, errors))
    expect_eof(s)
    print("images %d send %.2f s" % (images, send_time))


def case_refused(port):
    """Expects the port to refuse connections (server no longer listening)."""
    try:
        s = connect(port)
    except ConnectionRefusedError:
        return
    s.close()
    raise Fail("server still accepts connections")


def case_idle(port, seconds, partial="1"):
    """Partial frame (or nothing), then silence: expects the timeout error."""
    s = connect(port)
    if partial == "1":
        s.sendall(struct.pack("<HI", 2, 100) + b"<conf")
    t0 = time.time()
    frames = read_until_close(s)
    texts = expect_error(frames, "Timed out")
    waited = time.time() - t0
    if waited > float(seconds) + 5:
        raise Fail("timeout took %.1f s" % waited)
    expect_eof(s)
    print(texts[0])


def case_hold(port, seconds):
    """Connects and stays silent; prints what the server sends (shutdown)."""
    s = connect(port)
    sync(s)
    print("connected", flush=True)
    s.settimeout(float(seconds))
    frames = read_until_close(s)
    texts = expect_error(frames, "shutting down")
    print(texts[0])


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    port = int(sys.argv[1])
    case = sys.argv[2].replace("-", "_")
    fn = globals().get("case_" + case)
    if not fn:
        print("unknown case " + sys.argv[2])
        return 2
    try:
        fn(port, *sys.argv[3:])
    except (Fail, OSError, struct.error) as e:
        print("FAIL %s: %s" % (" ".join(sys.argv[2:]), e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
