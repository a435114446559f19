/* stack_cmds.c - `tandem up` and the other stack commands, on top of src/stack. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_stack.h"
#include "clock.h"
#include "stack_engine.h"
#include "stack_local.h"
#include "mem.h"
#include "stack_prog.h"
#include "stack_state.h"

struct ctx {
    char dir[3072];  /* project folder */
    char tdir[3200]; /* <dir>/.tandem */
    char stack[128];
    char sdir[3584]; /* <tdir>/stacks/<stack> */
    char state_path[PATH_MAX];
    char config_path[PATH_MAX];
    bool yes, json, explicit_stack, keep_regions, show_secrets;
    struct stack_local *local;
    cJSON *config;
    cJSON *run_config; /* config plus the values of Pulumi.<stack>.yaml it does not set */
};

static const char *const commands[] = {"stack",   "config",  "preview",  "up", "output",
                                       "refresh", "destroy", "endpoint", NULL};

bool cli_stack_is_command(const char *name)
{
    for (size_t i = 0; commands[i]; i++)
        if (!strcmp(commands[i], name))
            return true;
    return false;
}

const char *cli_stack_usage(void)
{
    return "  stack init|ls|select|rm [NAME]   manage the stacks of this project\n"
           "  config set|get KEY [VALUE]   stack configuration (aws:region, environmentSuffix...)\n"
           "  preview [--json]             show what up would do\n"
           "  up [--yes] [--json]          create or update the stack (Tandem.yaml)\n"
           "  output [NAME] [--json] [--show-secrets]  the stack's outputs (secrets as [secret])\n"
           "  refresh [--yes]              read the resources back, record drift\n"
           "  destroy [--yes] [--keep-regions]  delete every resource, stop local regions\n"
           "  endpoint REGION [--env]      URL of a region of the stack\n"
           "  (stack commands take -C DIR for the project folder and -s NAME for the stack)\n";
}

static int fail(int status, const char *fmt, const char *a)
{
    fprintf(stderr, "tandem: ");
    fprintf(stderr, fmt, a);
    fputc('\n', stderr);
    return status;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *t;
    long n;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    t = xmalloc((size_t)(n < 0 ? 0 : n) + 1);
    n = (long)fread(t, 1, (size_t)(n < 0 ? 0 : n), f);
    t[n] = 0;
    fclose(f);
    return t;
}

static void mkdir_p(const char *path)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0700);
            *s = '/';
        }
    mkdir(p, 0700);
}

static void set_stack(struct ctx *c, const char *name)
{
    if (name != c->stack) /* may be called with the name already in place */
        snprintf(c->stack, sizeof(c->stack), "%s", name);
    snprintf(c->sdir, sizeof(c->sdir), "%s/stacks/%s", c->tdir, c->stack);
    snprintf(c->state_path, sizeof(c->state_path), "%s/state.json", c->sdir);
    snprintf(c->config_path, sizeof(c->config_path), "%s/config.json", c->sdir);
}

static bool stack_exists(const struct ctx *c, const char *name)
{
    char p[PATH_MAX];
    struct stat st;
    snprintf(p, sizeof(p), "%s/stacks/%s", c->tdir, name);
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool valid_stack_name(const char *n)
{
    if (!*n || strlen(n) > 100 || n[0] == '.')
        return false;
    for (; *n; n++)
        if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9') ||
              *n == '-' || *n == '_' || *n == '.'))
            return false;
    return true;
}

