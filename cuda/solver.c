/* solver.c — cuSOLVER ops of the CUDA table: Hermitian eigen-decomposition,
 * linear solves (Cholesky, LU, QR least squares), Cholesky factor and
 * triangular inverse. Argument checks and error codes mirror
 * src/num/lapack_cpu.c.
 *
 * Each op loops over the batch on the per-thread stream; every step writes
 * its LAPACK-style info to its own device int (info[step * batch + b]), and
 * after one synchronization the infos are read back and the first failing
 * problem (lowest b) is reported: < 0 GT_EINVAL, > 0 GT_EDATA. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cu.h"
#include "kernels.h"

#define MAX_STEPS 3

typedef struct job {
    const char *what;
    int device;
    size_t batch;
    int steps;
    int entered; /* the device was selected: synchronize at the end */
    int *info;   /* device: steps * batch */
    void *work;  /* device workspace */
    void *work2; /* device: pivots or tau */
    void *hwork; /* host workspace */
    cusolverDnHandle_t sol;
    cublasHandle_t blas;
} job;

static int check_sq(const char *what, size_t n, size_t lda, size_t nrhs, size_t ldb, const void *a,
                    const void *b, size_t batch)
{
    if (batch && n && (!a || (nrhs && !b)))
        return cu_err(GT_EINVAL, "%s: NULL operand", what);
    if (n > INT_MAX || lda > INT_MAX || nrhs > INT_MAX || ldb > INT_MAX)
        return cu_err(GT_EINVAL, "%s: size exceeds LAPACK int", what);
    if (lda < (n ? n : 1) || ldb < (n ? n : 1))
        return cu_err(GT_EINVAL, "%s: leading dimension too small", what);
    return 0;
}

static int job_begin(job *j, int device, const char *what, size_t batch, int steps)
{
    memset(j, 0, sizeof(*j));
    j->what = what;
    j->device = device;
    j->batch = batch;
    j->steps = steps;
    if (batch > SIZE_MAX / sizeof(int) / MAX_STEPS)
        return cu_err(GT_EINVAL, "%s: batch %zu overflows", what, batch);
    int rc = cu_enter(device, what);
    if (rc)
        return rc;
    j->entered = 1;
    rc = cu_solver(device, &j->sol);
    if (!rc)
        rc = cu_blas(device, &j->blas);
    if (!rc)
        rc = cu_scratch(device, (size_t)steps * batch * sizeof(int), (void **)&j->info, what);
    if (!rc)
        rc = cu_check(cudaMemsetAsync(j->info, 0, (size_t)steps * batch * sizeof(int), cu_stream),
                      what);
    return rc;
}

/* Device workspace of lwork complex elements (at least one). */
static int job_work(job *j, int lwork)
{
    if (lwork < 0)
        return cu_err(GT_EDEVICE, "%s: negative workspace size %d", j->what, lwork);
    size_t elems = lwork > 0 ? (size_t)lwork : 1;
    return cu_scratch(j->device, elems * sizeof(cuComplex), &j->work, j->what);
}

/* Synchronizes, reads the infos (when rc == 0), releases everything.
 * why[s]: the numerical failure a positive info of step s means (NULL: a
 * positive info is not expected from that step). */
static int job_end(job *j, int rc, const char *const why[MAX_STEPS])
{
    if (j->entered) {
        int src = cu_sync(j->what);
        if (!rc)
            rc = src;
    }
    int *h = NULL;
    size_t ni = (size_t)j->steps * j->batch;
    if (!rc && j->info && ni) {
        h = malloc(ni * sizeof(int));
        if (!h)
            rc = cu_err(GT_ENOMEM, "%s: info", j->what);
        else
            rc = cu_check(
                cudaMemcpyAsync(h, j->info, ni * sizeof(int), cudaMemcpyDeviceToHost, cu_stream),
                j->what);
        if (!rc)
            rc = cu_sync(j->what);
    }
    for (size_t b = 0; h && !rc && b < j->batch; b++) {
        for (int s = 0; s < j->steps && !rc; s++) {
            int info = h[(size_t)s * j->batch + b];
            if (info < 0)
                rc = cu_err(GT_EINVAL, "%s: argument %d rejected (batch %zu; NaN input?)", j->what,
                            -info, b);
            else if (info > 0 && why[s])
                rc = cu_err(GT_EDATA, "%s: %s (info %d, batch %zu)", j->what, why[s], info, b);
            else if (info > 0)
                rc = cu_err(GT_EDEVICE, "%s: unexpected info %d (step %d, batch %zu)", j->what,
                            info, s, b);
        }
    }
    free(h);
    cu_scratch_free(j->device, j->info);
    cu_scratch_free(j->device, j->work);
    cu_scratch_free(j->device, j->work2);
    free(j->hwork);
    return rc;
}

