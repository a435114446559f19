/* stack_prog.h - a Pulumi YAML program (Tandem.yaml / Pulumi.yaml / Main.yaml), checked and
 * indexed.
 *
 * Top-level keys: name, runtime (yaml), description, config (or
 * configuration), variables, resources, outputs; main, template, backend,
 * options and plugins are accepted and not used. Each resource: type,
 * properties, options (provider, dependsOn, protect, deleteBeforeReplace,
 * ignoreChanges, replaceOnChanges, retainOnDelete, import, customTimeouts,
 * additionalSecretOutputs honoured; parent, aliases, version accepted), get.
 * Every error names file:line:column. The tree stays owned by the program;
 * the resource and output entries point into it. */
#ifndef TANDEM_STACK_PROG_H
#define TANDEM_STACK_PROG_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "stack_yamldoc.h"

struct stack_config_decl {
    const char *name;             /* borrowed from the tree */
    const char *type;             /* "string", "integer", "boolean", ...; NULL = any */
    const struct stack_node *def; /* default value or NULL */
    const struct stack_node *at;  /* for messages */
};

enum { STACK_TIMEOUT_CREATE, STACK_TIMEOUT_UPDATE, STACK_TIMEOUT_DELETE, STACK_TIMEOUT_N };

struct stack_res {
    const char *name;    /* the key under resources (for ${...}) */
    const char *logical; /* logical name: the `name:` field, else the key (auto-names use it) */
    const char *type;    /* type token, e.g. "aws:dynamodb:Table" */
    const struct stack_node *node;               /* the resource's map */
    const struct stack_node *props;              /* properties map or NULL */
    const struct stack_node *provider_expr;      /* options.provider or NULL */
    const struct stack_node *depends_on;         /* options.dependsOn (list) or NULL */
    const struct stack_node *ignore_changes;     /* options.ignoreChanges (list) or NULL */
    const struct stack_node *replace_on_changes; /* options.replaceOnChanges (list) or NULL */
    const struct stack_node *import_id;          /* options.import or NULL */
    const struct stack_node *get;                /* get: {id, state} or NULL */
    const struct stack_node *secret_outputs;     /* options.additionalSecretOutputs or NULL */
    long timeout_ms[STACK_TIMEOUT_N]; /* options.customTimeouts create/update/delete; 0 = none */
    bool protect;
    bool delete_before_replace;
    bool retain_on_delete;
    bool is_provider; /* type "pulumi:providers:aws" */
};

struct stack_named {
    const char *name;
    const struct stack_node *node;
};

struct stack_prog {
    char *file;                 /* owned: path used in messages */
    char *dir;                  /* owned: folder of the program (`main:`), NULL = the project's */
    char *root_dir;             /* owned: the project folder, NULL = unknown */
    struct stack_prog *project; /* owned: Pulumi.yaml when the program is a Main.yaml */
    struct stack_node *root;    /* owned */
    const char *name;
    struct stack_config_decl *config;
    size_t nconfig;
    struct stack_named *variables;
    size_t nvariables;
    struct stack_res *res;
    size_t nres;
    struct stack_named *outputs;
    size_t noutputs;
};

/*
 * stack_prog_parse - parse and check @text (the contents of @file).
 * @out  owned, stack_prog_free().
 * Returns ERR_OK or ERR_INVALID with "file:line:col: message".
 */
enum err_code stack_prog_parse(const char *text, size_t len, const char *file,
                               struct stack_prog **out, struct err *e);

/* stack_prog_load - read @path and parse it (ERR_IO when unreadable). */
enum err_code stack_prog_load(const char *path, struct stack_prog **out, struct err *e);

/*
 * stack_prog_load_project - the program of the project in @dir, as Pulumi
 * finds it: Tandem.yaml, Tandem.yml, Pulumi.yaml or Pulumi.yml gives the
 * project (name, runtime, description, config, main); the program is a
 * Main.yaml in the folder `main:` names (or in @dir), otherwise the project
 * file itself. The project's name and config declarations are the
 * program's too. ERR_NOTFOUND when the folder has no project file.
 */
enum err_code stack_prog_load_project(const char *dir, struct stack_prog **out, struct err *e);

/*
 * stack_prog_stack_config - the `config:` of the stack file Pulumi keeps next to the
 * project, Pulumi.<stack>.yaml (or .yml, or Tandem.<stack>.yaml), as {"key": "text"}:
 * scalars as written, lists and maps as JSON. @out owned; an empty object when there is
 * no such file. ERR_INVALID at file:line:col for `secure:` values (they need Pulumi's
 * secrets provider) and malformed files.
 */
enum err_code stack_prog_stack_config(const char *dir, const char *stack, cJSON **out,
                                      struct err *e);

void stack_prog_free(struct stack_prog *p); /* NULL ok */

/* stack_prog_find - the resource named @name, or NULL. */
const struct stack_res *stack_prog_find(const struct stack_prog *p, const char *name);

/* stack_prog_errat - "file:line:col: " + message into @e; returns ERR_INVALID. */
enum err_code stack_prog_errat(const struct stack_prog *p, const struct stack_node *at,
                               struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
