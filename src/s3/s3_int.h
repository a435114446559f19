/* s3_int.h - what the files of the S3 module share (not a public contract).
 *
 * Store layout (STORE_DB_S3), keys:
 *   'B' bucket                          -> bucket JSON {created, versioning, region,
 *                                          lock (Object Lock, lock.c), cfg, repl, ...}
 *   'O' bucket 0x00 key 0x00 ~seq(8 BE) -> version JSON (newest first per key)
 *   'U' bucket 0x00 key 0x00 upload-id  -> multipart upload JSON
 *   'P' upload-id 0x00 part(4 BE)       -> part JSON
 *   'Q' seq(8 BE)                       -> replication queue entry (s3_repl.h)
 *   'N' seq(8 BE)                       -> pending event notification (notify.c)
 * A version JSON holds: vid (the version id, "null" for the null version), dm
 * (delete marker), size, etag, lm (ms), file (body path under objects/), h
 * (system headers), m (x-amz-meta-*), ck (checksum name and value), parts,
 * and room for replication: rs (replication status PENDING/COMPLETED/FAILED/
 * REPLICA) and origin; olm, olr, olh: Object Lock mode, retain-until (ms)
 * and legal hold (lock.c); acl, grants, own: its ACL and object owner (acl.c,
 * which a bucket record keeps too, without own). The version id is a string
 * independent of the local sequence number, so a replica can be written "with
 * this exact version id". */
#ifndef TANDEM_S3_INT_H
#define TANDEM_S3_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "json.h" /* json_str_ci / json_num_ci: stored records are read case-insensitively */
#include "s3.h"
#include "s3_chunked.h"
#include "url.h" /* url_decode / url_encode for keys and query values */

struct s3 {
    struct store *store;
    struct creds *creds;
    const struct authz *authz;
    char region[32];
    char account[13];
    char *objects_dir;            /* DATA_DIR/objects, owned */
    struct s3_sweeper *sweeper;   /* lifecycle rules; owned, lifecycle.c */
    struct s3_replw *replw;       /* replication worker; owned, repl.c */
    struct s3_flusher *flusher;   /* body file flushes; owned, flush.c */
    int flush_threads;            /* wanted: s3_opts.flush_threads */
    atomic_int fail_step;         /* s3_fail_flush: enum s3_flush_step, 0 = none */
    atomic_int fail_left;         /* how many more flushes fail there */
    struct s3_notifier *notifier; /* event notification delivery; owned, notify_send.c */
    atomic_bool ntf_fresh;        /* a write recorded an event notification */
};

/* The S3 error codes we answer with (the one table is in api.c). */
enum s3_code {
    S3E_ACCESS_DENIED,
    S3E_BAD_DIGEST,
    S3E_BUCKET_EXISTS,
    S3E_BUCKET_OWNED,
    S3E_BUCKET_NOT_EMPTY,
    S3E_ENTITY_TOO_LARGE,
    S3E_ENTITY_TOO_SMALL,
    S3E_INTERNAL,
    S3E_INVALID_ACCESS_KEY,
    S3E_INVALID_ARGUMENT,
    S3E_INVALID_BUCKET_NAME,
    S3E_INVALID_DIGEST,
    S3E_INVALID_LOCATION,
    S3E_ILLEGAL_LOCATION,
    S3E_NO_OBJECT_LOCK,
    S3E_INVALID_PART,
    S3E_INVALID_PART_ORDER,
    S3E_INVALID_RANGE,
    S3E_INVALID_REQUEST,
    S3E_KEY_TOO_LONG,
    S3E_MALFORMED_XML,
    S3E_METHOD_NOT_ALLOWED,
    S3E_MISSING_CONTENT_LENGTH,
    S3E_NO_SUCH_BUCKET,
    S3E_NO_SUCH_KEY,
    S3E_NO_SUCH_UPLOAD,
    S3E_NO_SUCH_VERSION,
    S3E_NOT_IMPLEMENTED,
    S3E_NOT_MODIFIED,
    S3E_PRECONDITION_FAILED,
    S3E_SKEWED,
    S3E_SIGNATURE_MISMATCH,
    S3E_SHA256_MISMATCH,
    S3E_INCOMPLETE_BODY,
    S3E_TOKEN_INVALID,
    S3E_TOKEN_EXPIRED,
    S3E_AUTH_HEADER_MALFORMED,
    S3E_NO_SUCH_TAG_SET,
    S3E_INVALID_TAG,
    S3E_BAD_REQUEST,
    S3E_NO_SUCH_WEBSITE,
    S3E_NO_SUCH_LIFECYCLE,
    S3E_NO_OWNERSHIP,
    S3E_NO_PAB,
    S3E_NO_SUCH_POLICY,
    S3E_MALFORMED_POLICY,
    S3E_ACL_NOT_SUPPORTED,
    S3E_BUCKET_ACL_OWNERSHIP,
    S3E_NO_REPLICATION,
    S3E_INVALID_BUCKET_STATE,
    S3E_NO_CORS,
    S3E_CORS_FORBIDDEN,
    S3E_NO_ENCRYPTION,
    S3E_LOGGING_TARGET,
    S3E_METADATA_TOO_LARGE,
    S3E_INVALID_PART_NUMBER,
    S3E_INVALID_POLICY_DOC,
    S3E_MALFORMED_POST,
    S3E_POST_PREDATA,
    S3E_ILLEGAL_VERSIONING,
    S3E_CONDITIONAL_CONFLICT,
    S3E_INVALID_STORAGE_CLASS,
    S3E_AUTH_QUERY_ERROR,
    S3E_NO_LOCK_CONFIG,
    S3E_MALFORMED_ACL,
    S3E_UNEXPECTED_CONTENT,
    S3E_UNRESOLVABLE_EMAIL,
    S3E_MISSING_SECURITY_HEADER,
};

