/* stack_expr.c - evaluate Pulumi YAML values: scalars, interpolation, fn:: built-ins. */
#include "stack_expr.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "buf.h"
#include "codec.h"
#include "mem.h"
#include "stack_archive.h"
#include "stack_invoke.h"
#include "stack_std.h"
#include "stack_provider.h"

bool stack_value_is_unknown(const cJSON *v)
{
    const cJSON *c;
    if (!v)
        return false;
    if (cJSON_IsString(v))
        return strstr(v->valuestring, STACK_UNKNOWN) != NULL;
    cJSON_ArrayForEach(c, v)
    {
        if (stack_value_is_unknown(c))
            return true;
    }
    return false;
}

/* ---- ${...} accessors ---- */

/* One parsed `${...}`: the root and the accessor text after it. */
struct access {
    char root[128];
    const char *rest; /* points after the root, up to end */
    const char *end;  /* the closing '}' */
};

static enum err_code parse_access(const struct stack_prog *p, const struct stack_node *at,
                                  const char *s, struct access *a, struct err *e)
{
    const char *q = s;
    size_t n;

    while (*q && *q != '}' && *q != '.' && *q != '[')
        q++;
    n = (size_t)(q - s);
    if (n == 0 || n >= sizeof(a->root))
        return stack_prog_errat(p, at, e, "empty or too long name in '${%.40s'", s);
    memcpy(a->root, s, n);
    a->root[n] = 0;
    a->rest = q;
    while (*q && *q != '}') {
        if (*q == '"') {
            q++;
            while (*q && *q != '"')
                q++;
            if (!*q)
                break;
        }
        q++;
    }
    if (*q != '}')
        return stack_prog_errat(p, at, e, "unterminated '${' in \"%.60s\"", at->str);
    a->end = q;
    return ERR_OK;
}

/* Walk the accessors of @a from value @v. Returns a borrowed value or NULL. */
static enum err_code walk_access(const struct stack_prog *p, const struct stack_node *at,
                                 const struct access *a, const cJSON *v, const cJSON **out,
                                 struct err *e)
{
    const char *q = a->rest;
    char key[128];

    while (q < a->end) {
        size_t n = 0;
        if (cJSON_IsString(v) && strcmp(v->valuestring, STACK_UNKNOWN) == 0) {
            *out = v; /* a property of something unknown is unknown */
            return ERR_OK;
        }
        if (*q == '.') {
            q++;
            while (q < a->end && *q != '.' && *q != '[' && n + 1 < sizeof(key))
                key[n++] = *q++;
            key[n] = 0;
        } else if (*q == '[' && q[1] == '"') {
            q += 2;
            while (q < a->end && *q != '"' && n + 1 < sizeof(key))
                key[n++] = *q++;
            key[n] = 0;
            if (*q == '"')
                q++;
            if (*q != ']')
                return stack_prog_errat(p, at, e, "expected ']' in \"%.60s\"", at->str);
            q++;
        } else if (*q == '[') {
            char *endp;
            long idx = strtol(q + 1, &endp, 10);
            if (endp == q + 1 || *endp != ']')
                return stack_prog_errat(p, at, e, "bad index in \"%.60s\"", at->str);
            q = endp + 1;
            if (!cJSON_IsArray(v) || idx < 0 || idx >= cJSON_GetArraySize(v))
                return stack_prog_errat(p, at, e, "index %ld out of range in \"%.60s\"", idx,
                                        at->str);
            v = cJSON_GetArrayItem(v, (int)idx);
            continue;
        } else {
            return stack_prog_errat(p, at, e, "unexpected '%c' in \"%.60s\"", *q, at->str);
        }
        if (!n)
            return stack_prog_errat(p, at, e, "empty property name in \"%.60s\"", at->str);
        if (!cJSON_IsObject(v))
            return stack_prog_errat(p, at, e, "'%s' has no property '%s'", a->root, key);
        v = cJSON_GetObjectItemCaseSensitive(v, key);
        if (!v)
            return stack_prog_errat(p, at, e, "'%s' has no property '%s'", a->root, key);
    }
    *out = v;
    return ERR_OK;
}