int cu_heev(int device, size_t n, gt_cf *a, size_t lda, size_t stride_a, float *w, size_t stride_w,
            size_t batch)
{
    int rc = check_sq("heev", n, lda, 1, n, a, w, batch);
    if (rc || n == 0 || batch == 0)
        return rc;
    job j;
    const char *why[MAX_STEPS] = {"eigen solver did not converge"};
    cuComplex *A = (cuComplex *)a;
    int lwork = 0;
    rc = job_begin(&j, device, "heev", batch, 1);
    if (!rc)
        rc = cu_check_solver(cusolverDnCheevd_bufferSize(j.sol, CUSOLVER_EIG_MODE_VECTOR,
                                                         CUBLAS_FILL_MODE_UPPER, (int)n, A,
                                                         (int)lda, w, &lwork),
                             "cusolverDnCheevd_bufferSize");
    if (!rc)
        rc = job_work(&j, lwork);
    for (size_t b = 0; b < batch && !rc; b++)
        rc = cu_check_solver(cusolverDnCheevd(j.sol, CUSOLVER_EIG_MODE_VECTOR,
                                              CUBLAS_FILL_MODE_UPPER, (int)n, A + b * stride_a,
                                              (int)lda, w + b * stride_w, j.work,
                                              lwork > 0 ? lwork : 1, j.info + b),
                             "cusolverDnCheevd");
    return job_end(&j, rc, why);
}

int cu_posv(int device, size_t n, size_t nrhs, gt_cf *a, size_t lda, size_t stride_a, gt_cf *b,
            size_t ldb, size_t stride_b, size_t batch)
{
    int rc = check_sq("posv", n, lda, nrhs, ldb, a, b, batch);
    if (rc || n == 0 || nrhs == 0 || batch == 0)
        return rc;
    job j;
    const char *why[MAX_STEPS] = {"matrix not positive definite", NULL};
    cuComplex *A = (cuComplex *)a, *B = (cuComplex *)b;
    int lwork = 0;
    rc = job_begin(&j, device, "posv", batch, 2);
    if (!rc)
        rc = cu_check_solver(
            cusolverDnCpotrf_bufferSize(j.sol, CUBLAS_FILL_MODE_UPPER, (int)n, A, (int)lda, &lwork),
            "cusolverDnCpotrf_bufferSize");
    if (!rc)
        rc = job_work(&j, lwork);
    for (size_t i = 0; i < batch && !rc; i++) {
        cuComplex *Ai = A + i * stride_a;
        rc = cu_check_solver(cusolverDnCpotrf(j.sol, CUBLAS_FILL_MODE_UPPER, (int)n, Ai, (int)lda,
                                              j.work, lwork > 0 ? lwork : 1, j.info + i),
                             "cusolverDnCpotrf");
        if (!rc)
            rc = cu_check_solver(cusolverDnCpotrs(j.sol, CUBLAS_FILL_MODE_UPPER, (int)n, (int)nrhs,
                                                  Ai, (int)lda, B + i * stride_b, (int)ldb,
                                                  j.info + batch + i),
                                 "cusolverDnCpotrs");
    }
    return job_end(&j, rc, why);
}

