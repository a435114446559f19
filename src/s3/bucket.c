/* bucket.c - CreateBucket, DeleteBucket, HeadBucket, ListBuckets,
 * GetBucketLocation, Put/GetBucketVersioning, bucket tagging. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "codec.h"
#include "s3_int.h"
#include "s3_xml.h"

cJSON *s3_bucket_get(struct store_txn *t, struct arena *a, const char *bucket)
{
    struct slice v;
    cJSON *j;

    if (store_get(t, STORE_DB_S3, s3_key_bucket(a, bucket), &v, NULL) != ERR_OK)
        return NULL;
    j = cJSON_ParseWithLength(v.ptr, v.len);
    return j;
}

cJSON *s3_bucket_or_404(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    struct store_txn *t = NULL;
    cJSON *b = NULL;

    if (store_read_begin(q->s3->store, &t, NULL) == ERR_OK) {
        b = s3_bucket_get(t, r->arena, q->bucket);
        store_txn_abort(t);
    }
    if (!b) {
        s3_error(r, S3E_NO_SUCH_BUCKET, NULL);
        return NULL;
    }
    arena_on_free(r->arena, s3_json_free, b);
    return b;
}

struct bw {
    struct s3_w w;
    char *json; /* arena */
    const char *versioning;
    bool del;
};

static void ok_empty200(struct s3_w *w)
{
    struct s3_req *q = s3_req_of(w->r);
    if (strcmp(w->r->method, "PUT") == 0 && !s3_has_query(w->r, "versioning") &&
        !s3_has_query(w->r, "tagging"))
        http_resp_header(w->r, "Location", arena_sprintf(w->r->arena, "/%s", q->bucket));
    s3_ok(w->r, 200, NULL);
}

static void ok_204(struct s3_w *w)
{
    s3_ok(w->r, 204, NULL);
}

static enum err_code create_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct bw *b = arg;
    struct s3_req *q = s3_req_of(b->w.r);
    struct slice k = s3_key_bucket(b->w.r->arena, q->bucket), v;

    if (store_get(t, STORE_DB_S3, k, &v, NULL) == ERR_OK) {
        /* us-east-1 answers 200 to the owner re-creating a bucket (legacy) */
        if (strcmp(q->s3->region, "us-east-1") == 0)
            return ERR_OK;
        b->w.fail = S3E_BUCKET_OWNED;
        return ERR_CONFLICT;
    }
    return store_put(t, STORE_DB_S3, k, slice_str(b->json), e);
}

/* region_shaped - @loc is lower-case letters, digits and hyphens, with a
 * hyphen, ending in a digit: the form of a region's name (us-west-2) */
static bool region_shaped(const char *loc)
{
    size_t n = strlen(loc), i;

    if (n < 3 || n > 64 || !strchr(loc, '-') || !isdigit((unsigned char)loc[n - 1]))
        return false;
    for (i = 0; i < n; i++)
        if (!islower((unsigned char)loc[i]) && !isdigit((unsigned char)loc[i]) && loc[i] != '-')
            return false;
    return true;
}

/* tag_set - the <Tag><Key/><Value/></Tag> children of @set as a JSON array text (arena),
 * checked as S3 checks a tag set of at most @max tags; NULL after answering an error */
static char *tag_set(struct http_req *r, const struct s3_xml *set, size_t max)
{
    const struct s3_xml *tg;
    cJSON *arr = cJSON_CreateArray();
    char *s, *out;
    size_t n = 0;
    int names;

    for (tg = set->child; tg; tg = tg->next) {
        const char *k = s3_xml_text(tg, "Key"), *v = s3_xml_text(tg, "Value"), *why;
        if (strcmp(tg->name, "Tag") != 0 || !k || !v) {
            cJSON_Delete(arr);
            s3_error(r, S3E_MALFORMED_XML, NULL);
            return NULL;
        }
        if ((why = s3_tag_add(arr, k, v, ++n, max, &names))) {
            cJSON_Delete(arr);
            s3_tag_error(r, why, names, k, v);
            return NULL;
        }
    }
    s = cJSON_PrintUnformatted(arr);
    out = arena_strdup(r->arena, s);
    free(s);
    cJSON_Delete(arr);
    return out;
}

