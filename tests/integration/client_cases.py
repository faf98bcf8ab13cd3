#!/usr/bin/env python3
"""Integration cases for gadgetron_ismrmrd_client against client_peer.py.

  client_cases.py --bin BUILD/bin GROUP [CASE...]

GROUP is "protocol" or "errors". Each case starts a real peer process on
127.0.0.1:0 and the real client, both with timeouts; every process is
killed on exit. Input data: a small Shepp-Logan dataset made with
ismrmrd_generate_cartesian_shepp_logan, plus hand-made datasets written by
client_h5tool.py. Prints "N passed, M failed" and exits non-zero on failure.
"""
import argparse
import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROCS = []
WORK = None
CLIENT = None


def cleanup():
    for p in PROCS:
        if p.poll() is None:
            p.kill()
            p.wait()
    if WORK and not os.environ.get("GT_KEEP_TMP"):
        shutil.rmtree(WORK, ignore_errors=True)


def on_signal(sig, _frame):
    cleanup()
    sys.exit(128 + sig)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def eq(a, b, what):
    if a != b:
        raise AssertionError("%s: expected %r, got %r" % (what, b, a))


def h5tool(*args, check_rc=True):
    r = subprocess.run([sys.executable, os.path.join(HERE, "client_h5tool.py"), WORK] +
                       [str(a) for a in args], capture_output=True, timeout=60)
    if check_rc and r.returncode != 0:
        raise AssertionError("client_h5tool %s failed: %s" % (args, r.stderr.decode()))
    return r.stdout


class Peer:
    def __init__(self, name, sessions, timeout=20):
        self.port_file = os.path.join(WORK, name + ".port")
        self.log_file = os.path.join(WORK, name + ".json")
        cmd = [sys.executable, os.path.join(HERE, "client_peer.py"), "--port-file", self.port_file,
               "--log", self.log_file, "--timeout", str(timeout)]
        for s in sessions:
            cmd += ["--session", s]
        self.proc = subprocess.Popen(cmd)
        PROCS.append(self.proc)
        deadline = time.time() + 10
        while not os.path.exists(self.port_file):
            if time.time() > deadline or self.proc.poll() is not None:
                raise AssertionError("peer did not start")
            time.sleep(0.02)
        with open(self.port_file) as f:
            self.port = int(f.read())

    def log(self):
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        with open(self.log_file) as f:
            return json.load(f)["sessions"]


def client(*args, timeout=60):
    t0 = time.time()
    r = subprocess.run([CLIENT] + [str(a) for a in args], capture_output=True, timeout=timeout,
                       cwd=WORK, stdin=subprocess.DEVNULL)
    r.elapsed = time.time() - t0
    r.out = r.stdout.decode(errors="replace")
    r.err = r.stderr.decode(errors="replace")
    check(r.returncode >= 0, "client killed by signal %d; stderr: %s" % (-r.returncode, r.err))
    check("Sanitizer" not in r.err and "runtime error:" not in r.err, "sanitizer report: %s" % r.err)
    return r


def ok(r):
    eq(r.returncode, 0, "client exit status (stderr: %s)" % r.err)


def failed(r, pattern):
    check(r.returncode != 0, "client should fail; stdout: %s stderr: %s" % (r.out, r.err))
    check(re.search(pattern, r.err), "stderr %r lacks %r" % (r.err, pattern))


def ids(session):
    check("error" not in session, "peer error: %s" % session.get("error"))
    return [f["id"] for f in session["frames"]]


def path(name):
    return os.path.join(WORK, name)


SHEPP = None
SHEPP_N = 0


def make_inputs():
    global SHEPP, SHEPP_N
    SHEPP = path("shepp.h5")
    subprocess.run(["ismrmrd_generate_cartesian_shepp_logan", "-m", "32", "-c", "2", "-r", "2", "-C",
                    "-o", SHEPP], check=True, cwd=WORK, capture_output=True, timeout=60)
    SHEPP_N = int(h5tool("nacq", SHEPP, "/dataset"))
    check(SHEPP_N > 0, "generated dataset has no acquisitions")


def with_header(name, xml_text, acq_stamps, wave_stamps=()):
    f = path(name)
    x = path(name + ".xml")
    with open(x, "w") as fh:
        fh.write(xml_text)
    h5tool("setxml", f, "/dataset", x)
    if acq_stamps:
        h5tool("addacqs", f, "/dataset", *acq_stamps)
    if wave_stamps:
        h5tool("addwaves", f, "/dataset", *wave_stamps)
    return f


def shepp_xml():
    return h5tool("dumpxml", SHEPP, "/dataset").decode()


