/* stack_std.c - see stack_std.h. Each function follows the provider's own
 * (pulumi-std): its argument names, its defaults and its errors. */
#include "stack_std.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "buf.h"
#include "codec.h"
#include "mem.h"
#include "stack_expr.h"

struct call {
    const char *name; /* "replace" */
    const cJSON *args;
    const char *dir;
};

typedef enum err_code std_fn(const struct call *c, cJSON **res, struct err *e);

/* ---- arguments ---- */

static const cJSON *arg(const struct call *c, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(c->args, k);
}

static enum err_code missing(const char *k, const char *what, struct err *e)
{
    return err_set(e, ERR_INVALID, "argument '%s' must be %s", k, what);
}

/* a string argument; a number or boolean is taken as its text, as the provider coerces */
static enum err_code arg_str(const struct call *c, const char *k, char **out, struct err *e)
{
    const cJSON *v = arg(c, k);
    char num[64];

    if (cJSON_IsString(v)) {
        *out = xstrdup(v->valuestring);
        return ERR_OK;
    }
    if (cJSON_IsNumber(v)) {
        if (v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 1e15)
            snprintf(num, sizeof(num), "%.0f", v->valuedouble);
        else
            snprintf(num, sizeof(num), "%.17g", v->valuedouble);
        *out = xstrdup(num);
        return ERR_OK;
    }
    if (cJSON_IsBool(v)) {
        *out = xstrdup(cJSON_IsTrue(v) ? "true" : "false");
        return ERR_OK;
    }
    *out = NULL;
    return missing(k, "a string", e);
}

static enum err_code arg_num(const struct call *c, const char *k, double *out, struct err *e)
{
    const cJSON *v = arg(c, k);
    char *end;

    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return ERR_OK;
    }
    if (cJSON_IsString(v) && *v->valuestring) {
        *out = strtod(v->valuestring, &end);
        if (!*end)
            return ERR_OK;
    }
    return missing(k, "a number", e);
}

static enum err_code arg_list(const struct call *c, const char *k, const cJSON **out, struct err *e)
{
    *out = arg(c, k);
    return cJSON_IsArray(*out) ? ERR_OK : missing(k, "a list", e);
}

static cJSON *result(cJSON *v)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddItemToObject(o, "result", v);
    return o;
}

static cJSON *result_str(char *s) /* takes @s */
{
    cJSON *o = result(cJSON_CreateString(s));

    free(s);
    return o;
}

/* ---- strings ---- */

