/* stack_local.h - the embedded default: one local `tandem server` per region.
 *
 * When a stack names no endpoints, `tandem up` runs each region it needs as a
 * child `tandem server` under the stack's state folder:
 *   <state>/credentials.json                 root keys, generated once (0600)
 *   <state>/stacks/<stack>/regions/<region>/ data/, port, pid, server.log
 * Servers listen on 127.0.0.1 (the port is kept and reused when free), know
 * each other as peers, and keep running after the command exits, so the
 * walkthrough's clients can reach them; `tandem destroy` stops them and
 * removes their folders. Not thread-safe: one caller at a time. */
#ifndef TANDEM_STACK_LOCAL_H
#define TANDEM_STACK_LOCAL_H

#include <stdbool.h>
#include <stddef.h>

#include "awsc.h"
#include "err.h"

struct stack_local;

/*
 * stack_local_open - use @state_dir (created if missing) for stack @stack.
 * Root credentials: <state_dir>/credentials.json, created on first use from
 * $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY when both are set, otherwise
 * random. @exe is the tandem binary to run (NULL: /proc/self/exe, or
 * $TANDEM_BIN when set). @out owned, stack_local_free().
 */
enum err_code stack_local_open(const char *state_dir, const char *stack, const char *exe,
                               struct stack_local **out, struct err *e);

void stack_local_free(struct stack_local *l); /* NULL ok; servers keep running */

/* stack_local_creds - the root keys every local region accepts (borrowed). */
const struct awsc_creds *stack_local_creds(const struct stack_local *l);

/*
 * stack_local_start - make sure a server runs for each of @regions, started
 * together so each knows the others as peers. Waits until each answers TCP
 * connections (10 s). ERR_IO with the server's last log line on failure.
 */
enum err_code stack_local_start(struct stack_local *l, char *const *regions, size_t n,
                                struct err *e);

/* stack_local_url - the URL of running region @region (ERR_NOTFOUND if it does not run). */
enum err_code stack_local_url(struct stack_local *l, const char *region, char *url, size_t cap,
                              struct err *e);

/* stack_local_stop - stop every region of the stack and remove its folders
 * (@remove_data) or keep them. */
enum err_code stack_local_stop(struct stack_local *l, bool remove_data, struct err *e);

#endif
