/* async_int.h - asynchronous invocation: its configuration API
 * (api_async.c). Not for other folders.
 *
 * A configuration is the private member "_Async" of the holder it belongs to
 * ($LATEST's document, a version or an alias; see api_version.c):
 * MaximumRetryAttempts and MaximumEventAgeInSeconds when set, DestinationConfig
 * {OnSuccess,OnFailure}{Destination}, LastModified (Unix seconds). */
#ifndef TANDEM_FN_ASYNC_INT_H
#define TANDEM_FN_ASYNC_INT_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "fn_int.h"
#include "http.h"

/* ---- api_async.c: called by the router, which has checked the caller's
 * permission; strings are borrowed for the call ---- */

/* Put (PUT), Update (POST), Get (GET) and DeleteFunctionEventInvokeConfig
 * (DELETE) by @r's method: /2019-09-25/functions/NAME/event-invoke-config;
 * @qual: the version or alias (NULL: $LATEST) */
void fnapi_event_config(struct fn *f, struct http_req *r, const char *name, const char *qual);
/* ListFunctionEventInvokeConfigs: GET .../event-invoke-config/list */
void fnapi_event_config_list(struct fn *f, struct http_req *r, const char *name);

/* fnasync_config_of - the configuration of @holder (borrowed), or NULL. */
const cJSON *fnasync_config_of(const cJSON *holder);
/* fnasync_destination - the OnSuccess (@success) or OnFailure destination
 * ARN of configuration @c (borrowed), or NULL when none. */
const char *fnasync_destination(const cJSON *c, bool success);

#endif
