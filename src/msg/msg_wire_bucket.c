/* msg_wire_bucket.c — 1050 BUCKET (Gadgetron AcquisitionBucket) on the wire:
 * a 13 x uint64 size table, then per bundle (data, ref) all headers, all
 * trajectories, all samples and the stats vector, then all waveform headers
 * and all waveform samples (layout in gt/msg_wire.h).
 *
 * Stats are what Gadgetron's AcquisitionBucket::add_acquisition collects:
 * per encoding space, the sorted distinct values of nine counters. We
 * recompute them when sending and check-and-drop them when receiving. */
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/msg_wire.h"
#include "msg_wire_priv.h"

enum {
    M_DCOUNT,
    M_DHEAD,
    M_DDATA,
    M_DTRAJ,
    M_RCOUNT,
    M_RHEAD,
    M_RDATA,
    M_RTRAJ,
    M_DSTATS,
    M_RSTATS,
    M_WCOUNT,
    M_WHEAD,
    M_WDATA,
    M_N
};

/* ---- sending ---- */

static uint16_t stat_field(const ISMRMRD_EncodingCounters *x, int f)
{
    switch (f) {
    case 0:
        return x->kspace_encode_step_1;
    case 1:
        return x->kspace_encode_step_2;
    case 2:
        return x->slice;
    case 3:
        return x->phase;
    case 4:
        return x->contrast;
    case 5:
        return x->repetition;
    case 6:
        return x->set;
    case 7:
        return x->segment;
    default:
        return x->average;
    }
}

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static int cmp_space(const void *a, const void *b)
{
    const gt_acq *x = *(const gt_acq *const *)a, *y = *(const gt_acq *const *)b;
    return (int)x->head.encoding_space_ref - (int)y->head.encoding_space_ref;
}

/* Appends the nine sorted, distinct value sets of one encoding space's
 * acquisitions a[0..n); v has room for n values. */
static int put_space_stats(gt_buf *s, const gt_acq *const *a, size_t n, uint16_t *v)
{
    int rc;
    for (int f = 0; f < MW_STATS_SETS; f++) {
        size_t u = 0;
        for (size_t i = 0; i < n; i++)
            v[i] = stat_field(&a[i]->head.idx, f);
        qsort(v, n, sizeof(*v), cmp_u16);
        for (size_t i = 0; i < n; i++)
            if (u == 0 || v[u - 1] != v[i])
                v[u++] = v[i];
        if ((rc = gt_buf_append_u64(s, u)) != 0 || (rc = gt_buf_append(s, v, u * sizeof(*v))) != 0)
            return rc;
    }
    return 0;
}

/* The stats vector of one acquisition list, appended to s: one entry per
 * encoding space up to the largest encoding_space_ref (empty sets for
 * spaces without acquisitions). Sorting by space first keeps this
 * O(n log n + spaces). */
static int put_stats(gt_buf *s, const gt_acq_list *l)
{
    size_t n = l->n, nspace = 0, i = 0;
    int rc = GT_ENOMEM;
    const gt_acq **ord = malloc((n ? n : 1) * sizeof(*ord));
    uint16_t *v = malloc((n ? n : 1) * sizeof(*v));
    if (!ord || !v)
        goto out;
    if (n)
        memcpy(ord, l->items, n * sizeof(*ord));
    qsort(ord, n, sizeof(*ord), cmp_space);
    if (n)
        nspace = (size_t)ord[n - 1]->head.encoding_space_ref + 1;
    if ((rc = gt_buf_append_u64(s, nspace)) != 0)
        goto out;
    for (size_t sp = 0; sp < nspace; sp++) {
        size_t j = i;
        while (j < n && ord[j]->head.encoding_space_ref == sp)
            j++;
        if ((rc = put_space_stats(s, ord + i, j - i, v)) != 0)
            goto out;
        i = j;
    }
out:
    free(ord);
    free(v);
    return rc;
}

static int list_sizes(const gt_acq_list *l, uint64_t *meta, const char *what)
{
    meta[0] = l->n;
    meta[1] = (uint64_t)l->n * MW_ACQ_HEAD;
    meta[2] = meta[3] = 0;
    for (size_t i = 0; i < l->n; i++) {
        const gt_acq *a = l->items[i];
        if (!a)
            return gt_err_set(GT_EINVAL, "BUCKET: %s acquisition %zu is NULL", what, i);
        size_t t = gt_acq_traj_count(&a->head) * sizeof(float);
        size_t d = gt_acq_data_count(&a->head) * sizeof(gt_cf);
        if ((t && !a->traj) || (d && !a->data))
            return gt_err_set(GT_EINVAL, "BUCKET: %s acquisition %zu lacks its buffers", what, i);
        meta[2] += d;
        meta[3] += t;
    }
    return 0;
}