/* `${res.prop...}` reads an output the provider or additionalSecretOutputs marks secret */
static bool is_secret_ref(const struct stack_prog *p, const struct access *a)
{
    const struct stack_res *r = p->res ? stack_prog_find(p, a->root) : NULL;
    const struct stack_provider *prov = r ? stack_provider_find(r->type) : NULL;
    const char *q = a->rest;
    char key[128];
    size_t n = 0;

    if (!r)
        return false;
    if (*q == '.')
        q++;
    else if (q[0] == '[' && q[1] == '"')
        q += 2;
    else
        return false;
    while (q < a->end && *q != '.' && *q != '[' && *q != '"' && n + 1 < sizeof(key))
        key[n++] = *q++;
    key[n] = 0;
    for (size_t i = 0; prov && prov->secret_outputs && prov->secret_outputs[i]; i++)
        if (!strcmp(prov->secret_outputs[i], key))
            return true;
    for (size_t i = 0; r->secret_outputs && i < r->secret_outputs->n; i++)
        if (r->secret_outputs->items[i]->kind == STACK_NODE_SCALAR &&
            !strcmp(r->secret_outputs->items[i]->str, key))
            return true;
    return false;
}

static void append_text(struct buf *b, const cJSON *v)
{
    char *s;
    if (cJSON_IsString(v)) {
        buf_puts(b, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        char num[64];
        if (v->valuedouble == (double)(long long)v->valuedouble)
            snprintf(num, sizeof(num), "%lld", (long long)v->valuedouble);
        else
            snprintf(num, sizeof(num), "%.17g", v->valuedouble);
        buf_puts(b, num);
    } else if (cJSON_IsBool(v)) {
        buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
    } else if (!cJSON_IsNull(v)) {
        s = cJSON_PrintUnformatted(v);
        buf_puts(b, s);
        free(s);
    }
}

static enum err_code eval_string(struct stack_eval *ev, const struct stack_node *n, cJSON **out,
                                 struct err *e)
{
    const char *s = n->str;
    struct buf b;
    enum err_code rc = ERR_OK;
    size_t parts = 0;
    const cJSON *only = NULL;
    bool whole = false;

    buf_init(&b, 0);
    while (*s) {
        if (s[0] == '$' && s[1] == '$' && s[2] == '{') {
            buf_puts(&b, "${");
            s += 3;
            parts++;
            continue;
        }
        if (s[0] == '$' && s[1] == '{') {
            struct access a;
            const cJSON *root, *v = NULL;
            const struct stack_res *res;
            rc = parse_access(ev->prog, n, s + 2, &a, e);
            if (rc)
                goto out;
            root = ev->lookup(ev->ud, a.root, e);
            if (!root) {
                rc = stack_prog_errat(ev->prog, n, e, "%s", e ? e->msg : "unknown name");
                goto out;
            }
            rc = walk_access(ev->prog, n, &a, root, &v, e);
            if (rc)
                goto out;
            if (is_secret_ref(ev->prog, &a))
                ev->secret = true;
            /* as Pulumi YAML does: a bare `${res}` used as a value is the resource's id; a
             * provider's stays the provider (fn::invoke's options.provider) */
            if (a.rest == a.end && ev->prog->res && (res = stack_prog_find(ev->prog, a.root)) &&
                !res->is_provider && cJSON_IsObject(v) && cJSON_GetObjectItemCaseSensitive(v, "id"))
                v = cJSON_GetObjectItemCaseSensitive(v, "id");
            if (stack_value_is_unknown(v))
                ev->unknown = true;
            whole = (s == n->str && a.end[1] == 0);
            only = v;
            append_text(&b, v);
            s = a.end + 1;
            parts++;
            continue;
        }
        buf_putc(&b, *s++);
        parts++;
    }
    if (whole && parts == 1)
        *out = cJSON_Duplicate(only, 1);
    else if (strstr(b.ptr ? b.ptr : "", STACK_UNKNOWN))
        *out = cJSON_CreateString(STACK_UNKNOWN);
    else
        *out = cJSON_CreateString(b.ptr ? b.ptr : "");
out:
    buf_free(&b);
    return rc;
}

static cJSON *scalar_value(const struct stack_node *n)
{
    const char *s = n->str;
    char *end;
    double d;

    if (!n->plain)
        return NULL;
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
        return cJSON_CreateTrue();
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
        return cJSON_CreateFalse();
    if (!strcmp(s, "null") || !strcmp(s, "~") || !*s)
        return cJSON_CreateNull();
    if ((*s >= '0' && *s <= '9') || ((*s == '-' || *s == '+') && s[1] >= '0' && s[1] <= '9')) {
        errno = 0;
        d = strtod(s, &end);
        if (!*end && !errno)
            return cJSON_CreateNumber(d);
    }
    return NULL;
}

/* ---- fn::fileArchive: a folder's files and a hash of their names and bytes ---- */

bool stack_read_file(const char *path, struct buf *b)
{
    FILE *f = fopen(path, "rb");
    char chunk[8192];
    size_t got;

    buf_init(b, 0);
    if (!f)
        return false;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_append(b, chunk, got);
    fclose(f);
    return true;
}

/* hash_file - @name and the bytes of @path into @crc */
static void hash_file(const char *path, const char *name, uLong *crc)
{
    FILE *f = fopen(path, "rb");
    unsigned char chunk[8192];
    size_t got;
    *crc = crc32(*crc, (const Bytef *)name, (uInt)strlen(name) + 1);
    while (f && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        *crc = crc32(*crc, chunk, (uInt)got);
    if (f)
        fclose(f);
}

static void hash_tree(const char *dir, const char *rel, uLong *crc, size_t *files)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0;

    if (!d)
        return;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
            continue;
        names = xrealloc(names, (n + 1) * sizeof(*names));
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    for (size_t i = 1; i < n; i++) /* sorted, so the hash does not depend on readdir order */
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    for (size_t i = 0; i < n; i++) {
        char path[4096], sub[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", names[i]);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            hash_tree(path, sub, crc, files);
        } else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            hash_file(path, sub, crc);
            (*files)++;
        }
        free(names[i]);
    }
    free(names);
}

