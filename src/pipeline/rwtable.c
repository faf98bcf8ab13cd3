/* Gadgetron reader and writer classnames -> message types (gt/pipeline.h).
 * Both the 3.x names (legacy configs) and the 4.x core names are listed. */
#include "gt/pipeline.h"
#include "gt/err.h"

#include <string.h>

typedef struct rw_entry {
    const char *classname;
    int type;
} rw_entry;

static const rw_entry readers[] = {
    {"GadgetIsmrmrdAcquisitionMessageReader", GT_MSG_ACQ},
    {"AcquisitionReader", GT_MSG_ACQ},
    {"GadgetIsmrmrdWaveformMessageReader", GT_MSG_WAVEFORM},
    {"WaveformReader", GT_MSG_WAVEFORM},
    {"MRIImageReader", GT_MSG_IMAGE},
    {"ImageReader", GT_MSG_IMAGE},
    {"BufferReader", GT_MSG_RECON_DATA},
    {"IsmrmrdImageArrayReader", GT_MSG_IMAGE_ARRAY},
    {"AcquisitionBucketReader", GT_MSG_BUCKET},
    {NULL, 0},
};

static const rw_entry writers[] = {
    {"MRIImageWriter", GT_MSG_IMAGE},
    {"MRIImageWriterCPLX", GT_MSG_IMAGE},
    {"MRIImageWriterFLOAT", GT_MSG_IMAGE},
    {"MRIImageWriterUSHORT", GT_MSG_IMAGE},
    {"MRIImageAttribWriter", GT_MSG_IMAGE},
    {"ImageWriter", GT_MSG_IMAGE},
    {"DependencyQueryWriter", GT_MSG_DEP_QUERY},
    {"BufferWriter", GT_MSG_RECON_DATA},
    {"IsmrmrdImageArrayWriter", GT_MSG_IMAGE_ARRAY},
    {"AcquisitionBucketWriter", GT_MSG_BUCKET},
    {"AcquisitionWriter", GT_MSG_ACQ},
    {"GadgetIsmrmrdAcquisitionMessageWriter", GT_MSG_ACQ},
    {"WaveformWriter", GT_MSG_WAVEFORM},
    {"GadgetIsmrmrdWaveformMessageWriter", GT_MSG_WAVEFORM},
    {"TextWriter", GT_MSG_TEXT},
    {NULL, 0},
};

static int has_affixes(const char *s, const char *prefix, const char *suffix)
{
    size_t n = strlen(s), a = strlen(prefix), b = strlen(suffix);
    return n >= a + b && strncmp(s, prefix, a) == 0 && strcmp(s + n - b, suffix) == 0;
}

static int lookup(const rw_entry *t, const char *classname, int *msg_type)
{
    for (; t->classname; t++) {
        if (strcmp(t->classname, classname) == 0) {
            *msg_type = t->type;
            return 0;
        }
    }
    return GT_ENOTFOUND;
}

int gt_reader_type(const char *classname, int *msg_type)
{
    if (!classname)
        return gt_err_set(GT_ECONFIG, "Reader without classname");
    if (lookup(readers, classname, msg_type) == 0)
        return 0;
    /* 3.x typed image readers: GadgetIsmrmrd{Float,Complex,UShort...}ImageMessageReader. */
    if (has_affixes(classname, "GadgetIsmrmrd", "ImageMessageReader")) {
        *msg_type = GT_MSG_IMAGE;
        return 0;
    }
    return gt_err_set(GT_ECONFIG, "Unknown reader classname '%s'", classname);
}

int gt_writer_type(const char *classname, int *msg_type)
{
    if (!classname)
        return gt_err_set(GT_ECONFIG, "Writer without classname");
    if (lookup(writers, classname, msg_type) == 0)
        return 0;
    if (has_affixes(classname, "GadgetIsmrmrd", "ImageMessageWriter")) {
        *msg_type = GT_MSG_IMAGE;
        return 0;
    }
    return gt_err_set(GT_ECONFIG, "Unknown writer classname '%s'", classname);
}
