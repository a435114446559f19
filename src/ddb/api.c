/* api.c - the DynamoDB JSON 1.0 front: dispatch, argument decoding, errors,
 * response headers. See ddb.h and ddb_int.h. */
#include "ddb.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <zlib.h>

#include "ddb_int.h"
#include "attr.h"
#include "authz_keys.h"
#include "backup.h"
#include "export.h"
#include "batch.h"
#include "item.h"
#include "log.h"
#include "mem.h"
#include "partiql_exec.h"
#include "query.h"
#include "streams.h"
#include "table.h"
#include "tags.h"
#include "ttl.h"
#include "txn.h"
#include "update.h"
#include "wire.h"

#define DDB_NS   "com.amazonaws.dynamodb.v20120810#"
#define CORAL_NS "com.amazon.coral.service#"

static ddb_op_fn describe_endpoints;
static ddb_op_fn describe_limits;

/* The operations, like Redis's command table. */
static const struct {
    const char *name;
    ddb_op_fn *fn;
} ops[] = {
    {"GetItem", item_get},
    {"PutItem", item_put},
    {"DeleteItem", item_delete},
    {"Scan", ddb_scan},
    {"CreateTable", table_create},
    {"DescribeTable", table_describe},
    {"ListTables", table_list},
    {"DeleteTable", table_delete},
    {"UpdateTable", table_update},
    /* the data plane beyond the basic item operations */
    {"UpdateItem", ddb_update_item},
    {"Query", ddb_query},
    {"BatchGetItem", ddb_batch_get},
    {"BatchWriteItem", ddb_batch_write},
    {"TransactWriteItems", ddb_transact_write},
    {"TransactGetItems", ddb_transact_get},
    {"UpdateTimeToLive", ddb_ttl_update},
    {"DescribeTimeToLive", ddb_ttl_describe},
    {"TagResource", ddb_tag_resource},
    {"UntagResource", ddb_untag_resource},
    {"ListTagsOfResource", ddb_list_tags},
    {"DescribeEndpoints", describe_endpoints},
    {"DescribeLimits", describe_limits},
    /* backups and point-in-time recovery (backup.h) */
    {"CreateBackup", backup_create},
    {"DescribeBackup", backup_describe},
    {"ListBackups", backup_list},
    {"DeleteBackup", backup_delete},
    {"RestoreTableFromBackup", backup_restore},
    {"UpdateContinuousBackups", pitr_update},
    {"DescribeContinuousBackups", pitr_describe},
    {"RestoreTableToPointInTime", pitr_restore},
    /* exports to S3 (export.h) */
    {"ExportTableToPointInTime", export_table},
    {"DescribeExport", export_describe},
    {"ListExports", export_list},
    {"ImportTable", import_table},
    {"DescribeImport", import_describe},
    {"ListImports", import_list},
    /* global tables of version 2017.11.29 (table.h) */
    {"CreateGlobalTable", table_global_legacy},
    {"UpdateGlobalTable", table_global_legacy},
    {"DescribeGlobalTable", table_global_legacy},
    {"DescribeGlobalTableSettings", table_global_legacy},
    {"UpdateGlobalTableSettings", table_global_legacy},
    {"ListGlobalTables", table_global_legacy},
    /* PartiQL (partiql_exec.h) */
    {"ExecuteStatement", ddb_partiql_execute},
    {"BatchExecuteStatement", ddb_partiql_batch},
    {"ExecuteTransaction", ddb_partiql_transaction},
};

/* The one table turning an err code into DynamoDB's error shape. */
static const struct {
    enum err_code code;
    int status;
    const char *type;
} errs[] = {
    {ERR_INVALID, 400, "ValidationException"},
    {ERR_TOO_LARGE, 400, "ValidationException"},
    {ERR_DENIED, 400, "AccessDeniedException"},
    {ERR_NOTFOUND, 400, "ResourceNotFoundException"},
    {ERR_CONFLICT, 400, "ConditionalCheckFailedException"},
    {ERR_IN_USE, 400, "ResourceInUseException"},
    {ERR_LIMIT, 400, "LimitExceededException"},
    {ERR_IO, 500, "InternalServerError"},
    {ERR_INTERNAL, 500, "InternalServerError"},
};

/* The authorizer travels with the ddb without a field in struct ddb
 * (ddb_int.h): ddb_open allocates this box, whose first member is the ddb. */
struct ddb_box {
    struct ddb d;
    const struct authz *authz;
    struct ddb_ttl *ttl; /* the TTL sweeper (ttl.h), NULL: none */
};

enum err_code ddb_open(const struct ddb_opts *o, struct ddb **out, struct err *e)
{
    struct ddb_box *box;
    struct ddb *d;

    if (!o->store || !o->region || !o->account || strlen(o->region) >= sizeof(d->region) ||
        strlen(o->account) >= sizeof(d->account))
        return err_set(e, ERR_INVALID, "ddb_open: store, region and account are required");
    pitr_configure();
    box = xcalloc(1, sizeof(*box));
    box->authz = o->authz;
    d = &box->d;
    d->store = o->store;
    strcpy(d->region, o->region);
    strcpy(d->account, o->account);
    if (backup_jobs_start(d, e)) {
        free(box);
        return e->code;
    }
    if (export_jobs_start(d, e)) {
        backup_jobs_stop(d);
        free(box);
        return e->code;
    }
    if (o->ttl_interval_s && ddb_ttl_start(d, o->ttl_interval_s, &box->ttl, e)) {
        export_jobs_stop(d);
        backup_jobs_stop(d);
        free(box);
        return e->code;
    }
    *out = d;
    return ERR_OK;
}

