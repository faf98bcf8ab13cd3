/* h5in.c — the input ISMRMRD dataset, streamed so memory stays bounded
 * whatever the file size.
 *
 * Acquisitions are read in blocks (one H5Dread of up to BLOCK_MAX records
 * through a hyperslab, about BLOCK_BYTES of samples) with a memory type
 * built once and the same member names as libismrmrd's (HDF5 converts
 * compound members by name), instead of ismrmrd_read_acquisition's one
 * H5Dread, type build and type comparison per readout. The vlen buffers
 * come from our malloc-based allocator, so h5in_read_acq hands them to the
 * caller's ISMRMRD_Acquisition without a copy. Unlike libismrmrd 1.8 we
 * check every vlen length against the header before using it.
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

#include <stddef.h>

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
    /* the acquisition block (h5_lock held to touch any of this) */
    hid_t dset, memtype, xfer;
    struct acq_rec *recs;
    unsigned char *taken;               /* recs[k] already handed out */
    uint32_t blk_first, blk_n, blk_cap; /* recs[0..blk_n) = acquisitions blk_first.. */
};

/* ---- the acquisition block reader ------------------------------------------- */
enum { BLOCK_MAX = 256, BLOCK_FIRST = 16 };
#define BLOCK_BYTES ((size_t)8 << 20)

/* One record in memory; member names as libismrmrd's HDF5_Acquisition. */
typedef struct acq_rec {
    ISMRMRD_AcquisitionHeader head;
    hvl_t traj; /* float[trajectory_dimensions * number_of_samples] */
    hvl_t data; /* float[2 * number_of_samples * active_channels] */
} acq_rec;

/* The vlen allocator: plain malloc/free, so buffers can be handed over to
 * an ISMRMRD_Acquisition (freed by ismrmrd_cleanup_acquisition). */
static void *vlen_alloc(size_t n, void *info)
{
    (void)info;
    return malloc(n ? n : 1);
}

static void vlen_free(void *p, void *info)
{
    (void)info;
    free(p);
}

static hid_t array_of(hid_t base, hsize_t n) { return H5Tarray_create2(base, 1, &n); }

/* Inserts a member; closes mt when owned. Returns 1 on failure. */
static int ins(hid_t t, const char *name, size_t off, hid_t mt, int owned)
{
    int ok = mt >= 0 && H5Tinsert(t, name, off, mt) >= 0;
    if (owned && mt >= 0)
        H5Tclose(mt);
    return !ok;
}

#define HO(f) offsetof(ISMRMRD_AcquisitionHeader, f)
#define EO(f) offsetof(ISMRMRD_EncodingCounters, f)

