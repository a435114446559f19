/* dr.c - the DR function in C: for every invocation (a function URL request
 * or a direct Invoke) it records the request and its region in the DynamoDB
 * table named by TABLE_NAME (the global table) with PutItem, then asks
 * DescribeTable and answers with its region and the table's status:
 *
 *   {"statusCode":200,"body":"{\"region\":\"us-east-1\",\"id\":\"...\",
 *     \"table\":\"...\",\"tableStatus\":\"ACTIVE\",\"replicas\":[...]}"}
 *
 * It runs unchanged on Tandem and on AWS Lambda (provided.al2023):
 *   - endpoint: AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL (Tandem sets
 *     it to the region's own address), else https://dynamodb.REGION.amazonaws.com
 *   - credentials: the execution role's AWS_ACCESS_KEY_ID,
 *     AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, signed with SigV4 below
 * An error from DynamoDB (say AccessDeniedException when the role lacks
 * dynamodb:PutItem) is answered as a 500 naming the error type.
 *
 * Dependencies: libcurl, OpenSSL's libcrypto, cJSON (Debian:
 * libcurl4-openssl-dev libssl-dev libcjson-dev).
 *
 *   cc -O2 -o bootstrap dr.c lambda_runtime.c -lcurl -lcrypto -lcjson
 *   zip dr.zip bootstrap        (or: ./build.sh dr.zip dr) */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lambda_runtime.h"

#define TTL_SECONDS (7 * 24 * 3600) /* items expire after a week */

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

/* -- SigV4
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html) */

static void hex(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", in[i]);
}

static void sha256_hex(const char *data, size_t n, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)data, n, md);
    hex(md, sizeof(md), out);
}

static void hmac(const unsigned char *key, size_t key_len, const char *msg, unsigned char out[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, strlen(msg), out, &len);
}

/* sign - the Authorization header value for a POST / to DynamoDB with the
 * given headers (already lower-case and sorted by name, as SigV4 wants). */
static void sign(const char *const names[], const char *const values[], int n, const char *body,
                 const char *amz_date, const char *region, const char *ak, const char *sk,
                 char *out, size_t cap)
{
    char body_hash[65], creq_hash[65], sig[65], scope[128], signed_names[256] = "";
    char creq[4096], sts[512], kdate[256], date[9];
    unsigned char k[32];
    size_t off;

    memcpy(date, amz_date, 8);
    date[8] = '\0';
    sha256_hex(body, strlen(body), body_hash);
    off = (size_t)snprintf(creq, sizeof(creq), "POST\n/\n\n");
    for (int i = 0; i < n; i++) {
        off += (size_t)snprintf(creq + off, sizeof(creq) - off, "%s:%s\n", names[i], values[i]);
        if (i)
            strcat(signed_names, ";");
        strcat(signed_names, names[i]);
    }
    snprintf(creq + off, sizeof(creq) - off, "\n%s\n%s", signed_names, body_hash);
    sha256_hex(creq, strlen(creq), creq_hash);
    snprintf(scope, sizeof(scope), "%s/%s/dynamodb/aws4_request", date, region);
    snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date, scope, creq_hash);
    snprintf(kdate, sizeof(kdate), "AWS4%s", sk);
    hmac((const unsigned char *)kdate, strlen(kdate), date, k);
    hmac(k, 32, region, k);
    hmac(k, 32, "dynamodb", k);
    hmac(k, 32, "aws4_request", k);
    hmac(k, 32, sts, k);
    hex(k, 32, sig);
    snprintf(out, cap, "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s", ak,
             scope, signed_names, sig);
}

/* -- DynamoDB over libcurl -------------------------------------------------- */

static CURL *curl; /* one handle: its connection stays open between invocations */

struct buf {
    char *p;
    size_t n;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *ud)
{
    struct buf *b = ud;
    size_t add = size * nmemb;
    char *p = realloc(b->p, b->n + add + 1);

    if (!p)
        return 0;
    memcpy(p + b->n, data, add);
    b->p = p;
    b->n += add;
    b->p[b->n] = '\0';
    return add;
}

/* ddb - call DynamoDB operation @op with JSON @request. Returns the parsed
 * answer (caller frees), or NULL with @err set to the error type ("Foo" from
 * "com.amazonaws.dynamodb.v20120810#Foo") and @msg to its message. */