NOISE_DEP = ("<measurementInformation><measurementID>45_1_2_3</measurementID>"
             "<measurementDependency><dependencyType>SenMap</dependencyType>"
             "<measurementID>45_9_9_9</measurementID></measurementDependency>"
             "<measurementDependency><dependencyType>Noise</dependencyType>"
             "<measurementID>45_1_2_noise</measurementID></measurementDependency>"
             "<patientPosition>HFS</patientPosition></measurementInformation>")


def noise_xml():
    x = shepp_xml()
    # measurementInformation goes right after an optional subjectInformation/studyInformation.
    return re.sub(r"(<acquisitionSystemInformation>)", NOISE_DEP + r"\1", x, count=1)


# ---- protocol cases -------------------------------------------------------------------------

def case_sequence_and_images():
    """FILENAME, HEADER (exact bytes), all acquisitions, CLOSE; images on disk; TEXT printed."""
    p = Peer("seq", ["late=image:0:8:8,image:0:8:8,image:1:4:4:7,text:hello from the peer,close"])
    out = path("seq_out.h5")
    r = client("-a", "127.0.0.1", "-p", p.port, "-f", SHEPP, "-o", out, "-G", "run1")
    ok(r)
    s = p.log()[0]
    got = ids(s)
    eq(got[0], 1, "first frame id")
    eq(s["frames"][0]["text"], "default.xml", "FILENAME text")
    eq(got[1], 3, "second frame id")
    eq(bytes.fromhex(s["frames"][1]["hex"]), h5tool("dumpxml", SHEPP, "/dataset"), "HEADER bytes")
    eq(got[2:-1], [1008] * SHEPP_N, "data frames")
    eq(got[-1], 4, "last frame id")
    check("hello from the peer" in r.out, "TEXT not printed: %r" % r.out)
    check(re.search(r"Acquisitions sent: %d, images received: 3, time: [0-9.]+ s" % SHEPP_N, r.out),
          "summary missing: %r" % r.out)
    info = h5tool("info", out, "run1").decode().splitlines()
    eq(len(info), 2, "image series in output (%s)" % info)
    check(info[0].startswith("entry image_0 series 0 count 2 dims 1,1,8,8 type real sum 2016.000 "),
          "image_0: %s" % info[0])
    check("GADGETRON_ImageNumber" in info[0], "attributes of image_0: %s" % info[0])
    check(info[1].startswith("entry image_1 series 1 count 1 dims 1,1,4,4 type complex sum 92.000 "),
          "image_1: %s" % info[1])


def case_streaming_results():
    """Images sent while the client is still sending are stored; a second run adds a group."""
    p = Peer("stream", ["early=image:3:8:8,image:3:8:8;late=image:3:8:8,close"])
    out = path("stream_out.h5")
    r = client("-p", p.port, "-f", SHEPP, "-o", out, "-G", "g1")
    ok(r)
    eq(ids(p.log()[0])[-1], 4, "last frame")
    p2 = Peer("stream2", ["late=image:2:4:4,close"])
    ok(client("-p", p2.port, "-f", SHEPP, "-o", out, "-G", "g2"))
    groups = h5tool("groups", out).decode().split()
    eq(sorted(groups), ["g1", "g2"], "groups")
    info = h5tool("info", out, "g1").decode()
    check("entry image_3 series 3 count 3 dims 1,1,8,8" in info, info)


def case_config_local():
    """-C sends the file's text as CONFIG (2), not FILENAME."""
    cfg = path("local.xml")
    text = "<?xml version=\"1.0\"?>\n<configuration><version>2</version></configuration>\n"
    with open(cfg, "w") as f:
        f.write(text)
    p = Peer("cfg", ["late=close"])
    ok(client("-p", p.port, "-f", SHEPP, "-o", path("cfg.h5"), "-C", cfg))
    s = p.log()[0]
    eq(ids(s)[0], 2, "first frame id")
    eq(s["frames"][0]["text"], text, "CONFIG text")
    eq(ids(s)[1], 3, "HEADER follows")


def case_remote_config_name():
    """-c NAME is sent as FILENAME NAME."""
    p = Peer("cname", ["late=close"])
    ok(client("-p", p.port, "-f", SHEPP, "-o", path("cname.h5"), "-c", "Generic_Cartesian_FFT.xml"))
    eq(p.log()[0]["frames"][0]["text"], "Generic_Cartesian_FFT.xml", "FILENAME")


