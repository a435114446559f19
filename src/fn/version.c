/* version.c - the pure rules of versions and aliases (fn.h): what a qualifier
 * names, whether $LATEST differs from a
 * published version, an alias's routing configuration and the version an
 * invocation of it goes to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fn.h"

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static bool name_chars(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return false;
    return true;
}

enum fn_qual fn_qualifier_kind(const char *q)
{
    if (!q || !*q || strlen(q) > 128)
        return FN_QUAL_BAD;
    if (strcmp(q, "$LATEST") == 0)
        return FN_QUAL_LATEST;
    if (all_digits(q))
        return strlen(q) <= 10 ? FN_QUAL_VERSION : FN_QUAL_BAD;
    return name_chars(q) ? FN_QUAL_ALIAS : FN_QUAL_BAD;
}

/* members that differ between $LATEST and an unchanged version */
static bool ignored(const char *k)
{
    static const char *const skip[] = {"RevisionId",  "LastModified", "Version",
                                       "FunctionArn", "Description",  NULL};
    size_t i;

    if (k[0] == '_')
        return strcmp(k, "_Dir") != 0;
    for (i = 0; skip[i]; i++)
        if (strcmp(k, skip[i]) == 0)
            return true;
    return false;
}

static bool covered(const cJSON *a, const cJSON *b)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, a)
    {
        if (ignored(it->string))
            continue;
        if (!cJSON_Compare(it, cJSON_GetObjectItemCaseSensitive(b, it->string), true))
            return false;
    }
    return true;
}

bool fn_version_same(const cJSON *latest, const cJSON *v)
{
    return latest && v && covered(latest, v) && covered(v, latest);
}

/* java_double - @d as Java's Double.toString writes a weight (2.0, -1.0,
 * 0.25): the shortest digits that read back as @d, ".0" after an integer;
 * Lambda's validation messages quote it so */
static void java_double(char *out, size_t cap, double d)
{
    size_t n;

    if (d == (double)(long long)d && d > -1e7 && d < 1e7) {
        snprintf(out, cap, "%.1f", d);
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(out, cap, "%.*g", p, d);
        if (strtod(out, NULL) == d)
            break;
    }
    n = strlen(out);
    if (!strpbrk(out, ".eni") && n + 2 < cap)
        memcpy(out + n, ".0", 3);
}

const char *fn_routing_check(const cJSON *routing, const char *primary, char *msg, size_t cap)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(routing, "AdditionalVersionWeights"), *it;
    char num[48];

    if (!routing || cJSON_IsNull(routing) || !w || cJSON_IsNull(w))
        return NULL;
    if (!cJSON_IsObject(routing) || !cJSON_IsObject(w))
        return "RoutingConfig.AdditionalVersionWeights must be a map of version to weight";
    if (cJSON_GetArraySize(w) == 0)
        return NULL;
    if (cJSON_GetArraySize(w) > 1)
        return "Number of items in AdditionalVersionWeights cannot be greater than 1";
    it = w->child;
    java_double(num, sizeof(num), cJSON_IsNumber(it) ? it->valuedouble : 0.0);
    if (!all_digits(it->string) || strlen(it->string) > 10) {
        snprintf(msg, cap,
                 "1 validation error detected: Value '{%s=%s}' at "
                 "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map "
                 "keys must satisfy constraint: [Member must have length less than or equal to "
                 "1024, Member must have length greater than or equal to 1, Member must satisfy "
                 "regular expression pattern: [0-9]+, Member must not be null]",
                 it->string, num);
        return msg;
    }
    if (!cJSON_IsNumber(it) || it->valuedouble < 0.0 || it->valuedouble > 1.0) {
        snprintf(msg, cap,
                 "1 validation error detected: Value '{%s=%s}' at "
                 "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map "
                 "value must satisfy constraint: [Member must have value less than or equal to "
                 "1.0, Member must have value greater than or equal to 0.0, Member must not be "
                 "null]",
                 it->string, num);
        return msg;
    }
    if (primary && strcmp(primary, "$LATEST") == 0)
        return "$LATEST is not supported for an alias pointing to more than 1 version";
    if (primary && strcmp(primary, it->string) == 0) {
        snprintf(msg, cap,
                 "Invalid function version %s. Function version %s is already included in "
                 "routing configuration.",
                 it->string, it->string);
        return msg;
    }
    return NULL;
}

const char *fn_alias_pick(const cJSON *alias, double u)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(alias, "RoutingConfig"), "AdditionalVersionWeights");
    const char *primary =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(alias, "FunctionVersion"));

    if (cJSON_IsObject(w) && w->child && cJSON_IsNumber(w->child) && u < w->child->valuedouble)
        return w->child->string;
    return primary;
}