void ddb_quiesce(struct ddb *d)
{
    export_jobs_stop(d); /* an export or import under way is FAILED at the next start */
    backup_jobs_quiesce(d);
}

void ddb_close(struct ddb *d)
{
    if (d)
        ddb_ttl_stop(((struct ddb_box *)d)->ttl);
    export_jobs_stop(d);       /* an export under way is FAILED at the next start */
    backup_jobs_stop(d);       /* a copy under way is cleared at the next start */
    free((struct ddb_box *)d); /* d is the box's first member */
}

/* ---- identifiers ---- */

static _Thread_local uint64_t rng_state;

static uint64_t rng_next(void)
{
    if (!rng_state) {
        if (getrandom(&rng_state, sizeof(rng_state), 0) != sizeof(rng_state))
            rng_state = (uint64_t)(uintptr_t)&rng_state ^ 0x9E3779B97F4A7C15ull;
        rng_state |= 1;
    }
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static void request_id(char out[53])
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    uint64_t x = 0;

    for (int i = 0; i < 52; i++) {
        if (i % 8 == 0)
            x = rng_next();
        out[i] = alnum[(x & 0xff) % 36];
        x >>= 8;
    }
    out[52] = '\0';
}

void ddb_uuid(char out[37])
{
    unsigned char b[16];
    uint64_t x = rng_next(), y = rng_next();

    memcpy(b, &x, 8);
    memcpy(b + 8, &y, 8);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    /* 8-4-4-4-12 lower-case hex digits, without printf (one per stream record) */
    for (size_t i = 0, j = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[j++] = '-';
        out[j++] = "0123456789abcdef"[b[i] >> 4];
        out[j++] = "0123456789abcdef"[b[i] & 15];
    }
    out[36] = '\0';
}

/* ---- NUL characters in strings ----
 *
 * DynamoDB strings may hold U+0000, but parsed JSON strings end at a NUL. A
 * request's "\u0000" escapes are therefore read as the two bytes C0 80 (the
 * "modified UTF-8" NUL, which valid UTF-8 never contains), so items keep them
 * whole and distinct; answers turn C0 80 back into "\u0000". */

/* nul_escape_at - whether the escape starting at @p (a backslash) is \u0000. */
static bool nul_escape_at(const char *p, const char *end)
{
    return end - p >= 6 && memcmp(p, "\\u0000", 6) == 0;
}

/* nul_decode - @body with each \u0000 escape as C0 80 (an arena copy), or
 * @body itself when it has none. */
static const char *nul_decode(struct arena *a, const char *body, size_t *len)
{
    const char *end = body + *len, *p;
    char *out, *o;
    bool any = false;

    for (p = body; (p = memchr(p, '\\', (size_t)(end - p))) != NULL; p += 2) {
        if (nul_escape_at(p, end)) {
            any = true;
            break;
        }
        if (p + 1 >= end)
            break;
    }
    if (!any)
        return body;
    o = out = arena_alloc(a, *len + 1);
    for (p = body; p < end;) {
        if (*p != '\\' || p + 1 >= end) {
            *o++ = *p++;
        } else if (nul_escape_at(p, end)) {
            *o++ = (char)0xC0;
            *o++ = (char)0x80;
            p += 6;
        } else {
            *o++ = *p++;
            *o++ = *p++;
        }
    }
    *o = '\0';
    *len = (size_t)(o - out);
    return out;
}

/* nul_encode - C0 80 in @body back to \u0000 (only ever inside JSON strings). */
static void nul_encode(struct buf *body)
{
    const char *p = body->ptr, *end = body->ptr + body->len, *q;
    struct buf out;

    if (!memchr(p, 0xC0, body->len))
        return;
    buf_init(&out, 0);
    while ((q = memchr(p, 0xC0, (size_t)(end - p))) != NULL) {
        buf_append(&out, p, (size_t)(q - p));
        if (q + 1 < end && (unsigned char)q[1] == 0x80) {
            buf_puts(&out, "\\u0000");
            p = q + 2;
        } else {
            buf_append(&out, q, 1);
            p = q + 1;
        }
    }
    buf_append(&out, p, (size_t)(end - p));
    buf_free(body);
    *body = out;
}

/* ---- responses ---- */