def case_info_query():
    """-Q sends QUERY with reserved 0 and id 0, then CLOSE; the RESPONSE goes to stdout."""
    resp = "Gadgetron Version Info  -- Version : 4.7.2"
    p = Peer("query", ["late=response:" + resp + ",close"])
    r = client("-p", p.port, "-q", "-Q", "gadgetron::info")
    ok(r)
    s = p.log()[0]
    eq(ids(s), [6, 4], "frames")
    q = s["frames"][0]
    eq((q["reserved"], q["corr"], q["text"]), (0, 0, "gadgetron::info"), "QUERY fields")
    check(resp in r.out, "response not printed: %r" % r.out)


def case_dependency_query_mode():
    """-q sends only the config and CLOSE; a 1019 reply is written raw to -o."""
    xml = "<ismrmrdMeta><meta><name>status</name><value>success</value></meta></ismrmrdMeta>"
    p = Peer("depq", ["late=dep:" + xml + ",close"])
    out = path("depq.xml")
    ok(client("-p", p.port, "-q", "-c", "isalive.xml", "-o", out))
    eq(ids(p.log()[0]), [1, 4], "frames")
    with open(out) as f:
        eq(f.read(), xml, "1019 file content")


def case_dependency_reply_in_main_session():
    """A 1019 in the main session goes to -o, or next to it once -o holds images."""
    xml = "<ismrmrdMeta><meta><name>status</name><value>failed</value></meta></ismrmrdMeta>"
    p = Peer("depmain", ["late=image:0:4:4,dep:" + xml + ",close"])
    out = path("depmain.h5")
    r = client("-p", p.port, "-f", SHEPP, "-o", out, "-G", "d")
    ok(r)
    check("count 1 dims 1,1,4,4" in h5tool("info", out, "d").decode(), "image kept")
    with open(out + ".xml") as f:
        eq(f.read(), xml, "1019 file content")
    check("depmain.h5.xml" in r.err, "notice missing: %r" % r.err)


def case_noise_dependency_session():
    """A noise measurementDependency triggers a separate noise-statistics session first."""
    f = with_header("noise_in.h5", noise_xml(), [10, 20, 30])
    stats = ("<ismrmrdMeta><meta><name>status</name><value>success</value></meta>"
             "<meta><name>noise_dwell_time_us</name><value>5</value></meta>"
             "<meta><name>min_sigma</name><value>0.5</value></meta>"
             "<meta><name>max_sigma</name><value>1.5</value></meta>"
             "<meta><name>mean_sigma</name><value>1</value></meta>"
             "<meta><name>channels</name><value>2</value></meta></ismrmrdMeta>")
    p = Peer("noise", ["late=dep:" + stats + ",close", "late=image:0:4:4,close"])
    r = client("-p", p.port, "-f", f, "-o", path("noise_out.h5"), "-v")
    ok(r)
    dep, main = p.log()
    eq(ids(dep), [2, 4], "noise session frames")
    cfg = dep["frames"][0]["text"]
    for needle in ("<slot>1019</slot>", "DependencyQueryWriter", "NoiseSummaryGadget",
                   "<name>noise_file</name>", "<value>GadgetronNoiseCovarianceMatrix_45_1_2_noise</value>"):
        check(needle in cfg, "noise config lacks %r: %s" % (needle, cfg))
    eq(ids(main), [1, 3, 1008, 1008, 1008, 4], "main session frames")
    check(re.search(r"noise statistics.*channels 2.*sigma min 0.5, max 1.5, mean 1", r.err),
          "verbose noise statistics missing: %r" % r.err)


def case_noise_dependency_failure_not_fatal():
    """A failing noise-statistics session is reported, the reconstruction still runs."""
    f = with_header("noise_in2.h5", noise_xml(), [10])
    p = Peer("noise2", ["late=text:[NoiseSummary] ERROR: unknown gadget,close", "late=close"])
    r = client("-p", p.port, "-f", f, "-o", path("noise2.h5"))
    ok(r)
    dep, main = p.log()
    eq(ids(dep), [2, 4], "noise session frames")
    eq(ids(main), [1, 3, 1008, 4], "main session frames")
    check("noise statistics query failed" in r.err, "warning missing: %r" % r.err)


def case_waveform_merge():
    """Waveforms with time_stamp < acquisition_time_stamp go first (stable), the rest at the end."""
    f = with_header("wave_in.h5", shepp_xml(), [10, 20, 30], [25, 5, 20, 25, 1000, 15])
    p = Peer("wave", ["late=close"])
    ok(client("-p", p.port, "-f", f, "-o", path("wave.h5")))
    s = p.log()[0]
    got = [(fr["id"], fr["stamp"]) for fr in s["frames"] if fr["id"] in (1008, 1026)]
    eq(got, [(1026, 5), (1008, 10), (1026, 15), (1008, 20), (1026, 20), (1026, 25), (1026, 25),
             (1008, 30), (1026, 1000)], "merged order")
    # data = [stamp, index in the file, 0, 0]: equal stamps keep file order
    datas = [fr["data"] for fr in s["frames"] if fr["id"] == 1026]
    eq(datas, [[5, 1, 0, 0], [15, 5, 0, 0], [20, 2, 0, 0], [25, 0, 0, 0], [25, 3, 0, 0],
               [1000, 4, 0, 0]], "waveform data")


