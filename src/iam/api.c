/* api.c - the IAM query API: users, access keys, roles, inline and managed
 * policies, attachments, tags. See iam.h.
 *
 * Every entity is one JSON document in META ("iam/user/NAME",
 * "iam/role/NAME", "iam/policy/NAME", "iam/key/AKID"). Reads use a read
 * snapshot on the request thread; every change is one store_write whose apply
 * re-reads the documents it changes on the writer thread, so concurrent
 * changes to one entity never lose each other. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "clock.h"
#include "iam_int.h"
#include "log.h"
#include "mem.h"

#define UPPER_ALNUM  "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
#define SECRET_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

/* IAM quotas (IAM User Guide, "IAM and AWS STS quotas"). */
enum {
    MAX_USER_INLINE = 2048,
    MAX_ROLE_INLINE = 10240,
    MAX_MANAGED = 6144,
    MAX_TRUST = 2048,
    MAX_KEYS_PER_USER = 2,
    MAX_VERSIONS = 5,
    MAX_ATTACHED = 10,
    MAX_TAGS = 50,
};

/* ---- small helpers shared with sts.c and authz.c ---- */

void iam_random_id(char *out, const char *prefix, size_t n, const char *alphabet)
{
    unsigned char rnd[128];
    size_t plen = strlen(prefix), alen = strlen(alphabet);

    if (n > sizeof(rnd))
        n = sizeof(rnd);
    if (getrandom(rnd, n, 0) != (ssize_t)n)
        for (size_t i = 0; i < n; i++)
            rnd[i] = (unsigned char)rand();
    memcpy(out, prefix, plen);
    for (size_t i = 0; i < n; i++)
        out[plen + i] = alphabet[rnd[i] % alen];
    out[plen + n] = '\0';
}

void iam_now_iso(char out[32], long long offset_s)
{
    time_t t = clock_wall_s() + (time_t)offset_s;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void iam_xml_text(struct buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            buf_puts(b, "&lt;");
            break;
        case '>':
            buf_puts(b, "&gt;");
            break;
        case '&':
            buf_puts(b, "&amp;");
            break;
        case '"':
            buf_puts(b, "&quot;");
            break;
        case '\'':
            buf_puts(b, "&apos;");
            break;
        default:
            buf_putc(b, *s);
        }
    }
}

void iam_xml_elem(struct buf *b, const char *name, const char *text)
{
    buf_printf(b, "<%s>", name);
    iam_xml_text(b, text);
    buf_printf(b, "</%s>", name);
}

/* Policy documents travel URL-encoded inside IAM's XML (RFC 3986). */
void iam_xml_urlenc(struct buf *b, const char *name, const char *json)
{
    static const char hex[] = "0123456789ABCDEF";

    buf_printf(b, "<%s>", name);
    for (const unsigned char *p = (const unsigned char *)json; p && *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            buf_putc(b, (char)*p);
        } else {
            buf_putc(b, '%');
            buf_putc(b, hex[*p >> 4]);
            buf_putc(b, hex[*p & 15]);
        }
    }
    buf_printf(b, "</%s>", name);
}

