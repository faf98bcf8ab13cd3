/* gt/msg_wire.h — Gadgetron 4 composite messages on the wire:
 *   1023 RECONDATA   (gt_recon_data,  Gadgetron IsmrmrdReconData)
 *   1024 IMAGE_ARRAY (gt_image_array, Gadgetron IsmrmrdImageArray)
 *   1050 BUCKET      (gt_bucket,      Gadgetron AcquisitionBucket)
 * byte-compatible with Gadgetron 4's BufferWriter/Reader,
 * IsmrmrdImageArrayWriter/Reader and AcquisitionBucketWriter/Reader
 * (protocol.md §1.8). All little-endian.
 *
 * Generic serialization: uint64 counts; optional = 1 byte (0/1) + value;
 * hoNDArray = uint64 ndim, ndim x uint64 dims, elements (dim 0 fastest);
 * strings = uint64 length + bytes (no NUL); headers as raw packed structs.
 *
 * 1023 body: uint64 nbits, then per bit: DataBuffered data, uint8 has_ref
 *   [+ DataBuffered ref]. DataBuffered: hoNDArray<cf> data [E0 E1 E2 CHA N S
 *   LOC], optional hoNDArray<float> trajectory, optional hoNDArray<float>
 *   density, hoNDArray<AcquisitionHeader 340 B> headers [E1 E2 N S LOC],
 *   SamplingDescription as 56 raw bytes: float encoded_FOV[3], float
 *   recon_FOV[3], uint16 encoded_matrix[3], uint16 recon_matrix[3], 3 x
 *   uint16 {min, center, max}, 2 bytes of struct padding (C++ sizeof with
 *   4-byte alignment; we write them as zeros and ignore them on input).
 * 1024 body: hoNDArray<cf> data [X Y Z CHA N S LOC], hoNDArray<ImageHeader
 *   198 B> headers [N S LOC], uint64 nmeta + nmeta x (uint64 len +
 *   ismrmrdMeta XML), optional (uint64 count + count x (WaveformHeader 40 B +
 *   samples*channels uint32)), optional hoNDArray<AcquisitionHeader>.
 * 1050 body: 13 x uint64 {data: count, header_bytes, data_bytes, traj_bytes;
 *   ref: same; data_stats_bytes; ref_stats_bytes; waveforms: count,
 *   header_bytes, data_bytes}, then data headers, data trajectories, data
 *   samples, data stats, the same four for ref, waveform headers, waveform
 *   samples. Stats = uint64 count + count x 9 x (uint64 n + n x uint16)
 *   (sets of e1, e2, slice, phase, contrast, repetition, set, segment,
 *   average), one per encoding space.
 *
 * What our containers do not hold: 1024's acq_headers and 1050's stats are
 * checked and dropped on input; on output stats are recomputed from the
 * acquisitions (as Gadgetron's AcquisitionBucket::add_acquisition does) and
 * acq_headers are sent absent. A gt_image_array meta entry that is NULL is
 * sent as an empty <ismrmrdMeta/> unless all are NULL (then nmeta = 0).
 *
 * Thread safety: none of these keep state; distinct calls may run on
 * distinct threads. */
#ifndef GT_MSG_WIRE_H
#define GT_MSG_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include "gt/buf.h"
#include "gt/msg.h"
#include "gt/wire.h"

/* Appends one frame (uint16 id + body) for m, whose type must be
 * GT_MSG_RECON_DATA, GT_MSG_IMAGE_ARRAY or GT_MSG_BUCKET; arrays may live on
 * any device (copied to the host). On failure b is left as it was.
 * GT_EINVAL: another type, or a container inconsistent with itself (wrong
 * array type, missing buffers); GT_ENOMEM. */
int gt_msg_wire_put(gt_buf *b, const gt_msg *m);

/* Finds the end of a composite body (the bytes after the uint16 id).
 * Returns 1 when p[0..n) holds a complete body (*body_len = its length;
 * bytes past it are not looked at), 0 when more bytes are needed, or
 * GT_EPROTO (malformed: not a composite id, optional flag not 0/1, a
 * hoNDArray with more than 8 dims or header arrays with more than 5/3,
 * bucket header bytes != count x header size) or GT_ETOOBIG (a length over
 * l: max_composite_bytes for the whole body and for any count of elements
 * that could not fit in it, max_attr per meta XML, max_wave_bytes per image
 * array waveform), with a gt_err detail. Never allocates. Reads only length
 * fields: O(number of fields); a bucket costs O(1) (its size table). NULL l
 * = gt_wire_limits_default. */
int gt_msg_wire_measure(const uint8_t *p, size_t n, uint16_t id, const gt_wire_limits *l,
                        size_t *body_len);

/* The same as a resumable gt_composite_measure_fn for gt_decoder: on 0 it
 * sets prog->need (> n) and remembers the last complete element, so the
 * next call on the same, longer body resumes there. */
int gt_msg_wire_measure_step(const uint8_t *p, size_t n, uint16_t id, const gt_wire_limits *l,
                             gt_composite_progress *prog, size_t *body_len);

/* gt_decoder_set_composite(d, gt_msg_wire_measure_step). */
void gt_msg_wire_register(gt_decoder *d);

/* Decodes a complete body of message id (len bytes, e.g. a gt_frame's raw)
 * into a new message (*out, refcount 1, data on the CPU; NULL on error).
 * The body is measured first, so every count and length has been checked
 * against the bytes present and the limits (NULL = defaults) before
 * anything is allocated; allocations stay proportional to len. The body
 * must be consumed exactly. Errors: GT_EPROTO (malformed, truncated,
 * trailing bytes, more meta containers than images, bucket sizes that
 * disagree with its headers or a stats vector that does not fill its
 * bytes, acquisition trajectory_dimensions > 16), GT_ETOOBIG (as measure,
 * plus max_acq_bytes per bucket acquisition and max_wave_bytes per bucket
 * waveform), GT_EXML (bad meta XML), GT_ENOMEM. */
int gt_msg_wire_decode(uint16_t id, const uint8_t *body, size_t len, const gt_wire_limits *l,
                       gt_msg **out);

#endif
