/* attr.h - DynamoDB AttributeValues as the wire carries them.
 *
 * An AttributeValue is a cJSON object with exactly one member naming its
 * type: {"S": "x"}, {"N": "1.5"}, {"B": "<base64>"}, {"SS": [...]},
 * {"NS": [...]}, {"BS": [...]}, {"M": {name: AV, ...}}, {"L": [AV, ...]},
 * {"NULL": true}, {"BOOL": false}. An item is an object of name -> AV.
 * Items travel and are stored in this form, so a stored item is sent back
 * without re-encoding. */
#ifndef TANDEM_ATTR_H
#define TANDEM_ATTR_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"

enum attr_type {
    ATTR_INVALID = 0,
    ATTR_S,
    ATTR_N,
    ATTR_B,
    ATTR_SS,
    ATTR_NS,
    ATTR_BS,
    ATTR_M,
    ATTR_L,
    ATTR_NULL,
    ATTR_BOOL,
};

/* attr_type_of - the type of @av, ATTR_INVALID unless it is an object with
 * exactly one member of a known type name. */
enum attr_type attr_type_of(const cJSON *av);

/* attr_type_name - "S", "N", ... ("" for ATTR_INVALID). */
const char *attr_type_name(enum attr_type t);

/* attr_payload - the member inside @av ({"S":"x"} -> the string "x"), or NULL. */
const cJSON *attr_payload(const cJSON *av);

/*
 * attr_validate - check @av as DynamoDB does and normalize it in place:
 * N (and NS members) rewritten to canonical text (num.h); B/BS valid base64;
 * sets non-empty, members of the right JSON type, no duplicates; NULL must be
 * true; BOOL a JSON boolean; M/L nested at most 32 levels deep. ERR_INVALID
 * with DynamoDB's message (e.g. "One or more parameter values were invalid:
 * An string set  may not be empty", "Input collection [a, a] contains
 * duplicates.", "Supplied AttributeValue is empty, must contain exactly one of
 * the supported datatypes").
 */
enum err_code attr_validate(cJSON *av, struct err *e);

/* An S, N or B payload that is a JSON number or boolean ({"N":123}) fails
 * attr_validate with "NUMBER_VALUE" (or "VALUE_TRUE", "VALUE_FALSE") followed
 * by this text; the API layer answers it as DynamoDB does, with a
 * SerializationException carrying just that part. */
/* ATTR_NAME_MAX - the longest attribute name in bytes, wherever a name is
 * given (items, ExpressionAttributeNames, AttributesToGet, AttributeUpdates);
 * ATTR_NAME_TOO_LONG is DynamoDB's answer past it. */
enum { ATTR_NAME_MAX = 65535 };
#define ATTR_NAME_TOO_LONG "Attribute name is too large, must be less than 65536 bytes"

#define ATTR_SERIAL_MSG " can not be converted to String"

/* attr_validate_item - attr_validate() on every attribute of @item (an object). */
enum err_code attr_validate_item(cJSON *item, struct err *e);

/*
 * Strings hold U+0000 as the two bytes C0 80 (the API layer reads "\u0000"
 * so, api.c). attr_str_len - the length DynamoDB counts for @s: its UTF-8
 * bytes, each U+0000 one byte. attr_str_bytes - @s's @n bytes as UTF-8 in
 * @out (room for @n bytes), each C0 80 as 0x00; returns the length written.
 */
size_t attr_str_len(const char *s);
size_t attr_str_bytes(const char *s, size_t n, char *out);

/* attr_size - bytes @av counts toward the 400 KB item limit, per the
 * DynamoDB item size rules (name length included when @name is non-NULL;
 * strings as attr_str_len counts them). */
size_t attr_size(const char *name, const cJSON *av);

/* attr_item_size - the item's size: sum of attr_size over its attributes. */
size_t attr_item_size(const cJSON *item);

/* attr_equal - DynamoDB equality: same type and value; numbers compared
 * numerically; sets as sets (order ignored); M and L deeply. */
bool attr_equal(const cJSON *a, const cJSON *b);

/* attr_compare - order of two scalars of the same type S (UTF-8 bytes, so
 * U+0000 first), N (numeric) or B (decoded bytes): <0, 0, >0. *@ok false
 * (result 0) when the types differ or are not S, N or B.
 * attr_compare_nul_high - the same, but U+0000 compares as C0 80 (after
 * U+007F): the order of string keys in tables older than nul0 (table.h). */
int attr_compare(const cJSON *a, const cJSON *b, bool *ok);
int attr_compare_nul_high(const cJSON *a, const cJSON *b, bool *ok);

#endif
