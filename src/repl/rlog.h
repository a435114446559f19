/* rlog.h - the replication log of a region, and the formats replication uses.
 *
 * Item values (STORE_DB_DATA). Byte 0 is the format:
 *   1  the item's JSON text follows (tables that never had replicas);
 *   2  flags (bit 0: deleted, a tombstone), the HLC timestamp (8 bytes,
 *      big-endian), the origin region (1 length byte, then the name), then
 *      the item's JSON text (empty for a tombstone).
 *
 * Log (STORE_DB_LOG, keys "r" + 8-byte big-endian sequence number). Every
 * change of a replicated table that originates in this region is appended
 * with the next sequence number in the same store apply as the change; the
 * counter is META "repl/seq". An entry: version 1, op (1 put, 2 delete), the
 * HLC timestamp, origin region, table name, the origin's table id, a CRC of
 * the key schema, the item key (its storage encoding without the table
 * prefix) and for a put the new image (JSON).
 *
 * Batches (what a region sends a peer): "TRB1", u32 count, count frames of
 * (u64 seq, u32 length, entry), then a CRC32 of everything before it; all
 * integers big-endian. A batch is checked whole before any of it is used.
 *
 * Positions (META "repl/pos/<peer>"): the last sequence number of that
 * peer's log applied here, written in the same apply as the entries. */
#ifndef TANDEM_REPL_RLOG_H
#define TANDEM_REPL_RLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "slice.h"
#include "store.h"

enum { REPL_FMT_JSON = 1, REPL_FMT_HLC = 2 };
enum { REPL_REGION_MAX = 63, REPL_TABLE_MAX = 255 };

/* a decoded item value; @json borrows the value */
struct repl_val {
    int fmt;
    bool deleted;
    uint64_t ts; /* 0 for format 1 */
    char origin[REPL_REGION_MAX + 1];
    const char *json;
    size_t json_len;
};

/* repl_val_encode - append a format-2 value; @json NULL for a tombstone. */
void repl_val_encode(struct buf *out, uint64_t ts, const char *origin, const char *json,
                     size_t json_len);

/* repl_val_decode - either format. ERR_INTERNAL "corrupt item" for anything else. */
enum err_code repl_val_decode(struct slice v, struct repl_val *out, struct err *e);

/* repl_val_newer - true when (@ts_a, @origin_a) wins over (@ts_b, @origin_b):
 * the later timestamp, ties broken by the greater region name. */
bool repl_val_newer(uint64_t ts_a, const char *origin_a, uint64_t ts_b, const char *origin_b);

struct repl_entry {
    uint64_t seq;
    bool del;
    uint64_t ts;
    char origin[REPL_REGION_MAX + 1];
    char table[REPL_TABLE_MAX + 1];
    uint64_t table_id;
    uint32_t schema;
    const void *key; /* borrowed */
    size_t key_len;
    const char *image; /* borrowed; NULL for a delete */
    size_t image_len;
};

/* repl_entry_encode - append the entry's bytes (without its seq). */
void repl_entry_encode(struct buf *out, const struct repl_entry *x);
/* repl_entry_decode - @out borrows @p. ERR_INVALID with a reason when malformed. */
enum err_code repl_entry_decode(const void *p, size_t n, struct repl_entry *out, struct err *e);

/* repl_log_append - give @x the next sequence number and append it (write txn). */
enum err_code repl_log_append(struct store_txn *t, struct repl_entry *x, struct err *e);

/* repl_log_bounds - the first retained and the last sequence numbers (0, 0 when
 * nothing was ever logged; first = last + 1 when everything was trimmed). */
enum err_code repl_log_bounds(struct store_txn *t, uint64_t *first, uint64_t *last, struct err *e);

/* repl_log_read - encode a batch of the entries with seq >= @from, at most
 * @max entries and about @max_bytes. @count and @last_seq (0 when empty) out. */
enum err_code repl_log_read(struct store_txn *t, uint64_t from, size_t max, size_t max_bytes,
                            struct buf *batch, size_t *count, uint64_t *last_seq, struct err *e);

/* repl_log_trim - delete at most @max entries older than @before_ms (by their
 * timestamps) from the head of the log (write txn); @n how many went. */
enum err_code repl_log_trim(struct store_txn *t, int64_t before_ms, size_t max, size_t *n,
                            struct err *e);

/* batches */
void repl_batch_begin(struct buf *b);
void repl_batch_add(struct buf *b, uint64_t seq, const void *entry, size_t len);
void repl_batch_end(struct buf *b); /* count and CRC */

typedef enum err_code repl_entry_fn(const struct repl_entry *x, void *arg, struct err *e);
/* repl_batch_decode - check the whole batch (magic, lengths, CRC, every entry,
 * ascending sequence numbers), then call @fn for each entry in order. ERR_INVALID
 * with a reason for a corrupt or truncated batch, before any call. */
enum err_code repl_batch_decode(const void *p, size_t n, repl_entry_fn *fn, void *arg,
                                size_t *count, struct err *e);

/* positions */
enum err_code repl_pos_get(struct store_txn *t, const char *peer, uint64_t *seq, struct err *e);
enum err_code repl_pos_put(struct store_txn *t, const char *peer, uint64_t seq, struct err *e);

/* Commit notification (one region per process): writers call
 * repl_log_committed() with the sequence number they appended once their
 * commit is durable; readers wait for entries past @after. */
void repl_log_committed(uint64_t seq);
/* repl_log_wait - the latest committed seq known, waiting up to @timeout_ms
 * for it to pass @after. */
uint64_t repl_log_wait(uint64_t after, int64_t timeout_ms);

#endif
