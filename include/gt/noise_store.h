/* gt/noise_store.h — noise covariance files.
 *
 * Two layouts, all little-endian:
 *  - Gadgetron 3.x/4.1 (protocol.md 6.4), used for the files in the
 *    server's working folder:
 *      uint32 xml_len, xml_len bytes ISMRMRD header XML of the noise scan,
 *      float32 noise_dwell_time_us, uint64 len, then len bytes of a
 *      serialized hoNDArray: uint64 ndim (2), ndim x uint64 dims (CHA, CHA),
 *      CHA*CHA complex float32, column-major (cov[i + j*CHA]).
 *  - SFNDAM (Gadgetron >= 2023, protocol.md 6.5), what its
 *    noisecovarianceout parameter writes:
 *      "SFNDAM", uint32 version (1), uint32 data type (7 = complex float),
 *      uint32 ndim (2), ndim x uint64 dims (CHA, CHA), uint64 meta_len,
 *      CHA*CHA complex float32, meta_len bytes JSON {"channels",
 *      "sampleCount", "labels": [coil names], "noiseDwellTimeUs",
 *      "receiverNoiseBandwidth"}.
 * Both store the covariance normalised by (samples - 1).
 * File names in a folder are plain names (normally
 * "GadgetronNoiseCovarianceMatrix_<measurementID>"). Thread safe (no
 * shared state); concurrent writers of one name: the last rename wins. */
#ifndef GT_NOISE_STORE_H
#define GT_NOISE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "gt/mrd.h"

#define GT_NOISE_FILE_PREFIX "GadgetronNoiseCovarianceMatrix"
#define GT_NOISE_MAX_CHANNELS 4096u
#define GT_NOISE_MAX_XML (64u << 20)

typedef enum gt_noise_format {
    GT_NOISE_FMT_V41 = 0, /* Gadgetron 3.x/4.1 file */
    GT_NOISE_FMT_SFNDAM = 1,
} gt_noise_format;

typedef struct gt_noise_cov {
    char *header_xml; /* owned, NUL terminated; may be "" or NULL */
    size_t header_len;
    float dwell_time_us;
    size_t channels;
    gt_cf *cov; /* owned, channels x channels, column-major */
    /* Coil names in channel order: from the header XML's coilLabel list
     * (4.1 layout) or the JSON "labels" (SFNDAM); NULL/0 when unknown. */
    char **labels; /* owned */
    size_t nlabels;
    uint64_t sample_count; /* SFNDAM only; 0 when unknown */
    float receiver_bw;     /* SFNDAM only; 0 when unknown */
} gt_noise_cov;

/* dir + "/" + name, malloc'd. GT_EACCESS for names with '/', a leading '.',
 * control characters, or over 255 bytes; GT_EINVAL for a NULL/empty dir. */
int gt_noise_file_path(const char *dir, const char *name, char **path);
/* Loads a covariance file from a folder (see _load_file). */
int gt_noise_cov_load(const char *dir, const char *name, gt_noise_cov *out);
/* Loads a covariance file at path, either layout (SFNDAM recognised by its
 * magic). Labels are filled from the header XML or the JSON meta (a header
 * that does not parse just gives no labels). GT_ENOTFOUND when the file
 * does not exist, GT_EDATA (with detail) when it is truncated or
 * inconsistent, GT_EIO on read errors. *out is filled only on success
 * (free with _fini). */
int gt_noise_cov_load_file(const char *path, gt_noise_cov *out);
/* Writes a covariance file in the 4.1 layout into a folder atomically
 * (temporary file, then rename). */
int gt_noise_cov_save(const char *dir, const char *name, const gt_noise_cov *cov);
/* Writes a covariance file at path (same folder temporary, then rename) in
 * the given layout. SFNDAM writes labels only when nlabels == channels. */
int gt_noise_cov_save_file(const char *path, const gt_noise_cov *cov, gt_noise_format fmt);
void gt_noise_cov_fini(gt_noise_cov *c); /* safe on a zeroed or finished struct */

/* Coil names of ismrmrdHeader/acquisitionSystemInformation/coilLabel/coilName
 * in document order (trimmed). *labels NULL and *n 0 when there are none.
 * GT_EXML when the XML does not parse. Free with gt_noise_labels_free. */
int gt_noise_header_labels(const char *xml, size_t len, char ***labels, size_t *n);
void gt_noise_labels_free(char **labels, size_t n); /* NULL safe */

/* Per-channel noise sigma = sqrt(Re cov(c, c)): min, max and mean over the
 * channels. GT_EINVAL when there are no channels. */
int gt_noise_cov_sigmas(const gt_noise_cov *c, float *min_sigma, float *max_sigma,
                        float *mean_sigma);

#endif