static void respond(struct http_req *r, const char *rid, int status, struct buf *body)
{
    char crc[16], *c = crc + sizeof(crc) - 1;
    unsigned long v;

    enum ddb_wire_enc enc = DDB_WIRE_IDENTITY;

    if (!body->ptr)
        buf_append(body, "", 0);
    nul_encode(body);
    /* DynamoDB compresses answers of 4 KiB and more when asked; x-amz-crc32
     * is then the checksum of the compressed bytes */
    if (status == 200 && body->len >= DDB_WIRE_MIN_COMPRESS)
        enc = ddb_wire_accept(http_req_header(r, "accept-encoding"));
    if (enc != DDB_WIRE_IDENTITY && ddb_wire_encode(body, enc))
        http_resp_header(r, "Content-Encoding", enc == DDB_WIRE_GZIP ? "gzip" : "deflate");
    v = crc32(0L, (const Bytef *)body->ptr, (uInt)body->len);
    *c = '\0'; /* decimal, without snprintf's cost on every answer */
    do {
        *--c = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    http_resp_header(r, "Content-Type", "application/x-amz-json-1.0");
    http_resp_header(r, "x-amzn-RequestId", rid);
    http_resp_header(r, "x-amz-crc32", c);
    http_resp_header(r, "Server", "Server");
    http_respond_buf(r, status, body);
    buf_free(body);
}

/* error_open - {"__type":@type,"@member":@msg without the closing brace. */
static void error_open(struct buf *b, const char *type, const char *member, const char *msg)
{
    buf_puts(b, "{\"__type\":");
    if (strchr(type, '#')) {
        buf_json_str(b, type, strlen(type));
    } else {
        buf_puts(b, "\"" DDB_NS);
        buf_puts(b, type);
        buf_putc(b, '"');
    }
    buf_printf(b, ",\"%s\":", member);
    buf_json_str(b, msg, strlen(msg));
}

void ddb_error_open(struct buf *b, const char *type, const char *msg)
{
    error_open(b, type, "message", msg);
}

void ddb_error_open_with(struct buf *b, const char *type, const char *msg)
{
    error_open(b, type, "Message", msg);
}

static void error_with_id(struct http_req *r, const char *rid, int status, const char *type,
                          const char *msg)
{
    struct buf b;

    buf_init(&b, 0);
    ddb_error_open(&b, type, msg);
    buf_putc(&b, '}');
    respond(r, rid, status, &b);
}

void ddb_respond_error(struct http_req *r, int status, const char *type, const char *msg)
{
    char rid[53];

    request_id(rid);
    error_with_id(r, rid, status, type, msg);
}

/* call_answer - @c's answer: to the client, or to the hook of a call made
 * inside another one (ddb_subcall). */
static void call_answer(struct ddb_call *c, int status, struct buf *body)
{
    if (c->hook) {
        if (!body->ptr)
            buf_append(body, "", 0);
        c->hook(c, status, body);
        buf_free(body);
        return;
    }
    respond(c->r, c->rid, status, body);
}

static void call_error(struct ddb_call *c, int status, const char *type, const char *msg)
{
    struct buf b;

    if (!c->hook) {
        error_with_id(c->r, c->rid, status, type, msg);
        return;
    }
    buf_init(&b, 0);
    ddb_error_open(&b, type, msg);
    buf_putc(&b, '}');
    call_answer(c, status, &b);
}

void ddb_reply(struct ddb_call *c, struct buf *body)
{
    call_answer(c, 200, body);
}

void ddb_reply_status(struct ddb_call *c, int status, struct buf *body)
{
    call_answer(c, status, body);
}

void ddb_reply_type(struct ddb_call *c, const char *type, const char *fmt, ...)
{
    char msg[1400];
    struct buf b;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    buf_init(&b, 0);
    ddb_error_open(&b, type, msg);
    buf_putc(&b, '}');
    ddb_reply_status(c, 400, &b);
}

/* serial_part - when @msg holds the "NUMBER_VALUE can not be converted to
 * String" an AttributeValue check left (attr.h: ATTR_SERIAL_MSG), that part
 * in @out, true. */
static bool serial_part(const char *msg, char *out, size_t n)
{
    const char *end = msg ? strstr(msg, ATTR_SERIAL_MSG) : NULL;
    const char *p = end;

    if (!end)
        return false;
    while (p > msg && p[-1] != ' ')
        p--;
    snprintf(out, n, "%.*s%s", (int)(end - p), p, ATTR_SERIAL_MSG);
    return true;
}

void ddb_reply_err(struct ddb_call *c, enum err_code code, const char *msg)
{
    int status = 500;
    const char *type = "InternalServerError";
    char serial[96];

    if (code == ERR_INVALID && serial_part(msg, serial, sizeof(serial))) {
        call_error(c, 400, CORAL_NS "SerializationException", serial);
        return;
    }

    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        if (errs[i].code == code) {
            status = errs[i].status;
            type = errs[i].type;
            break;
        }
    }
    if (status >= 500)
        log_err("event=ddb_error op=%s code=%s msg=\"%s\"", c->op, err_name(code), msg);
    call_error(c, status, type, msg && *msg ? msg : "Internal server error");
}

/* ---- arguments ---- */

static const char *json_kind(const cJSON *v)
{
    if (cJSON_IsString(v))
        return "STRING_VALUE";
    if (cJSON_IsNumber(v))
        return "NUMBER_VALUE";
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? "VALUE_TRUE" : "VALUE_FALSE";
    return NULL;
}

static void mark_serial(struct ddb_call *c, const cJSON *v, const char *want)
{
    const char *k = json_kind(v);

    if (c->serial)
        return;
    c->serial = true;
    if (k)
        snprintf(c->serial_msg, sizeof(c->serial_msg), "%s can not be converted to %s", k, want);
    else if (cJSON_IsArray(v))
        snprintf(c->serial_msg, sizeof(c->serial_msg), "Start of list found where not expected");
    else
        snprintf(c->serial_msg, sizeof(c->serial_msg),
                 "Start of structure or map found where not expected.");
}

static cJSON *member(const cJSON *obj, const char *name)
{
    cJSON *v;

    if (!cJSON_IsObject(obj))
        return NULL;
    v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNull(v) ? NULL : v;
}

