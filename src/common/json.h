/* json.h - typed reads of one member of a cJSON object.
 *
 * Every module that keeps records as JSON reads members the same way: "the
 * member when it is a string, else nothing". These getters say it once. The
 * plain ones match the member name exactly (cJSON_GetObjectItemCaseSensitive);
 * the _ci ones ignore ASCII case (cJSON_GetObjectItem), which is what S3's
 * stored records were always read with.
 *
 * All accept a NULL or non-object @o (answering as for an absent member) and
 * only read: call them from any thread that may read @o. */
#ifndef TANDEM_JSON_H
#define TANDEM_JSON_H

#include <stdbool.h>

#include <cjson/cJSON.h>

/* json_str - member @name of @o when it is a string; NULL when absent or of
 * another type. Borrowed: valid while @o is unchanged. */
const char *json_str(const cJSON *o, const char *name);

/* json_num - member @name of @o when it is a number; 0 when absent or of
 * another type. */
double json_num(const cJSON *o, const char *name);

/* json_true - whether member @name of @o is the JSON literal true. */
bool json_true(const cJSON *o, const char *name);

/* json_str_ci, json_num_ci, json_true_ci - the same, @name matched without
 * regard to ASCII case. */
const char *json_str_ci(const cJSON *o, const char *name);
double json_num_ci(const cJSON *o, const char *name);
bool json_true_ci(const cJSON *o, const char *name);

#endif
