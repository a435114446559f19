/* export.h - table exports to S3 (export.c: ExportTableToPointInTime,
 * DescribeExport, ListExports; export_run.c: the run) and imports from S3
 * (import.c: ImportTable, DescribeImport, ListImports), for disaster recovery: a table is exported
 * into a bucket the deployment replicates, and imported into a new table in
 * any region.
 *
 * An export is recorded, IN_PROGRESS, in the request's store write, and
 * answered; a background thread then reads the table as of ExportTime from
 * one snapshot (a read transaction: the region's writes go on) in pieces
 * (backup_collect; an ExportTime in the past undoes the PITR history after
 * it), writes the data files, gzip-compressed DYNAMODB_JSON, and the
 * manifests through the S3 hook (ddb_s3.h), and records COMPLETED or FAILED.
 * Layout in STORE_DB_META:
 *   "export/<ExportArn>"   JSON: ExportDescription's members, plus "_table"
 *                          (the table's name), "_tid" (its numeric id) and
 *                          "_params" (what ClientToken idempotency compares)
 *   "exporttok/<token>"    the ExportArn a ClientToken made
 * An export cut off by a restart (kill -9, power loss) is FAILED at the next
 * start, never left IN_PROGRESS. Objects written into S3 (under
 * <S3Prefix>/AWSDynamoDB/<ExportId>/):
 *   _started                      empty, written first (the bucket is writable)
 *   data/<random>.json.gz         one {"Item":{...}} per line (full), or
 *                                 {"Metadata":{"WriteTimeMicros":..},"Keys":..,
 *                                 "NewImage":..,"OldImage":..} (incremental)
 *   manifest-files.json           one line per data file: itemCount,
 *                                 md5Checksum, etag, dataFileS3Key
 *   manifest-files.checksum       MD5 (hex) of manifest-files.json
 *   manifest-summary.json         the export's summary (version 2020-06-30)
 *   manifest-summary.checksum     MD5 (hex) of manifest-summary.json */
#ifndef TANDEM_EXPORT_H
#define TANDEM_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "ddb_int.h"
#include "ddb_s3.h"
#include "json.h" /* json_str / json_num read records */
#include "table.h"

ddb_op_fn export_table, export_describe, export_list;
ddb_op_fn import_table, import_describe, import_list;

/* export_auth_resource - the resource that authorizes export or import call
 * @c (the table's ARN; "*" for the List and Describe calls), NULL for other
 * calls. export_target_action - the other actions call @c needs (its S3
 * actions on the bucket): the @i-th (from 0) with its @resource, NULL past
 * the last. */
const char *export_auth_resource(struct ddb_call *c);
const char *export_target_action(struct ddb_call *c, size_t i, const char **resource);

/* export_jobs_start - mark exports a restart cut off FAILED, then start the
 * export thread (@d->exports). export_jobs_stop - stop it (an export under
 * way is FAILED at the next start). NULL ok. */
enum err_code export_jobs_start(struct ddb *d, struct err *e);
void export_jobs_stop(struct ddb *d);

/* export_iso_time - @ms as 2020-11-04T07:28:34.028Z into @out. */
void export_iso_time(int64_t ms, char out[48]);

/* export_s3_fail - the FailureCode for S3 error @er (status @st): e.g.
 * "S3NoSuchBucket", "S3AccessDenied". */
const char *export_s3_fail(int st, const struct ddb_s3_err *er);

/* ---- shared by export.c and import.c ---- */

/* What an export's and an import's records differ in: the key prefixes of
 * the record and of its ClientToken, the ARN and status member names. */
struct xp_kind {
    const char *prefix, *tok, *arn, *status;
};
extern const struct xp_kind xp_export, xp_import;

/* xp_strf - printf into a new string (owned). */
char *xp_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* xp_meta_get - the JSON at STORE_DB_META @prefix@name (owned). ERR_NOTFOUND. */
enum err_code xp_meta_get(struct store_txn *t, const char *prefix, const char *name, cJSON **out,
                          struct err *e);
/* xp_rec_put - store record @rec under its ARN. */
enum err_code xp_rec_put(struct store_txn *t, const struct xp_kind *kind, const cJSON *rec,
                         struct err *e);
/* xp_each - call @fn with every record of @kind in key order (@desc: the
 * reverse) after ARN @after (NULL: from the first) until it returns false. */
typedef bool xp_rec_fn(void *arg, const cJSON *rec);
enum err_code xp_each(struct store_txn *t, const struct xp_kind *kind, const char *after, bool desc,
                      xp_rec_fn *fn, void *arg, struct err *e);
/* xp_describe - the description of record @rec: its members but the "_"
 * ones (owned text). */