/* Per request state, in the arena (r->body_ud). */
struct s3_req {
    struct s3 *s3;
    const char *bucket; /* decoded, "" when none */
    const char *key;    /* decoded, "" when none */
    char request_id[17];
    struct creds_identity who;
    bool anonymous;
    bool internal; /* s3_handle_internal: the lifecycle sweeper's own request */
    bool authed;
    bool answered;
    bool on_marker;        /* the version named is a delete marker: a 405 says so, as S3's */
    const char *err_key;   /* NoSuchKey's Key when not the key (arena), else NULL */
    const char *condition; /* PreconditionFailed's Condition (static), else NULL */
    bool cors_object;      /* a CORS refusal of an object's preflight: ResourceType OBJECT */
    char host_id[40];      /* x-amz-id-2 as answered, which S3's errors repeat as HostId */
    /* SigV4 values for aws-chunked */
    bool chunked, chunk_signed;
    char payload_hash[80];
    struct s3_chunked ch;
    /* the streamed body */
    bool streaming;
    int fd;          /* temporary file, -1 when none */
    char *tmp_path;  /* arena */
    uint64_t size;   /* decoded bytes written */
    uint64_t synced; /* bytes handed to writeback so far */
    uint64_t limit;
    EVP_MD_CTX *md5, *sha256, *ck; /* owned, freed with the arena */
    uint32_t crc;                  /* crc32 / crc32c running value */
    uint64_t crc64;                /* crc64nvme running value */
    int ck_alg;                    /* enum s3_ck */
    enum s3_code body_fail;
    bool body_failed;
    char body_msg[256];
    /* @bucket's record, read once for the whole request by a handler that
     * needs it after s3_allow (GetObject): s3_bucket_policy_for takes the
     * policy from it. Borrowed; NULL when there is no such bucket. */
    bool bucket_known;
    const cJSON *bucket_rec;
    /* a website endpoint request (website.c): anonymous, HTML errors */
    bool website;
    const char *web_base; /* "/_website/BUCKET" for the path form, else "" */
    int web_status;       /* the status an ErrorDocument is served with; 0: 200 */
    /* a POST upload (post.c): the answer asked for once the object is written
     * (post_status 0: not a POST upload) */
    int post_status;
    bool post_v2;         /* the form was signed with SigV2 */
    struct s3_post *post; /* the form's parse and checks (post.c), or NULL */
    const char *post_redirect, *post_etag;
};

enum s3_ck { CK_NONE, CK_CRC32, CK_CRC32C, CK_SHA1, CK_SHA256, CK_CRC64NVME };

/* api.c */
void s3_error(struct http_req *r, enum s3_code code, const char *msg);
/* s3_error_arg - s3_error naming the request's argument at fault, as S3's
 * InvalidArgument errors do (ArgumentName, ArgumentValue; @value NULL: empty). */
void s3_error_arg(struct http_req *r, enum s3_code code, const char *msg, const char *name,
                  const char *value);
/* s3_error_elem - s3_error with one more element <@name>@value</@name>
 * (HeadersNotSigned, ...). */
void s3_error_elem(struct http_req *r, enum s3_code code, const char *msg, const char *name,
                   const char *value);
void s3_ok(struct http_req *r, int status, struct buf *body); /* takes @body (may be NULL) */
void s3_ok_fd(struct http_req *r, int status, int fd, long long off, long long len);
struct s3_req *s3_req_of(struct http_req *r);
bool s3_allow(struct http_req *r, const char *action, const char *bucket, const char *key);
/* s3_may - s3_allow() without answering: whether @action would be allowed */
bool s3_may(struct http_req *r, const char *action, const char *bucket, const char *key);
const char *s3_query(struct http_req *r, const char *name); /* decoded value, arena, or NULL */
bool s3_has_query(struct http_req *r, const char *name);
void s3_xml_start(struct buf *b, const char *root);
/* s3_rec_headers - the object's stored headers from the request into @rec:
 * "h" the system headers (Content-Type ... Content-Language; aws-chunked
 * dropped from Content-Encoding; binary/octet-stream by default), "m" the
 * x-amz-meta-* user metadata, and the SSE fields (PutObject, CopyObject with
 * REPLACE, CreateMultipartUpload; object.c) */