static int unhex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static char *form_decode(struct arena *a, const char *s, size_t n)
{
    char *out = arena_alloc(a, n + 1);
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && unhex(s[i + 1]) >= 0 && unhex(s[i + 2]) >= 0) {
            out[o++] = (char)(unhex(s[i + 1]) * 16 + unhex(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

static void parse_form(struct iam_call *c, const char *s, size_t len)
{
    size_t cap = 1;

    for (size_t i = 0; i < len; i++)
        cap += s[i] == '&';
    c->keys = arena_alloc(c->r->arena, cap * sizeof(*c->keys));
    c->vals = arena_alloc(c->r->arena, cap * sizeof(*c->vals));
    c->nparams = 0;
    for (size_t i = 0; i < len;) {
        size_t j = i, eq;
        while (j < len && s[j] != '&')
            j++;
        for (eq = i; eq < j && s[eq] != '='; eq++)
            ;
        if (j > i) {
            c->keys[c->nparams] = form_decode(c->r->arena, s + i, eq - i);
            c->vals[c->nparams] = eq < j ? form_decode(c->r->arena, s + eq + 1, j - eq - 1)
                                         : arena_strdup(c->r->arena, "");
            c->nparams++;
        }
        i = j + 1;
    }
}

const char *iam_param(const struct iam_call *c, const char *name)
{
    for (size_t i = 0; i < c->nparams; i++)
        if (strcmp(c->keys[i], name) == 0)
            return c->vals[i];
    return NULL;
}

void iam_respond_error(struct http_req *r, bool sts, int status, const char *code, const char *msg)
{
    struct buf b;
    char rid[40];

    iam_random_id(rid, "", 32, "0123456789abcdef");
    buf_init(&b, 0);
    buf_printf(&b,
               "<ErrorResponse xmlns=\"%s\">\n  <Error>\n    <Type>%s</Type>\n    <Code>%s</Code>\n"
               "    <Message>",
               sts ? STS_NS : IAM_NS, status >= 500 ? "Receiver" : "Sender", code);
    iam_xml_text(&b, msg);
    buf_printf(&b, "</Message>\n  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n", rid);
    http_resp_header(r, "Content-Type", "text/xml");
    http_resp_header(r, "x-amzn-RequestId", rid);
    http_respond_buf(r, status, &b);
    buf_free(&b);
}

void iam_fail(struct iam_call *c, int status, const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    iam_respond_error(c->r, c->sts, status, code, msg);
}

/* IAM's error codes for what the store operations return. ERR_CONFLICT is a
 * DeleteConflict, ERR_IN_USE an EntityAlreadyExists. */
void iam_fail_err(struct iam_call *c, enum err_code rc, const struct err *e)
{
    static const struct {
        enum err_code code;
        int status;
        const char *name;
    } map[] = {
        {ERR_INVALID, 400, "ValidationError"},    {ERR_NOTFOUND, 404, "NoSuchEntity"},
        {ERR_IN_USE, 409, "EntityAlreadyExists"}, {ERR_CONFLICT, 409, "DeleteConflict"},
        {ERR_LIMIT, 409, "LimitExceeded"},        {ERR_TOO_LARGE, 409, "LimitExceeded"},
        {ERR_DENIED, 403, "AccessDenied"},
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (map[i].code == rc) {
            iam_fail(c, map[i].status, map[i].name, "%s", e->msg);
            return;
        }
    }
    log_err("event=iam_error action=%s code=%s msg=\"%s\"", c->action, err_name(rc), e->msg);
    iam_fail(c, 500, "ServiceFailure", "%s", e->msg[0] ? e->msg : "Internal error");
}

void iam_reply(struct iam_call *c, const char *result)
{
    struct buf b;

    buf_init(&b, 0);
    buf_printf(&b, "<%sResponse xmlns=\"%s\">\n", c->action, c->sts ? STS_NS : IAM_NS);
    if (result)
        buf_printf(&b, "  <%sResult>%s</%sResult>\n", c->action, result, c->action);
    buf_printf(&b,
               "  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n  </ResponseMetadata>\n"
               "</%sResponse>\n",
               c->rid, c->action);
    http_resp_header(c->r, "Content-Type", "text/xml");
    http_resp_header(c->r, "x-amzn-RequestId", c->rid);
    http_respond_buf(c->r, 200, &b);
    buf_free(&b);
}

bool iam_call_init(struct iam_call *c, struct iam *iam, struct http_req *r,
                   const struct creds_identity *who, bool sts)
{
    const char *version;

    memset(c, 0, sizeof(*c));
    c->iam = iam;
    c->r = r;
    c->who = who;
    c->sts = sts;
    iam_random_id(c->rid, "", 32, "0123456789abcdef");
    if (strcmp(r->method, "POST") == 0)
        parse_form(c, r->body.ptr ? r->body.ptr : "", r->body.len);
    else
        parse_form(c, r->query, strlen(r->query));
    c->action = iam_param(c, "Action");
    version = iam_param(c, "Version");
    if (!c->action || !*c->action) {
        iam_respond_error(r, sts, 400, "MissingAction", "Missing Action");
        return false;
    }
    if (strspn(c->action, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") !=
            strlen(c->action) ||
        strlen(c->action) > 64) {
        iam_respond_error(r, sts, 400, "InvalidAction", "Invalid Action");
        c->action = NULL;
        return false;
    }
    if (version && strcmp(version, sts ? "2011-06-15" : "2010-05-08") != 0) {
        iam_fail(c, 400, "InvalidAction", "Could not find operation %s for version %s", c->action,
                 version);
        return false;
    }
    return true;
}

/* ---- documents in the store ---- */

static char *doc_key(const char *kind, const char *name)
{
    size_t n = strlen(kind) + strlen(name) + 6;
    char *k = xmalloc(n);

    snprintf(k, n, "iam/%s/%s", kind, name);
    return k;
}

static enum err_code txn_doc_get(struct store_txn *t, const char *kind, const char *name,
                                 cJSON **out, struct err *e)
{
    char *k = doc_key(kind, name);
    struct slice v;
    enum err_code rc = store_get(t, STORE_DB_META, slice_str(k), &v, e);

    free(k);
    *out = NULL;
    if (rc)
        return rc;
    *out = cJSON_ParseWithLength(v.ptr, v.len);
    return *out ? ERR_OK : err_set(e, ERR_INTERNAL, "corrupt IAM document %s/%s", kind, name);
}

static enum err_code txn_doc_put(struct store_txn *t, const char *kind, const char *name,
                                 const cJSON *doc, struct err *e)
{
    char *k = doc_key(kind, name), *v = cJSON_PrintUnformatted(doc);
    enum err_code rc = store_put(t, STORE_DB_META, slice_str(k), slice_str(v), e);

    free(k);
    free(v);
    return rc;
}

static enum err_code txn_doc_del(struct store_txn *t, const char *kind, const char *name,
                                 struct err *e)
{
    char *k = doc_key(kind, name);
    enum err_code rc = store_del(t, STORE_DB_META, slice_str(k), e);

    free(k);
    return rc;
}

enum err_code iam_doc_get(struct iam *iam, const char *kind, const char *name, cJSON **out,
                          struct err *e)
{
    struct store_txn *t = NULL;
    enum err_code rc = store_read_begin(iam->store, &t, e);

    *out = NULL;
    if (rc)
        return rc;
    rc = txn_doc_get(t, kind, name, out, e);
    store_txn_abort(t);
    return rc;
}

/* doc_each - call @fn on every document of @kind (in name order). */
typedef void doc_each_fn(cJSON *doc, void *arg);

static enum err_code txn_doc_each(struct store_txn *t, const char *kind, doc_each_fn *fn, void *arg,
                                  struct err *e)
{
    struct store_cursor *cur = NULL;
    char prefix[32];
    size_t plen;
    struct slice k, v;
    enum err_code rc;

    plen = (size_t)snprintf(prefix, sizeof(prefix), "iam/%s/", kind);
    rc = store_cursor_open(t, STORE_DB_META, &cur, e);
    if (rc)
        return rc;
    for (rc = store_cursor_seek(cur, slice_str(prefix), &k, &v, e); rc == ERR_OK;
         rc = store_cursor_next(cur, &k, &v, e)) {
        cJSON *doc;
        if (k.len < plen || memcmp(k.ptr, prefix, plen) != 0)
            break;
        doc = cJSON_ParseWithLength(v.ptr, v.len);
        if (doc) {
            fn(doc, arg);
            cJSON_Delete(doc);
        }
    }
    store_cursor_close(cur);
    return rc == ERR_NOTFOUND ? ERR_OK : rc;
}

static enum err_code doc_each(struct iam *iam, const char *kind, doc_each_fn *fn, void *arg,
                              struct err *e)
{
    struct store_txn *t = NULL;
    enum err_code rc = store_read_begin(iam->store, &t, e);

    if (rc)
        return rc;
    rc = txn_doc_each(t, kind, fn, arg, e);
    store_txn_abort(t);
    return rc;
}

static const char *jstr(const cJSON *doc, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

    return cJSON_IsString(v) ? v->valuestring : "";
}

static cJSON *jobj(cJSON *doc, const char *name)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

    if (!v) {
        v = cJSON_CreateObject();
        cJSON_AddItemToObject(doc, name, v);
    }
    return v;
}

static cJSON *jarr(cJSON *doc, const char *name)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

    if (!v) {
        v = cJSON_CreateArray();
        cJSON_AddItemToObject(doc, name, v);
    }
    return v;
}

/* ---- the policies that apply to a user or role ---- */

void iam_policies_free(struct iam_policies *ps)
{
    for (size_t i = 0; i < ps->n; i++)
        iam_policy_free(ps->p[i]);
    free(ps->p);
    ps->p = NULL;
    ps->n = 0;
}

static void add_policy(struct iam_policies *ps, const char *doc)
{
    struct iam_policy *p = NULL;

    if (iam_policy_parse(doc, strlen(doc), IAM_POLICY_IDENTITY, &p, NULL) != ERR_OK)
        return;
    ps->p = xrealloc(ps->p, (ps->n + 1) * sizeof(*ps->p));
    ps->p[ps->n++] = p;
}

static const char *policy_name_of(const char *arn)
{
    const char *slash = strrchr(arn, '/');

    return slash ? slash + 1 : arn;
}

/* default_version_doc - the document of @pol's default version (borrowed). */
static const char *default_version_doc(const cJSON *pol)
{
    const cJSON *v, *vers = cJSON_GetObjectItemCaseSensitive(pol, "Versions");
    const char *def = jstr(pol, "DefaultVersionId");

    cJSON_ArrayForEach(v, vers) if (strcmp(jstr(v, "VersionId"), def) == 0) return jstr(v,
                                                                                        "Document");
    return NULL;
}

void iam_entity_policies(struct iam *iam, const cJSON *doc, struct iam_policies *out)
{
    const cJSON *x, *inl = cJSON_GetObjectItemCaseSensitive(doc, "Policies");

    out->p = NULL;
    out->n = 0;
    cJSON_ArrayForEach(x, inl) if (cJSON_IsString(x)) add_policy(out, x->valuestring);
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(doc, "Attached"))
    {
        const struct iam_managed *m;
        cJSON *pol = NULL;

        if (!cJSON_IsString(x))
            continue;
        if ((m = iam_managed_find(x->valuestring))) {
            add_policy(out, m->document);
        } else if (iam_doc_get(iam, "policy", policy_name_of(x->valuestring), &pol, NULL) ==
                       ERR_OK &&
                   strcmp(jstr(pol, "Arn"), x->valuestring) == 0) {
            const char *d = default_version_doc(pol);
            if (d)
                add_policy(out, d);
        }
        cJSON_Delete(pol);
    }
}

/* ---- validation ---- */

static bool name_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;

    return n >= 1 && n <= max &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-") == n;
}

/* need_name - the parameter @p as an IAM name, or NULL after answering. */
static const char *need_name(struct iam_call *c, const char *p, size_t max)
{
    const char *v = iam_param(c, p);
    char lc[64];

    snprintf(lc, sizeof(lc), "%s", p);
    lc[0] = (char)(lc[0] - 'A' + 'a');
    if (!v) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at '%s' failed to satisfy constraint: "
                 "Member must not be null",
                 lc);
        return NULL;
    }
    if (!name_ok(v, max)) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value '%.200s' at '%s' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and "
                 "have length between 1 and %zu",
                 v, lc, max);
        return NULL;
    }
    return v;
}

/* check_doc - @json as a policy of @kind within @max counted characters;
 * answers and returns false when it is not. @what names the quota. */
static bool check_doc(struct iam_call *c, const char *json, enum iam_policy_kind kind, size_t max,
                      const char *over_msg)
{
    struct iam_policy *p = NULL;
    struct err e = {0};

    if (!json) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at 'policyDocument' failed to satisfy "
                 "constraint: Member must not be null");
        return false;
    }
    if (iam_policy_size(json) > max) {
        iam_fail(c, 409, "LimitExceeded", "%s", over_msg);
        return false;
    }
    if (iam_policy_parse(json, strlen(json), kind, &p, &e) != ERR_OK) {
        iam_fail(c, 400, "MalformedPolicyDocument", "%s", e.msg);
        return false;
    }
    iam_policy_free(p);
    return true;
}

