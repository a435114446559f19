/* metrics.h - a region's GET /_tandem/metrics (internal to src/server). */
#ifndef TANDEM_SERVER_METRICS_H
#define TANDEM_SERVER_METRICS_H

#include "http.h"

struct store;
struct repl;
struct iam;

/* server_metrics - answer @r with the region's metrics in Prometheus text:
 * the store's write path, identity (@iam) and replication (@repl; NULL ok). */
void server_metrics(struct http_req *r, struct store *s, struct iam *iam, struct repl *repl);

#endif