void s3_rec_headers(struct http_req *r, cJSON *rec);
/* s3_rec_acl - the request's ACL into @rec (acl.c): "acl" its canned ACL
 * (x-amz-acl) other than private, or "grants" its x-amz-grant-* headers, and
 * "own" the writer's account when another than the bucket owner's. */
void s3_rec_acl(struct http_req *r, cJSON *rec);
/* s3_kept_fn - what follows s3_body_keep: the body is durable in the body
 * file @rel / @abs (arena) and its MD5 is @hex. Runs on a flush thread (flush.c)
 * and must answer @r, at once or through s3_submit. */
typedef void s3_kept_fn(struct http_req *r, const char *hex, char *rel, char *abs);
/* s3_body_keep - s3_body_finish(), then the body moved to a new body file and
 * flushed (data and name) on a flush thread, then @then there. Returns at once;
 * @r is answered from another thread, by @then or with an error (a failed move
 * is logged as event=@event). The caller returns without answering. */
void s3_body_keep(struct http_req *r, const char *event, s3_kept_fn *then);
/* s3_work_fn / s3_defer - @work(@r, @arg) on a flush thread (at once on this
 * thread when none runs), for work that waits for the disk: copies, their
 * flushes. Returns at once; @work must answer @r, at once or through
 * s3_submit, and the caller returns without answering (the connection waits
 * suspended). @arg lives in @r's arena. */
typedef void s3_work_fn(struct http_req *r, void *arg);
void s3_defer(struct http_req *r, s3_work_fn *work, void *arg);
/* the flush threads of s3_body_keep, started in s3_open, stopped (after their
 * queue is done) in s3_close */
void s3_flush_start(struct s3 *s3);
void s3_flush_stop(struct s3 *s3);
/* how many flush threads run (0: bodies are flushed on the request thread) */
unsigned s3_flush_threads(const struct s3 *s3);
/* The steps of s3_commit_file, where s3_fail_flush makes a flush fail. */
enum s3_flush_step {
    S3_FLUSH_DATA = 1, /* fdatasync of the body */
    S3_FLUSH_RENAME,   /* its move to its body file */
    S3_FLUSH_FOLDER,   /* fsync of the body file's folder */
};
/* s3_fail_flush - the next @n body flushes (s3_commit_file) fail at @step
 * with EIO, as a failing disk would make them; 0 clears. Only the unit tests
 * of the failure paths call it; nothing in the server does. */
void s3_fail_flush(struct s3 *s3, enum s3_flush_step step, int n);
/* a new body file that did not make it into the store is removed with the
 * request: arena_on_free(a, s3_orphan_free, o) unless o->keep is set */
struct s3_orphan {
    char *path;
    bool keep;
};
void s3_orphan_free(void *p);
/* s3_etag_in - @etag ("\"hex\"") is in the If-Match / If-None-Match style
 * @list (comma-separated, quoted or not, or "*") */
bool s3_etag_in(const char *list, const char *etag);

/* body.c */
/* s3_body_start - check an upload's length and checksum headers (else answer
 * @r and return false), then open the temporary file and the digests its body
 * streams into (q->fd, removed with @r's arena unless moved). */
bool s3_body_start(struct http_req *r, struct s3_req *q);
/* s3_body_feed - the body's next @n bytes (http_req's on_body): decoded,
 * digested, written; a failure is kept for s3_body_finish to answer. */
enum err_code s3_body_feed(struct http_req *r, const void *data, size_t n);
/* finish the streamed body: checks digests; on success *fd stays open */
bool s3_body_finish(struct http_req *r);
/* the checksum algorithm name ("CRC32") and value of the finished body; a
 * body that names no algorithm has its CRC64NVME computed all the same: S3's
 * default checksum of a new object (s3_ck_value(r, CK_CRC64NVME)) */
const char *s3_ck_name(int alg);
const char *s3_ck_value(struct http_req *r, int alg);
/* s3_ck_lower - "crc64nvme" for CK_CRC64NVME: the name a record's "ckn" holds */
const char *s3_ck_lower(int alg);
/* s3_ck_start / s3_ck_update - digest bytes with algorithm @alg (CK_NONE:
 * CRC64NVME, the default) into @r's request state, for s3_ck_value: a body's,
 * or a copy's (s3_copy_range) */
