/* simulate.c - IAM's policy simulator: SimulatePrincipalPolicy and
 * SimulateCustomPolicy, and GetContextKeysForPrincipalPolicy /
 * GetContextKeysForCustomPolicy, which list the condition keys a simulation
 * of those policies would want values for.
 *
 * Each action of ActionNames is weighed against each resource of
 * ResourceArns ("*" when none) by the same evaluator that authorizes every
 * request (iam_decide: identity policies, the permissions boundary, the
 * resource policy), with the context keys of ContextEntries as the only
 * context: the simulator, like IAM's, does not make up aws:username or the
 * time. An answer per pair: EvalDecision (allowed, explicitDeny,
 * implicitDeny), the statements that decided it (MatchedStatements: the
 * policy's id and type, and where the statement sits in its document, lines
 * and columns from 1), the condition keys those policies wanted and were not
 * given (MissingContextValues), and, with a boundary, whether it allowed the
 * action (PermissionsBoundaryDecisionDetail). Paged by MaxItems and Marker
 * as IAM's lists are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "iam_int.h"
#include "mem.h"

enum { SIM_MAX_POLICIES = 256, SIM_MAX_KEYS = 64 };

struct sim_policy {
    const char *id, *type; /* SourcePolicyId, SourcePolicyType */
    const char *text;      /* the document, for statement positions */
    struct iam_policy *p;
};

struct sim {
    struct iam_call *c;
    struct sim_policy ident[SIM_MAX_POLICIES], bound[SIM_MAX_POLICIES];
    size_t nident, nbound;
    struct sim_policy resource;
    bool has_boundary;
};

/* add - parse @text into @list (owned by the sim); false after answering
 * (a document IAM would not take is InvalidInput naming it). */
static bool add(struct sim *s, struct sim_policy *list, size_t *n, const char *id, const char *type,
                const char *text, enum iam_policy_kind kind)
{
    struct err e = {0};
    struct iam_policy *p = NULL;

    if (*n >= SIM_MAX_POLICIES) { /* more than a principal can have: refused, not cut */
        iam_fail(s->c, 400, "InvalidInput", "%s: at most %d policies can be simulated at once.", id,
                 SIM_MAX_POLICIES);
        return false;
    }
    if (iam_policy_parse(text, strlen(text), kind, &p, &e) != ERR_OK) {
        iam_fail(s->c, 400, "InvalidInput", "%s: %s", id, e.msg);
        return false;
    }
    list[(*n)++] = (struct sim_policy){id, type, text, p};
    return true;
}

static void sim_free(struct sim *s)
{
    for (size_t i = 0; i < s->nident; i++)
        iam_policy_free(s->ident[i].p);
    for (size_t i = 0; i < s->nbound; i++)
        iam_policy_free(s->bound[i].p);
    iam_policy_free(s->resource.p);
}

/* arena_doc - @d (owned, freed) copied to the call's arena. */
static const char *arena_doc(struct iam_call *c, char *d)
{
    const char *out = arena_strdup(c->r->arena, d);

    free(d);
    return out;
}

/* add_entity - the inline (@type) and attached managed policies of user,
 * group or role document @doc. */
static bool add_entity(struct sim *s, const cJSON *doc, const char *type)
{
    const cJSON *x;

    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(doc, "Policies"))
    {
        if (cJSON_IsString(x) &&
            !add(s, s->ident, &s->nident, arena_strdup(s->c->r->arena, x->string), type,
                 arena_strdup(s->c->r->arena, x->valuestring), IAM_POLICY_IDENTITY))
            return false;
    }
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(doc, "Attached"))
    {
        char *d = cJSON_IsString(x) ? iam_policy_doc_of(s->c->iam, x->valuestring) : NULL;
        const char *name;
        if (!d)
            continue;
        name = strrchr(x->valuestring, '/');
        if (!add(s, s->ident, &s->nident, arena_strdup(s->c->r->arena, name ? name + 1 : ""),
                 strncmp(x->valuestring, "arn:aws:iam::aws:", 17) == 0 ? "aws-managed"
                                                                       : "user-managed",
                 arena_doc(s->c, d), IAM_POLICY_IDENTITY))
            return false;
    }
    return true;
}

