/* src/proto/config_load.c — finding a config file by the name a client sent
 * (CONFIG_FILENAME). The name comes from the network, so it must never
 * leave the config directory: only plain file names are accepted. */
#include "config_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gt/err.h"

#define MAX_NAME 255
/* Config files are small; this only bounds a mistaken or hostile file. */
#define MAX_FILE (16u << 20)

static int check_name(const char *name)
{
    size_t n;

    if (!name || !*name)
        return gt_err_set(GT_EACCESS, "config file name is empty");
    n = strnlen(name, MAX_NAME + 1);
    if (n > MAX_NAME)
        return gt_err_set(GT_EACCESS, "config file name is longer than %d bytes", MAX_NAME);
    if (name[0] == '.')
        return gt_err_set(GT_EACCESS, "config file name may not start with '.'");
    if (strstr(name, ".."))
        return gt_err_set(GT_EACCESS, "config file name may not contain \"..\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '/' || c == '\\')
            return gt_err_set(GT_EACCESS, "config file name may not contain a path separator");
        if (c < 0x20 || c == 0x7f)
            return gt_err_set(GT_EACCESS, "config file name contains a control character");
    }
    return 0;
}

static int stat_regular(const char *path, const char *name)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return gt_err_set(GT_ENOTFOUND, "config file %s not found", name);
        return gt_err_set(GT_EIO, "config file %s: %s", name, strerror(errno));
    }
    if (!S_ISREG(st.st_mode))
        return gt_err_set(GT_ENOTFOUND, "config file %s is not a regular file", name);
    return 0;
}

int gt_config_path(const char *dir, const char *name, char **path)
{
    char *p;
    int rc;

    if (!path)
        return gt_err_set(GT_EINVAL, "config path: NULL argument");
    *path = NULL;
    if (!dir || !*dir)
        return gt_err_set(GT_EINVAL, "config path: no config directory");
    if ((rc = check_name(name)))
        return rc;
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        return gt_err_set(GT_ENOMEM, "config path: out of memory");
    if ((rc = stat_regular(p, name))) {
        free(p);
        return rc;
    }
    *path = p;
    return 0;
}

static int read_file(const char *path, const char *name, char **buf, size_t *len)
{
    struct stat st;
    char *b = NULL;
    size_t got = 0;
    int fd, rc;

    *buf = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? gt_err_set(GT_ENOTFOUND, "config file %s not found", name)
                               : gt_err_set(GT_EIO, "config file %s: %s", name, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = gt_err_set(GT_ENOTFOUND, "config file %s is not a regular file", name);
        goto fail;
    }
    if ((unsigned long long)st.st_size > MAX_FILE) {
        rc = gt_err_set(GT_ETOOBIG, "config file %s is larger than %u bytes", name, MAX_FILE);
        goto fail;
    }
    b = malloc((size_t)st.st_size + 1);
    if (!b) {
        rc = gt_err_set(GT_ENOMEM, "config: out of memory");
        goto fail;
    }
    while (got < (size_t)st.st_size) {
        ssize_t k = read(fd, b + got, (size_t)st.st_size - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = gt_err_set(GT_EIO, "config file %s: %s", name, strerror(errno));
            goto fail;
        }
        if (k == 0)
            break; /* shrank while reading: parse what is there */
        got += (size_t)k;
    }
    b[got] = '\0';
    close(fd);
    *buf = b;
    *len = got;
    return 0;
fail:
    free(b);
    close(fd);
    return rc;
}

int gt_config_load(const char *dir, const char *name, gt_config **out)
{
    char *path = NULL, *buf = NULL;
    size_t len = 0;
    int rc;

    if (!out)
        return gt_err_set(GT_EINVAL, "config load: NULL argument");
    *out = NULL;
    if ((rc = gt_config_path(dir, name, &path)) || (rc = read_file(path, name, &buf, &len)))
        goto done;
    rc = gt_config_parse(buf, len, out);
    if (rc) {
        char detail[512];
        snprintf(detail, sizeof detail, "%s", gt_err_detail());
        gt_err_set(rc, "%s: %s", name, detail);
    }
done:
    free(path);
    free(buf);
    return rc;
}