/* create_tags - CreateBucketConfiguration's Tags (@set, may be NULL) as a
 * JSON array text (arena), "" for none, checked as PutBucketTagging's; NULL
 * after answering an error */
static const char *create_tags(struct http_req *r, const struct s3_xml *set)
{
    if (!set || !set->child)
        return "";
    return tag_set(r, set, 50);
}

void s3_create_bucket(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    struct bw *b = arena_calloc(r->arena, sizeof(*b));
    const char *loc = NULL, *lock, *tags = "";
    cJSON *j;
    char *s;

    if (!s3_bucket_name_ok(q->bucket)) {
        s3_error(r, S3E_INVALID_BUCKET_NAME, NULL);
        return;
    }
    if (!s3_allow(r, "s3:CreateBucket", q->bucket, NULL))
        return;
    lock = http_req_header(r, "x-amz-bucket-object-lock-enabled");
    if (lock && strcasecmp(lock, "true") != 0 && strcasecmp(lock, "false") != 0) {
        s3_error_arg(r, S3E_INVALID_ARGUMENT, "Invalid x-amz-bucket-object-lock-enabled header",
                     "x-amz-bucket-object-lock-enabled", lock);
        return;
    }
    if (r->body.len) {
        struct s3_xml *x;
        if (s3_xml_parse(r->arena, r->body.ptr, r->body.len, &x, NULL) != ERR_OK ||
            strcmp(x->name, "CreateBucketConfiguration") != 0) {
            s3_error(r, S3E_MALFORMED_XML, NULL);
            return;
        }
        loc = s3_xml_text(x, "LocationConstraint");
        if (!(tags = create_tags(r, s3_xml_child(x, "Tags"))))
            return;
    }
    /* a region's name that is not this region is incompatible with the
     * endpoint (S3 creates buckets only in the region it is sent to); other
     * values are not valid */
    if (loc && *loc && strcmp(loc, q->s3->region) != 0) {
        if (region_shaped(loc))
            s3_error(r, S3E_ILLEGAL_LOCATION,
                     arena_sprintf(r->arena,
                                   "The %s location constraint is incompatible for the region "
                                   "specific endpoint this request was sent to.",
                                   loc));
        else
            s3_error(r, S3E_INVALID_LOCATION, NULL);
        return;
    }
    if ((!loc || !*loc) && strcmp(q->s3->region, "us-east-1") != 0) {
        s3_error(r, S3E_ILLEGAL_LOCATION, NULL);
        return;
    }
    if (loc && strcmp(loc, "us-east-1") == 0 && strcmp(q->s3->region, "us-east-1") == 0) {
        s3_error(r, S3E_INVALID_LOCATION, NULL);
        return;
    }
    {
        const char *own = http_req_header(r, "x-amz-object-ownership");
        const char *acl = http_req_header(r, "x-amz-acl");
        if (own && strcmp(own, "BucketOwnerEnforced") != 0 &&
            strcmp(own, "BucketOwnerPreferred") != 0 && strcmp(own, "ObjectWriter") != 0) {
            /* S3 names the value in the message, and only the header's name */
            s3_error_elem(r, S3E_INVALID_ARGUMENT,
                          arena_sprintf(r->arena, "Invalid x-amz-object-ownership header: %s", own),
                          "ArgumentName", "x-amz-object-ownership");
            return;
        }
        if (((acl && strcmp(acl, "private") != 0) || s3_acl_has_grant_headers(r)) &&
            (!own || strcmp(own, "BucketOwnerEnforced") == 0)) {
            s3_error(r, S3E_BUCKET_ACL_OWNERSHIP, NULL);
            return;
        }
        j = cJSON_CreateObject();
        if (s3_public_acl_blocked(r, j)) {
            /* a new bucket blocks public ACLs (Block Public Access on by
             * default): a public one is refused, the bucket not created */
            cJSON_Delete(j);
            s3_error(r, S3E_ACCESS_DENIED, NULL);
            return;
        }
        s3_rec_acl(r, j); /* the bucket's canned ACL or grants */
        cJSON_DeleteItemFromObject(j, "own");
        if (own && strcmp(own, "BucketOwnerEnforced") != 0) {
            cJSON *cfg = cJSON_AddObjectToObject(j, "cfg");
            cJSON_AddStringToObject(
                cfg, "ownershipControls",
                arena_sprintf(
                    r->arena,
                    "<OwnershipControls xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                    "<Rule><ObjectOwnership>%s</ObjectOwnership></Rule></OwnershipControls>",
                    own));
        }
    }
    cJSON_AddNumberToObject(j, "created", (double)clock_wall_ms());
    if (*tags)
        cJSON_AddItemToObject(j, "tags", cJSON_Parse(tags));
    /* Object Lock comes with versioning Enabled, for good */
    if (lock && strcasecmp(lock, "true") == 0)
        cJSON_AddObjectToObject(j, "lock");
    cJSON_AddStringToObject(j, "versioning", cJSON_GetObjectItem(j, "lock") ? "Enabled" : "");
    s = cJSON_PrintUnformatted(j);
    b->json = arena_strdup(r->arena, s);
    free(s);
    cJSON_Delete(j);
    b->w.r = r;
    b->w.apply = create_apply;
    b->w.ok = ok_empty200;
    s3_submit(&b->w);
}