static void write_text(const char *path, const char *text)
{
    struct err e;
    cJSON *j = cJSON_Parse(text);
    if (j) { /* JSON documents go through the atomic writer */
        stack_state_save(path, j, &e);
        cJSON_Delete(j);
        return;
    }
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Select the stack: -s, else .tandem/current, else "dev" (created on first use). */
static void pick_stack(struct ctx *c)
{
    char p[PATH_MAX], *cur;
    if (c->explicit_stack)
        return;
    snprintf(p, sizeof(p), "%s/current", c->tdir);
    cur = slurp(p);
    if (cur) {
        cur[strcspn(cur, "\r\n")] = 0;
        if (valid_stack_name(cur)) {
            set_stack(c, cur);
            free(cur);
            return;
        }
        free(cur);
    }
    set_stack(c, "dev");
}

static void load_config(struct ctx *c)
{
    char *t = slurp(c->config_path);
    c->config = t ? cJSON_Parse(t) : NULL;
    free(t);
    if (!cJSON_IsObject(c->config)) {
        cJSON_Delete(c->config);
        c->config = cJSON_CreateObject();
    }
}

static int load_prog(struct ctx *c, struct stack_prog **p)
{
    struct err e = {0};
    enum err_code rc = stack_prog_load_project(c->dir, p, &e);
    if (rc == ERR_NOTFOUND) {
        fprintf(stderr, "tandem: no Tandem.yaml or Pulumi.yaml in %s (use -C DIR)\n", c->dir);
        return 2;
    }
    if (rc) {
        fprintf(stderr, "error: %s\n", e.msg);
        return 2;
    }
    return 0;
}

static enum err_code local_endpoint(void *ud, const char *region, char *url, size_t cap,
                                    struct err *e)
{
    struct ctx *c = ud;
    enum err_code rc = stack_local_url(c->local, region, url, cap, e);
    if (rc == ERR_NOTFOUND) {
        char *one[1] = {(char *)region};
        rc = stack_local_start(c->local, one, 1, e);
        if (rc == ERR_OK)
            rc = stack_local_url(c->local, region, url, cap, e);
    }
    return rc;
}

static int open_local(struct ctx *c, struct stack_opts *o)
{
    struct err e = {0};
    const char *ak = getenv("TANDEM_ACCESS_KEY_ID"), *sk = getenv("TANDEM_SECRET_ACCESS_KEY");

    mkdir_p(c->sdir);
    if (stack_local_open(c->tdir, c->stack, NULL, &c->local, &e)) {
        fprintf(stderr, "tandem: %s\n", e.msg);
        return 1;
    }
    memset(o, 0, sizeof(*o));
    o->dir = c->dir;
    o->stack = c->stack;
    o->state_path = c->state_path;
    o->workdir = c->sdir;
    {
        cJSON *file = NULL;
        const cJSON *kv;
        if (stack_prog_stack_config(c->dir, c->stack, &file, &e)) {
            fprintf(stderr, "error: %s\n", e.msg);
            return 2;
        }
        cJSON_Delete(c->run_config);
        c->run_config = cJSON_Duplicate(c->config, 1);
        cJSON_ArrayForEach(kv, file)
        {
            if (!cJSON_GetObjectItemCaseSensitive(c->run_config, kv->string))
                cJSON_AddItemToObject(c->run_config, kv->string, cJSON_Duplicate(kv, 1));
        }
        cJSON_Delete(file);
    }
    o->config = c->run_config;
    o->progress = c->json ? NULL : stdout;
    o->endpoint = local_endpoint;
    o->ud = c;
    o->creds = *stack_local_creds(c->local);
    /* Regions the stack names by endpoint take the caller's keys when given. */
    if (ak && sk && *ak && *sk) {
        o->creds.access_key = ak;
        o->creds.secret = sk;
    }
    o->account = "000000000000";
    return 0;
}

static void print_value(FILE *f, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        fputs(strcmp(v->valuestring, "${unknown}") ? v->valuestring : "[unknown]", f);
    } else {
        char *s = cJSON_PrintUnformatted(v);
        fputs(s, f);
        free(s);
    }
}

/* an output marked secret (fn::secret, AccessKey.secret...) shows as [secret]
 * unless --show-secrets, as Pulumi shows it */
static cJSON *masked(const cJSON *outs, const cJSON *secrets, bool show)
{
    cJSON *m = outs ? cJSON_Duplicate(outs, 1) : cJSON_CreateObject();
    const cJSON *s;
    if (show)
        return m;
    cJSON_ArrayForEach(s, secrets)
    {
        if (cJSON_IsString(s) && cJSON_GetObjectItemCaseSensitive(m, s->valuestring))
            cJSON_ReplaceItemInObjectCaseSensitive(m, s->valuestring,
                                                   cJSON_CreateString("[secret]"));
    }
    return m;
}

static void print_outputs(const cJSON *outs, const cJSON *secrets, bool show)
{
    const cJSON *o;
    cJSON *m;
    if (!cJSON_GetArraySize(outs))
        return;
    m = masked(outs, secrets, show);
    printf("\nOutputs:\n");
    cJSON_ArrayForEach(o, m)
    {
        printf("    %-22s: ", o->string);
        print_value(stdout, o);
        putchar('\n');
    }
    cJSON_Delete(m);
}