const char *ddb_arg_str(struct ddb_call *c, const cJSON *obj, const char *name)
{
    cJSON *v = member(obj, name);

    if (!v)
        return NULL;
    if (!cJSON_IsString(v)) {
        mark_serial(c, v, "a String");
        return NULL;
    }
    return v->valuestring;
}

cJSON *ddb_arg_obj(struct ddb_call *c, const cJSON *obj, const char *name)
{
    cJSON *v = member(obj, name);

    if (v && !cJSON_IsObject(v)) {
        mark_serial(c, v, "a Structure");
        return NULL;
    }
    return v;
}

cJSON *ddb_arg_arr(struct ddb_call *c, const cJSON *obj, const char *name)
{
    cJSON *v = member(obj, name);

    if (v && !cJSON_IsArray(v)) {
        mark_serial(c, v, "a List");
        return NULL;
    }
    return v;
}

bool ddb_arg_int(struct ddb_call *c, const cJSON *obj, const char *name, int64_t *out)
{
    cJSON *v = member(obj, name);
    double d;

    if (!v)
        return false;
    if (!cJSON_IsNumber(v)) {
        mark_serial(c, v, "an Integer");
        return false;
    }
    d = v->valuedouble;
    if (d != d || d < -9.2e18 || d > 9.2e18 || (double)(int64_t)d != d) {
        if (!c->serial) {
            c->serial = true;
            snprintf(c->serial_msg, sizeof(c->serial_msg),
                     "NUMBER_VALUE can not be converted to an Integer");
        }
        return false;
    }
    *out = (int64_t)d;
    return true;
}

bool ddb_arg_bool(struct ddb_call *c, const cJSON *obj, const char *name, bool *out)
{
    cJSON *v = member(obj, name);

    if (!v)
        return false;
    if (!cJSON_IsBool(v)) {
        mark_serial(c, v, "a Boolean");
        return false;
    }
    *out = cJSON_IsTrue(v);
    return true;
}

int ddb_arg_enum(struct ddb_call *c, const cJSON *obj, const char *name, const char *path,
                 const char *const *vals)
{
    const char *s = ddb_arg_str(c, obj, name);
    struct buf set;

    if (!s)
        return -1;
    for (int i = 0; vals[i]; i++)
        if (strcmp(s, vals[i]) == 0)
            return i;
    buf_init(&set, 0);
    for (int i = 0; vals[i]; i++)
        buf_printf(&set, "%s%s", i ? ", " : "", vals[i]);
    ddb_verr(c,
             "Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value "
             "set: [%s]",
             s, path, set.ptr);
    buf_free(&set);
    return -2;
}

void ddb_verr(struct ddb_call *c, const char *fmt, ...)
{
    va_list ap;
    char msg[1024];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->nverr)
        buf_puts(&c->verr, "; ");
    buf_puts(&c->verr, msg);
    c->nverr++;
}

void ddb_verr_null(struct ddb_call *c, const char *path)
{
    ddb_verr(c, "Value null at '%s' failed to satisfy constraint: Member must not be null", path);
}

size_t ddb_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        /* a lead byte starts a character; one of 4 bytes is a UTF-16 pair */
        n += ((ch & 0xC0) != 0x80) + (ch >= 0xF0);
    }
    return n;
}

/* check_len - @s's length @n (in @unit) against [@min, @max] */
static bool check_len(struct ddb_call *c, const char *s, size_t n, const char *path, size_t min,
                      size_t max, bool required)
{
    if (!s) {
        if (required)
            ddb_verr_null(c, path);
        return required;
    }
    if (n < min)
        ddb_verr(c,
                 "Value '%s' at '%s' failed to satisfy constraint: Member must have length "
                 "greater than or equal to %zu",
                 s, path, min);
    else if (n > max)
        ddb_verr(c,
                 "Value '%.300s' at '%s' failed to satisfy constraint: Member must have length "
                 "less than or equal to %zu",
                 s, path, max);
    return n < min || n > max;
}

bool ddb_check_len(struct ddb_call *c, const char *s, const char *path, size_t min, size_t max,
                   bool required)
{
    return check_len(c, s, s ? strlen(s) : 0, path, min, max, required);
}

bool ddb_check_chars(struct ddb_call *c, const char *s, const char *path, size_t min, size_t max,
                     bool required)
{
    return check_len(c, s, s ? ddb_chars(s) : 0, path, min, max, required);
}

void ddb_check_count(struct ddb_call *c, const cJSON *list, const char *path, int64_t min,
                     int64_t max)
{
    int n = cJSON_GetArraySize(list);

    if (list && (n < min || n > max))
        ddb_verr(c,
                 "Value '%s' at '%s' failed to satisfy constraint: Member must have length %s than "
                 "or equal to %" PRId64,
                 n ? "[...]" : "[]", path, n < min ? "greater" : "less", n < min ? min : max);
}

void ddb_check_range(struct ddb_call *c, bool has, int64_t v, const char *path, int64_t min,
                     int64_t max)
{
    if (has && (v < min || v > max))
        ddb_verr(c,
                 "Value '%" PRId64 "' at '%s' failed to satisfy constraint: Member must have value "
                 "%s than or equal to %" PRId64,
                 v, path, v < min ? "greater" : "less", v < min ? min : max);
}