static enum err_code delete_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct bw *b = arg;
    struct s3_req *q = s3_req_of(b->w.r);
    struct arena *a = b->w.r->arena;
    struct slice k = s3_key_bucket(a, q->bucket), v, ck, cv;
    struct store_cursor *c = NULL;
    char *pre;
    int i;

    if (store_get(t, STORE_DB_S3, k, &v, NULL) != ERR_OK) {
        b->w.fail = S3E_NO_SUCH_BUCKET;
        return ERR_CONFLICT;
    }
    /* any object version, delete marker or upload keeps it */
    for (i = 0; i < 2; i++) {
        pre = arena_sprintf(a, "%c%s", i ? 'U' : 'O', q->bucket);
        size_t pl = strlen(pre) + 1;
        if (store_cursor_open(t, STORE_DB_S3, &c, e) != ERR_OK)
            return ERR_IO;
        if (store_cursor_seek(c, slice_of(pre, pl), &ck, &cv, NULL) == ERR_OK && ck.len >= pl &&
            memcmp(ck.ptr, pre, pl) == 0) {
            store_cursor_close(c);
            b->w.fail = S3E_BUCKET_NOT_EMPTY;
            /* S3 says more to a bucket that has had versioning */
            cJSON *j = cJSON_ParseWithLength((const char *)v.ptr, v.len);
            const char *ver = j ? json_str_ci(j, "versioning") : NULL;
            if (ver && *ver)
                snprintf(b->w.msg, sizeof(b->w.msg),
                         "The bucket you tried to delete is not empty. You must delete all "
                         "versions in the bucket.");
            cJSON_Delete(j);
            return ERR_CONFLICT;
        }
        store_cursor_close(c);
    }
    return store_del(t, STORE_DB_S3, k, e);
}

void s3_delete_bucket(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    struct bw *b = arena_calloc(r->arena, sizeof(*b));

    if (!s3_allow(r, "s3:DeleteBucket", q->bucket, NULL))
        return;
    b->w.r = r;
    b->w.apply = delete_apply;
    b->w.ok = ok_204;
    s3_submit(&b->w);
}

