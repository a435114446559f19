/* tags.h - TagResource, UntagResource, ListTagsOfResource on table ARNs.
 *
 * Tags live in the table's descriptor ("_tags", table.h), which CreateTable's
 * Tags also fill: at most 50 per table, keys 1..128 characters (not starting
 * with "aws:"), values 0..256; tagging an existing key replaces its value,
 * untagging an absent key is no error. */
#ifndef TANDEM_TAGS_H
#define TANDEM_TAGS_H

#include "ddb_int.h"

enum { TAGS_MAX = 50 };

ddb_op_fn ddb_tag_resource, ddb_untag_resource, ddb_list_tags;

/* tags_check - record the constraint violations of tag @t, the @i-th (from 1)
 * of a Tags list (TagResource's and CreateTable's): key 1..128 and value
 * 0..256 characters, of letters, digits, whitespace and + - = . _ : / @. */
void tags_check(struct ddb_call *c, const cJSON *t, int i);

#endif