static cJSON *result_json(const struct stack_result *r, const char *cmd, enum err_code rc,
                          const struct err *e, bool show)
{
    cJSON *j = cJSON_CreateObject(), *steps = cJSON_AddArrayToObject(j, "steps"), *sum;
    cJSON_AddStringToObject(j, "command", cmd);
    cJSON_AddBoolToObject(j, "ok", rc == ERR_OK);
    if (rc)
        cJSON_AddStringToObject(j, "error", e->msg);
    for (size_t i = 0; i < r->nsteps; i++) {
        const struct stack_step *s = &r->steps[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", s->name);
        cJSON_AddStringToObject(o, "type", s->type);
        cJSON_AddStringToObject(o, "op", stack_op_name(s->op));
        cJSON_AddStringToObject(o, "region", s->region);
        if (s->changed)
            cJSON_AddItemToObject(o, "changed", cJSON_Duplicate(s->changed, 1));
        if (s->inputs)
            cJSON_AddItemToObject(o, "inputs", cJSON_Duplicate(s->inputs, 1));
        cJSON_AddNumberToObject(o, "seconds", s->secs);
        if (s->rc)
            cJSON_AddStringToObject(o, "error", s->msg);
        cJSON_AddItemToArray(steps, o);
    }
    sum = cJSON_AddObjectToObject(j, "summary");
    for (int op = 0; op < STACK_OP_N; op++)
        if (r->counts[op])
            cJSON_AddNumberToObject(sum, stack_op_name((enum stack_op)op), r->counts[op]);
    cJSON_AddNumberToObject(j, "writes", (double)r->writes);
    cJSON_AddItemToObject(j, "outputs", masked(r->outputs, r->secrets, show));
    return j;
}

static void print_summary(const struct stack_result *r, double secs)
{
    static const char *const words[STACK_OP_N] = {"unchanged", "created",   "updated", "replaced",
                                                  "deleted",   "refreshed", "imported"};
    bool first = true;
    int counts[STACK_OP_N] = {0}, failed = 0;
    for (size_t i = 0; i < r->nsteps; i++) {
        if (r->steps[i].rc)
            failed++;
        else
            counts[r->steps[i].op]++;
    }
    printf("\nResources:");
    for (int op = 0; op < STACK_OP_N; op++)
        if (counts[op]) {
            printf("%s %d %s", first ? "" : ",", counts[op], words[op]);
            first = false;
        }
    if (failed) {
        printf("%s %d failed", first ? "" : ",", failed);
        first = false;
    }
    if (first)
        printf(" none");
    printf("\nDuration: %.1fs\n", secs);
}

static void print_plan(const struct stack_result *r)
{
    static const char sym[STACK_OP_N] = {' ', '+', '~', '!', '-', '?', '='};
    for (size_t i = 0; i < r->nsteps; i++) {
        const struct stack_step *s = &r->steps[i];
        const cJSON *c;
        bool first = true;
        printf("  %c %-34s %-28s %s", sym[s->op], s->type, s->name, stack_op_name(s->op));
        if (s->op == STACK_OP_UPDATE || s->op == STACK_OP_REPLACE) {
            printf(" [");
            cJSON_ArrayForEach(c, s->changed)
            {
                printf("%s%s", first ? "" : ", ", c->valuestring);
                first = false;
            }
            printf("]");
        }
        putchar('\n');
    }
}

static bool confirm(const char *what)
{
    char line[16];
    if (!isatty(0))
        return false;
    printf("Do you want to perform this %s? [y/N] ", what);
    fflush(stdout);
    return fgets(line, sizeof(line), stdin) && (line[0] == 'y' || line[0] == 'Y');
}

static int start_regions(struct ctx *c, const struct stack_opts *o, const struct stack_prog *p)
{
    char **regions = NULL;
    size_t n = 0;
    struct err e = {0};
    enum err_code rc = stack_local_regions(o, p, &regions, &n, &e);
    if (rc == ERR_OK && n) {
        if (!c->json)
            printf("Starting local regions:");
        for (size_t i = 0; i < n && !c->json; i++)
            printf(" %s", regions[i]);
        if (!c->json)
            printf("\n");
        rc = stack_local_start(c->local, regions, n, &e);
    }
    for (size_t i = 0; i < n; i++)
        free(regions[i]);
    free(regions);
    if (rc) {
        fprintf(stderr, "error: %s\n", e.msg);
        return rc == ERR_INVALID ? 2 : 1;
    }
    return 0;
}

static int cmd_apply(struct ctx *c, const char *cmd)
{
    struct stack_prog *p = NULL;
    struct stack_opts o;
    struct stack_result r = {0};
    struct err e = {0};
    enum err_code rc = ERR_OK;
    int status;
    int64_t t0 = clock_mono_us();
    bool preview = !strcmp(cmd, "preview"), up = !strcmp(cmd, "up");
    bool destroy = !strcmp(cmd, "destroy"), refresh = !strcmp(cmd, "refresh");

    if ((up || preview) && (status = load_prog(c, &p)))
        return status;
    if ((status = open_local(c, &o)))
        goto out;
    if (!c->json)
        printf("%s stack %s%s%s\n",
               preview   ? "Previewing update of"
               : up      ? "Updating"
               : destroy ? "Destroying"
                         : "Refreshing",
               c->stack, p && p->name ? " of project " : "", p && p->name ? p->name : "");
    if (up) {
        /* Preview first, with no call to any region: a stack file with errors
         * stops here, before local regions start. */
        o.progress = NULL;
        rc = stack_preview(&o, p, &r, &e);
        if (rc) {
            fprintf(stderr, "error: %s\n", e.msg);
            status = rc == ERR_INVALID ? 2 : 1;
            goto out;
        }
        if (!c->yes)
            print_plan(&r);
        stack_result_free(&r);
        o.progress = c->json ? NULL : stdout;
    }
    if (up && !c->yes) {
        if (!confirm("update")) {
            fprintf(stderr, "tandem: not confirmed; run `tandem up --yes` to apply without a "
                            "prompt\n");
            status = 2;
            goto out;
        }
        o.progress = c->json ? NULL : stdout;
    }
    if (destroy && !c->yes && !confirm("destroy")) {
        fprintf(stderr, "tandem: not confirmed; run `tandem destroy --yes`\n");
        status = 2;
        goto out;
    }
    if ((up || refresh || destroy) && (status = start_regions(c, &o, p)))
        goto out;
    if (preview) {
        o.progress = NULL;
        rc = stack_preview(&o, p, &r, &e);
        if (!c->json && rc == ERR_OK)
            print_plan(&r);
    } else if (up) {
        rc = stack_up(&o, p, &r, &e);
    } else if (destroy) {
        rc = stack_destroy(&o, &r, &e);
    } else {
        rc = stack_refresh(&o, &r, &e);
    }
    if (c->json) {
        cJSON *j = result_json(&r, cmd, rc, &e, c->show_secrets);
        char *s = cJSON_Print(j);
        puts(s);
        free(s);
        cJSON_Delete(j);
    } else {
        if (rc == ERR_OK && !destroy)
            print_outputs(r.outputs, r.secrets, c->show_secrets);
        print_summary(&r, (double)(clock_mono_us() - t0) / 1e6);
    }
    if (rc) {
        fprintf(stderr, "error: %s\n", e.msg);
        status = rc == ERR_INVALID && r.failed == 0 ? 2 : 1;
        goto out;
    }
    if (destroy && !c->keep_regions) {
        if (stack_local_stop(c->local, true, &e))
            fprintf(stderr, "warning: %s\n", e.msg);
        else if (!c->json)
            printf("Local regions stopped.\n");
    }
    status = 0;
out:
    stack_result_free(&r);
    stack_prog_free(p);
    return status;
}

static int cmd_output(struct ctx *c, int argc, char **argv)
{
    cJSON *st = NULL, *outs;
    struct err e = {0};
    int status = 0;

    if (stack_state_load(c->state_path, &st, &e))
        return fail(1, "%s", e.msg);
    outs = masked(cJSON_GetObjectItem(st, "outputs"), cJSON_GetObjectItem(st, "secretOutputs"),
                  c->show_secrets);
    if (argc > 0) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(outs, argv[0]);
        if (!v) {
            status = fail(1, "no output named '%s' (tandem up first?)", argv[0]);
        } else if (c->json) {
            char *s = cJSON_Print(v);
            puts(s);
            free(s);
        } else {
            print_value(stdout, v);
            putchar('\n');
        }
    } else if (c->json) {
        char *s = cJSON_Print(outs);
        puts(s);
        free(s);
    } else {
        const cJSON *o;
        cJSON_ArrayForEach(o, outs)
        {
            printf("%-22s ", o->string);
            print_value(stdout, o);
            putchar('\n');
        }
    }
    cJSON_Delete(outs);
    cJSON_Delete(st);
    return status;
}

