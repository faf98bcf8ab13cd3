/* h5in.c — the input ISMRMRD dataset, read one item at a time so memory
 * stays bounded by the largest acquisition, whatever the file size.
 *
 * We open the file read-only ourselves (ismrmrd_open_dataset opens it
 * read-write and creates the group if missing, which would modify the
 * user's input) and hand libismrmrd's read functions our own
 * ISMRMRD_Dataset. Also here: the process-wide HDF5 lock and the capture
 * of libismrmrd's error messages. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client.h"
#include "gt/err.h"
#include "gt/log.h"

/* ---- process-wide HDF5 state ------------------------------------------------ */
static pthread_mutex_t h5_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t h5_once = PTHREAD_ONCE_INIT;
static char h5_msg[512];

static void ismrmrd_errors(const char *file, int line, const char *func, int code, const char *msg)
{
    (void)file;
    (void)line;
    (void)code;
    snprintf(h5_msg, sizeof h5_msg, "%s (%s)", msg ? msg : "error", func ? func : "?");
}

static void h5_init_once(void)
{
    H5open();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    ismrmrd_set_error_handler(ismrmrd_errors);
}

void h5_init(void) { pthread_once(&h5_once, h5_init_once); }
void h5_lock(void) { pthread_mutex_lock(&h5_mutex); }
void h5_unlock(void) { pthread_mutex_unlock(&h5_mutex); }
const char *h5_last_error(void) { return h5_msg[0] ? h5_msg : "unknown HDF5 error"; }

/* ---- the input dataset -------------------------------------------------------- */
struct h5in {
    ISMRMRD_Dataset ds; /* our own: filename/groupname point into this struct */
    char *file, *group;
    char *xml;
    size_t xml_len;
    uint32_t n_acq, n_wave;
    uint32_t *wave_order, *wave_stamps; /* sorted by stamp, then index */
};

/* Every prefix of an absolute or relative group path must exist. */
static int group_exists(hid_t fid, const char *group)
{
    char path[1024];
    size_t n = strlen(group);
    if (n == 0 || n >= sizeof path)
        return 0;
    memcpy(path, group, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (strcmp(path, "/") != 0 && H5Lexists(fid, path, H5P_DEFAULT) <= 0)
            return 0;
        path[i] = saved;
    }
    return 1;
}

static int link_exists(hid_t fid, const char *group, const char *var)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", group, var);
    return H5Lexists(fid, path, H5P_DEFAULT) > 0;
}