static int put_list(gt_buf *b, const gt_acq_list *l, const gt_buf *stats)
{
    int rc;
    for (size_t i = 0; i < l->n; i++)
        if ((rc = gt_buf_append(b, &l->items[i]->head, MW_ACQ_HEAD)) != 0)
            return rc;
    for (size_t i = 0; i < l->n; i++)
        if ((rc = gt_buf_append(b, l->items[i]->traj,
                                gt_acq_traj_count(&l->items[i]->head) * sizeof(float))) != 0)
            return rc;
    for (size_t i = 0; i < l->n; i++)
        if ((rc = gt_buf_append(b, l->items[i]->data,
                                gt_acq_data_count(&l->items[i]->head) * sizeof(gt_cf))) != 0)
            return rc;
    return gt_buf_append(b, stats->data, stats->len);
}

int gt_mw_put_bucket(gt_buf *b, const gt_bucket *bk)
{
    gt_buf ds, rs;
    uint64_t m[M_N] = {0};
    int rc;
    gt_buf_init(&ds);
    gt_buf_init(&rs);
    if ((bk->data.n && !bk->data.items) || (bk->ref.n && !bk->ref.items) ||
        (bk->nwaves && !bk->waves)) {
        rc = gt_err_set(GT_EINVAL, "BUCKET: list without items");
        goto out;
    }
    if ((rc = list_sizes(&bk->data, m + M_DCOUNT, "data")) != 0 ||
        (rc = list_sizes(&bk->ref, m + M_RCOUNT, "ref")) != 0)
        goto out;
    if ((rc = put_stats(&ds, &bk->data)) != 0 || (rc = put_stats(&rs, &bk->ref)) != 0)
        goto out;
    m[M_DSTATS] = ds.len;
    m[M_RSTATS] = rs.len;
    m[M_WCOUNT] = bk->nwaves;
    m[M_WHEAD] = (uint64_t)bk->nwaves * MW_WAVE_HEAD;
    for (size_t i = 0; i < bk->nwaves; i++) {
        if (!bk->waves[i]) {
            rc = gt_err_set(GT_EINVAL, "BUCKET: waveform %zu is NULL", i);
            goto out;
        }
        m[M_WDATA] +=
            (uint64_t)bk->waves[i]->head.number_of_samples * bk->waves[i]->head.channels * 4;
    }
    uint64_t total = 2 + MW_BUCKET_META;
    for (int i = 0; i < M_N; i++)
        if (i != M_DCOUNT && i != M_RCOUNT && i != M_WCOUNT)
            total += m[i];
    if ((rc = gt_buf_reserve(b, (size_t)total)) != 0 ||
        (rc = gt_buf_append_u16(b, GT_ID_BUCKET)) != 0)
        goto out;
    for (int i = 0; i < M_N; i++)
        if ((rc = gt_buf_append_u64(b, m[i])) != 0)
            goto out;
    if ((rc = put_list(b, &bk->data, &ds)) != 0 || (rc = put_list(b, &bk->ref, &rs)) != 0)
        goto out;
    for (size_t i = 0; i < bk->nwaves; i++)
        if ((rc = gt_mw_put_wave(b, bk->waves[i], 0)) != 0)
            goto out;
    for (size_t i = 0; i < bk->nwaves; i++) {
        const gt_wave *w = bk->waves[i];
        size_t n = (size_t)w->head.number_of_samples * w->head.channels * 4;
        if (n && !w->data) {
            rc = gt_err_set(GT_EINVAL, "BUCKET: waveform %zu has no samples buffer", i);
            goto out;
        }
        if ((rc = gt_buf_append(b, w->data, n)) != 0)
            goto out;
    }
out:
    gt_buf_fini(&ds);
    gt_buf_fini(&rs);
    return rc;
}

/* ---- receiving ---- */

/* Walks a stats vector of exactly n bytes. */
static int check_stats(const uint8_t *p, size_t n, const gt_wire_limits *l, const char *what)
{
    mw_cur s;
    uint64_t count, k;
    int rc;
    gt_mw_cur_init(&s, p, n, GT_ID_BUCKET, l);
    if ((rc = gt_mw_u64(&s, &count, what)) != 0 ||
        (rc = gt_mw_count(&s, count, 8 * MW_STATS_SETS, what)) != 0)
        goto fail;
    for (uint64_t i = 0; i < count; i++)
        for (int f = 0; f < MW_STATS_SETS; f++)
            if ((rc = gt_mw_u64(&s, &k, what)) != 0 || (rc = gt_mw_count(&s, k, 2, what)) != 0 ||
                (rc = gt_mw_skip(&s, 2 * k, what, NULL)) != 0)
                goto fail;
    if (s.off == n)
        return 0;
    rc = MW_MORE;
fail:
    if (rc == MW_MORE)
        return gt_err_set(GT_EPROTO, "BUCKET: %s do not fill their announced %zu bytes", what, n);
    return rc;
}

/* One bundle: headers, trajectories, samples, stats, with sizes m[0..3]
 * and stats_bytes. */