int cu_gesv(int device, size_t n, size_t nrhs, gt_cf *a, size_t lda, size_t stride_a, gt_cf *b,
            size_t ldb, size_t stride_b, size_t batch)
{
    int rc = check_sq("gesv", n, lda, nrhs, ldb, a, b, batch);
    if (rc || n == 0 || nrhs == 0 || batch == 0)
        return rc;
    job j;
    const char *why[MAX_STEPS] = {"matrix is singular", NULL};
    cuComplex *A = (cuComplex *)a, *B = (cuComplex *)b;
    int lwork = 0;
    rc = job_begin(&j, device, "gesv", batch, 2);
    if (!rc)
        rc =
            cu_check_solver(cusolverDnCgetrf_bufferSize(j.sol, (int)n, (int)n, A, (int)lda, &lwork),
                            "cusolverDnCgetrf_bufferSize");
    if (!rc)
        rc = job_work(&j, lwork);
    if (!rc) /* one pivot vector: each solve follows its factorization in stream order */
        rc = cu_scratch(device, n * sizeof(int), &j.work2, "gesv");
    for (size_t i = 0; i < batch && !rc; i++) {
        cuComplex *Ai = A + i * stride_a;
        rc = cu_check_solver(
            cusolverDnCgetrf(j.sol, (int)n, (int)n, Ai, (int)lda, j.work, j.work2, j.info + i),
            "cusolverDnCgetrf");
        if (!rc)
            rc = cu_check_solver(cusolverDnCgetrs(j.sol, CUBLAS_OP_N, (int)n, (int)nrhs, Ai,
                                                  (int)lda, j.work2, B + i * stride_b, (int)ldb,
                                                  j.info + batch + i),
                                 "cusolverDnCgetrs");
    }
    return job_end(&j, rc, why);
}

int cu_gels(int device, size_t m, size_t n, size_t nrhs, gt_cf *a, size_t lda, size_t stride_a,
            gt_cf *b, size_t ldb, size_t stride_b, size_t batch)
{
    if (m > INT_MAX || n > INT_MAX || nrhs > INT_MAX || lda > INT_MAX || ldb > INT_MAX)
        return cu_err(GT_EINVAL, "gels: size exceeds LAPACK int");
    if (m < n)
        return cu_err(GT_EINVAL, "gels: underdetermined (%zu rows < %zu columns)", m, n);
    if (lda < (m ? m : 1) || ldb < (m ? m : 1))
        return cu_err(GT_EINVAL, "gels: leading dimension too small");
    if (n == 0 || nrhs == 0 || batch == 0)
        return 0;
    if (!a || !b)
        return cu_err(GT_EINVAL, "gels: NULL operand");
    job j;
    /* Steps: geqrf, unmqr, exact-zero diagonal of R (LAPACK's rank test). */
    const char *why[MAX_STEPS] = {NULL, NULL, "matrix is rank deficient"};
    cuComplex *A = (cuComplex *)a, *B = (cuComplex *)b;
    const cuComplex one = make_cuComplex(1.0f, 0.0f);
    int lw_qr = 0, lw_mq = 0;
    int rc = job_begin(&j, device, "gels", batch, 3);
    if (!rc) /* tau: n elements, reused in stream order */
        rc = cu_scratch(device, n * sizeof(cuComplex), &j.work2, "gels");
    if (!rc)
        rc =
            cu_check_solver(cusolverDnCgeqrf_bufferSize(j.sol, (int)m, (int)n, A, (int)lda, &lw_qr),
                            "cusolverDnCgeqrf_bufferSize");
    if (!rc)
        rc = cu_check_solver(cusolverDnCunmqr_bufferSize(j.sol, CUBLAS_SIDE_LEFT, CUBLAS_OP_C,
                                                         (int)m, (int)nrhs, (int)n, A, (int)lda,
                                                         j.work2, B, (int)ldb, &lw_mq),
                             "cusolverDnCunmqr_bufferSize");
    int lwork = lw_qr > lw_mq ? lw_qr : lw_mq;
    if (!rc)
        rc = job_work(&j, lwork);
    if (lwork < 1)
        lwork = 1;
    for (size_t i = 0; i < batch && !rc; i++) {
        cuComplex *Ai = A + i * stride_a, *Bi = B + i * stride_b;
        rc = cu_check_solver(cusolverDnCgeqrf(j.sol, (int)m, (int)n, Ai, (int)lda, j.work2, j.work,
                                              lwork, j.info + i),
                             "cusolverDnCgeqrf");
        if (!rc) /* B <- Q^H B */
            rc = cu_check_solver(cusolverDnCunmqr(j.sol, CUBLAS_SIDE_LEFT, CUBLAS_OP_C, (int)m,
                                                  (int)nrhs, (int)n, Ai, (int)lda, j.work2, Bi,
                                                  (int)ldb, j.work, lwork, j.info + batch + i),
                                 "cusolverDnCunmqr");
        if (!rc) /* B(0:n, :) <- R^-1 B(0:n, :) */
            rc = cu_check_blas(cublasCtrsm(j.blas, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_UPPER,
                                           CUBLAS_OP_N, CUBLAS_DIAG_NON_UNIT, (int)n, (int)nrhs,
                                           &one, Ai, (int)lda, Bi, (int)ldb),
                               "cublasCtrsm");
    }
    if (!rc)
        rc = cu_check(gtk_diag_zero((const float2 *)A, n, lda, stride_a, batch, j.info + 2 * batch,
                                    cu_stream),
                      "cuda gels rank kernel");
    return job_end(&j, rc, why);
}

