/* Stream mode (gt/stream_mode.h, `gadgetron --from_stream`): simulated cine
 * data encoded as an ISMRMRD stream with our wire encoder (Debian's
 * ismrmrd-tools 1.8 has no ismrmrd_hdf5_to_stream), run in-process and
 * through the gadgetron program with a file, a pipe on stdin and named
 * pipes; output = echoed header, the images, CLOSE. Error cases check the
 * exact code and that CLOSE still ends the output. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ismrmrd/dataset.h>

#include "gt/buf.h"
#include "gt/err.h"
#include "gt/msg_wire.h"
#include "gt/sim.h"
#include "gt/stream_mode.h"
#include "gt/wire.h"
#include "testutil.h"

#define SLICES 2
#define PHASES 3
#define NIMAGES (SLICES * PHASES)

static char *tmp;

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    tmp = gt_test_tmpdir();
    cr_assert_not_null(tmp);
}

static void teardown(void)
{
    gt_test_rmtree(tmp);
    free(tmp);
}

static char *path_of(const char *name)
{
    char *p = NULL;
    cr_assert_geq(asprintf(&p, "%s/%s", tmp, name), 0);
    return p;
}

static void sim_opts(gt_sim_opts *o, const char *out, const char *noise)
{
    gt_sim_opts_default(o);
    o->output = out;
    o->noise_scan = noise;
    o->ro = o->e1 = 32;
    o->coils = 4;
    o->slices = SLICES;
    o->phases = PHASES;
    o->noise_scan_readouts = 64;
    o->threads = 1;
}

/* Reads an ISMRMRD HDF5 dataset and encodes it as a stream: HEADER, the
 * acquisitions, then CLOSE (when with_close). */
