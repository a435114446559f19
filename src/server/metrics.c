/* metrics.c - see metrics.h. */
#include "metrics.h"

#include <inttypes.h>

#include "buf.h"
#include "iam.h"
#include "repl.h"
#include "store.h"

/* store_metrics - the store's write path: how many writes each commit and each
 * flush to disk carried since the server started. */
static void store_metrics(struct store *s, struct buf *b)
{
    struct store_stats st;

    store_get_stats(s, &st);
    buf_printf(b,
               "# HELP tandem_store_writes_total Writes applied to the store (each is durable "
               "before it is answered).\n"
               "# TYPE tandem_store_writes_total counter\n"
               "tandem_store_writes_total %" PRIu64 "\n"
               "# HELP tandem_store_commits_total Transactions committed; concurrent writes "
               "share one.\n"
               "# TYPE tandem_store_commits_total counter\n"
               "tandem_store_commits_total %" PRIu64 "\n"
               "# HELP tandem_store_flushes_total Flushes to disk: of the write-ahead log, and "
               "checkpoints.\n"
               "# TYPE tandem_store_flushes_total counter\n"
               "tandem_store_flushes_total %" PRIu64 "\n"
               "# HELP tandem_store_commit_writes_max Most writes one commit has carried.\n"
               "# TYPE tandem_store_commit_writes_max gauge\n"
               "tandem_store_commit_writes_max %" PRIu64 "\n",
               st.intents, st.commits, st.syncs, st.max_batch_seen);
}

void server_metrics(struct http_req *r, struct store *s, struct iam *iam, struct repl *repl)
{
    struct buf b;

    buf_init(&b, 0);
    store_metrics(s, &b);
    if (iam)
        iam_metrics(iam, &b);
    if (repl)
        repl_metrics(repl, &b);
    http_resp_header(r, "Content-Type", "text/plain; version=0.0.4");
    http_respond_buf(r, 200, &b);
}