static int cmd_endpoint(struct ctx *c, int argc, char **argv, bool env)
{
    cJSON *st = NULL;
    const cJSON *en;
    struct err e = {0};
    char url[512] = "";
    struct stack_opts o;
    int status;

    if (argc < 1)
        return fail(2, "usage: tandem endpoint REGION [--env]%s", "");
    if (stack_state_load(c->state_path, &st, &e))
        return fail(1, "%s", e.msg);
    cJSON_ArrayForEach(en, cJSON_GetObjectItem(st, "resources"))
    {
        const char *reg = json_str(en, "region"), *ep = json_str(en, "endpoint");
        if (reg && ep && !strcmp(reg, argv[0]) && strcmp(ep, "local")) {
            snprintf(url, sizeof(url), "%s", ep);
            break;
        }
    }
    cJSON_Delete(st);
    if ((status = open_local(c, &o)))
        return status;
    if (!*url && stack_local_url(c->local, argv[0], url, sizeof(url), &e))
        return fail(1, "%s", e.msg);
    if (env)
        printf("export AWS_ENDPOINT_URL=%s\nexport AWS_REGION=%s\nexport "
               "AWS_DEFAULT_REGION=%s\nexport AWS_ACCESS_KEY_ID=%s\nexport "
               "AWS_SECRET_ACCESS_KEY=%s\n",
               url, argv[0], argv[0], o.creds.access_key, o.creds.secret);
    else
        puts(url);
    return 0;
}

