/* gt/mrdhdr.h — the fields of the ISMRMRD XML header that the server uses.
 *
 * Parsed with libxml2 (no network, no external entities). Missing optional
 * elements leave `present`/has_* flags at 0 and documented defaults. The
 * original XML is kept verbatim for forwarding. Parsing is thread safe; a
 * parsed header is read-only and may be shared between threads. */
#ifndef GT_MRDHDR_H
#define GT_MRDHDR_H

#include <stddef.h>
#include <stdint.h>

#define GT_MRD_MAX_ENCODINGS 8
#define GT_MRD_STR 256

typedef struct gt_mrd_limit {
    int present;
    uint16_t min, max, center;
} gt_mrd_limit;

typedef struct gt_mrd_encoding {
    uint16_t enc_matrix[3];   /* encodedSpace/matrixSize x y z */
    float enc_fov[3];         /* encodedSpace/fieldOfView_mm */
    uint16_t recon_matrix[3]; /* reconSpace */
    float recon_fov[3];
    /* encodingLimits */
    gt_mrd_limit e1, e2, average, slice, contrast, phase, repetition, set, segment;
    char trajectory[64]; /* "cartesian" ... */
    int has_parallel;    /* parallelImaging present */
    uint16_t accel[2];   /* accelerationFactor kspace_encoding_step_1/2 (1 when absent) */
    char calib_mode[64]; /* "embedded", "interleaved", "separate", "external", "other", "" */
    char interleaving_dim[64];
} gt_mrd_encoding;

typedef struct gt_mrd_header {
    char *xml; /* owned copy of the header text */
    size_t xml_len;

    char measurement_id[GT_MRD_STR];   /* "" when absent */
    char noise_dependency[GT_MRD_STR]; /* first measurementDependency of type noise, "" if none */
    char patient_id[GT_MRD_STR];
    char study_id[GT_MRD_STR];
    char protocol_name[GT_MRD_STR];
    char device_id[GT_MRD_STR];
    char patient_position[GT_MRD_STR];
    char series_instance_uid_root[GT_MRD_STR];

    int has_receiver_channels;
    uint16_t receiver_channels;
    float relative_noise_bandwidth; /* 0.793 when absent */
    float field_strength_t;         /* 0 when absent */

    float tr_ms, te_ms; /* first values, 0 when absent */

    char **coil_labels; /* acquisitionSystemInformation/coilLabel/coilName, in order */
    size_t n_coil_labels;

    int n_encodings;
    gt_mrd_encoding enc[GT_MRD_MAX_ENCODINGS];
} gt_mrd_header;

/* Parses len bytes (trailing NULs tolerated). GT_EXML with detail on bad XML,
 * GT_EDATA when required elements (encoding) are missing. */
int gt_mrd_header_parse(const char *xml, size_t len, gt_mrd_header **out);
void gt_mrd_header_destroy(gt_mrd_header *h);

#define GT_MRD_MAX_COIL_LABELS 4096u
/* Only the coil names of a header (which may lack everything else, e.g. a
 * stored noise scan's). *labels is malloc'd (free with gt_mrd_labels_free);
 * a label without coilName is "". GT_EXML, GT_EDATA (over the max), GT_ENOMEM. */
int gt_mrd_coil_labels(const char *xml, size_t len, char ***labels, size_t *n);
void gt_mrd_labels_free(char **labels, size_t n);

#endif
