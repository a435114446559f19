/* tags.c - table tags (see tags.h). */
#include "tags.h"

#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>

#include "table.h"

enum { OP_TAG, OP_UNTAG };

struct tagging {
    struct ddb_call *c;
    int op;
    char table[256];
    const cJSON *tags; /* borrowed: TagResource's Tags */
    const cJSON *keys; /* borrowed: UntagResource's TagKeys */
};

/* arn_table - the table name in @arn of this region and account, or false. */
static bool arn_table(const struct ddb *d, const char *arn, char out[256])
{
    char want[160];
    size_t n;

    snprintf(want, sizeof(want), "arn:aws:dynamodb:%s:%s:table/", d->region, d->account);
    n = strlen(want);
    if (strncmp(arn, want, n) != 0 || !arn[n] || strlen(arn + n) > 255 || strchr(arn + n, '/'))
        return false;
    snprintf(out, 256, "%s", arn + n);
    return true;
}

static cJSON *find_tag(cJSON *tags, const char *key)
{
    cJSON *t;

    cJSON_ArrayForEach(t, tags)
    {
        const char *k = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "Key"));

        if (k && strcmp(k, key) == 0)
            return t;
    }
    return NULL;
}

static enum err_code tag_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct tagging *x = arg;
    cJSON *desc = NULL, *tags, *v;
    enum err_code rc = table_desc_get(t, x->table, &desc, e);

    if (rc == ERR_NOTFOUND)
        return err_set(e, ERR_NOTFOUND,
                       "Requested resource not found: ResourcArn: arn:aws:dynamodb:%s:%s:table/%s "
                       "not found",
                       x->c->d->region, x->c->d->account, x->table);
    if (rc)
        return rc;
    tags = cJSON_GetObjectItemCaseSensitive(desc, "_tags");
    if (!cJSON_IsArray(tags)) {
        cJSON_DeleteItemFromObjectCaseSensitive(desc, "_tags");
        tags = cJSON_AddArrayToObject(desc, "_tags");
    }
    if (x->op == OP_TAG) {
        cJSON_ArrayForEach(v, x->tags)
        {
            const char *k = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "Key"));
            const char *val = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "Value"));
            cJSON *old = find_tag(tags, k);

            if (old) {
                cJSON_ReplaceItemInObjectCaseSensitive(old, "Value", cJSON_CreateString(val));
            } else {
                cJSON *o = cJSON_CreateObject();

                cJSON_AddStringToObject(o, "Key", k);
                cJSON_AddStringToObject(o, "Value", val);
                cJSON_AddItemToArray(tags, o);
            }
        }
        if (cJSON_GetArraySize(tags) > TAGS_MAX) {
            cJSON_Delete(desc);
            return err_set(e, ERR_INVALID,
                           "One or more parameter values were invalid: The number of tags on the "
                           "resource exceeds the maximum of %d",
                           TAGS_MAX);
        }
    } else {
        cJSON_ArrayForEach(v, x->keys)
        {
            cJSON *old = find_tag(tags, v->valuestring);

            if (old)
                cJSON_Delete(cJSON_DetachItemViaPointer(tags, old));
        }
    }
    rc = table_desc_put(t, x->table, desc, e);
    cJSON_Delete(desc);
    return rc;
}

static void tag_done(void *arg, enum err_code rc, const struct err *e)
{
    struct tagging *x = arg;
    struct buf b;

    if (rc) {
        ddb_reply_err(x->c, rc, e->msg);
        return;
    }
    buf_init(&b, 0); /* TagResource and UntagResource answer with no body at all */
    ddb_reply(x->c, &b);
}

/* resource_arg - ResourceArn's constraints recorded on @c; the ARN or NULL. */
static const char *resource_arg(struct ddb_call *c)
{
    const char *arn = ddb_arg_str(c, c->in, "ResourceArn");

    if (!arn && !c->serial)
        ddb_verr_null(c, "resourceArn");
    else
        ddb_check_len(c, arn, "resourceArn", 1, 1283, false);
    return arn;
}

/* resource_table - after the argument checks: @arn's table into @x->table;
 * false when @c was answered (not a table ARN of this region and account). */
static bool resource_table(struct ddb_call *c, const char *arn, struct tagging *x)
{
    char msg[1400];

    if (arn_table(c->d, arn, x->table))
        return true;
    snprintf(msg, sizeof(msg), "Invalid TableArn: Invalid ResourceArn provided as input %.1300s%s",
             arn, strncmp(arn, "arn:", 4) != 0 ? " (ARNs must start with 'arn:')" : "");
    ddb_reply_err(c, ERR_INVALID, msg);
    return false;
}

/* chars - @s's length in characters (DynamoDB counts a tag's length so), @s being UTF-8 */
/* tag_chars_ok - @s holds only what a tag may: letters, digits, whitespace and
 * + - = . _ : / @ (any non-ASCII character is taken as a letter) */