/* parse_tags - Tags.member.N.Key / .Value into a JSON array (owned). */
static cJSON *parse_tags(struct iam_call *c, bool *bad)
{
    cJSON *tags = cJSON_CreateArray();
    char name[64];

    *bad = false;
    for (int i = 1; i <= MAX_TAGS + 1; i++) {
        const char *k, *v;
        cJSON *t;
        snprintf(name, sizeof(name), "Tags.member.%d.Key", i);
        k = iam_param(c, name);
        snprintf(name, sizeof(name), "Tags.member.%d.Value", i);
        v = iam_param(c, name);
        if (!k)
            break;
        if (i > MAX_TAGS || strlen(k) > 128 || !*k || (v && strlen(v) > 256)) {
            iam_fail(c, 400, i > MAX_TAGS ? "LimitExceeded" : "ValidationError",
                     i > MAX_TAGS ? "Cannot exceed quota for TagsPerEntity: 50"
                                  : "1 validation error detected: tag key or value too long");
            *bad = true;
            cJSON_Delete(tags);
            return NULL;
        }
        t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "Key", k);
        cJSON_AddStringToObject(t, "Value", v ? v : "");
        cJSON_AddItemToArray(tags, t);
    }
    return tags;
}

static void xml_tags(struct buf *b, const cJSON *doc, bool always)
{
    const cJSON *t, *tags = cJSON_GetObjectItemCaseSensitive(doc, "Tags");

    if (!always && cJSON_GetArraySize(tags) == 0)
        return;
    buf_puts(b, "<Tags>");
    cJSON_ArrayForEach(t, tags)
    {
        buf_puts(b, "<member>");
        iam_xml_elem(b, "Key", jstr(t, "Key"));
        iam_xml_elem(b, "Value", jstr(t, "Value"));
        buf_puts(b, "</member>");
    }
    buf_puts(b, "</Tags>");
}

/* ---- entities as XML ---- */

static void xml_user(struct buf *b, const cJSON *u, const char *elem)
{
    buf_printf(b, "<%s>", elem);
    iam_xml_elem(b, "Path", jstr(u, "Path"));
    iam_xml_elem(b, "UserName", jstr(u, "UserName"));
    iam_xml_elem(b, "UserId", jstr(u, "UserId"));
    iam_xml_elem(b, "Arn", jstr(u, "Arn"));
    iam_xml_elem(b, "CreateDate", jstr(u, "CreateDate"));
    xml_tags(b, u, false);
    buf_printf(b, "</%s>", elem);
}

static void xml_role(struct buf *b, const cJSON *r, const char *elem)
{
    const cJSON *max = cJSON_GetObjectItemCaseSensitive(r, "MaxSessionDuration");

    buf_printf(b, "<%s>", elem);
    iam_xml_elem(b, "Path", jstr(r, "Path"));
    iam_xml_elem(b, "RoleName", jstr(r, "RoleName"));
    iam_xml_elem(b, "RoleId", jstr(r, "RoleId"));
    iam_xml_elem(b, "Arn", jstr(r, "Arn"));
    iam_xml_elem(b, "CreateDate", jstr(r, "CreateDate"));
    iam_xml_urlenc(b, "AssumeRolePolicyDocument", jstr(r, "AssumeRolePolicyDocument"));
    if (*jstr(r, "Description"))
        iam_xml_elem(b, "Description", jstr(r, "Description"));
    buf_printf(b, "<MaxSessionDuration>%d</MaxSessionDuration>", max ? max->valueint : 3600);
    xml_tags(b, r, false);
    buf_printf(b, "</%s>", elem);
}

struct attach_count {
    const char *arn;
    int n;
};

static void count_attached(cJSON *doc, void *arg)
{
    struct attach_count *ac = arg;
    const cJSON *x;

    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(
                              doc, "Attached")) if (cJSON_IsString(x) &&
                                                    strcmp(x->valuestring, ac->arn) == 0) ac->n++;
}

static int attachments(struct iam *iam, const char *arn)
{
    struct attach_count ac = {arn, 0};

    doc_each(iam, "user", count_attached, &ac, NULL);
    doc_each(iam, "role", count_attached, &ac, NULL);
    return ac.n;
}

static void xml_policy(struct iam *iam, struct buf *b, const cJSON *p, const char *elem)
{
    buf_printf(b, "<%s>", elem);
    iam_xml_elem(b, "PolicyName", jstr(p, "PolicyName"));
    iam_xml_elem(b, "PolicyId", jstr(p, "PolicyId"));
    iam_xml_elem(b, "Arn", jstr(p, "Arn"));
    iam_xml_elem(b, "Path", jstr(p, "Path"));
    iam_xml_elem(b, "DefaultVersionId", jstr(p, "DefaultVersionId"));
    buf_printf(b, "<AttachmentCount>%d</AttachmentCount>", attachments(iam, jstr(p, "Arn")));
    buf_puts(b, "<PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount>"
                "<IsAttachable>true</IsAttachable>");
    if (*jstr(p, "Description"))
        iam_xml_elem(b, "Description", jstr(p, "Description"));
    iam_xml_elem(b, "CreateDate", jstr(p, "CreateDate"));
    iam_xml_elem(b, "UpdateDate", jstr(p, "UpdateDate"));
    xml_tags(b, p, false);
    buf_printf(b, "</%s>", elem);
}

/* managed_doc - an AWS managed policy as a policy document (owned). */
static cJSON *managed_doc(const struct iam_managed *m)
{
    cJSON *p = cJSON_CreateObject(), *vers = cJSON_AddArrayToObject(p, "Versions"),
          *v = cJSON_CreateObject();
    char arn[160];

    snprintf(arn, sizeof(arn), "arn:aws:iam::aws:policy%s%s", m->path, m->name);
    cJSON_AddStringToObject(p, "PolicyName", m->name);
    cJSON_AddStringToObject(p, "PolicyId", m->id);
    cJSON_AddStringToObject(p, "Arn", arn);
    cJSON_AddStringToObject(p, "Path", m->path);
    cJSON_AddStringToObject(p, "DefaultVersionId", m->version);
    cJSON_AddStringToObject(p, "Description", m->description);
    cJSON_AddStringToObject(p, "CreateDate", m->created);
    cJSON_AddStringToObject(p, "UpdateDate", m->updated);
    cJSON_AddStringToObject(v, "VersionId", m->version);
    cJSON_AddStringToObject(v, "Document", m->document);
    cJSON_AddStringToObject(v, "CreateDate", m->updated);
    cJSON_AddItemToArray(vers, v);
    return p;
}

/* ---- writes ---- */

enum wop {
    W_CREATE,
    W_DELETE,
    W_PUT_INLINE,
    W_DEL_INLINE,
    W_ATTACH,
    W_DETACH,
    W_TAG,
    W_UNTAG,
    W_TRUST,
    W_NEW_VERSION,
    W_DEL_VERSION,
    W_SET_DEFAULT,
    W_KEY_CREATE,
    W_KEY_DELETE,
};

struct write {
    enum wop op;
    const char *kind;  /* "user", "role", "policy" */
    const char *name;  /* entity name */
    const char *a, *b; /* op arguments */
    bool flag;
    cJSON *doc;   /* W_CREATE: the new document; W_TAG: tags; W_UNTAG: keys (owned by caller) */
    char out[64]; /* W_NEW_VERSION: the version id */
};

static const char *entity_word(const char *kind)
{
    return strcmp(kind, "user") == 0 ? "user" : strcmp(kind, "role") == 0 ? "role" : "policy";
}

static enum err_code missing(struct err *e, const char *kind, const char *name)
{
    if (strcmp(kind, "policy") == 0)
        return err_set(e, ERR_NOTFOUND, "Policy %s does not exist or is not attachable.", name);
    return err_set(e, ERR_NOTFOUND, "The %s with name %s cannot be found.", entity_word(kind),
                   name);
}

struct key_scan {
    const char *user;
    int n;
};

static void count_keys(cJSON *doc, void *arg)
{
    struct key_scan *ks = arg;

    if (strcmp(jstr(doc, "UserName"), ks->user) == 0)
        ks->n++;
}

