/* gt/wire.h — Gadgetron/ISMRMRD wire protocol codec (protocol.md §1).
 *
 * No sockets here: the decoder eats bytes from any source and yields whole
 * frames; the encoders append bytes to a gt_buf. Everything little-endian.
 *
 * Decoder: resumable across partial reads. Each frame is read in phases
 * (id, fixed header, checked lengths, then body); every length is checked
 * against gt_wire_limits *before* anything is allocated. After an error the
 * decoder is poisoned: every later call returns the same error.
 *
 * Ownership: a decoded gt_frame owns its payload; gt_frame_fini frees it.
 * Moving a payload out (e.g. f->acq) and setting the field to NULL is fine.
 * A decoder/encoder is used by one thread at a time. */
#ifndef GT_WIRE_H
#define GT_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include "gt/buf.h"
#include "gt/mrd.h"

enum gt_wire_id {
    GT_ID_FILENAME = 1,
    GT_ID_CONFIG = 2,
    GT_ID_HEADER = 3,
    GT_ID_CLOSE = 4,
    GT_ID_TEXT = 5,
    GT_ID_QUERY = 6,
    GT_ID_RESPONSE = 7,
    GT_ID_ERROR = 8,
    GT_ID_ACQUISITION = 1008,
    GT_ID_DICOM = 1018,
    GT_ID_DEPENDENCY_QUERY = 1019,
    GT_ID_IMAGE = 1022,
    GT_ID_RECONDATA = 1023,
    GT_ID_IMAGE_ARRAY = 1024,
    GT_ID_WAVEFORM = 1026,
    GT_ID_BUCKET = 1050,
};

#define GT_WIRE_FILENAME_LEN 1024

/* Upper bounds checked before allocation. gt_wire_limits_default() gives
 * values generous for clinical data and safe for a server. */
typedef struct gt_wire_limits {
    uint64_t max_text;        /* CONFIG, HEADER, TEXT, QUERY, RESPONSE, ERROR, 1019 bodies */
    uint64_t max_acq_bytes;   /* trajectory + data of one acquisition */
    uint64_t max_image_bytes; /* pixels of one image */
    uint64_t max_attr;        /* image attribute XML */
    uint64_t max_wave_bytes;  /* waveform samples */
    /* Whole body of one composite frame (1023 RECONDATA, 1024 IMAGE_ARRAY,
     * 1050 BUCKET); the decoder buffers such a body before handing it on. */
    uint64_t max_composite_bytes;
} gt_wire_limits;

void gt_wire_limits_default(gt_wire_limits *l);
/* Human name of a message id ("ACQUISITION"), or "UNKNOWN". */
const char *gt_wire_id_name(uint16_t id);

typedef struct gt_frame {
    uint16_t id;
    /* FILENAME: name up to the first NUL; CONFIG/HEADER/TEXT/ERROR/
     * DEPENDENCY_QUERY/QUERY/RESPONSE: body with trailing NULs stripped.
     * Always NUL terminated; owned. NULL for other ids. */
    char *text;
    size_t text_len;
    uint64_t reserved;       /* QUERY */
    uint64_t correlation_id; /* QUERY, RESPONSE */
    gt_acq *acq;             /* ACQUISITION, owned */
    gt_image *image;         /* IMAGE, owned */
    gt_wave *wave;           /* WAVEFORM, owned */
    /* RECONDATA, IMAGE_ARRAY, BUCKET (only with a composite measurer, see
     * gt_decoder_set_composite): the body after the id, exactly as sent;
     * owned. gt_msg_wire_decode (gt/msg_wire.h) turns it into a message. */
    uint8_t *raw;
    size_t raw_len;
} gt_frame;

void gt_frame_fini(gt_frame *f); /* frees payloads, zeroes the frame */

typedef struct gt_decoder gt_decoder;

int gt_decoder_create(const gt_wire_limits *limits, gt_decoder **out); /* NULL limits = defaults */
void gt_decoder_destroy(gt_decoder *d);

