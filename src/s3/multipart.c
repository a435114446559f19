/* multipart.c - multipart uploads (not implemented yet: answered with
 * NotImplemented so clients fall back or fail clearly). */
#include "s3_int.h"

enum err_code s3_upload_drop(struct store_txn *t, struct s3_newver *nv, struct err *e)
{
    (void)t;
    (void)nv;
    (void)e;
    return ERR_OK;
}

static void not_yet(struct http_req *r)
{
    s3_error(r, S3E_NOT_IMPLEMENTED, "Multipart uploads are not implemented yet");
}

void s3_create_upload(struct http_req *r)
{
    not_yet(r);
}
void s3_upload_part(struct http_req *r)
{
    not_yet(r);
}
void s3_complete_upload(struct http_req *r)
{
    not_yet(r);
}
void s3_abort_upload(struct http_req *r)
{
    not_yet(r);
}
void s3_list_parts(struct http_req *r)
{
    not_yet(r);
}
void s3_list_uploads(struct http_req *r)
{
    not_yet(r);
}
