/* Pipeline runtime: order, pass-through, backpressure, errors, abort,
 * config checks, reader/writer tables. Built-in gadgets serve as stages:
 * the image gadgets pass acquisitions through unchanged, and
 * FloatToUShortGadget fails on a float image of unknown image_type. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gt/err.h"
#include "gt/pipeline.h"

/* ---- a collecting, optionally blocking out callback ---- */
typedef struct sink {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    gt_msg **msgs;
    size_t n, cap;
    int block;  /* out() waits while set */
    int in_out; /* a thread is inside out() */
    int spaces; /* on_space calls */
    int dones;  /* on_done calls */
} sink;

static void sink_init(sink *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
}

static void sink_fini(sink *s)
{
    for (size_t i = 0; i < s->n; i++)
        gt_msg_unref(s->msgs[i]);
    free(s->msgs);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
}

static int sink_out(void *user, gt_msg *m)
{
    sink *s = user;
    pthread_mutex_lock(&s->mu);
    s->in_out = 1;
    pthread_cond_broadcast(&s->cv);
    while (s->block)
        pthread_cond_wait(&s->cv, &s->mu);
    s->in_out = 0;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->msgs = realloc(s->msgs, s->cap * sizeof *s->msgs);
    }
    s->msgs[s->n++] = m;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static void sink_space(void *user)
{
    sink *s = user;
    pthread_mutex_lock(&s->mu);
    s->spaces++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void sink_done(void *user)
{
    sink *s = user;
    pthread_mutex_lock(&s->mu);
    s->dones++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void sink_set_block(sink *s, int b)
{
    pthread_mutex_lock(&s->mu);
    s->block = b;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Waits up to 5 s for *field >= v (under the sink's lock). */
static int sink_wait(sink *s, int *field, int v)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 5;
    pthread_mutex_lock(&s->mu);
    int rc = 0;
    while (*field < v && rc == 0)
        rc = pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    int ok = *field >= v;
    pthread_mutex_unlock(&s->mu);
    return ok;
}

static gt_config *parse(const char *xml)
{
    gt_config *c = NULL;
    int rc = gt_config_parse(xml, strlen(xml), &c);
    cr_assert_eq(rc, 0, "config parse: %s", gt_err_detail());
    return c;
}

static const char *chain3 =
    "<gadgetronStreamConfiguration>"
    "<gadget><name>A</name><classname>ComplexToFloatGadget</classname></gadget>"
    "<gadget><name>Conv</name><classname>FloatToUShortGadget</classname></gadget>"
    "<gadget><name>C</name><classname>ExtractGadget</classname></gadget>"
    "</gadgetronStreamConfiguration>";

static gt_msg *make_acq(uint32_t counter)
{
    ISMRMRD_AcquisitionHeader h;
    memset(&h, 0, sizeof h);
    h.scan_counter = counter;
    h.number_of_samples = 4;
    h.active_channels = 1;
    gt_acq *a = NULL;
    gt_msg *m = NULL;
    cr_assert_eq(gt_acq_create(&h, &a), 0);
    cr_assert_eq(gt_msg_acq(a, &m), 0);
    return m;
}

static gt_msg *make_float_image(uint16_t image_type)
{
    ISMRMRD_ImageHeader h;
    ismrmrd_init_image_header(&h);
    h.data_type = ISMRMRD_FLOAT;
    h.image_type = image_type;
    h.matrix_size[0] = h.matrix_size[1] = h.matrix_size[2] = 1;
    h.channels = 1;
    gt_image *im = NULL;
    gt_msg *m = NULL;
    cr_assert_eq(gt_image_create(&h, NULL, &im), 0);
    cr_assert_eq(gt_msg_image(im, &m), 0);
    return m;
}

static gt_pipeline *start(gt_config *c, sink *s, size_t cap)
{
    gt_pipeline_opts o = {.queue_capacity = cap,
                          .out = sink_out,
                          .on_space = sink_space,
                          .on_done = sink_done,
                          .user = s};
    gt_stream_ctx ctx = {0};
    static gt_stream_ctx keep;
    keep = ctx;
    gt_pipeline *p = NULL;
    int rc = gt_pipeline_create(c, &keep, &o, &p);
    cr_assert_eq(rc, 0, "create: %s", gt_err_detail());
    return p;
}

Test(pipeline, order_and_passthrough, .timeout = 20)
{
    gt_config *c = parse(chain3);
    sink s;
    sink_init(&s);
    gt_pipeline *p = start(c, &s, 4);
    enum { N = 2000 };
    gt_msg *sent[N];
    for (uint32_t i = 0; i < N; i++) {
        sent[i] = make_acq(i);
        cr_assert_eq(gt_pipeline_push(p, gt_msg_ref(sent[i])), 0);
    }
    gt_pipeline_close_input(p);
    cr_assert_eq(gt_pipeline_wait(p), 0);
    cr_assert_eq(gt_pipeline_error_count(p), 0);
    cr_assert_eq(s.n, (size_t)N);
    for (size_t i = 0; i < N; i++) {
        cr_assert_eq(s.msgs[i], sent[i], "message %zu reordered or replaced", i);
        gt_msg_unref(sent[i]);
    }
    cr_assert_eq(s.dones, 1);
    /* Every stage saw every message; past the last stage is an error. */
    size_t nstages = 0;
    const char *name = NULL;
    double busy = -1, cpu = -1;
    unsigned long msgs = 0;
    while (gt_pipeline_stage_stats(p, nstages, &name, &busy, &cpu, &msgs) == 0) {
        cr_assert_not_null(name);
        cr_assert_eq(msgs, (unsigned long)N, "stage %s: %lu messages", name, msgs);
        cr_assert_geq(busy, 0.0);
        cr_assert_geq(cpu, 0.0);
        nstages++;
    }
    cr_assert_eq(nstages, 3);
    cr_assert_eq(gt_pipeline_stage_stats(p, 3, NULL, NULL, NULL, NULL), GT_EINVAL);
    gt_pipeline_destroy(p);
    gt_config_destroy(c);
    sink_fini(&s);
}

Test(pipeline, empty_stream_passes_through, .timeout = 10)
{
    gt_config *c = parse("<gadgetronStreamConfiguration></gadgetronStreamConfiguration>");
    sink s;
    sink_init(&s);
    gt_pipeline *p = start(c, &s, 0);
    for (uint32_t i = 0; i < 10; i++)
        cr_assert_eq(gt_pipeline_push(p, make_acq(i)), 0);
    gt_pipeline_close_input(p);
    cr_assert_eq(gt_pipeline_wait(p), 0);
    cr_assert_eq(s.n, 10u);
    cr_assert_eq(((gt_acq *)s.msgs[9]->body)->head.scan_counter, 9u);
    gt_pipeline_destroy(p);
    gt_config_destroy(c);
    sink_fini(&s);
}

Test(pipeline, backpressure_and_space_callback, .timeout = 20)
{
    gt_config *c = parse(chain3);
    sink s;
    sink_init(&s);
    sink_set_block(&s, 1);
    gt_pipeline *p = start(c, &s, 4);
    size_t pushed = 0;
    int rc = 0;
    gt_msg *m = NULL;
    /* With out() blocked, at most 3 queues x 4 + 3 in flight + 1 fit. */
    for (int tries = 0; tries < 1000; tries++) {
        m = make_acq((uint32_t)pushed);
        rc = gt_pipeline_try_push(p, m);
        if (rc == GT_EAGAIN)
            break;
        cr_assert_eq(rc, 0);
        pushed++;
        m = NULL;
        usleep(1000); /* let stages move messages along */
    }
    cr_assert_eq(rc, GT_EAGAIN, "input never filled up");
    cr_assert(sink_wait(&s, &s.in_out, 1), "out() was never entered");
    /* Let every stage settle into its blocked state, topping up the input. */
    for (int i = 0; i < 200; i++) {
        if ((rc = gt_pipeline_try_push(p, m)) == 0) {
            pushed++;
            m = make_acq((uint32_t)pushed);
        }
        usleep(1000);
    }
    cr_assert_eq(gt_pipeline_try_push(p, m), GT_EAGAIN);
    /* 3 queues of 4 plus one message held by each of the 3 stages. */
    cr_assert_leq(pushed, 3 * 4 + 3, "pushed %zu past the bounds", pushed);
    cr_assert_geq(pushed, 3 * 4);
    pthread_mutex_lock(&s.mu);
    int spaces_blocked = s.spaces;
    pthread_mutex_unlock(&s.mu);
    usleep(50000);
    cr_assert_eq(s.spaces, spaces_blocked, "space signalled while still full");
    sink_set_block(&s, 0);
    cr_assert(sink_wait(&s, &s.spaces, spaces_blocked + 1),
              "on_space did not fire after unblocking");
    cr_assert_eq(gt_pipeline_try_push(p, m), 0); /* m was not taken by EAGAIN */
    pushed++;
    gt_pipeline_close_input(p);
    cr_assert_eq(gt_pipeline_wait(p), 0);
    cr_assert_eq(s.n, pushed);
    for (size_t i = 0; i < s.n; i++)
        cr_assert_eq(((gt_acq *)s.msgs[i]->body)->head.scan_counter, (uint32_t)i);
    gt_pipeline_destroy(p);
    gt_config_destroy(c);
    sink_fini(&s);
}

Test(pipeline, error_in_middle_stage, .timeout = 20)
{
    gt_config *c = parse(chain3);
    sink s;
    sink_init(&s);
    gt_pipeline *p = start(c, &s, 4);
    cr_assert_eq(gt_pipeline_push(p, make_acq(0)), 0);
    cr_assert_eq(gt_pipeline_push(p, make_float_image(0)), 0); /* Conv fails on it */
    /* The stream shuts down by itself: no close_input needed for wait. */
    int rc = gt_pipeline_wait(p);
    cr_assert_eq(rc, GT_EDATA, "wait returned %d", rc);
    cr_assert_eq(gt_pipeline_error_count(p), 1);
    cr_assert_str_eq(gt_pipeline_error(p, 0),
                     "[Conv] ERROR: Unknown image type 0 in FloatToUShortGadget");
    cr_assert_eq(s.n, 1u, "the message before the error is still delivered");
    gt_msg *late = make_acq(1);
    cr_assert_eq(gt_pipeline_try_push(p, late), GT_ECLOSED); /* takes and frees it */
    cr_assert_eq(s.dones, 1);
    gt_pipeline_destroy(p);
    gt_config_destroy(c);
    sink_fini(&s);
}

Test(pipeline, error_with_upstream_blocked, .timeout = 20)
{
    /* The failing stage's input is full and the producer blocks in push:
     * the error must unblock everything. */
    gt_config *c = parse(chain3);
    sink s;
    sink_init(&s);
    gt_pipeline *p = start(c, &s, 2);
    cr_assert_eq(gt_pipeline_push(p, make_float_image(0)), 0);
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++)
        rc = gt_pipeline_push(p, make_acq((uint32_t)i));
    cr_assert_eq(rc, GT_ECLOSED);
    cr_assert_eq(gt_pipeline_wait(p), GT_EDATA);
    gt_pipeline_destroy(p);
    gt_config_destroy(c);
    sink_fini(&s);
}

typedef struct producer {
    gt_pipeline *p;
    int last_rc;
    int pushed;
} producer;

static void *produce(void *arg)
{
    producer *pr = arg;
    for (int i = 0; i < 100000; i++) {
        pr->last_rc = gt_pipeline_push(pr->p, make_acq((uint32_t)i));
        if (pr->last_rc < 0)
            break;
        pr->pushed++;
    }
    return NULL;
}

Test(pipeline, abort_while_blocked, .timeout = 20)
{
    gt_config *c = parse(chain3);
    sink s;
    sink_init(&s);
    sink_set_block(&s, 1);
    gt_pipeline *p = start(c, &s, 4);
    producer pr = {.p = p};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, produce, &pr), 0);
    cr_assert(sink_wait(&s, &s.in_out, 1));
    usleep(50000); /* every queue fills and the producer blocks */
    gt_pipeline_abort(p);
    pthread_join(t, NULL); /* the producer's push returned */
    cr_assert_eq(pr.last_rc, GT_ECLOSED);
    sink_set_block(&s, 0); /* the owner lets out() return */
    cr_assert_eq(gt_pipeline_wait(p), 0);
    cr_assert_leq(s.n, 1u, "nothing but the in-flight message leaves after abort");
    cr_assert_eq(s.dones, 1);
    gt_pipeline_destroy(p); /* frees what is still queued */
    gt_config_destroy(c);
    sink_fini(&s);
}

