/* tags.c - the Tags and TagKeys parameters of IAM's tagging calls, checked
 * as IAM checks them: every member at fault named in one ValidationError
 * ("2 validation errors detected: Value at 'tags.1.member.key' failed to
 * satisfy constraint: ...; ..."), then keys given twice (in any case) as
 * InvalidInput. Tag keys and values count characters, not bytes. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "iam_int.h"

/* Past this many members we stop reading: the answer is the same. */
enum { TAGS_READ_MAX = 1000 };

#define TAG_PATTERN "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]"

/* chars - the number of UTF-8 characters of @s */
static size_t chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* tag_chars_ok - @s only of letters, spaces, digits and _.:/=+-@ (any
 * character beyond ASCII is taken as a letter: \p{L}, \p{Z}, \p{N}). */
static bool tag_chars_ok(const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x80 && !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789 _.:/=+-@",
                                 ch))
            return false;
    }
    return true;
}

struct verrs {
    struct buf b;
    int n;
};

static void verr(struct verrs *v, const char *where, const char *constraint)
{
    buf_printf(&v->b, "%sValue at '%s' failed to satisfy constraint: Member must %s",
               v->n++ ? "; " : "", where, constraint);
}

/* verr_answer - answers the errors of @v, if any; true when it did. */
static bool verr_answer(struct iam_call *c, struct verrs *v)
{
    bool any = v->n > 0;

    if (any)
        iam_fail(c, 400, "ValidationError", "%d validation error%s detected: %s", v->n,
                 v->n > 1 ? "s" : "", v->b.ptr);
    buf_free(&v->b);
    return any;
}

static cJSON *parse_tags(struct iam_call *c, bool *bad, bool fold)
{
    cJSON *tags = cJSON_CreateArray(), *t, *u;
    struct verrs v = {.n = 0};
    char name[64], where[64];
    int n = 0;

    buf_init(&v.b, 0);
    *bad = false;
    for (int i = 1; i <= TAGS_READ_MAX; i++) {
        const char *k, *val;
        snprintf(name, sizeof(name), "Tags.member.%d.Key", i);
        k = iam_param(c, name);
        snprintf(name, sizeof(name), "Tags.member.%d.Value", i);
        val = iam_param(c, name);
        if (!k)
            break;
        n = i;
        if (!val)
            val = "";
        snprintf(where, sizeof(where), "tags.%d.member.key", i);
        if (!*k)
            verr(&v, where, "have length greater than or equal to 1");
        if (chars(k) > 128)
            verr(&v, where, "have length less than or equal to 128");
        if (*k && !tag_chars_ok(k))
            verr(&v, where, "satisfy regular expression pattern: " TAG_PATTERN "+");
        snprintf(where, sizeof(where), "tags.%d.member.value", i);
        if (chars(val) > 256)
            verr(&v, where, "have length less than or equal to 256");
        if (!tag_chars_ok(val))
            verr(&v, where, "satisfy regular expression pattern: " TAG_PATTERN "*");
        t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "Key", k);
        cJSON_AddStringToObject(t, "Value", val);
        cJSON_AddItemToArray(tags, t);
    }
    if (n > MAX_TAGS) {
        struct verrs first = {.n = 0};
        buf_init(&first.b, 0);
        verr(&first, "tags", "have length less than or equal to 50");
        if (v.n)
            buf_printf(&first.b, "; %s", v.b.ptr);
        first.n += v.n;
        buf_free(&v.b);
        v = first;
    }
    if (verr_answer(c, &v))
        goto bad;
    cJSON_ArrayForEach(t, tags)
    {
        for (u = t->next; u; u = u->next) {
            if (fold && strcasecmp(iam_jstr(t, "Key"), iam_jstr(u, "Key")) == 0) {
                iam_fail(c, 400, "InvalidInput",
                         "Duplicate tag keys found. Please note that Tag keys are case "
                         "insensitive.");
                goto bad;
            }
            if (!fold && strcmp(iam_jstr(t, "Key"), iam_jstr(u, "Key")) == 0) {
                iam_fail(c, 400, "InvalidInput", "Duplicate tag keys found.");
                goto bad;
            }
        }
    }
    return tags;
bad:
    *bad = true;
    cJSON_Delete(tags);
    return NULL;
}

cJSON *iam_parse_tags(struct iam_call *c, bool *bad)
{
    return parse_tags(c, bad, true);
}

cJSON *iam_parse_policy_tags(struct iam_call *c, bool *bad)
{
    return parse_tags(c, bad, false);
}

cJSON *iam_parse_tag_keys(struct iam_call *c)
{
    cJSON *keys = cJSON_CreateArray();
    struct verrs v = {.n = 0};
    bool member_bad = false;
    char name[48];
    int n = 0;

    buf_init(&v.b, 0);
    for (int i = 1; i <= TAGS_READ_MAX; i++) {
        const char *k;
        snprintf(name, sizeof(name), "TagKeys.member.%d", i);
        if (!(k = iam_param(c, name)))
            break;
        n = i;
        member_bad |= !*k || chars(k) > 128 || !tag_chars_ok(k);
        cJSON_AddItemToArray(keys, cJSON_CreateString(k));
    }
    if (n > MAX_TAGS)
        verr(&v, "tagKeys", "have length less than or equal to 50");
    /* IAM names the list, not the member, and every constraint of a member */
    if (member_bad)
        verr(&v, "tagKeys",
             "satisfy constraint: [Member must have length less than or equal to 128, Member "
             "must have length greater than or equal to 1, Member must satisfy regular "
             "expression pattern: " TAG_PATTERN "+, Member must not be null]");
    if (verr_answer(c, &v)) {
        cJSON_Delete(keys);
        return NULL;
    }
    return keys;
}

void iam_xml_tags(struct buf *b, const cJSON *doc, bool always)
{
    const cJSON *t, *tags = cJSON_GetObjectItemCaseSensitive(doc, "Tags");

    if (!always && cJSON_GetArraySize(tags) == 0)
        return;
    buf_puts(b, "<Tags>");
    cJSON_ArrayForEach(t, tags)
    {
        buf_puts(b, "<member>");
        xmlw_elem(b, "Key", iam_jstr(t, "Key"), 0);
        xmlw_elem(b, "Value", iam_jstr(t, "Value"), 0);
        buf_puts(b, "</member>");
    }
    buf_puts(b, "</Tags>");
}
