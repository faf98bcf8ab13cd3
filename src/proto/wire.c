/* wire.c — pieces of the wire codec shared by the decoder and the encoders:
 * default limits, message id names, frame cleanup, and the compile-time
 * checks that let us copy ISMRMRD headers to and from the wire as raw bytes
 * (protocol.md §1.4-1.7). */
#include <stdlib.h>
#include <string.h>

#include "gt/wire.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "the wire codec copies headers as raw little-endian bytes");
_Static_assert(sizeof(ISMRMRD_AcquisitionHeader) == 340, "AcquisitionHeader must be 340 bytes");
_Static_assert(sizeof(ISMRMRD_ImageHeader) == 198, "ImageHeader must be 198 bytes");
_Static_assert(sizeof(ISMRMRD_WaveformHeader) == 40, "WaveformHeader must be 40 bytes");
_Static_assert(offsetof(ISMRMRD_AcquisitionHeader, number_of_samples) == 34, "acq layout");
_Static_assert(offsetof(ISMRMRD_AcquisitionHeader, trajectory_dimensions) == 176, "acq layout");
_Static_assert(offsetof(ISMRMRD_AcquisitionHeader, idx) == 242, "acq layout");
_Static_assert(offsetof(ISMRMRD_ImageHeader, attribute_string_len) == 194, "image layout");
_Static_assert(offsetof(ISMRMRD_WaveformHeader, flags) == 8, "waveform layout");
_Static_assert(offsetof(ISMRMRD_WaveformHeader, waveform_id) == 36, "waveform layout");

void gt_wire_limits_default(gt_wire_limits *l)
{
    l->max_text = UINT64_C(64) << 20;
    l->max_acq_bytes = UINT64_C(256) << 20;
    l->max_image_bytes = UINT64_C(1) << 30;
    l->max_attr = UINT64_C(16) << 20;
    l->max_wave_bytes = UINT64_C(64) << 20;
    l->max_composite_bytes = UINT64_C(2) << 30;
}

const char *gt_wire_id_name(uint16_t id)
{
    switch (id) {
    case GT_ID_FILENAME:
        return "FILENAME";
    case GT_ID_CONFIG:
        return "CONFIG";
    case GT_ID_HEADER:
        return "HEADER";
    case GT_ID_CLOSE:
        return "CLOSE";
    case GT_ID_TEXT:
        return "TEXT";
    case GT_ID_QUERY:
        return "QUERY";
    case GT_ID_RESPONSE:
        return "RESPONSE";
    case GT_ID_ERROR:
        return "ERROR";
    case GT_ID_ACQUISITION:
        return "ACQUISITION";
    case GT_ID_DICOM:
        return "DICOM";
    case GT_ID_DEPENDENCY_QUERY:
        return "DEPENDENCY_QUERY";
    case GT_ID_IMAGE:
        return "IMAGE";
    case GT_ID_RECONDATA:
        return "RECONDATA";
    case GT_ID_IMAGE_ARRAY:
        return "IMAGE_ARRAY";
    case GT_ID_WAVEFORM:
        return "WAVEFORM";
    case GT_ID_BUCKET:
        return "BUCKET";
    default:
        return "UNKNOWN";
    }
}

void gt_frame_fini(gt_frame *f)
{
    if (!f)
        return;
    free(f->text);
    gt_acq_destroy(f->acq);
    gt_image_destroy(f->image);
    gt_wave_destroy(f->wave);
    free(f->raw);
    memset(f, 0, sizeof(*f));
}
