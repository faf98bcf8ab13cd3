/* gt/log.h — levelled logging to stderr.
 *
 * gt_log() checks the level before formatting anything. Each line carries a
 * timestamp, the level, and this thread's context (for example "conn 7" or
 * "conn 7 gadget AccTrig"), set with gt_log_set_context(). Thread safe; a
 * line is written with one write(2) so lines from threads do not interleave. */
#ifndef GT_LOG_H
#define GT_LOG_H

enum gt_log_level { GT_LOG_ERROR = 0, GT_LOG_WARN = 1, GT_LOG_INFO = 2, GT_LOG_DEBUG = 3 };

extern int gt_log_threshold; /* messages with level <= threshold are written */

#define gt_log(level, ...)                                                                         \
    do {                                                                                           \
        if ((level) <= gt_log_threshold)                                                           \
            gt_log_write((level), __VA_ARGS__);                                                    \
    } while (0)

void gt_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gt_log_set_level(int level);
/* "error", "warn"/"warning", "info", "debug" (case-insensitive) or 0..3. */
int gt_log_parse_level(const char *s, int *level);
/* Thread-local context prefix; NULL or "" clears it. Copied. */
void gt_log_set_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *gt_log_context(void);

#endif