void s3_ck_start(struct http_req *r, int alg);
void s3_ck_update(struct s3_req *q, const void *data, size_t n);
/* s3_ck_parse - the enum s3_ck of an algorithm's name ("crc32c", any case),
 * CK_NONE when it names none */
int s3_ck_parse(const char *name);

/* A write through the store's group commit: @apply runs on the writer thread
 * and sets @fail (returning ERR_CONFLICT) for an S3 error; @ok answers once
 * the change is durable. Embed it first in an op's own struct. */
struct s3_w {
    struct http_req *r;
    enum s3_code fail;
    char msg[512];
    store_apply_fn *apply;
    void (*ok)(struct s3_w *w);
};
void s3_submit(struct s3_w *w);

/* util.c */
uint32_t s3_crc32c(uint32_t crc, const void *p, size_t n);
uint64_t s3_crc64nvme(uint64_t crc, const void *p, size_t n);
/* s3_crc_combine - the CRC of A then B from @crc1 of A, @crc2 of B and B's
 * length @len2, for @alg CK_CRC32, CK_CRC32C or CK_CRC64NVME (zlib's
 * crc32_combine technique: no byte of A or B is read again) */
uint64_t s3_crc_combine(int alg, uint64_t crc1, uint64_t crc2, uint64_t len2);
/* s3_tag_add - add tag @k = @v, the @n-th, to @arr (an array of {"k", "v"})
 * if S3 takes it: at most @max tags (10 for an object, 50 for a bucket), keys
 * of 1-128 and values of at most 256 characters of S3's set (letters, digits,
 * spaces, + - = . _ : / @), each key once, no "aws:" key. Returns NULL, or
 * why not: InvalidTag's message ("" for the default one), with @names (out)
 * the elements S3 adds to it: 0 none, 1 TagKey, 2 TagKey and TagValue. */
const char *s3_tag_add(cJSON *arr, const char *k, const char *v, size_t n, size_t max, int *names);
/* s3_tag_error - answer InvalidTag with @why (from s3_tag_add) and the
 * elements @names says, naming @k and @v */
void s3_tag_error(struct http_req *r, const char *why, int names, const char *k, const char *v);
bool s3_bucket_name_ok(const char *name);
void s3_time_iso(int64_t ms, char out[32]);
void s3_time_http(int64_t ms, char out[40]);
bool s3_time_parse_http(const char *s, int64_t *ms);
void s3_new_id(char out[33]);
/* s3_vid_ok - whether @vid can name a version here: "null" or what
 * s3_new_id makes (32 lowercase hex digits). S3 answers any other
 * InvalidArgument "Invalid version id specified" (a DeleteObjects entry
 * NoSuchVersion), not NoSuchVersion. */
bool s3_vid_ok(const char *vid);
/* s3_id_rand - 64 bits for request ids: unique, cheap, not unpredictable (a
 * per-thread sequence seeded once; any thread). */
uint64_t s3_id_rand(void);
/* store keys, arena. LMDB keys stop at 511 bytes and S3 keys at 1024: a key
 * longer than S3_KEY_INLINE is stored as its first S3_KEY_SORTED bytes, 0xFF
 * (never in UTF-8) and the hex SHA-256 of the whole key, and the record keeps
 * the key itself; such keys sort by their first S3_KEY_SORTED bytes only. */
enum { S3_KEY_INLINE = 400, S3_KEY_SORTED = S3_KEY_INLINE - 65 };
struct slice s3_key_bucket(struct arena *a, const char *bucket);
/* s3_key_seq - @tag then @seq big-endian: a queue's key ('Q' replication, 'N'
 * event notifications), in key order of @seq */
struct slice s3_key_seq(struct arena *a, char tag, uint64_t seq);
struct slice s3_key_obj_prefix(struct arena *a, const char *bucket, const char *key);
struct slice s3_key_version(struct arena *a, const char *bucket, const char *key, uint64_t seq);
/* a key name read back from a store key was shortened (the record's "k" holds it) */
bool s3_key_hashed(const char *name);
/* split a version key into key (arena) */
const char *s3_key_name(struct arena *a, struct slice k, size_t bucket_len);
/* a new body path (relative, under objects/) and its absolute path (arena) */
/* s3_make_dirs - create the 256 body folders (00-ff) under objects/ and flush
 * their names; at s3_open, so a PUT never has to. ERR_IO with a message. */
enum err_code s3_make_dirs(struct s3 *s3, struct err *e);
char *s3_new_body_path(struct s3 *s3, struct arena *a, char **abs);
char *s3_abs_path(struct s3 *s3, struct arena *a, const char *rel);
int s3_make_tmp(struct s3 *s3, struct arena *a, char **path);
/* fsync @fd, close it, rename @tmp to @rel's absolute path */
enum err_code s3_commit_file(struct s3 *s3, struct arena *a, int fd, const char *tmp,
                             const char *rel, struct err *e);

