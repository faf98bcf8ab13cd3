/* gen_seeds.c — writes the seed corpora for the fuzz harnesses from the
 * project's fixtures and encoders: gen_seeds SRC_DIR OUT_DIR creates
 * OUT_DIR/{wire,msg_wire,session,config,mrdhdr,meta}/ (see README.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gt/buf.h"
#include "gt/meta.h"
#include "gt/msg.h"
#include "gt/msg_wire.h"
#include "gt/wire.h"

static const char *out_dir;

static void put(const char *sub, const char *name, const uint8_t *pre, size_t npre, const void *p,
                size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", out_dir, sub);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(pre, 1, npre, f) != npre || fwrite(p, 1, n, f) != n) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (!p || fread(p, 1, (size_t)n, f) != (size_t)n)
        exit(1);
    p[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return p;
}

static gt_acq *acq(uint16_t ns, uint16_t ch, uint16_t td, uint16_t e1, uint64_t flags)
{
    ISMRMRD_AcquisitionHeader h;
    memset(&h, 0, sizeof h);
    h.version = 1;
    h.flags = flags;
    h.number_of_samples = ns;
    h.active_channels = h.available_channels = ch;
    h.trajectory_dimensions = td;
    h.center_sample = ns / 2;
    h.idx.kspace_encode_step_1 = e1;
    gt_acq *a = NULL;
    if (gt_acq_create(&h, &a) < 0)
        exit(1);
    for (size_t i = 0; i < gt_acq_data_count(&h); i++)
        a->data[i] = (float)i;
    return a;
}

static gt_wave *wave(uint16_t ns, uint16_t ch)
{
    ISMRMRD_WaveformHeader h;
    memset(&h, 0, sizeof h);
    h.version = 1;
    h.number_of_samples = ns;
    h.channels = ch;
    h.waveform_id = 1;
    gt_wave *w = NULL;
    if (gt_wave_create(&h, &w) < 0)
        exit(1);
    return w;
}

static void composites(gt_buf *b)
{
    gt_msg *m = NULL;
    gt_bucket *bk = NULL;
    gt_bucket_create(&bk);
    gt_acq_list_push(&bk->data, acq(8, 2, 0, 1, 0));
    gt_acq_list_push(&bk->data, acq(8, 2, 2, 2, 0));
    gt_acq_list_push(&bk->ref, acq(8, 2, 0, 0, 1ull << 19));
    gt_bucket_push_wave(bk, wave(3, 2));
    gt_msg_bucket(bk, &m);
    gt_msg_wire_put(b, m);
    gt_msg_unref(m);

    const size_t dims[7] = {4, 2, 1, 1, 2, 1, 1};
    gt_image_array *ia = NULL;
    gt_image_array_create(dims, &ia);
    for (size_t k = 0; k < 2; k++) {
        ia->headers[k].version = 1;
        ia->headers[k].data_type = 7;
        ia->headers[k].matrix_size[0] = 4;
        ia->headers[k].matrix_size[1] = 2;
        ia->headers[k].matrix_size[2] = 1;
        ia->headers[k].channels = 1;
        gt_meta_create(&ia->meta[k]);
        gt_meta_set_long(ia->meta[k], "ImageIndex", (long)k);
    }
    ia->waves = calloc(1, sizeof(gt_wave *));
    ia->waves[0] = wave(2, 1);
    ia->nwaves = 1;
    gt_msg_image_array(ia, &m);
    gt_msg_wire_put(b, m);
    gt_msg_unref(m);

    gt_recon_data *r = NULL;
    gt_recon_data_create(1, &r);
    const size_t rd[7] = {4, 2, 1, 2, 1, 1, 1};
    gt_data_buffer_init(&r->bits[0].data, rd);
    r->bits[0].data.sampling.encoded_matrix[0] = 4;
    r->bits[0].ref = calloc(1, sizeof(gt_data_buffer));
    gt_data_buffer_init(r->bits[0].ref, rd);
    gt_msg_recon_data(r, &m);
    gt_msg_wire_put(b, m);
    gt_msg_unref(m);
}

static void simple_frames(gt_buf *b)
{
    gt_acq *a = acq(16, 2, 0, 3, 0);
    gt_wire_put_acq(b, a);
    gt_acq_destroy(a);
    a = acq(4, 1, 2, 4, 1ull << 7);
    gt_wire_put_acq(b, a);
    gt_acq_destroy(a);
    ISMRMRD_ImageHeader ih;
    memset(&ih, 0, sizeof ih);
    ih.version = 1;
    ih.data_type = 5;
    ih.matrix_size[0] = 4;
    ih.matrix_size[1] = 2;
    ih.matrix_size[2] = 1;
    ih.channels = 1;
    gt_image *im = NULL;
    gt_image_create(&ih, "<ismrmrdMeta><meta><name>a</name><value>1</value></meta></ismrmrdMeta>",
                    &im);
    gt_wire_put_image(b, im);
    gt_image_destroy(im);
    gt_wave *w = wave(5, 2);
    gt_wire_put_wave(b, w);
    gt_wave_destroy(w);
    gt_wire_put_query(b, 7, "gadgetron::info", 15);
    gt_wire_put_text(b, "hello", 5);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen_seeds SRC_DIR OUT_DIR\n");
        return 2;
    }
    const char *src = argv[1];
    out_dir = argv[2];
    mkdir(out_dir, 0755);
    char dir[1024];
    static const char *cfgs[] = {
        "tests/data/config/v2_all_nodes.xml",
        "tests/data/config/Generic_Cartesian_Grappa_RealTimeCine_Cloud.xml",
        "configs/default.xml",
        "configs/Generic_Cartesian_Grappa.xml",
        "configs/Generic_Cartesian_Grappa_RealTimeCine_Distributed.xml",
        "configs/Generic_Cartesian_Grappa_RealTimeCine_PureDistributed.xml"};
    for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
        size_t n;
        char *x = slurp(src, cfgs[i], &n);
        char name[32];
        snprintf(name, sizeof name, "cfg%zu", i);
        put("config", name, NULL, 0, x, n);
        free(x);
    }
    static const char *hdrs[] = {"tests/data/headers/minimal.xml",
                                 "tests/data/headers/siemens_cine_grappa.xml"};
    for (size_t i = 0; i < 2; i++) {
        size_t n;
        char *x = slurp(src, hdrs[i], &n);
        char name[32];
        snprintf(name, sizeof name, "hdr%zu", i);
        put("mrdhdr", name, NULL, 0, x, n);
        free(x);
    }
    gt_meta *m = NULL;
    gt_meta_create(&m);
    gt_meta_set_long(m, "ImageIndex", 3);
    gt_meta_set_str(m, "GADGETRON_DataRole", "Image");
    gt_meta_append_str(m, "GADGETRON_DataRole", "GT <&>\"'");
    gt_meta_set_double(m, "Scale", 1.5e-3);
    char *mx = NULL;
    size_t mn = 0;
    gt_meta_serialize(m, &mx, &mn);
    put("meta", "meta0", NULL, 0, mx, mn);
    free(mx);
    gt_meta_destroy(m);

    /* Sessions: CONFIG or FILENAME, HEADER, data frames, CLOSE. */
    size_t hn, cn;
    char *hx = slurp(src, hdrs[0], &hn);
    char *cx = slurp(src, "configs/default.xml", &cn);
    gt_buf b;
    for (int v = 0; v < 3; v++) {
        gt_buf_init(&b);
        if (v == 0)
            gt_wire_put_config(&b, cx, cn);
        else
            gt_wire_put_filename(&b, v == 1 ? "default.xml" : "isalive.xml");
        gt_wire_put_header(&b, hx, hn);
        simple_frames(&b);
        if (v != 2)
            composites(&b);
        gt_wire_put_close(&b);
        static const uint8_t pre[][2] = {{0, 0}, {1, 0x21}, {7, 0x90}};
        char name[32];
        snprintf(name, sizeof name, "sess%d", v);
        put("session", name, pre[v], 2, b.data, b.len);
        snprintf(name, sizeof name, "stream%d", v);
        put("msg_wire", name, pre[v], 1, b.data, b.len);
        put("wire", name, pre[v], 1, b.data, b.len);
        gt_buf_fini(&b);
    }
    gt_buf_init(&b);
    composites(&b);
    put("msg_wire", "composites", (const uint8_t *)"\0", 1, b.data, b.len);
    gt_buf_fini(&b);
    free(hx);
    free(cx);
    snprintf(dir, sizeof dir, "%s", out_dir);
    printf("seeds written to %s\n", dir);
    return 0;
}
