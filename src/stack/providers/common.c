/* common.c - what every provider needs: signed calls, small XML helpers, the IAM query call. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "json.h"
#include "mem.h"
#include "stack_provider.h"
#include "url.h"

atomic_long stack_provider_writes;

static bool is_write_target(const char *target)
{
    const char *op = strchr(target, '.');
    op = op ? op + 1 : target;
    return strncmp(op, "Describe", 8) && strncmp(op, "List", 4) && strncmp(op, "Get", 3);
}

void stack_prov_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

long long stack_prov_deadline(const struct stack_target *t, long def_ms)
{
    if (t->timeout_ms > 0)
        return (t->started_ms ? t->started_ms : clock_mono_us() / 1000) + t->timeout_ms;
    return clock_mono_us() / 1000 + def_ms;
}

bool stack_prov_waited(const struct stack_target *t, long long deadline, long ms, char *what,
                       size_t what_len)
{
    long long left = deadline - clock_mono_us() / 1000;
    if (left <= 0) {
        if (t->timeout_ms > 0)
            snprintf(what, what_len, "within %.3g s (customTimeouts)", t->timeout_ms / 1000.0);
        else
            snprintf(what, what_len, "within a minute");
        return true;
    }
    stack_prov_sleep_ms(left < ms ? (long)left : ms);
    return false;
}

const char *stack_prov_str(const cJSON *in, const char *key, const char *def)
{
    const char *s = json_str(in, key);
    return s ? s : def;
}

char *stack_prov_xml_text(const char *xml, const char *tag)
{
    char open[96], close[96];
    const char *s, *end;
    struct buf b;

    if (!xml)
        return NULL;
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    s = strstr(xml, open);
    if (!s)
        return NULL;
    s += strlen(open);
    end = strstr(s, close);
    if (!end)
        return NULL;
    buf_init(&b, 0);
    while (s < end) {
        static const struct {
            const char *ent;
            char c;
        } ents[] = {
            {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        bool hit = false;
        if (*s == '&')
            for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
                if (!strncmp(s, ents[i].ent, strlen(ents[i].ent))) {
                    buf_putc(&b, ents[i].c);
                    s += strlen(ents[i].ent);
                    hit = true;
                    break;
                }
        if (!hit)
            buf_putc(&b, *s++);
    }
    return b.ptr ? buf_detach(&b, NULL) : xstrdup("");
}

char *stack_prov_xml_escape(const char *s)
{
    struct buf b;
    buf_init(&b, 0);
    for (; *s; s++) {
        switch (*s) {
        case '&':
            buf_puts(&b, "&amp;");
            break;
        case '<':
            buf_puts(&b, "&lt;");
            break;
        case '>':
            buf_puts(&b, "&gt;");
            break;
        case '"':
            buf_puts(&b, "&quot;");
            break;
        default:
            buf_putc(&b, *s);
        }
    }
    return b.ptr ? buf_detach(&b, NULL) : xstrdup("");
}

char *stack_prov_pct(const char *s)
{
    struct buf b;
    buf_init(&b, 0);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
            buf_putc(&b, (char)c);
        else
            buf_printf(&b, "%%%02X", c);
    }
    return b.ptr ? buf_detach(&b, NULL) : xstrdup("");
}

/* The error code and message of a failed response, JSON or XML. */
static enum err_code resp_error(const struct stack_target *t, long status, const char *body,
                                char *code, size_t code_len, struct err *e)
{
    char c[128] = "", m[200] = "";
    cJSON *j = body ? cJSON_Parse(body) : NULL;
    enum err_code rc;

    if (j) {
        const char *ty = stack_prov_str(j, "__type", NULL);
        const char *msg = stack_prov_str(j, "message", stack_prov_str(j, "Message", ""));
        if (!ty)
            ty = stack_prov_str(j, "Type", stack_prov_str(j, "code", NULL));
        if (!ty)
            ty = stack_prov_str(j, "Code", "");
        if (strchr(ty, '#'))
            ty = strchr(ty, '#') + 1;
        snprintf(c, sizeof(c), "%s", ty);
        snprintf(m, sizeof(m), "%s", msg);
        cJSON_Delete(j);
    } else {
        char *xc = stack_prov_xml_text(body, "Code"), *xm = stack_prov_xml_text(body, "Message");
        snprintf(c, sizeof(c), "%s", xc ? xc : "");
        snprintf(m, sizeof(m), "%s", xm ? xm : "");
        free(xc);
        free(xm);
    }
    if (!*c)
        snprintf(c, sizeof(c), "HTTP%ld", status);
    if (code)
        snprintf(code, code_len, "%s", c);
    rc = status == 404 || strstr(c, "NotFound") || strstr(c, "NoSuch") ? ERR_NOTFOUND
         : status == 403                                               ? ERR_DENIED
         : status == 409 || strstr(c, "InUse") || strstr(c, "Exists")  ? ERR_CONFLICT
         : status >= 500                                               ? ERR_IO
                                                                       : ERR_INVALID;
    return err_set(e, rc, "%s: %s%s%s", t->region, c, *m ? ": " : "", m);
}