Test(pipeline, destroy_without_wait_aborts, .timeout = 10)
{
    gt_config *c = parse(chain3);
    sink s;
    sink_init(&s);
    gt_pipeline *p = start(c, &s, 4);
    for (uint32_t i = 0; i < 8; i++)
        cr_assert_eq(gt_pipeline_push(p, make_acq(i)), 0);
    gt_pipeline_destroy(p);
    gt_config_destroy(c);
    sink_fini(&s);
}

static int create_rc(const char *xml)
{
    gt_config *c = parse(xml);
    sink s;
    sink_init(&s);
    gt_pipeline_opts o = {.out = sink_out, .user = &s};
    gt_stream_ctx ctx = {0};
    gt_pipeline *p = NULL;
    int rc = gt_pipeline_create(c, &ctx, &o, &p);
    cr_assert_null(p);
    gt_config_destroy(c);
    sink_fini(&s);
    return rc;
}

Test(pipeline, unknown_classname)
{
    int rc = create_rc("<gadgetronStreamConfiguration><gadget><name>x</name>"
                       "<classname>NopeGadget</classname></gadget>"
                       "</gadgetronStreamConfiguration>");
    cr_assert_eq(rc, GT_ECONFIG);
    cr_assert_str_eq(gt_err_detail(), "Unknown gadget classname 'NopeGadget' (gadget 'x')");
}