static cJSON *ddb(const char *op, const cJSON *request, char *err, size_t err_cap, char *msg,
                  size_t msg_cap)
{
    const char *region = env_or("AWS_REGION", "us-east-1");
    const char *token = getenv("AWS_SESSION_TOKEN");
    char endpoint[512], host[256], target[64], amz_date[17], auth[512], line[2048];
    char *body = cJSON_PrintUnformatted(request);
    struct curl_slist *hdrs = NULL;
    struct buf got = {0};
    cJSON *doc = NULL;
    long status = 0;
    time_t now = time(NULL);
    struct tm tm;
    CURLcode rc;

    snprintf(endpoint, sizeof(endpoint), "%s",
             env_or("AWS_ENDPOINT_URL_DYNAMODB", env_or("AWS_ENDPOINT_URL", "")));
    if (!*endpoint)
        snprintf(endpoint, sizeof(endpoint), "https://dynamodb.%s.amazonaws.com", region);
    { /* the Host header is the URL's authority, exactly as sent */
        const char *a = strstr(endpoint, "://");
        a = a ? a + 3 : endpoint;
        snprintf(host, sizeof(host), "%.*s", (int)strcspn(a, "/"), a);
    }
    snprintf(target, sizeof(target), "DynamoDB_20120810.%s", op);
    strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
    { /* the signed headers, sorted; the session token only when there is one */
        const char *names[5] = {"content-type", "host", "x-amz-date"};
        const char *values[5] = {"application/x-amz-json-1.0", host, amz_date};
        int n = 3;
        if (token && *token) {
            names[n] = "x-amz-security-token";
            values[n++] = token;
        }
        names[n] = "x-amz-target";
        values[n++] = target;
        sign(names, values, n, body, amz_date, region, env_or("AWS_ACCESS_KEY_ID", ""),
             env_or("AWS_SECRET_ACCESS_KEY", ""), auth, sizeof(auth));
    }
    hdrs = curl_slist_append(hdrs, "Content-Type: application/x-amz-json-1.0");
    snprintf(line, sizeof(line), "Host: %s", host);
    hdrs = curl_slist_append(hdrs, line);
    snprintf(line, sizeof(line), "X-Amz-Date: %s", amz_date);
    hdrs = curl_slist_append(hdrs, line);
    snprintf(line, sizeof(line), "X-Amz-Target: %s", target);
    hdrs = curl_slist_append(hdrs, line);
    if (token && *token) {
        snprintf(line, sizeof(line), "X-Amz-Security-Token: %s", token);
        hdrs = curl_slist_append(hdrs, line);
    }
    snprintf(line, sizeof(line), "Authorization: %s", auth);
    hdrs = curl_slist_append(hdrs, line);
    hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */

    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, endpoint);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &got);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    free(body);

    if (rc != CURLE_OK) {
        snprintf(err, err_cap, "NetworkError");
        snprintf(msg, msg_cap, "%s: %s", endpoint, curl_easy_strerror(rc));
    } else {
        doc = cJSON_Parse(got.p ? got.p : "");
        if (status != 200 || !doc) {
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(doc, "__type");
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "message");
            const char *t = cJSON_IsString(type) ? type->valuestring : "UnknownError";
            if (!cJSON_IsString(m))
                m = cJSON_GetObjectItemCaseSensitive(doc, "Message");
            snprintf(err, err_cap, "%s", strchr(t, '#') ? strchr(t, '#') + 1 : t);
            snprintf(msg, msg_cap, "%s", cJSON_IsString(m) ? m->valuestring : "HTTP error");
            fprintf(stderr, "%s: HTTP %ld %s: %s\n", op, status, err, msg);
            cJSON_Delete(doc);
            doc = NULL;
        }
    }
    free(got.p);
    return doc;
}

/* -- the handler -------------------------------------------------------------- */

