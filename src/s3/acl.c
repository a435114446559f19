/* acl.c - S3 access control lists on buckets and objects: what a request sets
 * (a canned ACL in x-amz-acl, x-amz-grant-* headers, or an AccessControlPolicy
 * body), how it is kept, what GetBucketAcl/GetObjectAcl answer, and what a
 * grant allows.
 *
 * A bucket or version record keeps its ACL as "acl" (a canned ACL's name, not
 * kept for private) or "grants" (the explicit grants, [{"p": PERMISSION, "id":
 * CANONICAL-ID} or {"p", "uri": GROUP-URI}], the owner included only when
 * granted). A canonical user ID is the account's 12-digit ID, the ID that
 * ListBuckets and ListObjects show as Owner/ID. A version written by another
 * account keeps that account as "own" (its object owner under ObjectWriter,
 * and under BucketOwnerPreferred unless written bucket-owner-full-control).
 *
 * ACLs count only while the bucket's ObjectOwnership is not
 * BucketOwnerEnforced; grants to AllUsers and AuthenticatedUsers not while
 * Block Public Access's IgnorePublicAcls is on. A grant allows, for callers
 * the identity and bucket policies do not explicitly deny (api.c asks
 * s3_acl_allows only then): READ on a bucket ListBucket, ListBucketVersions
 * and ListBucketMultipartUploads; WRITE on a bucket PutObject and
 * DeleteObject(Version); READ on an object GetObject(Version); READ_ACP and
 * WRITE_ACP Get/Put*Acl; FULL_CONTROL all of them. A grant to a canonical
 * user counts for that account's callers from outside the bucket owner's
 * account (inside it, identity policies decide, as for a bucket policy naming
 * the account), and for the bucket owner's root: it lists and writes its
 * bucket only as the bucket's ACL grants it (it always keeps READ_ACP and
 * WRITE_ACP of what it owns).
 *
 * An ACL holds at most 100 grants; an AccessControlPolicy names the current
 * owner as its Owner (missing: MalformedACLError; another: AccessDenied).
 * aws-exec-read grants READ to Amazon EC2's canonical user besides the
 * owner's FULL_CONTROL. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_int.h"
#include "s3_repl.h"
#include "s3_xml.h"

#define GROUPS       "http://acs.amazonaws.com/groups/"
#define ALL_USERS    GROUPS "global/AllUsers"
#define AUTH_USERS   GROUPS "global/AuthenticatedUsers"
#define LOG_DELIVERY GROUPS "s3/LogDelivery"
/* the canonical user aws-exec-read grants READ: Amazon EC2's, which reads the
 * bundle of a machine image */
#define EC2_READER "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c"
/* the most grants one ACL holds, as S3 counts them */
#define MAX_GRANTS 100

/* the x-amz-grant-* headers and the permission each grants */
static const char *const grant_hdrs[][2] = {
    {"x-amz-grant-full-control", "FULL_CONTROL"}, {"x-amz-grant-write", "WRITE"},
    {"x-amz-grant-write-acp", "WRITE_ACP"},       {"x-amz-grant-read", "READ"},
    {"x-amz-grant-read-acp", "READ_ACP"},
};
#define NGRANT_HDRS (sizeof(grant_hdrs) / sizeof(grant_hdrs[0]))

/* why an ACL was refused: an S3 error, with the argument at fault when named */
struct acl_fail {
    enum s3_code code;
    const char *msg, *name, *value;
};

static bool refuse(struct acl_fail *f, enum s3_code code, const char *msg, const char *name,
                   const char *value)
{
    f->code = code;
    f->msg = msg;
    f->name = name;
    f->value = value;
    return false;
}

static void answer(struct http_req *r, const struct acl_fail *f)
{
    if (f->name)
        s3_error_arg(r, f->code, f->msg, f->name, f->value);
    else
        s3_error(r, f->code, f->msg);
}

static bool canonical_id(const char *id)
{
    size_t i;

    for (i = 0; id[i]; i++)
        if (!isdigit((unsigned char)id[i]))
            return false;
    return i == 12;
}

