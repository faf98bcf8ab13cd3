/* End to end: simulator -> gadgetron_ismrmrd_client -> gadgetron (real
 * processes on an ephemeral loopback port) -> images in HDF5, checked
 * against the simulator's ground truth and against ISMRMRD's own reference
 * reconstruction (ismrmrd_recon_cartesian_2d). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <ismrmrd/dataset.h>

#include "e2eutil.h"
#include "gt/sim.h"
#include "testutil.h"

static gt_test_server srv;
static char *tmp;

static void setup(void)
{
    tmp = gt_test_tmpdir();
    cr_assert_not_null(tmp);
    cr_assert_eq(gt_test_server_start(&srv, NULL), 0, "server did not start");
}

static void teardown(void)
{
    int rc = gt_test_server_stop(&srv);
    cr_expect_eq(rc, 0, "server exit status %d after SIGTERM", rc);
    gt_test_rmtree(tmp);
    free(tmp);
}

static void simulate(const char *path, int slices, int phases, int coils, int n, double noise)
{
    gt_sim_opts o;
    gt_sim_opts_default(&o);
    o.output = path;
    o.ro = o.e1 = n;
    o.slices = slices;
    o.phases = phases;
    o.coils = coils;
    o.noise_std = noise;
    o.threads = 1;
    cr_assert_eq(gt_sim_run(&o, NULL), 0, "simulation failed");
}

static int run_client(const char *in, const char *out, const char *config, const char *group)
{
    char port[16], log[4200];
    snprintf(port, sizeof port, "%d", srv.port);
    snprintf(log, sizeof log, "%s.log", out);
    const char *argv[] = {"gadgetron_ismrmrd_client",
                          "-a",
                          "127.0.0.1",
                          "-p",
                          port,
                          "-f",
                          in,
                          "-o",
                          out,
                          "-c",
                          config,
                          "-G",
                          group,
                          NULL};
    return gt_test_run(argv, 120, log);
}

/* Checks a default.xml reconstruction of a simulated cine against truth. */
static void check_against_truth(const char *data, const char *out, int slices, int phases, int n,
                                double tol)
{
    e2e_image *im;
    size_t count;
    cr_assert_eq(e2e_read_images(out, "recon", &im, &count), 0, "cannot read %s", out);
    cr_assert_eq(count, (size_t)(slices * phases), "images: got %zu want %d", count,
                 slices * phases);
    size_t dims[7];
    int nd = 0;
    float *truth = e2e_read_float_array(data, "/dataset", "ground_truth", dims, &nd);
    cr_assert_not_null(truth);
    unsigned seen[64 * 64] = {0};
    for (size_t i = 0; i < count; i++) {
        const ISMRMRD_ImageHeader *h = &im[i].head;
        cr_assert_eq(h->matrix_size[0], n);
        cr_assert_eq(h->matrix_size[1], n);
        cr_assert_lt(h->slice, slices);
        cr_assert_lt(h->phase, phases);
        seen[h->slice * phases + h->phase]++;
        const float *ref = truth + (size_t)n * n * (h->phase + (size_t)phases * h->slice);
        double e = e2e_nrmse_scaled(im[i].mag, ref, (size_t)n * n, 0.1);
        cr_expect_lt(e, tol, "slice %u phase %u: NRMSE %.4f >= %.4f", h->slice, h->phase, e, tol);
    }
    for (int i = 0; i < slices * phases; i++)
        cr_expect_eq(seen[i], 1, "slice/phase %d delivered %u times", i, seen[i]);
    free(truth);
    e2e_free_images(im, count);
}

TestSuite(e2e, .init = setup, .fini = teardown, .timeout = 240);

Test(e2e, default_config_on_simulated_cine)
{
    char data[4200], out[4200];
    snprintf(data, sizeof data, "%s/cine.h5", tmp);
    snprintf(out, sizeof out, "%s/out.h5", tmp);
    simulate(data, 3, 4, 8, 64, 0.002);
    int rc = run_client(data, out, "default.xml", "recon");
    cr_assert_eq(rc, 0, "client exit status %d", rc);
    check_against_truth(data, out, 3, 4, 64, 0.015);
}