static enum err_code apply_delete(struct store_txn *t, struct write *w, cJSON *doc, struct err *e)
{
    if (strcmp(w->kind, "policy") == 0) {
        struct attach_count ac = {jstr(doc, "Arn"), 0};
        txn_doc_each(t, "user", count_attached, &ac, NULL);
        txn_doc_each(t, "role", count_attached, &ac, NULL);
        if (ac.n)
            return err_set(e, ERR_CONFLICT, "Cannot delete a policy attached to entities.");
        if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "Versions")) > 1)
            return err_set(e, ERR_CONFLICT,
                           "This policy has more than one version. Before you delete a policy, "
                           "you must delete the policy's versions. The default version is "
                           "deleted with the policy.");
    } else {
        struct key_scan ks = {w->name, 0};
        if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "Policies")) > 0)
            return err_set(e, ERR_CONFLICT, "Cannot delete entity, must delete policies first.");
        if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "Attached")) > 0)
            return err_set(e, ERR_CONFLICT,
                           "Cannot delete entity, must detach all policies first.");
        if (strcmp(w->kind, "user") == 0) {
            txn_doc_each(t, "key", count_keys, &ks, NULL);
            if (ks.n)
                return err_set(e, ERR_CONFLICT,
                               "Cannot delete entity, must delete access keys first.");
        }
    }
    return txn_doc_del(t, w->kind, w->name, e);
}

static enum err_code apply_write(struct store_txn *t, void *arg, struct err *e)
{
    struct write *w = arg;
    cJSON *doc = NULL, *x;
    enum err_code rc;
    char now[32];

    iam_now_iso(now, 0);
    if (w->op == W_KEY_DELETE) {
        rc = txn_doc_get(t, "key", w->a, &doc, e);
        if (rc == ERR_NOTFOUND || (rc == ERR_OK && strcmp(jstr(doc, "UserName"), w->name) != 0))
            rc = err_set(e, ERR_NOTFOUND, "The Access Key with id %s cannot be found.", w->a);
        if (rc == ERR_OK)
            rc = txn_doc_del(t, "key", w->a, e);
        cJSON_Delete(doc);
        return rc;
    }
    rc = txn_doc_get(t, w->kind, w->name, &doc, e);
    if (w->op == W_CREATE) {
        cJSON_Delete(doc);
        if (rc == ERR_OK) {
            if (strcmp(w->kind, "policy") == 0)
                return err_set(e, ERR_IN_USE,
                               "A policy called %s already exists. Duplicate names are not "
                               "allowed.",
                               w->name);
            return err_set(e, ERR_IN_USE, "%s with name %s already exists.",
                           strcmp(w->kind, "user") == 0 ? "User" : "Role", w->name);
        }
        if (rc != ERR_NOTFOUND)
            return rc;
        return txn_doc_put(t, w->kind, w->name, w->doc, e);
    }
    if (rc == ERR_NOTFOUND)
        return missing(e, w->kind, strcmp(w->kind, "policy") == 0 ? w->b : w->name);
    if (rc)
        return rc;
    switch (w->op) {
    case W_DELETE:
        rc = apply_delete(t, w, doc, e);
        goto out;
    case W_PUT_INLINE:
        x = jobj(doc, "Policies");
        cJSON_DeleteItemFromObjectCaseSensitive(x, w->a);
        cJSON_AddStringToObject(x, w->a, w->b);
        break;
    case W_DEL_INLINE:
        x = jobj(doc, "Policies");
        if (!cJSON_GetObjectItemCaseSensitive(x, w->a)) {
            rc = err_set(e, ERR_NOTFOUND, "The %s policy with name %s cannot be found.",
                         entity_word(w->kind), w->a);
            goto out;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(x, w->a);
        break;
    case W_ATTACH: {
        cJSON *pol = NULL;
        if (!iam_managed_find(w->a)) {
            enum err_code prc = txn_doc_get(t, "policy", policy_name_of(w->a), &pol, e);
            bool ok = prc == ERR_OK && strcmp(jstr(pol, "Arn"), w->a) == 0;
            cJSON_Delete(pol);
            if (!ok) {
                rc = err_set(e, ERR_NOTFOUND, "Policy %s does not exist or is not attachable.",
                             w->a);
                goto out;
            }
        }
        x = jarr(doc, "Attached");
        cJSON *y;
        cJSON_ArrayForEach(y, x) if (strcmp(y->valuestring, w->a) == 0) goto out;
        if (cJSON_GetArraySize(x) >= MAX_ATTACHED) {
            rc = err_set(e, ERR_LIMIT, "Cannot exceed quota for PoliciesPerUser: %d", MAX_ATTACHED);
            goto out;
        }
        cJSON_AddItemToArray(x, cJSON_CreateString(w->a));
        break;
    }
    case W_DETACH: {
        int i = 0;
        cJSON *y;
        x = jarr(doc, "Attached");
        cJSON_ArrayForEach(y, x)
        {
            if (strcmp(y->valuestring, w->a) == 0)
                break;
            i++;
        }
        if (!y) {
            rc = err_set(e, ERR_NOTFOUND, "Policy %s was not found.", w->a);
            goto out;
        }
        cJSON_DeleteItemFromArray(x, i);
        break;
    }
    case W_TAG: {
        cJSON *tags = jarr(doc, "Tags"), *nt, *ot;
        cJSON_ArrayForEach(nt, w->doc)
        {
            int i = 0;
            cJSON_ArrayForEach(ot, tags)
            {
                if (strcmp(jstr(ot, "Key"), jstr(nt, "Key")) == 0)
                    break;
                i++;
            }
            if (ot)
                cJSON_DeleteItemFromArray(tags, i);
            cJSON_AddItemToArray(tags, cJSON_Duplicate(nt, 1));
        }
        if (cJSON_GetArraySize(tags) > MAX_TAGS) {
            rc = err_set(e, ERR_LIMIT, "Cannot exceed quota for TagsPerEntity: %d", MAX_TAGS);
            goto out;
        }
        break;
    }
    case W_UNTAG: {
        cJSON *tags = jarr(doc, "Tags"), *k, *ot;
        cJSON_ArrayForEach(k, w->doc)
        {
            int i = 0;
            cJSON_ArrayForEach(ot, tags)
            {
                if (strcmp(jstr(ot, "Key"), k->valuestring) == 0)
                    break;
                i++;
            }
            if (ot)
                cJSON_DeleteItemFromArray(tags, i);
        }
        break;
    }
    case W_TRUST:
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "AssumeRolePolicyDocument");
        cJSON_AddStringToObject(doc, "AssumeRolePolicyDocument", w->a);
        break;
    case W_NEW_VERSION: {
        cJSON *vers = jarr(doc, "Versions"), *v,
              *next = cJSON_GetObjectItemCaseSensitive(doc, "NextVersion");
        int n = next ? next->valueint : 2;
        if (cJSON_GetArraySize(vers) >= MAX_VERSIONS) {
            rc = err_set(e, ERR_LIMIT,
                         "A managed policy can have up to %d versions. Before you create a new "
                         "version, you must delete an existing version.",
                         MAX_VERSIONS);
            goto out;
        }
        snprintf(w->out, sizeof(w->out), "v%d", n);
        v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "VersionId", w->out);
        cJSON_AddStringToObject(v, "Document", w->a);
        cJSON_AddStringToObject(v, "CreateDate", now);
        cJSON_AddItemToArray(vers, v);
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "NextVersion");
        cJSON_AddNumberToObject(doc, "NextVersion", n + 1);
        if (w->flag) {
            cJSON_DeleteItemFromObjectCaseSensitive(doc, "DefaultVersionId");
            cJSON_AddStringToObject(doc, "DefaultVersionId", w->out);
        }
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "UpdateDate");
        cJSON_AddStringToObject(doc, "UpdateDate", now);
        break;
    }
    case W_DEL_VERSION:
    case W_SET_DEFAULT: {
        cJSON *vers = jarr(doc, "Versions"), *v;
        int i = 0;
        cJSON_ArrayForEach(v, vers)
        {
            if (strcmp(jstr(v, "VersionId"), w->a) == 0)
                break;
            i++;
        }
        if (!v) {
            rc = err_set(e, ERR_NOTFOUND,
                         "Policy %s version %s does not exist or is not attachable.", w->b, w->a);
            goto out;
        }
        if (w->op == W_DEL_VERSION) {
            if (strcmp(jstr(doc, "DefaultVersionId"), w->a) == 0) {
                rc = err_set(e, ERR_CONFLICT, "Cannot delete the default version of a policy.");
                goto out;
            }
            cJSON_DeleteItemFromArray(vers, i);
        } else {
            cJSON_DeleteItemFromObjectCaseSensitive(doc, "DefaultVersionId");
            cJSON_AddStringToObject(doc, "DefaultVersionId", w->a);
        }
        break;
    }
    case W_KEY_CREATE: {
        struct key_scan ks = {w->name, 0};
        cJSON *k;
        txn_doc_each(t, "key", count_keys, &ks, NULL);
        if (ks.n >= MAX_KEYS_PER_USER) {
            rc = err_set(e, ERR_LIMIT, "Cannot exceed quota for AccessKeysPerUser: %d",
                         MAX_KEYS_PER_USER);
            goto out;
        }
        k = cJSON_CreateObject();
        cJSON_AddStringToObject(k, "UserName", w->name);
        cJSON_AddStringToObject(k, "UserArn", jstr(doc, "Arn"));
        cJSON_AddStringToObject(k, "AccessKeyId", w->a);
        cJSON_AddStringToObject(k, "SecretAccessKey", w->b);
        cJSON_AddStringToObject(k, "Status", "Active");
        cJSON_AddStringToObject(k, "CreateDate", now);
        rc = txn_doc_put(t, "key", w->a, k, e);
        cJSON_Delete(k);
        goto out;
    }
    default:
        break;
    }
    rc = txn_doc_put(t, w->kind, w->name, doc, e);
