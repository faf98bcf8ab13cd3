/* Private to src/tools/sim*.c: the acquisition plan and the frame kernel. */
#ifndef GT_SIM_INTERNAL_H
#define GT_SIM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "gt/sim.h"

typedef enum sim_block_kind {
    SIM_BLOCK_NOISE = 0,   /* noise readouts at the start of the scan */
    SIM_BLOCK_IMAGING = 1, /* the lines of one (slice, phase) */
    SIM_BLOCK_SEP_ACS = 2, /* separate-mode ACS lines of a slice */
} sim_block_kind;

typedef struct sim_line {
    uint16_t e1;
    uint8_t kind; /* GT_SIM_LINE_* ; 0 for noise readouts */
} sim_line;

typedef struct sim_block {
    sim_block_kind kind;
    int slice, phase;
    size_t first; /* index into plan.lines */
    size_t count;
} sim_block;

typedef struct sim_plan {
    sim_block *blocks;
    size_t nblocks;
    sim_line *lines;
    size_t nlines;
    size_t max_count; /* readouts of the largest block */
} sim_plan;

int sim_plan_build(const gt_sim_opts *o, sim_plan *p);
void sim_plan_free(sim_plan *p);

/* Shared read-only state of a run. */
typedef struct sim_ctx {
    const gt_sim_opts *o;
    const sim_plan *plan;
    size_t nx, ny, plane; /* oversampled grid */
    gt_cf *maps;          /* [nx][ny][coils][slices] */
    gt_cf *mix;           /* coils x coils, column-major */
    float *truth;         /* [ro][e1][phases][slices]; written by imaging blocks */
} sim_ctx;

/* Per-worker scratch. */
typedef struct sim_scratch {
    gt_cf *coil_img; /* plane * coils */
    float *gauss;    /* 2 * nx * coils */
} sim_scratch;

int sim_scratch_init(sim_scratch *s, const sim_ctx *c);
void sim_scratch_fini(sim_scratch *s);

/* Fills out[j * nx * coils + ch * nx + x] for the readouts of block b. */
int sim_block_compute(const sim_ctx *c, sim_scratch *s, size_t b, gt_cf *out);

/* Adds sigma * L * w noise to `count` readouts of nx * coils samples. */
void sim_add_noise(const sim_ctx *c, gt_sim_rng *r, float *gauss, gt_cf *data, size_t count);

/* Fixed scanner geometry of a slice (see sim_plan.c). */
void sim_slice_geometry(const gt_sim_opts *o, int slice, ISMRMRD_AcquisitionHeader *h);

#endif
