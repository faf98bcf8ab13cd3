/* blas_cpu.c — CPU BLAS-3 ops of the backend table (OpenBLAS cblas):
 * batched complex gemm and herk (covariance). Contracts in gt/backend.h.
 *
 * Threading: OpenBLAS runs single-threaded (blas_single_threaded) and large
 * calls are split here over the process's worker pool (pool_cpu.c): gemm by
 * column or row blocks of C, herk by column blocks of the upper triangle
 * (a diagonal herk block plus a gemm block above it), batches by problem.
 * Every element of C is still a sum over the full k, so a split changes at
 * most the rounding of the kernel's blocking. OpenBLAS' own
 * threads spin (sched_yield) after every threaded call; with one pipeline
 * thread per gadget calling BLAS at once they starved the other stages on
 * a 2-core machine. */
#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "gt/pool.h"
#include "gt/err.h"
#include "num_cpu.h"

/* pool_cpu.c (to move to a header, see there). */

/* OpenBLAS single-threaded (see the threading note above), unless the user
 * asked for a thread count with OPENBLAS_NUM_THREADS. A constructor of the
 * program runs after libopenblas' own, so the call takes effect before the
 * first BLAS call. (The kernel choice cannot be changed this late:
 * OPENBLAS_CORETYPE is read when libopenblas loads; see bench/README.md for
 * its effect on AVX-512 AMD CPUs.) */
__attribute__((constructor)) static void blas_single_threaded(void)
{
    if (!getenv("OPENBLAS_NUM_THREADS"))
        openblas_set_num_threads(1);
}

/* Below this many flops a call runs on the calling thread alone. */
#define SPLIT_FLOPS 2.0e7

static size_t max1(size_t v) { return v ? v : 1; }

static int fits_int(size_t v) { return v <= INT_MAX; }

static CBLAS_TRANSPOSE cblas_op(gt_op op)
{
    return op == GT_OP_N ? CblasNoTrans : op == GT_OP_T ? CblasTrans : CblasConjTrans;
}

typedef struct gemm_job {
    gt_op ta, tb;
    size_t m, n, k;
    gt_cf alpha;
    const gt_cf *a;
    size_t lda, sa;
    const gt_cf *b;
    size_t ldb, sb;
    gt_cf beta;
    gt_cf *c;
    size_t ldc, sc, batch;
    size_t parts;
    int by_cols;
} gemm_job;

/* C(i0:i1, j0:j1) of problem `bi`. */
static void gemm_part(const gemm_job *j, size_t bi, size_t i0, size_t i1, size_t j0, size_t j1)
{
    if (i1 <= i0 || j1 <= j0)
        return;
    const gt_cf *a = j->a + bi * j->sa + (j->ta == GT_OP_N ? i0 : i0 * j->lda);
    const gt_cf *b = j->b + bi * j->sb + (j->tb == GT_OP_N ? j0 * j->ldb : j0);
    gt_cf *c = j->c + bi * j->sc + i0 + j0 * j->ldc;
    cblas_cgemm(CblasColMajor, cblas_op(j->ta), cblas_op(j->tb), (int)(i1 - i0), (int)(j1 - j0),
                (int)j->k, &j->alpha, a, (int)j->lda, b, (int)j->ldb, &j->beta, c, (int)j->ldc);
}

static void gemm_batch_item(void *ctx, size_t i)
{
    const gemm_job *j = ctx;
    gemm_part(j, i, 0, j->m, 0, j->n);
}

static void gemm_block_item(void *ctx, size_t it)
{
    const gemm_job *j = ctx;
    size_t bi = it / j->parts, p = it % j->parts, len = j->by_cols ? j->n : j->m;
    size_t lo = len * p / j->parts, hi = len * (p + 1) / j->parts;
    if (j->by_cols)
        gemm_part(j, bi, 0, j->m, lo, hi);
    else
        gemm_part(j, bi, lo, hi, 0, j->n);
}

typedef struct herk_job {
    gt_op trans;
    size_t n, k;
    float alpha, beta;
    const gt_cf *a;
    size_t lda, sa;
    gt_cf *c;
    size_t ldc, sc;
    size_t parts;
} herk_job;

/* Upper triangle of columns [j0, j1) of problem bi: the diagonal block by
 * herk, rows [0, j0) by gemm. */
static void herk_cols(const herk_job *j, size_t bi, size_t j0, size_t j1)
{
    if (j1 <= j0)
        return;
    const gt_cf *a = j->a + bi * j->sa;
    gt_cf *c = j->c + bi * j->sc;
    int cn = j->trans == GT_OP_C;
    /* column block of op(A) = A^H A (cn) or A A^H: columns j of A (cn) or
     * rows j of A */
    const gt_cf *aj = cn ? a + j0 * j->lda : a + j0;
    cblas_cherk(CblasColMajor, CblasUpper, cblas_op(j->trans), (int)(j1 - j0), (int)j->k, j->alpha,
                aj, (int)j->lda, j->beta, c + j0 + j0 * j->ldc, (int)j->ldc);
    if (j0 == 0)
        return;
    gt_cf al = j->alpha, be = j->beta;
    if (cn)
        cblas_cgemm(CblasColMajor, CblasConjTrans, CblasNoTrans, (int)j0, (int)(j1 - j0), (int)j->k,
                    &al, a, (int)j->lda, aj, (int)j->lda, &be, c + j0 * j->ldc, (int)j->ldc);
    else
        cblas_cgemm(CblasColMajor, CblasNoTrans, CblasConjTrans, (int)j0, (int)(j1 - j0), (int)j->k,
                    &al, a, (int)j->lda, aj, (int)j->lda, &be, c + j0 * j->ldc, (int)j->ldc);
}

