/* stack_match.h - whether a program's inputs match an existing resource (options.import).
 *
 * Pulumi imports a resource only when the inputs the program gives match what its
 * provider reads back; otherwise the import fails with "inputs to import do not match
 * the existing resource". The comparison here normalizes as the providers do:
 *  - only properties the program gives and the read reports are compared (a provider
 *    default the program does not set, or a property a read cannot report, is no
 *    difference); inside a nested block likewise, except `tags` and
 *    `environment.variables`-style maps (`tags`, `variables`), compared key for key;
 *  - lists are compared as sets (AWS treats these lists as sets: attributes, indexes,
 *    policy ARNs, CORS methods...); elements with a `name` (else an `id`) are matched by it;
 *  - a string holding a JSON document (a policy) and a document written as an object
 *    are compared as JSON: keys in any order, lists as sets, a one-element list equal
 *    to its element, numbers and booleans equal to their strings, spacing ignored;
 *  - a number or boolean equals its string (the provider coerces them).
 */
#ifndef TANDEM_STACK_MATCH_H
#define TANDEM_STACK_MATCH_H

#include <cjson/cJSON.h>
#include <stdbool.h>

/* stack_match_inputs - compare @given (the program's inputs) with @read (what the
 * provider read back). For each difference appends to the array @diffs (may be NULL) a
 * string `path: program V, existing W` (values as JSON, long ones shortened). Returns the
 * number of differences. */
int stack_match_inputs(const cJSON *given, const cJSON *read, cJSON *diffs);

/* stack_match_value - whether the value @read of property @prop matches @given, under the
 * same rules. */
bool stack_match_value(const char *prop, const cJSON *given, const cJSON *read);

/* stack_match_doc - whether two JSON documents (policies; either may be text holding
 * JSON) are the same document as AWS compares policies. */
bool stack_match_doc(const cJSON *a, const cJSON *b);

#endif