/* add_inputs - the documents of @param.member.N as ids "@param.N". */
static bool add_inputs(struct sim *s, const char *param, struct sim_policy *list, size_t *n)
{
    char name[96];
    const char *d;

    for (int i = 1; i <= SIM_MAX_POLICIES + 1; i++) { /* one past: add() refuses it */
        snprintf(name, sizeof(name), "%s.member.%d", param, i);
        if (!(d = iam_param(s->c, name)))
            break;
        if (!add(s, list, n, arena_sprintf(s->c->r->arena, "%s.%d", param, i), "none", d,
                 IAM_POLICY_IDENTITY))
            return false;
    }
    return true;
}

/* source - SimulatePrincipalPolicy's PolicySourceArn: a user (with its
 * groups), a group or a role of this account, and its boundary; false after
 * answering. @caller: the user's ARN (the default CallerArn). */
static bool source(struct sim *s, const char *arn, const char **caller)
{
    static const char *const kinds[] = {"user", "group", "role"};
    char prefix[64];
    const char *name = strrchr(arn, '/');
    cJSON *doc = NULL;
    const cJSON *g;
    const char *kind = NULL, *b;
    bool ok = true;

    snprintf(prefix, sizeof(prefix), "arn:aws:iam::%s:", s->c->iam->account);
    for (size_t i = 0; i < 3 && strncmp(arn, prefix, strlen(prefix)) == 0; i++)
        if (strncmp(arn + strlen(prefix), kinds[i], strlen(kinds[i])) == 0 &&
            arn[strlen(prefix) + strlen(kinds[i])] == '/')
            kind = kinds[i];
    if (!kind || !name || !name[1]) {
        iam_fail(s->c, 400, "InvalidInput", "Invalid ARN: %.300s", arn);
        return false;
    }
    if (iam_doc_get(s->c->iam, kind, name + 1, &doc, NULL) != ERR_OK ||
        strcmp(iam_jstr(doc, "Arn"), arn) != 0) {
        iam_fail(s->c, 404, "NoSuchEntity", "The %s with name %.128s cannot be found.", kind,
                 name + 1);
        cJSON_Delete(doc);
        return false;
    }
    if (strcmp(kind, "user") == 0)
        *caller = arn;
    ok = add_entity(s, doc, kind);
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(doc, "Groups"))
    {
        cJSON *gd = NULL;
        if (ok && cJSON_IsString(g) &&
            iam_doc_get(s->c->iam, "group", g->valuestring, &gd, NULL) == ERR_OK)
            ok = add_entity(s, gd, "group");
        cJSON_Delete(gd);
    }
    if (ok && *(b = iam_jstr(doc, "PermissionsBoundary"))) {
        char *d = iam_policy_doc_of(s->c->iam, b);
        s->has_boundary = true;
        if (d) {
            const char *bn = strrchr(b, '/');
            ok = add(s, s->bound, &s->nbound, arena_strdup(s->c->r->arena, bn ? bn + 1 : b),
                     "permissions-boundary", arena_doc(s->c, d), IAM_POLICY_IDENTITY);
        }
    }
    cJSON_Delete(doc);
    return ok;
}

/* context - ContextEntries.member.N (ContextKeyName, ContextKeyValues,
 * ContextKeyType) as condition keys, one per value; @n set. */
static struct authz_kv *context(struct iam_call *c, size_t *n)
{
    size_t cap = 16;
    struct authz_kv *kv = arena_alloc(c->r->arena, cap * sizeof(*kv));
    char name[96];

    *n = 0;
    for (int i = 1; i <= SIM_MAX_KEYS; i++) {
        const char *k, *v;
        snprintf(name, sizeof(name), "ContextEntries.member.%d.ContextKeyName", i);
        if (!(k = iam_param(c, name)))
            break;
        for (int j = 1; j <= SIM_MAX_KEYS; j++) {
            snprintf(name, sizeof(name), "ContextEntries.member.%d.ContextKeyValues.member.%d", i,
                     j);
            if (!(v = iam_param(c, name)))
                break;
            if (*n == cap) {
                struct authz_kv *more = arena_alloc(c->r->arena, 2 * cap * sizeof(*kv));
                memcpy(more, kv, cap * sizeof(*kv));
                kv = more;
                cap *= 2;
            }
            kv[(*n)++] = (struct authz_kv){k, v};
        }
    }
    return kv;
}

