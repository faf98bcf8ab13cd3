/* gt/generic_recon.h — what Gadgetron's GenericRecon* gadgets share
 * (GenericReconBase, GenericReconGadget, ImageArraySendMixin;
 * algorithms.md §0, §7, §9.1, §9.11, §15): the common base properties,
 * the calibration mode of an encoding space, the header-derived state used
 * for image numbering, and the image headers / meta attributes of an output
 * image array.
 *
 * Gadget helpers: not thread safe per object (a gadget instance is used by
 * one thread at a time); distinct objects are independent. */
#ifndef GT_GENERIC_RECON_H
#define GT_GENERIC_RECON_H

#include <stddef.h>
#include "gt/gadget.h"
#include "gt/msg.h"

/* GenericReconBase properties: verbose (false), debug_folder (""),
 * perform_timing (false), time_tick (2.5). Use as a class's props_base. */
extern const gt_prop_spec gt_generic_recon_base_props[];

typedef struct gt_generic_recon_base {
    int verbose;
    int perform_timing;
    double time_tick;
    const char *debug_folder; /* property text; "" = no dumps (not implemented) */
} gt_generic_recon_base;

/* Reads the base properties. GT_ECONFIG on a malformed value. */
int gt_generic_recon_base_init(const gt_gadget *g, gt_generic_recon_base *b);

/* Monotonic wall clock in seconds (for perform_timing). */
double gt_generic_recon_now(void);

typedef enum gt_calib_mode {
    GT_CALIB_NOACCEL = 0,
    GT_CALIB_EMBEDDED,
    GT_CALIB_INTERLEAVED,
    GT_CALIB_SEPARATE,
    GT_CALIB_EXTERNAL,
    GT_CALIB_OTHER,
} gt_calib_mode;

/* Calibration mode of an encoding: no acceleration unless an acceleration
 * factor exceeds 1, else from calibrationMode (unknown strings -> OTHER). */
gt_calib_mode gt_generic_recon_calib_mode(const gt_mrd_encoding *e);
const char *gt_calib_mode_name(gt_calib_mode m);

/* Header-derived state of GenericReconGadget::process_config. */
typedef struct gt_generic_recon_info {
    const gt_mrd_header *hdr; /* borrowed */
    int nenc;
    long offset_e1[GT_MRD_MAX_ENCODINGS]; /* matrixSize.y/2 - limits.E1.center */
    long offset_e2[GT_MRD_MAX_ENCODINGS]; /* likewise for z (0 when z == 1) */
    /* encodingLimits maximum + 1 of encoding 0 (1 when absent). */
    size_t max_slc, max_con, max_phs, max_set, max_rep;
    /* measurementID "device_patient_study_measurement" split at '_'. */
    char device_id[64], patient_id[64], study_id[64], meas_number[64];
} gt_generic_recon_info;

/* Fills *info from the stream header. GT_ECONFIG when hdr is NULL or has no
 * encoding. */
int gt_generic_recon_info_init(gt_generic_recon_info *info, const gt_mrd_header *hdr);

/* compute_image_header (§15): for every (n, s, slc) of the image array ia
 * (dims [RO E1 E2 1 N S SLC], headers [N S SLC]) picks the reference readout
 * in d->headers and fills ia->headers and ia->meta (replacing existing meta)
 * for encoding space `enc`. image_index uses the §15 formula;
 * image_series_index is left 0 (set by gt_generic_recon_prepare_send). */
int gt_generic_recon_image_headers(const gt_generic_recon_info *info, size_t enc,
                                   const gt_data_buffer *d, gt_image_array *ia);

/* Roles of ImageArraySendMixin::prepare_image_array. */
typedef enum gt_data_role {
    GT_ROLE_IMAGE = 0, /* "Image": comment "GT", SeqDescription "_GT" */
    GT_ROLE_GFACTOR,   /* "Gfactor", Skip_processing_after_recon = 1 */
    GT_ROLE_SNR_MAP,   /* "SNR_MAP" */
} gt_data_role;

/* Series numbers of GenericReconGadget for encoding e (§9.11):
 * image image_series + e + 1, g-factor image_series + 10 (e + 2), SNR map
 * image_series + 100 (e + 3). */
long gt_generic_recon_series(long image_series, size_t enc, gt_data_role role);

/* prepare_image_array: sets image_series_index of every header and the meta
 * of every image: GADGETRON_ImageNumber = image_index,
 * GADGETRON_ImageProcessingHistory += "GT", the role's comment /
 * SeqDescription / GADGETRON_DataRole (and Skip_processing_after_recon for
 * the g-factor). Creates missing meta containers. */
int gt_generic_recon_prepare_send(gt_image_array *ia, long series, gt_data_role role);

/* Meta names (mri_core_def.h). */
#define GT_META_DATA_ROLE "GADGETRON_DataRole"
#define GT_META_IMAGE_NUMBER "GADGETRON_ImageNumber"
#define GT_META_IMAGE_COMMENT "GADGETRON_ImageComment"
#define GT_META_SEQ_DESCRIPTION "GADGETRON_SeqDescription"
#define GT_META_PROCESSING_HISTORY "GADGETRON_ImageProcessingHistory"
#define GT_META_SKIP_PROCESSING "Skip_processing_after_recon"

#endif
