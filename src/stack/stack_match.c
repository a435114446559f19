/* stack_match.c - a program's inputs against an existing resource's, as Pulumi's import
 * compares them (see stack_match.h for the rules). */
#include "stack_match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define SHOW_MAX 80 /* characters of a value shown in a difference */

/* A number, boolean or string as text; NULL for anything else. */
static const char *scalar_text(const cJSON *c, char *buf, size_t len)
{
    if (cJSON_IsString(c))
        return c->valuestring;
    if (cJSON_IsBool(c))
        return cJSON_IsTrue(c) ? "true" : "false";
    if (cJSON_IsNumber(c)) {
        if (c->valuedouble == (double)(long long)c->valuedouble)
            snprintf(buf, len, "%lld", (long long)c->valuedouble);
        else
            snprintf(buf, len, "%.17g", c->valuedouble);
        return buf;
    }
    return NULL;
}

/* A string holding a JSON object or list, parsed (owned), else NULL. */
static cJSON *doc_text(const cJSON *c)
{
    const char *s;
    if (!cJSON_IsString(c))
        return NULL;
    s = c->valuestring + strspn(c->valuestring, " \t\r\n");
    if (*s != '{' && *s != '[')
        return NULL;
    return cJSON_Parse(s);
}

static bool doc_eq(const cJSON *a, const cJSON *b);

/* Lists as multisets: each element of @a matches its own element of @b. */
static bool set_eq(const cJSON *a, const cJSON *b, bool (*eq)(const cJSON *, const cJSON *))
{
    int n = cJSON_GetArraySize(a);
    bool *used, ok = true;
    const cJSON *x;
    if (n != cJSON_GetArraySize(b))
        return false;
    used = xcalloc((size_t)n + 1, sizeof(*used));
    cJSON_ArrayForEach(x, a)
    {
        const cJSON *y;
        int k = 0;
        bool found = false;
        cJSON_ArrayForEach(y, b)
        {
            if (!used[k] && eq(x, y)) {
                used[k] = found = true;
                break;
            }
            k++;
        }
        if (!found) {
            ok = false;
            break;
        }
    }
    free(used);
    return ok;
}

static bool doc_eq(const cJSON *a, const cJSON *b)
{
    char ba[64], bb[64];
    const char *sa, *sb;
    if (cJSON_IsArray(a) && !cJSON_IsArray(b) && cJSON_GetArraySize(a) == 1)
        return doc_eq(a->child, b);
    if (cJSON_IsArray(b) && !cJSON_IsArray(a) && cJSON_GetArraySize(b) == 1)
        return doc_eq(a, b->child);
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        const cJSON *x;
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
            return false;
        cJSON_ArrayForEach(x, a)
        {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            if (!y || !doc_eq(x, y))
                return false;
        }
        return true;
    }
    if (cJSON_IsArray(a) && cJSON_IsArray(b))
        return set_eq(a, b, doc_eq);
    if (cJSON_IsNull(a) || cJSON_IsNull(b))
        return cJSON_IsNull(a) && cJSON_IsNull(b);
    sa = scalar_text(a, ba, sizeof(ba));
    sb = scalar_text(b, bb, sizeof(bb));
    return sa && sb && !strcmp(sa, sb);
}

bool stack_match_doc(const cJSON *a, const cJSON *b)
{
    cJSON *pa = doc_text(a), *pb = doc_text(b);
    bool eq = doc_eq(pa ? pa : a, pb ? pb : b);
    cJSON_Delete(pa);
    cJSON_Delete(pb);
    return eq;
}

/* @c as shown in a difference: JSON, long values shortened; "(none)" when missing. */
static char *show(const cJSON *c)
{
    char *s, *t;
    if (!c)
        return xstrdup("(none)");
    s = cJSON_PrintUnformatted(c);
    if (!s)
        return xstrdup("?");
    if (strlen(s) <= SHOW_MAX)
        return s;
    t = xmalloc(SHOW_MAX + 4);
    memcpy(t, s, SHOW_MAX);
    memcpy(t + SHOW_MAX, "...", 4);
    free(s);
    return t;
}