static hid_t acq_memtype(void)
{
    static const char *const counters[] = {"kspace_encode_step_1",
                                           "kspace_encode_step_2",
                                           "average",
                                           "slice",
                                           "contrast",
                                           "phase",
                                           "repetition",
                                           "set",
                                           "segment"};
    static const struct {
        const char *name;
        size_t off;
        hid_t *base;
        hsize_t n; /* 0: scalar */
    } hm[] = {
        {"version", HO(version), &H5T_NATIVE_UINT16_g, 0},
        {"flags", HO(flags), &H5T_NATIVE_UINT64_g, 0},
        {"measurement_uid", HO(measurement_uid), &H5T_NATIVE_UINT32_g, 0},
        {"scan_counter", HO(scan_counter), &H5T_NATIVE_UINT32_g, 0},
        {"acquisition_time_stamp", HO(acquisition_time_stamp), &H5T_NATIVE_UINT32_g, 0},
        {"physiology_time_stamp", HO(physiology_time_stamp), &H5T_NATIVE_UINT32_g,
         ISMRMRD_PHYS_STAMPS},
        {"number_of_samples", HO(number_of_samples), &H5T_NATIVE_UINT16_g, 0},
        {"available_channels", HO(available_channels), &H5T_NATIVE_UINT16_g, 0},
        {"active_channels", HO(active_channels), &H5T_NATIVE_UINT16_g, 0},
        {"channel_mask", HO(channel_mask), &H5T_NATIVE_UINT64_g, ISMRMRD_CHANNEL_MASKS},
        {"discard_pre", HO(discard_pre), &H5T_NATIVE_UINT16_g, 0},
        {"discard_post", HO(discard_post), &H5T_NATIVE_UINT16_g, 0},
        {"center_sample", HO(center_sample), &H5T_NATIVE_UINT16_g, 0},
        {"encoding_space_ref", HO(encoding_space_ref), &H5T_NATIVE_UINT16_g, 0},
        {"trajectory_dimensions", HO(trajectory_dimensions), &H5T_NATIVE_UINT16_g, 0},
        {"sample_time_us", HO(sample_time_us), &H5T_NATIVE_FLOAT_g, 0},
        {"position", HO(position), &H5T_NATIVE_FLOAT_g, 3},
        {"read_dir", HO(read_dir), &H5T_NATIVE_FLOAT_g, 3},
        {"phase_dir", HO(phase_dir), &H5T_NATIVE_FLOAT_g, 3},
        {"slice_dir", HO(slice_dir), &H5T_NATIVE_FLOAT_g, 3},
        {"patient_table_position", HO(patient_table_position), &H5T_NATIVE_FLOAT_g, 3},
        {"user_int", HO(user_int), &H5T_NATIVE_INT32_g, ISMRMRD_USER_INTS},
        {"user_float", HO(user_float), &H5T_NATIVE_FLOAT_g, ISMRMRD_USER_FLOATS},
    };
    int bad = 0;
    hid_t idx = H5Tcreate(H5T_COMPOUND, sizeof(ISMRMRD_EncodingCounters));
    hid_t hd = H5Tcreate(H5T_COMPOUND, sizeof(ISMRMRD_AcquisitionHeader));
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(acq_rec));
    bad = idx < 0 || hd < 0 || t < 0;
    for (size_t i = 0; i < 9 && !bad; i++)
        bad |= ins(idx, counters[i], EO(kspace_encode_step_1) + 2 * i, H5T_NATIVE_UINT16, 0);
    if (!bad)
        bad |= ins(idx, "user", EO(user), array_of(H5T_NATIVE_UINT16, ISMRMRD_USER_INTS), 1);
    for (size_t i = 0; i < sizeof hm / sizeof hm[0] && !bad; i++)
        bad |= hm[i].n ? ins(hd, hm[i].name, hm[i].off, array_of(*hm[i].base, hm[i].n), 1)
                       : ins(hd, hm[i].name, hm[i].off, *hm[i].base, 0);
    if (!bad)
        bad |= ins(hd, "idx", HO(idx), idx, 0) | ins(t, "head", offsetof(acq_rec, head), hd, 0) |
               ins(t, "traj", offsetof(acq_rec, traj), H5Tvlen_create(H5T_NATIVE_FLOAT), 1) |
               ins(t, "data", offsetof(acq_rec, data), H5Tvlen_create(H5T_NATIVE_FLOAT), 1);
    if (idx >= 0)
        H5Tclose(idx);
    if (hd >= 0)
        H5Tclose(hd);
    if (bad && t >= 0) {
        H5Tclose(t);
        t = -1;
    }
    return t;
}

/* Innermost HDF5 error description (for messages); lock held. */
static herr_t h5_walk(unsigned n, const H5E_error2_t *e, void *ctx)
{
    if (n == 0 && e->desc)
        snprintf(ctx, 256, "%s", e->desc);
    return 0;
}

static const char *h5_detail(char buf[256])
{
    snprintf(buf, 256, "HDF5 error");
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, h5_walk, buf);
    return buf;
}

/* Frees the vlen buffers still held by the block; lock held. */
static void block_release(h5in *in)
{
    for (uint32_t k = 0; k < in->blk_n; k++) {
        free(in->recs[k].traj.p);
        free(in->recs[k].data.p);
    }
    in->blk_first = in->blk_n = 0;
}

/* Opens the dataset and builds the types, once; lock held. */
static int block_setup(h5in *in)
{
    char path[1100], d[256];
    if (in->dset >= 0)
        return 0;
    snprintf(path, sizeof path, "%s/data", in->group);
    in->memtype = acq_memtype();
    in->xfer = H5Pcreate(H5P_DATASET_XFER);
    if (in->memtype < 0 || in->xfer < 0 ||
        H5Pset_vlen_mem_manager(in->xfer, vlen_alloc, NULL, vlen_free, NULL) < 0)
        return gt_err_set(GT_EIO, "cannot build the acquisition type: %s", h5_detail(d));
    in->recs = calloc(BLOCK_MAX, sizeof *in->recs);
    in->taken = calloc(BLOCK_MAX, 1);
    if (!in->recs || !in->taken)
        return gt_err_set(GT_ENOMEM, "out of memory");
    in->blk_cap = BLOCK_FIRST;
    in->dset = H5Dopen2(in->ds.fileid, path, H5P_DEFAULT);
    if (in->dset < 0)
        return gt_err_set(GT_EDATA, "cannot open '%s' of '%s': %s", path, in->file, h5_detail(d));
    return 0;
}

/* Reads acquisitions first.. (up to blk_cap, not past n_acq) into recs;
 * lock held. */
