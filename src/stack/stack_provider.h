/* stack_provider.h - resource providers: one per resource type, driving a region's public API.
 *
 * A provider turns a resource's inputs (properties named as in the Pulumi AWS
 * provider v6, already evaluated to JSON) into API calls against one region,
 * signed like any client, and reports the resource's id and output
 * properties. Providers hold no state: everything they need comes in the
 * target, the inputs and the previous outputs. Every function may be called
 * from several threads at once.
 *
 * Contract of each operation:
 *  create  make the resource; when @adopt is set (a previous run was
 *          interrupted mid-create) an existing resource of that name is taken
 *          over instead of failing. Waits until the resource is usable.
 *  update  change in place from @old_in to @new_in (only properties not in
 *          replace_props differ).
 *  del     delete; a resource already gone is success.
 *  read    current outputs for refresh; *@gone when it no longer exists.
 * Errors: ERR_IO when the region cannot be reached, ERR_INVALID / ERR_CONFLICT
 * ... with the service's error code and message in @e. */
#ifndef TANDEM_STACK_PROVIDER_H
#define TANDEM_STACK_PROVIDER_H

#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "awsc.h"
#include "err.h"

struct stack_target {
    const char *region;   /* e.g. "us-east-1" */
    const char *endpoint; /* scheme://host:port of the region (all services) */
    const char *account;  /* 12 digits, for ARNs the API does not return */
    const struct awsc_creds *creds;
    const char *workdir;  /* a folder for temporary files (zip packages) */
    long timeout_ms;      /* the operation's customTimeouts; 0 = each wait's own (a minute) */
    long long started_ms; /* clock_mono_us() / 1000 when the operation started */
    bool importing;       /* a read for options.import: report what is there (not "gone"
                           * for a setting that differs from the stack's) */
    /* endpoint_of - the URL of another region of the stack into @url (a table replica's
     * calls go to its table's region): the endpoint a provider of the program names for
     * it, else the local region (started when needed). Any job thread; NULL in preview. */
    enum err_code (*endpoint_of)(void *ud, const char *region, char *url, size_t cap,
                                 struct err *e);
    void *ud;
};

struct stack_provider {
    const char *type;      /* "aws:dynamodb:Table" */
    const char *name_prop; /* auto-named property ("name", "bucket") or NULL */
    int name_max;          /* max length of an auto name */
    bool name_plain; /* the auto name is the logical name itself, no random suffix (object keys) */
    const char *const *replace_props;  /* a change in one of these replaces the resource */
    const char *const *outputs;        /* output properties (unknown during preview) */
    const char *const *inputs;         /* every input property the schema has; NULL = unchecked */
    const char *const *secret_outputs; /* outputs the provider marks secret (AccessKey.secret) */
    const char *const *unsupported;    /* valid inputs Tandem does not carry out: refused */
    /* "prop=a|b|c": the values of a property Tandem carries out; another literal value is
     * refused at plan time at its position (a Lambda runtime the regions do not run) */
    const char *const *values;
    /* inputs the schema types as strings, where a number or boolean becomes its string as
     * the provider coerces it: "name", "environment.variables.*" (every value of a map),
     * "attributes[].name" (a member of every element); tags are always coerced */
    const char *const *strings;
    enum err_code (*create)(const struct stack_target *t, const cJSON *in, bool adopt, char **id,
                            cJSON **out, struct err *e);
    enum err_code (*update)(const struct stack_target *t, const char *id, const cJSON *old_in,
                            const cJSON *new_in, const cJSON *old_out, cJSON **out, struct err *e);
    enum err_code (*del)(const struct stack_target *t, const char *id, const cJSON *in,
                         const cJSON *out, struct err *e);
    enum err_code (*read)(const struct stack_target *t, const char *id, const cJSON *in,
                          cJSON **out, bool *gone, struct err *e);
    /* check - refuse inputs the provider cannot carry out as written, at plan
     * time (before any call): a message (static) and in *@prop the property
     * to point at, or NULL when fine. Unknown values (STACK_UNKNOWN) pass.
     * NULL: no check. */
    const char *(*check)(const cJSON *in, const char **prop);
    /* predict - the outputs that follow from the inputs alone (ARNs, ids), so
     * preview can show them; NULL or missing members stay unknown. @t has no
     * endpoint. Returns an owned object. */
    cJSON *(*predict)(const struct stack_target *t, const cJSON *in);
};

