/* Error table and per-thread error details (see gt/err.h). */
#include "gt/err.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char detail[1024];
static _Thread_local int last_code;
static _Thread_local int has_detail;

const char *gt_strerror(int err)
{
    switch (err) {
#define GT_ERR_CASE_(name, code, text)                                                             \
    case (code):                                                                                   \
        return text;
        GT_ERRORS(GT_ERR_CASE_)
#undef GT_ERR_CASE_
    default:
        return "unknown error";
    }
}

int gt_err_vset(int err, const char *fmt, va_list ap)
{
    last_code = err;
    if (fmt) {
        vsnprintf(detail, sizeof detail, fmt, ap);
        has_detail = 1;
    } else {
        has_detail = 0;
    }
    return err;
}

int gt_err_set(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gt_err_vset(err, fmt, ap);
    va_end(ap);
    return err;
}

const char *gt_err_detail(void)
{
    if (has_detail)
        return detail;
    if (last_code)
        return gt_strerror(last_code);
    return "";
}

int gt_err_code(void) { return last_code; }

void gt_err_clear(void)
{
    last_code = 0;
    has_detail = 0;
    detail[0] = '\0';
}