static bool known_group(const char *uri)
{
    return strcmp(uri, ALL_USERS) == 0 || strcmp(uri, AUTH_USERS) == 0 ||
           strcmp(uri, LOG_DELIVERY) == 0;
}

static void grant_push(cJSON *arr, const char *perm, const char *kind, const char *value)
{
    cJSON *g = cJSON_CreateObject();

    cJSON_AddStringToObject(g, "p", perm);
    cJSON_AddStringToObject(g, kind, value);
    cJSON_AddItemToArray(arr, g);
}

/* one grantee (@kind "id", "uri" or "emailAddress") granted @perm into @arr */
static bool grant_add(cJSON *arr, const char *perm, const char *kind, const char *value,
                      struct acl_fail *f)
{
    if (strcmp(kind, "id") == 0) {
        if (!canonical_id(value))
            return refuse(f, S3E_INVALID_ARGUMENT, "Invalid id", "CanonicalUser/ID", value);
    } else if (strcmp(kind, "uri") == 0) {
        if (!known_group(value))
            return refuse(f, S3E_INVALID_ARGUMENT, "Invalid group uri", "Group/URI", value);
    } else if (strcmp(kind, "emailAddress") == 0) {
        /* no account of this region is known by an e-mail address */
        return refuse(f, S3E_UNRESOLVABLE_EMAIL, NULL, NULL, NULL);
    } else {
        return refuse(f, S3E_INVALID_ARGUMENT, "Argument format not recognized", kind, value);
    }
    grant_push(arr, perm, kind, value);
    return true;
}

/* the grantees of header @h (id="...", uri="...", emailAddress="..."), each
 * granted @perm */
static bool header_grants(struct arena *a, const char *h, const char *name, const char *perm,
                          cJSON *arr, struct acl_fail *f)
{
    const char *p = h;
    int n = 0;

    for (;;) {
        const char *k, *eq, *v, *end;
        p += strspn(p, " \t,");
        if (!*p)
            break;
        k = p;
        if (!(eq = strchr(p, '=')))
            return refuse(f, S3E_INVALID_ARGUMENT, "Argument format not recognized", name, h);
        p = eq + 1;
        p += strspn(p, " \t");
        if (*p == '"') {
            v = ++p;
            if (!(end = strchr(p, '"')))
                return refuse(f, S3E_INVALID_ARGUMENT, "Argument format not recognized", name, h);
            p = end + 1;
        } else {
            v = p;
            end = p + strcspn(p, ",");
            while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
            p = end;
        }
        while (eq > k && (eq[-1] == ' ' || eq[-1] == '\t'))
            eq--;
        if (end == v)
            return refuse(f, S3E_INVALID_ARGUMENT, "Argument format not recognized", name, h);
        if (!grant_add(arr, perm, arena_strndup(a, k, (size_t)(eq - k)),
                       arena_strndup(a, v, (size_t)(end - v)), f))
            return false;
        n++;
        p += strspn(p, " \t");
        if (*p && *p != ',')
            return refuse(f, S3E_INVALID_ARGUMENT, "Argument format not recognized", name, h);
    }
    return n > 0 ? true
                 : refuse(f, S3E_INVALID_ARGUMENT, "Argument format not recognized", name, h);
}

/* whether @arr holds more grants than an ACL may (MalformedACLError, as S3
 * answers; @arr freed then) */
static bool too_many(cJSON *arr, struct acl_fail *f)
{
    if (cJSON_GetArraySize(arr) <= MAX_GRANTS)
        return false;
    cJSON_Delete(arr);
    return !refuse(f, S3E_MALFORMED_ACL, NULL, NULL, NULL);
}

bool s3_acl_has_grant_headers(struct http_req *r)
{
    for (size_t i = 0; i < NGRANT_HDRS; i++)
        if (http_req_header(r, grant_hdrs[i][0]))
            return true;
    return false;
}