static enum err_code want_str(struct stack_eval *ev, const struct stack_node *at, const cJSON *v,
                              const char *fn, struct err *e)
{
    if (!cJSON_IsString(v))
        return stack_prog_errat(ev->prog, at, e, "%s takes a string", fn);
    return ERR_OK;
}

char *stack_path(const char *dir, const char *p)
{
    char *full = xmalloc(strlen(p) + strlen(dir ? dir : ".") + 2);
    if (p[0] == '/')
        strcpy(full, p);
    else
        sprintf(full, "%s/%s", dir ? dir : ".", p);
    return full;
}

static char *resolve_path(struct stack_eval *ev, const char *p)
{
    return stack_path(ev->dir, p);
}

static enum err_code fn_file_archive(struct stack_eval *ev, const struct stack_node *at, cJSON *arg,
                                     cJSON **out, struct err *e)
{
    enum err_code rc = want_str(ev, at, arg, "fn::fileArchive", e);
    char *full, hex[16];
    struct stat st;
    uLong crc = crc32(0, Z_NULL, 0);
    size_t files = 0;

    if (rc)
        return rc;
    full = resolve_path(ev, arg->valuestring);
    if (stat(full, &st) != 0) {
        rc = stack_prog_errat(ev->prog, at, e, "fn::fileArchive: %s: %s", arg->valuestring,
                              strerror(errno));
        free(full);
        return rc;
    }
    if (S_ISDIR(st.st_mode)) {
        hash_tree(full, "", &crc, &files);
    } else { /* a .zip: its own bytes, not its folder's (which may hold the stack's state) */
        char *slash = strrchr(full, '/');
        hash_file(full, slash + 1, &crc);
    }
    snprintf(hex, sizeof(hex), "%08lx", (unsigned long)crc);
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "__archive", full);
    cJSON_AddStringToObject(*out, "hash", hex);
    free(full);
    return ERR_OK;
}

static enum err_code fn_string_asset(struct stack_eval *ev, const struct stack_node *at, cJSON *arg,
                                     cJSON **out, struct err *e)
{
    enum err_code rc = want_str(ev, at, arg, "fn::stringAsset", e);
    if (rc)
        return rc;
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "__asset", arg->valuestring);
    return ERR_OK;
}

static enum err_code fn_to_json(struct stack_eval *ev, const struct stack_node *at, cJSON *arg,
                                cJSON **out, struct err *e)
{
    char *s;
    (void)at;
    (void)e;
    if (stack_value_is_unknown(arg)) {
        *out = cJSON_CreateString(STACK_UNKNOWN);
        return ERR_OK;
    }
    (void)ev;
    s = cJSON_PrintUnformatted(arg);
    *out = cJSON_CreateString(s);
    free(s);
    return ERR_OK;
}