/* api.c: run @r (an in-process request from http_req_new) as the region's
 * own root identity, for the lifecycle sweeper; answers through @r. */
void s3_handle_internal(struct s3 *s, struct http_req *r);

/* lifecycle.c */
void s3_sweeper_start(struct s3 *s);
void s3_sweeper_stop(struct s3 *s); /* NULL sweeper ok */
struct s3_xml;
/* s3_lc_check - whether LifecycleConfiguration @x is valid (IDs of at most 255
 * characters and unique, positive days, dates at midnight GMT, an action in
 * every rule); else the error in @code and @msg. @doc: the document to store,
 * in @a, with an ID made for every rule that has none, as S3 does. */
bool s3_lc_check(struct arena *a, const struct s3_xml *x, enum s3_code *code, char *msg, size_t cap,
                 char **doc);
/* s3_lc_expiration - the x-amz-expiration value for version @v (current) of
 * @key under @bucket's lifecycle rules ("expiry-date=\"...\", rule-id=\"...\""),
 * or NULL when no enabled Expiration rule selects it. In @a. */
const char *s3_lc_expiration(struct arena *a, const struct s3 *s, const cJSON *bucket,
                             const char *key, const cJSON *v);

/* bucket.c */
void s3_list_buckets(struct http_req *r);
void s3_create_bucket(struct http_req *r);
void s3_delete_bucket(struct http_req *r);
void s3_head_bucket(struct http_req *r);
/* s3_bucket_unimplemented - answer a request for a bucket subresource Tandem
 * does not have (accelerate, analytics, metrics, ...): the
 * defaults S3 shows for a bucket never configured, else NotImplemented; false
 * when @r names none of them. */
bool s3_bucket_unimplemented(struct http_req *r);
void s3_get_bucket_location(struct http_req *r);
void s3_get_versioning(struct http_req *r);
void s3_put_versioning(struct http_req *r);
void s3_bucket_tagging(struct http_req *r);
/* s3_parse_tagging - the Tagging body of @r as a JSON array text [{"k","v"}]
 * (arena), at most @max tags; NULL after answering the error. */
char *s3_parse_tagging(struct http_req *r, size_t max);
/* s3_write_tagging - a Tagging document of @tags ([{"k","v"}], may be NULL) into @b (initialized).
 */
void s3_write_tagging(struct buf *b, cJSON *tags);
/* website, logging, lifecycle, ownershipControls, publicAccessBlock, acl:
 * answers and returns true when @r is one of them */
bool s3_bucket_config(struct http_req *r);
/* s3_acl_canned - @acl is one of S3's canned ACLs (private, public-read, ...);
 * any other x-amz-acl is refused with InvalidArgument before anything is done. */
bool s3_acl_canned(const char *acl);
/* s3_acl_grants - canned ACL @acl (NULL: none) grants more than the owner's
 * FULL_CONTROL: anything but private and bucket-owner-full-control. */
bool s3_acl_grants(const char *acl);
/* the canned ACL of @r (one s3_acl_grants) or its x-amz-grant-* headers are
 * refused by a bucket whose ObjectOwnership is BucketOwnerEnforced (S3's
 * default since April 2023) */
bool s3_acl_refused(struct http_req *r, const cJSON *bucket);
/* s3_json_free - cJSON_Delete for arena_on_free(). */
void s3_json_free(void *p);
/* the bucket's JSON (owned, cJSON_Delete) or NULL when it does not exist */
cJSON *s3_bucket_get(struct store_txn *t, struct arena *a, const char *bucket);
/* s3_bucket_or_404 - the bucket of @r (arena-owned), or NULL after answering NoSuchBucket */
cJSON *s3_bucket_or_404(struct http_req *r);

/* s3_cfg_stored - the stored document of configuration @name ("policy",
 * "publicAccessBlock", ...) of @bucket, the defaults included; NULL when none. */
const char *s3_cfg_stored(const cJSON *bucket, const char *name);

/* encryption (config.c): objects are stored as they are; the algorithm is
 * recorded ("sse", "kms") and reported as S3 reports it. */
/* s3_sse_valid - whether x-amz-server-side-encryption of @r is absent or one S3 knows. */
bool s3_sse_valid(struct http_req *r);
/* s3_sse_from_request - x-amz-server-side-encryption (and its KMS key id) into @rec. */
void s3_sse_from_request(struct http_req *r, cJSON *rec);
/* s3_sse_default - @rec without an algorithm takes @bucket's default encryption. */
void s3_sse_default(const cJSON *bucket, cJSON *rec);
/* s3_sse_headers - x-amz-server-side-encryption[-aws-kms-key-id] of @rec (AES256 when unset). */
void s3_sse_headers(struct http_req *r, const cJSON *rec);

