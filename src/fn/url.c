/* url.c - function URLs: HTTP request -> payload format 2.0 event, function
 * result -> HTTP response (AWS "Invoking Lambda function URLs": the event and
 * response formats); also the Runtime API's request parsing. Pure functions. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "clock.h"
#include "codec.h"
#include "fn_int.h"
#include "mem.h"
#include "url.h"

#define URL_PREFIX "/lambda-url/"

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool fn_url_match(const struct http_req *r, char *id, size_t cap, const char **raw_path)
{
    const char *host = http_req_header(r, "host");
    const char *p = r->path;
    size_t n;

    if (strncmp(p, URL_PREFIX, sizeof(URL_PREFIX) - 1) == 0) {
        p += sizeof(URL_PREFIX) - 1;
        for (n = 0; id_char(p[n]); n++)
            ;
        if (n == 0 || n >= cap || (p[n] && p[n] != '/'))
            return false;
        memcpy(id, p, n);
        id[n] = '\0';
        *raw_path = p[n] ? arena_strdup(r->arena, p + n) : "/";
        return true;
    }
    if (host) {
        const char *dot = strstr(host, ".lambda-url.");
        for (n = 0; id_char(host[n]); n++)
            ;
        if (dot && dot == host + n && n > 0 && n < cap) {
            memcpy(id, host, n);
            id[n] = '\0';
            *raw_path = r->path;
            return true;
        }
    }
    return false;
}

/* add_joined - set @obj[@k] to @v, or append ",@v" when present (AWS joins
 * repeated headers and query parameters with commas). */
static void add_joined(cJSON *obj, const char *k, const char *v)
{
    cJSON *old = cJSON_GetObjectItemCaseSensitive(obj, k);

    if (old && cJSON_IsString(old)) {
        size_t n = strlen(old->valuestring) + strlen(v) + 2;
        char *j = xmalloc(n);
        snprintf(j, n, "%s,%s", old->valuestring, v);
        cJSON_ReplaceItemInObjectCaseSensitive(obj, k, cJSON_CreateString(j));
        free(j);
    } else
        cJSON_AddStringToObject(obj, k, v);
}

static bool textual(const char *ct)
{
    if (!ct)
        return true;
    return strncmp(ct, "text/", 5) == 0 || strstr(ct, "json") || strstr(ct, "xml") ||
           strstr(ct, "javascript") || strstr(ct, "x-www-form-urlencoded");
}

static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t k, need = c < 0x80             ? 0
                         : (c & 0xE0) == 0xC0 ? 1
                         : (c & 0xF0) == 0xE0 ? 2
                         : (c & 0xF8) == 0xF0 ? 3
                                              : 9;
        if (need == 9 || (need == 1 && c < 0xC2) || i + need >= n)
            return false;
        for (k = 1; k <= need; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
        if (c == 0)
            return false;
        i += need + 1;
    }
    return true;
}

/* cookies - split a Cookie header into @arr; false for a malformed one
 * (a pair without '=' or with an empty name, or control characters). */
static bool cookies(cJSON *arr, const char *v)
{
    const char *p = v;

    while (*p) {
        const char *end = strchr(p, ';'), *eq;
        size_t n;
        while (*p == ' ')
            p++;
        n = end ? (size_t)(end - p) : strlen(p);
        while (n && p[n - 1] == ' ')
            n--;
        if (n) {
            char *c = xstrndup(p, n);
            size_t i;
            eq = strchr(c, '=');
            for (i = 0; i < n; i++)
                if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f)
                    eq = NULL;
            if (!eq || eq == c) {
                free(c);
                return false;
            }
            cJSON_AddItemToArray(arr, cJSON_CreateString(c));
            free(c);
        }
        if (!end)
            break;
        p = end + 1;
    }
    return true;
}