/* Column boundaries with equal upper-triangle area: n * sqrt(p / parts). */
static size_t herk_bound(size_t n, size_t p, size_t parts)
{
    return p >= parts ? n : (size_t)((double)n * sqrt((double)p / (double)parts) + 0.5);
}

static void herk_item(void *ctx, size_t it)
{
    const herk_job *j = ctx;
    size_t bi = it / j->parts, p = it % j->parts;
    herk_cols(j, bi, herk_bound(j->n, p, j->parts), herk_bound(j->n, p + 1, j->parts));
}

int gt_cpu_gemm(int device, gt_op ta, gt_op tb, size_t m, size_t n, size_t k, gt_cf alpha,
                const gt_cf *a, size_t lda, size_t stride_a, const gt_cf *b, size_t ldb,
                size_t stride_b, gt_cf beta, gt_cf *c, size_t ldc, size_t stride_c, size_t batch)
{
    (void)device;
    if ((unsigned)ta > GT_OP_C || (unsigned)tb > GT_OP_C)
        return gt_err_set(GT_EINVAL, "gemm: bad operand op");
    size_t rows_a = ta == GT_OP_N ? m : k, rows_b = tb == GT_OP_N ? k : n;
    if (!fits_int(m) || !fits_int(n) || !fits_int(k) || !fits_int(lda) || !fits_int(ldb) ||
        !fits_int(ldc))
        return gt_err_set(GT_EINVAL, "gemm: size exceeds BLAS int");
    if (lda < max1(rows_a) || ldb < max1(rows_b) || ldc < max1(m))
        return gt_err_set(GT_EINVAL, "gemm: leading dimension too small (%zu %zu %zu)", lda, ldb,
                          ldc);
    if (batch && m && n && (!c || (k && (!a || !b))))
        return gt_err_set(GT_EINVAL, "gemm: NULL operand");
    if (m == 0 || n == 0)
        return 0;
    gemm_job j = {ta,  tb,       m,    n, k,   alpha,    a,     lda, stride_a, b,
                  ldb, stride_b, beta, c, ldc, stride_c, batch, 0,   0};
    int T = gt_pool_threads();
    if (T == 1 || 8.0 * (double)m * (double)n * (double)k * (double)batch < SPLIT_FLOPS) {
        for (size_t i = 0; i < batch; i++)
            gemm_part(&j, i, 0, m, 0, n);
    } else if (batch >= (size_t)T) {
        gt_pool_for(batch, gemm_batch_item, &j);
    } else {
        /* Blocks of C for every problem: columns when n allows, else rows. */
        j.parts = (size_t)T;
        j.by_cols = n >= m || n >= 64;
        size_t len = j.by_cols ? n : m;
        if (j.parts > len)
            j.parts = len;
        gt_pool_for(batch * j.parts, gemm_block_item, &j);
    }
    return 0;
}

int gt_cpu_herk(int device, gt_op trans, size_t n, size_t k, float alpha, const gt_cf *a,
                size_t lda, size_t stride_a, float beta, gt_cf *c, size_t ldc, size_t stride_c,
                size_t batch)
{
    (void)device;
    if (trans != GT_OP_N && trans != GT_OP_C)
        return gt_err_set(GT_EINVAL, "herk: trans must be N or C");
    size_t rows_a = trans == GT_OP_N ? n : k;
    if (!fits_int(n) || !fits_int(k) || !fits_int(lda) || !fits_int(ldc))
        return gt_err_set(GT_EINVAL, "herk: size exceeds BLAS int");
    if (lda < max1(rows_a) || ldc < max1(n))
        return gt_err_set(GT_EINVAL, "herk: leading dimension too small (%zu %zu)", lda, ldc);
    if (batch && n && (!c || (k && !a)))
        return gt_err_set(GT_EINVAL, "herk: NULL operand");
    if (n == 0)
        return 0;
    herk_job j = {trans, n, k, alpha, beta, a, lda, stride_a, c, ldc, stride_c, 1};
    int T = gt_pool_threads();
    if (T > 1 && 4.0 * (double)n * (double)n * (double)k * (double)batch >= SPLIT_FLOPS) {
        /* Problems over the pool when there are enough, else column blocks. */
        j.parts = batch >= (size_t)T ? 1 : (size_t)T;
        if (j.parts > n)
            j.parts = n;
        gt_pool_for(batch * j.parts, herk_item, &j);
    } else {
        for (size_t i = 0; i < batch; i++)
            herk_cols(&j, i, 0, n);
    }
    for (size_t i = 0; i < batch; i++) {
        gt_cf *ci = c + i * stride_c;
        for (size_t col = 0; col < n; col++) {
            ci[col + col * ldc] = crealf(ci[col + col * ldc]);
            for (size_t row = 0; row < col; row++)
                ci[col + row * ldc] = conjf(ci[row + col * ldc]);
        }
    }
    return 0;
}