Test(pipeline, unknown_property)
{
    int rc = create_rc("<gadgetronStreamConfiguration><gadget><name>Acc</name>"
                       "<classname>AcquisitionAccumulateTriggerGadget</classname>"
                       "<property><name>bogus</name><value>1</value></property></gadget>"
                       "</gadgetronStreamConfiguration>");
    cr_assert_eq(rc, GT_ECONFIG);
    cr_assert_str_eq(gt_err_detail(), "Unknown property 'bogus' for gadget 'Acc' "
                                      "(AcquisitionAccumulateTriggerGadget)");
}

Test(pipeline, bad_property_value)
{
    int rc = create_rc("<gadgetronStreamConfiguration><gadget><name>Acc</name>"
                       "<classname>AcquisitionAccumulateTriggerGadget</classname>"
                       "<property><name>trigger_dimension</name><value>sideways</value>"
                       "</property></gadget></gadgetronStreamConfiguration>");
    cr_assert_eq(rc, GT_ECONFIG);
    cr_assert(strstr(gt_err_detail(), "trigger_dimension"), "%s", gt_err_detail());
}

Test(pipeline, parallelprocess_unsupported)
{
    int rc = create_rc("<configuration><version>2</version><stream>"
                       "<gadget><classname>ImageFinishGadget</classname></gadget>"
                       "<parallelprocess workers=\"2\"><purestream>"
                       "<gadget><classname>ImageFinishGadget</classname></gadget>"
                       "</purestream></parallelprocess></stream></configuration>");
    cr_assert_eq(rc, GT_EUNSUPPORTED);
    cr_assert_str_eq(gt_err_detail(), "<parallelprocess> is not supported yet");
}