static enum err_code unreachable(const struct stack_target *t, struct err *e)
{
    char msg[sizeof(e->msg)];
    snprintf(msg, sizeof(msg), "%s", e ? e->msg : "");
    return err_set(e, ERR_IO, "region %s unreachable at %s (%s)", t->region, t->endpoint, msg);
}

enum err_code stack_prov_json(const struct stack_target *t, const char *service, const char *target,
                              const cJSON *req, cJSON **out, char *code, size_t code_len,
                              struct err *e)
{
    struct awsc_resp resp;
    char *body = cJSON_PrintUnformatted(req);
    enum err_code rc;

    if (out)
        *out = NULL;
    if (code && code_len)
        code[0] = 0;
    if (is_write_target(target))
        atomic_fetch_add(&stack_provider_writes, 1);
    rc = awsc_json(t->creds, t->endpoint, t->region, service, target, body, &resp, e);
    free(body);
    if (rc) {
        awsc_resp_free(&resp);
        return unreachable(t, e);
    }
    if (resp.status < 200 || resp.status > 299) {
        rc = resp_error(t, resp.status, resp.body.ptr, code, code_len, e);
    } else if (out && resp.body.ptr) {
        *out = cJSON_Parse(resp.body.ptr);
    }
    awsc_resp_free(&resp);
    return rc;
}

enum err_code stack_prov_rest(const struct stack_target *t, const char *service, const char *method,
                              const char *path, const char *query, const char *body,
                              const char *ctype, long *status, char **resp_out, char *code,
                              size_t code_len, struct err *e)
{
    struct awsc_header h[1] = {{"content-type", ctype}};
    struct awsc_req r = {.method = method,
                         .endpoint = t->endpoint,
                         .path = path,
                         .query = query,
                         .region = t->region,
                         .service = service,
                         .headers = h,
                         .nheaders = ctype ? 1 : 0,
                         .body = body,
                         .body_len = body ? strlen(body) : 0,
                         .timeout_ms = 60000};
    struct awsc_resp resp;
    enum err_code rc;

    if (resp_out)
        *resp_out = NULL;
    if (code && code_len)
        code[0] = 0;
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        atomic_fetch_add(&stack_provider_writes, 1);
    rc = awsc_call(t->creds, &r, &resp, e);
    if (rc) {
        awsc_resp_free(&resp);
        return unreachable(t, e);
    }
    if (status)
        *status = resp.status;
    if (resp.status < 200 || resp.status > 299)
        rc = resp_error(t, resp.status, resp.body.ptr, code, code_len, e);
    else if (resp_out)
        *resp_out = resp.body.ptr ? buf_detach(&resp.body, NULL) : xstrdup("");
    awsc_resp_free(&resp);
    return rc;
}

enum err_code stack_prov_query(const struct stack_target *t, const char *service,
                               const char *version, const char *action, const char *const *params,
                               char **resp, char *code, size_t code_len, struct err *e)
{
    struct buf b;
    enum err_code rc;

    buf_init(&b, 0);
    buf_printf(&b, "Action=%s&Version=%s", action, version);
    for (size_t i = 0; params && params[i]; i += 2) {
        char *k = stack_prov_pct(params[i]), *v = stack_prov_pct(params[i + 1]);
        buf_printf(&b, "&%s=%s", k, v);
        free(k);
        free(v);
    }
    if (!strncmp(action, "Get", 3) || !strncmp(action, "List", 4))
        atomic_fetch_sub(&stack_provider_writes, 1); /* stack_prov_rest counts every POST */
    rc = stack_prov_rest(t, service, "POST", "/", NULL, b.ptr,
                         "application/x-www-form-urlencoded; charset=utf-8", NULL, resp, code,
                         code_len, e);
    buf_free(&b);
    return rc;
}

