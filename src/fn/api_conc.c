/* api_conc.c - reserved concurrency: PutFunctionConcurrency,
 * GetFunctionConcurrency, DeleteFunctionConcurrency; and GetAccountSettings,
 * which reports the account's concurrency and code storage.
 *
 * A function's reserved concurrency caps the invocations of all its versions
 * that run or wait at once (runtime.c counts them): one past it is
 * throttled, as Lambda throttles it (a synchronous call or function URL
 * answers 429 TooManyRequestsException, Reason
 * ReservedFunctionConcurrentInvocationLimitExceeded; an asynchronous event
 * waits and is tried again while its age allows). 0 stops the function
 * altogether, which is how an operator switches a function off in one region.
 * Kept as the function document's private member "_Reserved"; GetFunction
 * shows it as Concurrency. As in Lambda, the reservations of an account's
 * functions leave at least 100 of its 1000 concurrent executions
 * unreserved. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "mem.h"

enum { ACCOUNT_CONCURRENCY = 1000, UNRESERVED_MIN = 100 };

/* reserved_elsewhere - the reservations of every function but @name. */
static long reserved_elsewhere(struct fn *f, const char *name)
{
    cJSON *names = fn_reg_names(f);
    const cJSON *n;
    long sum = 0;

    cJSON_ArrayForEach(n, names)
    {
        int v;
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) != 0 &&
            (v = fn_reg_reserved(f, n->valuestring)) > 0)
            sum += v;
    }
    cJSON_Delete(names);
    return sum;
}

static bool change_put(struct op *o, cJSON **doc)
{
    long n = strtol(o->arg, NULL, 10);

    if (!fnapi_op_exists(o, *doc))
        return false;
    cJSON_DeleteItemFromObjectCaseSensitive(*doc, "_Reserved");
    cJSON_AddNumberToObject(*doc, "_Reserved", (double)n);
    o->status = 200;
    o->answer = cJSON_CreateObject();
    cJSON_AddNumberToObject(o->answer, "ReservedConcurrentExecutions", (double)n);
    return true;
}

static bool change_delete(struct op *o, cJSON **doc)
{
    if (!fnapi_op_exists(o, *doc))
        return false;
    cJSON_DeleteItemFromObjectCaseSensitive(*doc, "_Reserved");
    o->status = 204;
    return true;
}

/* put - PutFunctionConcurrency's body checked as Lambda checks it. */
static void put(struct fn *f, struct http_req *r, const char *name)
{
    cJSON *b = cJSON_ParseWithLength(r->body.ptr ? r->body.ptr : "", r->body.len);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, "ReservedConcurrentExecutions");
    struct op *o;
    double n;

    if (!b) {
        fnapi_answer_error(r, E_INVALID_CONTENT, "Could not parse request body into json");
        return;
    }
    if (!v || cJSON_IsNull(v)) {
        cJSON_Delete(b);
        fnapi_answer_error(r, E_VALIDATION,
                           "1 validation error detected: Value null at "
                           "'reservedConcurrentExecutions' failed to satisfy constraint: Member "
                           "must not be null");
        return;
    }
    n = cJSON_GetNumberValue(v);
    if (!cJSON_IsNumber(v) || n != (double)(long)n || n < 0) {
        cJSON_Delete(b);
        fnapi_answer_error(
            r, E_VALIDATION,
            arena_sprintf(r->arena,
                          "1 validation error detected: Value '%.0f' at "
                          "'reservedConcurrentExecutions' failed to satisfy constraint: Member "
                          "must have value greater than or equal to 0",
                          cJSON_IsNumber(v) ? n : -1.0));
        return;
    }
    cJSON_Delete(b);
    if ((long)n + reserved_elsewhere(f, name) > ACCOUNT_CONCURRENCY - UNRESERVED_MIN) {
        fnapi_answer_error(
            r, E_INVALID_PARAM,
            arena_sprintf(r->arena,
                          "Specified ReservedConcurrentExecutions for function decreases "
                          "account's UnreservedConcurrentExecution below its minimum value of "
                          "[%d].",
                          UNRESERVED_MIN));
        return;
    }
    o = fnapi_op_new(f, r, name, change_put);
    o->arg = arena_sprintf(r->arena, "%ld", (long)n);
    fnapi_op_submit(o);
}

void fnapi_concurrency(struct fn *f, struct http_req *r, const char *name)
{
    const char *m = r->method;

    if (strcmp(m, "PUT") == 0) {
        put(f, r, name);
    } else if (strcmp(m, "DELETE") == 0) {
        fnapi_op_submit(fnapi_op_new(f, r, name, change_delete));
    } else { /* GET */
        cJSON *d = fnapi_resolve(f, r, name, NULL, false), *o;
        int n = fn_reg_reserved(f, name);
        if (!d)
            return;
        cJSON_Delete(d);
        o = cJSON_CreateObject();
        if (n >= 0)
            cJSON_AddNumberToObject(o, "ReservedConcurrentExecutions", n);
        fnapi_answer_json(r, 200, o);
    }
}

/* code_size - the stored packages of function document @d: its own and each
 * published version's. */
static double code_size(const cJSON *d)
{
    const cJSON *v;
    double n = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "CodeSize"));

    if (n != n) /* NaN: none */
        n = 0;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(d, "_Versions"))
    {
        double x = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(v, "CodeSize"));
        if (x == x)
            n += x;
    }
    return n;
}

void fnapi_account_settings(struct fn *f, struct http_req *r)
{
    cJSON *names = fn_reg_names(f), *o = cJSON_CreateObject(), *lim, *use;
    const cJSON *n;
    double total = 0;

    cJSON_ArrayForEach(n, names)
    {
        cJSON *d = cJSON_IsString(n) ? fn_reg_get(f, n->valuestring) : NULL;
        total += code_size(d);
        cJSON_Delete(d);
    }
    /* Lambda's default quotas */
    lim = cJSON_AddObjectToObject(o, "AccountLimit");
    cJSON_AddNumberToObject(lim, "TotalCodeSize", 80530636800.0);
    cJSON_AddNumberToObject(lim, "CodeSizeUnzipped", 262144000);
    cJSON_AddNumberToObject(lim, "CodeSizeZipped", 52428800);
    cJSON_AddNumberToObject(lim, "ConcurrentExecutions", ACCOUNT_CONCURRENCY);
    cJSON_AddNumberToObject(lim, "UnreservedConcurrentExecutions",
                            (double)(ACCOUNT_CONCURRENCY - reserved_elsewhere(f, "")));
    use = cJSON_AddObjectToObject(o, "AccountUsage");
    cJSON_AddNumberToObject(use, "TotalCodeSize", total);
    cJSON_AddNumberToObject(use, "FunctionCount", cJSON_GetArraySize(names));
    cJSON_Delete(names);
    fnapi_answer_json(r, 200, o);
}