/* position - line and column (from 1) of byte @off of @text. */
static void position(struct buf *b, const char *tag, const char *text, size_t off)
{
    int line = 1, col = 1;

    for (size_t i = 0; i < off && text[i]; i++, col++)
        if (text[i] == '\n') {
            line++;
            col = 0;
        }
    buf_printf(b, "<%s><Line>%d</Line><Column>%d</Column></%s>", tag, line, col, tag);
}

/* statement_span - the bytes of statement @idx of policy document @text:
 * the idx-th object of its top-level "Statement" array (or that one object). */
static bool statement_span(const char *text, int idx, size_t *start, size_t *end)
{
    enum { NONE, ONE, ARRAY } in = NONE;
    int depth = 0, found = -1;
    bool in_str = false, want = false;
    const char *key = NULL;

    for (size_t i = 0; text[i]; i++) {
        char ch = text[i];
        if (in_str) {
            if (ch == '\\' && text[i + 1])
                i++;
            else if (ch == '"')
                in_str = false;
        } else if (ch == '"') {
            in_str = true;
            if (depth == 1)
                key = text + i + 1;
        } else if (ch == ':' && depth == 1 && key) {
            want = strncmp(key, "Statement\"", 10) == 0;
        } else if (ch == ',' && depth == 1) {
            want = false;
            key = NULL;
        } else if (ch == '{' || ch == '[') {
            if (depth == 1 && want) {
                in = ch == '[' ? ARRAY : ONE;
                if (in == ONE && idx == 0)
                    *start = i;
            } else if (in == ARRAY && depth == 2 && ch == '{' && ++found == idx) {
                *start = i;
            }
            depth++;
        } else if (ch == '}' || ch == ']') {
            depth--;
            if (in == ONE && depth == 1) {
                *end = i;
                return idx == 0;
            }
            if (in == ARRAY && depth == 2 && ch == '}' && found == idx) {
                *end = i;
                return true;
            }
            if (in == ARRAY && depth == 1)
                return false;
        }
    }
    return false;
}

struct explained {
    struct sim_policy *pol;
    struct buf *matched; /* <member>s of the statements that decided */
    bool want_deny;
    const char **missing;
    size_t nmissing;
    struct iam_call *c;
};

static void on_matched(void *ud, int idx, bool deny)
{
    struct explained *x = ud;
    size_t start = 0, end = 0;

    if (deny != x->want_deny)
        return;
    buf_puts(x->matched, "<member>");
    xmlw_elem(x->matched, "SourcePolicyId", x->pol->id, 0);
    xmlw_elem(x->matched, "SourcePolicyType", x->pol->type, 0);
    if (statement_span(x->pol->text, idx, &start, &end)) {
        position(x->matched, "StartPosition", x->pol->text, start);
        position(x->matched, "EndPosition", x->pol->text, end + 1);
    }
    buf_puts(x->matched, "</member>");
}

static void on_missing(void *ud, const char *key)
{
    struct explained *x = ud;

    for (size_t i = 0; i < x->nmissing; i++)
        if (strcasecmp(x->missing[i], key) == 0)
            return;
    if (x->nmissing < SIM_MAX_KEYS)
        x->missing[x->nmissing++] = arena_strdup(x->c->r->arena, key);
}

static void explain(struct explained *x, struct sim_policy *list, size_t n,
                    const struct iam_request *q)
{
    struct iam_explain e = {on_matched, on_missing, x};

    for (size_t i = 0; i < n; i++) {
        x->pol = &list[i];
        iam_policy_explain(list[i].p, q, &e);
    }
}