static int get_list(mw_cur *c, const uint64_t *m, uint64_t stats_bytes, gt_acq_list *out,
                    const char *what)
{
    const uint8_t *heads, *traj, *data, *stats;
    uint64_t tsum = 0, dsum = 0, t, d;
    int rc;
    if ((rc = gt_mw_skip(c, m[1], what, &heads)) != 0)
        return gt_mw_truncated(c, rc);
    for (uint64_t i = 0; i < m[0]; i++) {
        if ((rc = gt_mw_acq_sizes(heads + i * MW_ACQ_HEAD, c->l, &t, &d)) != 0)
            return rc;
        tsum += t; /* each <= max_acq_bytes, count <= body/340: no overflow */
        dsum += d;
    }
    if (tsum != m[3] || dsum != m[2])
        return gt_err_set(GT_EPROTO,
                          "BUCKET: %s headers imply %llu trajectory and %llu sample bytes, "
                          "sizes say %llu and %llu",
                          what, (unsigned long long)tsum, (unsigned long long)dsum,
                          (unsigned long long)m[3], (unsigned long long)m[2]);
    if ((rc = gt_mw_skip(c, m[3], what, &traj)) != 0 ||
        (rc = gt_mw_skip(c, m[2], what, &data)) != 0 ||
        (rc = gt_mw_skip(c, stats_bytes, what, &stats)) != 0)
        return gt_mw_truncated(c, rc);
    if ((rc = check_stats(stats, (size_t)stats_bytes, c->l, what)) != 0)
        return rc;
    for (uint64_t i = 0; i < m[0]; i++) {
        ISMRMRD_AcquisitionHeader h;
        gt_acq *a;
        memcpy(&h, heads + i * MW_ACQ_HEAD, sizeof(h));
        if ((rc = gt_acq_create(&h, &a)) != 0)
            return gt_err_set(rc, "BUCKET: out of memory for an acquisition");
        size_t tb = gt_acq_traj_count(&h) * sizeof(float);
        size_t db = gt_acq_data_count(&h) * sizeof(gt_cf);
        if (tb)
            memcpy(a->traj, traj, tb);
        if (db)
            memcpy(a->data, data, db);
        traj += tb;
        data += db;
        if ((rc = gt_acq_list_push(out, a)) != 0)
            return gt_err_set(rc, "BUCKET: out of memory for the acquisition list");
    }
    return 0;
}

static int get_waves(mw_cur *c, const uint64_t *m, gt_bucket *bk)
{
    const uint8_t *heads, *data;
    uint64_t sum = 0, n;
    int rc;
    if ((rc = gt_mw_skip(c, m[M_WHEAD], "waveform headers", &heads)) != 0)
        return gt_mw_truncated(c, rc);
    for (uint64_t i = 0; i < m[M_WCOUNT]; i++) {
        if ((rc = gt_mw_wave_size(heads + i * MW_WAVE_HEAD, c->l, &n)) != 0)
            return rc;
        sum += n;
    }
    if (sum != m[M_WDATA])
        return gt_err_set(GT_EPROTO, "BUCKET: waveform headers imply %llu bytes, sizes say %llu",
                          (unsigned long long)sum, (unsigned long long)m[M_WDATA]);
    if ((rc = gt_mw_skip(c, m[M_WDATA], "waveform data", &data)) != 0)
        return gt_mw_truncated(c, rc);
    for (uint64_t i = 0; i < m[M_WCOUNT]; i++) {
        ISMRMRD_WaveformHeader h;
        gt_wave *w;
        memcpy(&h, heads + i * MW_WAVE_HEAD, sizeof(h));
        size_t bytes = (size_t)h.number_of_samples * h.channels * sizeof(uint32_t);
        if ((rc = gt_wave_create(&h, &w)) != 0)
            return gt_err_set(rc, "BUCKET: out of memory for a waveform");
        if (bytes)
            memcpy(w->data, data, bytes);
        data += bytes;
        if ((rc = gt_bucket_push_wave(bk, w)) != 0)
            return gt_err_set(rc, "BUCKET: out of memory for the waveform list");
    }
    return 0;
}

int gt_mw_get_bucket(mw_cur *c, gt_msg **out)
{
    const uint8_t *raw;
    uint64_t m[M_N];
    gt_bucket *bk = NULL;
    int rc;
    if ((rc = gt_mw_skip(c, MW_BUCKET_META, "bucket sizes", &raw)) != 0)
        return gt_mw_truncated(c, rc);
    for (int i = 0; i < M_N; i++)
        m[i] = gt_rd_u64(raw + 8 * i);
    if ((rc = gt_bucket_create(&bk)) != 0)
        return gt_err_set(rc, "BUCKET: out of memory");
    if ((rc = get_list(c, m + M_DCOUNT, m[M_DSTATS], &bk->data, "data")) != 0 ||
        (rc = get_list(c, m + M_RCOUNT, m[M_RSTATS], &bk->ref, "reference")) != 0 ||
        (rc = get_waves(c, m, bk)) != 0) {
        gt_bucket_destroy(bk);
        return rc;
    }
    return gt_msg_bucket(bk, out);
}