int h5in_open(const char *file, const char *group, h5in **out)
{
    int rc = 0;
    *out = NULL;
    h5_init();
    struct stat st;
    if (stat(file, &st) != 0)
        return gt_err_set(GT_ENOTFOUND, "cannot open input file '%s': %s", file, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return gt_err_set(GT_EINVAL, "input '%s' is not a regular file", file);

    h5in *in = calloc(1, sizeof *in);
    if (!in)
        return gt_err_set(GT_ENOMEM, "out of memory");
    in->file = strdup(file);
    in->group = strdup(group);
    if (!in->file || !in->group) {
        rc = gt_err_set(GT_ENOMEM, "out of memory");
        goto fail;
    }
    in->ds.filename = in->file;
    in->ds.groupname = in->group;

    h5_lock();
    in->ds.fileid = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (in->ds.fileid < 0) {
        in->ds.fileid = 0;
        h5_unlock();
        rc = gt_err_set(GT_EIO, "cannot open input file '%s': not a readable HDF5 file", file);
        goto fail;
    }
    if (!group_exists(in->ds.fileid, group)) {
        h5_unlock();
        rc = gt_err_set(GT_ENOTFOUND, "input file '%s' has no group '%s' (see -g)", file, group);
        goto fail;
    }
    if (!link_exists(in->ds.fileid, group, "xml")) {
        h5_unlock();
        rc = gt_err_set(GT_EDATA, "input file '%s' has no ISMRMRD header '%s/xml'", file, group);
        goto fail;
    }
    in->xml = ismrmrd_read_header(&in->ds);
    in->n_acq =
        link_exists(in->ds.fileid, group, "data") ? ismrmrd_get_number_of_acquisitions(&in->ds) : 0;
    in->n_wave = link_exists(in->ds.fileid, group, "waveforms")
                     ? ismrmrd_get_number_of_waveforms(&in->ds)
                     : 0;
    h5_unlock();
    if (!in->xml) {
        rc = gt_err_set(GT_EDATA, "cannot read the ISMRMRD header '%s/xml' of '%s'", group, file);
        goto fail;
    }
    in->xml_len = strlen(in->xml);
    gt_log(GT_LOG_DEBUG, "input %s%s: %u acquisitions, %u waveforms, header %zu bytes", file, group,
           in->n_acq, in->n_wave, in->xml_len);
    *out = in;
    return 0;
fail:
    h5in_close(in);
    return rc;
}

void h5in_close(h5in *in)
{
    if (!in)
        return;
    if (in->ds.fileid > 0) {
        h5_lock();
        H5Fclose(in->ds.fileid);
        h5_unlock();
    }
    free(in->xml);
    free(in->wave_order);
    free(in->wave_stamps);
    free(in->file);
    free(in->group);
    free(in);
}

const char *h5in_header(const h5in *in, size_t *len)
{
    *len = in->xml_len;
    return in->xml;
}

uint32_t h5in_n_acq(const h5in *in) { return in->n_acq; }
uint32_t h5in_n_wave(const h5in *in) { return in->n_wave; }

int h5in_read_acq(h5in *in, uint32_t i, ISMRMRD_Acquisition *acq)
{
    h5_lock();
    int rc = ismrmrd_read_acquisition(&in->ds, i, acq);
    if (rc != ISMRMRD_NOERROR)
        rc = gt_err_set(GT_EIO, "cannot read acquisition %u of '%s': %s", i, in->file,
                        h5_last_error());
    h5_unlock();
    return rc;
}

int h5in_read_wave(h5in *in, uint32_t i, ISMRMRD_Waveform *w)
{
    h5_lock();
    int rc = ismrmrd_read_waveform(&in->ds, i, w);
    if (rc != ISMRMRD_NOERROR)
        rc =
            gt_err_set(GT_EIO, "cannot read waveform %u of '%s': %s", i, in->file, h5_last_error());
    h5_unlock();
    return rc;
}

typedef struct stamp_idx {
    uint32_t stamp, idx;
} stamp_idx;

static int cmp_stamp(const void *a, const void *b)
{
    const stamp_idx *x = a, *y = b;
    if (x->stamp != y->stamp)
        return x->stamp < y->stamp ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

int h5in_wave_order(h5in *in, const uint32_t **order, const uint32_t **stamps)
{
    int rc = 0;
    stamp_idx *v = NULL;
    ISMRMRD_Waveform w;
    ismrmrd_init_waveform(&w);
    if (!in->wave_order && in->n_wave > 0) {
        v = calloc(in->n_wave, sizeof *v);
        in->wave_order = calloc(in->n_wave, sizeof *in->wave_order);
        in->wave_stamps = calloc(in->n_wave, sizeof *in->wave_stamps);
        if (!v || !in->wave_order || !in->wave_stamps) {
            rc = gt_err_set(GT_ENOMEM, "out of memory");
            goto fail;
        }
        for (uint32_t i = 0; i < in->n_wave; i++) {
            rc = h5in_read_wave(in, i, &w);
            if (rc)
                goto fail;
            v[i].stamp = w.head.time_stamp;
            v[i].idx = i;
        }
        qsort(v, in->n_wave, sizeof *v, cmp_stamp);
        for (uint32_t i = 0; i < in->n_wave; i++) {
            in->wave_order[i] = v[i].idx;
            in->wave_stamps[i] = v[i].stamp;
        }
    }
    *order = in->wave_order;
    *stamps = in->wave_stamps;
    free(v);
    free(w.data);
    return 0;
fail:
    free(v);
    free(w.data);
    free(in->wave_order);
    free(in->wave_stamps);
    in->wave_order = in->wave_stamps = NULL;
    return rc;
}