out:
    cJSON_Delete(doc);
    return rc;
}

/* write - run @w; answers @c on failure and returns false. */
static bool write(struct iam_call *c, struct write *w)
{
    struct err e = {0};
    enum err_code rc = store_write(c->iam->store, apply_write, w, &e);

    if (rc) {
        iam_fail_err(c, rc, &e);
        return false;
    }
    return true;
}

/* ---- operations ---- */

/* caller_user - the UserName parameter, defaulting to the caller (as IAM
 * does for GetUser, CreateAccessKey, ListAccessKeys). */
static const char *caller_user(struct iam_call *c)
{
    const char *u = iam_param(c, "UserName");

    if (u)
        return need_name(c, "UserName", 64);
    if (c->who->root) {
        iam_fail(c, 400, "ValidationError",
                 "Must specify userName when calling with non-User credentials");
        return NULL;
    }
    return c->who->user;
}

static char *arn_of(struct iam_call *c, const char *kind, const char *path, const char *name)
{
    return arena_sprintf(c->r->arena, "arn:aws:iam::%s:%s%s%s", c->iam->account, kind,
                         path ? path : "/", name);
}

static const char *path_param(struct iam_call *c)
{
    const char *p = iam_param(c, "Path");

    if (!p)
        return "/";
    if (p[0] != '/' || p[strlen(p) - 1] != '/' || strlen(p) > 512) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value '%.200s' at 'path' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: "
                 "(\\u002F)|(\\u002F[\\u0021-\\u007F]+\\u002F)",
                 p);
        return NULL;
    }
    return p;
}

static void op_create_entity(struct iam_call *c, const char *kind)
{
    bool user = strcmp(kind, "user") == 0, bad;
    const char *name = need_name(c, user ? "UserName" : "RoleName", 64), *path;
    const char *trust = NULL, *desc = iam_param(c, "Description"), *max;
    cJSON *doc, *tags;
    struct write w = {.op = W_CREATE, .kind = kind};
    char id[32], now[32];
    struct buf b;
    long msd = 3600;

    if (!name || !(path = path_param(c)))
        return;
    if (!iam_allowed(c, user ? "iam:CreateUser" : "iam:CreateRole", arn_of(c, kind, path, name)))
        return;
    if (!user) {
        trust = iam_param(c, "AssumeRolePolicyDocument");
        if (!check_doc(c, trust, IAM_POLICY_TRUST, MAX_TRUST,
                       "Cannot exceed quota for ACLSizePerRole: 2048"))
            return;
        if ((max = iam_param(c, "MaxSessionDuration"))) {
            char *end;
            msd = strtol(max, &end, 10);
            if (*end || msd < 3600 || msd > 43200) {
                iam_fail(c, 400, "ValidationError",
                         "1 validation error detected: Value '%.40s' at 'maxSessionDuration' "
                         "failed to satisfy constraint: Member must have value between 3600 and "
                         "43200",
                         max);
                return;
            }
        }
    }
    tags = parse_tags(c, &bad);
    if (bad)
        return;
    iam_random_id(id, user ? "AIDA" : "AROA", 17, UPPER_ALNUM);
    iam_now_iso(now, 0);
    doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "Path", path);
    cJSON_AddStringToObject(doc, user ? "UserName" : "RoleName", name);
    cJSON_AddStringToObject(doc, user ? "UserId" : "RoleId", id);
    cJSON_AddStringToObject(doc, "Arn", arn_of(c, kind, path, name));
    cJSON_AddStringToObject(doc, "CreateDate", now);
    if (!user) {
        cJSON_AddStringToObject(doc, "AssumeRolePolicyDocument", trust);
        cJSON_AddNumberToObject(doc, "MaxSessionDuration", (double)msd);
        if (desc)
            cJSON_AddStringToObject(doc, "Description", desc);
    }
    cJSON_AddItemToObject(doc, "Tags", tags);
    w.name = name;
    w.doc = doc;
    if (write(c, &w)) {
        buf_init(&b, 0);
        if (user)
            xml_user(&b, doc, "User");
        else
            xml_role(&b, doc, "Role");
        iam_reply(c, b.ptr);
        buf_free(&b);
    }
    cJSON_Delete(doc);
}

/* load - the document of @kind/@name, or NULL after answering NoSuchEntity. */
static cJSON *load(struct iam_call *c, const char *kind, const char *name)
{
    cJSON *doc = NULL;
    struct err e = {0};
    enum err_code rc = iam_doc_get(c->iam, kind, name, &doc, &e);

    if (rc == ERR_NOTFOUND)
        missing(&e, kind, name);
    if (rc) {
        iam_fail_err(c, rc, &e);
        return NULL;
    }
    return doc;
}

static void op_get_entity(struct iam_call *c, const char *kind)
{
    bool user = strcmp(kind, "user") == 0;
    const char *name = user ? caller_user(c) : need_name(c, "RoleName", 64);
    cJSON *doc;
    struct buf b;

    if (!name)
        return;
    if (!iam_allowed(c, user ? "iam:GetUser" : "iam:GetRole", arn_of(c, kind, "/", name)))
        return;
    if (!(doc = load(c, kind, name)))
        return;
    buf_init(&b, 0);
    if (user)
        xml_user(&b, doc, "User");
    else
        xml_role(&b, doc, "Role");
    iam_reply(c, b.ptr);
    buf_free(&b);
    cJSON_Delete(doc);
}

static void op_simple_write(struct iam_call *c, const char *kind, enum wop op, const char *action,
                            const char *a_param, const char *b_param)
{
    bool user = strcmp(kind, "user") == 0;
    const char *name = need_name(c, user ? "UserName" : "RoleName", 64);
    struct write w = {.op = op, .kind = kind};

    if (!name)
        return;
    w.name = name;
    if (a_param && !(w.a = (strcmp(a_param, "PolicyName") == 0 ? need_name(c, a_param, 128)
                                                               : iam_param(c, a_param)))) {
        if (strcmp(a_param, "PolicyName") != 0)
            iam_fail(c, 400, "ValidationError",
                     "1 validation error detected: Value null at '%s' failed to satisfy "
                     "constraint: Member must not be null",
                     a_param);
        return;
    }
    if (b_param)
        w.b = iam_param(c, b_param);
    if (!iam_allowed(c, action, arn_of(c, kind, "/", name)))
        return;
    if (op == W_PUT_INLINE) {
        char over[160];
        snprintf(over, sizeof(over), "Maximum policy size of %d bytes exceeded for %s %s",
                 user ? MAX_USER_INLINE : MAX_ROLE_INLINE, kind, name);
        if (!check_doc(c, w.b, IAM_POLICY_IDENTITY, user ? MAX_USER_INLINE : MAX_ROLE_INLINE, over))
            return;
    }
    if (op == W_TRUST && !check_doc(c, w.a, IAM_POLICY_TRUST, MAX_TRUST,
                                    "Cannot exceed quota for ACLSizePerRole: 2048"))
        return;
    if (op == W_ATTACH || op == W_DETACH) {
        if (strncmp(w.a, "arn:", 4) != 0) {
            iam_fail(c, 400, "ValidationError", "ARN %.200s is not valid.", w.a);
            return;
        }
    }
    if (write(c, &w))
        iam_reply(c, NULL);
}