static void lower_s(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

static void upper_s(char *s)
{
    for (; *s; s++)
        *s = (char)toupper((unsigned char)*s);
}

static void title_s(char *s)
{
    for (bool start = true; *s; s++) {
        if (start && isalpha((unsigned char)*s))
            *s = (char)toupper((unsigned char)*s);
        start = !isalnum((unsigned char)*s) && *s != '\'';
    }
}

static void trimspace_s(char *s)
{
    size_t n = strlen(s), i = 0;

    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    while (isspace((unsigned char)s[i]))
        i++;
    memmove(s, s + i, n - i + 1);
}

static void chomp_s(char *s)
{
    size_t n = strlen(s);

    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* strrev_s - reverse by UTF-8 character, not byte */
static void strrev_s(char *s)
{
    size_t n = strlen(s), i = 0;
    char *out = xmalloc(n + 1);

    while (i < n) {
        size_t len = 1;

        while (i + len < n && ((unsigned char)s[i + len] & 0xC0) == 0x80)
            len++;
        memcpy(out + n - i - len, s + i, len);
        i += len;
    }
    memcpy(s, out, n);
    free(out);
}

static const struct {
    const char *name;
    void (*fn)(char *s);
} in_place[] = {{"lower", lower_s},         {"upper", upper_s}, {"title", title_s},
                {"trimspace", trimspace_s}, {"chomp", chomp_s}, {"strrev", strrev_s}};

static enum err_code std_in_place(const struct call *c, cJSON **res, struct err *e)
{
    char *s;
    enum err_code rc = arg_str(c, "input", &s, e);

    if (rc)
        return rc;
    for (size_t i = 0; i < sizeof(in_place) / sizeof(in_place[0]); i++)
        if (!strcmp(in_place[i].name, c->name))
            in_place[i].fn(s);
    *res = result_str(s);
    return ERR_OK;
}

/* regex_replace - @re (POSIX extended, the /.../ form of std:replace) in @text,
 * every match replaced by @with, where $1..$9 stand for the captures. */
static enum err_code regex_replace(const char *re, const char *text, const char *with, cJSON **res,
                                   struct err *e)
{
    regex_t rx;
    regmatch_t m[10];
    struct buf b;
    const char *p = text;
    int rc = regcomp(&rx, re, REG_EXTENDED);

    if (rc) {
        char msg[128];

        regerror(rc, &rx, msg, sizeof(msg));
        return err_set(e, ERR_INVALID, "search /%s/: %s", re, msg);
    }
    buf_init(&b, 0);
    while (*p && regexec(&rx, p, 10, m, p == text ? 0 : REG_NOTBOL) == 0) {
        buf_append(&b, p, (size_t)m[0].rm_so);
        for (const char *w = with; *w; w++) {
            if (w[0] == '$' && isdigit((unsigned char)w[1])) {
                int g = w[1] - '0';

                if (m[g].rm_so >= 0)
                    buf_append(&b, p + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
                w++;
            } else {
                buf_putc(&b, *w);
            }
        }
        if (m[0].rm_eo == m[0].rm_so) { /* an empty match: step over one character */
            if (!p[m[0].rm_eo])
                break;
            buf_putc(&b, p[m[0].rm_eo]);
            p += m[0].rm_eo + 1;
        } else {
            p += m[0].rm_eo;
        }
    }
    buf_puts(&b, p);
    regfree(&rx);
    *res = result(cJSON_CreateString(b.ptr ? b.ptr : ""));
    buf_free(&b);
    return ERR_OK;
}

static enum err_code std_replace(const struct call *c, cJSON **res, struct err *e)
{
    char *text = NULL, *search = NULL, *with = NULL;
    enum err_code rc = arg_str(c, "text", &text, e);
    size_t n;

    if (!rc)
        rc = arg_str(c, "search", &search, e);
    if (!rc)
        rc = arg_str(c, "replace", &with, e);
    if (rc)
        goto out;
    n = strlen(search);
    if (n > 1 && search[0] == '/' && search[n - 1] == '/') {
        search[n - 1] = '\0';
        rc = regex_replace(search + 1, text, with, res, e);
    } else {
        struct buf b;
        const char *p = text, *hit;

        buf_init(&b, 0);
        while (n && (hit = strstr(p, search))) {
            buf_append(&b, p, (size_t)(hit - p));
            buf_puts(&b, with);
            p = hit + n;
        }
        buf_puts(&b, p);
        *res = result(cJSON_CreateString(b.ptr ? b.ptr : ""));
        buf_free(&b);
    }
out:
    free(text);
    free(search);
    free(with);
    return rc;
}

static enum err_code std_split(const struct call *c, cJSON **res, struct err *e)
{
    char *sep = NULL, *text = NULL;
    enum err_code rc = arg_str(c, "separator", &sep, e);
    cJSON *list;

    if (!rc)
        rc = arg_str(c, "text", &text, e);
    if (!rc) {
        const char *p = text, *hit;
        size_t n = strlen(sep);

        list = cJSON_CreateArray();
        while (n && (hit = strstr(p, sep))) {
            char *part = xstrndup(p, (size_t)(hit - p));

            cJSON_AddItemToArray(list, cJSON_CreateString(part));
            free(part);
            p = hit + n;
        }
        if (n) {
            cJSON_AddItemToArray(list, cJSON_CreateString(p));
        } else { /* an empty separator: one element per character, as Go's strings.Split */
            for (size_t i = 0, len; text[i]; i += len) {
                char *one;

                for (len = 1; ((unsigned char)text[i + len] & 0xC0) == 0x80; len++)
                    ;
                one = xstrndup(text + i, len);
                cJSON_AddItemToArray(list, cJSON_CreateString(one));
                free(one);
            }
        }
        *res = result(list);
    }
    free(sep);
    free(text);
    return rc;
}

static enum err_code std_join(const struct call *c, cJSON **res, struct err *e)
{
    char *sep = NULL;
    const cJSON *list, *it;
    enum err_code rc = arg_str(c, "separator", &sep, e);
    struct buf b;

    if (!rc)
        rc = arg_list(c, "input", &list, e);
    if (rc) {
        free(sep);
        return rc;
    }
    buf_init(&b, 0);
    cJSON_ArrayForEach(it, list)
    {
        if (!cJSON_IsString(it)) {
            buf_free(&b);
            free(sep);
            return missing("input", "a list of strings", e);
        }
        if (it != list->child)
            buf_puts(&b, sep);
        buf_puts(&b, it->valuestring);
    }
    *res = result(cJSON_CreateString(b.ptr ? b.ptr : ""));
    buf_free(&b);
    free(sep);
    return ERR_OK;
}

/* std_format - Go's Sprintf for the verbs programs use: %s %d %v %q %f %t %%,
 * with flags, width and precision passed through for numbers. */
static enum err_code std_format(const struct call *c, cJSON **res, struct err *e)
{
    char *fmt;
    const cJSON *args = arg(c, "args"), *a;
    enum err_code rc = arg_str(c, "input", &fmt, e);
    struct buf b;
    int next = 0;

    if (rc)
        return rc;
    buf_init(&b, 0);
    for (const char *p = fmt; *p; p++) {
        char spec[32], out[128] = "";
        size_t n = 0;

        if (*p != '%') {
            buf_putc(&b, *p);
            continue;
        }
        if (p[1] == '%') {
            buf_putc(&b, '%');
            p++;
            continue;
        }
        spec[n++] = '%';
        while (p[1] && strchr("-+ #0123456789.", p[1]) && n < sizeof(spec) - 3)
            spec[n++] = *++p;
        if (!p[1])
            break;
        a = cJSON_GetArrayItem(args, next++);
        switch (*++p) {
        case 'd':
            spec[n++] = 'l';
            spec[n++] = 'l';
            spec[n++] = 'd';
            spec[n] = '\0';
            snprintf(out, sizeof(out), spec, cJSON_IsNumber(a) ? (long long)a->valuedouble : 0LL);
            buf_puts(&b, out);
            break;
        case 'f':
        case 'g':
        case 'e':
            spec[n++] = *p;
            spec[n] = '\0';
            snprintf(out, sizeof(out), spec, cJSON_IsNumber(a) ? a->valuedouble : 0.0);
            buf_puts(&b, out);
            break;
        case 'q':
            buf_json_str(&b, cJSON_IsString(a) ? a->valuestring : "",
                         cJSON_IsString(a) ? strlen(a->valuestring) : 0);
            break;
        default: { /* %s %v %t: the value as text */
            char *text = cJSON_IsString(a) ? xstrdup(a->valuestring)
                         : a               ? cJSON_PrintUnformatted(a)
                                           : xstrdup("%!v(MISSING)");
            buf_puts(&b, text);
            free(text);
        }
        }
    }
    *res = result(cJSON_CreateString(b.ptr ? b.ptr : ""));
    buf_free(&b);
    free(fmt);
    return ERR_OK;
}

/* affix - trimprefix, trimsuffix, startswith, endswith: (input, prefix|suffix) */
static enum err_code std_affix(const struct call *c, cJSON **res, struct err *e)
{
    bool suffix = strstr(c->name, "suffix") || !strcmp(c->name, "endswith");
    char *s = NULL, *a = NULL;
    enum err_code rc = arg_str(c, "input", &s, e);
    size_t n, k;
    bool has;

    if (!rc)
        rc = arg_str(c, suffix ? "suffix" : "prefix", &a, e);
    if (rc)
        goto out;
    n = strlen(s);
    k = strlen(a);
    has = k <= n && !memcmp(suffix ? s + n - k : s, a, k);
    if (!strncmp(c->name, "trim", 4)) {
        if (has && suffix)
            s[n - k] = '\0';
        else if (has)
            memmove(s, s + k, n - k + 1);
        *res = result(cJSON_CreateString(s));
    } else {
        *res = result(cJSON_CreateBool(has));
    }
out:
    free(s);
    free(a);
    return rc;
}

static enum err_code std_trim(const struct call *c, cJSON **res, struct err *e)
{
    char *s = NULL, *cut = NULL;
    enum err_code rc = arg_str(c, "input", &s, e);
    size_t n, i = 0;

    if (!rc)
        rc = arg_str(c, "cutset", &cut, e);
    if (!rc) {
        n = strlen(s);
        while (n && strchr(cut, s[n - 1]))
            s[--n] = '\0';
        while (s[i] && strchr(cut, s[i]))
            i++;
        *res = result(cJSON_CreateString(s + i));
    }
    free(s);
    free(cut);
    return rc;
}

/* utf8_skip - the byte offset of the @n-th character of @s (its end when shorter) */
static size_t utf8_skip(const char *s, long n)
{
    size_t i = 0;

    while (s[i] && n-- > 0)
        for (i++; ((unsigned char)s[i] & 0xC0) == 0x80; i++)
            ;
    return i;
}

static long utf8_count(const char *s)
{
    long n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static enum err_code std_substr(const struct call *c, cJSON **res, struct err *e)
{
    char *s;
    double off, len;
    enum err_code rc = arg_str(c, "input", &s, e);
    long chars;
    size_t from, to;

    if (!rc)
        rc = arg_num(c, "offset", &off, e);
    if (!rc)
        rc = arg_num(c, "length", &len, e);
    if (rc) {
        free(s);
        return rc;
    }
    chars = utf8_count(s);
    if (off < 0)
        off += (double)chars;
    from = off < 0 ? 0 : utf8_skip(s, (long)off);
    to = len < 0 ? strlen(s) : from + utf8_skip(s + from, (long)len);
    s[to] = '\0';
    *res = result(cJSON_CreateString(s + from));
    free(s);
    return ERR_OK;
}

static enum err_code std_base64(const struct call *c, cJSON **res, struct err *e)
{
    char *s;
    enum err_code rc = arg_str(c, "input", &s, e);
    size_t n;

    if (rc)
        return rc;
    n = strlen(s);
    if (!strcmp(c->name, "base64encode")) {
        char *out = xmalloc(base64_encoded_len(n) + 1);

        base64_encode(s, n, out);
        *res = result_str(out);
    } else {
        unsigned char *out = xmalloc(n + 1);
        size_t len = 0;

        if (!base64_decode(s, n, out, &len)) {
            free(out);
            free(s);
            return err_set(e, ERR_INVALID, "input is not valid base64");
        }
        out[len] = '\0';
        *res = result_str((char *)out);
    }
    free(s);
    return ERR_OK;
}

static enum err_code std_path(const struct call *c, cJSON **res, struct err *e)
{
    char *s;
    enum err_code rc = arg_str(c, "input", &s, e);
    char *slash;

    if (rc)
        return rc;
    slash = strrchr(s, '/');
    if (!strcmp(c->name, "basename")) {
        *res = result(cJSON_CreateString(slash ? slash + 1 : s));
    } else if (!slash) {
        *res = result(cJSON_CreateString("."));
    } else {
        *slash = '\0';
        *res = result(cJSON_CreateString(slash == s ? "/" : s));
    }
    free(s);
    return ERR_OK;
}

/* ---- files and digests ---- */

/* read_input - the file @c's `input` names (relative to the project folder),
 * whole, in *@data (owned) */
static enum err_code read_input(const struct call *c, char **data, size_t *len, struct err *e)
{
    char *name, *full;
    enum err_code rc = arg_str(c, "input", &name, e);
    struct buf b;
    size_t got;

    if (rc)
        return rc;
    full = stack_path(c->dir, name);
    if (!stack_read_file(full, &b)) {
        rc = err_set(e, ERR_IO, "%s: %s", name, strerror(errno));
        free(full);
        free(name);
        return rc;
    }
    free(full);
    free(name);
    buf_putc(&b, '\0');
    *len = b.len - 1;
    *data = buf_detach(&b, &got);
    return ERR_OK;
}

static enum err_code std_digest(const struct call *c, cJSON **res, struct err *e)
{
    const char *n = c->name;
    bool file = !strncmp(n, "file", 4), b64 = strstr(n, "base64") != NULL;
    const char *alg = strstr(n, "md5")      ? "MD5"
                      : strstr(n, "sha1")   ? "SHA1"
                      : strstr(n, "sha512") ? "SHA512"
                                            : "SHA256";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char *data, *out;
    size_t len;
    enum err_code rc = file ? read_input(c, &data, &len, e) : arg_str(c, "input", &data, e);

    if (rc)
        return rc;
    if (!file)
        len = strlen(data);
    EVP_Digest(data, len, md, &mdlen, EVP_get_digestbyname(alg), NULL);
    free(data);
    if (b64) {
        out = xmalloc(base64_encoded_len(mdlen) + 1);
        base64_encode(md, mdlen, out);
    } else {
        out = xmalloc(2 * mdlen + 1);
        hex_encode(md, mdlen, out);
    }
    *res = result_str(out);
    return ERR_OK;
}

static enum err_code std_file(const struct call *c, cJSON **res, struct err *e)
{
    char *data, *out;
    size_t len;
    enum err_code rc;

    if (!strcmp(c->name, "fileexists")) {
        char *name, *full;
        struct stat st;

        if ((rc = arg_str(c, "input", &name, e)))
            return rc;
        full = stack_path(c->dir, name);
        *res = result(cJSON_CreateBool(stat(full, &st) == 0 && S_ISREG(st.st_mode)));
        free(full);
        free(name);
        return ERR_OK;
    }
    if ((rc = read_input(c, &data, &len, e)))
        return rc;
    if (!strcmp(c->name, "filebase64")) {
        out = xmalloc(base64_encoded_len(len) + 1);
        base64_encode(data, len, out);
        free(data);
        data = out;
    }
    *res = result_str(data);
    return ERR_OK;
}

/* ---- lists and maps ---- */

static enum err_code std_element(const struct call *c, cJSON **res, struct err *e)
{
    const cJSON *list;
    double idx;
    enum err_code rc = arg_list(c, "input", &list, e);
    long n, i;

    if (!rc)
        rc = arg_num(c, "index", &idx, e);
    if (rc)
        return rc;
    n = cJSON_GetArraySize(list);
    if (!n)
        return err_set(e, ERR_INVALID,
                       "input list must not be empty when using the element "
                       "function");
    i = (long)idx % n;
    if (i < 0)
        i += n;
    *res = result(cJSON_Duplicate(cJSON_GetArrayItem(list, (int)i), 1));
    return ERR_OK;
}

static enum err_code std_lookup(const struct call *c, cJSON **res, struct err *e)
{
    const cJSON *map = arg(c, "map"), *dflt = arg(c, "default"), *v;
    char *key;
    enum err_code rc;

    if (!cJSON_IsObject(map))
        return missing("map", "a map", e);
    if ((rc = arg_str(c, "key", &key, e)))
        return rc;
    v = cJSON_GetObjectItemCaseSensitive(map, key);
    free(key);
    if (!v && !dflt)
        return err_set(e, ERR_INVALID, "key not found in input map");
    *res = result(cJSON_Duplicate(v ? v : dflt, 1));
    return ERR_OK;
}

static enum err_code std_slice(const struct call *c, cJSON **res, struct err *e)
{
    const cJSON *list;
    double from = 0, to;
    enum err_code rc = arg_list(c, "list", &list, e);
    cJSON *out;
    int n;

    if (rc)
        return rc;
    n = cJSON_GetArraySize(list);
    to = n;
    if ((arg(c, "from") && (rc = arg_num(c, "from", &from, e))) ||
        (arg(c, "to") && (rc = arg_num(c, "to", &to, e))))
        return rc;
    if (from < 0 || to > n || from > to)
        return err_set(e, ERR_INVALID, "from %g and to %g are out of range (0..%d)", from, to, n);
    out = cJSON_CreateArray();
    for (int i = (int)from; i < (int)to; i++)
        cJSON_AddItemToArray(out, cJSON_Duplicate(cJSON_GetArrayItem(list, i), 1));
    *res = result(out);
    return ERR_OK;
}

static enum err_code std_range(const struct call *c, cJSON **res, struct err *e)
{
    double limit, start = 0, step;
    enum err_code rc = arg_num(c, "limit", &limit, e);
    cJSON *out;
    double count;
    long n;

    if (rc || (arg(c, "start") && (rc = arg_num(c, "start", &start, e))))
        return rc;
    step = start > limit ? -1 : 1;
    if (arg(c, "step") && (rc = arg_num(c, "step", &step, e)))
        return rc;
    out = cJSON_CreateArray();
    if (step == 0)
        step = start < limit ? 1 : -1;
    count = (start < limit && step < 0) || (start > limit && step > 0)
                ? 0
                : ceil((limit - start) / step);
    if (!(count <= 1000000)) { /* compared as a double: no conversion out of range */
        cJSON_Delete(out);
        return err_set(e, ERR_INVALID, "more than 1,000,000 numbers");
    }
    n = (long)count;
    for (long i = 0; i < n; i++)
        cJSON_AddItemToArray(out, cJSON_CreateNumber(start + (double)i * step));
    *res = result(out);
    return ERR_OK;
}

/* std_search - index and contains: (input, element) */
static enum err_code std_search(const struct call *c, cJSON **res, struct err *e)
{
    const cJSON *list, *want = arg(c, "element"), *it;
    enum err_code rc = arg_list(c, "input", &list, e);
    int i = 0;

    if (rc)
        return rc;
    if (!want)
        return missing("element", "given", e);
    cJSON_ArrayForEach(it, list)
    {
        if (cJSON_Compare(it, want, 1)) {
            *res = !strcmp(c->name, "index") ? result(cJSON_CreateNumber(i))
                                             : result(cJSON_CreateBool(true));
            return ERR_OK;
        }
        i++;
    }
    if (!strcmp(c->name, "index"))
        return err_set(e, ERR_INVALID, "element not found in the list");
    *res = result(cJSON_CreateBool(false));
    return ERR_OK;
}

static bool listed(const cJSON *list, const cJSON *v)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, list) if (cJSON_Compare(it, v, 1)) return true;
    return false;
}

static void flatten_into(cJSON *out, const cJSON *list)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, list)
    {
        if (cJSON_IsArray(it))
            flatten_into(out, it);
        else
            cJSON_AddItemToArray(out, cJSON_Duplicate(it, 1));
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp((*(cJSON *const *)a)->valuestring, (*(cJSON *const *)b)->valuestring);
}

/* std_list - one list in, one list (or value) out: compact, distinct, flatten,
 * reverse, sort, concat (a list of lists), coalesce, coalescelist */
static enum err_code std_list(const struct call *c, cJSON **res, struct err *e)
{
    const cJSON *list, *it;
    enum err_code rc = arg_list(c, "input", &list, e);
    const char *n = c->name;
    cJSON *out;

    if (rc)
        return rc;
    if (!strcmp(n, "coalesce") || !strcmp(n, "coalescelist")) {
        cJSON_ArrayForEach(it, list) if (!cJSON_IsNull(it) &&
                                         !(cJSON_IsString(it) && !*it->valuestring) &&
                                         !(cJSON_IsArray(it) && !cJSON_GetArraySize(it)))
        {
            *res = result(cJSON_Duplicate(it, 1));
            return ERR_OK;
        }
        return err_set(e, ERR_INVALID, "no non-null, non-empty argument");
    }
    out = cJSON_CreateArray();
    if (!strcmp(n, "flatten")) {
        flatten_into(out, list);
    } else if (!strcmp(n, "concat")) {
        cJSON_ArrayForEach(it, list)
        {
            const cJSON *x;

            cJSON_ArrayForEach(x, it) cJSON_AddItemToArray(out, cJSON_Duplicate(x, 1));
        }
    } else if (!strcmp(n, "reverse")) {
        cJSON_ArrayForEach(it, list) cJSON_InsertItemInArray(out, 0, cJSON_Duplicate(it, 1));
    } else {
        cJSON_ArrayForEach(it, list)
        {
            if ((!strcmp(n, "compact") && cJSON_IsString(it) && !*it->valuestring) ||
                (!strcmp(n, "distinct") && listed(out, it)))
                continue;
            if (!strcmp(n, "sort") && !cJSON_IsString(it)) {
                cJSON_Delete(out);
                return missing("input", "a list of strings", e);
            }
            cJSON_AddItemToArray(out, cJSON_Duplicate(it, 1));
        }
        if (!strcmp(n, "sort")) {
            int k = cJSON_GetArraySize(out);
            cJSON **v = xcalloc((size_t)k + 1, sizeof(*v)), *s = cJSON_CreateArray();

            for (int i = 0; i < k; i++)
                v[i] = cJSON_DetachItemFromArray(out, 0);
            qsort(v, (size_t)k, sizeof(*v), cmp_str);
            for (int i = 0; i < k; i++)
                cJSON_AddItemToArray(s, v[i]);
            free(v);
            cJSON_Delete(out);
            out = s;
        }
    }
    *res = result(out);
    return ERR_OK;
}

static enum err_code std_map(const struct call *c, cJSON **res, struct err *e)
{
    const cJSON *in = arg(c, "input"), *it;
    cJSON *out;

    if (!strcmp(c->name, "merge")) {
        if (!cJSON_IsArray(in))
            return missing("input", "a list of maps", e);
        out = cJSON_CreateObject();
        cJSON_ArrayForEach(it, in)
        {
            const cJSON *kv;

            cJSON_ArrayForEach(kv, it)
            {
                cJSON_DeleteItemFromObjectCaseSensitive(out, kv->string);
                cJSON_AddItemToObject(out, kv->string, cJSON_Duplicate(kv, 1));
            }
        }
        *res = result(out);
        return ERR_OK;
    }
    if (!cJSON_IsObject(in))
        return missing("input", "a map", e);
    out = cJSON_CreateArray();
    { /* keys in lexical order, values in their keys' order */
        int n = cJSON_GetArraySize(in);
        const cJSON **v = xcalloc((size_t)n + 1, sizeof(*v));
        int i = 0;

        cJSON_ArrayForEach(it, in) v[i++] = it;
        for (int a = 1; a < n; a++) /* insertion sort by key: maps are small */
            for (int b = a; b > 0 && strcmp(v[b - 1]->string, v[b]->string) > 0; b--) {
                const cJSON *t = v[b];

                v[b] = v[b - 1];
                v[b - 1] = t;
            }
        for (i = 0; i < n; i++)
            cJSON_AddItemToArray(out, !strcmp(c->name, "keys") ? cJSON_CreateString(v[i]->string)
                                                               : cJSON_Duplicate(v[i], 1));
        free(v);
    }
    *res = result(out);
    return ERR_OK;
}

static enum err_code std_length(const struct call *c, cJSON **res, struct err *e)
{
    const cJSON *in = arg(c, "input");

    if (cJSON_IsString(in))
        *res = result(cJSON_CreateNumber((double)utf8_count(in->valuestring)));
    else if (cJSON_IsArray(in) || cJSON_IsObject(in))
        *res = result(cJSON_CreateNumber(cJSON_GetArraySize(in)));
    else
        return missing("input", "a string, a list or a map", e);
    return ERR_OK;
}

/* ---- numbers and conversions ---- */

static enum err_code std_fold(const struct call *c, cJSON **res, struct err *e)
{
    const cJSON *list, *it;
    enum err_code rc = arg_list(c, "input", &list, e);
    double acc = 0;
    bool first = true;

    if (rc)
        return rc;
    if (!cJSON_GetArraySize(list) && strcmp(c->name, "sum") != 0)
        return err_set(e, ERR_INVALID, "input list must not be empty");
    cJSON_ArrayForEach(it, list)
    {
        if (!cJSON_IsNumber(it))
            return missing("input", "a list of numbers", e);
        if (!strcmp(c->name, "sum"))
            acc += it->valuedouble;
        else if (first || (!strcmp(c->name, "max") ? it->valuedouble > acc : it->valuedouble < acc))
            acc = it->valuedouble;
        first = false;
    }
    *res = result(cJSON_CreateNumber(acc));
    return ERR_OK;
}

static enum err_code std_math(const struct call *c, cJSON **res, struct err *e)
{
    const char *n = c->name;
    double x, y;
    enum err_code rc = arg_num(c, !strcmp(n, "pow") ? "base" : "input", &x, e);

    if (rc)
        return rc;
    if (!strcmp(n, "pow")) {
        if ((rc = arg_num(c, "exponent", &y, e)))
            return rc;
        x = pow(x, y);
    } else if (!strcmp(n, "abs")) {
        x = fabs(x);
    } else if (!strcmp(n, "ceil")) {
        x = ceil(x);
    } else if (!strcmp(n, "floor")) {
        x = floor(x);
    } else { /* signum */
        x = x > 0 ? 1 : x < 0 ? -1 : 0;
    }
    *res = result(cJSON_CreateNumber(x));
    return ERR_OK;
}

static enum err_code std_parseint(const struct call *c, cJSON **res, struct err *e)
{
    char *s, *end;
    double base = 10;
    enum err_code rc = arg_str(c, "input", &s, e);
    long long v;

    if (rc || (arg(c, "base") && (rc = arg_num(c, "base", &base, e)))) {
        free(s);
        return rc;
    }
    if (base < 2 || base > 62) {
        free(s);
        return err_set(e, ERR_INVALID, "base must be between 2 and 62");
    }
    errno = 0;
    v = strtoll(s, &end, (int)base);
    if (!*s || *end || errno) {
        rc = err_set(e, ERR_INVALID, "cannot parse '%s' as a base %g integer", s, base);
        free(s);
        return rc;
    }
    free(s);
    *res = result(cJSON_CreateNumber((double)v));
    return ERR_OK;
}

/* std_convert - tostring, tonumber, tobool, jsonencode, jsondecode */
static enum err_code std_convert(const struct call *c, cJSON **res, struct err *e)
{
    const char *n = c->name;
    const cJSON *in = arg(c, "input");
    char *s = NULL;
    enum err_code rc;

    if (!strcmp(n, "jsonencode")) {
        *res = result_str(in ? cJSON_PrintUnformatted(in) : xstrdup("null"));
        return ERR_OK;
    }
    if ((rc = arg_str(c, "input", &s, e)))
        return rc;
    if (!strcmp(n, "tostring")) {
        *res = result_str(s);
        return ERR_OK;
    }
    if (!strcmp(n, "jsondecode")) {
        cJSON *v = cJSON_Parse(s);

        free(s);
        if (!v)
            return err_set(e, ERR_INVALID, "input is not JSON");
        *res = result(v);
        return ERR_OK;
    }
    if (!strcmp(n, "tobool")) {
        bool t = !strcmp(s, "true");

        if (!t && strcmp(s, "false") != 0) {
            rc = err_set(e, ERR_INVALID, "cannot convert '%s' to a bool", s);
            free(s);
            return rc;
        }
        free(s);
        *res = result(cJSON_CreateBool(t));
        return ERR_OK;
    }
    { /* tonumber */
        char *end;
        double v = strtod(s, &end);

        if (!*s || *end) {
            rc = err_set(e, ERR_INVALID, "cannot convert '%s' to a number", s);
            free(s);
            return rc;
        }
        free(s);
        *res = result(cJSON_CreateNumber(v));
        return ERR_OK;
    }
}

static enum err_code std_timestamp(const struct call *c, cJSON **res, struct err *e)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;

    (void)c;
    (void)e;
    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    *res = result(cJSON_CreateString(when));
    return ERR_OK;
}

