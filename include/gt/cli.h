/* gt/cli.h — small helpers shared by the command-line programs. */
#ifndef GT_CLI_H
#define GT_CLI_H

/* Writes "<port>\n" to path atomically (temp file + rename), so a reader
 * polling for the file never sees it half written. 0 or -1 (errno set). */
int gt_cli_write_port_file(const char *path, int port);

/* Parses a whole decimal string into [lo, hi]. 0, or -1 for anything else. */
int gt_cli_parse_long(const char *s, long lo, long hi, long *out);

#endif