static int save_config(struct ctx *c)
{
    struct err e = {0};
    mkdir_p(c->sdir);
    if (stack_state_save(c->config_path, c->config, &e))
        return fail(1, "%s", e.msg);
    return 0;
}

static int cmd_config(struct ctx *c, int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[0], "set")) {
        cJSON_DeleteItemFromObjectCaseSensitive(c->config, argv[1]);
        cJSON_AddStringToObject(c->config, argv[1], argv[2]);
        return save_config(c);
    }
    if (argc >= 2 && !strcmp(argv[0], "get")) {
        const char *v = json_str(c->config, argv[1]);
        if (!strcmp(argv[1], "environmentSuffix") && getenv("ENVIRONMENT_SUFFIX") &&
            *getenv("ENVIRONMENT_SUFFIX"))
            v = getenv("ENVIRONMENT_SUFFIX");
        if (!v)
            return fail(1, "configuration key '%s' not found", argv[1]);
        puts(v);
        return 0;
    }
    if (argc >= 2 && (!strcmp(argv[0], "rm") || !strcmp(argv[0], "unset"))) {
        cJSON_DeleteItemFromObjectCaseSensitive(c->config, argv[1]);
        return save_config(c);
    }
    if (argc == 0) {
        const cJSON *o;
        if (c->json) {
            char *s = cJSON_Print(c->config);
            puts(s);
            free(s);
            return 0;
        }
        cJSON_ArrayForEach(o, c->config)
            printf("%-24s %s\n", o->string, cJSON_IsString(o) ? o->valuestring : "");
        return 0;
    }
    return fail(2, "usage: tandem config [set KEY VALUE | get KEY | rm KEY]%s", "");
}

