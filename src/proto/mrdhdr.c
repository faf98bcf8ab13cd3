/* src/proto/mrdhdr.c — the ISMRMRD XML header fields the server uses (see
 * gt/mrdhdr.h). Element names follow the ISMRMRD schema
 * (http://www.ismrm.org/ISMRMRD, ismrmrd.xsd) and are matched on their
 * local names, as ISMRMRD's own reader does. Numbers that do not parse or do
 * not fit their field are GT_EDATA: the header would otherwise silently
 * produce a wrong reconstruction. */
#include "gt/mrdhdr.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gt/err.h"
#include "xmlutil.h"

/* The element at path[0]/path[1]/... below el, or NULL. */
static xmlNode *walk(xmlNode *el, const char *const *path)
{
    for (; el && *path; path++)
        el = gt_xml_child(el, *path);
    return el;
}

#define PATH(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Copies the trimmed text of the element at path below el into dst (cap
 * bytes, truncated); dst untouched when absent. */
static int get_str(xmlNode *el, const char *const *path, char *dst, size_t cap)
{
    xmlNode *n = walk(el, path);
    char *t = NULL;
    int rc;
    if (!n)
        return 0;
    if ((rc = gt_xml_text(n, 1, &t)))
        return rc;
    snprintf(dst, cap, "%s", t);
    free(t);
    return 0;
}

/* Parses the text of n as a number: *found = 0 when n is NULL. */
static int num_text(xmlNode *n, double *v, int integral, int *found)
{
    char *t = NULL, *end;
    int rc;

    *found = 0;
    if (!n)
        return 0;
    if ((rc = gt_xml_text(n, 1, &t)))
        return rc;
    errno = 0;
    *v = strtod(t, &end);
    /* Integers written as "2.0" are accepted, as ISMRMRD's reader does. */
    if (!*t || *end || errno || !isfinite(*v) || (integral && floor(*v) != *v)) {
        rc = gt_err_set(GT_EDATA, "ISMRMRD header line %d: <%s> is not a valid number: \"%.40s\"",
                        gt_xml_line(n), (const char *)n->name, t);
        free(t);
        return rc;
    }
    free(t);
    *found = 1;
    return 0;
}

static int get_u16(xmlNode *el, const char *const *path, uint16_t *dst, int *found)
{
    xmlNode *n = walk(el, path);
    double v;
    int f, rc;

    if (found)
        *found = 0;
    if ((rc = num_text(n, &v, 1, &f)) || !f)
        return rc;
    if (v < 0 || v > 65535)
        return gt_err_set(GT_EDATA, "ISMRMRD header line %d: <%s> = %.0f is out of range 0..65535",
                          gt_xml_line(n), (const char *)n->name, v);
    *dst = (uint16_t)v;
    if (found)
        *found = 1;
    return 0;
}

static int get_float(xmlNode *el, const char *const *path, float *dst)
{
    double v;
    int f, rc;
    if ((rc = num_text(walk(el, path), &v, 0, &f)) || !f)
        return rc;
    *dst = (float)v;
    return 0;
}

static int get_limit(xmlNode *limits, const char *name, gt_mrd_limit *l)
{
    xmlNode *n = gt_xml_child(limits, name);
    int rc;

    memset(l, 0, sizeof *l);
    if (!n)
        return 0;
    if ((rc = get_u16(n, PATH("minimum"), &l->min, NULL)) ||
        (rc = get_u16(n, PATH("maximum"), &l->max, NULL)) ||
        (rc = get_u16(n, PATH("center"), &l->center, NULL)))
        return rc;
    if (l->min > l->max)
        return gt_err_set(GT_EDATA, "ISMRMRD header line %d: <%s> minimum %u > maximum %u",
                          gt_xml_line(n), name, l->min, l->max);
    l->present = 1;
    return 0;
}

static int get_space(xmlNode *enc, const char *name, uint16_t m[3], float fov[3])
{
    static const char *const axes[] = {"x", "y", "z"};
    xmlNode *s = gt_xml_child(enc, name);
    int rc, found;

    if (!s || !gt_xml_child(s, "matrixSize"))
        return gt_err_set(GT_EDATA, "ISMRMRD header line %d: <encoding> has no <%s>/<matrixSize>",
                          gt_xml_line(enc), name);
    for (int i = 0; i < 3; i++) {
        m[i] = 1;
        fov[i] = 0;
        if ((rc = get_u16(s, PATH("matrixSize", axes[i]), &m[i], &found)) ||
            (rc = get_float(s, PATH("fieldOfView_mm", axes[i]), &fov[i])))
            return rc;
    }
    return 0;
}