/* the grants of the request's x-amz-grant-* headers (an empty array: none) */
static cJSON *headers_acl(struct http_req *r, struct acl_fail *f)
{
    cJSON *arr = cJSON_CreateArray();

    for (size_t i = 0; i < NGRANT_HDRS; i++) {
        const char *h = http_req_header(r, grant_hdrs[i][0]);
        if (h && !header_grants(r->arena, h, grant_hdrs[i][0], grant_hdrs[i][1], arr, f)) {
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return too_many(arr, f) ? NULL : arr;
}

static bool permission(const char *p)
{
    for (size_t i = 0; i < NGRANT_HDRS; i++)
        if (strcmp(p, grant_hdrs[i][1]) == 0)
            return true;
    return false;
}

/* the grants of an AccessControlPolicy document, and its Owner's ID in
 * *owner (one it lacks is MalformedACLError, as S3 answers) */
static cJSON *body_acl(struct http_req *r, const char **owner, struct acl_fail *f)
{
    struct s3_xml *x, *list, *g;
    cJSON *arr;

    if (s3_xml_parse(r->arena, r->body.ptr, r->body.len, &x, NULL) != ERR_OK ||
        strcmp(x->name, "AccessControlPolicy") != 0 ||
        !(list = s3_xml_child(x, "AccessControlList")) || !s3_xml_child(x, "Owner") ||
        !(*owner = s3_xml_text(s3_xml_child(x, "Owner"), "ID")) || !**owner) {
        refuse(f, S3E_MALFORMED_ACL, NULL, NULL, NULL);
        return NULL;
    }
    arr = cJSON_CreateArray();
    for (g = list->child; g; g = g->next) {
        const struct s3_xml *who = s3_xml_child(g, "Grantee");
        const char *perm = s3_xml_text(g, "Permission"), *kind = NULL, *v = NULL;
        static const char *const kinds[][2] = {
            {"ID", "id"}, {"URI", "uri"}, {"EmailAddress", "emailAddress"}};
        for (size_t i = 0; who && !kind && i < 3; i++)
            if ((v = s3_xml_text(who, kinds[i][0])))
                kind = kinds[i][1];
        if (strcmp(g->name, "Grant") != 0 || !kind || !*v || !perm || !permission(perm)) {
            cJSON_Delete(arr);
            refuse(f, S3E_MALFORMED_ACL, NULL, NULL, NULL);
            return NULL;
        }
        if (!grant_add(arr, perm, kind, v, f)) {
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return too_many(arr, f) ? NULL : arr;
}

bool s3_acl_headers_valid(struct http_req *r)
{
    struct acl_fail f = {0};
    cJSON *g;

    if (!s3_acl_has_grant_headers(r))
        return true;
    if (http_req_header(r, "x-amz-acl")) {
        s3_error(r, S3E_INVALID_REQUEST,
                 "Specifying both Canned ACLs and Header Grants is not allowed");
        return false;
    }
    if (!(g = headers_acl(r, &f))) {
        answer(r, &f);
        return false;
    }
    cJSON_Delete(g);
    return true;
}

/* the request's ACL into @rec: "acl" for a canned ACL other than private,
 * "grants" for x-amz-grant-* headers (checked before: s3_acl_headers_valid) */
void s3_rec_acl(struct http_req *r, cJSON *rec)
{
    struct s3_req *q = s3_req_of(r);
    const char *acl = http_req_header(r, "x-amz-acl");
    struct acl_fail f;
    cJSON *g;

    cJSON_DeleteItemFromObject(rec, "acl");
    cJSON_DeleteItemFromObject(rec, "grants");
    cJSON_DeleteItemFromObject(rec, "own");
    if (acl && strcmp(acl, "private") != 0)
        cJSON_AddStringToObject(rec, "acl", acl);
    else if (s3_acl_has_grant_headers(r) && (g = headers_acl(r, &f)))
        cJSON_AddItemToObject(rec, "grants", g);
    /* the writer from another account, its object's owner where ACLs say so */
    if (q && !q->anonymous && q->who.account[0] && strcmp(q->who.account, q->s3->account) != 0)
        cJSON_AddStringToObject(rec, "own", q->who.account);
}

bool s3_acl_write_refused(struct http_req *r, const cJSON *bucket, enum s3_code *code)
{
    bool refused = s3_acl_refused(r, bucket);

    if (!refused && !s3_public_acl_blocked(r, bucket))
        return false;
    *code = refused ? S3E_ACL_NOT_SUPPORTED : S3E_ACCESS_DENIED;
    return true;
}

/* whether ACLs count in @bucket (ObjectOwnership other than BucketOwnerEnforced) */
static bool acls_enabled(const cJSON *bucket)
{
    const char *own = s3_cfg_stored(bucket, "ownershipControls");
    return !(own && strstr(own, "BucketOwnerEnforced"));
}

/* the owner of @holder (a version when @object): its writer's account where
 * the bucket's ObjectOwnership leaves it the object, else the bucket owner */
static const char *owner_of(struct s3 *s, const cJSON *bucket, const cJSON *holder, bool object)
{
    const char *own = object ? json_str_ci(holder, "own") : NULL;
    const char *oc = s3_cfg_stored(bucket, "ownershipControls"), *acl = json_str_ci(holder, "acl");

    if (!own || !oc || strstr(oc, "BucketOwnerEnforced"))
        return s->account;
    if (strstr(oc, "BucketOwnerPreferred") && acl && strcmp(acl, "bucket-owner-full-control") == 0)
        return s->account;
    return own;
}

/* the grants of @holder as GetBucketAcl/GetObjectAcl show them (owned) */
static cJSON *expand(struct s3 *s, const cJSON *bucket, const cJSON *holder, bool object,
                     const char *owner)
{
    const cJSON *g = cJSON_GetObjectItem(holder, "grants");
    const char *acl = json_str_ci(holder, "acl");
    bool other = strcmp(owner, s->account) != 0;
    cJSON *arr;

    if (!acls_enabled(bucket)) { /* ACLs disabled: the bucket owner's full control */
        arr = cJSON_CreateArray();
        grant_push(arr, "FULL_CONTROL", "id", s->account);
        return arr;
    }
    if (cJSON_IsArray(g))
        return cJSON_Duplicate(g, true);
    arr = cJSON_CreateArray();
    grant_push(arr, "FULL_CONTROL", "id", owner);
    if (!acl)
        return arr;
    if (strcmp(acl, "public-read") == 0 || strcmp(acl, "public-read-write") == 0)
        grant_push(arr, "READ", "uri", ALL_USERS);
    if (strcmp(acl, "public-read-write") == 0)
        grant_push(arr, "WRITE", "uri", ALL_USERS);
    if (strcmp(acl, "authenticated-read") == 0)
        grant_push(arr, "READ", "uri", AUTH_USERS);
    if (strcmp(acl, "aws-exec-read") == 0)
        grant_push(arr, "READ", "id", EC2_READER);
    if (!object && strcmp(acl, "log-delivery-write") == 0) {
        grant_push(arr, "WRITE", "uri", LOG_DELIVERY);
        grant_push(arr, "READ_ACP", "uri", LOG_DELIVERY);
    }
    if (object && other && strcmp(acl, "bucket-owner-read") == 0)
        grant_push(arr, "READ", "id", s->account);
    if (object && other && strcmp(acl, "bucket-owner-full-control") == 0)
        grant_push(arr, "FULL_CONTROL", "id", s->account);
    return arr;
}

bool s3_acl_beyond_owner(struct s3 *s, const cJSON *bucket)
{
    cJSON *grants = expand(s, bucket, bucket, false, s->account);
    const cJSON *g;
    bool beyond = false;

    cJSON_ArrayForEach(g, grants)
    {
        const char *id = json_str_ci(g, "id");
        beyond = beyond || !id || strcmp(id, s->account) != 0;
    }
    cJSON_Delete(grants);
    return beyond;
}

/* ---- GetBucketAcl / GetObjectAcl ---- */

static void write_policy(struct http_req *r, const char *owner, const cJSON *grants)
{
    const char *xsi = "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" ";
    const cJSON *g;
    struct buf b;

    s3_xml_start(&b, "AccessControlPolicy");
    buf_puts(&b, "<Owner>");
    xmlw_elem(&b, "ID", owner, XMLW_CTRL);
    xmlw_elem(&b, "DisplayName", "root", XMLW_CTRL);
    buf_puts(&b, "</Owner><AccessControlList>");
    cJSON_ArrayForEach(g, grants)
    {
        const char *id = json_str_ci(g, "id");
        buf_printf(&b, "<Grant>%sxsi:type=\"%s\">", xsi, id ? "CanonicalUser" : "Group");
        if (id) {
            xmlw_elem(&b, "ID", id, XMLW_CTRL);
            xmlw_elem(&b, "DisplayName", strcmp(id, EC2_READER) == 0 ? "za-team" : "root",
                      XMLW_CTRL);
        } else {
            xmlw_elem(&b, "URI", json_str_ci(g, "uri"), XMLW_CTRL);
        }
        buf_puts(&b, "</Grantee>");
        xmlw_elem(&b, "Permission", json_str_ci(g, "p"), XMLW_CTRL);
        buf_puts(&b, "</Grant>");
    }
    buf_puts(&b, "</AccessControlList></AccessControlPolicy>");
    s3_ok(r, 200, &b);
}

static void get_acl(struct http_req *r, bool object)
{
    struct s3_req *q = s3_req_of(r);
    const char *vid = s3_query(r, "versionId"), *owner;
    struct store_txn *t = NULL;
    cJSON *b, *v = NULL, *grants;

    if (!s3_allow(r, object ? "s3:GetObjectAcl" : "s3:GetBucketAcl", q->bucket,
                  object ? q->key : NULL) ||
        !(b = s3_bucket_or_404(r)))
        return;
    if (object) {
        if (store_read_begin(q->s3->store, &t, NULL) == ERR_OK) {
            v = s3_find_version(t, r->arena, q->bucket, q->key, vid, NULL);
            store_txn_abort(t);
        }
        if (!v || cJSON_IsTrue(cJSON_GetObjectItem(v, "dm"))) {
            cJSON_Delete(v);
            s3_error(r, vid ? S3E_NO_SUCH_VERSION : S3E_NO_SUCH_KEY, NULL);
            return;
        }
    }
    owner = arena_strdup(r->arena, owner_of(q->s3, b, object ? v : b, object));
    grants = expand(q->s3, b, object ? v : b, object, owner);
    cJSON_Delete(v);
    write_policy(r, owner, grants);
    cJSON_Delete(grants);
}

/* ---- PutBucketAcl / PutObjectAcl ---- */

struct aclw {
    struct s3_w w;
    cJSON *grants;     /* explicit grants (headers or body), owned; NULL: canned */
    bool replica;      /* PutObjectAcl by replication (x-tandem-replica: acl): not queued again */
    bool refused;      /* grants to more than the owner under BucketOwnerEnforced */
    bool is_public;    /* grants to AllUsers or AuthenticatedUsers */
    const char *owner; /* the body's Owner ID, or NULL (no body) */
};

/* whether the body's Owner is @owner's, the one it may name (else
 * AccessDenied: an ACL cannot give the bucket or object away) */
static bool owner_kept(struct aclw *aw, const char *owner)
{
    if (!aw->owner || strcmp(aw->owner, owner) == 0)
        return true;
    aw->w.fail = S3E_ACCESS_DENIED;
    return false;
}

/* the new ACL into @rec: the request's canned ACL or its grants */
static void acl_set(struct aclw *aw, cJSON *rec)
{
    s3_rec_acl(aw->w.r, rec);
    if (aw->grants) {
        cJSON_DeleteItemFromObject(rec, "grants");
        cJSON_AddItemToObject(rec, "grants", cJSON_Duplicate(aw->grants, true));
    }
}

enum err_code s3_meta_put(struct store_txn *t, const cJSON *b, struct http_req *r, struct slice k,
                          const cJSON *v, const char *op, struct err *e)
{
    struct s3_req *q = s3_req_of(r);
    char *s = cJSON_PrintUnformatted(v);
    enum err_code rc = store_put(t, STORE_DB_S3, k, slice_str(s), e);

    free(s);
    if (rc == ERR_OK && op)
        rc = s3_repl_on_meta(t, b, q->bucket, q->key, v, op, e);
    return rc;
}

/* PutObjectAcl: the version's ACL replaced, and queued for its replicas
 * (bucket @b's rules) */
static enum err_code object_apply(struct store_txn *t, struct aclw *aw, const cJSON *b,
                                  struct err *e)
{
    struct http_req *r = aw->w.r;
    struct s3_req *q = s3_req_of(r);
    struct slice k;
    enum err_code rc;
    cJSON *v = s3_find_version(t, r->arena, q->bucket, q->key, s3_query(r, "versionId"), &k);

    if (!v || cJSON_IsTrue(cJSON_GetObjectItem(v, "dm"))) {
        cJSON_Delete(v);
        aw->w.fail = s3_query(r, "versionId") ? S3E_NO_SUCH_VERSION : S3E_NO_SUCH_KEY;
        return ERR_CONFLICT;
    }
    if (!owner_kept(aw, owner_of(q->s3, b, v, true))) {
        cJSON_Delete(v);
        return ERR_CONFLICT;
    }
    {
        /* the object keeps its owner whoever changes its ACL */
        const char *own = json_str_ci(v, "own");
        char *keep = own ? arena_strdup(r->arena, own) : NULL;
        acl_set(aw, v);
        cJSON_DeleteItemFromObject(v, "own");
        if (keep)
            cJSON_AddStringToObject(v, "own", keep);
    }
    rc = s3_meta_put(t, b, r, k, v, aw->replica ? NULL : "acl", e);
    cJSON_Delete(v);
    return rc;
}

static enum err_code put_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct aclw *aw = arg;
    struct http_req *r = aw->w.r;
    struct s3_req *q = s3_req_of(r);
    cJSON *b = s3_bucket_get(t, r->arena, q->bucket);
    enum err_code rc = ERR_CONFLICT;
    char *s;

    if (!b) {
        aw->w.fail = S3E_NO_SUCH_BUCKET;
    } else if (aw->replica && q->key[0]) {
        /* the source's ACL as it was accepted there, like a replicated version's */
        rc = object_apply(t, aw, b, e);
    } else if (!acls_enabled(b) && (aw->refused || s3_acl_refused(r, b))) {
        aw->w.fail = S3E_ACL_NOT_SUPPORTED;
    } else if ((aw->is_public || s3_public_acl_blocked(r, b)) &&
               s3_pab_on(r, b, "BlockPublicAcls")) {
        aw->w.fail = S3E_ACCESS_DENIED;
    } else if (q->key[0]) {
        rc = object_apply(t, aw, b, e);
    } else if (owner_kept(aw, q->s3->account)) {
        acl_set(aw, b);
        cJSON_DeleteItemFromObject(b, "own");
        s = cJSON_PrintUnformatted(b);
        rc = store_put(t, STORE_DB_S3, s3_key_bucket(r->arena, q->bucket), slice_str(s), e);
        free(s);
    }
    cJSON_Delete(b);
    return rc;
}

static void put_ok(struct s3_w *w)
{
    s3_ok(w->r, 200, NULL);
}

/* whether @grants give anything to someone other than the bucket owner, and
 * whether to AllUsers or AuthenticatedUsers */
static void weigh(struct s3 *s, const cJSON *grants, bool *beyond_owner, bool *pub)
{
    const cJSON *g;

    cJSON_ArrayForEach(g, grants)
    {
        const char *id = json_str_ci(g, "id"), *uri = json_str_ci(g, "uri");
        if (!id || strcmp(id, s->account) != 0)
            *beyond_owner = true;
        if (uri && (strcmp(uri, ALL_USERS) == 0 || strcmp(uri, AUTH_USERS) == 0))
            *pub = true;
    }
}

static void put_acl(struct http_req *r, bool object)
{
    struct s3_req *q = s3_req_of(r);
    struct acl_fail f = {0};
    struct aclw *aw;
    bool canned = http_req_header(r, "x-amz-acl") != NULL, hdrs = s3_acl_has_grant_headers(r);
    int replica = 0;

    if (!s3_allow(r, object ? "s3:PutObjectAcl" : "s3:PutBucketAcl", q->bucket,
                  object ? q->key : NULL))
        return;
    if (object && (replica = s3_repl_claimed(r)) < 0)
        return;
    aw = arena_calloc(r->arena, sizeof(*aw));
    if ((canned || hdrs) && r->body.len > 0) {
        s3_error(r, S3E_UNEXPECTED_CONTENT, NULL);
        return;
    }
    if (hdrs)
        aw->grants = headers_acl(r, &f); /* checked in route(): no failure */
    else if (!canned && r->body.len > 0 && !(aw->grants = body_acl(r, &aw->owner, &f))) {
        answer(r, &f);
        return;
    } else if (!canned && r->body.len == 0 && object && replica) {
        aw->grants = cJSON_CreateArray(); /* the source's ACL grants nothing */
    } else if (!canned && r->body.len == 0) {
        s3_error(r, S3E_MISSING_SECURITY_HEADER, NULL);
        return;
    }
    weigh(q->s3, aw->grants, &aw->refused, &aw->is_public);
    arena_on_free(r->arena, s3_json_free, aw->grants);
    aw->replica = object && replica;
    aw->w.r = r;
    aw->w.apply = put_apply;
    aw->w.ok = put_ok;
    s3_submit(&aw->w);
}

void s3_acl(struct http_req *r, bool object)
{
    if (strcmp(r->method, "GET") == 0)
        get_acl(r, object);
    else if (strcmp(r->method, "PUT") == 0)
        put_acl(r, object);
    else
        s3_error(r, S3E_METHOD_NOT_ALLOWED, NULL);
}

/* ---- what a grant allows ---- */

/* the permission that allows @action, and whether the object's ACL holds it
 * (else the bucket's); NULL: no ACL permission allows @action */
static const char *needed(const char *action, bool *object)
{
    static const char *const map[][3] = {
        {"s3:ListBucket", "READ", "b"},
        {"s3:ListBucketVersions", "READ", "b"},
        {"s3:ListBucketMultipartUploads", "READ", "b"},
        {"s3:PutObject", "WRITE", "b"},
        {"s3:DeleteObject", "WRITE", "b"},
        {"s3:DeleteObjectVersion", "WRITE", "b"},
        {"s3:AbortMultipartUpload", "WRITE", "b"},
        {"s3:GetBucketAcl", "READ_ACP", "b"},
        {"s3:PutBucketAcl", "WRITE_ACP", "b"},
        {"s3:GetObject", "READ", "o"},
        {"s3:GetObjectVersion", "READ", "o"},
        {"s3:GetObjectAcl", "READ_ACP", "o"},
        {"s3:GetObjectVersionAcl", "READ_ACP", "o"},
        {"s3:PutObjectAcl", "WRITE_ACP", "o"},
        {"s3:PutObjectVersionAcl", "WRITE_ACP", "o"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(action, map[i][0]) == 0) {
            *object = map[i][2][0] == 'o';
            return map[i][1];
        }
    return NULL;
}

/* whether @holder's ACL grants @perm to the request's caller */
static bool granted(struct http_req *r, const cJSON *bucket, const cJSON *holder, bool object,
                    const char *perm)
{
    struct s3_req *q = s3_req_of(r);
    bool ignore_public = s3_pab_on(r, bucket, "IgnorePublicAcls"), ok = false;
    const char *owner;
    cJSON *grants;
    const cJSON *g;

    if (!acls_enabled(bucket))
        return false;
    owner = owner_of(q->s3, bucket, holder, object);
    /* an owner may always read and change the ACL of what it owns */
    if (strstr(perm, "_ACP") && !q->anonymous && strcmp(owner, q->who.account) == 0 &&
        (q->who.root || strcmp(owner, q->s3->account) != 0))
        return true;
    grants = expand(q->s3, bucket, holder, object, owner);
    cJSON_ArrayForEach(g, grants)
    {
        const char *p = json_str_ci(g, "p"), *id = json_str_ci(g, "id"),
                   *uri = json_str_ci(g, "uri");
        if (ok || (strcmp(p, perm) != 0 && strcmp(p, "FULL_CONTROL") != 0))
            continue;
        if (uri && !ignore_public)
            ok = strcmp(uri, ALL_USERS) == 0 || (strcmp(uri, AUTH_USERS) == 0 && !q->anonymous);
        else if (id && !q->anonymous)
            ok =
                strcmp(id, q->who.account) == 0 && (q->who.root || strcmp(id, q->s3->account) != 0);
    }
    cJSON_Delete(grants);
    return ok;
}

/* whether @action's ACL permission is granted (@owner_only: or not asked,
 * the bucket owner acting on an object its account owns) */
static bool acl_decides(struct http_req *r, const char *action, const char *bucket, const char *key,
                        bool owner_only)
{
    struct s3_req *q = s3_req_of(r);
    struct store_txn *t = NULL;
    const cJSON *b = NULL;
    cJSON *own = NULL, *v = NULL;
    bool object = false, ok = owner_only, known;
    const char *perm = needed(action, &object);

    if (!perm || !bucket || !*bucket || (object && (!key || !*key)))
        return owner_only;
    if (owner_only && !object && strstr(perm, "_ACP"))
        return true; /* the owner may always read and change its bucket's ACL */
    known = q->bucket_known && strcmp(bucket, q->bucket) == 0;
    b = known ? q->bucket_rec : NULL;
    /* the store is read for the bucket when the request has not read it, and
     * for the version (none while ACLs are off: every object is the bucket
     * owner's then) */
    if (!known || (b && object && (!owner_only || acls_enabled(b)))) {
        if (store_read_begin(q->s3->store, &t, NULL) != ERR_OK)
            return owner_only;
        if (!known)
            b = own = s3_bucket_get(t, r->arena, bucket);
        if (b && object && (!owner_only || acls_enabled(b)))
            v = s3_find_version(t, r->arena, bucket, key, s3_query(r, "versionId"), NULL);
        store_txn_abort(t);
    }
    /* the bucket owner lists and writes its bucket as the bucket's ACL says
     * while ACLs count (an ACL without its grant takes them away, as S3 does) */
    if (b && owner_only && !object)
        ok = !acls_enabled(b) || granted(r, b, b, false, perm);
    else if (b && (!object || (v && !cJSON_IsTrue(cJSON_GetObjectItem(v, "dm")))) &&
             (!owner_only ||
              (acls_enabled(b) && strcmp(owner_of(q->s3, b, v, true), q->s3->account) != 0)))
        ok = granted(r, b, object ? v : b, object, perm);
    cJSON_Delete(v);
    cJSON_Delete(own);
    return ok;
}

bool s3_acl_allows(struct http_req *r, const char *action, const char *bucket, const char *key)
{
    return acl_decides(r, action, bucket, key, false);
}

bool s3_acl_owner_may(struct http_req *r, const char *action, const char *bucket, const char *key)
{
    return acl_decides(r, action, bucket, key, true);
}

const char *s3_acl_grant_header(struct arena *a, const cJSON *rec, size_t i, const char **name)
{
    const cJSON *g;
    struct buf b;
    const char *v;

    if (i >= NGRANT_HDRS)
        return NULL;
    *name = grant_hdrs[i][0];
    buf_init(&b, 0);
    cJSON_ArrayForEach(g, cJSON_GetObjectItem(rec, "grants"))
    {
        const char *id = json_str_ci(g, "id");
        if (strcmp(json_str_ci(g, "p"), grant_hdrs[i][1]) == 0)
            buf_printf(&b, "%s%s=\"%s\"", b.len ? ", " : "", id ? "id" : "uri",
                       id ? id : json_str_ci(g, "uri"));
    }
    v = b.len ? arena_strndup(a, b.ptr, b.len) : NULL;
    buf_free(&b);
    return v;
}