void s3_head_bucket(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);

    if (!s3_allow(r, "s3:ListBucket", q->bucket, NULL))
        return;
    if (!s3_bucket_or_404(r))
        return;
    http_resp_header(r, "x-amz-bucket-region", q->s3->region);
    http_resp_header(r, "x-amz-access-point-alias", "false"); /* a bucket, not an alias */
    s3_ok(r, 200, NULL);
}

void s3_get_bucket_location(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    struct buf b;

    if (!s3_allow(r, "s3:GetBucketLocation", q->bucket, NULL))
        return;
    if (!s3_bucket_or_404(r))
        return;
    s3_xml_start(&b, "LocationConstraint");
    /* us-east-1 is the empty constraint */
    if (strcmp(q->s3->region, "us-east-1") != 0)
        xmlw_text(&b, q->s3->region, XMLW_CTRL);
    buf_puts(&b, "</LocationConstraint>");
    s3_ok(r, 200, &b);
}

/* The page of ListBuckets a request asks for. With none of max-buckets,
 * continuation-token, prefix and bucket-region S3 lists every bucket; with any,
 * a page holds at most 10,000 and each bucket names its region. */
struct buckets_page {
    bool paged;         /* any of the four was sent */
    long max;           /* buckets on the page; -1: all */
    const char *after;  /* the continuation token's bucket name, or NULL */
    const char *prefix; /* or NULL */
    bool other_region;  /* bucket-region names another region: nothing here */
};

/* list_buckets_page - *@pg from the query of @r; false when @r was answered. */
static bool list_buckets_page(struct http_req *r, struct buckets_page *pg)
{
    struct s3_req *q = s3_req_of(r);
    const char *mb = s3_query(r, "max-buckets"), *tok = s3_query(r, "continuation-token");
    const char *region = s3_query(r, "bucket-region");
    char *end;

    memset(pg, 0, sizeof(*pg));
    pg->prefix = s3_query(r, "prefix");
    pg->paged = mb || tok || pg->prefix || region;
    pg->max = pg->paged ? 10000 : -1;
    if (mb) {
        pg->max = strtol(mb, &end, 10);
        if (!*mb || *end || pg->max < 1 || pg->max > 10000) {
            s3_error_arg(r, S3E_INVALID_ARGUMENT,
                         "Argument max-buckets must be an integer between 1 and 10000",
                         "max-buckets", mb);
            return false;
        }
    }
    if (tok && *tok) {
        unsigned char *d = arena_alloc(r->arena, strlen(tok) + 4);
        size_t dl = 0;
        if (!base64_decode(tok, strlen(tok), d, &dl) || !dl || memchr(d, 0, dl)) {
            s3_error_arg(r, S3E_INVALID_ARGUMENT, "The continuation token provided is incorrect",
                         "continuation-token", tok);
            return false;
        }
        pg->after = arena_strndup(r->arena, (const char *)d, dl);
    }
    pg->other_region = region && strcmp(region, q->s3->region) != 0;
    return true;
}

