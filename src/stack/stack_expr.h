/* stack_expr.h - values of a Pulumi YAML program: `${...}` interpolation and fn:: built-ins.
 *
 * A node evaluates to a cJSON value. Plain scalars are typed as YAML does
 * (true/false, null, numbers); quoted scalars stay strings. `${a.b[0].c}`
 * reads a resource's properties, a variable or a config value; a string that
 * is exactly one `${...}` takes the referenced value's own type, otherwise the
 * parts are joined as text; `$${` is a literal `${`.
 *
 * Built-ins (also spelled Fn::): fn::fileArchive (a folder or zip to package:
 * {"__archive": path, "hash": h}), fn::fileAsset ({"__file": path, "hash": h}),
 * fn::stringAsset ({"__asset": text}), fn::assetArchive ({"__assets": {name:
 * asset or archive}}), fn::toJSON, fn::join, fn::split, fn::select,
 * fn::length, fn::toBase64, fn::fromBase64, fn::sha1, fn::readFile,
 * fn::filebase64, fn::filebase64sha256, fn::secret, and fn::invoke
 * ({function, arguments, options, return}, or the short form
 * `fn::aws:getRegion: {args}`) of the functions stack_invoke.h answers.
 * fn::remoteAsset, fn::remoteArchive and fn::stackReference are refused with
 * a position and the reason. A bare `${res}` naming a resource is its id.
 *
 * Values not known yet (a resource that preview has not created) are the
 * string STACK_UNKNOWN; anything computed from one is unknown too. */
#ifndef TANDEM_STACK_EXPR_H
#define TANDEM_STACK_EXPR_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "buf.h"
#include "err.h"
#include "stack_prog.h"

#define STACK_UNKNOWN "${unknown}"

/*
 * stack_lookup_fn - the value named @root: a resource (its inputs merged with
 * its outputs), a variable or a config value. Return a borrowed value valid
 * for the evaluation, or NULL with @e set (ERR_NOTFOUND if no such name).
 */
typedef const cJSON *stack_lookup_fn(void *ud, const char *root, struct err *e);

/*
 * stack_caller_fn - who the stack's keys are for fn::invoke aws:getCallerIdentity:
 * {account, arn, userId}, borrowed for the evaluation, in the region of @provider (the
 * invoke's options.provider value; NULL for the default provider).
 */
typedef const cJSON *stack_caller_fn(void *ud, const cJSON *provider);

/*
 * stack_data_fn - answer the data source @token (stack_invoke_data) with @args by reading
 * the resource it names in the region of @provider (NULL: the default one). @out owned.
 * ERR_NOTFOUND when there is no such resource, with @e saying so.
 */
typedef enum err_code stack_data_fn(void *ud, const char *token, const cJSON *args,
                                    const cJSON *provider, cJSON **out, struct err *e);

struct stack_eval {
    const struct stack_prog *prog; /* for messages */
    const char *dir;               /* project folder: relative paths start here */
    stack_lookup_fn *lookup;
    stack_caller_fn *caller; /* NULL: the root user of @account */
    stack_data_fn *data;     /* NULL: data sources are refused */
    void *ud;
    const char *region;  /* fn::invoke's default region (NULL: us-east-1) */
    const char *account; /* the stack's account when there is no @caller (NULL: 000000000000) */
    bool unknown;        /* out: the value depends on something not known yet */
    bool secret;         /* out: fn::secret was applied, or a secret output was read */
};

/*
 * stack_expr_eval - evaluate @n. @out owned, cJSON_Delete().
 * Errors are ERR_INVALID "file:line:col: ..." (bad syntax, unknown name,
 * wrong built-in arguments) or what the lookup returned.
 */
enum err_code stack_expr_eval(struct stack_eval *ev, const struct stack_node *n, cJSON **out,
                              struct err *e);

/* stack_ref_fn - called once per `${root...}` found, with its position. */
typedef void stack_ref_fn(void *ud, const char *root, const struct stack_node *at);

/*
 * stack_expr_refs - report every root name @n refers to (resources,
 * variables, config, `pulumi`). Syntax errors come back as ERR_INVALID.
 */
enum err_code stack_expr_refs(const struct stack_prog *p, const struct stack_node *n,
                              stack_ref_fn *fn, void *ud, struct err *e);

/* stack_value_is_unknown - @v is STACK_UNKNOWN or contains it. */
bool stack_value_is_unknown(const cJSON *v);

/* stack_path - @p, relative to @dir (NULL: the current folder) unless absolute (owned). */
char *stack_path(const char *dir, const char *p);

/* stack_read_file - the whole of file @path into @b (initialised here; buf_free it);
 * false with errno set when it cannot be opened. */
bool stack_read_file(const char *path, struct buf *b);

#endif
