/* s3_fn_hook.h - S3's event notifications invoke the region's functions. */
#ifndef TANDEM_S3_FN_HOOK_H
#define TANDEM_S3_FN_HOOK_H

struct s3;
struct fn;

/* s3_fn_hook_attach - hand @s a way to check and invoke @f's functions and
 * start delivering notifications; @f NULL stops the delivery (before fn_close). */
void s3_fn_hook_attach(struct s3 *s, struct fn *f);

#endif