enum err_code stack_prov_iam(const struct stack_target *t, const char *action,
                             const char *const *params, char **resp, char *code, size_t code_len,
                             struct err *e)
{
    if (code && code_len)
        *code = 0;
    return stack_prov_query(t, "iam", "2010-05-08", action, params, resp, code, code_len, e);
}

bool stack_prov_gone(const char *code)
{
    return !strcmp(code, "NoSuchEntity") || !strcmp(code, "NoSuchEntityException");
}

char *stack_prov_policy_text(const cJSON *in, const char *key)
{
    const cJSON *p = cJSON_GetObjectItem(in, key);
    if (cJSON_IsString(p))
        return xstrdup(p->valuestring);
    if (p)
        return cJSON_PrintUnformatted(p);
    return NULL;
}

cJSON *stack_prov_xml_all(const char *xml, const char *tag)
{
    cJSON *l = cJSON_CreateArray();
    char open[96];
    snprintf(open, sizeof(open), "<%s>", tag);
    for (const char *p = xml; p && (p = strstr(p, open)); p++) {
        char *v = stack_prov_xml_text(p, tag);
        if (v)
            cJSON_AddItemToArray(l, cJSON_CreateString(v));
        free(v);
    }
    return l;
}

bool stack_prov_has_str(const cJSON *list, const char *s)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, list)
    {
        if (cJSON_IsString(x) && !strcmp(x->valuestring, s))
            return true;
    }
    return false;
}

enum err_code stack_prov_iam_prune(const struct stack_target *t, const char *pkey,
                                   const char *principal, const char *list, const char *tag,
                                   const char *del, const char *dkey, const cJSON *keep,
                                   struct err *e)
{
    /* one page of IAM's largest size: the lists pruned here (a principal's
     * inline and attached policies, keys, groups) are far below it */
    const char *lp[] = {pkey, principal, "MaxItems", "1000", NULL};
    char *xml = NULL, code[96];
    cJSON *have;
    const cJSON *v;
    enum err_code rc = stack_prov_iam(t, list, lp, &xml, code, sizeof(code), e);

    if (rc) {
        free(xml);
        return stack_prov_gone(code) ? ERR_OK : rc;
    }
    have = stack_prov_xml_all(xml, tag);
    free(xml);
    cJSON_ArrayForEach(v, have)
    {
        const char *dp[] = {pkey, principal, dkey, v->valuestring, NULL};
        if (stack_prov_has_str(keep, v->valuestring))
            continue;
        rc = stack_prov_iam(t, del, dp, NULL, code, sizeof(code), e);
        if (rc && !stack_prov_gone(code))
            break;
        rc = ERR_OK;
    }
    cJSON_Delete(have);
    return rc;
}

enum err_code stack_prov_iam_tags(const struct stack_target *t, const char *kind, const char *name,
                                  const cJSON *was, const cJSON *now, struct err *e)
{
    char pkey[32], action[48];
    const cJSON *tg;
    enum err_code rc = ERR_OK;

    if (was == now || (was && now && cJSON_Compare(was, now, 1)))
        return ERR_OK;
    snprintf(pkey, sizeof(pkey), "%sName", kind);
    snprintf(action, sizeof(action), "Untag%s", kind);
    cJSON_ArrayForEach(tg, was)
    {
        const char *params[] = {pkey, name, "TagKeys.member.1", tg->string, NULL};
        if (!rc && !cJSON_GetObjectItemCaseSensitive(now, tg->string))
            rc = stack_prov_iam(t, action, params, NULL, NULL, 0, e);
    }
    snprintf(action, sizeof(action), "Tag%s", kind);
    cJSON_ArrayForEach(tg, now)
    {
        const cJSON *old = cJSON_GetObjectItemCaseSensitive(was, tg->string);
        const char *params[] = {pkey,
                                name,
                                "Tags.member.1.Key",
                                tg->string,
                                "Tags.member.1.Value",
                                cJSON_GetStringValue(tg),
                                NULL};
        if (!rc && cJSON_IsString(tg) && !(old && cJSON_Compare(old, tg, 1)))
            rc = stack_prov_iam(t, action, params, NULL, NULL, 0, e);
    }
    return rc;
}

enum err_code stack_prov_iam_boundary(const struct stack_target *t, const char *kind,
                                      const char *name, const char *was, const char *now,
                                      struct err *e)
{
    char pkey[32], action[64], code[96];
    enum err_code rc;