static int differs(const char *path, const cJSON *p, const cJSON *r, cJSON *diffs)
{
    char *sp, *sr, *line;
    size_t len;
    if (!diffs)
        return 1;
    sp = show(p);
    sr = show(r);
    len = strlen(path) + strlen(sp) + strlen(sr) + 32;
    line = xmalloc(len);
    snprintf(line, len, "%s: program %s, existing %s", path, sp, sr);
    cJSON_AddItemToArray(diffs, cJSON_CreateString(line));
    free(line);
    free(sp);
    free(sr);
    return 1;
}

static int cmp(const char *path, const cJSON *p, const cJSON *r, cJSON *diffs);

static char *join(const char *path, const char *key, bool index)
{
    size_t len = strlen(path) + strlen(key) + 4;
    char *s = xmalloc(len);
    if (index)
        snprintf(s, len, "%s[%s]", path, key);
    else
        snprintf(s, len, "%s%s%s", path, *path ? "." : "", key);
    return s;
}

/* Where two documents differ (doc_eq's rules), each difference at its path in the document:
 * "policy.Statement[0].Principal.Service". */
static int doc_cmp(const char *path, const cJSON *a, const cJSON *b, cJSON *diffs)
{
    const cJSON *x;
    int n = 0;
    if (doc_eq(a, b))
        return 0;
    if (cJSON_IsArray(a) && !cJSON_IsArray(b) && cJSON_GetArraySize(a) == 1)
        return doc_cmp(path, a->child, b, diffs);
    if (cJSON_IsArray(b) && !cJSON_IsArray(a) && cJSON_GetArraySize(b) == 1)
        return doc_cmp(path, a, b->child, diffs);
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        cJSON_ArrayForEach(x, a)
        {
            char *sub = join(path, x->string, false);
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            n += y ? doc_cmp(sub, x, y, diffs) : differs(sub, x, NULL, diffs);
            free(sub);
        }
        cJSON_ArrayForEach(x, b)
        {
            char *sub;
            if (cJSON_GetObjectItemCaseSensitive(a, x->string))
                continue;
            sub = join(path, x->string, false);
            n += differs(sub, NULL, x, diffs);
            free(sub);
        }
    } else if (cJSON_IsArray(a) && cJSON_IsArray(b) && cJSON_GetArraySize(a) == 1 &&
               cJSON_GetArraySize(b) == 1) {
        char *sub = join(path, "0", true);
        n = doc_cmp(sub, a->child, b->child, diffs);
        free(sub);
    }
    return n ? n : differs(path, a, b, diffs);
}

/* A map compared key for key (tags): a key on one side only is a difference. */
static int cmp_map(const char *path, const cJSON *p, const cJSON *r, cJSON *diffs)
{
    const cJSON *x;
    int n = 0;
    if (!cJSON_IsObject(p) || !cJSON_IsObject(r))
        return cmp(path, p, r, diffs);
    cJSON_ArrayForEach(x, p)
    {
        char *sub = join(path, x->string, false);
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(r, x->string);
        n += y ? cmp(sub, x, y, diffs) : differs(sub, x, NULL, diffs);
        free(sub);
    }
    cJSON_ArrayForEach(x, r)
    {
        if (cJSON_GetObjectItemCaseSensitive(p, x->string))
            continue;
        char *sub = join(path, x->string, false);
        n += differs(sub, NULL, x, diffs);
        free(sub);
    }
    return n;
}

/* What names a list element: its `name` (indexes, attributes, inline policies), else its
 * `id` (lifecycle and CORS rules). */
static const char *name_of(const cJSON *c)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "name");
    if (!n)
        n = cJSON_GetObjectItemCaseSensitive(c, "id");
    return cJSON_IsString(n) ? n->valuestring : NULL;
}