static void op_delete_entity(struct iam_call *c, const char *kind)
{
    op_simple_write(c, kind, W_DELETE,
                    strcmp(kind, "user") == 0 ? "iam:DeleteUser" : "iam:DeleteRole", NULL, NULL);
}

struct list_acc {
    struct iam_call *c;
    struct buf *b;
    const char *kind;
    const char *prefix;
    const char *scope;
    bool only_attached;
    const char *user; /* keys */
};

static void list_one(cJSON *doc, void *arg)
{
    struct list_acc *la = arg;

    if (la->prefix && strncmp(jstr(doc, "Path"), la->prefix, strlen(la->prefix)) != 0)
        return;
    if (strcmp(la->kind, "user") == 0)
        xml_user(la->b, doc, "member");
    else if (strcmp(la->kind, "role") == 0)
        xml_role(la->b, doc, "member");
    else if (strcmp(la->kind, "policy") == 0) {
        if (la->only_attached && attachments(la->c->iam, jstr(doc, "Arn")) == 0)
            return;
        xml_policy(la->c->iam, la->b, doc, "member");
    } else if (strcmp(jstr(doc, "UserName"), la->user) == 0) {
        buf_puts(la->b, "<member>");
        iam_xml_elem(la->b, "UserName", jstr(doc, "UserName"));
        iam_xml_elem(la->b, "AccessKeyId", jstr(doc, "AccessKeyId"));
        iam_xml_elem(la->b, "Status", jstr(doc, "Status"));
        iam_xml_elem(la->b, "CreateDate", jstr(doc, "CreateDate"));
        buf_puts(la->b, "</member>");
    }
}

static void op_list(struct iam_call *c, const char *kind, const char *action, const char *elem)
{
    struct buf b;
    struct err e = {0};
    struct list_acc la = {c,     &b,  kind, iam_param(c, "PathPrefix"), iam_param(c, "Scope"),
                          false, NULL};
    enum err_code rc;

    if (strcmp(kind, "key") == 0) {
        if (!(la.user = caller_user(c)))
            return;
        if (!iam_allowed(c, action, arn_of(c, "user", "/", la.user)))
            return;
        cJSON *u = load(c, "user", la.user);
        if (!u)
            return;
        cJSON_Delete(u);
    } else if (!iam_allowed(c, action, "*")) {
        return;
    }
    la.only_attached =
        iam_param(c, "OnlyAttached") && strcmp(iam_param(c, "OnlyAttached"), "true") == 0;
    buf_init(&b, 0);
    buf_printf(&b, "<%s>", elem);
    if (strcmp(kind, "policy") == 0 && (!la.scope || strcmp(la.scope, "Local") != 0)) {
        const struct iam_managed *m;
        for (size_t i = 0; (m = iam_managed_at(i)); i++) {
            cJSON *d = managed_doc(m);
            list_one(d, &la);
            cJSON_Delete(d);
        }
    }
    if (strcmp(kind, "policy") != 0 || !la.scope || strcmp(la.scope, "AWS") != 0)
        rc = doc_each(c->iam, kind, list_one, &la, &e);
    else
        rc = ERR_OK;
    buf_printf(&b, "</%s><IsTruncated>false</IsTruncated>", elem);
    if (rc)
        iam_fail_err(c, rc, &e);
    else
        iam_reply(c, b.ptr);
    buf_free(&b);
}

static void op_get_inline(struct iam_call *c, const char *kind)
{
    bool user = strcmp(kind, "user") == 0;
    const char *name = need_name(c, user ? "UserName" : "RoleName", 64);
    const char *pname = name ? need_name(c, "PolicyName", 128) : NULL;
    const cJSON *p;
    cJSON *doc;
    struct buf b;

    if (!pname || !iam_allowed(c, user ? "iam:GetUserPolicy" : "iam:GetRolePolicy",
                               arn_of(c, kind, "/", name)))
        return;
    if (!(doc = load(c, kind, name)))
        return;
    p = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "Policies"), pname);
    if (!cJSON_IsString(p)) {
        iam_fail(c, 404, "NoSuchEntity", "The %s policy with name %s cannot be found.", kind,
                 pname);
    } else {
        buf_init(&b, 0);
        iam_xml_elem(&b, user ? "UserName" : "RoleName", name);
        iam_xml_elem(&b, "PolicyName", pname);
        iam_xml_urlenc(&b, "PolicyDocument", p->valuestring);
        iam_reply(c, b.ptr);
        buf_free(&b);
    }
    cJSON_Delete(doc);
}

static void op_list_of_entity(struct iam_call *c, const char *kind, const char *action, int what)
{
    bool user = strcmp(kind, "user") == 0;
    const char *name = need_name(c, user ? "UserName" : "RoleName", 64);
    const cJSON *x;
    cJSON *doc;
    struct buf b;

    if (!name || !iam_allowed(c, action, arn_of(c, kind, "/", name)))
        return;
    if (!(doc = load(c, kind, name)))
        return;
    buf_init(&b, 0);
    if (what == 0) { /* inline policy names */
        buf_puts(&b, "<PolicyNames>");
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(doc, "Policies"))
            iam_xml_elem(&b, "member", x->string);
        buf_puts(&b, "</PolicyNames>");
    } else if (what == 1) { /* attached */
        buf_puts(&b, "<AttachedPolicies>");
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(doc, "Attached"))
        {
            buf_puts(&b, "<member>");
            iam_xml_elem(&b, "PolicyName", policy_name_of(x->valuestring));
            iam_xml_elem(&b, "PolicyArn", x->valuestring);
            buf_puts(&b, "</member>");
        }
        buf_puts(&b, "</AttachedPolicies>");
    } else {
        xml_tags(&b, doc, true);
    }
    buf_puts(&b, "<IsTruncated>false</IsTruncated>");
    iam_reply(c, b.ptr);
    buf_free(&b);
    cJSON_Delete(doc);
}

static void op_tag(struct iam_call *c, const char *kind, bool untag)
{
    const char *action = untag ? (strcmp(kind, "user") == 0   ? "iam:UntagUser"
                                  : strcmp(kind, "role") == 0 ? "iam:UntagRole"
                                                              : "iam:UntagPolicy")
                               : (strcmp(kind, "user") == 0   ? "iam:TagUser"
                                  : strcmp(kind, "role") == 0 ? "iam:TagRole"
                                                              : "iam:TagPolicy");
    struct write w = {.op = untag ? W_UNTAG : W_TAG, .kind = kind};
    const char *name, *res;
    bool bad = false;

    if (strcmp(kind, "policy") == 0) {
        const char *arn = iam_param(c, "PolicyArn");
        if (!arn) {
            iam_fail(c, 400, "ValidationError", "PolicyArn is required");
            return;
        }
        name = policy_name_of(arn);
        w.b = arn;
        res = arn;
    } else {
        name = need_name(c, strcmp(kind, "user") == 0 ? "UserName" : "RoleName", 64);
        if (!name)
            return;
        res = arn_of(c, kind, "/", name);
    }
    w.name = name;
    if (!iam_allowed(c, action, res))
        return;
    if (untag) {
        char pn[48];
        w.doc = cJSON_CreateArray();
        for (int i = 1; i <= MAX_TAGS; i++) {
            const char *k;
            snprintf(pn, sizeof(pn), "TagKeys.member.%d", i);
            if (!(k = iam_param(c, pn)))
                break;
            cJSON_AddItemToArray(w.doc, cJSON_CreateString(k));
        }
    } else {
        w.doc = parse_tags(c, &bad);
        if (bad)
            return;
    }
    if (write(c, &w))
        iam_reply(c, NULL);
    cJSON_Delete(w.doc);
}

/* policy_load - a customer managed or AWS managed policy by ARN (owned), or
 * NULL after answering NoSuchEntity. */
static cJSON *policy_load(struct iam_call *c, const char *arn)
{
    const struct iam_managed *m;
    cJSON *doc = NULL;

    if (!arn) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at 'policyArn' failed to satisfy "
                 "constraint: Member must not be null");
        return NULL;
    }
    if ((m = iam_managed_find(arn)))
        return managed_doc(m);
    if (iam_doc_get(c->iam, "policy", policy_name_of(arn), &doc, NULL) == ERR_OK &&
        strcmp(jstr(doc, "Arn"), arn) == 0)
        return doc;
    cJSON_Delete(doc);
    iam_fail(c, 404, "NoSuchEntity", "Policy %.300s does not exist or is not attachable.", arn);
    return NULL;
}