def case_loops():
    """-l N runs N complete sessions."""
    p = Peer("loops", ["late=image:0:4:4,close", "late=image:0:4:4,close"])
    r = client("-p", p.port, "-f", SHEPP, "-o", path("loops.h5"), "-G", "l", "-l", "2")
    ok(r)
    for s in p.log():
        eq(ids(s)[-1], 4, "session end")
        eq(ids(s).count(1008), SHEPP_N, "acquisitions per loop")
    check("Acquisitions sent: %d, images received: 2" % (2 * SHEPP_N) in r.out, r.out)
    check("count 2 dims 1,1,4,4" in h5tool("info", path("loops.h5"), "l").decode(), "images")


def case_default_out_group():
    """Without -G the group is the local time, YYYY-MM-DD HH:MM:SS."""
    p = Peer("defgrp", ["late=image:0:4:4,close"])
    ok(client("-p", p.port, "-f", SHEPP, "-o", path("defgrp.h5")))
    groups = h5tool("groups", path("defgrp.h5")).decode().splitlines()
    eq(len(groups), 1, "groups")
    check(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", groups[0]), "group name %r" % groups[0])


# ---- error cases ---------------------------------------------------------------------------------

def case_text_error_fails():
    p = Peer("texterr", ["late=text:[Gadget] ERROR: reconstruction failed,close"])
    r = client("-p", p.port, "-f", SHEPP, "-o", path("te.h5"))
    failed(r, r"server reported 1 error")
    check("[Gadget] ERROR: reconstruction failed" in r.out, "TEXT not printed: %r" % r.out)
    eq(ids(p.log()[0])[-1], 4, "client still sent CLOSE")


def case_early_error_close():
    """A server that fails early sends TEXT + CLOSE while the client is still sending."""
    big = path("big_early.h5")
    subprocess.run(["ismrmrd_generate_cartesian_shepp_logan", "-m", "128", "-c", "8", "-r", "4",
                    "-o", big], check=True, cwd=WORK, capture_output=True, timeout=60)
    p = Peer("earlyerr", ["early=text:[Reader] ERROR: bad header,close,eof"])
    r = client("-p", p.port, "-f", big, "-o", path("earlyerr.h5"), timeout=30)
    failed(r, r"server reported 1 error")
    check("[Reader] ERROR: bad header" in r.out, "TEXT not printed: %r" % r.out)
    check("pipe" not in r.err and "reset" not in r.err, "send error not explained: %r" % r.err)
    p.log()
    # the same without an error text: the early end itself is reported
    p = Peer("earlyclose", ["early=close,eof"])
    r = client("-p", p.port, "-f", big, "-o", path("earlyclose.h5"), timeout=30)
    failed(r, r"ended the session before all input was sent")
    p.log()


def case_eof_without_close():
    p = Peer("eof", ["late=image:0:4:4,eof"])
    r = client("-p", p.port, "-f", SHEPP, "-o", path("eof.h5"))
    failed(r, r"server closed the connection without CLOSE")
    p.log()


def case_eof_mid_frame():
    p = Peer("eofmid", ["late=partial:0:8:8:150,eof"])
    r = client("-p", p.port, "-f", SHEPP, "-o", path("eofmid.h5"))
    failed(r, r"in the middle of a message")
    p.log()


def case_bytes_after_close():
    p = Peer("afterclose", ["late=bogus:4"])  # CLOSE followed by junk: reading stops at CLOSE
    ok(client("-p", p.port, "-f", SHEPP, "-o", path("afterclose.h5")))
    p.log()


def case_unknown_message():
    p = Peer("bogus", ["late=bogus:1234"])
    r = client("-p", p.port, "-f", SHEPP, "-o", path("bogus.h5"))
    failed(r, r"unexpected message id 1234")
    p.log()


def case_server_drops_mid_stream():
    """The server hangs up while the client is sending: clear error, no crash, no hang."""
    big = path("big.h5")  # ~12 MB: far more than the socket buffers hold
    subprocess.run(["ismrmrd_generate_cartesian_shepp_logan", "-m", "128", "-c", "8", "-r", "4",
                    "-o", big], check=True, cwd=WORK, capture_output=True, timeout=60)
    p = Peer("drop", ["early=eof"])
    r = client("-p", p.port, "-f", big, "-o", path("drop.h5"), timeout=30)
    failed(r, r"(without CLOSE|connection to the server lost|cannot send)")
    m = re.search(r"Acquisitions sent: (\d+)", r.out)
    check(m and int(m.group(1)) < 512, "acquisitions counted as sent: %r" % r.out)
    p.log()


def case_connect_refused_timeout():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = client("-a", "127.0.0.1", "-p", port, "-t", "400", "-f", SHEPP, "-o", path("x.h5"))
    failed(r, r"cannot connect to 127\.0\.0\.1:%d within 400 ms" % port)
    check(0.3 < r.elapsed < 10, "elapsed %.2f s" % r.elapsed)


def case_missing_input():
    r = client("-f", path("does_not_exist.h5"), "-p", "1")
    failed(r, r"cannot open input file .*does_not_exist\.h5.*No such file")
    r = client("-f", SHEPP, "-g", "/nothere", "-p", "1")
    failed(r, r"has no group '/nothere'")
    notes = path("not_hdf5.h5")
    with open(notes, "w") as f:
        f.write("plain text")
    r = client("-f", notes, "-p", "1")
    failed(r, r"not a readable HDF5 file")
    r = client("-p", "1")
    failed(r, r"no input file")


def case_output_not_hdf5():
    out = path("notes.txt")
    with open(out, "w") as f:
        f.write("not HDF5")
    p = Peer("nothdf5", ["late=image:0:4:4,close"])
    r = client("-p", p.port, "-f", SHEPP, "-o", out)
    failed(r, r"cannot open output file .*notes\.txt")
    with open(out) as f:
        eq(f.read(), "not HDF5", "output file left untouched")
    p.log()


def case_invalid_header():
    f = with_header("badxml.h5", "<ismrmrdHeader><encoding>", [10])
    r = client("-f", f, "-p", "1", "-t", "100")
    failed(r, r"invalid ISMRMRD header")


def case_unsupported_options():
    failed(client("-f", SHEPP, "-F", "hdr"), r"output format 'hdr' is not supported")
    failed(client("-f", SHEPP, "-P", "8"), r"compression is not supported")
    failed(client("-f", SHEPP, "-T", "0.1"), r"compression is not supported")
    failed(client("-f", SHEPP, "-Z"), r"compression is not supported")
    failed(client("-f", SHEPP, "--bogus"), r"unknown option")
    failed(client("-f", SHEPP, "-l", "0"), r"invalid --loops")
    r = client("--help")
    ok(r)
    for flag in ("--query", "--info", "--port", "--address", "--filename", "--outfile", "--in-group",
                 "--out-group", "--config", "--config-local", "--loops", "--timeout", "--outformat"):
        check(flag in r.out, "help lacks %s" % flag)


GROUPS = {
    "protocol": [case_sequence_and_images, case_streaming_results, case_config_local,
                 case_remote_config_name, case_info_query, case_dependency_query_mode,
                 case_dependency_reply_in_main_session,
                 case_noise_dependency_session, case_noise_dependency_failure_not_fatal,
                 case_waveform_merge, case_loops, case_default_out_group],
    "errors": [case_text_error_fails, case_early_error_close, case_eof_without_close, case_eof_mid_frame, case_bytes_after_close,
               case_unknown_message, case_server_drops_mid_stream, case_connect_refused_timeout,
               case_missing_input, case_output_not_hdf5, case_invalid_header,
               case_unsupported_options],
}


def main():
    global WORK, CLIENT
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("group", choices=sorted(GROUPS))
    ap.add_argument("cases", nargs="*")
    args = ap.parse_args()
    CLIENT = os.path.abspath(os.path.join(args.bin, "gadgetron_ismrmrd_client"))
    if not os.access(CLIENT, os.X_OK):
        print("client binary %s missing" % CLIENT, file=sys.stderr)
        return 1
    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    WORK = tempfile.mkdtemp(prefix="gt_client_")
    make_inputs()
    passed = failed_n = 0
    for case in GROUPS[args.group]:
        if args.cases and case.__name__[5:] not in args.cases:
            continue
        t0 = time.time()
        try:
            case()
            passed += 1
            print("PASS %s (%.2f s)" % (case.__name__, time.time() - t0), flush=True)
        except Exception as e:  # report every case, then fail at the end
            failed_n += 1
            print("FAIL %s: %s: %s" % (case.__name__, type(e).__name__, e), flush=True)
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        PROCS.clear()
    print("%d passed, %d failed" % (passed, failed_n))
    return 1 if failed_n or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