void ddb_check_table_name(struct ddb_call *c, const char *name, const char *path)
{
    ddb_check_len(c, name, path, 3, 255, true);
    if (name && strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
                    strlen(name))
        ddb_verr(c,
                 "Value '%.300s' at '%s' failed to satisfy constraint: Member must satisfy "
                 "regular expression pattern: [a-zA-Z0-9_.-]+",
                 name, path);
}

bool ddb_args_failed(struct ddb_call *c)
{
    struct buf msg;

    if (c->serial) {
        call_error(c, 400, CORAL_NS "SerializationException", c->serial_msg);
        return true;
    }
    if (!c->nverr)
        return false;
    buf_init(&msg, 0);
    buf_printf(&msg, "%u validation error%s detected: %s", c->nverr, c->nverr == 1 ? "" : "s",
               c->verr.ptr);
    call_error(c, 400, "ValidationException", msg.ptr);
    buf_free(&msg);
    return true;
}

/* describe_endpoints - DescribeEndpoints: the one address this region
 * answers on, as the client reached it (Host), for endpoint discovery. */
static void describe_endpoints(struct ddb_call *c)
{
    const char *host = http_req_header(c->r, "host");
    struct buf b;

    if (!host || !*host)
        host = arena_sprintf(c->a, "dynamodb.%s.amazonaws.com", c->d->region);
    buf_init(&b, 0);
    buf_puts(&b, "{\"Endpoints\":[{\"Address\":");
    buf_json_str(&b, host, strlen(host));
    buf_puts(&b, ",\"CachePeriodInMinutes\":1440}]}");
    ddb_reply(c, &b);
}

/* describe_limits - DescribeLimits: the provisioned capacity an account and
 * a table may have, DynamoDB's default quotas (40,000 units per table, 80,000
 * per account, each of reads and writes). */
static void describe_limits(struct ddb_call *c)
{
    struct buf b;

    buf_init(&b, 0);
    buf_puts(&b, "{\"AccountMaxReadCapacityUnits\":80000,\"AccountMaxWriteCapacityUnits\":80000,"
                 "\"TableMaxReadCapacityUnits\":40000,\"TableMaxWriteCapacityUnits\":40000}");
    ddb_reply(c, &b);
}

/* ---- dispatch ---- */

static void json_free(void *p)
{
    cJSON_Delete(p);
}

static void verr_free(void *p)
{
    buf_free(p);
}

/* json_content_type - the body is declared JSON 1.0 (or plain JSON). In-process
 * requests (no peer address) may leave the header out. */
static bool json_content_type(const struct http_req *r)
{
    const char *ct = http_req_header(r, "content-type");
    static const char *const ok[] = {"application/x-amz-json-1.0", "application/json"};

    if (!ct)
        return !r->remote_addr || !*r->remote_addr;
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(ok[i]);

        if (strncasecmp(ct, ok[i], n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
            return true;
    }
    return false;
}

/* batch_keys - the condition keys of one table's requests of BatchGetItem
 * ({Keys, ProjectionExpression...}) or BatchWriteItem ([{PutRequest},
 * {DeleteRequest}]). */
static void batch_keys(struct ddb_call *c, const cJSON *tb, struct ddb_kvs *l)
{
    const cJSON *x, *writes = cJSON_IsArray(tb) ? tb : NULL;

    if (cJSON_IsObject(tb)) {
        ddb_authz_keys(c, tb, ddb_table_name(c->d, tb->string), l);
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(tb, "Keys"))
        {
            cJSON *w = cJSON_CreateObject();
            cJSON_AddItemReferenceToObject(w, "Key", (cJSON *)x);
            ddb_authz_keys(c, w, ddb_table_name(c->d, tb->string), l);
            cJSON_Delete(w);
        }
    }
    cJSON_ArrayForEach(x, writes)
    {
        const cJSON *put = cJSON_GetObjectItemCaseSensitive(x, "PutRequest");
        ddb_authz_keys(c, put ? put : cJSON_GetObjectItemCaseSensitive(x, "DeleteRequest"),
                       ddb_table_name(c->d, tb->string), l);
    }
}

/* authorized - whether @who may run @c's operation: dynamodb:<Op> on the
 * table's ARN (ListTables, DescribeEndpoints, DescribeLimits: "*"), with the request's global
 * condition keys. Answers AccessDeniedException when not. */
