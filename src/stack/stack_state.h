/* stack_state.h - the stack's state: a JSON document written atomically.
 *
 * {"version":1, "stack":S, "project":P,
 *  "resources":[{"name","type","status","id","region","endpoint","inputs",
 *                "outputs","deps":[names],"protect"}...],
 *  "outputs":{...}}
 * status is "created", or "creating"/"updating"/"deleting" while an
 * operation is in flight: a run that was interrupted leaves that mark, and
 * the next run completes or repeats the operation (providers adopt what
 * already exists and treat "not found" on delete as done).
 * Not thread-safe: the engine serializes access with its own mutex. */
#ifndef TANDEM_STACK_STATE_H
#define TANDEM_STACK_STATE_H

#include <cjson/cJSON.h>

#include "err.h"
#include "json.h" /* json_str reads an entry's members */

/* stack_state_load - read @path; a missing file gives an empty state.
 * @out owned, cJSON_Delete(). ERR_IO / ERR_INVALID (corrupt file) in @e. */
enum err_code stack_state_load(const char *path, cJSON **out, struct err *e);

/* stack_state_save - write @st to @path atomically: a temporary file in the
 * same folder, fsync, rename over @path, fsync the folder. */
enum err_code stack_state_save(const char *path, const cJSON *st, struct err *e);

/* stack_state_res - the resource entry named @name (borrowed), or NULL. */
cJSON *stack_state_res(const cJSON *st, const char *name);

/* stack_state_put - replace or add the entry @r (takes) named r.name. */
void stack_state_put(cJSON *st, cJSON *r);

/* stack_state_remove - drop the entry named @name, if any. */
void stack_state_remove(cJSON *st, const char *name);

#endif
