/* api.c - S3 requests: addressing, authentication, the error table and the
 * routing of method + path + subresource to an operation (the body an upload
 * streams in is body.c's). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "clock.h"
#include "codec.h"
#include "log.h"
#include "mem.h"
#include "s3_int.h"
#include "s3_repl.h"
#include "s3_sigv2.h"
#include "s3_xml.h"
#include "sigv4.h"

static const struct {
    const char *code;
    int status;
    const char *msg;
} errors[] = {
    [S3E_ACCESS_DENIED] = {"AccessDenied", 403, "Access Denied"},
    [S3E_BAD_DIGEST] = {"BadDigest", 400,
                        "The Content-MD5 you specified did not match what we received."},
    [S3E_BUCKET_EXISTS] = {"BucketAlreadyExists", 409,
                           "The requested bucket name is not available."},
    [S3E_BUCKET_OWNED] = {"BucketAlreadyOwnedByYou", 409,
                          "Your previous request to create the named bucket succeeded and you "
                          "already own it."},
    [S3E_BUCKET_NOT_EMPTY] = {"BucketNotEmpty", 409, "The bucket you tried to delete is not empty"},
    [S3E_ENTITY_TOO_LARGE] = {"EntityTooLarge", 400,
                              "Your proposed upload exceeds the maximum allowed size"},
    [S3E_ENTITY_TOO_SMALL] = {"EntityTooSmall", 400,
                              "Your proposed upload is smaller than the minimum allowed size"},
    [S3E_INTERNAL] = {"InternalError", 500, "We encountered an internal error. Please try again."},
    [S3E_INVALID_ACCESS_KEY] = {"InvalidAccessKeyId", 403,
                                "The AWS Access Key Id you provided does not exist in our "
                                "records."},
    [S3E_INVALID_ARGUMENT] = {"InvalidArgument", 400, "Invalid Argument"},
    [S3E_INVALID_BUCKET_NAME] = {"InvalidBucketName", 400, "The specified bucket is not valid."},
    [S3E_INVALID_DIGEST] = {"InvalidDigest", 400, "The Content-MD5 you specified was invalid."},
    [S3E_INVALID_LOCATION] = {"InvalidLocationConstraint", 400,
                              "The specified location-constraint is not valid"},
    [S3E_NO_OBJECT_LOCK] = {"ObjectLockConfigurationNotFoundError", 404,
                            "Object Lock configuration does not exist for this bucket"},
    [S3E_ILLEGAL_LOCATION] = {"IllegalLocationConstraintException", 400,
                              "The unspecified location constraint is incompatible for the region "
                              "specific endpoint this request was sent to."},
    [S3E_INVALID_PART] = {"InvalidPart", 400,
                          "One or more of the specified parts could not be found.  The part may "
                          "not have been uploaded, or the specified entity tag may not match "
                          "the part's entity tag."},
    [S3E_INVALID_PART_ORDER] = {"InvalidPartOrder", 400,
                                "The list of parts was not in ascending order. Parts must be "
                                "ordered by part number."},
    [S3E_INVALID_RANGE] = {"InvalidRange", 416, "The requested range is not satisfiable"},
    [S3E_INVALID_REQUEST] = {"InvalidRequest", 400, "Invalid Request"},
    [S3E_KEY_TOO_LONG] = {"KeyTooLongError", 400, "Your key is too long"},
    [S3E_MALFORMED_XML] = {"MalformedXML", 400,
                           "The XML you provided was not well-formed or did not validate "
                           "against our published schema"},
    [S3E_METHOD_NOT_ALLOWED] = {"MethodNotAllowed", 405,
                                "The specified method is not allowed against this resource."},
    [S3E_MISSING_CONTENT_LENGTH] = {"MissingContentLength", 411,
                                    "You must provide the Content-Length HTTP header."},
    [S3E_NO_SUCH_BUCKET] = {"NoSuchBucket", 404, "The specified bucket does not exist"},
    [S3E_NO_SUCH_KEY] = {"NoSuchKey", 404, "The specified key does not exist."},
    [S3E_NO_SUCH_UPLOAD] = {"NoSuchUpload", 404,
                            "The specified upload does not exist. The upload ID may be invalid, "
                            "or the upload may have been aborted or completed."},
    [S3E_NO_SUCH_VERSION] = {"NoSuchVersion", 404, "The specified version does not exist."},
    [S3E_NOT_IMPLEMENTED] = {"NotImplemented", 501,
                             "A header you provided implies functionality that is not "
                             "implemented"},
    [S3E_NOT_MODIFIED] = {"NotModified", 304, "Not Modified"},
    [S3E_PRECONDITION_FAILED] = {"PreconditionFailed", 412,
                                 "At least one of the pre-conditions you specified did not hold"},
    [S3E_SKEWED] = {"RequestTimeTooSkewed", 403,
                    "The difference between the request time and the current time is too "
                    "large."},
    [S3E_SIGNATURE_MISMATCH] = {"SignatureDoesNotMatch", 403,
                                "The request signature we calculated does not match the "
                                "signature you provided. Check your key and signing method."},
    [S3E_SHA256_MISMATCH] = {"XAmzContentSHA256Mismatch", 400,
                             "The provided 'x-amz-content-sha256' header does not match what "
                             "was computed."},
    [S3E_INCOMPLETE_BODY] = {"IncompleteBody", 400,
                             "You did not provide the number of bytes specified by the "
                             "Content-Length HTTP header"},
    [S3E_TOKEN_INVALID] = {"InvalidToken", 400,
                           "The provided token is malformed or otherwise invalid."},
    [S3E_TOKEN_EXPIRED] = {"ExpiredToken", 400, "The provided token has expired."},
    [S3E_AUTH_HEADER_MALFORMED] = {"AuthorizationHeaderMalformed", 400,
                                   "The authorization header is malformed."},
    [S3E_NO_SUCH_TAG_SET] = {"NoSuchTagSet", 404, "The TagSet does not exist"},
    [S3E_INVALID_TAG] = {"InvalidTag", 400, "The tag provided was not a valid tag."},
    [S3E_BAD_REQUEST] = {"BadRequest", 400, "Bad Request"},
    [S3E_NO_SUCH_WEBSITE] = {"NoSuchWebsiteConfiguration", 404,
                             "The specified bucket does not have a website configuration"},
    [S3E_NO_SUCH_LIFECYCLE] = {"NoSuchLifecycleConfiguration", 404,
                               "The lifecycle configuration does not exist"},
    [S3E_NO_OWNERSHIP] = {"OwnershipControlsNotFoundError", 404,
                          "The bucket ownership controls were not found"},
    [S3E_NO_PAB] = {"NoSuchPublicAccessBlockConfiguration", 404,
                    "The public access block configuration was not found"},
    [S3E_NO_SUCH_POLICY] = {"NoSuchBucketPolicy", 404, "The bucket policy does not exist"},
    [S3E_MALFORMED_POLICY] = {"MalformedPolicy", 400,
                              "Policies must be valid JSON and the first byte must be '{'"},
    [S3E_ACL_NOT_SUPPORTED] = {"AccessControlListNotSupported", 400,
                               "The bucket does not allow ACLs"},
    [S3E_BUCKET_ACL_OWNERSHIP] = {"InvalidBucketAclWithObjectOwnership", 400,
                                  "Bucket cannot have ACLs set with ObjectOwnership's "
                                  "BucketOwnerEnforced setting"},
    [S3E_NO_REPLICATION] = {"ReplicationConfigurationNotFoundError", 404,
                            "The replication configuration was not found"},
    [S3E_INVALID_BUCKET_STATE] = {"InvalidBucketState", 409,
                                  "The request is not valid with the current state of the "
                                  "bucket."},
    [S3E_NO_CORS] = {"NoSuchCORSConfiguration", 404, "The CORS configuration does not exist"},
    [S3E_CORS_FORBIDDEN] = {"AccessForbidden", 403,
                            "CORSResponse: This CORS request is not allowed."},
    [S3E_NO_ENCRYPTION] = {"ServerSideEncryptionConfigurationNotFoundError", 404,
                           "The server side encryption configuration was not found"},
    [S3E_LOGGING_TARGET] = {"InvalidTargetBucketForLogging", 400,
                            "The target bucket for logging does not exist"},
    [S3E_METADATA_TOO_LARGE] = {"MetadataTooLarge", 400,
                                "Your metadata headers exceed the maximum allowed metadata size."},
    [S3E_INVALID_PART_NUMBER] = {"InvalidPartNumber", 416,
                                 "The requested partnumber is not satisfiable"},
    [S3E_INVALID_POLICY_DOC] = {"InvalidPolicyDocument", 400,
                                "The content of the form does not meet the conditions specified "
                                "in the policy document."},
    [S3E_AUTH_QUERY_ERROR] = {"AuthorizationQueryParametersError", 400,
                              "Error parsing the X-Amz-Credential parameter."},
    [S3E_NO_LOCK_CONFIG] = {"NoSuchObjectLockConfiguration", 404,
                            "The specified object does not have a ObjectLock configuration"},
    [S3E_MALFORMED_ACL] = {"MalformedACLError", 400,
                           "The XML you provided was not well-formed or did not validate "
                           "against our published schema"},
    [S3E_UNEXPECTED_CONTENT] = {"UnexpectedContent", 400, "This request does not support content"},
    [S3E_UNRESOLVABLE_EMAIL] = {"UnresolvableGrantByEmailAddress", 400,
                                "The e-mail address you provided does not match any account on "
                                "record."},
    [S3E_MISSING_SECURITY_HEADER] = {"MissingSecurityHeader", 400,
                                     "Your request was missing a required header"},
    [S3E_MALFORMED_POST] = {"MalformedPOSTRequest", 400,
                            "The body of your POST request is not well-formed "
                            "multipart/form-data."},
    [S3E_POST_PREDATA] = {"MaxPostPreDataLengthExceeded", 400,
                          "Your POST request fields preceding the upload file were too large."},
    [S3E_ILLEGAL_VERSIONING] = {"IllegalVersioningConfigurationException", 400,
                                "The Versioning element must be specified"},
    [S3E_INVALID_STORAGE_CLASS] = {"InvalidStorageClass", 400,
                                   "The storage class you specified is not valid"},
    [S3E_CONDITIONAL_CONFLICT] = {"ConditionalRequestConflict", 409,
                                  "The conditional request cannot succeed due to a conflicting "
                                  "operation against this resource."},
};

struct s3_req *s3_req_of(struct http_req *r)
{
    return r->body_ud;
}

static void common_headers(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    char id2[40];
    unsigned char rnd[24];

    for (int i = 0; i < 3; i++) {
        uint64_t v = s3_id_rand();
        memcpy(rnd + 8 * i, &v, sizeof(v));
    }
    base64_encode(rnd, sizeof(rnd), id2);
    if (q)
        snprintf(q->host_id, sizeof(q->host_id), "%s", id2);
    http_resp_header(r, "x-amz-request-id", q ? q->request_id : "0000000000000000");
    http_resp_header(r, "x-amz-id-2", id2);
    http_resp_header(r, "Server", "AmazonS3");
}

/* storage_class_ok - @sc (may be NULL) is a storage class of the model that
 * a bucket in a region takes: not OUTPOSTS (Outposts only), as S3 answers */