static enum err_code fn_join(struct stack_eval *ev, const struct stack_node *at, cJSON *arg,
                             cJSON **out, struct err *e)
{
    cJSON *sep = cJSON_GetArrayItem(arg, 0), *list = cJSON_GetArrayItem(arg, 1), *it;
    struct buf b;
    bool first = true;

    if (!cJSON_IsArray(arg) || cJSON_GetArraySize(arg) != 2 || !cJSON_IsString(sep) ||
        !cJSON_IsArray(list))
        return stack_prog_errat(ev->prog, at, e, "fn::join takes [separator, [values...]]");
    buf_init(&b, 0);
    cJSON_ArrayForEach(it, list)
    {
        if (!first)
            buf_puts(&b, sep->valuestring);
        append_text(&b, it);
        first = false;
    }
    *out = cJSON_CreateString(stack_value_is_unknown(list) ? STACK_UNKNOWN : b.ptr ? b.ptr : "");
    buf_free(&b);
    return ERR_OK;
}

static enum err_code fn_split(struct stack_eval *ev, const struct stack_node *at, cJSON *arg,
                              cJSON **out, struct err *e)
{
    cJSON *sep = cJSON_GetArrayItem(arg, 0), *s = cJSON_GetArrayItem(arg, 1);
    const char *p, *q;

    if (stack_value_is_unknown(arg)) {
        *out = cJSON_CreateString(STACK_UNKNOWN);
        return ERR_OK;
    }
    if (!cJSON_IsArray(arg) || cJSON_GetArraySize(arg) != 2 || !cJSON_IsString(sep) ||
        !cJSON_IsString(s) || !*sep->valuestring)
        return stack_prog_errat(ev->prog, at, e, "fn::split takes [separator, string]");
    *out = cJSON_CreateArray();
    for (p = s->valuestring; (q = strstr(p, sep->valuestring)); p = q + strlen(sep->valuestring)) {
        char *part = xstrndup(p, (size_t)(q - p));
        cJSON_AddItemToArray(*out, cJSON_CreateString(part));
        free(part);
    }
    cJSON_AddItemToArray(*out, cJSON_CreateString(p));
    return ERR_OK;
}

static enum err_code fn_select(struct stack_eval *ev, const struct stack_node *at, cJSON *arg,
                               cJSON **out, struct err *e)
{
    cJSON *idx = cJSON_GetArrayItem(arg, 0), *list = cJSON_GetArrayItem(arg, 1);
    if (stack_value_is_unknown(list)) {
        *out = cJSON_CreateString(STACK_UNKNOWN);
        return ERR_OK;
    }
    if (!cJSON_IsArray(arg) || cJSON_GetArraySize(arg) != 2 || !cJSON_IsNumber(idx) ||
        !cJSON_IsArray(list))
        return stack_prog_errat(ev->prog, at, e, "fn::select takes [index, [values...]]");
    if (idx->valueint < 0 || idx->valueint >= cJSON_GetArraySize(list))
        return stack_prog_errat(ev->prog, at, e, "fn::select: index %d out of range",
                                idx->valueint);
    *out = cJSON_Duplicate(cJSON_GetArrayItem(list, idx->valueint), 1);
    return ERR_OK;
}

static enum err_code fn_secret(struct stack_eval *ev, const struct stack_node *at, cJSON *arg,
                               cJSON **out, struct err *e)
{
    (void)at;
    (void)e;
    ev->secret = true;
    *out = cJSON_Duplicate(arg, 1);
    return ERR_OK;
}

/* ---- assets, encodings, lengths, hashes ---- */

static enum err_code read_all(struct stack_eval *ev, const struct stack_node *at, const char *fn,
                              const char *path, struct buf *b, struct err *e)
{
    char *full = resolve_path(ev, path);
    bool ok = stack_read_file(full, b);

    free(full);
    if (!ok)
        return stack_prog_errat(ev->prog, at, e, "%s: %s: %s", fn, path, strerror(errno));
    return ERR_OK;
}

static enum err_code fn_read_file(struct stack_eval *ev, const struct stack_node *at, cJSON *arg,
                                  cJSON **out, struct err *e)
{
    enum err_code rc = want_str(ev, at, arg, "fn::readFile", e);
    struct buf b;

    if (rc || (rc = read_all(ev, at, "fn::readFile", arg->valuestring, &b, e)))
        return rc;
    buf_putc(&b, '\0');
    *out = cJSON_CreateString(b.ptr);
    buf_free(&b);
    return ERR_OK;
}