static bool all_named(const cJSON *list)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, list)
    {
        if (!name_of(x))
            return false;
    }
    return cJSON_GetArraySize(list) > 0;
}

static bool same_input(const cJSON *p, const cJSON *r)
{
    return cmp("", p, r, NULL) == 0;
}

static int cmp_list(const char *path, const cJSON *p, const cJSON *r, cJSON *diffs)
{
    const cJSON *x;
    int n = 0;
    if (!all_named(p) || !all_named(r)) {
        if (set_eq(p, r, same_input))
            return 0;
        if (cJSON_GetArraySize(p) == 1 && cJSON_GetArraySize(r) == 1) { /* one rule each */
            char *sub = join(path, "0", true);
            n = cmp(sub, p->child, r->child, diffs);
            free(sub);
            if (n)
                return n;
        }
        return differs(path, p, r, diffs);
    }
    cJSON_ArrayForEach(x, p)
    {
        const cJSON *y = NULL, *c;
        char *sub = join(path, name_of(x), true);
        cJSON_ArrayForEach(c, r)
        {
            if (!strcmp(name_of(c), name_of(x)))
                y = c;
        }
        n += y ? cmp(sub, x, y, diffs) : differs(sub, x, NULL, diffs);
        free(sub);
    }
    cJSON_ArrayForEach(x, r)
    {
        const cJSON *c;
        bool given = false;
        cJSON_ArrayForEach(c, p)
        {
            given = given || !strcmp(name_of(c), name_of(x));
        }
        if (!given) {
            char *sub = join(path, name_of(x), true);
            n += differs(sub, NULL, x, diffs);
            free(sub);
        }
    }
    return n;
}

static int cmp(const char *path, const cJSON *p, const cJSON *r, cJSON *diffs)
{
    char bp[64], br[64];
    const char *sp, *sr;
    if (!p || cJSON_IsNull(p) || !r)
        return 0; /* not given, or not read back */
    if (cJSON_IsString(p) || cJSON_IsString(r)) {
        cJSON *dp = doc_text(p), *dr = doc_text(r);
        bool docs = (dp || cJSON_IsObject(p) || cJSON_IsArray(p)) &&
                    (dr || cJSON_IsObject(r) || cJSON_IsArray(r));
        int n = docs ? doc_cmp(path, dp ? dp : p, dr ? dr : r, diffs) : 0;
        cJSON_Delete(dp);
        cJSON_Delete(dr);
        if (docs)
            return n;
    }
    if (cJSON_IsObject(p) && cJSON_IsObject(r)) {
        const cJSON *x;
        int n = 0;
        cJSON_ArrayForEach(x, p)
        {
            char *sub = join(path, x->string, false);
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(r, x->string);
            if (!strcmp(x->string, "tags") || !strcmp(x->string, "variables"))
                n += y ? cmp_map(sub, x, y, diffs) : 0;
            else
                n += cmp(sub, x, y, diffs);
            free(sub);
        }
        return n;
    }
    if (cJSON_IsArray(p) && cJSON_IsArray(r))
        return cmp_list(path, p, r, diffs);
    sp = scalar_text(p, bp, sizeof(bp));
    sr = scalar_text(r, br, sizeof(br));
    if (sp && sr && !strcmp(sp, sr))
        return 0;
    return differs(path, p, r, diffs);
}

int stack_match_inputs(const cJSON *given, const cJSON *read, cJSON *diffs)
{
    return cmp("", given, read, diffs);
}

bool stack_match_value(const char *prop, const cJSON *given, const cJSON *read)
{
    cJSON *g = cJSON_CreateObject(), *r = cJSON_CreateObject();
    bool eq;
    /* under its name, so that `tags` is compared as a map (references: nothing copied) */
    cJSON_AddItemReferenceToObject(g, prop, (cJSON *)given);
    cJSON_AddItemReferenceToObject(r, prop, (cJSON *)read);
    eq = cmp("", g, r, NULL) == 0;
    cJSON_Delete(g);
    cJSON_Delete(r);
    return eq;
}
