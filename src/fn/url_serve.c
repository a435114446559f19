/* url_serve.c - serving requests to a function's URL (/lambda-url/URLID/... or
 * URLID.lambda-url.REGION.*): method, CORS, AuthType (AWS_IAM or a public
 * resource policy), then an invocation whose result is the HTTP answer. The
 * event and response formats are url.c's pure functions. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "fn_int.h"
#include "mem.h"

/* ---- function URLs ---- */

static void url_answer(struct http_req *r, int status, const char *msg)
{
    char *b = arena_sprintf(r->arena, "{\"Message\":\"%s\"}", msg);

    http_resp_header(r, "Content-Type", "application/json");
    http_respond(r, status, b, strlen(b));
}

static void cors_headers(struct http_req *r, const cJSON *cors)
{
    const char *origin = http_req_header(r, "origin");
    const cJSON *it;
    bool ok = false;

    if (!cors || !origin)
        return;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(cors, "AllowOrigins"))
    {
        if (cJSON_IsString(it) &&
            (strcmp(it->valuestring, "*") == 0 || strcmp(it->valuestring, origin) == 0))
            ok = true;
    }
    if (!ok)
        return;
    http_resp_header(r, "Access-Control-Allow-Origin", origin);
    if (cJSON_IsTrue(cJSON_GetObjectItem(cors, "AllowCredentials")))
        http_resp_header(r, "Access-Control-Allow-Credentials", "true");
    {
        const char *keys[][2] = {{"AllowMethods", "Access-Control-Allow-Methods"},
                                 {"AllowHeaders", "Access-Control-Allow-Headers"},
                                 {"ExposeHeaders", "Access-Control-Expose-Headers"}};
        size_t i;
        for (i = 0; i < 3; i++) {
            const cJSON *a = cJSON_GetObjectItem(cors, keys[i][0]);
            char *j = NULL;
            cJSON_ArrayForEach(it, a)
            {
                if (!cJSON_IsString(it))
                    continue;
                j = j ? arena_sprintf(r->arena, "%s,%s", j, it->valuestring)
                      : arena_strdup(r->arena, it->valuestring);
            }
            if (j)
                http_resp_header(r, keys[i][1], j);
        }
    }
    it = cJSON_GetObjectItem(cors, "MaxAge");
    if (cJSON_IsNumber(it))
        http_resp_header(r, "Access-Control-Max-Age", arena_sprintf(r->arena, "%d", it->valueint));
}

void fn_handle_url(struct fn *f, struct http_req *r, const char *id, const char *raw_path,
                   const struct creds_identity *who)
{
    static const char *const methods[] = {"GET",    "POST", "PUT",     "PATCH",
                                          "DELETE", "HEAD", "OPTIONS", NULL};
    char alias[136];
    cJSON *d = fn_reg_by_url(f, id, alias, sizeof(alias)), *run;
    const cJSON *u, *h;
    const char *auth, *arn;
    struct fnapi_invoke_ctx *c;
    struct err e = {0};
    char *event;
    size_t i;

    if (!d) {
        url_answer(r, 403, "Forbidden");
        return;
    }
    h = fnapi_holder(d, alias[0] ? alias : NULL); /* the function, or the alias */
    u = cJSON_GetObjectItemCaseSensitive(h, "_Url");
    auth = cJSON_GetStringValue(cJSON_GetObjectItem(u, "AuthType"));
    for (i = 0; methods[i] && strcmp(methods[i], r->method) != 0; i++)
        ;
    if (!methods[i]) {
        url_answer(r, 400, "Bad Request");
        goto out;
    }
    cors_headers(r, cJSON_GetObjectItem(u, "Cors"));
    if (strcmp(r->method, "OPTIONS") == 0 && cJSON_GetObjectItem(u, "Cors") &&
        http_req_header(r, "access-control-request-method")) {
        http_respond(r, 200, "", 0);
        goto out;
    }
    if (auth && strcmp(auth, "AWS_IAM") == 0) {
        struct authz_kv kv[FNAPI_CONTEXT_MAX];
        struct authz_request q = {.who = who,
                                  .action = "lambda:InvokeFunctionUrl",
                                  .resource = fnapi_holder_arn(h),
                                  .context = kv,
                                  .ncontext = fnapi_context(f, r, kv)};
        char *pol = cJSON_GetObjectItem(h, "_Policy")
                        ? cJSON_PrintUnformatted(cJSON_GetObjectItem(h, "_Policy"))
                        : NULL;
        bool ok;
        q.resource_policy = pol;
        ok = who && authz_check(f->authz, &q, &e) == ERR_OK;
        free(pol);
        if (!ok) {
            url_answer(r, 403, "Forbidden");
            goto out;
        }
    } else if (!fnapi_url_allows_public(h)) {
        /* AWS: AuthType NONE still needs a resource-based policy statement
         * allowing lambda:InvokeFunctionUrl to Principal "*". */
        url_answer(r, 403, "Forbidden");
        goto out;
    }
    if (r->body_too_large || r->body.len > FNAPI_PAYLOAD_MAX) {
        url_answer(r, 413,
                   "Request must be smaller than 6291456 bytes for the InvokeFunction "
                   "operation");
        goto out;
    }
    event = fn_url_event(r, id, raw_path, f->account, &e);
    if (!event) {
        url_answer(r, 400, "Bad Request");
        goto out;
    }
    arn = arena_sprintf(r->arena, "%s", fnapi_holder_arn(h)); /* what the function was invoked as */
    run = fnapi_pick(d, alias[0] ? alias : NULL, true);       /* an alias's version, by weight */
    d = NULL;
    if (!run) { /* never: a version an alias points to cannot be deleted */
        free(event);
        url_answer(r, 502, "Internal Server Error");
        goto out;
    }
    fnapi_set_str(run, "FunctionArn", arn);
    c = xcalloc(1, sizeof(*c));
    c->r = r;
    c->url = true;
    fn_rt_invoke(f, run, event, strlen(event), fnapi_invoke_done, c);
    cJSON_Delete(run);
    free(event);
out:
    cJSON_Delete(d);
}