static void digest_hex(const EVP_MD *md, const void *p, size_t n, char *hex)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    EVP_Digest(p, n, d, &dl, md, NULL);
    hex_encode(d, dl, hex);
}

static enum err_code fn_file_asset(struct stack_eval *ev, const struct stack_node *at, cJSON *arg,
                                   cJSON **out, struct err *e)
{
    enum err_code rc = want_str(ev, at, arg, "fn::fileAsset", e);
    struct buf b;
    char hex[EVP_MAX_MD_SIZE * 2 + 1], *full;

    if (rc)
        return rc;
    if ((rc = read_all(ev, at, "fn::fileAsset", arg->valuestring, &b, e)))
        return rc;
    digest_hex(EVP_sha256(), b.ptr ? b.ptr : "", b.len, hex);
    buf_free(&b);
    full = resolve_path(ev, arg->valuestring);
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "__file", full);
    cJSON_AddStringToObject(*out, "hash", hex);
    free(full);
    return ERR_OK;
}

static bool is_asset(const cJSON *v)
{
    return cJSON_IsObject(v) &&
           (cJSON_GetObjectItem(v, "__asset") || cJSON_GetObjectItem(v, "__file") ||
            cJSON_GetObjectItem(v, "__archive") || cJSON_GetObjectItem(v, "__assets"));
}

static enum err_code fn_asset_archive(struct stack_eval *ev, const struct stack_node *at,
                                      cJSON *arg, cJSON **out, struct err *e)
{
    const cJSON *it;
    if (!cJSON_IsObject(arg))
        return stack_prog_errat(ev->prog, at, e,
                                "fn::assetArchive takes a map of names to assets or archives");
    cJSON_ArrayForEach(it, arg)
    {
        if (!is_asset(it) && !(cJSON_IsString(it) && !strcmp(it->valuestring, STACK_UNKNOWN)))
            return stack_prog_errat(ev->prog, at, e,
                                    "fn::assetArchive: '%s' is not an asset or archive "
                                    "(fn::fileAsset, fn::stringAsset, fn::fileArchive)",
                                    it->string);
    }
    *out = cJSON_CreateObject();
    cJSON_AddItemToObject(*out, "__assets", cJSON_Duplicate(arg, 1));
    return ERR_OK;
}

static enum err_code fn_to_base64(struct stack_eval *ev, const struct stack_node *at, cJSON *arg,
                                  cJSON **out, struct err *e)
{
    enum err_code rc = want_str(ev, at, arg, "fn::toBase64", e);
    char *enc;
    if (rc)
        return rc;
    if (stack_value_is_unknown(arg)) {
        *out = cJSON_CreateString(STACK_UNKNOWN);
        return ERR_OK;
    }
    enc = xmalloc(base64_encoded_len(strlen(arg->valuestring)) + 1);
    base64_encode(arg->valuestring, strlen(arg->valuestring), enc);
    *out = cJSON_CreateString(enc);
    free(enc);
    return ERR_OK;
}

static enum err_code fn_from_base64(struct stack_eval *ev, const struct stack_node *at, cJSON *arg,
                                    cJSON **out, struct err *e)
{
    enum err_code rc = want_str(ev, at, arg, "fn::fromBase64", e);
    unsigned char *dec;
    size_t n = 0, len;
    if (rc)
        return rc;
    if (stack_value_is_unknown(arg)) {
        *out = cJSON_CreateString(STACK_UNKNOWN);
        return ERR_OK;
    }
    len = strlen(arg->valuestring);
    dec = xmalloc(len + 1);
    if (!base64_decode(arg->valuestring, len, dec, &n) || memchr(dec, 0, n)) {
        free(dec);
        return stack_prog_errat(ev->prog, at, e, "fn::fromBase64: \"%.40s\" is not base64 text",
                                arg->valuestring);
    }
    dec[n] = 0;
    *out = cJSON_CreateString((char *)dec);
    free(dec);
    return ERR_OK;
}

