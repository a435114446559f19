/* api_int.h - what the files of the Lambda REST API share: api.c (errors,
 * helpers, the read-modify-write of a function's document, the core
 * operations, invoke, routing), api_conf.c (resource policy, URL
 * configuration, tags, code download, logs), api_version.c (versions and
 * aliases) and url_serve.c (serving function URLs). Not for other folders.
 *
 * A request is answered exactly once, with fnapi_answer_json() or
 * fnapi_answer_error(), either on the request thread or later from another
 * thread (the store's writer, a package worker, the runtime). */
#ifndef TANDEM_FN_API_INT_H
#define TANDEM_FN_API_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "creds.h"
#include "fn_int.h"
#include "http.h"

/* the largest RequestResponse payload and function URL request body (6 MB) */
#define FNAPI_PAYLOAD_MAX (6u * 1024 * 1024)

/* ---- errors (the one table is in api.c) ---- */

enum fn_error {
    E_NOT_FOUND,
    E_CONFLICT,
    E_INVALID_PARAM,
    E_INVALID_CONTENT,
    E_TOO_LARGE,
    E_SERVICE,
    E_DENIED,
    E_UNKNOWN_OP,
    E_PRECONDITION,
    E_INVALID_RUNTIME,
    E_IN_USE,
    E_TOO_MANY,
    E_VALIDATION, /* a member breaks its model constraint, where Lambda says so */
};

/* fnapi_answer_json - answer @r with @status and @doc (taken; NULL: empty
 * body) as JSON, with an x-amzn-RequestId. */
void fnapi_answer_json(struct http_req *r, int status, cJSON *doc);
/* fnapi_answer_error - answer @r with the Lambda error @k: its status,
 * X-Amzn-ErrorType and {"Type","message"} body ("Message" for the errors
 * whose model shape spells it so); @msg is borrowed for the call. */
void fnapi_answer_error(struct http_req *r, enum fn_error k, const char *msg);

/* ---- helpers (api.c) ---- */

/* fnapi_now_iso - the time now as Lambda writes LastModified
 * ("2024-01-02T03:04:05.678+0000") into @out (cap >= 29). */
void fnapi_now_iso(char *out, size_t cap);
/* fnapi_uuid - a random UUID (36 characters) into @out (cap >= 37). */
void fnapi_uuid(char *out);
/* fnapi_seg_decode - percent-decode @n bytes of @s (arena @a); NULL if malformed. */
char *fnapi_seg_decode(struct arena *a, const char *s, size_t n);
/* fnapi_name_of - the function name of a FunctionName path parameter (name,
 * ARN or partial ARN): a pointer into @p (borrowed like @p). */
const char *fnapi_name_of(const char *p);
/* fnapi_name_ok - false, having answered @r with Lambda's
 * ValidationException, when the FunctionName @p does not match the model's
 * pattern (@dots: NamespacedFunctionName's, which takes '.'). */
bool fnapi_name_ok(struct http_req *r, const char *p, bool dots);
/* fnapi_name_pattern - whether @p matches the FunctionName pattern. */
bool fnapi_name_pattern(const char *p);
/* fnapi_region_reachable - false, having answered @r with Lambda's 404
 * ("Functions from 'R' are not reachable in this region ('HERE')"), when the
 * FunctionName @p is an ARN of another region than @f's. */
bool fnapi_region_reachable(struct fn *f, struct http_req *r, const char *p);
/* fnapi_valid_name - whether @n is a function name Lambda takes (1-64 of [A-Za-z0-9_-]). */
bool fnapi_valid_name(const char *n);
/* fnapi_parse_body - @r's body as a JSON object (an empty body is {}; owned,
 * cJSON_Delete()); NULL after answering InvalidRequestContentException. */
cJSON *fnapi_parse_body(struct http_req *r);
/* fnapi_rev - give @doc a new RevisionId and LastModified (now). */
void fnapi_rev(cJSON *doc);
/* fnapi_rev_id - a new RevisionId of @doc alone (a change that leaves
 * LastModified: tags, a version published from it). */
void fnapi_rev_id(cJSON *doc);
/* fnapi_set_str - set @o's member @k to a copy of @v, replacing any member @k. */
void fnapi_set_str(cJSON *o, const char *k, const char *v);
/* fnapi_query_param - the decoded value of @k in @r's query string (arena),
 * or NULL when absent or malformed. */
const char *fnapi_query_param(struct http_req *r, const char *k);
/* fnapi_arn - the ARN of function NAME, qualified by @qual unless NULL (arena). */
char *fnapi_arn(struct fn *f, struct arena *a, const char *name, const char *qual);
/* fnapi_tags_merge - the body's "Tags" map into @doc's tags (its "_Tags").
 * fnapi_tags_remove - the keys of @query's tagKeys=K&tagKeys=L out of them.
 * fnapi_tags_answer - ListTags' answer for @doc (owned). */