static bool authorized(struct ddb_call *c, const struct creds_identity *who)
{
    const struct ddb_box *box = (const struct ddb_box *)c->d;
    const char *table = NULL;
    struct ddb_kvs base = {0}, l;
    struct authz_request q = {0};
    struct err e = {0};

    if (!box->authz || (who && who->root))
        return true;
    if (strcmp(c->op, "ListTables") != 0 && strcmp(c->op, "DescribeEndpoints") != 0 &&
        strcmp(c->op, "DescribeLimits") != 0) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(c->in, "TableName");
        table = cJSON_IsString(t) ? t->valuestring : "";
    }
    /* TagResource, UntagResource, ListTagsOfResource: the table of ResourceArn */
    if (table && !table[0] && strstr(c->op, "Tag")) {
        const cJSON *arn = cJSON_GetObjectItemCaseSensitive(c->in, "ResourceArn");
        table = cJSON_IsString(arn) && strstr(arn->valuestring, ":table/")
                    ? strstr(arn->valuestring, ":table/") + 7
                    : "";
    }
    /* the legacy global tables API: the global table's ARN (ListGlobalTables: "*") */
    if (strstr(c->op, "GlobalTable")) {
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(c->in, "GlobalTableName");
        table = NULL;
        q.resource = cJSON_IsString(g) ? arena_sprintf(c->a, "arn:aws:dynamodb::%s:global-table/%s",
                                                       c->d->account, g->valuestring)
                                       : "*";
    }
    if (c->r->remote_addr && *c->r->remote_addr)
        ddb_kvs_add(c, &base, "aws:SourceIp", c->r->remote_addr);
    ddb_kvs_add(c, &base, "aws:SecureTransport", c->r->tls ? "true" : "false");
    ddb_kvs_add(c, &base, "aws:RequestedRegion", c->d->region);
    q.who = who;
    q.action = arena_sprintf(c->a, "dynamodb:%s", c->op);
    if (!q.resource)
        q.resource = table ? arena_sprintf(c->a, "arn:aws:dynamodb:%s:%s:table/%s", c->d->region,
                                           c->d->account, table)
                           : "*";
    q.context = base.kv;
    q.ncontext = base.n;
    /* DynamoDB Streams: the stream's ARN (ListStreams: "*") */
    if (streams_auth_resource(c)) {
        q.resource = streams_auth_resource(c);
        if (authz_check(box->authz, &q, &e) == ERR_OK)
            return true;
        error_with_id(c->r, c->rid, 400, "AccessDeniedException", e.msg);
        return false;
    }
    /* backups and PITR: the table's or the backup's ARN (ListBackups: "*");
     * exports and imports: the table's or the export's ARN, then the bucket */
    if (backup_auth_resource(c) || export_auth_resource(c)) {
        const char *(*next)(struct ddb_call *, size_t, const char **) =
            backup_auth_resource(c) ? backup_target_action : export_target_action;

        q.resource = backup_auth_resource(c) ? backup_auth_resource(c) : export_auth_resource(c);
        for (size_t i = 0; q.action; q.action = next(c, i++, &q.resource))
            if (authz_check(box->authz, &q, &e) != ERR_OK) {
                error_with_id(c->r, c->rid, 400, "AccessDeniedException", e.msg);
                return false;
            }
        return true;
    }
    /* BatchGetItem / BatchWriteItem: the operation's own action on every
     * table named in RequestItems, as the service checks it */
    if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(c->in, "RequestItems"))) {
        const cJSON *ri = cJSON_GetObjectItemCaseSensitive(c->in, "RequestItems");

        for (const cJSON *tb = ri->child; tb; tb = tb->next) {
            const char *tn = ddb_table_name(c->d, tb->string);

            q.resource = arena_sprintf(c->a, "arn:aws:dynamodb:%s:%s:table/%s", c->d->region,
                                       c->d->account, tn ? tn : "");
            l = base;
            batch_keys(c, tb, &l);
            q.context = l.kv;
            q.ncontext = l.n;
            if (authz_check(box->authz, &q, &e) != ERR_OK) {
                error_with_id(c->r, c->rid, 400, "AccessDeniedException", e.msg);
                return false;
            }
        }
        return true;
    }
    /* TransactWriteItems / TransactGetItems: each action's item action
     * (PutItem, UpdateItem, DeleteItem, ConditionCheckItem, GetItem) on its table */
    if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(c->in, "TransactItems"))) {
        static const char *const acts[][2] = {{"Put", "PutItem"},
                                              {"Update", "UpdateItem"},
                                              {"Delete", "DeleteItem"},
                                              {"ConditionCheck", "ConditionCheckItem"},
                                              {"Get", "GetItem"}};
        const cJSON *ti;

        cJSON_ArrayForEach(ti, cJSON_GetObjectItemCaseSensitive(c->in, "TransactItems"))
        {
            for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
                const cJSON *a = cJSON_GetObjectItemCaseSensitive(ti, acts[i][0]);
                const cJSON *tn = cJSON_GetObjectItemCaseSensitive(a, "TableName");

                if (!cJSON_IsObject(a))
                    continue;
                q.action = arena_sprintf(c->a, "dynamodb:%s", acts[i][1]);
                q.resource =
                    arena_sprintf(c->a, "arn:aws:dynamodb:%s:%s:table/%s", c->d->region,
                                  c->d->account, cJSON_IsString(tn) ? tn->valuestring : "");
                l = base;
                ddb_authz_keys(c, a, cJSON_IsString(tn) ? tn->valuestring : NULL, &l);
                q.context = l.kv;
                q.ncontext = l.n;
                if (authz_check(box->authz, &q, &e) != ERR_OK) {
                    error_with_id(c->r, c->rid, 400, "AccessDeniedException", e.msg);
                    return false;
                }
            }
        }
        return true;
    }
    /* Query and Scan of an index: the index's ARN, as DynamoDB checks it */
    if (table && (strcmp(c->op, "Query") == 0 || strcmp(c->op, "Scan") == 0)) {
        const cJSON *ix = cJSON_GetObjectItemCaseSensitive(c->in, "IndexName");
        if (cJSON_IsString(ix))
            q.resource = arena_sprintf(c->a, "%s/index/%s", q.resource, ix->valuestring);
    }
    l = base;
    ddb_authz_keys(c, c->in, table, &l);
    if (strcmp(c->op, "Query") == 0 || strcmp(c->op, "Scan") == 0)
        ddb_authz_select_default(c, c->in, &l);
    q.context = l.kv;
    q.ncontext = l.n;
    if (authz_check(box->authz, &q, &e) == ERR_OK)
        return true;
    error_with_id(c->r, c->rid, 400, "AccessDeniedException", e.msg);
    return false;
}