static int cmd_stack(struct ctx *c, int argc, char **argv)
{
    char p[PATH_MAX];
    const char *sub = argc > 0 ? argv[0] : "ls";

    if (!strcmp(sub, "ls")) {
        char cmdline[PATH_MAX + 64];
        FILE *ls;
        char line[256];
        snprintf(cmdline, sizeof(cmdline), "ls -1 '%s/stacks' 2>/dev/null", c->tdir);
        ls = popen(cmdline, "r");
        while (ls && fgets(line, sizeof(line), ls)) {
            line[strcspn(line, "\n")] = 0;
            printf("%s%s\n", line, !strcmp(line, c->stack) ? " *" : "");
        }
        if (ls)
            pclose(ls);
        return 0;
    }
    if (argc < 2 || !valid_stack_name(argv[1]))
        return fail(2, "usage: tandem stack %s NAME (letters, digits, - _ .)", sub);
    if (!strcmp(sub, "init")) {
        if (stack_exists(c, argv[1]))
            return fail(1, "stack '%s' already exists", argv[1]);
        set_stack(c, argv[1]);
        mkdir_p(c->sdir);
        snprintf(p, sizeof(p), "%s/current", c->tdir);
        write_text(p, argv[1]);
        printf("Created stack '%s'\n", argv[1]);
        return 0;
    }
    if (!strcmp(sub, "select")) {
        if (!stack_exists(c, argv[1]))
            return fail(1, "no stack named '%s' (tandem stack init NAME)", argv[1]);
        snprintf(p, sizeof(p), "%s/current", c->tdir);
        write_text(p, argv[1]);
        return 0;
    }
    if (!strcmp(sub, "rm")) {
        cJSON *st = NULL;
        struct err e = {0};
        char cmdline[PATH_MAX + 32];
        int n;
        if (!stack_exists(c, argv[1]))
            return fail(1, "no stack named '%s'", argv[1]);
        set_stack(c, argv[1]);
        if (stack_state_load(c->state_path, &st, &e))
            return fail(1, "%s", e.msg);
        n = cJSON_GetArraySize(cJSON_GetObjectItem(st, "resources"));
        cJSON_Delete(st);
        if (n > 0)
            return fail(1, "stack '%s' still has resources; run tandem destroy first", argv[1]);
        snprintf(cmdline, sizeof(cmdline), "rm -rf '%s'", c->sdir);
        if (system(cmdline) != 0)
            return fail(1, "could not remove %s", c->sdir);
        return 0;
    }
    return fail(2, "unknown stack command '%s' (init, ls, select, rm)", sub);
}

int cli_stack_main(int argc, char **argv)
{
    struct ctx c;
    const char *cmd = argv[0];
    char **rest = xcalloc((size_t)argc + 1, sizeof(char *));
    int nrest = 0, status;
    bool env = false;

    memset(&c, 0, sizeof(c));
    if (!getcwd(c.dir, sizeof(c.dir)))
        strcpy(c.dir, ".");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--yes") || !strcmp(a, "-y")) {
            c.yes = true;
        } else if (!strcmp(a, "--json")) {
            c.json = true;
        } else if (!strcmp(a, "--show-secrets")) {
            c.show_secrets = true;
        } else if (!strcmp(a, "--keep-regions")) {
            c.keep_regions = true;
        } else if (!strcmp(a, "--env")) {
            env = true;
        } else if ((!strcmp(a, "-C") || !strcmp(a, "--cwd")) && i + 1 < argc) {
            char real[PATH_MAX];
            if (!realpath(argv[++i], real) || strlen(real) >= sizeof(c.dir)) {
                free(rest);
                return fail(2, "no such folder: %s", argv[i]);
            }
            memcpy(c.dir, real, strlen(real) + 1);
        } else if ((!strcmp(a, "-s") || !strcmp(a, "--stack")) && i + 1 < argc) {
            if (!valid_stack_name(argv[++i])) {
                free(rest);
                return fail(2, "bad stack name '%s'", argv[i]);
            }
            c.explicit_stack = true;
            snprintf(c.stack, sizeof(c.stack), "%s", argv[i]);
        } else if (a[0] == '-' && a[1] && strcmp(cmd, "config") != 0) {
            free(rest);
            fprintf(stderr, "tandem %s: unknown option '%s'\n%s", cmd, a, cli_stack_usage());
            return 2;
        } else {
            rest[nrest++] = argv[i];
        }
    }
    snprintf(c.tdir, sizeof(c.tdir), "%s/.tandem", c.dir);
    if (c.explicit_stack)
        set_stack(&c, c.stack);
    else
        pick_stack(&c);
    load_config(&c);
    if (!strcmp(cmd, "stack"))
        status = cmd_stack(&c, nrest, rest);
    else if (!strcmp(cmd, "config"))
        status = cmd_config(&c, nrest, rest);
    else if (!strcmp(cmd, "output"))
        status = cmd_output(&c, nrest, rest);
    else if (!strcmp(cmd, "endpoint"))
        status = cmd_endpoint(&c, nrest, rest, env);
    else
        status = cmd_apply(&c, cmd);
    stack_local_free(c.local);
    cJSON_Delete(c.config);
    cJSON_Delete(c.run_config);
    free(rest);
    return status;
}