static bool storage_class_ok(const char *sc)
{
    static const char *const ok[] = {"STANDARD",        "REDUCED_REDUNDANCY",  "STANDARD_IA",
                                     "ONEZONE_IA",      "INTELLIGENT_TIERING", "GLACIER",
                                     "DEEP_ARCHIVE",    "GLACIER_IR",          "SNOW",
                                     "EXPRESS_ONEZONE", "FSX_OPENZFS",         NULL};

    if (!sc)
        return true;
    for (size_t i = 0; ok[i]; i++)
        if (strcmp(sc, ok[i]) == 0)
            return true;
    return false;
}

/* names_bucket - whether S3's error @code names the bucket: those about the
 * bucket itself and a bucket configuration it does not have */
static bool names_bucket(enum s3_code code, const struct s3_req *q)
{
    switch (code) {
    case S3E_NO_SUCH_BUCKET:
    case S3E_BUCKET_NOT_EMPTY:
    case S3E_BUCKET_OWNED:
    case S3E_BUCKET_EXISTS:
    case S3E_NO_OBJECT_LOCK:
    case S3E_NO_OWNERSHIP:
    case S3E_NO_PAB:
    case S3E_NO_SUCH_POLICY:
    case S3E_NO_CORS:
    case S3E_NO_SUCH_LIFECYCLE:
    case S3E_NO_SUCH_WEBSITE:
    case S3E_NO_ENCRYPTION:
    case S3E_NO_REPLICATION:
        return true;
    case S3E_NO_SUCH_TAG_SET:
        return !q->key[0];
    default:
        return false;
    }
}

/* error_answer - S3's error document, with the @n elements @elems
 * (name, value, name, value, ...) after its Message. */
static void error_answer(struct http_req *r, enum s3_code code, const char *msg,
                         const char *const *elems, size_t n)
{
    struct s3_req *q = s3_req_of(r);
    struct buf b;

    if (q) {
        if (q->answered)
            return;
        q->answered = true;
    }
    common_headers(r);
    if (code == S3E_NOT_MODIFIED || strcmp(r->method, "HEAD") == 0) {
        http_respond(r, errors[code].status, "", 0);
        return;
    }
    buf_init(&b, 0);
    if (q && q->website) {
        s3_website_error(r, errors[code].status, errors[code].code, msg ? msg : errors[code].msg,
                         &b);
        http_resp_header(r, "Content-Type", "text/html; charset=utf-8");
        http_respond_buf(r, errors[code].status, &b);
        return;
    }
    buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
    xmlw_elem(&b, "Code", errors[code].code, XMLW_CTRL);
    xmlw_elem(&b, "Message", msg ? msg : errors[code].msg, XMLW_CTRL);
    for (size_t i = 0; i < n; i++)
        xmlw_elem(&b, elems[2 * i], elems[2 * i + 1], XMLW_CTRL);
    if (q && q->bucket[0] && names_bucket(code, q))
        xmlw_elem(&b, "BucketName", q->bucket, XMLW_CTRL);
    if (q && q->key[0] && code == S3E_NO_SUCH_KEY)
        xmlw_elem(&b, "Key", q->err_key ? q->err_key : q->key, XMLW_CTRL);
    if (q && q->key[0] && code == S3E_NO_SUCH_VERSION && s3_query(r, "versionId")) {
        xmlw_elem(&b, "Key", q->key, XMLW_CTRL);
        xmlw_elem(&b, "VersionId", s3_query(r, "versionId"), XMLW_CTRL);
    }
    if (q && q->condition && (code == S3E_PRECONDITION_FAILED || code == S3E_CONDITIONAL_CONFLICT))
        xmlw_elem(&b, "Condition", q->condition, XMLW_CTRL);
    if (q && q->key[0] && code == S3E_CONDITIONAL_CONFLICT)
        xmlw_elem(&b, "Key", q->key, XMLW_CTRL);
    if (q && q->on_marker && code == S3E_METHOD_NOT_ALLOWED) {
        xmlw_elem(&b, "Method", r->method, XMLW_CTRL);
        xmlw_elem(&b, "ResourceType", "DeleteMarker", XMLW_CTRL);
    }
    if (code == S3E_CORS_FORBIDDEN) {
        /* as S3's CORS refusals: the method asked about (the preflight's
         * Access-Control-Request-Method, else the request's own) and BUCKET,
         * but OBJECT for a preflight of a key that no rule allows */
        const char *m = http_req_header(r, "access-control-request-method");
        xmlw_elem(&b, "Method", m ? m : r->method, XMLW_CTRL);
        xmlw_elem(&b, "ResourceType", q && q->cors_object ? "OBJECT" : "BUCKET", XMLW_CTRL);
    }
    xmlw_elem(&b, "RequestId", q ? q->request_id : "", XMLW_CTRL);
    if (q)
        xmlw_elem(&b, "HostId", q->host_id, XMLW_CTRL);
    buf_puts(&b, "</Error>");
    http_resp_header(r, "Content-Type", "application/xml");
    http_respond_buf(r, errors[code].status, &b);
}