void s3_list_buckets(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    struct store_txn *t = NULL;
    struct store_cursor *c = NULL;
    struct slice k, v;
    struct buf b;
    struct buckets_page pg;
    const char *last = NULL;
    bool more = false;
    long n = 0;
    enum err_code rc;

    if (!s3_allow(r, "s3:ListAllMyBuckets", NULL, NULL))
        return;
    if (!list_buckets_page(r, &pg))
        return;
    s3_xml_start(&b, "ListAllMyBucketsResult");
    /* Owner before Buckets, as S3 orders them: the AWS SDK for Java (v1)
     * gives each bucket the Owner read before it */
    buf_puts(&b, "<Owner>");
    xmlw_elem(&b, "ID", q->who.account, XMLW_CTRL);
    xmlw_elem(&b, "DisplayName", q->who.user, XMLW_CTRL);
    buf_puts(&b, "</Owner><Buckets>");
    /* another account's caller owns no bucket of this region */
    if (!pg.other_region && strcmp(q->who.account, q->s3->account) == 0 &&
        store_read_begin(q->s3->store, &t, NULL) == ERR_OK &&
        store_cursor_open(t, STORE_DB_S3, &c, NULL) == ERR_OK) {
        /* bucket records are "B<name>", in name order */
        const char *from = pg.after && (!pg.prefix || strcmp(pg.after, pg.prefix) >= 0)
                               ? pg.after
                               : (pg.prefix ? pg.prefix : "");
        for (rc = store_cursor_seek(c, slice_str(arena_sprintf(r->arena, "B%s", from)), &k, &v,
                                    NULL);
             rc == ERR_OK && k.len > 1 && ((const char *)k.ptr)[0] == 'B';
             rc = store_cursor_next(c, &k, &v, NULL)) {
            const char *name = arena_strndup(r->arena, (const char *)k.ptr + 1, k.len - 1);
            cJSON *j, *cr;
            char when[32];
            if (pg.after && strcmp(name, pg.after) <= 0)
                continue;
            if (pg.prefix && strncmp(name, pg.prefix, strlen(pg.prefix)) != 0)
                break;
            if (pg.max >= 0 && n == pg.max) {
                more = true;
                break;
            }
            j = cJSON_ParseWithLength(v.ptr, v.len);
            cr = cJSON_GetObjectItem(j, "created");
            s3_time_iso(cr ? (int64_t)cr->valuedouble : 0, when);
            buf_puts(&b, "<Bucket>");
            xmlw_elem(&b, "Name", name, XMLW_CTRL);
            xmlw_elem(&b, "CreationDate", when, XMLW_CTRL);
            if (pg.paged)
                xmlw_elem(&b, "BucketRegion", q->s3->region, XMLW_CTRL);
            buf_puts(&b, "</Bucket>");
            cJSON_Delete(j);
            last = name;
            n++;
        }
    }
    store_cursor_close(c);
    store_txn_abort(t);
    buf_puts(&b, "</Buckets>");
    if (more && last) {
        char *tk = arena_alloc(r->arena, base64_encoded_len(strlen(last)) + 1);
        base64_encode(last, strlen(last), tk);
        xmlw_elem(&b, "ContinuationToken", tk, XMLW_CTRL);
    }
    if (pg.prefix)
        xmlw_elem(&b, "Prefix", pg.prefix, XMLW_CTRL);
    buf_puts(&b, "</ListAllMyBucketsResult>");
    s3_ok(r, 200, &b);
}

/* rewrite one string field of the bucket JSON */
static enum err_code bucket_set_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct bw *b = arg;
    struct s3_req *q = s3_req_of(b->w.r);
    struct slice k = s3_key_bucket(b->w.r->arena, q->bucket);
    cJSON *j = s3_bucket_get(t, b->w.r->arena, q->bucket);
    enum err_code rc;
    char *s;

    if (!j) {
        b->w.fail = S3E_NO_SUCH_BUCKET;
        return ERR_CONFLICT;
    }
    if (b->versioning && strcmp(b->versioning, "Enabled") != 0 && cJSON_GetObjectItem(j, "repl")) {
        cJSON_Delete(j);
        b->w.fail = S3E_INVALID_BUCKET_STATE;
        snprintf(b->w.msg, sizeof(b->w.msg),
                 "Replication configuration is present on this bucket, so the versioning state "
                 "cannot be changed.");
        return ERR_CONFLICT;
    }
    if (b->versioning && strcmp(b->versioning, "Enabled") != 0 && s3_lock_enabled(j)) {
        cJSON_Delete(j);
        b->w.fail = S3E_INVALID_BUCKET_STATE;
        snprintf(b->w.msg, sizeof(b->w.msg),
                 "An Object Lock configuration is present on this bucket, so the versioning "
                 "state cannot be changed.");
        return ERR_CONFLICT;
    }
    if (b->versioning) {
        cJSON_DeleteItemFromObject(j, "versioning");
        cJSON_AddStringToObject(j, "versioning", b->versioning);
    } else {
        cJSON_DeleteItemFromObject(j, "tags");
        if (!b->del)
            cJSON_AddItemToObject(j, "tags", cJSON_Parse(b->json));
    }
    s = cJSON_PrintUnformatted(j);
    rc = store_put(t, STORE_DB_S3, k, slice_str(s), e);
    free(s);
    cJSON_Delete(j);
    return rc;
}