static enum err_code fn_length(struct stack_eval *ev, const struct stack_node *at, cJSON *arg,
                               cJSON **out, struct err *e)
{
    if (cJSON_IsString(arg) && !strcmp(arg->valuestring, STACK_UNKNOWN)) {
        *out = cJSON_CreateString(STACK_UNKNOWN);
        return ERR_OK;
    }
    if (cJSON_IsString(arg))
        *out = cJSON_CreateNumber((double)strlen(arg->valuestring));
    else if (cJSON_IsArray(arg) || cJSON_IsObject(arg))
        *out = cJSON_CreateNumber(cJSON_GetArraySize(arg));
    else
        return stack_prog_errat(ev->prog, at, e, "fn::length takes a list, a map or a string");
    return ERR_OK;
}

static enum err_code fn_sha1(struct stack_eval *ev, const struct stack_node *at, cJSON *arg,
                             cJSON **out, struct err *e)
{
    enum err_code rc = want_str(ev, at, arg, "fn::sha1", e);
    char hex[EVP_MAX_MD_SIZE * 2 + 1];
    if (rc)
        return rc;
    if (stack_value_is_unknown(arg)) {
        *out = cJSON_CreateString(STACK_UNKNOWN);
        return ERR_OK;
    }
    digest_hex(EVP_sha1(), arg->valuestring, strlen(arg->valuestring), hex);
    *out = cJSON_CreateString(hex);
    return ERR_OK;
}

static enum err_code file_b64(struct stack_eval *ev, const struct stack_node *at, cJSON *arg,
                              cJSON **out, bool sha, struct err *e)
{
    const char *fn = sha ? "fn::filebase64sha256" : "fn::filebase64";
    enum err_code rc = want_str(ev, at, arg, fn, e);
    struct buf b;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    char *enc;
    if (rc)
        return rc;
    if ((rc = read_all(ev, at, fn, arg->valuestring, &b, e)))
        return rc;
    if (sha) {
        EVP_Digest(b.ptr ? b.ptr : "", b.len, d, &dl, EVP_sha256(), NULL);
        enc = xmalloc(base64_encoded_len(dl) + 1);
        base64_encode(d, dl, enc);
    } else {
        enc = xmalloc(base64_encoded_len(b.len) + 1);
        base64_encode(b.ptr ? b.ptr : "", b.len, enc);
    }
    buf_free(&b);
    *out = cJSON_CreateString(enc);
    free(enc);
    return ERR_OK;
}

static enum err_code fn_filebase64(struct stack_eval *ev, const struct stack_node *at, cJSON *arg,
                                   cJSON **out, struct err *e)
{
    return file_b64(ev, at, arg, out, false, e);
}

static enum err_code fn_filebase64sha256(struct stack_eval *ev, const struct stack_node *at,
                                         cJSON *arg, cJSON **out, struct err *e)
{
    return file_b64(ev, at, arg, out, true, e);
}

/* ---- fn::invoke ---- */

static bool known_function(const char *token)
{
    const char *type, *id_arg;
    return stack_invoke_known(token) || stack_std_known(token) || stack_archive_known(token) ||
           stack_invoke_data(token, &type, &id_arg);
}

static enum err_code invoke(struct stack_eval *ev, const struct stack_node *at, const char *token,
                            const cJSON *args, const cJSON *opts, const cJSON *ret, cJSON **out,
                            struct err *e)
{
    const char *region = ev->region;
    const cJSON *prov = cJSON_GetObjectItemCaseSensitive(opts, "provider"), *caller = NULL;
    const char *type, *id_arg;
    cJSON *res = NULL, *own = NULL;
    enum err_code rc;