/* Composite frames (1023, 1024, 1050) carry no overall length: only a parser
 * of their nested layout finds where they end. The wire codec knows nothing
 * of message types, so that parser is plugged in from outside (gt/msg_wire.h
 * provides gt_msg_wire_measure_step).
 *
 * A measurer looks at the first n bytes of a body (after the id) and
 * returns 1 when the body is complete (*body_len = its length, <= n), 0 when
 * more bytes are needed (prog->need = total body bytes it needs at least,
 * > n), or a negative error (GT_EPROTO malformed, GT_ETOOBIG over a limit).
 * prog starts zeroed for each frame and is the measurer's to use between
 * calls on the same, growing body: it may record how far it got so that a
 * later call resumes there instead of re-reading from the start. */
typedef struct gt_composite_progress {
    size_t need; /* set by the measurer on 0 */
    size_t off;  /* measurer scratch: resume offset */
    uint64_t stage, index, count;
} gt_composite_progress;
typedef int (*gt_composite_measure_fn)(const uint8_t *p, size_t n, uint16_t id,
                                       const gt_wire_limits *l, gt_composite_progress *prog,
                                       size_t *body_len);
/* Registers (or, with NULL, removes) the measurer. With one, ids 1023, 1024
 * and 1050 decode to frames with raw/raw_len set; without, they fail with
 * GT_EPROTO "Unsupported message id". Call between frames. The body is
 * buffered inside the decoder (growing with the bytes received, never past
 * max_composite_bytes) and the measurer is called again only once the bytes
 * it asked for have arrived, so byte-by-byte input stays linear. */
void gt_decoder_set_composite(gt_decoder *d, gt_composite_measure_fn measure);

/* Consumes bytes from p[0..n). Sets *used to the bytes consumed.
 * Returns 1 when a frame was completed into *f (more may follow: call
 * again with the rest), 0 when all input was consumed without finishing a
 * frame, or a negative error:
 *   GT_EPROTO       unknown message id (or one this decoder does not read:
 *                   1018; 1023, 1024, 1050 without a composite measurer;
 *                   or a composite body the measurer rejects), QUERY
 *                   reserved field != 0,
 *                   compressed acquisition (flags 53/54), inconsistent
 *                   header (acquisition trajectory_dimensions > 16 or
 *                   discard_pre + discard_post > number_of_samples; image
 *                   data_type not 1..8)
 *   GT_ETOOBIG      a length over the limits (checked before allocating)
 *   GT_ENOMEM
 * with a gt_err detail suitable for the client, naming the field and limit.
 * On 1, *f is overwritten (not freed first) and owned by the caller; on 0 or
 * an error *f is untouched. On an error *used counts the bytes consumed up
 * to the bad frame. Decoded images keep head.attribute_string_len as sent;
 * their attr has trailing NULs stripped (NULL when nothing is left). */
int gt_decoder_feed(gt_decoder *d, const uint8_t *p, size_t n, size_t *used, gt_frame *f);
/* 1 if the decoder holds a partial frame (EOF now would truncate it);
 * 0 between frames and after an error. */
int gt_decoder_partial(const gt_decoder *d);

/* Encoders: append one complete frame to b. */
int gt_wire_put_filename(gt_buf *b, const char *name); /* GT_EINVAL if >= 1024 bytes */
int gt_wire_put_config(gt_buf *b, const char *xml, size_t len);
int gt_wire_put_header(gt_buf *b, const char *xml, size_t len);
int gt_wire_put_close(gt_buf *b);
int gt_wire_put_text(gt_buf *b, const char *s, size_t len);
int gt_wire_put_query(gt_buf *b, uint64_t correlation_id, const char *q, size_t len);
int gt_wire_put_response(gt_buf *b, uint64_t correlation_id, const char *s, size_t len);
int gt_wire_put_error(gt_buf *b, const char *s, size_t len);
int gt_wire_put_dependency_query(gt_buf *b, const char *xml, size_t len);
int gt_wire_put_acq(gt_buf *b, const gt_acq *a);
/* Writes attr_len = strlen(attr)+1 with the NUL (C++ Gadgetron convention)
 * and sets attribute_string_len to match; 0 and no bytes when no attr. */
int gt_wire_put_image(gt_buf *b, const gt_image *im);
int gt_wire_put_wave(gt_buf *b, const gt_wave *w);

#endif