void s3_error(struct http_req *r, enum s3_code code, const char *msg)
{
    error_answer(r, code, msg, NULL, 0);
}

void s3_error_arg(struct http_req *r, enum s3_code code, const char *msg, const char *name,
                  const char *value)
{
    const char *const elems[] = {"ArgumentName", name, "ArgumentValue", value ? value : ""};

    error_answer(r, code, msg, elems, name ? 2 : 0);
}

void s3_error_elems(struct http_req *r, enum s3_code code, const char *msg,
                    const char *const *elems, size_t n)
{
    error_answer(r, code, msg, elems, n);
}

void s3_error_elem(struct http_req *r, enum s3_code code, const char *msg, const char *name,
                   const char *value)
{
    const char *const elems[] = {name, value};

    error_answer(r, code, msg, elems, 1);
}

void s3_ok(struct http_req *r, int status, struct buf *body)
{
    struct s3_req *q = s3_req_of(r);

    if (q)
        q->answered = true;
    common_headers(r);
    if (q && q->post_status && status == 200) {
        if (body)
            buf_free(body);
        s3_post_answer(r);
        return;
    }
    if (body && body->len) {
        http_resp_header(r, "Content-Type", "application/xml");
        http_respond_buf(r, status, body);
    } else {
        if (body)
            buf_free(body);
        http_respond(r, status, "", 0);
    }
}

void s3_ok_fd(struct http_req *r, int status, int fd, long long off, long long len)
{
    struct s3_req *q = s3_req_of(r);

    q->answered = true;
    common_headers(r);
    http_respond_fd(r, status, fd, off, len);
}

void s3_xml_start(struct buf *b, const char *root)
{
    buf_init(b, 0);
    buf_printf(b,
               "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%s "
               "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
               root);
}

const char *s3_query(struct http_req *r, const char *name)
{
    struct url_param p;

    if (!url_query_find(r->query, name, &p))
        return NULL;
    return p.has_val ? url_decode(r->arena, p.val, p.val_len) : "";
}

bool s3_has_query(struct http_req *r, const char *name)
{
    return s3_query(r, name) != NULL;
}

/* decide - the authorizer's answer for @action, in @e when refused */
static bool decide(struct http_req *r, const char *action, const char *bucket, const char *key,
                   struct err *e)
{
    struct s3_req *q = s3_req_of(r);
    struct authz_request az = {0};
    struct authz_kv kv[64];
    struct creds_identity root;
    const char *root_pol = NULL;
    size_t n = 0;
    bool foreign = !q->anonymous && q->who.root && strcmp(q->who.account, q->s3->account) != 0;
    bool denied = false; /* by a Deny statement */
    enum err_code rc;

    if (!q->s3->authz) /* no identity service: no bucket can be public */
        return !q->anonymous;
    if (foreign && (!bucket || !*bucket))
        return true; /* ListBuckets: its own buckets, none here */
    if (foreign) {
        /* another account's root owns no bucket here: it is weighed like any
         * principal of that account, by the bucket policy and the ACLs */
        root = q->who;
        root.root = false;
    } else if (q->who.root && !q->anonymous) {
        /* the account root is refused only by the Deny statements of the
         * bucket policy, and may always manage that policy itself */
        if (!bucket || !*bucket || strstr(action, "BucketPolicy"))
            return true;
        /* an object another account owns is the owner's only by its ACL (the
         * region's own internal requests carry no access key) */
        if (q->who.access_key[0] && !s3_acl_owner_may(r, action, bucket, key)) {
            err_set(e, ERR_DENIED, "Access Denied");
            return false;
        }
        root_pol = s3_root_deny_policy(r, s3_bucket_policy_for(r, bucket, false));
        if (!root_pol)
            return true;
        root = q->who;
        root.root = false;
    }
    if (r->remote_addr && *r->remote_addr)
        kv[n++] = (struct authz_kv){"aws:SourceIp", r->remote_addr};
    kv[n++] = (struct authz_kv){"aws:SecureTransport", r->tls ? "true" : "false"};
    kv[n++] = (struct authz_kv){"aws:RequestedRegion", q->s3->region};
    az.who = q->anonymous ? NULL : root_pol || foreign ? &root : &q->who;
    az.action = action;
    az.resource = key                 ? arena_sprintf(r->arena, "arn:aws:s3:::%s/%s", bucket, key)
                  : bucket && *bucket ? arena_sprintf(r->arena, "arn:aws:s3:::%s", bucket)
                                      : "arn:aws:s3:::*"; /* ListBuckets, as S3 names it */
    if (root_pol)
        az.resource_policy = root_pol;
    else if (bucket && *bucket) /* the bucket policy is evaluated with the caller's own */
        az.resource_policy = s3_bucket_policy_for(r, bucket, q->anonymous);
    /* an object's tags are read only when a policy may name them: the root's
     * and the anonymous caller's only policy is the bucket's */
    n += s3_policy_context(
        r, action, bucket, key,
        !(q->anonymous || root_pol) ||
            (az.resource_policy && strstr(az.resource_policy, "s3:ExistingObjectTag/")),
        kv + n, sizeof(kv) / sizeof(kv[0]) - n);
    az.context = kv;
    az.ncontext = n;
    az.explicit_deny = &denied;
    rc = authz_check(q->s3->authz, &az, e);
    /* what no policy allows, an ACL grant may, unless a policy denies it */
    if (rc != ERR_OK && !denied && s3_acl_allows(r, action, bucket, key))
        rc = ERR_OK;
    return rc == ERR_OK;
}

bool s3_may(struct http_req *r, const char *action, const char *bucket, const char *key)
{
    struct err e = {0};
    return decide(r, action, bucket, key, &e);
}