char *xp_describe(const cJSON *rec);
/* xp_token_find - the record ClientToken @token made: ERR_OK with its
 * description in @out (owned) when its "_params" are @params, ERR_CONFLICT
 * (the message names it) when not, ERR_NOTFOUND when no record has it or
 * its request began 8 hours ago or more (TANDEM_DDB_CLIENT_TOKEN_SECONDS):
 * the token is then a new request's.
 * xp_token_put - record that @token made @arn. */
enum err_code xp_token_find(struct store_txn *t, const struct xp_kind *kind, const char *token,
                            const char *params, char **out, struct err *e);
enum err_code xp_token_put(struct store_txn *t, const struct xp_kind *kind, const char *token,
                           const char *arn, struct err *e);

void xp_set_num(cJSON *o, const char *name, double v);
void xp_set_str(cJSON *o, const char *name, const char *v);
void xp_add_opt(cJSON *o, const char *name, const char *v); /* @v NULL: nothing */

/* xp_check_token - ClientToken's constraint (a validation error on @c).
 * xp_params - what ClientToken idempotency compares: the request's members
 * but ClientToken, as JSON text (arena). */
void xp_check_token(struct ddb_call *c, const char *token);
/* xp_check_bucket - an S3Bucket member's constraints for @path (must not be
 * null; at most 255 characters matching ^[a-z0-9A-Z]+[\.\-\w]*[a-z0-9A-Z]+$,
 * no minimum length: "" breaks the pattern). */
void xp_check_bucket(struct ddb_call *c, const char *b, const char *path);
/* xp_check_owner - an S3BucketOwner member's pattern, [0-9]{12}, for @path */
void xp_check_owner(struct ddb_call *c, const char *owner, const char *path);
const char *xp_params(struct ddb_call *c);

/* xp_get_time - timestamp member @name of @obj (epoch seconds) in ms;
 * false when absent (a wrong type marks @c). */
bool xp_get_time(struct ddb_call *c, const cJSON *obj, const char *name, int64_t *ms);

/* xp_enqueue - have the thread run export or import @arn. xp_stopping -
 * whether the thread is asked to stop; with @pause, after the pause between
 * pieces (TANDEM_DDB_EXPORT_PAUSE_MS). */
void xp_enqueue(struct ddb *d, const struct xp_kind *kind, const char *arn);
bool xp_stopping(struct ddb *d, bool pause);

/* xp_describe_call - DescribeExport / DescribeImport: the record named by
 * the request's ARN member as {"@member": description}, else @notfound. */
void xp_describe_call(struct ddb_call *c, const struct xp_kind *kind, const char *member,
                      const char *notfound);
/* xp_list - ListExports / ListImports: records (of the request's TableArn
 * when given), at most the request's @max_member (1-25, default 25), as
 * {"@list_member":[...],"NextToken"} with the record members @members. */
void xp_list(struct ddb_call *c, const struct xp_kind *kind, const char *max_member,
             const char *list_member, const char *const *members);

/* export_run - run export @arn (the thread, export_run.c). import_run -
 * run import @arn (the thread, import.c). */
void export_run(struct ddb *d, const char *arn);
void import_run(struct ddb *d, const char *arn);

/* export_ion_line - DynamoDB JSON line @json ({"Item":{...}} or an
 * incremental record) as its Amazon Ion line, appended to @b. export_ion_parse
 * - an Ion line back as the JSON object of that line (owned); ERR_INVALID
 * when it is not one (export_ion.c). */
void export_ion_line(struct buf *b, const char *json, size_t n);
enum err_code export_ion_parse(const char *line, size_t n, cJSON **out, struct err *e);

/* How an import reads lines (import.c): DYNAMODB_JSON ({"Item":{...}} per
 * line), ION (the same in Amazon Ion text, export_ion.c) or CSV
 * (@delim-separated, "-quoted with "" escapes; the columns from
 * InputFormatOptions.Csv.HeaderList or each file's first line; key
 * attributes get the table's key types, every other value is an S, an empty
 * one no attribute). */
enum { IMPORT_COLS_MAX = 256 };
struct import_format {
    bool csv, ion, header_given;
    char delim;
    size_t ncols;
    char *cols[IMPORT_COLS_MAX]; /* owned */
};
/* import_format_init - from InputFormatOptions.Csv @opts (may be NULL). */
void import_format_init(struct import_format *f, const char *format, const cJSON *opts);
void import_format_free(struct import_format *f);
/* import_csv_header - the columns from header line @line. */
void import_csv_header(struct import_format *f, const char *line, size_t n);
/* import_parse_line - the item line @line holds for table @k, validated as
 * PutItem validates one (owned in @out); ERR_INVALID when it is none.
 * import_csv_item - a CSV line's item, unvalidated. */
enum err_code import_parse_line(const struct import_format *f, const struct table_keys *k,
                                const char *line, size_t n, cJSON **out, struct err *e);
enum err_code import_csv_item(const struct import_format *f, const struct table_keys *k,
                              const char *line, size_t n, cJSON **out, struct err *e);

#endif