/* result - one EvaluationResults member for @q. */
static void result(struct sim *s, struct buf *b, struct iam_request *q)
{
    const struct iam_policy *ps[SIM_MAX_POLICIES], *bs[SIM_MAX_POLICIES];
    struct iam_policy_set set = {0};
    enum iam_denier by;
    enum iam_decision d, bd = IAM_ALLOW;
    struct buf matched;
    const char *missing[SIM_MAX_KEYS];
    struct explained x = {.matched = &matched, .missing = missing, .c = s->c};

    for (size_t i = 0; i < s->nident; i++)
        ps[i] = s->ident[i].p;
    for (size_t i = 0; i < s->nbound; i++)
        bs[i] = s->bound[i].p;
    set.identity = ps;
    set.nidentity = s->nident;
    set.resource = s->resource.p;
    d = iam_decide(&set, q, &by);
    if (s->has_boundary) { /* every boundary must allow it */
        bd = s->nbound ? IAM_ALLOW : IAM_IMPLICIT_DENY;
        for (size_t i = 0; i < s->nbound; i++) {
            enum iam_decision one = iam_policy_eval(bs[i], q, NULL);
            if (one != IAM_ALLOW && bd != IAM_EXPLICIT_DENY)
                bd = one;
        }
        if (bd == IAM_EXPLICIT_DENY)
            d = IAM_EXPLICIT_DENY;
        else if (bd != IAM_ALLOW && d == IAM_ALLOW)
            d = IAM_IMPLICIT_DENY;
    }
    buf_init(&matched, 0);
    x.want_deny = d == IAM_EXPLICIT_DENY;
    explain(&x, s->ident, s->nident, q);
    if (s->resource.p)
        explain(&x, &s->resource, 1, q);
    if (x.want_deny) /* a boundary's Deny decides too */
        explain(&x, s->bound, s->nbound, q);
    buf_puts(b, "<member>");
    xmlw_elem(b, "EvalActionName", q->action, 0);
    xmlw_elem(b, "EvalResourceName", q->resource, 0);
    xmlw_elem(b, "EvalDecision",
              d == IAM_ALLOW           ? "allowed"
              : d == IAM_EXPLICIT_DENY ? "explicitDeny"
                                       : "implicitDeny",
              0);
    buf_puts(b, "<MatchedStatements>");
    if (d != IAM_IMPLICIT_DENY && matched.ptr)
        buf_puts(b, matched.ptr);
    buf_puts(b, "</MatchedStatements><MissingContextValues>");
    for (size_t i = 0; i < x.nmissing; i++)
        xmlw_elem(b, "member", missing[i], 0);
    buf_puts(b, "</MissingContextValues>");
    if (s->has_boundary)
        buf_printf(b,
                   "<PermissionsBoundaryDecisionDetail><AllowedByPermissionsBoundary>%s"
                   "</AllowedByPermissionsBoundary></PermissionsBoundaryDecisionDetail>",
                   bd == IAM_ALLOW ? "true" : "false");
    buf_puts(b, "</member>");
    buf_free(&matched);
}

/* list_param - the values of @param.member.N, at most @max; *@n set. */
static const char **list_param(struct iam_call *c, const char *param, size_t max, size_t *n)
{
    const char **v = arena_alloc(c->r->arena, (max + 1) * sizeof(*v));
    char name[96];

    *n = 0;
    for (size_t i = 1; i <= max; i++) {
        snprintf(name, sizeof(name), "%s.member.%zu", param, i);
        if (!(v[*n] = iam_param(c, name)))
            break;
        (*n)++;
    }
    return v;
}