    if (stack_value_is_unknown(args) || stack_value_is_unknown(prov)) {
        ev->unknown = true;
        *out = cJSON_CreateString(STACK_UNKNOWN);
        return ERR_OK;
    }
    if (cJSON_IsObject(prov) && cJSON_IsString(cJSON_GetObjectItem(prov, "region")))
        region = cJSON_GetObjectItem(prov, "region")->valuestring;
    else if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(opts, "region")))
        region = cJSON_GetObjectItemCaseSensitive(opts, "region")->valuestring;
    if (!known_function(token))
        return stack_prog_errat(ev->prog, at, e,
                                "fn::invoke: unknown function '%s' (Tandem answers "
                                "aws:iam:getPolicyDocument, aws:getCallerIdentity, "
                                "aws:getRegion, aws:getPartition, aws:dynamodb:getTable, "
                                "aws:s3:getBucket, aws:lambda:getFunction, aws:iam:getRole, "
                                "aws:iam:getUser, archive:getFile and the std: functions)",
                                token);
    if (stack_invoke_data(token, &type, &id_arg)) { /* read from a region by the engine */
        rc = ev->data ? ev->data(ev->ud, token, args, cJSON_IsObject(prov) ? prov : NULL, &res, e)
                      : err_set(e, ERR_INVALID, "no region to read from");
    } else {
        if (stack_invoke_known(token) && ev->caller) {
            caller = ev->caller(ev->ud, cJSON_IsObject(prov) ? prov : NULL);
        } else if (ev->account) {
            caller = own = cJSON_CreateObject();
            cJSON_AddStringToObject(own, "account", ev->account);
        }
        rc = stack_std_known(token)       ? stack_std(token, args, ev->dir, &res, e)
             : stack_archive_known(token) ? stack_archive(token, args, ev->dir, &res, e)
                                          : stack_invoke(token, args, region, caller, &res, e);
        cJSON_Delete(own);
    }
    if (rc)
        return stack_prog_errat(ev->prog, at, e, "fn::invoke %s: %s", token, e ? e->msg : "");
    if (ret) {
        const cJSON *v;
        if (!cJSON_IsString(ret)) {
            cJSON_Delete(res);
            return stack_prog_errat(ev->prog, at, e, "fn::invoke: return must be a property name");
        }
        v = cJSON_GetObjectItemCaseSensitive(res, ret->valuestring);
        if (!v) {
            char have[200] = "";
            const cJSON *k;
            cJSON_ArrayForEach(k, res)
            {
                if (strlen(have) + strlen(k->string) + 3 < sizeof(have))
                    strcat(strcat(have, *have ? ", " : ""), k->string);
            }
            cJSON_Delete(res);
            return stack_prog_errat(ev->prog, at, e, "fn::invoke %s returns no '%s' (it has %s)",
                                    token, ret->valuestring, have);
        }
        *out = cJSON_Duplicate(v, 1);
        cJSON_Delete(res);
        return ERR_OK;
    }
    *out = res;
    return ERR_OK;
}

static enum err_code fn_invoke(struct stack_eval *ev, const struct stack_node *at, cJSON *arg,
                               cJSON **out, struct err *e)
{
    /* field names match in any case: Pulumi's older docs write Function: and Arguments: */
    const cJSON *fn = cJSON_GetObjectItem(arg, "function"), *k;
    if (!cJSON_IsObject(arg) || !cJSON_IsString(fn))
        return stack_prog_errat(ev->prog, at, e,
                                "fn::invoke takes {function, arguments, options, return}");
    cJSON_ArrayForEach(k, arg)
    {
        if (strcasecmp(k->string, "function") && strcasecmp(k->string, "arguments") &&
            strcasecmp(k->string, "options") && strcasecmp(k->string, "return"))
            return stack_prog_errat(ev->prog, at, e,
                                    "fn::invoke: unknown field '%s' (expected function, "
                                    "arguments, options, return)",
                                    k->string);
    }
    return invoke(ev, at, fn->valuestring, cJSON_GetObjectItem(arg, "arguments"),
                  cJSON_GetObjectItem(arg, "options"), cJSON_GetObjectItem(arg, "return"), out, e);
}

typedef enum err_code builtin_fn(struct stack_eval *ev, const struct stack_node *at, cJSON *arg,
                                 cJSON **out, struct err *e);

/* The built-ins, by the name after "fn::" (Pulumi YAML also spells it "Fn::").
 * A row without a function is a Pulumi built-in Tandem refuses, with why. */
static const struct {
    const char *name;
    builtin_fn *fn;
    const char *why;
} builtins[] = {
    {"fileArchive", fn_file_archive, NULL},
    {"fileAsset", fn_file_asset, NULL},
    {"stringAsset", fn_string_asset, NULL},
    {"assetArchive", fn_asset_archive, NULL},
    {"toJSON", fn_to_json, NULL},
    {"join", fn_join, NULL},
    {"split", fn_split, NULL},
    {"select", fn_select, NULL},
    {"length", fn_length, NULL},
    {"toBase64", fn_to_base64, NULL},
    {"fromBase64", fn_from_base64, NULL},
    {"sha1", fn_sha1, NULL},
    {"secret", fn_secret, NULL},
    {"readFile", fn_read_file, NULL},
    {"filebase64", fn_filebase64, NULL},
    {"filebase64sha256", fn_filebase64sha256, NULL},
    {"invoke", fn_invoke, NULL},
    {"remoteAsset", NULL,
     "Tandem does not fetch remote content; download the file and use fn::fileAsset"},
    {"remoteArchive", NULL,
     "Tandem does not fetch remote content; download the archive and use fn::fileArchive"},
    {"stackReference", NULL, "stack references need the Pulumi service"},
};