/* cors.c */
/* s3_cors_check - whether CORSConfiguration @x is valid; else the error in
 * @code (MalformedXML, InvalidRequest) and a message in @msg ("" for the default). */
struct s3_xml;
bool s3_cors_check(const struct s3_xml *x, enum s3_code *code, char *msg, size_t cap);
/* s3_website_check - whether WebsiteConfiguration @x's redirects are valid
 * (HttpRedirectCode 301-305, 307 or 308; Protocol http or https); else
 * InvalidRequest in @code with S3's message in @msg. website.c */
bool s3_website_check(const struct s3_xml *x, enum s3_code *code, char *msg, size_t cap);
/* s3_cors_preflight - answer OPTIONS (a browser's preflight) from the bucket's rules. */
void s3_cors_preflight(struct http_req *r);
/* s3_cors_headers - a request with Origin: add the matching rule's Access-Control-* headers. */
void s3_cors_headers(struct http_req *r);

/* public.c */
/* s3_bucket_policy_for - the policy document of @bucket (in r's arena), or NULL
 * when it has none or does not exist; for an @anonymous caller also NULL when
 * the policy is public and the bucket's RestrictPublicBuckets is on. */
const char *s3_bucket_policy_for(struct http_req *r, const char *bucket, bool anonymous);
/* s3_policy_public - whether policy JSON @json grants to the public (S3 User
 * Guide, "The meaning of 'public'"). */
bool s3_policy_public(const char *json);
/* s3_policy_context - the request's condition keys for @action on @bucket/@key
 * into @kv (at most @cap; arena values): aws:Referer, aws:UserAgent, the
 * s3:x-amz-* headers S3 names as keys, s3:x-amz-copy-source, s3:prefix,
 * s3:delimiter, s3:max-keys, s3:VersionId, s3:signatureversion, s3:authType,
 * s3:RequestObjectTag/K (PutObject) and, with @object_tags,
 * s3:ExistingObjectTag/K (actions on an existing object: the version's tags,
 * read from the store). */
size_t s3_policy_context(struct http_req *r, const char *action, const char *bucket,
                         const char *key, bool object_tags, struct authz_kv *kv, size_t cap);
/* s3_root_deny_policy - @policy's Deny statements and an Allow of everything
 * else, to evaluate the account root against (NULL: nothing denies) */
const char *s3_root_deny_policy(struct http_req *r, const char *policy);
/* s3_pab_on - whether Block Public Access setting @setting
 * ("BlockPublicPolicy", "RestrictPublicBuckets", ...) is on for @bucket. */
bool s3_pab_on(struct http_req *r, const cJSON *bucket, const char *setting);
/* s3_public_acl_blocked - @r carries a public canned ACL or grant (AllUsers,
 * AuthenticatedUsers) and @bucket's BlockPublicAcls is on. */
bool s3_public_acl_blocked(struct http_req *r, const cJSON *bucket);

/* acl.c: access control lists (see there) */
/* s3_acl_allows - whether the ACL of @bucket (or of object @key's version the
 * request names) grants the permission that allows @action to the caller;
 * asked by the authorizer once no policy allowed and none denied explicitly. */
bool s3_acl_allows(struct http_req *r, const char *action, const char *bucket, const char *key);
/* s3_acl_owner_may - for the bucket owner's root: false when @action is on a
 * version another account owns (ObjectWriter, BucketOwnerPreferred) whose
 * ACL does not grant the bucket owner the permission it needs, as S3 refuses
 * a bucket owner the objects others own until they grant them. */
bool s3_acl_owner_may(struct http_req *r, const char *action, const char *bucket, const char *key);
/* s3_acl_beyond_owner - @bucket's ACL grants someone other than its owner
 * (PutBucketOwnershipControls BucketOwnerEnforced is then refused,
 * InvalidBucketAclWithObjectOwnership, as S3 refuses it) */
bool s3_acl_beyond_owner(struct s3 *s, const cJSON *bucket);
/* s3_acl_write_refused - whether the ACL a write of a new object carries
 * (PutObject, CopyObject, CreateMultipartUpload, POST) is refused by @bucket:
 * *@code AccessControlListNotSupported (ACLs off) or AccessDenied
 * (BlockPublicAcls) */
bool s3_acl_write_refused(struct http_req *r, const cJSON *bucket, enum s3_code *code);
/* s3_acl_has_grant_headers - @r carries an x-amz-grant-* header */
bool s3_acl_has_grant_headers(struct http_req *r);
/* s3_acl_headers_valid - @r's x-amz-grant-* headers name grantees as S3
 * takes them (not with x-amz-acl too); false after answering the error. */
bool s3_acl_headers_valid(struct http_req *r);
/* s3_acl - GetBucketAcl/PutBucketAcl (@object false) or GetObjectAcl/PutObjectAcl */
void s3_acl(struct http_req *r, bool object);

