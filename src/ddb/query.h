/* query.h - Query (KeyConditionExpression over one partition, in sort-key
 * order either way) and Scan (with parallel Segment/TotalSegments), sharing
 * one page loop: FilterExpression, ProjectionExpression, Select, Limit,
 * ExclusiveStartKey/LastEvaluatedKey and the 1 MB page as the service applies
 * them (Limit and 1 MB count items read before filtering). */
#ifndef TANDEM_QUERY_H
#define TANDEM_QUERY_H

#include "ddb_int.h"

ddb_op_fn ddb_query, ddb_scan;

/* ddb_scan_segment - the parallel-scan segment (0..@total-1) of an item whose
 * partition key AttributeValue prints as @pk_json. */
unsigned ddb_scan_segment(const char *pk_json, unsigned total);

#endif