void s3_put_versioning(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    struct bw *b = arena_calloc(r->arena, sizeof(*b));
    struct s3_xml *x;
    const char *st, *mfa;

    if (!s3_allow(r, "s3:PutBucketVersioning", q->bucket, NULL))
        return;
    if (s3_xml_parse(r->arena, r->body.ptr ? r->body.ptr : "", r->body.len, &x, NULL) != ERR_OK ||
        strcmp(x->name, "VersioningConfiguration") != 0) {
        s3_error(r, S3E_MALFORMED_XML, NULL);
        return;
    }
    st = s3_xml_text(x, "Status");
    if (!st && !s3_xml_child(x, "MfaDelete")) { /* S3's answer to an empty configuration */
        s3_error(r, S3E_ILLEGAL_VERSIONING, NULL);
        return;
    }
    if (!st || (strcmp(st, "Enabled") != 0 && strcmp(st, "Suspended") != 0)) {
        s3_error(r, S3E_MALFORMED_XML, NULL);
        return;
    }
    mfa = s3_xml_text(x, "MfaDelete");
    if (mfa && strcmp(mfa, "Enabled") != 0 && strcmp(mfa, "Disabled") != 0) {
        s3_error(r, S3E_MALFORMED_XML, NULL);
        return;
    }
    if (mfa && strcmp(mfa, "Enabled") == 0) { /* no MFA devices here: refused, not ignored */
        s3_error(r, S3E_NOT_IMPLEMENTED, "MFA Delete is not available in this region.");
        return;
    }
    b->versioning = st;
    b->w.r = r;
    b->w.apply = bucket_set_apply;
    b->w.ok = ok_empty200;
    s3_submit(&b->w);
}

void s3_get_versioning(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    cJSON *j, *v;
    struct buf b;

    if (!s3_allow(r, "s3:GetBucketVersioning", q->bucket, NULL))
        return;
    if (!(j = s3_bucket_or_404(r)))
        return;
    v = cJSON_GetObjectItem(j, "versioning");
    s3_xml_start(&b, "VersioningConfiguration");
    if (cJSON_IsString(v) && v->valuestring[0])
        xmlw_elem(&b, "Status", v->valuestring, XMLW_CTRL);
    buf_puts(&b, "</VersioningConfiguration>");
    s3_ok(r, 200, &b);
}

/* tags from a <Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>
 * body as a JSON array text (arena), or NULL after answering an error */
char *s3_parse_tagging(struct http_req *r, size_t max)
{
    struct s3_xml *x, *set;

    if (s3_xml_parse(r->arena, r->body.ptr ? r->body.ptr : "", r->body.len, &x, NULL) != ERR_OK ||
        strcmp(x->name, "Tagging") != 0 || !(set = s3_xml_child(x, "TagSet"))) {
        s3_error(r, S3E_MALFORMED_XML, NULL);
        return NULL;
    }
    return tag_set(r, set, max);
}

void s3_tag_error(struct http_req *r, const char *why, int names, const char *k, const char *v)
{
    const char *const elems[] = {"TagKey", k, "TagValue", v};

    s3_error_elems(r, S3E_INVALID_TAG, *why ? why : NULL, elems, (size_t)names);
}