/* bucket_exists - whether @bucket is there (the request's own record when read) */
static bool bucket_exists(struct http_req *r, const char *bucket)
{
    struct s3_req *q = s3_req_of(r);
    struct store_txn *t = NULL;
    cJSON *b;
    bool found;

    if (q->bucket_known && strcmp(bucket, q->bucket) == 0)
        return q->bucket_rec != NULL;
    if (store_read_begin(q->s3->store, &t, NULL) != ERR_OK)
        return true; /* unknown: the refusal stands */
    b = s3_bucket_get(t, r->arena, bucket);
    store_txn_abort(t);
    found = b != NULL;
    cJSON_Delete(b);
    return found;
}

bool s3_allow(struct http_req *r, const char *action, const char *bucket, const char *key)
{
    struct s3_req *q = s3_req_of(r);
    struct err e = {0};

    if (decide(r, action, bucket, key, &e))
        return true;
    /* a bucket that does not exist is no secret: S3 answers NoSuchBucket to
     * any caller, anonymous ones included, before it weighs permissions (but
     * one refused CreateBucket is refused) */
    if (bucket && *bucket && strcmp(action, "s3:CreateBucket") != 0 && !bucket_exists(r, bucket)) {
        s3_error(r, S3E_NO_SUCH_BUCKET, NULL);
        return false;
    }
    /* S3 tells an anonymous caller no more than "Access Denied" */
    s3_error(r, S3E_ACCESS_DENIED, !q->anonymous && e.msg[0] ? e.msg : NULL);
    return false;
}

/* ---- addressing ---- */

/* s3_auth_header - the Authorization header, NULL when absent or blank (S3
 * takes a blank one for none: the caller is anonymous) */
static const char *s3_auth_header(const struct http_req *r)
{
    const char *auth = http_req_header(r, "authorization");

    return auth && auth[strspn(auth, " \t")] ? auth : NULL;
}

bool s3_is_request(const struct http_req *r)
{
    const char *auth = s3_auth_header(r);

    if (http_req_header(r, "x-amz-target"))
        return false;
    if (auth && strncmp(auth, "AWS ", 4) == 0)
        return true;
    if (strstr(r->query, "AWSAccessKeyId="))
        return true;
    if (auth && strstr(auth, "/s3/aws4_request"))
        return true;
    if (strstr(r->query, "X-Amz-Credential=") &&
        (strstr(r->query, "%2Fs3%2Faws4_request") || strstr(r->query, "/s3/aws4_request")))
        return true;
    /* an Authorization that names no whole credential scope is no other
     * service's (theirs are POSTs to "/" or matched before): S3 refuses it */
    if (auth && !strstr(auth, "aws4_request") &&
        !(strcmp(r->method, "POST") == 0 && strcmp(r->path, "/") == 0))
        return true;
    return !auth && !strstr(r->query, "X-Amz-Credential=");
}

/* website_mark - where ".s3-website" starts in lower-cased host @h when it
 * names a website endpoint (a bucket before it, "." or "-" after); else NULL */
static const char *website_mark(const char *h)
{
    const char *w = strstr(h, ".s3-website");

    return w && w != h && (w[11] == '.' || w[11] == '-') ? w : NULL;
}

/* website_host_bucket - the bucket of a website endpoint Host header
 * (BUCKET.s3-website.REGION... or BUCKET.s3-website-REGION...), in @a; NULL
 * when @host is not one. */
static char *website_host_bucket(struct arena *a, const char *host)
{
    const char *w;
    char *h;
    size_t n;

    if (!host || !*host || host[0] == '[')
        return NULL;
    n = strcspn(host, ":");
    h = arena_strndup(a, host, n);
    for (n = 0; h[n]; n++)
        h[n] = (char)tolower((unsigned char)h[n]);
    if (!(w = website_mark(h)))
        return NULL;
    return arena_strndup(a, h, (size_t)(w - h));
}

bool s3_is_website(const struct http_req *r)
{
    const char *host = http_req_header(r, "host");
    char buf[300];

    if (strncmp(r->path, "/_website/", 10) == 0)
        return true;
    if (!host || strlen(host) >= sizeof(buf))
        return false;
    for (size_t i = 0; i <= strlen(host); i++)
        buf[i] = (char)tolower((unsigned char)host[i]);
    return website_mark(buf) != NULL;
}

/* The bucket named by a virtual-host Host header: BUCKET.s3.<anything>,
 * BUCKET.s3-<region>.<anything> or BUCKET.localhost; NULL for path-style. */
static const char *vhost_bucket(struct http_req *r)
{
    const char *host = http_req_header(r, "host");
    const char *dot, *rest;
    char *h;
    size_t n;

    if (!host || !*host || host[0] == '[')
        return NULL;
    n = strcspn(host, ":");
    h = arena_strndup(r->arena, host, n);
    for (n = 0; h[n]; n++)
        h[n] = (char)tolower((unsigned char)h[n]);
    dot = strchr(h, '.');
    if (!dot || dot == h)
        return NULL;
    rest = dot + 1;
    if (strspn(h, "0123456789.") == strlen(h)) /* an IPv4 address */
        return NULL;
    if (strncmp(h, "s3.", 3) == 0 || strncmp(h, "s3-", 3) == 0)
        return NULL;
    if (strcmp(rest, "localhost") == 0 || strncmp(rest, "s3.", 3) == 0 ||
        strncmp(rest, "s3-", 3) == 0)
        return arena_strndup(r->arena, h, (size_t)(dot - h));
    return NULL;
}

bool s3_is_vhost(struct http_req *r)
{
    return vhost_bucket(r) != NULL;
}

static void parse_address(struct http_req *r, struct s3_req *q)
{
    const char *vb = vhost_bucket(r), *wb;
    const char *p = r->path;

    if (strncmp(p, "/_website/", 10) == 0) { /* /_website/BUCKET[/KEY] */
        const char *s = p + 10, *slash = strchr(s, '/');
        size_t n = slash ? (size_t)(slash - s) : strlen(s);
        q->website = true;
        q->bucket = url_decode(r->arena, s, n);
        q->key = slash ? url_decode(r->arena, slash + 1, strlen(slash + 1)) : "";
        q->web_base = arena_sprintf(r->arena, "/_website/%s", q->bucket);
        return;
    }
    if ((wb = website_host_bucket(r->arena, http_req_header(r, "host")))) {
        vb = wb; /* the whole name before .s3-website, dots included */
        q->website = true;
        q->web_base = "";
    }
    if (vb) {
        q->bucket = vb;
        q->key = url_decode(r->arena, p + (*p == '/'), strlen(p) - (*p == '/'));
    } else {
        const char *s = p + (*p == '/');
        const char *slash = strchr(s, '/');
        if (slash) {
            q->bucket = url_decode(r->arena, s, (size_t)(slash - s));
            q->key = url_decode(r->arena, slash + 1, strlen(slash + 1));
        } else {
            q->bucket = url_decode(r->arena, s, strlen(s));
            q->key = "";
        }
    }
}

/* ---- authentication ---- */

/* sigv2_time - the time of a Date or x-amz-date value (RFC 1123, as SigV2
 * clients send it, or ISO 8601), in @ms; false when unreadable or before 1970. */
static bool sigv2_time(const char *s, int64_t *ms)
{
    struct tm tm;
    const char *end;

    if (!s3_time_parse_http(s, ms)) {
        memset(&tm, 0, sizeof(tm));
        end = strptime(s, "%Y%m%dT%H%M%SZ", &tm);
        if (!end || *end)
            return false;
        *ms = (int64_t)timegm(&tm) * 1000;
    }
    return *ms >= 0;
}