static void h5_to_stream(const char *h5, gt_buf *b, int with_close)
{
    ISMRMRD_Dataset d;
    cr_assert_eq(ismrmrd_init_dataset(&d, h5, "/dataset"), ISMRMRD_NOERROR);
    cr_assert_eq(ismrmrd_open_dataset(&d, false), ISMRMRD_NOERROR);
    char *xml = ismrmrd_read_header(&d);
    cr_assert_not_null(xml);
    cr_assert_eq(gt_wire_put_header(b, xml, strlen(xml)), 0);
    free(xml);
    uint32_t n = ismrmrd_get_number_of_acquisitions(&d);
    cr_assert_gt(n, 0u);
    for (uint32_t i = 0; i < n; i++) {
        ISMRMRD_Acquisition acq;
        ismrmrd_init_acquisition(&acq);
        cr_assert_eq(ismrmrd_read_acquisition(&d, i, &acq), ISMRMRD_NOERROR);
        gt_acq *a = NULL;
        cr_assert_eq(gt_acq_create(&acq.head, &a), 0);
        if (gt_acq_traj_count(&acq.head))
            memcpy(a->traj, acq.traj, gt_acq_traj_count(&acq.head) * sizeof(float));
        memcpy(a->data, acq.data, gt_acq_data_count(&acq.head) * sizeof(gt_cf));
        cr_assert_eq(gt_wire_put_acq(b, a), 0);
        gt_acq_destroy(a);
        ismrmrd_cleanup_acquisition(&acq);
    }
    ismrmrd_close_dataset(&d);
    if (with_close)
        cr_assert_eq(gt_wire_put_close(b), 0);
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(p, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

/* The cine scan as a stream file; returns its path and fills *b. */
static char *make_stream(gt_buf *b, int with_close)
{
    gt_sim_opts o;
    char *h5 = path_of("cine.h5");
    sim_opts(&o, h5, NULL);
    cr_assert_eq(gt_sim_run(&o, NULL), 0, "%s", gt_err_detail());
    gt_buf_init(b);
    h5_to_stream(h5, b, with_close);
    free(h5);
    char *in = path_of("in.stream");
    write_file(in, b->data, b->len);
    return in;
}

/* Length of the HEADER frame at the start of a stream. */
static size_t header_frame_len(const uint8_t *p) { return 6 + (size_t)gt_rd_u32(p + 2); }

typedef struct counts {
    size_t images, frames;
    int closed_last;
} counts;

/* Checks out = echoed header + frames + CLOSE (last) and counts images. */
static void check_output(const uint8_t *in, const uint8_t *out, size_t out_len, counts *c)
{
    size_t h = header_frame_len(in);
    cr_assert_geq(out_len, h + 2, "output of %zu bytes is too short", out_len);
    cr_assert_eq(memcmp(in, out, h), 0, "the header is not echoed verbatim");
    gt_decoder *d = NULL;
    cr_assert_eq(gt_decoder_create(NULL, &d), 0);
    memset(c, 0, sizeof *c);
    size_t pos = h;
    while (pos < out_len) {
        gt_frame f = {0};
        size_t used = 0;
        int rc = gt_decoder_feed(d, out + pos, out_len - pos, &used, &f);
        cr_assert_eq(rc, 1, "output frame %zu does not decode: %d %s", c->frames, rc,
                     gt_err_detail());
        pos += used;
        c->frames++;
        if (f.id == GT_ID_IMAGE)
            c->images++;
        c->closed_last = f.id == GT_ID_CLOSE;
        if (f.id == GT_ID_CLOSE)
            cr_assert_eq(pos, out_len, "bytes after CLOSE");
        gt_frame_fini(&f);
    }
    gt_decoder_destroy(d);
    cr_assert(c->closed_last, "output does not end with CLOSE");
}

static gt_stream_mode_opts default_opts(void)
{
    gt_stream_mode_opts o = {
        .config_dir = GT_SOURCE_DIR "/configs",
        .config_name = "default.xml",
        .workdir = tmp,
    };
    return o;
}

/* Runs stream mode in-process on bytes; returns rc, output in *out. */
static int run_bytes(const gt_stream_mode_opts *o, const void *in, size_t n, gt_buf *out,
                     gt_stream_mode_stats *st)
{
    char *ip = path_of("case.in"), *op = path_of("case.out");
    write_file(ip, in, n);
    int ifd = open(ip, O_RDONLY), ofd = open(op, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert(ifd >= 0 && ofd >= 0);
    int rc = gt_stream_mode_run(o, ifd, ofd, st);
    close(ifd);
    close(ofd);
    size_t len = 0;
    char *data = gt_test_read_file(op, &len);
    cr_assert_not_null(data);
    gt_buf_init(out);
    cr_assert_eq(gt_buf_append(out, data, len), 0);
    free(data);
    free(ip);
    free(op);
    return rc;
}

TestSuite(stream_mode, .init = setup, .fini = teardown, .timeout = 60);

Test(stream_mode, reconstructs_a_file_in_process)
{
    gt_buf in, out;
    char *inpath = make_stream(&in, 1);
    gt_stream_mode_opts o = default_opts();
    gt_stream_mode_stats st;
    int rc = run_bytes(&o, in.data, in.len, &out, &st);
    cr_assert_eq(rc, 0, "%s", gt_err_detail());
    counts c;
    check_output(in.data, out.data, out.len, &c);
    cr_assert_eq(c.images, (size_t)NIMAGES);
    cr_assert_eq(st.out_images, (uint64_t)NIMAGES);
    cr_assert_eq(st.bytes_out, (uint64_t)out.len);
    cr_assert_eq(st.bytes_in, (uint64_t)in.len);
    cr_assert_gt(st.in_messages, 0u);
    gt_buf_fini(&in);
    gt_buf_fini(&out);
    free(inpath);
}

Test(stream_mode, end_of_file_without_close_still_finishes)
{
    gt_buf in, out;
    char *inpath = make_stream(&in, 0);
    gt_stream_mode_opts o = default_opts();
    cr_assert_eq(run_bytes(&o, in.data, in.len, &out, NULL), 0, "%s", gt_err_detail());
    counts c;
    check_output(in.data, out.data, out.len, &c);
    cr_assert_eq(c.images, (size_t)NIMAGES);
    gt_buf_fini(&in);
    gt_buf_fini(&out);
    free(inpath);
}

static const uint8_t close_only[2] = {4, 0};

Test(stream_mode, first_message_must_be_a_header)
{
    gt_buf in, out;
    gt_buf_init(&in);
    cr_assert_eq(gt_wire_put_config(&in, "<x/>", 4), 0);
    gt_stream_mode_opts o = default_opts();
    int rc = run_bytes(&o, in.data, in.len, &out, NULL);
    cr_assert_eq(rc, GT_EPROTO);
    cr_assert(strstr(gt_err_detail(), "message id 2") != NULL, "%s", gt_err_detail());
    cr_assert_eq(out.len, sizeof close_only);
    cr_assert_eq(memcmp(out.data, close_only, 2), 0);
    gt_buf_fini(&in);
    gt_buf_fini(&out);
}

Test(stream_mode, empty_header_and_empty_input_fail)
{
    gt_buf out;
    const uint8_t empty_header[6] = {3, 0, 0, 0, 0, 0};
    gt_stream_mode_opts o = default_opts();
    cr_assert_eq(run_bytes(&o, empty_header, sizeof empty_header, &out, NULL), GT_EPROTO);
    cr_assert_eq(out.len, sizeof close_only);
    gt_buf_fini(&out);
    cr_assert_eq(run_bytes(&o, "", 0, &out, NULL), GT_EIO);
    cr_assert_eq(out.len, sizeof close_only);
    gt_buf_fini(&out);
    /* Not an ISMRMRD header. */
    gt_buf in;
    gt_buf_init(&in);
    cr_assert_eq(gt_wire_put_header(&in, "<nope>", 6), 0);
    cr_assert_eq(gt_wire_put_close(&in), 0);
    int rc = run_bytes(&o, in.data, in.len, &out, NULL);
    cr_assert(rc == GT_EXML || rc == GT_EPROTO, "rc %d", rc);
    cr_assert_eq(out.len, sizeof close_only);
    gt_buf_fini(&in);
    gt_buf_fini(&out);
}

/* A stream whose data is followed by an id stream mode refuses. */
static void bad_id_case(int id, const char *expect)
{
    gt_buf in, out;
    char *inpath = make_stream(&in, 0);
    if (id == GT_ID_QUERY)
        cr_assert_eq(gt_wire_put_query(&in, 0, "gadgetron::version", 18), 0);
    else if (id == GT_ID_ERROR)
        cr_assert_eq(gt_wire_put_error(&in, "worker died", 11), 0);
    else
        cr_assert_eq(gt_wire_put_filename(&in, "default.xml"), 0);
    cr_assert_eq(gt_wire_put_close(&in), 0);
    gt_stream_mode_opts o = default_opts();
    int rc = run_bytes(&o, in.data, in.len, &out, NULL);
    cr_assert_eq(rc, GT_EPROTO);
    cr_assert(strstr(gt_err_detail(), expect) != NULL, "detail '%s'", gt_err_detail());
    counts c;
    check_output(in.data, out.data, out.len, &c);
    gt_buf_fini(&in);
    gt_buf_fini(&out);
    free(inpath);
}

Test(stream_mode, unsupported_ids_are_fatal)
{
    bad_id_case(GT_ID_QUERY, "Unsupported message ID 6");
    bad_id_case(GT_ID_FILENAME, "Unsupported message ID 1");
    bad_id_case(GT_ID_ERROR, "worker died");
}

Test(stream_mode, unknown_id_and_truncation)
{
    gt_buf in, out;
    char *inpath = make_stream(&in, 0);
    size_t full = in.len;
    const uint8_t junk[2] = {0x39, 0x30}; /* 12345 */
    cr_assert_eq(gt_buf_append(&in, junk, 2), 0);
    gt_stream_mode_opts o = default_opts();
    cr_assert_eq(run_bytes(&o, in.data, in.len, &out, NULL), GT_EPROTO);
    counts c;
    check_output(in.data, out.data, out.len, &c);
    gt_buf_fini(&out);
    /* Cut inside the last acquisition. */
    cr_assert_eq(run_bytes(&o, in.data, full - 100, &out, NULL), GT_EIO);
    cr_assert(strstr(gt_err_detail(), "inside a message") != NULL, "%s", gt_err_detail());
    check_output(in.data, out.data, out.len, &c);
    gt_buf_fini(&in);
    gt_buf_fini(&out);
    free(inpath);
}

Test(stream_mode, bad_options_and_parameters)
{
    cr_assert_eq(gt_stream_mode_check_param("noisecovarianceout=/tmp/x"), 0);
    cr_assert_eq(gt_stream_mode_check_param("k="), 0);
    cr_assert_eq(gt_stream_mode_check_param("novalue"), GT_EINVAL);
    cr_assert_eq(gt_stream_mode_check_param("=v"), GT_EINVAL);
    cr_assert_eq(gt_stream_mode_check_param("a b=c"), GT_EINVAL);
    gt_buf out;
    gt_stream_mode_opts o = default_opts();
    const char *bad[] = {"oops"};
    o.params = bad;
    o.nparams = 1;
    cr_assert_eq(run_bytes(&o, "", 0, &out, NULL), GT_EINVAL);
    gt_buf_fini(&out);
    o = default_opts();
    o.config_name = "no_such_config.xml";
    int rc = run_bytes(&o, close_only, 2, &out, NULL);
    cr_assert_eq(rc, GT_ENOTFOUND, "rc %d: %s", rc, gt_err_detail());
    cr_assert(strstr(gt_err_detail(), "no_such_config.xml") != NULL, "%s", gt_err_detail());
    cr_assert_eq(out.len, sizeof close_only);
    gt_buf_fini(&out);
    o.config_name = NULL;
    cr_assert_eq(gt_stream_mode_run(&o, 0, 1, NULL), GT_EINVAL);
}

/* --parameter reaches the gadgets: the noise dependency config writes the
 * covariance where noisecovarianceout says (Tyger's noise step). */
Test(stream_mode, parameters_reach_the_gadgets)
{
    gt_sim_opts so;
    char *h5 = path_of("main.h5"), *noise = path_of("noise.h5");
    sim_opts(&so, h5, noise);
    cr_assert_eq(gt_sim_run(&so, NULL), 0, "%s", gt_err_detail());
    gt_buf in, out;
    gt_buf_init(&in);
    h5_to_stream(noise, &in, 1);
    char *cov = path_of("cov.bin"), *kv = NULL;
    cr_assert_geq(asprintf(&kv, "noisecovarianceout=%s", cov), 0);
    const char *params[] = {kv};
    gt_stream_mode_opts o = default_opts();
    o.config_name = "default_measurement_dependencies.xml";
    o.params = params;
    o.nparams = 1;
    int rc = run_bytes(&o, in.data, in.len, &out, NULL);
    cr_assert_eq(rc, 0, "%s", gt_err_detail());
    counts c;
    check_output(in.data, out.data, out.len, &c);
    cr_assert_eq(c.frames, (size_t)1, "only CLOSE after the header");
    size_t len = 0;
    char *blob = gt_test_read_file(cov, &len);
    cr_assert_not_null(blob, "no covariance written to %s", cov);
    cr_assert_geq(len, (size_t)6);
    cr_assert_eq(memcmp(blob, "SFNDAM", 6), 0);
    free(blob);
    free(kv);
    free(cov);
    free(h5);
    free(noise);
    gt_buf_fini(&in);
    gt_buf_fini(&out);
}

/* ---- composite messages (1024 / 1050) --------------------------------------- */

/* Writes a one-gadget v2 config into tmp and returns its name. */
static const char *write_config(const char *name, const char *reader, const char *gadget,
                                const char *writer)
{
    char *path = path_of(name), *xml = NULL;
    cr_assert_geq(asprintf(&xml,
                           "<?xml version=\"1.0\"?><configuration><version>2</version>"
                           "<readers><reader><classname>%s</classname></reader></readers>"
                           "<writers><writer><classname>%s</classname></writer></writers>"
                           "<stream><gadget><name>G</name><classname>%s</classname></gadget>"
                           "</stream></configuration>",
                           reader, writer, gadget),
                  0);
    write_file(path, xml, strlen(xml));
    free(xml);
    free(path);
    return name;
}

/* HEADER (the minimal test header) + one composite frame (+ CLOSE). */
static void composite_stream(gt_msg *m, gt_buf *in, size_t *frame_off, size_t *frame_len)
{
    size_t hlen = 0;
    char *hdr = gt_test_read_file(GT_SOURCE_DIR "/tests/data/headers/minimal.xml", &hlen);
    cr_assert_not_null(hdr);
    gt_buf_init(in);
    cr_assert_eq(gt_wire_put_header(in, hdr, hlen), 0);
    free(hdr);
    *frame_off = in->len;
    cr_assert_eq(gt_msg_wire_put(in, m), 0, "%s", gt_err_detail());
    *frame_len = in->len - *frame_off;
    cr_assert_eq(gt_wire_put_close(in), 0);
}

static gt_msg *image_array_msg(void)
{
    const size_t dims[7] = {8, 6, 1, 1, 2, 1, 1};
    gt_image_array *ia = NULL;
    cr_assert_eq(gt_image_array_create(dims, &ia), 0);
    gt_cf *px = ia->data.data;
    for (size_t i = 0; i < 8 * 6 * 2; i++)
        px[i] = (float)i + 0.5f * I;
    for (int n = 0; n < 2; n++) {
        ia->headers[n].version = 1;
        ia->headers[n].image_index = (uint16_t)(n + 1);
        ia->headers[n].field_of_view[0] = 200.0f;
    }
    gt_msg *m = NULL;
    cr_assert_eq(gt_msg_image_array(ia, &m), 0);
    return m;
}

Test(stream_mode, image_arrays_in_images_or_arrays_out)
{
    gt_msg *m = image_array_msg();
    gt_buf in, out;
    size_t off, len;
    composite_stream(m, &in, &off, &len);
    gt_msg_unref(m);
    gt_stream_mode_opts o = default_opts();
    o.config_dir = tmp;
    o.config_name = write_config("split.xml", "IsmrmrdImageArrayReader", "ImageArraySplitGadget",
                                 "ImageWriter");
    cr_assert_eq(run_bytes(&o, in.data, in.len, &out, NULL), 0, "%s", gt_err_detail());
    counts c;
    check_output(in.data, out.data, out.len, &c);
    cr_assert_eq(c.images, (size_t)2);
    gt_buf_fini(&out);
    /* Passed through and written back: the same bytes. */
    o.config_name = write_config("same.xml", "IsmrmrdImageArrayReader",
                                 "AcquisitionPassthroughGadget", "IsmrmrdImageArrayWriter");
    cr_assert_eq(run_bytes(&o, in.data, in.len, &out, NULL), 0, "%s", gt_err_detail());
    size_t h = header_frame_len(in.data);
    cr_assert_eq(out.len, h + len + 2);
    cr_assert_eq(memcmp(out.data + h, in.data + off, len), 0, "image array changed");
    gt_buf_fini(&out);
    gt_buf_fini(&in);
}

Test(stream_mode, buckets_pass_through_unchanged)
{
    gt_bucket *bk = NULL;
    cr_assert_eq(gt_bucket_create(&bk), 0);
    for (int k = 0; k < 3; k++) {
        ISMRMRD_AcquisitionHeader hd;
        memset(&hd, 0, sizeof hd);
        hd.version = 1;
        hd.number_of_samples = 16;
        hd.active_channels = hd.available_channels = 2;
        hd.idx.kspace_encode_step_1 = (uint16_t)k;
        gt_acq *a = NULL;
        cr_assert_eq(gt_acq_create(&hd, &a), 0);
        for (size_t i = 0; i < 32; i++)
            a->data[i] = (float)(k * 100 + (int)i);
        cr_assert_eq(gt_acq_list_push(&bk->data, a), 0);
    }
    gt_msg *m = NULL;
    cr_assert_eq(gt_msg_bucket(bk, &m), 0);
    gt_buf in, out;
    size_t off, len;
    composite_stream(m, &in, &off, &len);
    gt_msg_unref(m);
    gt_stream_mode_opts o = default_opts();
    o.config_dir = tmp;
    o.config_name = write_config("bucket.xml", "AcquisitionBucketReader",
                                 "AcquisitionPassthroughGadget", "AcquisitionBucketWriter");
    cr_assert_eq(run_bytes(&o, in.data, in.len, &out, NULL), 0, "%s", gt_err_detail());
    size_t h = header_frame_len(in.data);
    cr_assert_eq(out.len, h + len + 2);
    cr_assert_eq(memcmp(out.data + h, in.data + off, len), 0, "bucket changed");
    gt_buf_fini(&out);
    gt_buf_fini(&in);
}

Test(stream_mode, recon_data_input_is_refused)
{
    gt_recon_data *rd = NULL;
    cr_assert_eq(gt_recon_data_create(1, &rd), 0);
    const size_t dims[7] = {4, 2, 1, 1, 1, 1, 1};
    cr_assert_eq(gt_data_buffer_init(&rd->bits[0].data, dims), 0);
    gt_msg *m = NULL;
    cr_assert_eq(gt_msg_recon_data(rd, &m), 0);
    gt_buf in, out;
    size_t off, len;
    composite_stream(m, &in, &off, &len);
    gt_msg_unref(m);
    gt_stream_mode_opts o = default_opts();
    cr_assert_eq(run_bytes(&o, in.data, in.len, &out, NULL), GT_EPROTO);
    cr_assert(strstr(gt_err_detail(), "Unsupported message ID 1023") != NULL, "%s",
              gt_err_detail());
    counts c;
    check_output(in.data, out.data, out.len, &c);
    gt_buf_fini(&out);
    gt_buf_fini(&in);
}

/* ---- the program ------------------------------------------------------------ */

/* Starts gadgetron --from_stream with extra args; stdin/stdout as given
 * (-1: /dev/null). Returns the pid. */
static pid_t spawn(const char *const *extra, int in_fd, int out_fd)
{
    char bin[512];
    const char *argv[24];
    size_t n = 0;
    argv[n++] = gt_test_bin("gadgetron", bin, sizeof bin);
    argv[n++] = "--from_stream";
    argv[n++] = "-c";
    argv[n++] = "default.xml";
    argv[n++] = "-W";
    argv[n++] = tmp;
    argv[n++] = "--log-level";
    argv[n++] = "warn";
    for (size_t i = 0; extra && extra[i] && n < 23; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(in_fd >= 0 ? in_fd : null, 0);
        dup2(out_fd >= 0 ? out_fd : null, 1);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Waits up to 60 s; returns the exit status (128+sig when killed). */
static int reap(pid_t pid)
{
    int status = 0;
    for (int i = 0; i < 6000; i++) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

typedef struct feeder {
    const char *path; /* open for writing (a FIFO blocks until read) */
    int fd;           /* or write here */
    const gt_buf *b;
} feeder;

static void *feed(void *arg)
{
    feeder *f = arg;
    int fd = f->path ? open(f->path, O_WRONLY) : f->fd;
    if (fd >= 0) {
        size_t off = 0;
        while (off < f->b->len) {
            ssize_t w = write(fd, f->b->data + off, f->b->len - off);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        close(fd);
    }
    return NULL;
}

static void read_all(int fd, gt_buf *out)
{
    uint8_t chunk[65536];
    ssize_t r;
    gt_buf_init(out);
    while ((r = read(fd, chunk, sizeof chunk)) > 0)
        cr_assert_eq(gt_buf_append(out, chunk, (size_t)r), 0);
}

Test(stream_mode, program_with_files)
{
    gt_buf in;
    char *inpath = make_stream(&in, 1);
    char *outpath = path_of("out.stream");
    const char *extra[] = {"-i", inpath, "-o", outpath, "--disable_storage", "true", NULL};
    int rc = reap(spawn(extra, -1, -1));
    cr_assert_eq(rc, 0);
    size_t len = 0;
    char *data = gt_test_read_file(outpath, &len);
    cr_assert_not_null(data);
    counts c;
    check_output(in.data, (const uint8_t *)data, len, &c);
    cr_assert_eq(c.images, (size_t)NIMAGES);
    free(data);
    free(inpath);
    free(outpath);
    gt_buf_fini(&in);
}

Test(stream_mode, program_with_stdin_and_stdout_pipes)
{
    gt_buf in, out;
    char *inpath = make_stream(&in, 1);
    int ip[2], op[2];
    cr_assert_eq(pipe(ip), 0);
    cr_assert_eq(pipe(op), 0);
    pid_t pid = spawn(NULL, ip[0], op[1]);
    close(ip[0]);
    close(op[1]);
    feeder f = {.fd = ip[1], .b = &in};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, feed, &f), 0);
    read_all(op[0], &out);
    close(op[0]);
    pthread_join(t, NULL);
    cr_assert_eq(reap(pid), 0);
    counts c;
    check_output(in.data, out.data, out.len, &c);
    cr_assert_eq(c.images, (size_t)NIMAGES);
    gt_buf_fini(&in);
    gt_buf_fini(&out);
    free(inpath);
}

Test(stream_mode, program_with_named_pipes)
{
    gt_buf in, out;
    char *inpath = make_stream(&in, 1);
    char *fin = path_of("in.fifo"), *fout = path_of("out.fifo");
    cr_assert_eq(mkfifo(fin, 0600), 0);
    cr_assert_eq(mkfifo(fout, 0600), 0);
    const char *extra[] = {"-i", fin, "-o", fout, NULL};
    pid_t pid = spawn(extra, -1, -1);
    feeder f = {.path = fin, .b = &in};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, feed, &f), 0);
    int fd = open(fout, O_RDONLY);
    cr_assert_geq(fd, 0);
    read_all(fd, &out);
    close(fd);
    pthread_join(t, NULL);
    cr_assert_eq(reap(pid), 0);
    counts c;
    check_output(in.data, out.data, out.len, &c);
    cr_assert_eq(c.images, (size_t)NIMAGES);
    gt_buf_fini(&in);
    gt_buf_fini(&out);
    free(inpath);
    free(fin);
    free(fout);
}

Test(stream_mode, program_reports_a_bad_stream)
{
    gt_buf in;
    gt_buf_init(&in);
    cr_assert_eq(gt_wire_put_filename(&in, "default.xml"), 0);
    char *inpath = path_of("bad.stream"), *outpath = path_of("bad.out"), *log = path_of("log");
    write_file(inpath, in.data, in.len);
    int lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(lfd, 0);
    const char *extra[] = {"-i", inpath, "-o", outpath, NULL};
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) { /* stderr into the log */
        dup2(lfd, 2);
        pid_t inner = spawn(extra, -1, -1);
        _exit(reap(inner));
    }
    close(lfd);
    cr_assert_eq(reap(pid), 1);
    size_t len = 0;
    char *data = gt_test_read_file(outpath, &len);
    cr_assert_not_null(data);
    cr_assert_eq(len, sizeof close_only);
    cr_assert_eq(memcmp(data, close_only, 2), 0);
    free(data);
    char *text = gt_test_read_file(log, &len);
    cr_assert_not_null(text);
    cr_assert(strstr(text, "Expected an ISMRMRD header") != NULL, "stderr: %s", text);
    free(text);
    free(inpath);
    free(outpath);
    free(log);
    gt_buf_fini(&in);
}
