/* async_int.h - asynchronous invocation: its configuration API
 * (api_async.c) and the durable queue of Event invocations with its worker
 * (async.c). Not for other folders.
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

/* ---- async.c ---- */

struct fn_async;

/* fnasync_open - load the queued events (f->async) and start the worker
 * that runs them. TANDEM_FN_ASYNC_RETRY_MS (default 60000) is the first
 * retry's delay; the second waits twice it (Lambda: 1 then 2 minutes). */
enum err_code fnasync_open(struct fn *f, struct err *e);
/* fnasync_stop - stop starting events (before the runtime stops: an event
 * under way is left queued); fnasync_close then waits for the writes and
 * invocations under way and frees. Both: NULL f->async ok. */
void fnasync_stop(struct fn *f);
void fnasync_close(struct fn *f);
/* fnasync_enqueue - queue @r's body as an Event invocation of NAME:@qual
 * (@qual NULL: unqualified) and answer @r 202 once it is durable (from the
 * store's writer thread); TooManyRequestsException when QUEUE_MAX events
 * wait already. Never blocks. */
void fnasync_enqueue(struct fn *f, struct http_req *r, const char *name, const char *qual);
/* fnasync_enqueue_event - queue @payload (@len bytes, copied) as an Event invocation of
 * NAME:@qual for another service of the region (S3's notifications); @done tells, from
 * the store's writer thread, whether it was queued durably. False, and @done not called,
 * when the queue is full or stopping. Never blocks. */
bool fnasync_enqueue_event(struct fn *f, const char *name, const char *qual, const char *payload,
                           size_t len, fn_event_done_fn *done, void *ud);

#endif