    if ((!was && !now) || (was && now && !strcmp(was, now)))
        return ERR_OK;
    snprintf(pkey, sizeof(pkey), "%sName", kind);
    snprintf(action, sizeof(action), "%s%sPermissionsBoundary", now ? "Put" : "Delete", kind);
    {
        const char *params[] = {pkey, name, now ? "PermissionsBoundary" : NULL, now, NULL};
        rc = stack_prov_iam(t, action, params, NULL, code, sizeof(code), e);
    }
    return rc && !now && stack_prov_gone(code) ? ERR_OK : rc;
}

bool stack_prov_same(const cJSON *a, const cJSON *b)
{
    return a == b || (a && b && cJSON_Compare(a, b, true));
}

const cJSON *stack_prov_named(const cJSON *list, const char *name)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, list)
    {
        if (!strcmp(stack_prov_str(x, "name", ""), name))
            return x;
    }
    return NULL;
}

char *stack_prov_xml_doc(const char *xml, const char *tag)
{
    char *s = stack_prov_xml_text(xml, tag), *w;
    if (!s)
        return NULL;
    w = s;
    for (const char *r = s; *r; r++) {
        int hi, lo;
        if (*r == '%' && (hi = url_hexval(r[1])) >= 0 && (lo = url_hexval(r[2])) >= 0) {
            *w++ = (char)(hi * 16 + lo);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return s;
}

cJSON *stack_prov_xml_tags(const char *xml, const char *section)
{
    cJSON *m = cJSON_CreateObject();
    char open[96], close[96];
    const char *s, *end;
    snprintf(open, sizeof(open), "<%s>", section);
    snprintf(close, sizeof(close), "</%s>", section);
    s = xml ? strstr(xml, open) : NULL;
    end = s ? strstr(s, close) : NULL;
    for (const char *p = s; p && end && (p = strstr(p, "<Key>")) && p < end; p++) {
        char *k = stack_prov_xml_text(p, "Key"), *v = stack_prov_xml_text(p, "Value");
        if (k && !cJSON_GetObjectItemCaseSensitive(m, k))
            cJSON_AddStringToObject(m, k, v ? v : "");
        free(k);
        free(v);
    }
    return m;
}

void stack_prov_iam_read_common(const char *xml, cJSON *o)
{
    char *path = stack_prov_xml_text(xml, "Path");
    char *pb = stack_prov_xml_text(xml, "PermissionsBoundaryArn");
    cJSON_AddStringToObject(o, "path", path ? path : "/");
    cJSON_AddStringToObject(o, "permissionsBoundary", pb ? pb : "");
    cJSON_AddItemToObject(o, "tags", stack_prov_xml_tags(xml, "Tags"));
    free(path);
    free(pb);
}

enum err_code stack_prov_iam_policies(const struct stack_target *t, const char *kind,
                                      const char *name, cJSON *o, struct err *e)
{
    char pkey[32], action[64], *xml = NULL;
    const char *lp[] = {pkey, name, "MaxItems", "1000", NULL};
    cJSON *names, *inl;
    const cJSON *n;
    enum err_code rc;

    snprintf(pkey, sizeof(pkey), "%sName", kind);
    snprintf(action, sizeof(action), "ListAttached%sPolicies", kind);
    if ((rc = stack_prov_iam(t, action, lp, &xml, NULL, 0, e))) {
        free(xml);
        return rc;
    }
    cJSON_AddItemToObject(o, "managedPolicyArns", stack_prov_xml_all(xml, "PolicyArn"));
    free(xml);
    xml = NULL;
    snprintf(action, sizeof(action), "List%sPolicies", kind);
    if ((rc = stack_prov_iam(t, action, lp, &xml, NULL, 0, e))) {
        free(xml);
        return rc;
    }
    names = stack_prov_xml_all(xml, "member");
    free(xml);
    inl = cJSON_AddArrayToObject(o, "inlinePolicies");
    snprintf(action, sizeof(action), "Get%sPolicy", kind);
    cJSON_ArrayForEach(n, names)
    {
        const char *gp[] = {pkey, name, "PolicyName", n->valuestring, NULL};
        cJSON *p;
        char *doc;
        xml = NULL;
        if ((rc = stack_prov_iam(t, action, gp, &xml, NULL, 0, e))) {
            free(xml);
            break;
        }
        doc = stack_prov_xml_doc(xml, "PolicyDocument");
        p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "name", n->valuestring);
        cJSON_AddStringToObject(p, "policy", doc ? doc : "");
        cJSON_AddItemToArray(inl, p);
        free(doc);
        free(xml);
    }
    cJSON_Delete(names);
    return rc;
}