static int get_encoding(xmlNode *enc, gt_mrd_encoding *e)
{
    xmlNode *lim = gt_xml_child(enc, "encodingLimits");
    xmlNode *pi = gt_xml_child(enc, "parallelImaging");
    int rc;

    memset(e, 0, sizeof *e);
    if ((rc = get_space(enc, "encodedSpace", e->enc_matrix, e->enc_fov)) ||
        (rc = get_space(enc, "reconSpace", e->recon_matrix, e->recon_fov)) ||
        (rc = get_limit(lim, "kspace_encoding_step_1", &e->e1)) ||
        (rc = get_limit(lim, "kspace_encoding_step_2", &e->e2)) ||
        (rc = get_limit(lim, "average", &e->average)) ||
        (rc = get_limit(lim, "slice", &e->slice)) ||
        (rc = get_limit(lim, "contrast", &e->contrast)) ||
        (rc = get_limit(lim, "phase", &e->phase)) ||
        (rc = get_limit(lim, "repetition", &e->repetition)) ||
        (rc = get_limit(lim, "set", &e->set)) || (rc = get_limit(lim, "segment", &e->segment)) ||
        (rc = get_str(enc, PATH("trajectory"), e->trajectory, sizeof e->trajectory)))
        return rc;
    e->accel[0] = e->accel[1] = 1;
    if (!pi)
        return 0;
    e->has_parallel = 1;
    if ((rc = get_u16(pi, PATH("accelerationFactor", "kspace_encoding_step_1"), &e->accel[0],
                      NULL)) ||
        (rc = get_u16(pi, PATH("accelerationFactor", "kspace_encoding_step_2"), &e->accel[1],
                      NULL)) ||
        (rc = get_str(pi, PATH("calibrationMode"), e->calib_mode, sizeof e->calib_mode)) ||
        (rc = get_str(pi, PATH("interleavingDimension"), e->interleaving_dim,
                      sizeof e->interleaving_dim)))
        return rc;
    if (e->accel[0] == 0 || e->accel[1] == 0)
        return gt_err_set(GT_EDATA, "ISMRMRD header line %d: acceleration factor 0",
                          gt_xml_line(pi));
    return 0;
}

static int get_noise_dependency(xmlNode *mi, gt_mrd_header *h)
{
    for (xmlNode *d = gt_xml_child(mi, "measurementDependency"); d;
         d = gt_xml_next(d, "measurementDependency")) {
        char type[64] = "";
        int rc = get_str(d, PATH("dependencyType"), type, sizeof type);
        if (rc)
            return rc;
        if (strcasecmp(type, "noise") == 0)
            return get_str(d, PATH("measurementID"), h->noise_dependency,
                           sizeof h->noise_dependency);
    }
    return 0;
}

void gt_mrd_labels_free(char **labels, size_t n)
{
    for (size_t i = 0; labels && i < n; i++)
        free(labels[i]);
    free(labels);
}

static int labels_from(xmlNode *root, char ***labels, size_t *n)
{
    char **l = NULL;
    size_t cnt = 0, cap = 0;
    *labels = NULL;
    *n = 0;
    int rc;
    xmlNode *asi = gt_xml_child(root, "acquisitionSystemInformation");
    for (xmlNode *cl = gt_xml_child(asi, "coilLabel"); cl; cl = gt_xml_next(cl, "coilLabel")) {
        char *name = NULL;
        if ((rc = gt_xml_child_text(cl, "coilName", 1, &name)) < 0)
            goto fail;
        if (!name && !(name = strdup(""))) {
            rc = GT_ENOMEM;
            goto fail;
        }
        if (cnt == cap) {
            size_t nc = cap ? 2 * cap : 16;
            char **t = cnt < GT_MRD_MAX_COIL_LABELS ? realloc(l, nc * sizeof *l) : NULL;
            if (!t) {
                free(name);
                rc = cnt < GT_MRD_MAX_COIL_LABELS
                         ? GT_ENOMEM
                         : gt_err_set(GT_EDATA, "more than %u coil labels", GT_MRD_MAX_COIL_LABELS);
                goto fail;
            }
            l = t;
            cap = nc;
        }
        l[cnt++] = name;
    }
    *labels = l;
    *n = cnt;
    return 0;
fail:
    gt_mrd_labels_free(l, cnt);
    return rc;
}