static void uuid4(char out[37])
{
    unsigned char b[16];
    char h[33];

    RAND_bytes(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10 */
    hex(b, sizeof(b), h);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

/* put_s - Item[name] = {"S": value} when value is a non-empty string. */
static void put_s(cJSON *item, const char *name, const char *value)
{
    cJSON *av;

    if (!value || !*value)
        return;
    av = cJSON_AddObjectToObject(item, name);
    cJSON_AddStringToObject(av, "S", value);
}

static const char *event_str(const cJSON *event, const char *a, const char *b, const char *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(event, a);
    if (b)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    if (c)
        v = cJSON_GetObjectItemCaseSensitive(v, c);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* answer - the function URL response: @status and @body (JSON, taken). */
static char *answer(int status, cJSON *body)
{
    cJSON *out = cJSON_CreateObject();
    char *text = cJSON_PrintUnformatted(body), *res;

    cJSON_AddNumberToObject(out, "statusCode", status);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(out, "headers"), "content-type",
                            "application/json");
    cJSON_AddStringToObject(out, "body", text);
    res = cJSON_PrintUnformatted(out);
    free(text);
    cJSON_Delete(body);
    cJSON_Delete(out);
    return res;
}

static char *failure(const char *op, const char *err, const char *msg)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "error", err);
    cJSON_AddStringToObject(body, "operation", op);
    cJSON_AddStringToObject(body, "message", msg);
    return answer(500, body);
}

static int handle(const struct lr_invocation *inv, char **response, void *ud)
{
    const char *table = env_or("TABLE_NAME", "");
    const char *region = env_or("AWS_REGION", "");
    cJSON *event = cJSON_Parse(inv->event), *req, *item, *got, *body, *list;
    const cJSON *t, *reps, *r;
    const char *status;
    char id[37], err[128], msg[1024], now_iso[32], ttl[32];
    time_t now = time(NULL);
    struct tm tm;

    (void)ud;
    uuid4(id);
    strftime(now_iso, sizeof(now_iso), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    snprintf(ttl, sizeof(ttl), "%lld", (long long)now + TTL_SECONDS);

    /* PutItem: the request (payload format 2.0 fields, when present) and us */
    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "TableName", table);
    item = cJSON_AddObjectToObject(req, "Item");
    put_s(item, "id", id);
    put_s(item, "region", region);
    put_s(item, "requestId", inv->request_id);
    put_s(item, "method", event_str(event, "requestContext", "http", "method"));
    put_s(item, "path", event_str(event, "rawPath", NULL, NULL));
    put_s(item, "sourceIp", event_str(event, "requestContext", "http", "sourceIp"));
    put_s(item, "requestTime", event_str(event, "requestContext", "time", NULL));
    put_s(item, "at", now_iso);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(item, "ttl"), "N", ttl);
    cJSON_Delete(event);
    got = ddb("PutItem", req, err, sizeof(err), msg, sizeof(msg));
    cJSON_Delete(req);
    if (!got) {
        *response = failure("PutItem", err, msg);
        return 0;
    }
    cJSON_Delete(got);
    printf("recorded %s in %s (%s)\n", id, table, region);
    fflush(stdout);

    /* DescribeTable: its status and replicas */
    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "TableName", table);
    got = ddb("DescribeTable", req, err, sizeof(err), msg, sizeof(msg));
    cJSON_Delete(req);
    if (!got) {
        *response = failure("DescribeTable", err, msg);
        return 0;
    }
    t = cJSON_GetObjectItemCaseSensitive(got, "Table");
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "region", region);
    cJSON_AddStringToObject(body, "id", id);
    cJSON_AddStringToObject(body, "table", table);
    status = event_str(t, "TableStatus", NULL, NULL);
    cJSON_AddStringToObject(body, "tableStatus", status ? status : "UNKNOWN");
    list = cJSON_AddArrayToObject(body, "replicas");
    reps = cJSON_GetObjectItemCaseSensitive(t, "Replicas");
    cJSON_ArrayForEach(r, reps)
    {
        const char *name = event_str(r, "RegionName", NULL, NULL);
        const char *rstatus = event_str(r, "ReplicaStatus", NULL, NULL);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "region", name ? name : "");
        cJSON_AddStringToObject(o, "status", rstatus ? rstatus : "");
        cJSON_AddItemToArray(list, o);
    }
    cJSON_Delete(got);
    *response = answer(200, body);
    return 0;
}

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(curl = curl_easy_init())) {
        fprintf(stderr, "cannot initialise libcurl\n");
        return 1;
    }
    return lr_run(handle, NULL);
}