char *fn_url_event(const struct http_req *r, const char *url_id, const char *raw_path,
                   const char *account, struct err *e)
{
    cJSON *ev = cJSON_CreateObject(), *hs = cJSON_CreateObject(), *cs = cJSON_CreateArray();
    cJSON *qs = NULL, *ctx, *http;
    const char *host = http_req_header(r, "host"), *ct = http_req_header(r, "content-type");
    const char *ua = http_req_header(r, "user-agent");
    char rid[40], tbuf[64], h[33];
    int64_t ms = clock_wall_ms();
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char *out = NULL;
    size_t i;

    cJSON_AddStringToObject(ev, "version", "2.0");
    cJSON_AddStringToObject(ev, "routeKey", "$default");
    cJSON_AddStringToObject(ev, "rawPath", raw_path);
    cJSON_AddStringToObject(ev, "rawQueryString", r->query ? r->query : "");
    for (i = 0; i < r->nheaders; i++) {
        const char *n = r->headers[i].name, *v = r->headers[i].value;
        if (strcmp(n, "cookie") == 0) {
            if (!cookies(cs, v)) {
                err_set(e, ERR_INVALID, "malformed Cookie header");
                goto out;
            }
            continue;
        }
        add_joined(hs, n, v);
    }
    if (cJSON_GetArraySize(cs))
        cJSON_AddItemToObject(ev, "cookies", cs);
    else
        cJSON_Delete(cs);
    cs = NULL;
    cJSON_AddItemToObject(ev, "headers", hs);
    hs = NULL;
    if (r->query && *r->query) {
        size_t pos = 0, qlen = strlen(r->query);
        struct url_param p;
        qs = cJSON_CreateObject();
        while (url_query_next(r->query, qlen, &pos, &p))
            add_joined(qs, url_decode(r->arena, p.key, p.key_len),
                       url_decode(r->arena, p.val, p.val_len));
        cJSON_AddItemToObject(ev, "queryStringParameters", qs);
    }
    ctx = cJSON_AddObjectToObject(ev, "requestContext");
    cJSON_AddStringToObject(ctx, "accountId", "anonymous");
    (void)account;
    cJSON_AddStringToObject(ctx, "apiId", url_id);
    cJSON_AddStringToObject(ctx, "domainName", host ? host : "localhost");
    cJSON_AddStringToObject(ctx, "domainPrefix", url_id);
    http = cJSON_AddObjectToObject(ctx, "http");
    cJSON_AddStringToObject(http, "method", r->method);
    cJSON_AddStringToObject(http, "path", raw_path);
    cJSON_AddStringToObject(http, "protocol", "HTTP/1.1");
    cJSON_AddStringToObject(http, "sourceIp", r->remote_addr ? r->remote_addr : "127.0.0.1");
    cJSON_AddStringToObject(http, "userAgent", ua ? ua : "");
    {
        unsigned char rb[16];
        if (getrandom(rb, sizeof(rb), 0) != (ssize_t)sizeof(rb))
            memset(rb, 0, sizeof(rb));
        hex_encode(rb, sizeof(rb), h);
    }
    snprintf(rid, sizeof(rid), "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
    cJSON_AddStringToObject(ctx, "requestId", rid);
    cJSON_AddStringToObject(ctx, "routeKey", "$default");
    cJSON_AddStringToObject(ctx, "stage", "$default");
    gmtime_r(&s, &tm);
    strftime(tbuf, sizeof(tbuf), "%d/%b/%Y:%H:%M:%S +0000", &tm);
    cJSON_AddStringToObject(ctx, "time", tbuf);
    cJSON_AddNumberToObject(ctx, "timeEpoch", (double)ms);
    if (r->body.len) {
        bool text = textual(ct) && utf8_valid((const unsigned char *)r->body.ptr, r->body.len);
        if (text) {
            cJSON_AddStringToObject(ev, "body", r->body.ptr);
        } else {
            char *b64 = xmalloc(base64_encoded_len(r->body.len) + 1);
            base64_encode(r->body.ptr, r->body.len, b64);
            cJSON_AddStringToObject(ev, "body", b64);
            free(b64);
        }
        cJSON_AddBoolToObject(ev, "isBase64Encoded", !text);
    } else
        cJSON_AddBoolToObject(ev, "isBase64Encoded", false);
    out = cJSON_PrintUnformatted(ev);
out:
    cJSON_Delete(cs);
    cJSON_Delete(hs);
    cJSON_Delete(ev);
    return out;
}

int fn_url_result(struct http_req *r, const char *res, size_t len, struct buf *out)
{
    cJSON *doc = cJSON_ParseWithLength(res, len);
    const cJSON *sc, *hs, *cs, *body, *b64, *it;
    int status = 200;

    buf_init(out, 0);
    sc = cJSON_GetObjectItemCaseSensitive(doc, "statusCode");
    if (!cJSON_IsObject(doc) || !sc) {
        /* the shortcut: any other JSON is the body of a 200 application/json */
        http_resp_header(r, "Content-Type", "application/json");
        if (doc || len == 0)
            buf_append(out, res, len);
        else { /* not JSON at all: the function's text as is */
            buf_append(out, res, len);
        }
        cJSON_Delete(doc);
        return 200;
    }
    if (cJSON_IsNumber(sc) && sc->valuedouble >= 100 && sc->valuedouble <= 599)
        status = sc->valueint;
    else if (cJSON_IsString(sc) && atoi(sc->valuestring) >= 100 && atoi(sc->valuestring) <= 599)
        status = atoi(sc->valuestring);
    else {
        cJSON_Delete(doc);
        http_resp_header(r, "Content-Type", "application/json");
        buf_puts(out, "{\"Message\":null}");
        return 502;
    }
    hs = cJSON_GetObjectItemCaseSensitive(doc, "headers");
    cJSON_ArrayForEach(it, hs)
    {
        if (cJSON_IsString(it) && !strchr(it->string, '\n') && !strchr(it->valuestring, '\n') &&
            !strchr(it->string, '\r') && !strchr(it->valuestring, '\r'))
            http_resp_header(r, it->string, it->valuestring);
        else if (cJSON_IsNumber(it) || cJSON_IsBool(it)) {
            char *v = cJSON_PrintUnformatted(it);
            http_resp_header(r, it->string, v);
            free(v);
        }
    }
    if (!cJSON_GetObjectItem(hs, "content-type"))
        http_resp_header(r, "Content-Type", "application/json");
    cs = cJSON_GetObjectItemCaseSensitive(doc, "cookies");
    cJSON_ArrayForEach(it, cs)
    {
        if (cJSON_IsString(it) && !strpbrk(it->valuestring, "\r\n"))
            http_resp_header(r, "Set-Cookie", it->valuestring);
    }
    body = cJSON_GetObjectItemCaseSensitive(doc, "body");
    b64 = cJSON_GetObjectItemCaseSensitive(doc, "isBase64Encoded");
    if (cJSON_IsString(body)) {
        size_t n = strlen(body->valuestring);
        if (cJSON_IsTrue(b64)) {
            unsigned char *dec = xmalloc(n / 4 * 3 + 3);
            size_t dl = 0;
            if (base64_decode(body->valuestring, n, dec, &dl))
                buf_append(out, dec, dl);
            else
                status = 502;
            free(dec);
        } else
            buf_append(out, body->valuestring, n);
    } else if (body && !cJSON_IsNull(body)) {
        char *t = cJSON_PrintUnformatted(body);
        buf_puts(out, t);
        free(t);
    }
    cJSON_Delete(doc);
    return status;
}

enum fn_rapi_op fn_rapi_parse(const char *method, const char *path, char *id, size_t cap)
{
    static const char inv[] = "/2018-06-01/runtime/invocation/";
    const char *p, *slash;
    size_t n;

    if (!method || !path)
        return FN_RAPI_BAD;
    if (strcmp(path, "/2018-06-01/runtime/init/error") == 0)
        return strcmp(method, "POST") == 0 ? FN_RAPI_INIT_ERROR : FN_RAPI_BAD;
    if (strncmp(path, inv, sizeof(inv) - 1) != 0)
        return FN_RAPI_BAD;
    p = path + sizeof(inv) - 1;
    if (strcmp(p, "next") == 0)
        return strcmp(method, "GET") == 0 ? FN_RAPI_NEXT : FN_RAPI_BAD;
    if (strcmp(method, "POST") != 0)
        return FN_RAPI_BAD;
    slash = strchr(p, '/');
    if (!slash)
        return FN_RAPI_BAD;
    n = (size_t)(slash - p);
    if (n == 0 || n >= cap || n > 63)
        return FN_RAPI_BAD;
    memcpy(id, p, n);
    id[n] = '\0';
    if (strcmp(slash, "/response") == 0)
        return FN_RAPI_RESPONSE;
    if (strcmp(slash, "/error") == 0)
        return FN_RAPI_ERROR;
    return FN_RAPI_BAD;
}
