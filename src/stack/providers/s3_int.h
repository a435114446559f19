/* s3_int.h - what the S3 providers share (s3.c, s3_xml.c, s3_object.c): the
 * XML documents of the bucket configurations and the call that writes them.
 * Not for other files. */
#ifndef TANDEM_STACK_PROVIDERS_S3_INT_H
#define TANDEM_STACK_PROVIDERS_S3_INT_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "awsc.h"
#include "buf.h"
#include "err.h"
#include "stack_provider.h"

#define XMLNS "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

/* s3prov_write - send the write @r (counted in stack_provider_writes) to the
 * region of @t. Returns ERR_OK for a 2xx answer, which is then in @resp (the
 * caller frees it with awsc_resp_free); otherwise nothing is left to free and
 * @e says why: ERR_IO when the region did not answer, ERR_NOTFOUND for a 404,
 * ERR_INVALID for another status (with S3's Code and Message). */
enum err_code s3prov_write(const struct stack_target *t, const struct awsc_req *r,
                           struct awsc_resp *resp, struct err *e);

/* s3prov_xml_elem - append <@tag>@text</@tag>, @text XML-escaped; nothing when @text is NULL. */
void s3prov_xml_elem(struct buf *b, const char *tag, const char *text);

/* The documents below are owned strings (free()). */

/* s3prov_tagging_xml - the Tagging document of @tags (an object of strings). */
char *s3prov_tagging_xml(const cJSON *tags);
/* s3prov_website_xml - the WebsiteConfiguration document (see s3_xml.c for @rules); @what
 * names the resource in errors. NULL with @e set when it has neither an index nor a
 * redirect. */
char *s3prov_website_xml(const char *what, const char *suffix, const char *errkey, const cJSON *all,
                         const cJSON *rules, struct err *e);
/* s3prov_inline_website_xml - the WebsiteConfiguration of aws:s3:Bucket's inline
 * website @w; NULL with @e set on bad input. */
char *s3prov_inline_website_xml(const cJSON *w, struct err *e);
/* s3prov_replication_xml - the ReplicationConfiguration of BucketReplicationConfig's
 * inputs @in (role, rules). */
char *s3prov_replication_xml(const cJSON *in);
/* s3prov_lifecycle_xml - the LifecycleConfiguration of @rules, in the
 * BucketLifecycleConfigurationV2 shape when @v2, else the Bucket's lifecycleRules; NULL
 * with @e set when a rule asks for what Tandem's S3 does not do (transitions). */
char *s3prov_lifecycle_xml(const cJSON *rules, bool v2, struct err *e);

#endif