void iam_op_simulate(struct iam_call *c, bool principal)
{
    struct sim *s = xcalloc(1, sizeof(*s));
    const char *src = iam_param(c, "PolicySourceArn"), *caller = iam_param(c, "CallerArn");
    const char *rp = iam_param(c, "ResourcePolicy"), *deflt = NULL;
    const char **actions, **resources;
    size_t na, nr, nctx;
    struct authz_kv *ctx;
    struct buf b;

    s->c = c;
    actions = list_param(c, "ActionNames", 1000, &na);
    resources = list_param(c, "ResourceArns", 1000, &nr);
    if (principal ? !src : !iam_param(c, "PolicyInputList.member.1")) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at '%s' failed to satisfy constraint: "
                 "Member must not be null",
                 principal ? "policySourceArn" : "policyInputList");
        goto out;
    }
    if (na == 0) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at 'actionNames' failed to satisfy "
                 "constraint: Member must not be null");
        goto out;
    }
    if (principal ? !iam_allowed(c, "iam:SimulatePrincipalPolicy", src)
                  : !iam_allowed(c, "iam:SimulateCustomPolicy", "*"))
        goto out;
    if (principal && !source(s, src, &deflt))
        goto out;
    if (!add_inputs(s, "PolicyInputList", s->ident, &s->nident))
        goto out;
    if (!s->has_boundary && iam_param(c, "PermissionsBoundaryPolicyInputList.member.1")) {
        s->has_boundary = true;
        if (!add_inputs(s, "PermissionsBoundaryPolicyInputList", s->bound, &s->nbound))
            goto out;
    }
    if (rp) {
        struct err e = {0};
        if (iam_policy_parse(rp, strlen(rp), IAM_POLICY_RESOURCE, &s->resource.p, &e) != ERR_OK) {
            iam_fail(c, 400, "InvalidInput", "ResourcePolicy: %s", e.msg);
            goto out;
        }
        s->resource = (struct sim_policy){"ResourcePolicy", "resource", rp, s->resource.p};
    }
    if (!caller)
        caller =
            deflt ? deflt
                  : arena_sprintf(c->r->arena, "arn:aws:iam::%s:user/simulated", c->iam->account);
    if (nr == 0) {
        resources[0] = "*";
        nr = 1;
    }
    ctx = context(c, &nctx);
    buf_init(&b, 0);
    buf_puts(&b, "<EvaluationResults>");
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nr; j++) {
            struct iam_request q = {.action = actions[i],
                                    .resource = resources[j],
                                    .principal_arn = caller,
                                    .account = c->iam->account,
                                    .ctx = ctx,
                                    .nctx = nctx};
            result(s, &b, &q);
        }
    buf_puts(&b, "</EvaluationResults><IsTruncated>false</IsTruncated>");
    iam_reply_page(c, b.ptr);
    buf_free(&b);
out:
    sim_free(s);
    free(s);
}

struct key_list {
    struct iam_call *c;
    const char *keys[SIM_MAX_POLICIES];
    size_t n;
};

static void add_key(void *ud, const char *key)
{
    struct key_list *k = ud;

    for (size_t i = 0; i < k->n; i++)
        if (strcasecmp(k->keys[i], key) == 0)
            return;
    if (k->n < SIM_MAX_POLICIES)
        k->keys[k->n++] = arena_strdup(k->c->r->arena, key);
}

void iam_op_context_keys(struct iam_call *c, bool principal)
{
    struct sim *s = xcalloc(1, sizeof(*s));
    struct key_list *k = xcalloc(1, sizeof(*k));
    const char *src = iam_param(c, "PolicySourceArn"), *unused = NULL;
    struct buf b;

    s->c = k->c = c;
    if (principal ? !src : !iam_param(c, "PolicyInputList.member.1")) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at '%s' failed to satisfy constraint: "
                 "Member must not be null",
                 principal ? "policySourceArn" : "policyInputList");
        goto out;
    }
    if (principal ? !iam_allowed(c, "iam:GetContextKeysForPrincipalPolicy", src)
                  : !iam_allowed(c, "iam:GetContextKeysForCustomPolicy", "*"))
        goto out;
    if ((principal && !source(s, src, &unused)) ||
        !add_inputs(s, "PolicyInputList", s->ident, &s->nident))
        goto out;
    for (size_t i = 0; i < s->nident; i++)
        iam_policy_keys(s->ident[i].p, add_key, k);
    buf_init(&b, 0);
    buf_puts(&b, "<ContextKeyNames>");
    for (size_t i = 0; i < k->n; i++)
        xmlw_elem(&b, "member", k->keys[i], 0);
    buf_puts(&b, "</ContextKeyNames>");
    iam_reply(c, b.ptr);
    buf_free(&b);
out:
    sim_free(s);
    free(s);
    free(k);
}