static void op_create_policy(struct iam_call *c)
{
    const char *name = need_name(c, "PolicyName", 128), *path, *json, *desc;
    struct write w = {.op = W_CREATE, .kind = "policy"};
    cJSON *doc, *vers, *v, *tags;
    char id[32], now[32];
    struct buf b;
    bool bad;

    if (!name || !(path = path_param(c)))
        return;
    json = iam_param(c, "PolicyDocument");
    desc = iam_param(c, "Description");
    if (!iam_allowed(c, "iam:CreatePolicy", arn_of(c, "policy", path, name)))
        return;
    if (!check_doc(c, json, IAM_POLICY_IDENTITY, MAX_MANAGED,
                   "Cannot exceed quota for PolicySize: 6144"))
        return;
    tags = parse_tags(c, &bad);
    if (bad)
        return;
    iam_random_id(id, "ANPA", 17, UPPER_ALNUM);
    iam_now_iso(now, 0);
    doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "PolicyName", name);
    cJSON_AddStringToObject(doc, "PolicyId", id);
    cJSON_AddStringToObject(doc, "Arn", arn_of(c, "policy", path, name));
    cJSON_AddStringToObject(doc, "Path", path);
    cJSON_AddStringToObject(doc, "DefaultVersionId", "v1");
    if (desc)
        cJSON_AddStringToObject(doc, "Description", desc);
    cJSON_AddStringToObject(doc, "CreateDate", now);
    cJSON_AddStringToObject(doc, "UpdateDate", now);
    cJSON_AddNumberToObject(doc, "NextVersion", 2);
    vers = cJSON_AddArrayToObject(doc, "Versions");
    v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "VersionId", "v1");
    cJSON_AddStringToObject(v, "Document", json);
    cJSON_AddStringToObject(v, "CreateDate", now);
    cJSON_AddItemToArray(vers, v);
    cJSON_AddItemToObject(doc, "Tags", tags);
    w.name = name;
    w.doc = doc;
    if (write(c, &w)) {
        buf_init(&b, 0);
        xml_policy(c->iam, &b, doc, "Policy");
        iam_reply(c, b.ptr);
        buf_free(&b);
    }
    cJSON_Delete(doc);
}

static void op_get_policy(struct iam_call *c)
{
    const char *arn = iam_param(c, "PolicyArn");
    cJSON *doc;
    struct buf b;

    if (arn && !iam_allowed(c, "iam:GetPolicy", arn))
        return;
    if (!(doc = policy_load(c, arn)))
        return;
    buf_init(&b, 0);
    xml_policy(c->iam, &b, doc, "Policy");
    iam_reply(c, b.ptr);
    buf_free(&b);
    cJSON_Delete(doc);
}

static void xml_version(struct buf *b, const cJSON *pol, const cJSON *v, bool doc, const char *elem)
{
    buf_printf(b, "<%s>", elem);
    if (doc)
        iam_xml_urlenc(b, "Document", jstr(v, "Document"));
    iam_xml_elem(b, "VersionId", jstr(v, "VersionId"));
    buf_printf(b, "<IsDefaultVersion>%s</IsDefaultVersion>",
               strcmp(jstr(v, "VersionId"), jstr(pol, "DefaultVersionId")) == 0 ? "true" : "false");
    iam_xml_elem(b, "CreateDate", jstr(v, "CreateDate"));
    buf_printf(b, "</%s>", elem);
}

static void op_policy_versions(struct iam_call *c, bool get)
{
    const char *arn = iam_param(c, "PolicyArn"), *vid = iam_param(c, "VersionId");
    const cJSON *v;
    cJSON *doc;
    struct buf b;

    if (arn && !iam_allowed(c, get ? "iam:GetPolicyVersion" : "iam:ListPolicyVersions", arn))
        return;
    if (!(doc = policy_load(c, arn)))
        return;
    buf_init(&b, 0);
    if (!get)
        buf_puts(&b, "<Versions>");
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(doc, "Versions"))
    {
        if (!get)
            xml_version(&b, doc, v, true, "member");
        else if (vid && strcmp(jstr(v, "VersionId"), vid) == 0)
            xml_version(&b, doc, v, true, "PolicyVersion");
    }
    if (!get)
        buf_puts(&b, "</Versions><IsTruncated>false</IsTruncated>");
    if (get && !b.len)
        iam_fail(c, 404, "NoSuchEntity",
                 "Policy %.300s version %.40s does not exist or is not attachable.", arn,
                 vid ? vid : "");
    else
        iam_reply(c, b.ptr);
    buf_free(&b);
    cJSON_Delete(doc);
}

static void op_policy_write(struct iam_call *c, enum wop op, const char *action)
{
    const char *arn = iam_param(c, "PolicyArn");
    struct write w = {.op = op, .kind = "policy"};
    struct buf b;

    if (!arn) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at 'policyArn' failed to satisfy "
                 "constraint: Member must not be null");
        return;
    }
    if (!iam_allowed(c, action, arn))
        return;
    if (iam_managed_find(arn) || strncmp(arn, "arn:aws:iam::aws:", 17) == 0) {
        iam_fail(c, 403, "AccessDenied", "Cannot modify an AWS managed policy: %.300s", arn);
        return;
    }
    w.name = policy_name_of(arn);
    w.b = arn;
    if (op == W_NEW_VERSION) {
        w.a = iam_param(c, "PolicyDocument");
        w.flag = iam_param(c, "SetAsDefault") && strcmp(iam_param(c, "SetAsDefault"), "true") == 0;
        if (!check_doc(c, w.a, IAM_POLICY_IDENTITY, MAX_MANAGED,
                       "Cannot exceed quota for PolicySize: 6144"))
            return;
    } else if (op == W_DEL_VERSION || op == W_SET_DEFAULT) {
        if (!(w.a = iam_param(c, "VersionId"))) {
            iam_fail(c, 400, "ValidationError", "VersionId is required");
            return;
        }
    }
    {
        /* the ARN must name this very policy, not one of the same name elsewhere */
        cJSON *doc = policy_load(c, arn);
        if (!doc)
            return;
        cJSON_Delete(doc);
    }
    if (!write(c, &w))
        return;
    if (op == W_NEW_VERSION) {
        char now[32];
        iam_now_iso(now, 0);
        buf_init(&b, 0);
        buf_puts(&b, "<PolicyVersion>");
        iam_xml_elem(&b, "VersionId", w.out);
        buf_printf(&b, "<IsDefaultVersion>%s</IsDefaultVersion>", w.flag ? "true" : "false");
        iam_xml_elem(&b, "CreateDate", now);
        buf_puts(&b, "</PolicyVersion>");
        iam_reply(c, b.ptr);
        buf_free(&b);
    } else {
        iam_reply(c, NULL);
    }
}

static void op_create_access_key(struct iam_call *c)
{
    const char *user = caller_user(c);
    struct write w = {.op = W_KEY_CREATE, .kind = "user"};
    char akid[32], secret[48], now[32];
    struct creds_identity id;
    struct err e = {0};
    cJSON *doc;
    struct buf b;

    if (!user || !iam_allowed(c, "iam:CreateAccessKey", arn_of(c, "user", "/", user)))
        return;
    iam_random_id(akid, "AKIA", 16, UPPER_ALNUM);
    iam_random_id(secret, "", 40, SECRET_CHARS);
    w.name = user;
    w.a = akid;
    w.b = secret;
    if (!write(c, &w))
        return;
    doc = load(c, "user", user);
    if (!doc)
        return;
    memset(&id, 0, sizeof(id));
    snprintf(id.access_key, sizeof(id.access_key), "%s", akid);
    snprintf(id.secret, sizeof(id.secret), "%s", secret);
    snprintf(id.account, sizeof(id.account), "%s", c->iam->account);
    snprintf(id.user, sizeof(id.user), "%s", user);
    snprintf(id.arn, sizeof(id.arn), "%s", jstr(doc, "Arn"));
    cJSON_Delete(doc);
    if (creds_add(c->iam->creds, &id, &e) != ERR_OK) {
        iam_fail_err(c, ERR_INTERNAL, &e);
        return;
    }
    iam_now_iso(now, 0);
    buf_init(&b, 0);
    buf_puts(&b, "<AccessKey>");
    iam_xml_elem(&b, "UserName", user);
    iam_xml_elem(&b, "AccessKeyId", akid);
    iam_xml_elem(&b, "Status", "Active");
    iam_xml_elem(&b, "SecretAccessKey", secret);
    iam_xml_elem(&b, "CreateDate", now);
    buf_puts(&b, "</AccessKey>");
    iam_reply(c, b.ptr);
    buf_free(&b);
}