Test(e2e, shepp_logan_matches_ismrmrd_reference_recon)
{
    char data[4200], out[4200];
    snprintf(data, sizeof data, "%s/shepp.h5", tmp);
    snprintf(out, sizeof out, "%s/out.h5", tmp);
    const char *gen[] = {
        "/usr/bin/ismrmrd_generate_cartesian_shepp_logan", "-m", "64", "-c", "4", "-o", data, NULL};
    cr_assert_eq(gt_test_run(gen, 60, NULL), 0, "ismrmrd_generate_cartesian_shepp_logan failed");
    const char *ref[] = {"/usr/bin/ismrmrd_recon_cartesian_2d", data, NULL};
    cr_assert_eq(gt_test_run(ref, 60, NULL), 0, "ismrmrd_recon_cartesian_2d failed");
    cr_assert_eq(run_client(data, out, "default.xml", "recon"), 0);

    e2e_image *ours;
    size_t n1;
    cr_assert_eq(e2e_read_images(out, "recon", &ours, &n1), 0);
    /* the reference recon writes its image to <group>/cpp */
    ISMRMRD_Dataset d;
    ismrmrd_init_dataset(&d, data, "/dataset");
    cr_assert_eq(ismrmrd_open_dataset(&d, false), ISMRMRD_NOERROR);
    ISMRMRD_Image ref_im;
    ismrmrd_init_image(&ref_im);
    cr_assert_eq(ismrmrd_read_image(&d, "cpp", 0, &ref_im), ISMRMRD_NOERROR);
    ismrmrd_close_dataset(&d);
    cr_assert_eq(n1, 1, "one image expected, got %zu", n1);
    cr_assert_eq(ours[0].head.matrix_size[0], ref_im.head.matrix_size[0]);
    cr_assert_eq(ours[0].head.matrix_size[1], ref_im.head.matrix_size[1]);
    size_t n = (size_t)ref_im.head.matrix_size[0] * ref_im.head.matrix_size[1];
    cr_assert_eq(ref_im.head.data_type, ISMRMRD_FLOAT);
    double e = e2e_nrmse_scaled(ours[0].mag, ref_im.data, n, 0);
    cr_expect_lt(e, 1e-4, "NRMSE vs ismrmrd_recon_cartesian_2d %.2e", e);
    ismrmrd_cleanup_image(&ref_im);
    e2e_free_images(ours, n1);
}

struct job {
    const char *data;
    char out[4200];
    int rc;
};

static void *client_thread(void *arg)
{
    struct job *j = arg;
    j->rc = run_client(j->data, j->out, "default.xml", "recon");
    return NULL;
}

Test(e2e, eight_concurrent_clients_all_get_correct_images)
{
    char data[4200];
    snprintf(data, sizeof data, "%s/cine.h5", tmp);
    simulate(data, 2, 3, 4, 32, 0.002);
    enum { K = 8 };
    struct job jobs[K];
    pthread_t t[K];
    for (int i = 0; i < K; i++) {
        jobs[i].data = data;
        snprintf(jobs[i].out, sizeof jobs[i].out, "%s/out%d.h5", tmp, i);
        pthread_create(&t[i], NULL, client_thread, &jobs[i]);
    }
    for (int i = 0; i < K; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < K; i++) {
        cr_assert_eq(jobs[i].rc, 0, "client %d exit status %d", i, jobs[i].rc);
        check_against_truth(data, jobs[i].out, 2, 3, 32, 0.03);
    }
}

Test(e2e, garbage_client_does_not_disturb_the_next)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    unsigned char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 131 + 7);
    ssize_t w = write(fd, junk, sizeof junk);
    (void)w;
    /* The server answers with TEXT (id 5) ... then CLOSE (id 4) and hangs up. */
    unsigned char reply[8192];
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, reply + got, sizeof reply - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    cr_assert_geq(got, 8, "server must answer garbage with TEXT + CLOSE");
    cr_assert_eq(reply[0] | (reply[1] << 8), 5, "first message is TEXT");
    cr_assert_eq(reply[got - 2] | (reply[got - 1] << 8), 4, "last message is CLOSE");
    cr_assert(gt_test_server_alive(&srv));

    char data[4200], out[4200];
    snprintf(data, sizeof data, "%s/cine.h5", tmp);
    snprintf(out, sizeof out, "%s/out.h5", tmp);
    simulate(data, 1, 2, 4, 32, 0.002);
    cr_assert_eq(run_client(data, out, "default.xml", "recon"), 0);
    check_against_truth(data, out, 1, 2, 32, 0.03);
}