static bool tag_chars_ok(const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch < 0x80 && !isalnum(ch) && !isspace(ch) && !strchr("+-=._:/@", ch))
            return false;
    }
    return true;
}

#define TAG_PATTERN "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$"

void tags_check(struct ddb_call *c, const cJSON *t, int i)
{
    const char *k = ddb_arg_str(c, t, "Key"), *v = ddb_arg_str(c, t, "Value");
    char path[64];

    snprintf(path, sizeof(path), "tags.%d.member.key", i);
    if (!ddb_check_chars(c, k, path, 1, 128, true) && k && !tag_chars_ok(k))
        ddb_verr(c,
                 "Value '%.200s' at '%s' failed to satisfy constraint: Member must satisfy "
                 "regular expression pattern: " TAG_PATTERN,
                 k, path);
    snprintf(path, sizeof(path), "tags.%d.member.value", i);
    if (!ddb_check_chars(c, v, path, 0, 256, true) && v && !tag_chars_ok(v))
        ddb_verr(c,
                 "Value '%.300s' at '%s' failed to satisfy constraint: Member must satisfy "
                 "regular expression pattern: " TAG_PATTERN,
                 v, path);
}

void ddb_tag_resource(struct ddb_call *c)
{
    struct tagging *x = arena_calloc(c->a, sizeof(*x));
    const cJSON *tags = ddb_arg_arr(c, c->in, "Tags"), *t;
    const char *arn;
    int i = 0;

    x->c = c;
    x->op = OP_TAG;
    arn = resource_arg(c);
    if (!tags && !c->serial)
        ddb_verr_null(c, "tags");
    else
        ddb_check_count(c, tags, "tags", 1, DDB_NO_MAX);
    cJSON_ArrayForEach(t, tags)
    {
        tags_check(c, t, ++i);
    }
    if (ddb_args_failed(c) || !resource_table(c, arn, x))
        return;
    cJSON_ArrayForEach(t, tags)
    {
        const char *k = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "Key"));

        if (strncmp(k, "aws:", 4) == 0) {
            ddb_reply_err(c, ERR_INVALID,
                          "One or more parameter values were invalid: Tag keys starting with "
                          "'aws:' are reserved for system use");
            return;
        }
    }
    if (i > TAGS_MAX) {
        ddb_reply_err(c, ERR_INVALID,
                      "One or more parameter values were invalid: The number of tags on the "
                      "resource exceeds the maximum of 50");
        return;
    }
    x->tags = tags;
    store_submit(c->d->store, tag_apply, tag_done, x);
}

void ddb_untag_resource(struct ddb_call *c)
{
    struct tagging *x = arena_calloc(c->a, sizeof(*x));
    const cJSON *keys = ddb_arg_arr(c, c->in, "TagKeys"), *k;
    const char *arn;

    x->c = c;
    x->op = OP_UNTAG;
    arn = resource_arg(c);
    if (!keys && !c->serial)
        ddb_verr_null(c, "tagKeys");
    cJSON_ArrayForEach(k, keys)
    {
        if (!cJSON_IsString(k)) {
            c->serial = true;
            snprintf(c->serial_msg, sizeof(c->serial_msg), "Unexpected value type in TagKeys");
        }
    }
    if (ddb_args_failed(c) || !resource_table(c, arn, x))
        return;
    x->keys = keys;
    store_submit(c->d->store, tag_apply, tag_done, x);
}

void ddb_list_tags(struct ddb_call *c)
{
    struct tagging x = {.c = c};
    struct store_txn *t = NULL;
    cJSON *desc = NULL, *tags;
    struct err e = {0};
    struct buf b;
    enum err_code rc;
    const char *arn = resource_arg(c);

    ddb_arg_str(c, c->in, "NextToken");
    if (ddb_args_failed(c) || !resource_table(c, arn, &x))
        return;
    rc = store_read_begin(c->d->store, &t, &e);
    if (!rc)
        rc = table_desc_get(t, x.table, &desc, &e);
    store_txn_abort(t);
    if (rc == ERR_NOTFOUND)
        rc = err_set(&e, ERR_NOTFOUND,
                     "Requested resource not found: ResourcArn: arn:aws:dynamodb:%s:%s:table/%s "
                     "not found",
                     c->d->region, c->d->account, x.table);
    if (rc) {
        ddb_reply_err(c, rc, e.msg);
        return;
    }
    tags = cJSON_GetObjectItemCaseSensitive(desc, "_tags");
    buf_init(&b, 0);
    buf_puts(&b, "{\"Tags\":");
    if (cJSON_IsArray(tags)) {
        char *text = cJSON_PrintUnformatted(tags);

        buf_puts(&b, text);
        free(text);
    } else {
        buf_puts(&b, "[]");
    }
    buf_putc(&b, '}');
    cJSON_Delete(desc);
    ddb_reply(c, &b);
}
