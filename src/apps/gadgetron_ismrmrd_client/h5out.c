/* h5out.c — received results on disk, laid out as Gadgetron's client lays
 * them out (protocol.md §1.13): images appended with ismrmrd_append_image to
 * <file> group <G>, variable image_<image_series_index>, i.e. datasets
 * <G>/image_<s>/{header,attributes,data}. The file is opened on the first
 * image; an existing HDF5 file is extended (new groups added), never
 * truncated. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "gt/err.h"
#include "gt/log.h"

struct h5out {
    ISMRMRD_Dataset ds;
    char *file, *group;
    int opened;
    uint64_t images;
};

int h5out_create(const char *file, const char *group, h5out **out)
{
    h5_init();
    h5out *o = calloc(1, sizeof *o);
    if (!o)
        return gt_err_set(GT_ENOMEM, "out of memory");
    o->file = strdup(file);
    o->group = strdup(group);
    if (!o->file || !o->group) {
        h5out_destroy(o);
        return gt_err_set(GT_ENOMEM, "out of memory");
    }
    o->ds.filename = o->file;
    o->ds.groupname = o->group;
    *out = o;
    return 0;
}

void h5out_destroy(h5out *o)
{
    if (!o)
        return;
    if (o->opened) {
        h5_lock();
        H5Fflush(o->ds.fileid, H5F_SCOPE_GLOBAL);
        H5Fclose(o->ds.fileid);
        h5_unlock();
    }
    free(o->file);
    free(o->group);
    free(o);
}

/* Called with the lock held. */
static int open_file(h5out *o)
{
    struct stat st;
    hid_t fid;
    if (stat(o->file, &st) == 0) {
        fid = H5Fopen(o->file, H5F_ACC_RDWR, H5P_DEFAULT);
        if (fid < 0)
            return gt_err_set(GT_EIO,
                              "cannot open output file '%s' for writing as HDF5 "
                              "(is it an HDF5 file, writable and not open elsewhere?)",
                              o->file);
    } else {
        fid = H5Fcreate(o->file, H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
        if (fid < 0)
            return gt_err_set(GT_EIO, "cannot create output file '%s'", o->file);
    }
    o->ds.fileid = fid;
    o->opened = 1;
    return 0;
}

int h5out_write_image(h5out *o, const gt_image *im)
{
    const ISMRMRD_ImageHeader *h = &im->head;
    size_t esz = gt_image_elem_size(h->data_type);
    if (esz == 0)
        return gt_err_set(GT_EDATA, "image with unknown data type %u", h->data_type);
    size_t count = gt_image_count(h);
    if (count == 0 || count * esz != im->data_bytes || !im->data)
        return gt_err_set(
            GT_EDATA, "image size %ux%ux%u x %u channels does not match its %zu data bytes",
            h->matrix_size[0], h->matrix_size[1], h->matrix_size[2], h->channels, im->data_bytes);

    char varname[32];
    snprintf(varname, sizeof varname, "image_%u", (unsigned)h->image_series_index);
    ISMRMRD_Image img;
    memcpy(&img.head, h, sizeof img.head);
    img.attribute_string = im->attr ? im->attr : (char *)"";
    img.data = im->data;

    int rc = 0;
    h5_lock();
    if (!o->opened)
        rc = open_file(o);
    if (rc == 0 && ismrmrd_append_image(&o->ds, varname, &img) != ISMRMRD_NOERROR)
        rc = gt_err_set(GT_EIO, "cannot write image to '%s' group '%s/%s': %s", o->file, o->group,
                        varname, h5_last_error());
    h5_unlock();
    if (rc == 0) {
        o->images++;
        gt_log(GT_LOG_DEBUG, "image series %u index %u written", h->image_series_index,
               h->image_index);
    }
    return rc;
}

static int write_text_file(const char *path, const char *s, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return gt_err_set(GT_EIO, "cannot write '%s': %s", path, strerror(errno));
    while (len > 0) {
        ssize_t k = write(fd, s, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int e = errno;
            close(fd);
            return gt_err_set(GT_EIO, "cannot write '%s': %s", path, strerror(e));
        }
        s += k;
        len -= (size_t)k;
    }
    if (close(fd) < 0)
        return gt_err_set(GT_EIO, "cannot write '%s': %s", path, strerror(errno));
    return 0;
}

int h5out_write_dependency(h5out *o, const char *xml, size_t len)
{
    if (!o->opened)
        return write_text_file(o->file, xml, len);
    /* Images already went to that HDF5 file: don't clobber it. */
    size_t n = strlen(o->file) + 5;
    char *alt = malloc(n);
    if (!alt)
        return gt_err_set(GT_ENOMEM, "out of memory");
    snprintf(alt, n, "%s.xml", o->file);
    fprintf(stderr, CLIENT_NAME ": dependency query reply written to '%s' ('%s' holds images)\n",
            alt, o->file);
    int rc = write_text_file(alt, xml, len);
    free(alt);
    return rc;
}

uint64_t h5out_images(const h5out *o) { return o->images; }