void fnapi_tags_merge(cJSON *doc, const cJSON *body);
void fnapi_tags_remove(cJSON *doc, struct arena *a, const char *query);
cJSON *fnapi_tags_answer(cJSON *doc);

/* fnapi_public_config - @doc without its private "_" members (owned). */
cJSON *fnapi_public_config(const cJSON *doc);
/* fnapi_listed_config - a configuration as ListFunctions and
 * ListVersionsByFunction show it: fnapi_public_config() without the State
 * and LastUpdateStatus members, which Lambda leaves out of lists (owned). */
cJSON *fnapi_listed_config(const cJSON *doc);
/* fnapi_str - the string member @k of @o, or NULL. */
const char *fnapi_str(const cJSON *o, const char *k);
/* fnapi_get_or_404 - a copy of NAME's document (owned, cJSON_Delete()), or
 * NULL after answering ResourceNotFoundException. */
cJSON *fnapi_get_or_404(struct fn *f, struct http_req *r, const char *name);

/* ---- changes: one read-modify-write of the stored document per request (api.c) ---- */

struct op;
/* fnapi_op_fn - change *@doc (the document as stored now, NULL if none); false with
 * fnapi_op_fail() called refuses the change. Runs on the store's writer thread. */
typedef bool fnapi_op_fn(struct op *o, cJSON **doc);

struct op {
    struct fn *f;
    struct http_req *r;
    char name[72];
    cJSON *body; /* the request body (owned), or NULL */
    fnapi_op_fn *change;
    const char *arg;  /* e.g. a statement id (the request's arena) */
    const char *qual; /* the request's qualifier, or NULL (the request's arena) */
    const char *rev;  /* a RevisionId of the query, or NULL (the request's arena) */
    cJSON *newdoc;    /* CreateFunction's document (owned) */
    /* a new package (CreateFunction, UpdateFunctionCode) */
    char sha[48];
    char *dir;
    size_t code_len;
    /* the outcome */
    bool failed;
    enum fn_error kind;
    char msg[1024];
    int status;
    cJSON *answer;              /* owned */
    bool forget;                /* kill the instances of forget_version (NULL: all) */
    const char *forget_version; /* the request's arena */
    bool purge;                 /* remove the function's packages once answered */
    bool gc;                    /* then remove the packages nothing refers to any more */
};

/* fnapi_context - the global condition keys of request @r (aws:SourceIp,
 * aws:SecureTransport, aws:RequestedRegion) in @kv, which has room for
 * FNAPI_CONTEXT_MAX; returns how many. */
enum { FNAPI_CONTEXT_MAX = 3 };
size_t fnapi_context(const struct fn *f, const struct http_req *r, struct authz_kv *kv);

/* api_conc.c: fnapi_concurrency - Put/Get/DeleteFunctionConcurrency of NAME,
 * by @r's method (authorized already). */
void fnapi_concurrency(struct fn *f, struct http_req *r, const char *name);
/* fnapi_account_settings - GetAccountSettings (authorized already). */
void fnapi_account_settings(struct fn *f, struct http_req *r);

/* fnapi_op_new - a change of NAME's document by @change, answering @r (owned:
 * freed once answered, by fnapi_op_submit() or fnapi_op_reject()). Counts as
 * busy until then, so fn_close() waits for it. Set o->body, o->arg as the
 * change needs; the change sets o->status and o->answer (the answer's body). */