bool ddb_authorize(struct ddb_call *c, const char *action, const char *table, const char *index,
                   const cJSON *in, const char *const *extra, char *msg, size_t n)
{
    const struct ddb_box *box = (const struct ddb_box *)c->d;
    struct ddb_kvs l = {0};
    struct authz_request q = {0};
    struct err e = {0};

    if (!box->authz || (c->who && c->who->root))
        return true;
    if (c->r->remote_addr && *c->r->remote_addr)
        ddb_kvs_add(c, &l, "aws:SourceIp", c->r->remote_addr);
    ddb_kvs_add(c, &l, "aws:SecureTransport", c->r->tls ? "true" : "false");
    ddb_kvs_add(c, &l, "aws:RequestedRegion", c->d->region);
    ddb_authz_keys(c, in, table, &l);
    for (size_t i = 0; extra && extra[i] && extra[i + 1]; i += 2)
        ddb_kvs_add(c, &l, extra[i], extra[i + 1]);
    q.who = c->who;
    q.action = arena_sprintf(c->a, "dynamodb:%s", action);
    q.resource = arena_sprintf(c->a, "arn:aws:dynamodb:%s:%s:table/%s%s%s", c->d->region,
                               c->d->account, table, index ? "/index/" : "", index ? index : "");
    q.context = l.kv;
    q.ncontext = l.n;
    if (authz_check(box->authz, &q, &e) == ERR_OK)
        return true;
    snprintf(msg, n, "%s", e.msg);
    return false;
}

struct ddb_call *ddb_subcall(struct ddb_call *parent, const char *op, cJSON *in, ddb_hook_fn *hook,
                             void *arg)
{
    struct ddb_call *c = arena_calloc(parent->a, sizeof(*c));

    c->d = parent->d;
    c->r = parent->r;
    c->a = parent->a;
    c->op = op;
    c->in = in;
    c->who = parent->who;
    memcpy(c->rid, parent->rid, sizeof(c->rid));
    c->hook = hook;
    c->hook_arg = arg;
    if (in)
        arena_on_free(parent->a, json_free, in);
    buf_init(&c->verr, 0);
    arena_on_free(parent->a, verr_free, &c->verr);
    return c;
}

/* the answer of a ddb_streams_call */
struct local_answer {
    int status;
    struct buf *out;
};

static void local_hook(struct ddb_call *c, int status, struct buf *body)
{
    struct local_answer *la = c->hook_arg;

    la->status = status;
    buf_append(la->out, body->ptr, body->len);
}

int ddb_streams_call(struct ddb *d, const char *op, const char *in, struct buf *out)
{
    struct arena *a = arena_new();
    struct ddb_call *c = arena_calloc(a, sizeof(*c));
    struct local_answer la = {400, out};
    ddb_op_fn *fn = streams_op(op);

    c->d = d;
    c->a = a;
    c->op = op;
    request_id(c->rid);
    buf_init(&c->verr, 0);
    arena_on_free(a, verr_free, &c->verr);
    c->hook = local_hook;
    c->hook_arg = &la;
    c->in = cJSON_Parse(in);
    if (c->in)
        arena_on_free(a, json_free, c->in);
    if (fn && cJSON_IsObject(c->in))
        fn(c);
    arena_free(a);
    return la.status;
}

ddb_op_fn *ddb_op_find(const char *op)
{
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(ops[i].name, op) == 0)
            return ops[i].fn;
    return NULL;
}

static void handle(struct ddb *d, struct http_req *r, const char *op,
                   const struct creds_identity *who, bool streams);

void ddb_handle(struct ddb *d, struct http_req *r, const char *op, const struct creds_identity *who)
{
    handle(d, r, op, who, false);
}

void ddb_streams_handle(struct ddb *d, struct http_req *r, const char *op,
                        const struct creds_identity *who)
{
    handle(d, r, op, who, true);
}

const char *ddb_table_name(const struct ddb *d, const char *s)
{
    const char *p, *name;
    size_t n;

    if (!s || strncmp(s, "arn:", 4) != 0)
        return s;
    /* arn:<partition>:dynamodb:<region>:<account>:table/<name> */
    p = strchr(s + 4, ':');
    if (!p || strncmp(p, ":dynamodb:", 10) != 0)
        return s; /* not a table ARN: the name check refuses it */
    p += 10;
    name = strstr(p, ":table/");
    if (!name || strchr(name + 7, '/') || !name[7])
        return s;
    n = strlen(d->region);
    if (strncmp(p, d->region, n) != 0 || p[n] != ':' ||
        strncmp(p + n + 1, d->account, strlen(d->account)) != 0 ||
        p + n + 1 + strlen(d->account) != name)
        return NULL;
    return name + 7;
}

/* arn_elsewhere - answer ResourceNotFoundException for the ARN @s of a table
 * in another region or account, which this region cannot reach. */