/* website.c */
/* s3_website - answer @r, a website endpoint request (q->website). */
void s3_website(struct http_req *r);
/* s3_website_error - the HTML page of an error, as website endpoints answer, into @b. */
struct buf;
void s3_website_error(struct http_req *r, int status, const char *code, const char *msg,
                      struct buf *b);

/* object.c */
void s3_put_object(struct http_req *r);
/* post.c: POST Object (a browser's form upload to the bucket) */
void s3_post_object(struct http_req *r);
/* s3_post_answer - the success answer of a POST upload, in place of s3_ok's 200 */
void s3_post_answer(struct http_req *r);
/* s3_post_begin - (post.c) a form upload's headers arrived: its state (q->post)
 * and the temporary file its file streams into; false when answered */
bool s3_post_begin(struct http_req *r);
/* s3_post_feed - (post.c) the form's next @n bytes (http_req's on_body) */
enum err_code s3_post_feed(struct http_req *r, const void *data, size_t n);
/* s3_put_from_form - (api.c) write the streamed body (s3_body_start, fed
 * since) at @key as a PutObject whose request headers are @hs (the form's);
 * answers the request */
void s3_put_from_form(struct http_req *r, const char *key, struct http_header *hs, size_t nh);
void s3_copy_object(struct http_req *r);
/* s3_header_tags - x-amz-tagging (key=value&..., URL-encoded) as a version
 * record's "tags" array (caller owns; NULL when absent or empty). Refused as
 * S3 does (InvalidTag: more than 10, an empty key, a key over 128 or a value
 * over 256 bytes, a key twice): *bad set, the error answered, NULL. */
cJSON *s3_header_tags(struct http_req *r, bool *bad);
void s3_get_object(struct http_req *r, bool head);
/* s3_read_version - version @vid (latest when NULL) of the request's key in
 * @t, where the bucket's record is @b (NULL: none); arena-owned. Answers
 * NoSuchBucket, NoSuchKey (AccessDenied to callers who may not list),
 * NoSuchVersion or InvalidArgument itself and returns NULL. *@is_latest (when
 * given) says whether it is the key's newest version. */
cJSON *s3_read_version(struct http_req *r, struct store_txn *t, const cJSON *b, const char *vid,
                       bool *is_latest);
/* s3_part_range - the bytes of part @num of version @v: 1 with @off/@len and
 * the part's index @idx set, 0 for the whole object (part 1 of an object not
 * uploaded in parts), -1 when there is no such part. */
int s3_part_range(const cJSON *v, long num, long long *off, long long *len, int *idx);
/* s3_part_checksum - the checksum of the @idx-th part of @v, or NULL */
const char *s3_part_checksum(const cJSON *v, int idx);
/* s3_get_object_attributes - GetObjectAttributes (GET ?attributes) */
void s3_get_object_attributes(struct http_req *r);
void s3_delete_object(struct http_req *r);
void s3_delete_objects(struct http_req *r);
void s3_list_objects(struct http_req *r, int version);
void s3_list_versions(struct http_req *r);
void s3_object_tagging(struct http_req *r);
/* commit a new version of bucket/key (writer thread); used by multipart too */
struct s3_newver {
    struct s3_w w; /* first */
    struct http_req *r;
    bool *keep_file; /* set true once durable: the new body file stays */
    const char *bucket, *key;
    cJSON *rec;            /* takes; vid/file set by apply */
    const char *upload_id; /* multipart: delete the upload and its parts */
    /* replication (later): write the version with this exact id (a replica);
     * an existing version with the same id is replaced, so applying a replica
     * twice is harmless. NULL: a new id (or "null") as versioning says. */
    const char *want_vid;
    char vid[33];
    bool versioned;   /* the bucket has had versioning enabled */
    char **old_files; /* arena: files to unlink once durable */
    int nold, capold;
    int status;
    int kind;               /* 0 put, 1 copy, 2 complete */
    int64_t since;          /* complete: the upload's initiation (ms), for its conditions */
    const char *expiration; /* x-amz-expiration of the new version, arena */
    struct buf out;         /* response body */
};
void s3_submit_version(struct s3_newver *nv);
void s3_newver_old(struct s3_newver *nv, const char *rel); /* unlink @rel once durable */
enum err_code s3_upload_drop(struct store_txn *t, struct s3_newver *nv, struct err *e);
cJSON *s3_find_version(struct store_txn *t, struct arena *a, const char *bucket, const char *key,
                       const char *vid, struct slice *found);

/* lock.c: S3 Object Lock (see there). A bucket's "lock", a version's "olm"
 * (mode), "olr" (retain-until, ms) and "olh" (legal hold ON/OFF). */