static int block_read(h5in *in, uint32_t first)
{
    int rc = 0;
    char d[256];
    hid_t fs = -1, ms = -1;
    block_release(in);
    if ((rc = block_setup(in)) < 0)
        return rc;
    hsize_t start = first, cnt = in->n_acq - first, dims[1];
    if (cnt > in->blk_cap)
        cnt = in->blk_cap;
    memset(in->recs, 0, cnt * sizeof *in->recs);
    memset(in->taken, 0, cnt);
    fs = H5Dget_space(in->dset);
    if (fs < 0 || H5Sget_simple_extent_ndims(fs) != 1 ||
        H5Sget_simple_extent_dims(fs, dims, NULL) != 1 || dims[0] < start + cnt) {
        rc = gt_err_set(GT_EDATA, "'%s/data' of '%s' is not a 1-D dataset of %u acquisitions",
                        in->group, in->file, in->n_acq);
        goto out;
    }
    if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &cnt, NULL) < 0 ||
        (ms = H5Screate_simple(1, &cnt, NULL)) < 0 ||
        H5Dread(in->dset, in->memtype, ms, fs, in->xfer, in->recs) < 0) {
        rc = gt_err_set(GT_EIO, "cannot read acquisitions %u..%u of '%s': %s", first,
                        first + (uint32_t)cnt - 1, in->file, h5_detail(d));
        /* a failed conversion may leave some buffers allocated */
        H5Dvlen_reclaim(in->memtype, ms, in->xfer, in->recs);
        memset(in->recs, 0, cnt * sizeof *in->recs);
        goto out;
    }
    in->blk_first = first;
    in->blk_n = (uint32_t)cnt;
    /* next block: about BLOCK_BYTES of samples */
    size_t bytes = 0;
    for (uint32_t k = 0; k < in->blk_n; k++)
        bytes += (in->recs[k].data.len + in->recs[k].traj.len) * sizeof(float) + sizeof(acq_rec);
    size_t per = bytes / cnt + 1, want = BLOCK_BYTES / per;
    in->blk_cap = want < 1 ? 1 : want > BLOCK_MAX ? BLOCK_MAX : (uint32_t)want;
out:
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    return rc;
}

/* Moves record k of the block into acq after checking its lengths. */
static int block_take(h5in *in, uint32_t k, ISMRMRD_Acquisition *acq)
{
    acq_rec *r = &in->recs[k];
    const ISMRMRD_AcquisitionHeader *h = &r->head;
    uint32_t i = in->blk_first + k;
    size_t nd = 2 * (size_t)h->number_of_samples * h->active_channels;
    size_t nt = (size_t)h->trajectory_dimensions * h->number_of_samples;
    if (r->data.len != nd)
        return gt_err_set(GT_EDATA,
                          "acquisition %u of '%s': %zu data values, but its header says "
                          "%u samples x %u channels (%zu values)",
                          i, in->file, r->data.len, h->number_of_samples, h->active_channels, nd);
    if (r->traj.len != nt)
        return gt_err_set(GT_EDATA,
                          "acquisition %u of '%s': %zu trajectory values, but its header says "
                          "%u dimensions x %u samples (%zu values)",
                          i, in->file, r->traj.len, h->trajectory_dimensions, h->number_of_samples,
                          nt);
    acq->head = *h;
    free(acq->traj);
    free(acq->data);
    acq->traj = nt ? r->traj.p : NULL;
    acq->data = nd ? r->data.p : NULL;
    if (!nt)
        free(r->traj.p);
    if (!nd)
        free(r->data.p);
    r->traj.p = r->data.p = NULL;
    r->traj.len = r->data.len = 0;
    in->taken[k] = 1;
    return 0;
}

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
    in->dset = in->memtype = in->xfer = -1;

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
    h5_lock();
    if (in->recs)
        block_release(in);
    if (in->dset >= 0)
        H5Dclose(in->dset);
    if (in->memtype >= 0)
        H5Tclose(in->memtype);
    if (in->xfer >= 0)
        H5Pclose(in->xfer);
    if (in->ds.fileid > 0)
        H5Fclose(in->ds.fileid);
    h5_unlock();
    free(in->recs);
    free(in->taken);
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
    int rc = 0;
    if (i >= in->n_acq)
        return gt_err_set(GT_EINVAL, "acquisition %u of '%s' does not exist (%u in the file)", i,
                          in->file, in->n_acq);
    h5_lock();
    if (i < in->blk_first || i - in->blk_first >= in->blk_n || in->taken[i - in->blk_first])
        rc = block_read(in, i);
    if (rc == 0)
        rc = block_take(in, i - in->blk_first, acq);
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