Test(pipeline, reader_writer_tables)
{
    static const struct {
        const char *name;
        int type;
    } r[] = {{"GadgetIsmrmrdAcquisitionMessageReader", 1008},
             {"AcquisitionReader", 1008},
             {"GadgetIsmrmrdWaveformMessageReader", 1026},
             {"WaveformReader", 1026},
             {"MRIImageReader", 1022},
             {"ImageReader", 1022},
             {"GadgetIsmrmrdFloatImageMessageReader", 1022},
             {"BufferReader", 1023},
             {"IsmrmrdImageArrayReader", 1024},
             {"AcquisitionBucketReader", 1050}},
      w[] = {{"MRIImageWriter", 1022},
             {"MRIImageWriterCPLX", 1022},
             {"MRIImageWriterFLOAT", 1022},
             {"MRIImageWriterUSHORT", 1022},
             {"ImageWriter", 1022},
             {"DependencyQueryWriter", 1019},
             {"BufferWriter", 1023},
             {"IsmrmrdImageArrayWriter", 1024},
             {"AcquisitionBucketWriter", 1050},
             {"AcquisitionWriter", 1008},
             {"WaveformWriter", 1026},
             {"TextWriter", 5}};
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        int t = 0;
        cr_assert_eq(gt_reader_type(r[i].name, &t), 0, "%s", r[i].name);
        cr_assert_eq(t, r[i].type, "%s -> %d", r[i].name, t);
    }
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        int t = 0;
        cr_assert_eq(gt_writer_type(w[i].name, &t), 0, "%s", w[i].name);
        cr_assert_eq(t, w[i].type, "%s -> %d", w[i].name, t);
    }
    int t = 0;
    cr_assert_eq(gt_reader_type("MRIImageWriter", &t), GT_ECONFIG);
    cr_assert_str_eq(gt_err_detail(), "Unknown reader classname 'MRIImageWriter'");
    cr_assert_eq(gt_writer_type("Bogus", &t), GT_ECONFIG);
}

Test(pipeline, registry_lists_default_xml_gadgets)
{
    const char *names[] = {"RemoveROOversamplingGadget", "AcquisitionAccumulateTriggerGadget",
                           "BucketToBufferGadget",       "SimpleReconGadget",
                           "ImageArraySplitGadget",      "ExtractGadget",
                           "ImageFinishGadget",          "NoiseSummaryGadget"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        cr_assert_not_null(gt_gadget_find(names[i]), "%s", names[i]);
    cr_assert_null(gt_gadget_find("NoSuchGadget"));
    size_t n = 0;
    for (const gt_gadget_class *const *c = gt_gadget_all(); *c; c++)
        n++;
    cr_assert_geq(n, 8);
}