static bool sig_equal(const char *sig, const char *want)
{
    return strlen(sig) == strlen(want) && CRYPTO_memcmp(sig, want, strlen(want)) == 0;
}

static bool auth_sigv2(struct http_req *r, struct s3_req *q)
{
    const char *auth = http_req_header(r, "authorization");
    char ak[130], sig[64], expires[32];
    const char *date, *amz_date = NULL;
    struct s3_sigv2_header *hs;
    char *sts, want[29], *resource;
    size_t i;
    time_t now = (time_t)clock_wall_s();

    if (auth) {
        const char *colon = strrchr(auth + 4, ':');
        size_t n = colon ? (size_t)(colon - auth - 4) : 0;
        if (!colon || n == 0 || n >= sizeof(ak) || strlen(colon + 1) >= sizeof(sig)) {
            s3_error(r, S3E_INVALID_ARGUMENT,
                     "AWS authorization header is invalid.  Expected "
                     "AwsAccessKeyId:signature");
            return false;
        }
        memcpy(ak, auth + 4, n);
        ak[n] = '\0';
        snprintf(sig, sizeof(sig), "%s", colon + 1);
        /* the Date line is the Date header; with only x-amz-date it is empty
         * (x-amz-date is then signed among the x-amz-* headers) */
        amz_date = http_req_header(r, "x-amz-date");
        date = http_req_header(r, "date");
        if (!date && amz_date)
            date = "";
        {
            /* the request time is x-amz-date when sent, else Date; one that is
             * empty, unreadable or before 1970 is refused before the signature */
            int64_t ms;
            const char *d = amz_date ? amz_date : date;
            if (!d || !sigv2_time(d, &ms)) {
                s3_error(r, S3E_ACCESS_DENIED,
                         "AWS authentication requires a valid Date or x-amz-date header");
                return false;
            }
            if (ms / 1000 > now + 900 || ms / 1000 < now - 900) {
                s3_error(r, S3E_SKEWED, NULL);
                return false;
            }
        }
    } else {
        if (!s3_sigv2_query_param(r->query, "AWSAccessKeyId", ak, sizeof(ak)) ||
            !s3_sigv2_query_param(r->query, "Signature", sig, sizeof(sig)) ||
            !s3_sigv2_query_param(r->query, "Expires", expires, sizeof(expires))) {
            s3_error(r, S3E_ACCESS_DENIED,
                     "Query-string authentication requires the Signature, Expires and "
                     "AWSAccessKeyId parameters");
            return false;
        }
        if (strtoll(expires, NULL, 10) < (long long)now) {
            s3_error(r, S3E_ACCESS_DENIED, "Request has expired");
            return false;
        }
        date = expires;
    }
    if (!creds_lookup(q->s3->creds, ak, &q->who)) {
        s3_error(r, S3E_INVALID_ACCESS_KEY, NULL);
        return false;
    }
    hs = arena_alloc(r->arena, (r->nheaders + 1) * sizeof(*hs));
    for (i = 0; i < r->nheaders; i++) {
        hs[i].name = r->headers[i].name;
        hs[i].value = r->headers[i].value;
    }
    /* the signed resource is /bucket/key, also for virtual-host requests */
    resource =
        vhost_bucket(r) ? arena_sprintf(r->arena, "/%s%s", q->bucket, r->path) : (char *)r->path;
    if (resource[0] && resource[1] &&
        !strchr(resource + 1, '/')) /* "/bucket" signs as "/bucket/" */
        resource = arena_sprintf(r->arena, "%s/", resource);
    sts = s3_sigv2_string_to_sign(r->method, hs, r->nheaders, date, resource, r->query);
    s3_sigv2_sign(q->who.secret, sts, want);
    if (!sig_equal(sig, want) && amz_date && date[0]) {
        /* with x-amz-date, S3 documents an empty Date line; botocore signs the
         * Date header there: either is taken */
        free(sts);
        sts = s3_sigv2_string_to_sign(r->method, hs, r->nheaders, "", resource, r->query);
        s3_sigv2_sign(q->who.secret, sts, want);
    }
    if (!sig_equal(sig, want)) {
        log_debug("event=s3_sigv2_mismatch string_to_sign=\"%s\"", sts);
        char *m =
            arena_sprintf(r->arena, "The request signature we calculated does not match the "
                                    "signature you provided. Check your key and signing method.");
        free(sts);
        s3_error(r, S3E_SIGNATURE_MISMATCH, m);
        return false;
    }
    free(sts);
    if (q->who.expires && q->who.expires < (int64_t)now) {
        s3_error(r, S3E_TOKEN_EXPIRED, NULL);
        return false;
    }
    snprintf(q->payload_hash, sizeof(q->payload_hash), "UNSIGNED-PAYLOAD");
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* unsigned_amz_headers - the x-amz-* headers of presigned request @r that its
 * X-Amz-SignedHeaders leaves out, lowercase, sorted and joined by ", " (arena),
 * or NULL when there are none: S3 refuses them (AccessDenied "There were
 * headers present in the request which were not signed") */
static const char *unsigned_amz_headers(struct http_req *r)
{
    const char *signed_list = s3_query(r, "X-Amz-SignedHeaders");
    const char **names = arena_alloc(r->arena, (r->nheaders + 1) * sizeof(*names));
    size_t n = 0, i, len;
    struct buf b;
    char *out;

    for (i = 0; i < r->nheaders; i++) {
        const char *h = r->headers[i].name, *p;
        char *low;
        bool found = false;
        if (strncasecmp(h, "x-amz-", 6) != 0)
            continue;
        len = strlen(h);
        for (p = signed_list; p && *p && !found; p += strcspn(p, ";"), p += *p == ';')
            found = strcspn(p, ";") == len && strncasecmp(p, h, len) == 0;
        if (found)
            continue;
        low = arena_strdup(r->arena, h);
        for (char *c = low; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        names[n++] = low;
    }
    if (!n)
        return NULL;
    qsort(names, n, sizeof(*names), cmp_str);
    buf_init(&b, 0);
    for (i = 0; i < n; i++)
        buf_printf(&b, "%s%s", i ? ", " : "", names[i]);
    out = arena_strndup(r->arena, b.ptr, b.len);
    buf_free(&b);
    return out;
}

static bool auth_sigv4(struct http_req *r, struct s3_req *q)
{
    const char *auth = s3_auth_header(r);
    struct sigv4_header *hs;
    struct sigv4_request sr;
    struct sigv4_result *v;
    size_t i;
    enum s3_code code = S3E_SIGNATURE_MISMATCH;

    hs = arena_alloc(r->arena, (r->nheaders + 1) * sizeof(*hs));
    for (i = 0; i < r->nheaders; i++) {
        hs[i].name = r->headers[i].name;
        hs[i].value = r->headers[i].value;
    }
    sr = (struct sigv4_request){.method = r->method,
                                .path = r->path,
                                .query = r->query,
                                .headers = hs,
                                .nheaders = r->nheaders,
                                .body = NULL, /* streamed: the payload hash is checked at the end */
                                .s3_paths = true};
    if (auth && strncmp(auth, "AWS4-", 5) != 0) {
        s3_error(r, S3E_INVALID_ARGUMENT, "Unsupported Authorization Type");
        return false;
    }
    if (auth) { /* the request time is checked first, as for SigV2 */
        const char *d = http_req_header(r, "x-amz-date");
        int64_t ms;
        if (!d)
            d = http_req_header(r, "date");
        if (!d || !sigv2_time(d, &ms)) {
            s3_error(r, S3E_ACCESS_DENIED,
                     "AWS authentication requires a valid Date or x-amz-date header");
            return false;
        }
    }
    if (!auth) {
        const char *not_signed = unsigned_amz_headers(r);
        if (not_signed) {
            s3_error_elem(r, S3E_ACCESS_DENIED,
                          "There were headers present in the request which were not signed",
                          "HeadersNotSigned", not_signed);
            return false;
        }
    }
    v = arena_calloc(r->arena, sizeof(*v));
    if (!sigv4_verify(q->s3->creds, &sr, clock_wall_s(), v)) {
        switch (v->fail) {
        case SIGV4_UNKNOWN_KEY:
            code = S3E_INVALID_ACCESS_KEY;
            break;
        case SIGV4_SKEWED:
            code = S3E_SKEWED;
            break;
        case SIGV4_EXPIRED:
            s3_error(r, S3E_ACCESS_DENIED, "Request has expired");
            return false;
        case SIGV4_HOST_UNSIGNED:
            s3_error_elem(r, S3E_ACCESS_DENIED, v->msg, "HeadersNotSigned", "host");
            return false;
        case SIGV4_BAD_TOKEN:
            code = S3E_TOKEN_INVALID;
            break;
        case SIGV4_TOKEN_EXPIRED:
            code = S3E_TOKEN_EXPIRED;
            break;
        case SIGV4_INCOMPLETE:
        case SIGV4_BAD_DATE:
            /* a presigned URL's parameters are not a header */
            code = http_req_header(r, "authorization") ? S3E_AUTH_HEADER_MALFORMED
                                                       : S3E_AUTH_QUERY_ERROR;
            break;
        default:
            break;
        }
        s3_error(r, code, code == S3E_SIGNATURE_MISMATCH || code == S3E_SKEWED ? NULL : v->msg);
        return false;
    }
    if (strcmp(v->region, q->s3->region) != 0) {
        s3_error(r, S3E_AUTH_HEADER_MALFORMED,
                 arena_sprintf(r->arena,
                               "The authorization header is malformed; the region '%s' is "
                               "wrong; expecting '%s'",
                               v->region, q->s3->region));
        return false;
    }
    q->who = v->who;
    snprintf(q->payload_hash, sizeof(q->payload_hash), "%s", v->payload_hash);
    if (strncmp(v->payload_hash, "STREAMING-", 10) == 0) {
        char scope[96];
        q->chunked = true;
        q->chunk_signed = strncmp(v->payload_hash, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", 34) == 0;
        snprintf(scope, sizeof(scope), "%s/%s/s3/aws4_request", v->scope_date, v->region);
        s3_chunked_init(&q->ch, q->chunk_signed, v->signing_key, v->amz_date, scope, v->signature);
    }
    return true;
}

static bool authenticate(struct http_req *r, struct s3_req *q)
{
    const char *auth = s3_auth_header(r), *sha;

    if (auth && strncmp(auth, "AWS ", 4) == 0)
        return auth_sigv2(r, q);
    if (!auth && strstr(r->query, "AWSAccessKeyId="))
        return auth_sigv2(r, q);
    if (auth || strstr(r->query, "X-Amz-Credential=") || strstr(r->query, "X-Amz-Signature="))
        return auth_sigv4(r, q);
    /* Anonymous: each operation asks s3_allow(), which evaluates the bucket
     * policy for the anonymous principal */
    q->anonymous = true;
    sha = http_req_header(r, "x-amz-content-sha256");
    snprintf(q->payload_hash, sizeof(q->payload_hash), "%s",
             sha && strlen(sha) < sizeof(q->payload_hash) ? sha : "UNSIGNED-PAYLOAD");
    if (strncmp(q->payload_hash, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", 34) == 0) {
        q->chunked = true; /* SDKs send checksum trailers unsigned too */
        s3_chunked_init(&q->ch, false, NULL, NULL, NULL, NULL);
    } else if (strncmp(q->payload_hash, "STREAMING-", 10) == 0) {
        s3_error(r, S3E_ACCESS_DENIED, NULL); /* signed chunks need a signature */
        return false;
    }
    return true;
}

/* ---- routing ---- */

/* S3 allows 2 KB of user metadata: the names (without x-amz-meta-) and the
 * values of its x-amz-meta-* headers */
#define MAX_META 2048

static size_t meta_size(struct http_req *r)
{
    size_t i, n = 0;

    for (i = 0; i < r->nheaders; i++)
        if (strncmp(r->headers[i].name, "x-amz-meta-", 11) == 0)
            n += strlen(r->headers[i].name + 11) + strlen(r->headers[i].value);
    return n;
}

static bool needs_body_stream(struct http_req *r, struct s3_req *q)
{
    if (strcmp(r->method, "PUT") != 0 || !q->key[0])
        return false;
    if (http_req_header(r, "x-amz-copy-source"))
        return false;
    if (s3_has_query(r, "tagging") || s3_has_query(r, "acl") || s3_has_query(r, "retention") ||
        s3_has_query(r, "legal-hold"))
        return false;
    return true;
}

static void route(struct http_req *r, struct s3_req *q);

/* a browser's form upload (POST Object) */
static bool is_form(struct http_req *r)
{
    const char *ct = http_req_header(r, "content-type");
    return ct && strncasecmp(ct, "multipart/form-data", 19) == 0;
}

void s3_put_from_form(struct http_req *r, const char *key, struct http_header *hs, size_t nh)
{
    struct s3_req *q = s3_req_of(r);
    bool bad;

    r->method = "PUT";
    r->headers = hs;
    r->nheaders = nh;
    q->key = key;
    if (meta_size(r) > MAX_META) {
        s3_error(r, S3E_METADATA_TOO_LARGE, NULL);
        return;
    }
    cJSON_Delete(s3_header_tags(r, &bad));
    if (bad)
        return;
    route(r, q);
}

static struct s3_req *new_req(struct s3 *s, struct http_req *r)
{
    struct s3_req *q = arena_calloc(r->arena, sizeof(*q));
    uint64_t id = s3_id_rand();

    q->s3 = s;
    q->fd = -1;
    for (int i = 0; i < 16; i++)
        q->request_id[i] = "0123456789ABCDEF"[(id >> (60 - 4 * i)) & 15];
    q->request_id[16] = '\0';
    r->body_ud = q;
    parse_address(r, q);
    return q;
}

void s3_handle_internal(struct s3 *s, struct http_req *r)
{
    struct s3_req *q = new_req(s, r);

    q->authed = true;
    q->internal = true;
    q->who.root = true;
    snprintf(q->who.account, sizeof(q->who.account), "%s", s->account);
    snprintf(q->who.user, sizeof(q->who.user), "root");
    snprintf(q->payload_hash, sizeof(q->payload_hash), "UNSIGNED-PAYLOAD");
    route(r, q);
}

void s3_on_headers(struct s3 *s, struct http_req *r)
{
    struct s3_req *q = new_req(s, r);
    size_t total = 0;

    for (size_t i = 0; i < r->nheaders; i++)
        total += strlen(r->headers[i].name) + strlen(r->headers[i].value);
    if (total > 8192 * 2) {
        s3_error(r, S3E_BAD_REQUEST, "Your request's headers are too large");
        return;
    }
    if (q->website) { /* a website endpoint serves everyone as the anonymous caller */
        q->anonymous = true;
        snprintf(q->payload_hash, sizeof(q->payload_hash), "UNSIGNED-PAYLOAD");
    } else if (!authenticate(r, q)) {
        return;
    }
    q->authed = true;
    if (q->website) { /* GET and HEAD only; refused before any body is read */
        if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
            s3_error(r, S3E_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    /* a cross-origin request gets its rule's Access-Control-* headers on
     * whatever it is answered, a refusal by policy included, as S3 does */
    if (q->bucket[0] && http_req_header(r, "origin") && strcmp(r->method, "OPTIONS") != 0)
        s3_cors_headers(r);
    if (strlen(q->key) > 1024) {
        s3_error(r, S3E_KEY_TOO_LONG, NULL);
        return;
    }
    if ((strcmp(r->method, "PUT") == 0 || strcmp(r->method, "POST") == 0) && q->key[0] &&
        meta_size(r) > MAX_META) {
        s3_error(r, S3E_METADATA_TOO_LARGE, NULL);
        return;
    }
    if ((strcmp(r->method, "PUT") == 0 || strcmp(r->method, "POST") == 0) && q->key[0]) {
        bool bad;
        cJSON_Delete(s3_header_tags(r, &bad));
        if (bad)
            return;
        if (!storage_class_ok(http_req_header(r, "x-amz-storage-class"))) {
            s3_error(r, S3E_INVALID_STORAGE_CLASS, NULL);
            return;
        }
    }
    {
        /* PutObject and CompleteMultipartUpload take If-None-Match: * only,
         * and If-Match with an ETag only */
        const char *inm = http_req_header(r, "if-none-match");
        const char *im = http_req_header(r, "if-match");
        bool write = needs_body_stream(r, q) ? !s3_has_query(r, "uploadId")
                                             : strcmp(r->method, "POST") == 0 && q->key[0] &&
                                                   s3_has_query(r, "uploadId");
        const char *bad = !write                         ? NULL
                          : inm && im                    ? "If-Match,If-None-Match"
                          : inm && strcmp(inm, "*") != 0 ? "If-None-Match"
                          : im && strcmp(im, "*") == 0   ? "If-Match"
                                                         : NULL;
        if (bad) {
            const char *const elems[] = {
                "Header", bad, "additionalMessage",
                inm && im ? "Multiple conditional request headers present in the request"
                          : arena_sprintf(r->arena,
                                          "We don't accept the provided value of %s header for "
                                          "this API",
                                          bad)};
            s3_error_elems(r, S3E_NOT_IMPLEMENTED, NULL, elems, 2);
            return;
        }
    }
    if (needs_body_stream(r, q)) {
        /* ask before the upload, so a denied client never sends its body */
        if (!s3_allow(r, "s3:PutObject", q->bucket, q->key))
            return;
        if (!s3_body_start(r, q))
            return;
        r->on_body = s3_body_feed;
    } else if (strcmp(r->method, "POST") == 0 && !q->key[0] && !r->query[0] && is_form(r) &&
               !q->chunked) {
        if (!s3_post_begin(r)) /* a form upload's file streams too */
            return;
        r->on_body = s3_post_feed;
    } else if (q->chunked) {
        s3_error(r, S3E_INVALID_REQUEST, "aws-chunked is only accepted for object uploads");
    }
}

static void route(struct http_req *r, struct s3_req *q)
{
    const char *m = r->method;
    bool get = strcmp(m, "GET") == 0, put = strcmp(m, "PUT") == 0, head = strcmp(m, "HEAD") == 0,
         del = strcmp(m, "DELETE") == 0, post = strcmp(m, "POST") == 0;
    const char *wrl, *acl;

    if (q->website) {
        s3_website(r);
        return;
    }
    if (strcmp(m, "OPTIONS") == 0 && q->bucket[0]) { /* a browser's preflight, unsigned */
        s3_cors_preflight(r);
        return;
    }
    if ((put || post) && !s3_sse_valid(r)) {
        s3_error_arg(r, S3E_INVALID_ARGUMENT, "The encryption method specified is not supported",
                     "x-amz-server-side-encryption",
                     http_req_header(r, "x-amz-server-side-encryption"));
        return;
    }
    if ((put || post) && (acl = http_req_header(r, "x-amz-acl")) && !s3_acl_canned(acl)) {
        s3_error_arg(r, S3E_INVALID_ARGUMENT,
                     "x-amz-acl must be a canned ACL (private, public-read, ...)", "x-amz-acl",
                     acl);
        return;
    }
    if ((put || post) && !s3_acl_headers_valid(r))
        return;
    if ((put || post) && (wrl = http_req_header(r, "x-amz-website-redirect-location")) &&
        wrl[0] != '/' && strncmp(wrl, "http://", 7) != 0 && strncmp(wrl, "https://", 8) != 0) {
        s3_error_arg(r, S3E_INVALID_ARGUMENT,
                     "The website redirect location must have a prefix of 'http://' or "
                     "'https://' or '/'.",
                     "x-amz-website-redirect-location", wrl);
        return;
    }
    if (!s3_lock_request(r))
        return;
    if (!q->bucket[0]) {
        if (get) {
            s3_list_buckets(r);
            return;
        }
        s3_error(r, S3E_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    if (!q->key[0]) {
        if (post && !r->query[0] && is_form(r))
            s3_post_object(r);
        else if (put && s3_has_query(r, "versioning"))
            s3_put_versioning(r);
        else if (get && s3_has_query(r, "versioning"))
            s3_get_versioning(r);
        else if (s3_has_query(r, "tagging"))
            s3_bucket_tagging(r);
        else if (s3_has_query(r, "replication"))
            s3_repl_config(r);
        else if (s3_has_query(r, "object-lock"))
            s3_lock_config(r);
        else if (post && s3_has_query(r, "x-tandem-replicate"))
            s3_repl_existing(r);
        else if (s3_has_query(r, "notification"))
            s3_notify_config(r);
        else if (s3_bucket_config(r))
            return;
        else if (s3_bucket_unimplemented(r))
            return;
        else if (get && s3_has_query(r, "location"))
            s3_get_bucket_location(r);
        else if (get && s3_has_query(r, "versions"))
            s3_list_versions(r);
        else if (get && s3_has_query(r, "uploads"))
            s3_list_uploads(r);
        else if (post && s3_has_query(r, "delete"))
            s3_delete_objects(r);
        else if (get)
            s3_list_objects(
                r, s3_query(r, "list-type") && strcmp(s3_query(r, "list-type"), "2") == 0 ? 2 : 1);
        else if (put)
            s3_create_bucket(r);
        else if (del)
            s3_delete_bucket(r);
        else if (head)
            s3_head_bucket(r);
        else
            s3_error(r, S3E_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    if (s3_has_query(r, "tagging")) {
        s3_object_tagging(r);
    } else if (s3_has_query(r, "acl")) {
        s3_acl(r, true);
    } else if (s3_has_query(r, "retention") || s3_has_query(r, "legal-hold")) {
        s3_object_lock(r);
    } else if (put && s3_has_query(r, "uploadId")) {
        s3_upload_part(r);
    } else if (put && http_req_header(r, "x-amz-copy-source")) {
        s3_copy_object(r);
    } else if (put) {
        s3_put_object(r);
    } else if (get && s3_has_query(r, "uploadId")) {
        s3_list_parts(r);
    } else if ((get || head) && s3_has_query(r, "torrent")) {
        /* GetObjectTorrent: not served, rather than the object's bytes */
        s3_error(r, S3E_NOT_IMPLEMENTED, "GetObjectTorrent is not implemented");
    } else if (get && s3_has_query(r, "attributes")) {
        s3_get_object_attributes(r);
    } else if (get || head) {
        s3_get_object(r, head);
    } else if (del && s3_has_query(r, "uploadId")) {
        s3_abort_upload(r);
    } else if (del) {
        s3_delete_object(r);
    } else if (post && s3_has_query(r, "uploads")) {
        s3_create_upload(r);
    } else if (post && s3_has_query(r, "uploadId")) {
        s3_complete_upload(r);
    } else {
        s3_error(r, S3E_METHOD_NOT_ALLOWED, NULL);
    }
}

void s3_handle(struct s3 *s, struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);

    if (!q) {
        /* in-process request: run the headers step, then feed the buffered body */
        s3_on_headers(s, r);
        q = s3_req_of(r);
        if (q->answered)
            return;
        if (r->on_body && r->body.len)
            r->on_body(r, r->body.ptr, r->body.len);
    }
    if (q->answered)
        return;
    if (!q->authed) {
        s3_error(r, S3E_ACCESS_DENIED, NULL);
        return;
    }
    if (!q->streaming && r->body_too_large) {
        if (strcmp(r->method, "POST") == 0 && !q->key[0] && is_form(r))
            s3_error(r, S3E_ENTITY_TOO_LARGE,
                     "Your proposed upload exceeds the maximum allowed size");
        else
            s3_error(r, S3E_MALFORMED_XML, "Your request body is too large");
        return;
    }
    /* a buffered body signed with its hash must have that hash */
    if (!q->streaming && strlen(q->payload_hash) == 64) {
        char have[65];
        sigv4_sha256_hex(r->body.ptr ? r->body.ptr : "", r->body.len, have);
        if (strcasecmp(have, q->payload_hash) != 0) {
            s3_error(r, S3E_SHA256_MISMATCH, NULL);
            return;
        }
    }
    route(r, q);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Body files no record points at: a crash between a body's rename and its
 * metadata commit (never acknowledged), or between a commit that replaced a
 * body and the unlink of the old one. Nothing else runs yet, so every file
 * not named by a version or part record goes. */
static void sweep_orphans(struct s3 *s)
{
    struct store_txn *t = NULL;
    struct store_cursor *c = NULL;
    struct slice k, v;
    char **names = NULL;
    size_t n = 0, cap = 0, removed = 0;
    enum err_code rc;

    if (store_read_begin(s->store, &t, NULL) != ERR_OK)
        return;
    if (store_cursor_open(t, STORE_DB_S3, &c, NULL) == ERR_OK) {
        for (rc = store_cursor_seek(c, SLICE(""), &k, &v, NULL); rc == ERR_OK;
             rc = store_cursor_next(c, &k, &v, NULL)) {
            char first = k.len ? ((const char *)k.ptr)[0] : 0;
            cJSON *j, *f;
            if (first != 'O' && first != 'P')
                continue;
            j = cJSON_ParseWithLength(v.ptr, v.len);
            f = cJSON_GetObjectItem(j, "file");
            if (cJSON_IsString(f)) {
                if (n == cap) {
                    cap = cap ? cap * 2 : 1024;
                    names = xrealloc(names, cap * sizeof(*names));
                }
                names[n++] = xstrdup(f->valuestring);
            }
            cJSON_Delete(j);
        }
    }
    store_cursor_close(c);
    store_txn_abort(t);
    if (n)
        qsort(names, n, sizeof(*names), cmp_name);
    for (int i = 0; i < 256; i++) {
        char dir[16], *path = xmalloc(strlen(s->objects_dir) + 8);
        DIR *d;
        struct dirent *de;
        snprintf(dir, sizeof(dir), "%02x", i);
        sprintf(path, "%s/%s", s->objects_dir, dir);
        d = opendir(path);
        while (d && (de = readdir(d))) {
            char rel[300], *key = rel;
            if (de->d_name[0] == '.' || strlen(de->d_name) > 40)
                continue;
            snprintf(rel, sizeof(rel), "%s/%s", dir, de->d_name);
            if (!n || !bsearch(&key, names, n, sizeof(*names), cmp_name)) {
                if (unlinkat(dirfd(d), de->d_name, 0) == 0)
                    removed++;
            }
        }
        if (d)
            closedir(d);
        free(path);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (removed)
        log_info("event=s3_orphans_removed files=%zu", removed);
}

enum err_code s3_open(const struct s3_opts *o, struct s3 **out, struct err *e)
{
    struct s3 *s = xcalloc(1, sizeof(*s));
    char *tmp;

    s->store = o->store;
    s->creds = o->creds;
    s->authz = o->authz;
    s->flush_threads = o->flush_threads;
    snprintf(s->region, sizeof(s->region), "%s", o->region);
    snprintf(s->account, sizeof(s->account), "%s", o->account ? o->account : "000000000000");
    s->objects_dir = xmalloc(strlen(o->data_dir) + 16);
    sprintf(s->objects_dir, "%s/objects", o->data_dir);
    tmp = xmalloc(strlen(s->objects_dir) + 8);
    sprintf(tmp, "%s/tmp", s->objects_dir);
    if ((mkdir(s->objects_dir, 0755) != 0 && errno != EEXIST) ||
        (mkdir(tmp, 0755) != 0 && errno != EEXIST)) {
        err_set(e, ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        s3_close(s);
        return ERR_IO;
    }
    {
        /* uploads cut short by a crash left their temporary files: none of
         * them was ever acknowledged, so they go */
        DIR *d = opendir(tmp);
        struct dirent *de;
        int n = 0;
        while (d && (de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            if (unlinkat(dirfd(d), de->d_name, 0) == 0)
                n++;
        }
        if (d)
            closedir(d);
        if (n)
            log_info("event=s3_tmp_removed files=%d", n);
    }
    free(tmp);
    if (s3_make_dirs(s, e) != ERR_OK) {
        s3_close(s);
        return ERR_IO;
    }
    sweep_orphans(s);
    s3_flush_start(s);
    s3_sweeper_start(s);
    s3_repl_start(s, o);
    *out = s;
    return ERR_OK;
}

void s3_close(struct s3 *s)
{
    if (!s)
        return;
    s3_sweeper_stop(s);
    s3_notify_stop(s);
    s3_repl_stop(s);
    s3_flush_stop(s);
    free(s->objects_dir);
    free(s);
}

static enum err_code w_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct s3_w *w = arg;
    return w->apply(t, w, e);
}

static void w_done(void *arg, enum err_code rc, const struct err *e)
{
    struct s3_w *w = arg;

    if (rc == ERR_OK) {
        /* a version may have been queued: wake the replication worker
         * before answering, since once answered the region may be closing */
        s3_repl_kick(s3_req_of(w->r)->s3);
        s3_notify_kick(s3_req_of(w->r)->s3);
        w->ok(w);
    } else if (rc == ERR_CONFLICT)
        s3_error(w->r, w->fail, w->msg[0] ? w->msg : NULL);
    else {
        log_err("event=s3_write_failed error=%s msg=\"%s\"", err_name(rc), e ? e->msg : "");
        s3_error(w->r, S3E_INTERNAL, NULL);
    }
}

void s3_submit(struct s3_w *w)
{
    store_submit(s3_req_of(w->r)->s3->store, w_apply, w_done, w);
}