int cu_potrf(int device, size_t n, gt_cf *a, size_t lda, size_t stride_a, size_t batch)
{
    int rc = check_sq("potrf", n, lda, 0, n, a, NULL, batch);
    if (rc || n == 0 || batch == 0)
        return rc;
    job j;
    const char *why[MAX_STEPS] = {"matrix not positive definite"};
    cuComplex *A = (cuComplex *)a;
    int lwork = 0;
    rc = job_begin(&j, device, "potrf", batch, 1);
    if (!rc)
        rc = cu_check_solver(
            cusolverDnCpotrf_bufferSize(j.sol, CUBLAS_FILL_MODE_UPPER, (int)n, A, (int)lda, &lwork),
            "cusolverDnCpotrf_bufferSize");
    if (!rc)
        rc = job_work(&j, lwork);
    for (size_t i = 0; i < batch && !rc; i++)
        rc = cu_check_solver(cusolverDnCpotrf(j.sol, CUBLAS_FILL_MODE_UPPER, (int)n,
                                              A + i * stride_a, (int)lda, j.work,
                                              lwork > 0 ? lwork : 1, j.info + i),
                             "cusolverDnCpotrf");
    if (!rc)
        rc =
            cu_check(gtk_zero_lower((float2 *)a, n, lda, stride_a, stride_a ? batch : 1, cu_stream),
                     "cuda potrf zero kernel");
    return job_end(&j, rc, why);
}

int cu_trtri(int device, size_t n, gt_cf *a, size_t lda, size_t stride_a, size_t batch)
{
    int rc = check_sq("trtri", n, lda, 0, n, a, NULL, batch);
    if (rc || n == 0 || batch == 0)
        return rc;
    job j;
    const char *why[MAX_STEPS] = {"matrix is singular"};
    size_t dsize = 0, hsize = 0;
    rc = job_begin(&j, device, "trtri", batch, 1);
    if (!rc)
        rc = cu_check_solver(
            cusolverDnXtrtri_bufferSize(j.sol, CUBLAS_FILL_MODE_UPPER, CUBLAS_DIAG_NON_UNIT,
                                        (int64_t)n, CUDA_C_32F, a, (int64_t)lda, &dsize, &hsize),
            "cusolverDnXtrtri_bufferSize");
    if (!rc)
        rc = cu_scratch(device, dsize ? dsize : 1, &j.work, "trtri");
    if (!rc && hsize) {
        j.hwork = malloc(hsize);
        if (!j.hwork)
            rc = cu_err(GT_ENOMEM, "trtri: host workspace %zu bytes", hsize);
    }
    for (size_t i = 0; i < batch && !rc; i++)
        rc =
            cu_check_solver(cusolverDnXtrtri(j.sol, CUBLAS_FILL_MODE_UPPER, CUBLAS_DIAG_NON_UNIT,
                                             (int64_t)n, CUDA_C_32F, a + i * stride_a, (int64_t)lda,
                                             j.work, dsize, j.hwork, hsize, j.info + i),
                            "cusolverDnXtrtri");
    return job_end(&j, rc, why);
}
