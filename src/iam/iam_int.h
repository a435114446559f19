/* iam_int.h - what the files of the identity service share. */
#ifndef TANDEM_IAM_INT_H
#define TANDEM_IAM_INT_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "buf.h"
#include "iam.h"
#include "iam_policy.h"

#define IAM_NS "https://iam.amazonaws.com/doc/2010-05-08/"
#define STS_NS "https://sts.amazonaws.com/doc/2011-06-15/"

struct iam {
    struct store *store;
    struct creds *creds;
    char region[32];
    char account[13];
    int sts_min_duration;
};

/* One query-protocol call. */
struct iam_call {
    struct iam *iam;
    struct http_req *r;
    const struct creds_identity *who;
    bool sts;
    const char *action;
    char rid[37];
    size_t nparams;
    const char **keys, **vals; /* arena */
};

/* iam_call_init - parse the form body of @r; false when it answered @r. */
bool iam_call_init(struct iam_call *c, struct iam *iam, struct http_req *r,
                   const struct creds_identity *who, bool sts);
const char *iam_param(const struct iam_call *c, const char *name);
void iam_fail(struct iam_call *c, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* iam_fail_err - answer with the error a store operation returned. */
void iam_fail_err(struct iam_call *c, enum err_code rc, const struct err *e);
/* iam_reply - <ActionResponse><ActionResult>@result</ActionResult>..., @result may be NULL. */
void iam_reply(struct iam_call *c, const char *result);

void iam_xml_text(struct buf *b, const char *s);
void iam_xml_elem(struct buf *b, const char *name, const char *text);
void iam_xml_urlenc(struct buf *b, const char *name, const char *json);
void iam_now_iso(char out[32], long long offset_s);
void iam_random_id(char *out, const char *prefix, size_t n, const char *alphabet);

/* Store documents: META "iam/<kind>/<name>" holds JSON. */
enum err_code iam_doc_get(struct iam *iam, const char *kind, const char *name, cJSON **out,
                          struct err *e);

/* The policies that apply to an identity, parsed (owned, iam_policies_free). */
struct iam_policies {
    struct iam_policy **p;
    size_t n;
};
void iam_policies_free(struct iam_policies *ps);
/* iam_entity_policies - inline + attached managed policies of user/role doc @doc. */
void iam_entity_policies(struct iam *iam, const cJSON *doc, struct iam_policies *out);

/* managed.c: the AWS managed policies. */
struct iam_managed {
    const char *path; /* "/" or "/service-role/" */
    const char *name;
    const char *id;
    const char *version;
    const char *created;
    const char *updated;
    const char *description;
    const char *document;
};
const struct iam_managed *iam_managed_find(const char *arn);
const struct iam_managed *iam_managed_at(size_t i); /* NULL past the end */

/* authz.c: the check the IAM and STS APIs make of their own callers.
 * Answers @c with AccessDenied and returns false when denied. */
bool iam_allowed(struct iam_call *c, const char *action, const char *resource);
enum err_code iam_authorize(struct iam *iam, const struct authz_request *q, struct err *e);

#endif
