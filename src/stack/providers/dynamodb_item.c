/* dynamodb_item.c - aws:dynamodb:TableItem through PutItem / GetItem / DeleteItem.
 *
 * Inputs as Pulumi AWS v6: tableName, hashKey, rangeKey, item (a JSON
 * document of AttributeValues, e.g. {"id": {"S": "1"}}). The id is
 * tableName|hashValue|rangeValue. A change of the item's key deletes the
 * old item. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "stack_provider.h"

#define DDB "dynamodb"

/* the item as an object of AttributeValues (the input is a JSON string or already a map) */
static cJSON *item_of(const cJSON *in)
{
    const cJSON *it = cJSON_GetObjectItem(in, "item");
    if (cJSON_IsString(it))
        return cJSON_Parse(it->valuestring);
    return cJSON_IsObject(it) ? cJSON_Duplicate(it, 1) : NULL;
}

/* the key attributes of @item (owned), or NULL with @e set */
static cJSON *key_of(const cJSON *in, const cJSON *item, struct err *e)
{
    const char *hk = stack_prov_str(in, "hashKey", NULL),
               *rk = stack_prov_str(in, "rangeKey", NULL);
    cJSON *k = cJSON_CreateObject();
    const cJSON *hv = hk ? cJSON_GetObjectItemCaseSensitive(item, hk) : NULL;
    const cJSON *rv = rk ? cJSON_GetObjectItemCaseSensitive(item, rk) : NULL;
    if (!hv || (rk && !rv)) {
        cJSON_Delete(k);
        err_set(e, ERR_INVALID, "aws:dynamodb:TableItem: item has no value for key %s",
                !hv ? (hk ? hk : "(hashKey)") : rk);
        return NULL;
    }
    cJSON_AddItemToObject(k, hk, cJSON_Duplicate(hv, 1));
    if (rv)
        cJSON_AddItemToObject(k, rk, cJSON_Duplicate(rv, 1));
    return k;
}

static void key_text(const cJSON *av, char *out, size_t cap)
{
    const cJSON *c = av ? av->child : NULL;
    snprintf(out, cap, "%s", c && cJSON_IsString(c) ? c->valuestring : "");
}

static enum err_code item_put(const struct stack_target *t, const cJSON *in, char **id, cJSON **out,
                              struct err *e)
{
    const char *table = stack_prov_str(in, "tableName", NULL);
    cJSON *item = item_of(in), *key, *req;
    char hv[256], rv[256], idbuf[800];
    enum err_code rc;

    *out = NULL;
    if (!table || !cJSON_IsObject(item)) {
        cJSON_Delete(item);
        return err_set(e, ERR_INVALID,
                       "aws:dynamodb:TableItem needs tableName and item (a JSON map of "
                       "AttributeValues)");
    }
    if (!(key = key_of(in, item, e))) {
        cJSON_Delete(item);
        return ERR_INVALID;
    }
    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "TableName", table);
    cJSON_AddItemToObject(req, "Item", item);
    rc = stack_prov_json(t, DDB, "DynamoDB_20120810.PutItem", req, NULL, NULL, 0, e);
    cJSON_Delete(req);
    if (rc) {
        cJSON_Delete(key);
        return rc;
    }
    key_text(cJSON_GetObjectItem(key, stack_prov_str(in, "hashKey", "")), hv, sizeof(hv));
    key_text(stack_prov_str(in, "rangeKey", NULL)
                 ? cJSON_GetObjectItem(key, stack_prov_str(in, "rangeKey", ""))
                 : NULL,
             rv, sizeof(rv));
    snprintf(idbuf, sizeof(idbuf), "%s|%s|%s", table, hv, rv);
    cJSON_Delete(key);
    if (id)
        *id = xstrdup(idbuf);
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "id", idbuf);
    return ERR_OK;
}

static enum err_code item_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                 char **id, cJSON **out, struct err *e)
{
    (void)adopt;
    *id = NULL;
    return item_put(t, in, id, out, e);
}

static enum err_code item_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                 const cJSON *out, struct err *e)
{
    cJSON *item = item_of(in), *key = item ? key_of(in, item, e) : NULL, *req;
    char code[96] = "";
    enum err_code rc;
    (void)id;
    (void)out;
    cJSON_Delete(item);
    if (!key)
        return ERR_OK; /* nothing we could have written */
    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "TableName", stack_prov_str(in, "tableName", ""));
    cJSON_AddItemToObject(req, "Key", key);
    rc = stack_prov_json(t, DDB, "DynamoDB_20120810.DeleteItem", req, NULL, code, sizeof(code), e);
    cJSON_Delete(req);
    return rc && !strcmp(code, "ResourceNotFoundException") ? ERR_OK : rc;
}

static enum err_code item_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                                 const cJSON *new_in, const cJSON *old_out, cJSON **out,
                                 struct err *e)
{
    cJSON *oi = item_of(old_in), *ni = item_of(new_in);
    cJSON *ok = oi ? key_of(old_in, oi, e) : NULL, *nk = ni ? key_of(new_in, ni, e) : NULL;
    bool moved = ok && nk && !cJSON_Compare(ok, nk, 1);
    enum err_code rc;
    (void)old_out;
    cJSON_Delete(oi);
    cJSON_Delete(ni);
    cJSON_Delete(ok);
    cJSON_Delete(nk);
    rc = item_put(t, new_in, NULL, out, e);
    if (rc == ERR_OK && moved)
        rc = item_delete(t, id, old_in, NULL, e);
    return rc;
}

static enum err_code item_read(const struct stack_target *t, const char *id, const cJSON *in,
                               cJSON **out, bool *gone, struct err *e)
{
    cJSON *item = item_of(in), *key = item ? key_of(in, item, e) : NULL, *req, *resp = NULL;
    char code[96] = "";
    enum err_code rc;
    cJSON_Delete(item);
    *out = NULL;
    *gone = false;
    if (!key) {
        *gone = true;
        return ERR_OK;
    }
    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "TableName", stack_prov_str(in, "tableName", ""));
    cJSON_AddItemToObject(req, "Key", key);
    cJSON_AddBoolToObject(req, "ConsistentRead", 1);
    rc = stack_prov_json(t, DDB, "DynamoDB_20120810.GetItem", req, &resp, code, sizeof(code), e);
    cJSON_Delete(req);
    if (rc && !strcmp(code, "ResourceNotFoundException")) {
        *gone = true;
        return ERR_OK;
    }
    if (rc)
        return rc;
    *gone = !cJSON_GetObjectItem(resp, "Item");
    if (!*gone) {
        char *text = cJSON_PrintUnformatted(cJSON_GetObjectItem(resp, "Item"));
        *out = cJSON_CreateObject();
        cJSON_AddStringToObject(*out, "id", id);
        cJSON_AddStringToObject(*out, "item", text ? text : "{}"); /* as the program writes it */
        free(text);
    }
    cJSON_Delete(resp);
    return ERR_OK;
}

static const char *const item_replace[] = {"tableName", "hashKey", "rangeKey", NULL};
static const char *const item_outs[] = {"id", NULL};
static const char *const item_inputs[] = {"tableName", "hashKey", "rangeKey", "item", NULL};

const struct stack_provider stack_provider_dynamodb_item = {
    .strings = (const char *const[]){"tableName", "hashKey", "rangeKey", NULL},
    .type = "aws:dynamodb:TableItem",
    .replace_props = item_replace,
    .outputs = item_outs,
    .inputs = item_inputs,
    .create = item_create,
    .update = item_update,
    .del = item_delete,
    .read = item_read,
};
