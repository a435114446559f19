/* json.c - see json.h. */
#include "json.h"

static const cJSON *member(const cJSON *o, const char *name, bool ci)
{
    return ci ? cJSON_GetObjectItem(o, name) : cJSON_GetObjectItemCaseSensitive(o, name);
}

static const char *str_of(const cJSON *v)
{
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_of(const cJSON *v)
{
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

const char *json_str(const cJSON *o, const char *name)
{
    return str_of(member(o, name, false));
}

double json_num(const cJSON *o, const char *name)
{
    return num_of(member(o, name, false));
}

bool json_true(const cJSON *o, const char *name)
{
    return cJSON_IsTrue(member(o, name, false));
}

const char *json_str_ci(const cJSON *o, const char *name)
{
    return str_of(member(o, name, true));
}

double json_num_ci(const cJSON *o, const char *name)
{
    return num_of(member(o, name, true));
}

bool json_true_ci(const cJSON *o, const char *name)
{
    return cJSON_IsTrue(member(o, name, true));
}