/* ---- the table ---- */

static const struct {
    const char *name;
    std_fn *fn;
} fns[] = {
    {"abs", std_math},
    {"base64decode", std_base64},
    {"base64encode", std_base64},
    {"base64sha256", std_digest},
    {"base64sha512", std_digest},
    {"basename", std_path},
    {"ceil", std_math},
    {"chomp", std_in_place},
    {"coalesce", std_list},
    {"coalescelist", std_list},
    {"compact", std_list},
    {"concat", std_list},
    {"contains", std_search},
    {"dirname", std_path},
    {"distinct", std_list},
    {"element", std_element},
    {"endswith", std_affix},
    {"file", std_file},
    {"filebase64", std_file},
    {"filebase64sha256", std_digest},
    {"filebase64sha512", std_digest},
    {"fileexists", std_file},
    {"filemd5", std_digest},
    {"filesha1", std_digest},
    {"filesha256", std_digest},
    {"filesha512", std_digest},
    {"flatten", std_list},
    {"floor", std_math},
    {"format", std_format},
    {"index", std_search},
    {"join", std_join},
    {"jsondecode", std_convert},
    {"jsonencode", std_convert},
    {"keys", std_map},
    {"length", std_length},
    {"lookup", std_lookup},
    {"lower", std_in_place},
    {"max", std_fold},
    {"md5", std_digest},
    {"merge", std_map},
    {"min", std_fold},
    {"parseint", std_parseint},
    {"pow", std_math},
    {"range", std_range},
    {"replace", std_replace},
    {"reverse", std_list},
    {"sha1", std_digest},
    {"sha256", std_digest},
    {"sha512", std_digest},
    {"signum", std_math},
    {"slice", std_slice},
    {"sort", std_list},
    {"split", std_split},
    {"startswith", std_affix},
    {"strrev", std_in_place},
    {"substr", std_substr},
    {"sum", std_fold},
    {"timestamp", std_timestamp},
    {"title", std_in_place},
    {"tobool", std_convert},
    {"tonumber", std_convert},
    {"tostring", std_convert},
    {"trim", std_trim},
    {"trimprefix", std_affix},
    {"trimspace", std_in_place},
    {"trimsuffix", std_affix},
    {"upper", std_in_place},
    {"values", std_map},
};

/* fn_name - the function's name in "std:NAME" or "std:index:NAME", or NULL */
static const char *fn_name(const char *token)
{
    if (strncmp(token, "std:", 4) != 0)
        return NULL;
    token += 4;
    if (!strncmp(token, "index:", 6))
        token += 6;
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
        if (!strcmp(fns[i].name, token))
            return fns[i].name;
    return NULL;
}

bool stack_std_known(const char *token)
{
    return fn_name(token) != NULL;
}

enum err_code stack_std(const char *token, const cJSON *args, const char *dir, cJSON **out,
                        struct err *e)
{
    struct call c = {.name = fn_name(token), .args = args, .dir = dir};

    *out = NULL;
    if (!c.name)
        return err_set(e, ERR_NOTFOUND, "unknown function '%s'", token);
    if (args && !cJSON_IsObject(args))
        return err_set(e, ERR_INVALID, "%s: arguments must be a map", token);
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
        if (fns[i].name == c.name)
            return fns[i].fn(&c, out, e);
    return ERR_NOTFOUND;
}