/* stack_provider_find - the provider for @type (aliases such as
 * aws:s3/bucket:Bucket are accepted), or NULL. */
const struct stack_provider *stack_provider_find(const char *type);

/* stack_provider_refused - why a type of the provider's schema Tandem does not run is
 * refused (aws:dynamodb:GlobalTable: the API it calls is no longer served), or NULL. */
const char *stack_provider_refused(const char *type);

/* stack_provider_nearest_type - the known type closest to @type (for "did you
 * mean"), or NULL when none is close. */
const char *stack_provider_nearest_type(const char *type);

/* stack_provider_coerce - as the provider does: a number or boolean written in @in where
 * the schema wants a string (tag values, @prov's `strings`; @prov may be NULL) becomes that
 * string. */
void stack_provider_coerce(cJSON *in, const struct stack_provider *prov);

/* stack_nearest - the word of NULL-terminated @list closest to @w, or NULL. */
const char *stack_nearest(const char *w, const char *const *list);

/* Write calls made by providers since start (the no-op `up` check). */
extern atomic_long stack_provider_writes;

/* ---- helpers shared by providers (providers/common.c) ---- */

/* stack_prov_json - a JSON 1.0 call (DynamoDB). @out owned (may be NULL on
 * success when the body is empty). A non-2xx status becomes an error whose
 * message is "Code: message"; *@code (may be NULL) gets the short code. */
enum err_code stack_prov_json(const struct stack_target *t, const char *service, const char *target,
                              const cJSON *req, cJSON **out, char *code, size_t code_len,
                              struct err *e);

/* stack_prov_rest - a REST call; @body/@ctype may be NULL. The response body
 * (owned, free()) goes to *@resp when non-NULL; errors as stack_prov_json,
 * the code taken from a JSON "Type"/"__type"/"code" or an XML <Code>. */
enum err_code stack_prov_rest(const struct stack_target *t, const char *service, const char *method,
                              const char *path, const char *query, const char *body,
                              const char *ctype, long *status, char **resp, char *code,
                              size_t code_len, struct err *e);

/* stack_prov_query - an IAM-style query call (Action=...&Version=...) with
 * @params "k=v" pairs, values percent-encoded here. */
enum err_code stack_prov_query(const struct stack_target *t, const char *service,
                               const char *version, const char *action, const char *const *params,
                               char **resp, char *code, size_t code_len, struct err *e);

/* stack_prov_xml_text - the text of the first <@tag> in @xml, unescaped
 * (owned, free()), or NULL. */
char *stack_prov_xml_text(const char *xml, const char *tag);

/* stack_prov_xml_escape - @s escaped for XML text (owned, free()). */
char *stack_prov_xml_escape(const char *s);

/* stack_prov_pct - @s percent-encoded as SigV4 wants (owned, free()). */
char *stack_prov_pct(const char *s);

/* stack_prov_str - the string property @key of @in, or @def. */
const char *stack_prov_str(const cJSON *in, const char *key, const char *def);

/* stack_prov_xml_all - the texts of every <@tag> in @xml (a JSON array of strings, owned). */
cJSON *stack_prov_xml_all(const char *xml, const char *tag);

/* stack_prov_iam - an IAM query call (Version 2010-05-08), as stack_prov_query. */
enum err_code stack_prov_iam(const struct stack_target *t, const char *action,
                             const char *const *params, char **resp, char *code, size_t code_len,
                             struct err *e);

/* stack_prov_iam_prune - list what @principal (@pkey: RoleName, UserName, GroupName) has
 * with @list, and remove every <@tag> value not in @keep (a JSON array of strings; NULL
 * keeps none) with @del, passing it as @dkey. A principal or entry already gone is
 * success. */
enum err_code stack_prov_iam_prune(const struct stack_target *t, const char *pkey,
                                   const char *principal, const char *list, const char *tag,
                                   const char *del, const char *dkey, const cJSON *keep,
                                   struct err *e);

/* stack_prov_iam_tags - the tags of IAM @kind ("Role", "User") @name from @was to @now
 * (maps of strings, either may be NULL): removed keys untagged, new or changed ones tagged. */
