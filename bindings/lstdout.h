/* lstdout.h — the host's standard output (bindings/lstdout.c). */
#ifndef LSTDOUT_H
#define LSTDOUT_H

/* Keep the reason of a failed write to standard output (when it is not a terminal), and
 * check it again at exit(). */
void lpl_watch_stdout(void);
/* Report a failed write to standard output once per failure; 1 if there was one. */
int lpl_check_stdout(void);
/* 1 when a write to standard output has failed since the start. */
int lpl_stdout_failed(void);

#endif