/* "fn::..." or "Fn::..."; the name after it matches in any case, as Pulumi's docs write
 * both fn::fileArchive and Fn::FileArchive, fn::toJSON and Fn::ToJSON */
static const char *builtin_name(const char *key)
{
    return strncasecmp(key, "fn::", 4) == 0 ? key + 4 : NULL;
}

static enum err_code eval_builtin(struct stack_eval *ev, const struct stack_node *n, cJSON **out,
                                  struct err *e)
{
    const char *name = builtin_name(n->keys[0]->str);
    enum err_code rc;
    cJSON *arg;

    for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
        if (strcasecmp(builtins[i].name, name) != 0)
            continue;
        if (!builtins[i].fn)
            return stack_prog_errat(ev->prog, n->keys[0], e, "%s is not supported: %s",
                                    n->keys[0]->str, builtins[i].why);
        rc = stack_expr_eval(ev, n->items[0], &arg, e);
        if (rc)
            return rc;
        rc = builtins[i].fn(ev, n->items[0], arg, out, e);
        cJSON_Delete(arg);
        return rc;
    }
    /* the short form of an invoke: `fn::aws:getRegion: {}` */
    if (strchr(name, ':') && known_function(name)) {
        rc = stack_expr_eval(ev, n->items[0], &arg, e);
        if (rc)
            return rc;
        if (cJSON_IsNull(arg)) {
            cJSON_Delete(arg);
            arg = cJSON_CreateObject();
        }
        rc = invoke(ev, n->items[0], name, arg, NULL, NULL, out, e);
        cJSON_Delete(arg);
        return rc;
    }
    return stack_prog_errat(ev->prog, n->keys[0], e, "unknown built-in function '%s'",
                            n->keys[0]->str);
}

enum err_code stack_expr_eval(struct stack_eval *ev, const struct stack_node *n, cJSON **out,
                              struct err *e)
{
    enum err_code rc;
    cJSON *v;

    *out = NULL;
    switch (n->kind) {
    case STACK_NODE_SCALAR:
        v = scalar_value(n);
        if (v) {
            *out = v;
            return ERR_OK;
        }
        return eval_string(ev, n, out, e);
    case STACK_NODE_SEQ:
        v = cJSON_CreateArray();
        for (size_t i = 0; i < n->n; i++) {
            cJSON *it;
            rc = stack_expr_eval(ev, n->items[i], &it, e);
            if (rc) {
                cJSON_Delete(v);
                return rc;
            }
            cJSON_AddItemToArray(v, it);
        }
        *out = v;
        return ERR_OK;
    case STACK_NODE_MAP:
        if (n->n == 1 && builtin_name(n->keys[0]->str))
            return eval_builtin(ev, n, out, e);
        v = cJSON_CreateObject();
        for (size_t i = 0; i < n->n; i++) {
            cJSON *it;
            rc = stack_expr_eval(ev, n->items[i], &it, e);
            if (rc) {
                cJSON_Delete(v);
                return rc;
            }
            cJSON_AddItemToObject(v, n->keys[i]->str, it);
        }
        *out = v;
        return ERR_OK;
    }
    return err_set(e, ERR_INTERNAL, "bad node");
}

enum err_code stack_expr_refs(const struct stack_prog *p, const struct stack_node *n,
                              stack_ref_fn *fn, void *ud, struct err *e)
{
    enum err_code rc;

    if (n->kind == STACK_NODE_SCALAR) {
        const char *s = n->str;
        while ((s = strchr(s, '$'))) {
            struct access a;
            if (s[1] == '$' && s[2] == '{') {
                s += 3;
                continue;
            }
            if (s[1] != '{') {
                s++;
                continue;
            }
            rc = parse_access(p, n, s + 2, &a, e);
            if (rc)
                return rc;
            fn(ud, a.root, n);
            s = a.end + 1;
        }
        return ERR_OK;
    }
    for (size_t i = 0; i < n->n; i++) {
        rc = stack_expr_refs(p, n->items[i], fn, ud, e);
        if (rc)
            return rc;
    }
    return ERR_OK;
}