void s3_write_tagging(struct buf *b, cJSON *tags)
{
    cJSON *e;

    s3_xml_start(b, "Tagging");
    buf_puts(b, "<TagSet>");
    for (e = tags ? tags->child : NULL; e; e = e->next) {
        buf_puts(b, "<Tag>");
        xmlw_elem(b, "Key", cJSON_GetObjectItem(e, "k")->valuestring, XMLW_CTRL);
        xmlw_elem(b, "Value", cJSON_GetObjectItem(e, "v")->valuestring, XMLW_CTRL);
        buf_puts(b, "</Tag>");
    }
    buf_puts(b, "</TagSet></Tagging>");
}

void s3_bucket_tagging(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    struct bw *b;
    cJSON *j, *tags;
    struct buf out;

    if (strcmp(r->method, "GET") == 0) {
        if (!s3_allow(r, "s3:GetBucketTagging", q->bucket, NULL))
            return;
        if (!(j = s3_bucket_or_404(r)))
            return;
        tags = cJSON_GetObjectItem(j, "tags");
        if (!tags || !cJSON_GetArraySize(tags)) { /* an empty TagSet put is none, as in S3 */
            s3_error(r, S3E_NO_SUCH_TAG_SET, NULL);
            return;
        }
        s3_write_tagging(&out, tags);
        s3_ok(r, 200, &out);
        return;
    }
    if (strcmp(r->method, "PUT") != 0 && strcmp(r->method, "DELETE") != 0) {
        s3_error(r, S3E_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    if (!s3_allow(r, "s3:PutBucketTagging", q->bucket, NULL))
        return;
    b = arena_calloc(r->arena, sizeof(*b));
    b->del = strcmp(r->method, "DELETE") == 0;
    if (!b->del && !(b->json = s3_parse_tagging(r, 50)))
        return;
    b->w.r = r;
    b->w.apply = bucket_set_apply;
    b->w.ok = b->del ? ok_204 : ok_204;
    s3_submit(&b->w);
}

/* Bucket subresources Tandem does not have. Without an answer of their own
 * they fell through to ListObjects (GET), CreateBucket (PUT) and DeleteBucket
 * (DELETE /b?analytics&id=x deleted an empty bucket). */
static const char *const unimplemented[] = {
    "accelerate",     "analytics",     "intelligent-tiering",   "inventory", "metrics",
    "requestPayment", "metadataTable", "metadataConfiguration", "session",   NULL};

/* unconfigured_get - the answer S3 gives GET of @sub on a bucket that never
 * had it configured; false when it has none worth giving */
static bool unconfigured_get(struct http_req *r, const char *sub)
{
    struct s3_req *q = s3_req_of(r);
    struct buf b;

    if (strcmp(sub, "accelerate") == 0) {
        if (s3_allow(r, "s3:GetAccelerateConfiguration", q->bucket, NULL)) {
            s3_xml_start(&b, "AccelerateConfiguration");
            buf_puts(&b, "</AccelerateConfiguration>");
            s3_ok(r, 200, &b);
        }
        return true;
    }
    if (strcmp(sub, "requestPayment") == 0) {
        if (s3_allow(r, "s3:GetBucketRequestPayment", q->bucket, NULL)) {
            s3_xml_start(&b, "RequestPaymentConfiguration");
            buf_puts(&b, "<Payer>BucketOwner</Payer></RequestPaymentConfiguration>");
            s3_ok(r, 200, &b);
        }
        return true;
    }
    return false;
}

bool s3_bucket_unimplemented(struct http_req *r)
{
    const char *sub = NULL;
    size_t i;

    for (i = 0; unimplemented[i] && !sub; i++)
        if (s3_has_query(r, unimplemented[i]))
            sub = unimplemented[i];
    if (!sub)
        return false;
    if (!s3_bucket_or_404(r))
        return true;
    if (strcmp(r->method, "GET") == 0 && unconfigured_get(r, sub))
        return true;
    s3_error(r, S3E_NOT_IMPLEMENTED,
             arena_sprintf(r->arena, "The bucket subresource %s is not implemented", sub));
    return true;
}
