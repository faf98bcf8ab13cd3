/* gt/err.h — one error table for the whole project.
 *
 * Fallible functions return 0 or a negative GT_E* code. A human-readable
 * detail ("Received second config file. Only one allowed.") can be attached
 * to the calling thread with gt_err_set(); it stays until the next
 * gt_err_set()/gt_err_clear() on that thread. Thread safe. */
#ifndef GT_ERR_H
#define GT_ERR_H

#include <stdarg.h>

#define GT_ERRORS(X)                                                                               \
    X(OK, 0, "success")                                                                            \
    X(NOMEM, -1, "out of memory")                                                                  \
    X(INVAL, -2, "invalid argument")                                                               \
    X(PROTO, -3, "protocol error")                                                                 \
    X(TOOBIG, -4, "length exceeds limit")                                                          \
    X(AGAIN, -5, "try again")                                                                      \
    X(IO, -6, "input/output error")                                                                \
    X(NOTFOUND, -7, "not found")                                                                   \
    X(UNSUPPORTED, -8, "unsupported")                                                              \
    X(CONFIG, -9, "configuration error")                                                           \
    X(CLOSED, -10, "closed")                                                                       \
    X(TIMEDOUT, -11, "timed out")                                                                  \
    X(XML, -12, "malformed XML")                                                                   \
    X(STATE, -13, "message not allowed in this state")                                             \
    X(ACCESS, -14, "access refused")                                                               \
    X(RANGE, -15, "value out of range")                                                            \
    X(DEVICE, -16, "device error")                                                                 \
    X(DATA, -17, "inconsistent data")                                                              \
    X(INTERNAL, -18, "internal error")

enum gt_err {
#define GT_ERR_ENUM_(name, code, text) GT_E##name = (code),
    GT_ERRORS(GT_ERR_ENUM_)
#undef GT_ERR_ENUM_
};

/* Static description of an error code ("unknown error" for others). */
const char *gt_strerror(int err);

/* Records a detail message for this thread and returns err unchanged, so
 * callers can write `return gt_err_set(GT_EPROTO, "bad id %u", id);`. */
int gt_err_set(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int gt_err_vset(int err, const char *fmt, va_list ap);

/* This thread's last detail, or gt_strerror(code) of the last set code when no
 * detail was given, or "" when nothing was set. Valid until the next set. */
const char *gt_err_detail(void);
int gt_err_code(void);
void gt_err_clear(void);

#endif