struct op *fnapi_op_new(struct fn *f, struct http_req *r, const char *name, fnapi_op_fn *change);
/* fnapi_wait_idle - wait until every change counted busy is answered. */
void fnapi_wait_idle(struct fn *f);
/* fnapi_op_fail - record the refusal @k with a message; answered later. */
void fnapi_op_fail(struct op *o, enum fn_error k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* fnapi_op_reject - answer a refusal found on the request thread and free @o. */
void fnapi_op_reject(struct op *o);
/* fnapi_op_submit - run @o's change in one store apply; answered from the
 * writer thread, then @o is freed (takes @o). */
void fnapi_op_submit(struct op *o);
/* fnapi_revision_ok - false with PreconditionFailedException recorded when
 * @want (a request's RevisionId; NULL: none) is not @have's RevisionId. */
bool fnapi_revision_ok(struct op *o, const char *want, const cJSON *have);
/* fnapi_op_exists - false with ResourceNotFoundException recorded when @doc is
 * NULL: the refusal shared by every change of an existing function. */
bool fnapi_op_exists(struct op *o, const cJSON *doc);

/* ---- invoke (api.c) ---- */

/* what an invocation answers; xcalloc()ed, freed by fnapi_invoke_done */
struct fnapi_invoke_ctx {
    struct http_req *r; /* NULL: Event, nobody waits */
    char version[16];   /* X-Amz-Executed-Version */
    bool tail;          /* X-Amz-Log-Type: Tail */
    bool url;           /* answer as a function URL */
};
/* fnapi_invoke_done - the fn_inv_done_fn of every invocation: answers @ud's
 * request (a struct fnapi_invoke_ctx, taken) with @res. */
void fnapi_invoke_done(void *ud, const struct fn_result *res);

/* ---- configuration around a function (api_conf.c), called by the router ----
 * Each answers @r (possibly later from the store's writer thread); the caller
 * has checked the caller's permission for the action. @name is the function's
 * name; strings are borrowed for the call (the request's arena). */

/* AddPermission: POST .../policy; @qual: the version or alias whose policy
 * it is (NULL: the function's) */
void fnapi_add_permission(struct fn *f, struct http_req *r, const char *name, const char *qual);
/* RemovePermission: DELETE .../policy/@sid (@sid from the request's arena) */
void fnapi_remove_permission(struct fn *f, struct http_req *r, const char *name, const char *qual,
                             const char *sid);
/* GetPolicy: GET .../policy */
void fnapi_get_policy(struct fn *f, struct http_req *r, const char *name, const char *qual);
/* Get/Create/Update/DeleteFunctionUrlConfig by @r's method:
 * /2021-10-31/functions/NAME/url; @qual: an alias (NULL: the function) */
void fnapi_url_config(struct fn *f, struct http_req *r, const char *name, const char *qual);
/* ListFunctionUrlConfigs: GET /2021-10-31/functions/NAME/urls */
void fnapi_list_urls(struct fn *f, struct http_req *r, const char *name);
/* ListTags, TagResource, UntagResource by @r's method; @arn is the decoded resource ARN */
void fnapi_tags(struct fn *f, struct http_req *r, const char *arn);
/* GetFunction's Code.Location: the stored zip of package @sha (hex SHA-256) */
void fnapi_code_download(struct fn *f, struct http_req *r, const char *name, const char *sha);
/* GET .../logs[?offset=N] (a Tandem extension): checks logs:GetLogEvents for @who itself */
void fnapi_logs(struct fn *f, struct http_req *r, const char *name,
                const struct creds_identity *who);

/* fnapi_url_allows_public - whether @d's resource policy grants
 * lambda:InvokeFunctionUrl to Principal "*" (what AWS requires for AuthType NONE). */
bool fnapi_url_allows_public(const cJSON *d);

/* ---- versions and aliases (api_version.c) ---- */

/* fnapi_qualifier - split seg (a decoded FunctionName path parameter) into
 * the name (in place) and the qualifier, from the parameter or the Qualifier
 * query string (NULL: none); false after answering a bad or conflicting one. */
bool fnapi_qualifier(struct http_req *r, char *seg, const char **qual);
/* fnapi_resolve - the configuration that NAME qualified by @qual (NULL or
 * $LATEST, a version, an alias) names: a copy (owned) without the function's
 * versions and aliases, its FunctionArn qualified by @qual when given, or NULL
 * after answering ResourceNotFoundException. @route: an alias's version is
 * drawn by its RoutingConfig weights (Invoke). */
cJSON *fnapi_resolve(struct fn *f, struct http_req *r, const char *name, const char *qual,
                     bool route);
/* fnapi_publish - publish @doc ($LATEST, as stored now) as a new version, or
 * find the latest version when nothing changed since; returns that version's
 * document (borrowed from @doc). @description: NULL = $LATEST's. */
const cJSON *fnapi_publish(struct fn *f, cJSON *doc, const char *description);
/* fnapi_holder - what @qual's function URL and resource policy belong to in
 * the function's document @doc: @doc itself (NULL or $LATEST), a version or
 * an alias in it (borrowed), or NULL when there is none. */
cJSON *fnapi_holder(cJSON *doc, const char *qual);
/* fnapi_holder_arn - the ARN of a holder: FunctionArn (qualified for a
 * version) or an alias's AliasArn (borrowed). */
const char *fnapi_holder_arn(const cJSON *h);
/* fnapi_op_holder - @o->qual's holder in @doc, or NULL with
 * ResourceNotFoundException recorded (no function, version or alias). */
cJSON *fnapi_op_holder(struct op *o, cJSON *doc);
/* fnapi_pick - the configuration an invocation of @qual (NULL, $LATEST, a
 * version or an alias, drawn by its weights) runs, from the function's
 * document @doc (taken): owned, without the versions and aliases; NULL when
 * @qual names nothing. */
cJSON *fnapi_pick(cJSON *doc, const char *qual, bool route);
/* PublishVersion (POST) and ListVersionsByFunction (GET) on .../versions */
void fnapi_versions(struct fn *f, struct http_req *r, const char *name);
/* DeleteFunction with a version qualifier */
void fnapi_delete_version(struct fn *f, struct http_req *r, const char *name, const char *qual);
/* CreateAlias (POST) and ListAliases (GET) on .../aliases */
void fnapi_aliases(struct fn *f, struct http_req *r, const char *name);
/* GetAlias, UpdateAlias, DeleteAlias by @r's method on .../aliases/@alias */
void fnapi_alias(struct fn *f, struct http_req *r, const char *name, const char *alias);

#endif