static void op_delete_access_key(struct iam_call *c)
{
    const char *user = caller_user(c), *akid = iam_param(c, "AccessKeyId");
    struct write w = {.op = W_KEY_DELETE, .kind = "key"};

    if (!user)
        return;
    if (!akid) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at 'accessKeyId' failed to satisfy "
                 "constraint: Member must not be null");
        return;
    }
    if (!iam_allowed(c, "iam:DeleteAccessKey", arn_of(c, "user", "/", user)))
        return;
    w.name = user;
    w.a = akid;
    if (!write(c, &w))
        return;
    creds_remove(c->iam->creds, akid);
    iam_reply(c, NULL);
}

/* ---- dispatch ---- */

void iam_handle(struct iam *iam, struct http_req *r, const struct creds_identity *who)
{
    struct iam_call c;
    const char *a;

    if (!iam_call_init(&c, iam, r, who, false))
        return;
    a = c.action;
#define IS(x) (strcmp(a, x) == 0)
    if (IS("CreateUser"))
        op_create_entity(&c, "user");
    else if (IS("GetUser"))
        op_get_entity(&c, "user");
    else if (IS("DeleteUser"))
        op_delete_entity(&c, "user");
    else if (IS("ListUsers"))
        op_list(&c, "user", "iam:ListUsers", "Users");
    else if (IS("CreateRole"))
        op_create_entity(&c, "role");
    else if (IS("GetRole"))
        op_get_entity(&c, "role");
    else if (IS("DeleteRole"))
        op_delete_entity(&c, "role");
    else if (IS("ListRoles"))
        op_list(&c, "role", "iam:ListRoles", "Roles");
    else if (IS("UpdateAssumeRolePolicy"))
        op_simple_write(&c, "role", W_TRUST, "iam:UpdateAssumeRolePolicy", "PolicyDocument", NULL);
    else if (IS("PutUserPolicy"))
        op_simple_write(&c, "user", W_PUT_INLINE, "iam:PutUserPolicy", "PolicyName",
                        "PolicyDocument");
    else if (IS("PutRolePolicy"))
        op_simple_write(&c, "role", W_PUT_INLINE, "iam:PutRolePolicy", "PolicyName",
                        "PolicyDocument");
    else if (IS("GetUserPolicy"))
        op_get_inline(&c, "user");
    else if (IS("GetRolePolicy"))
        op_get_inline(&c, "role");
    else if (IS("DeleteUserPolicy"))
        op_simple_write(&c, "user", W_DEL_INLINE, "iam:DeleteUserPolicy", "PolicyName", NULL);
    else if (IS("DeleteRolePolicy"))
        op_simple_write(&c, "role", W_DEL_INLINE, "iam:DeleteRolePolicy", "PolicyName", NULL);
    else if (IS("ListUserPolicies"))
        op_list_of_entity(&c, "user", "iam:ListUserPolicies", 0);
    else if (IS("ListRolePolicies"))
        op_list_of_entity(&c, "role", "iam:ListRolePolicies", 0);
    else if (IS("AttachUserPolicy"))
        op_simple_write(&c, "user", W_ATTACH, "iam:AttachUserPolicy", "PolicyArn", NULL);
    else if (IS("AttachRolePolicy"))
        op_simple_write(&c, "role", W_ATTACH, "iam:AttachRolePolicy", "PolicyArn", NULL);
    else if (IS("DetachUserPolicy"))
        op_simple_write(&c, "user", W_DETACH, "iam:DetachUserPolicy", "PolicyArn", NULL);
    else if (IS("DetachRolePolicy"))
        op_simple_write(&c, "role", W_DETACH, "iam:DetachRolePolicy", "PolicyArn", NULL);
    else if (IS("ListAttachedUserPolicies"))
        op_list_of_entity(&c, "user", "iam:ListAttachedUserPolicies", 1);
    else if (IS("ListAttachedRolePolicies"))
        op_list_of_entity(&c, "role", "iam:ListAttachedRolePolicies", 1);
    else if (IS("TagUser"))
        op_tag(&c, "user", false);
    else if (IS("UntagUser"))
        op_tag(&c, "user", true);
    else if (IS("ListUserTags"))
        op_list_of_entity(&c, "user", "iam:ListUserTags", 2);
    else if (IS("TagRole"))
        op_tag(&c, "role", false);
    else if (IS("UntagRole"))
        op_tag(&c, "role", true);
    else if (IS("ListRoleTags"))
        op_list_of_entity(&c, "role", "iam:ListRoleTags", 2);
    else if (IS("TagPolicy"))
        op_tag(&c, "policy", false);
    else if (IS("UntagPolicy"))
        op_tag(&c, "policy", true);
    else if (IS("CreatePolicy"))
        op_create_policy(&c);
    else if (IS("GetPolicy"))
        op_get_policy(&c);
    else if (IS("DeletePolicy"))
        op_policy_write(&c, W_DELETE, "iam:DeletePolicy");
    else if (IS("ListPolicies"))
        op_list(&c, "policy", "iam:ListPolicies", "Policies");
    else if (IS("CreatePolicyVersion"))
        op_policy_write(&c, W_NEW_VERSION, "iam:CreatePolicyVersion");
    else if (IS("DeletePolicyVersion"))
        op_policy_write(&c, W_DEL_VERSION, "iam:DeletePolicyVersion");
    else if (IS("SetDefaultPolicyVersion"))
        op_policy_write(&c, W_SET_DEFAULT, "iam:SetDefaultPolicyVersion");
    else if (IS("GetPolicyVersion"))
        op_policy_versions(&c, true);
    else if (IS("ListPolicyVersions"))
        op_policy_versions(&c, false);
    else if (IS("CreateAccessKey"))
        op_create_access_key(&c);
    else if (IS("DeleteAccessKey"))
        op_delete_access_key(&c);
    else if (IS("ListAccessKeys"))
        op_list(&c, "key", "iam:ListAccessKeys", "AccessKeyMetadata");
    else
        iam_fail(&c, 400, "InvalidAction", "Could not find operation %.64s for version 2010-05-08",
                 a);
#undef IS
}

/* ---- life ---- */

static void load_key(cJSON *doc, void *arg)
{
    struct iam *iam = arg;
    struct creds_identity id;

    memset(&id, 0, sizeof(id));
    snprintf(id.access_key, sizeof(id.access_key), "%s", jstr(doc, "AccessKeyId"));
    snprintf(id.secret, sizeof(id.secret), "%s", jstr(doc, "SecretAccessKey"));
    snprintf(id.account, sizeof(id.account), "%s", iam->account);
    snprintf(id.user, sizeof(id.user), "%s", jstr(doc, "UserName"));
    snprintf(id.arn, sizeof(id.arn), "%s", jstr(doc, "UserArn"));
    if (creds_add(iam->creds, &id, NULL) != ERR_OK)
        log_warn("event=iam_key_skipped key=%s", id.access_key);
}

enum err_code iam_open(const struct iam_opts *o, struct iam **out, struct err *e)
{
    struct iam *iam;
    enum err_code rc;

    if (!o->store || !o->creds || !o->region || !o->account || strlen(o->region) >= 32 ||
        strlen(o->account) != 12)
        return err_set(e, ERR_INVALID, "iam_open: store, creds, region and account are required");
    iam = xcalloc(1, sizeof(*iam));
    iam->store = o->store;
    iam->creds = o->creds;
    snprintf(iam->region, sizeof(iam->region), "%s", o->region);
    snprintf(iam->account, sizeof(iam->account), "%s", o->account);
    iam->sts_min_duration = o->sts_min_duration > 0 ? o->sts_min_duration : 900;
    rc = doc_each(iam, "key", load_key, iam, e);
    if (rc) {
        free(iam);
        return rc;
    }
    *out = iam;
    return ERR_OK;
}

void iam_close(struct iam *iam)
{
    free(iam);
}