static void arn_elsewhere(struct ddb_call *c, const char *s)
{
    char msg[1200];

    snprintf(msg, sizeof(msg), "Requested resource not found: Table: %.1024s not found", s);
    ddb_reply_err(c, ERR_NOTFOUND, msg);
}

/* table_arn_name - "table name overloading": a request whose TableName is the
 * ARN of one of this region's tables names that table (every operation but
 * CreateTable), and so does each TransactItems action's TableName and each key
 * of RequestItems (BatchGetItem, BatchWriteItem; those keys are resolved where
 * used, since the answer names each table as the caller did). False after
 * answering for the ARN of a table in another region or account. */
static bool table_arn_name(struct ddb_call *c)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(c->in, "TableName");
    const cJSON *ri = cJSON_GetObjectItemCaseSensitive(c->in, "RequestItems");
    const cJSON *ti;
    const char *s = cJSON_GetStringValue(t), *name;

    if (s && strcmp(c->op, "CreateTable") != 0) {
        if (!(name = ddb_table_name(c->d, s))) {
            arn_elsewhere(c, s);
            return false;
        }
        if (name != s)
            cJSON_ReplaceItemInObjectCaseSensitive(c->in, "TableName", cJSON_CreateString(name));
    }
    for (const cJSON *tb = cJSON_IsObject(ri) ? ri->child : NULL; tb; tb = tb->next)
        if (!ddb_table_name(c->d, tb->string)) {
            arn_elsewhere(c, tb->string);
            return false;
        }
    cJSON_ArrayForEach(ti, cJSON_GetObjectItemCaseSensitive(c->in, "TransactItems"))
    {
        for (cJSON *a = cJSON_IsObject(ti) ? ti->child : NULL; a; a = a->next) {
            s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "TableName"));
            if (!s || !cJSON_IsObject(a))
                continue;
            if (!(name = ddb_table_name(c->d, s))) {
                arn_elsewhere(c, s);
                return false;
            }
            if (name != s)
                cJSON_ReplaceItemInObjectCaseSensitive(a, "TableName", cJSON_CreateString(name));
        }
    }
    return true;
}

/* handle - @streams: a DynamoDB Streams operation (streams.h) */
static void handle(struct ddb *d, struct http_req *r, const char *op,
                   const struct creds_identity *who, bool streams)
{
    struct ddb_call *c;
    ddb_op_fn *fn = NULL;
    char msg[160];
    const char *enc;
    struct err e = {0};
    enum err_code rc;
    size_t bad;

    c = arena_calloc(r->arena, sizeof(*c));
    c->d = d;
    c->r = r;
    c->a = r->arena;
    c->op = op ? op : "";
    c->who = who;
    request_id(c->rid);
    buf_init(&c->verr, 0);
    arena_on_free(r->arena, verr_free, &c->verr);

    if (streams)
        fn = streams_op(c->op);
    for (size_t i = 0; !streams && i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (strcmp(ops[i].name, c->op) == 0) {
            fn = ops[i].fn;
            break;
        }
    }
    if (!fn) {
        snprintf(msg, sizeof(msg), "Unknown operation: %.100s", c->op);
        error_with_id(r, c->rid, 400, CORAL_NS "UnknownOperationException", msg);
        return;
    }
    if (!json_content_type(r)) {
        error_with_id(r, c->rid, 400, CORAL_NS "UnknownOperationException",
                      "Content-Type must be application/x-amz-json-1.0");
        return;
    }
    if (r->body_too_large) {
        error_with_id(r, c->rid, 413, CORAL_NS "RequestEntityTooLargeException",
                      "Request entity too large");
        return;
    }
    if ((enc = http_req_header(r, "content-encoding")) != NULL &&
        (rc = ddb_wire_decode(&r->body, enc, &e)) != ERR_OK) {
        /* DynamoDB answers an unknown encoding or a corrupt body with 500 */
        if (rc == ERR_TOO_LARGE)
            error_with_id(r, c->rid, 413, CORAL_NS "RequestEntityTooLargeException", e.msg);
        else
            error_with_id(r, c->rid, 500, DDB_NS "InternalServerError", e.msg);
        return;
    }
    /* JSON is UTF-8: other bytes would be stored and sent back as they are */
    if ((bad = ddb_wire_utf8_bad(r->body.ptr, r->body.len)) < r->body.len) {
        snprintf(msg, sizeof(msg), "Invalid UTF-8 byte 0x%02x at offset %zu of the request body",
                 (unsigned char)r->body.ptr[bad], bad);
        error_with_id(r, c->rid, 400, CORAL_NS "SerializationException", msg);
        return;
    }
    if (r->body.len == 0) {
        c->in = cJSON_CreateObject();
    } else {
        const char *end = NULL;
        size_t len = r->body.len;
        const char *text = nul_decode(r->arena, r->body.ptr, &len);

        /* the text keeps a NUL after it: count it, so trailing bytes are refused */
        c->in = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
    }
    if (c->in)
        arena_on_free(r->arena, json_free, c->in);
    if (!cJSON_IsObject(c->in)) {
        error_with_id(r, c->rid, 400, CORAL_NS "SerializationException",
                      c->in ? "Start of list found where not expected"
                            : "Request body is not valid JSON");
        return;
    }
    /* PartiQL authorizes each statement on its table (partiql_exec.c) */
    if (!table_arn_name(c) || (!partiql_op(c->op) && !authorized(c, who)))
        return;
    fn(c);
}