int gt_mrd_coil_labels(const char *xml, size_t len, char ***labels, size_t *n)
{
    xmlDoc *doc = NULL;
    *labels = NULL;
    *n = 0;
    while (len > 0 && xml[len - 1] == '\0')
        len--;
    int rc = gt_xml_read(xml, len, "ISMRMRD header", &doc);
    if (rc < 0)
        return rc;
    rc = labels_from(xmlDocGetRootElement(doc), labels, n);
    xmlFreeDoc(doc);
    return rc;
}

static int parse_fields(xmlNode *root, gt_mrd_header *h)
{
    xmlNode *mi = gt_xml_child(root, "measurementInformation");
    xmlNode *as = gt_xml_child(root, "acquisitionSystemInformation");
    xmlNode *sp = gt_xml_child(root, "sequenceParameters");
    int rc, found;

    h->relative_noise_bandwidth = 0.793f;
    if ((rc = get_str(mi, PATH("measurementID"), h->measurement_id, GT_MRD_STR)) ||
        (rc = get_str(mi, PATH("protocolName"), h->protocol_name, GT_MRD_STR)) ||
        (rc = get_str(mi, PATH("patientPosition"), h->patient_position, GT_MRD_STR)) ||
        (rc =
             get_str(mi, PATH("seriesInstanceUIDRoot"), h->series_instance_uid_root, GT_MRD_STR)) ||
        (rc = get_noise_dependency(mi, h)) ||
        (rc = get_str(root, PATH("subjectInformation", "patientID"), h->patient_id, GT_MRD_STR)) ||
        (rc = get_str(root, PATH("studyInformation", "studyID"), h->study_id, GT_MRD_STR)) ||
        (rc = get_str(as, PATH("deviceID"), h->device_id, GT_MRD_STR)) ||
        (rc = get_u16(as, PATH("receiverChannels"), &h->receiver_channels, &found)))
        return rc;
    h->has_receiver_channels = found;
    if ((rc =
             get_float(as, PATH("relativeReceiverNoiseBandwidth"), &h->relative_noise_bandwidth)) ||
        (rc = get_float(as, PATH("systemFieldStrength_T"), &h->field_strength_t)) ||
        (rc = get_float(sp, PATH("TR"), &h->tr_ms)) || (rc = get_float(sp, PATH("TE"), &h->te_ms)))
        return rc;

    for (xmlNode *e = gt_xml_child(root, "encoding"); e; e = gt_xml_next(e, "encoding")) {
        if (h->n_encodings == GT_MRD_MAX_ENCODINGS)
            return gt_err_set(GT_EDATA, "ISMRMRD header line %d: more than %d encoding spaces",
                              gt_xml_line(e), GT_MRD_MAX_ENCODINGS);
        if ((rc = get_encoding(e, &h->enc[h->n_encodings])))
            return rc;
        h->n_encodings++;
    }
    if (h->n_encodings == 0)
        return gt_err_set(GT_EDATA, "ISMRMRD header has no <encoding>");
    return labels_from(root, &h->coil_labels, &h->n_coil_labels);
}

int gt_mrd_header_parse(const char *xml, size_t len, gt_mrd_header **out)
{
    gt_mrd_header *h = NULL;
    xmlDoc *doc = NULL;
    xmlNode *root;
    int rc;

    if (!out || !xml)
        return gt_err_set(GT_EINVAL, "ISMRMRD header: NULL argument");
    *out = NULL;
    while (len > 0 && xml[len - 1] == '\0')
        len--;
    if ((rc = gt_xml_read(xml, len, "ISMRMRD header", &doc)))
        return rc;
    root = xmlDocGetRootElement(doc);
    if (!gt_xml_is(root, "ismrmrdHeader")) {
        rc = gt_err_set(GT_EDATA, "ISMRMRD header: root element is <%s>, not <ismrmrdHeader>",
                        (const char *)root->name);
        goto fail;
    }
    h = calloc(1, sizeof *h);
    if (!h || !(h->xml = malloc(len + 1))) {
        rc = gt_err_set(GT_ENOMEM, "ISMRMRD header: out of memory");
        goto fail;
    }
    memcpy(h->xml, xml, len);
    h->xml[len] = '\0';
    h->xml_len = len;
    if ((rc = parse_fields(root, h)))
        goto fail;
    xmlFreeDoc(doc);
    *out = h;
    return 0;
fail:
    gt_mrd_header_destroy(h);
    xmlFreeDoc(doc);
    return rc;
}

void gt_mrd_header_destroy(gt_mrd_header *h)
{
    if (!h)
        return;
    gt_mrd_labels_free(h->coil_labels, h->n_coil_labels);
    free(h->xml);
    free(h);
}
