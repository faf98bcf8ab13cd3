/* Levelled logging to stderr (see gt/log.h). */
#include "gt/log.h"
#include "gt/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int gt_log_threshold = GT_LOG_INFO;

static _Thread_local char context[128];

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void gt_log_set_level(int level)
{
    if (level < GT_LOG_ERROR)
        level = GT_LOG_ERROR;
    if (level > GT_LOG_DEBUG)
        level = GT_LOG_DEBUG;
    gt_log_threshold = level;
}

int gt_log_parse_level(const char *s, int *level)
{
    static const struct {
        const char *name;
        int level;
    } names[] = {{"error", GT_LOG_ERROR},
                 {"warn", GT_LOG_WARN},
                 {"warning", GT_LOG_WARN},
                 {"info", GT_LOG_INFO},
                 {"debug", GT_LOG_DEBUG},
                 {"0", 0},
                 {"1", 1},
                 {"2", 2},
                 {"3", 3}};
    if (!s)
        return GT_EINVAL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *level = names[i].level;
            return 0;
        }
    }
    return gt_err_set(GT_EINVAL, "unknown log level '%s' (use error, warn, info or debug)", s);
}

void gt_log_set_context(const char *fmt, ...)
{
    if (!fmt || !*fmt) {
        context[0] = '\0';
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(context, sizeof context, fmt, ap);
    va_end(ap);
}

const char *gt_log_context(void) { return context; }

void gt_log_write(int level, const char *fmt, ...)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%02d:%02d:%02d.%03ld %-5s %s%s", tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000L,
                     level_names[level < 0   ? 0
                                 : level > 3 ? 3
                                             : level],
                     context, context[0] ? ": " : "");
    if (n < 0)
        return;
    if ((size_t)n < sizeof line) {
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
        va_end(ap);
        if (m > 0)
            n += m;
    }
    if ((size_t)n >= sizeof line - 1)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}
