/* gt/noise_store.h — noise covariance files in the server's working folder,
 * in Gadgetron 3.x/4.1's layout (protocol.md 6.4), all little-endian:
 *   uint32 xml_len, xml_len bytes ISMRMRD header XML of the noise scan,
 *   float32 noise_dwell_time_us, uint64 len, then len bytes of a serialized
 *   hoNDArray: uint64 ndim (2), ndim x uint64 dims (CHA, CHA),
 *   CHA*CHA complex float32, column-major (cov[i + j*CHA]).
 * File names are plain names inside the folder (normally
 * "GadgetronNoiseCovarianceMatrix_<measurementID>"). Thread safe (no
 * shared state); concurrent writers of one name: the last rename wins. */
#ifndef GT_NOISE_STORE_H
#define GT_NOISE_STORE_H

#include <stddef.h>
#include "gt/mrd.h"

#define GT_NOISE_FILE_PREFIX "GadgetronNoiseCovarianceMatrix"
#define GT_NOISE_MAX_CHANNELS 4096u
#define GT_NOISE_MAX_XML (64u << 20)

typedef struct gt_noise_cov {
    char *header_xml; /* owned, NUL terminated; may be "" */
    size_t header_len;
    float dwell_time_us;
    size_t channels;
    gt_cf *cov; /* owned, channels x channels, column-major */
} gt_noise_cov;

/* dir + "/" + name, malloc'd. GT_EACCESS for names with '/', a leading '.',
 * control characters, or over 255 bytes; GT_EINVAL for a NULL/empty dir. */
int gt_noise_file_path(const char *dir, const char *name, char **path);
/* Loads a covariance file. GT_ENOTFOUND when the file does not exist,
 * GT_EDATA (with detail) when it is truncated or inconsistent, GT_EIO on
 * read errors. *out is filled only on success (free with _fini). */
int gt_noise_cov_load(const char *dir, const char *name, gt_noise_cov *out);
/* Writes a covariance file atomically (temporary file, then rename). */
int gt_noise_cov_save(const char *dir, const char *name, const gt_noise_cov *cov);
void gt_noise_cov_fini(gt_noise_cov *c); /* safe on a zeroed or finished struct */

/* Per-channel noise sigma = sqrt(Re cov(c, c)): min, max and mean over the
 * channels. GT_EINVAL when there are no channels. */
int gt_noise_cov_sigmas(const gt_noise_cov *c, float *min_sigma, float *max_sigma,
                        float *mean_sigma);

#endif