enum err_code stack_prov_iam_tags(const struct stack_target *t, const char *kind, const char *name,
                                  const cJSON *was, const cJSON *now, struct err *e);

/* stack_prov_iam_boundary - the permissions boundary (a policy ARN or NULL) of IAM @kind
 * ("Role", "User") @name from @was to @now: Put/Delete{kind}PermissionsBoundary. */
enum err_code stack_prov_iam_boundary(const struct stack_target *t, const char *kind,
                                      const char *name, const char *was, const char *now,
                                      struct err *e);

/* stack_prov_has_str - whether the JSON array @list (may be NULL) holds the string @s. */
bool stack_prov_has_str(const cJSON *list, const char *s);

/* stack_prov_same - whether @a and @b (either may be NULL) are equal JSON values. */
bool stack_prov_same(const cJSON *a, const cJSON *b);

/* stack_prov_named - the element of the array @list whose "name" property is @name, or NULL. */
const cJSON *stack_prov_named(const cJSON *list, const char *name);

/* stack_prov_gone - whether an IAM error code says the entity does not exist. */
bool stack_prov_gone(const char *code);

/* stack_prov_policy_text - the policy property @key of @in as text: a string stays, an
 * object is written as JSON (owned, free()); NULL when missing. */
char *stack_prov_policy_text(const cJSON *in, const char *key);

/* stack_prov_sleep_ms - sleep while waiting for a resource to settle. */
void stack_prov_sleep_ms(long ms);

/* stack_prov_deadline - when a wait of @t's operation must give up (a clock_mono_us() / 1000
 * value): customTimeouts after the operation started when given, else @def_ms from now. */
long long stack_prov_deadline(const struct stack_target *t, long def_ms);

/* stack_prov_waited - whether @deadline has passed; otherwise sleeps @ms (at most until
 * the deadline) and returns false. Writes "within N s" for messages into @what. */
bool stack_prov_waited(const struct stack_target *t, long long deadline, long ms, char *what,
                       size_t what_len);

/* stack_prov_xml_doc - the text of <@tag> in @xml percent-decoded, as IAM returns policy
 * documents (owned, free()), or NULL. */
char *stack_prov_xml_doc(const char *xml, const char *tag);

/* stack_prov_xml_tags - the <Key>/<Value> pairs inside the first <@section> of @xml ("Tags",
 * "TagSet") as a map of strings (owned; empty when there is none). */
cJSON *stack_prov_xml_tags(const char *xml, const char *section);

/* stack_prov_iam_read_common - what a GetRole / GetUser answer @xml shows of the inputs
 * roles and users share, into @o: path, permissionsBoundary ("" without one), tags. */
void stack_prov_iam_read_common(const char *xml, cJSON *o);

/* stack_prov_iam_policies - the managed policies attached to IAM @kind ("Role", "User",
 * "Group") @name and its inline ones, into @o as managedPolicyArns and inlinePolicies
 * [{name, policy}] (the documents as IAM keeps them). */
enum err_code stack_prov_iam_policies(const struct stack_target *t, const char *kind,
                                      const char *name, cJSON *o, struct err *e);

/* stack_prov_s3_props - what the answer @body to GET ?@query of a bucket ("cors=",
 * "website=", "lifecycle=", "replication=", "publicAccessBlock=", "ownershipControls=",
 * "policy=", "versioning=", "tagging=") shows of the inputs of the resource that manages it, named
 * as the program names them, into @o (providers/s3_read.c). */
void stack_prov_s3_props(const char *query, const char *body, cJSON *o);

/* stack_prov_s3_bucket_props - the inputs of aws:s3:Bucket that @bucket's configurations
 * show (tags, versioning.enabled, acl as a canned ACL, lifecycleRules, website: null without
 * one), into @o. */
enum err_code stack_prov_s3_bucket_props(const struct stack_target *t, const char *bucket, cJSON *o,
                                         struct err *e);

/* stack_prov_s3_object_props - HEAD the object at @path (a request path): its headers as
 * aws:s3:BucketObject's inputs (contentType, cacheControl, ..., websiteRedirect) and its
 * etag, into @o; *@gone when there is no such object. */
enum err_code stack_prov_s3_object_props(const struct stack_target *t, const char *path, cJSON *o,
                                         bool *gone, struct err *e);

#endif