bool s3_lock_enabled(const cJSON *bucket);
/* Get/PutObjectLockConfiguration (?object-lock on a bucket) */
void s3_lock_config(struct http_req *r);
/* Get/PutObjectRetention, Get/PutObjectLegalHold (?retention, ?legal-hold) */
void s3_object_lock(struct http_req *r);
/* s3_lock_request - a PutObject, CopyObject or CreateMultipartUpload's
 * x-amz-object-lock-* headers are valid and its bucket has Object Lock; else
 * answers (InvalidArgument, InvalidRequest) and false. Other requests: true. */
bool s3_lock_request(struct http_req *r);
/* s3_lock_from_request - those headers into version (or upload) record @rec */
void s3_lock_from_request(struct http_req *r, cJSON *rec);
/* s3_lock_copy - the lock fields of @from (an upload) into @to (its version) */
void s3_lock_copy(cJSON *to, const cJSON *from);
/* s3_lock_on_version - newver_apply, for new version @rec of @bucket: lock
 * fields (or a replica from a bucket with Object Lock, "olb") refused by a
 * bucket without Object Lock, the bucket's default retention applied, and a
 * PutObject (@put) given retention must carry Content-MD5 or a checksum.
 * False with @w's fail and msg set. */
bool s3_lock_on_version(struct http_req *r, const cJSON *bucket, cJSON *rec, bool put, bool replica,
                        struct s3_w *w);
/* s3_lock_holds - version @v may not be deleted at @now_ms: legal hold ON, or
 * retention in force (GOVERNANCE gives way to @bypass) */
bool s3_lock_holds(const cJSON *v, int64_t now_ms, bool bypass);
/* s3_lock_bypass - @r asks to bypass GOVERNANCE retention and may
 * (s3:BypassGovernanceRetention on @key) */
bool s3_lock_bypass(struct http_req *r, const char *key);
/* s3_lock_headers - GetObject/HeadObject's x-amz-object-lock-* of @v, to
 * callers allowed s3:GetObjectRetention / s3:GetObjectLegalHold */
void s3_lock_headers(struct http_req *r, const cJSON *v);
/* s3_lock_context - the Object Lock condition keys of @action (s3:PutObject's
 * headers, s3:PutObjectRetention's and s3:PutObjectLegalHold's document):
 * s3:object-lock-mode, -retain-until-date, -remaining-retention-days (whole
 * days, rounded up) and -legal-hold, at most @cap into @kv; how many. */
struct authz_kv;
size_t s3_lock_context(struct http_req *r, const char *action, struct authz_kv *kv, size_t cap);

/* multipart.c */
void s3_create_upload(struct http_req *r);
void s3_upload_part(struct http_req *r);
void s3_complete_upload(struct http_req *r);
void s3_abort_upload(struct http_req *r);
void s3_list_parts(struct http_req *r);
void s3_list_uploads(struct http_req *r);

/* notify.c: event notifications to Lambda functions (see there) */
/* s3_notify_config - ?notification on a bucket: Get/PutBucketNotificationConfiguration */
void s3_notify_config(struct http_req *r);
/* s3_notify_created - in a write's apply: the events of version @nv->rec of
 * @nv->key just written (a new object, or a delete marker) that @bucket's
 * configurations select, recorded in @t */
enum err_code s3_notify_created(struct store_txn *t, struct s3_newver *nv, const cJSON *bucket,
                                struct err *e);
/* s3_notify_removed - in a delete's apply: version @vid of @nv->key removed */
enum err_code s3_notify_removed(struct store_txn *t, struct s3_newver *nv, const char *vid,
                                struct err *e);

/* notify_send.c: the event records and their delivery */
struct s3_event_args {
    const char *region, *account;
    const char *name;                 /* "ObjectCreated:Put" */
    const struct creds_identity *who; /* NULL: anonymous */
    const char *ip, *request_id, *config_id, *bucket, *key;
    const char *vid;      /* NULL: the bucket was never versioned */
    const cJSON *version; /* the new version (size, etag); NULL for removals */
    uint64_t seq;         /* orders the events of a key: the sequencer */
};
/* s3_notify_queue - the event @a for function @arn as a pending delivery in @t */
enum err_code s3_notify_queue(struct store_txn *t, const char *arn, const struct s3_event_args *a,
                              struct err *e);
/* s3_notify_invoker - the invoker s3_set_invoker handed over, or NULL */
const struct s3_invoker *s3_notify_invoker(struct s3 *s);
/* s3_notify_kick - a write committed: wake the delivery if it recorded events */
void s3_notify_kick(struct s3 *s);
/* s3_notify_stop - stop the delivery (s3_close); NULL notifier ok */
void s3_notify_stop(struct s3 *s);
/* s3_error_elems - s3_error with @n more elements (@elems: name, value, ...) */
void s3_error_elems(struct http_req *r, enum s3_code code, const char *msg,
                    const char *const *elems, size_t n);

#endif
