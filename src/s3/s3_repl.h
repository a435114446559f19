/* s3_repl.h - cross-region replication of object versions (S3 CRR/SRR).
 *
 * Configuration: PutBucketReplication / GetBucketReplication /
 * DeleteBucketReplication (?replication). The document is validated, kept as
 * sent (returned by Get) and parsed into a JSON form the commit path matches
 * against (bucket JSON "repl" and "replx").
 *
 * Queueing: newver_apply (object.c) calls s3_repl_on_version for every new
 * version and delete marker, in the same store transaction as the version.
 * When enabled rules match (and the version is not itself a replica), the
 * record gets rs=PENDING, "rd" {DEST: status} and per destination (its
 * highest-priority rule) a queue entry
 *   'Q' seq(8 BE) -> {"b","k","v","d","role","n","at"}
 * goes into STORE_DB_S3 in that transaction: an acknowledged version is never
 * lost by replication.
 *
 * Copying: one worker thread per region takes due entries in queue order,
 * finds the destination bucket's region (this region's store first, then a
 * HeadBucket to every peer signed with the root credentials; cached), and
 * PUTs the version there with the header x-tandem-replica (base64 JSON of
 * the version id, ETag, Last-Modified, metadata, tags, checksum, delete
 * marker), honoured only for the root identity. The destination writes it
 * with that exact version id (replacing a copy already there, so a copy
 * repeated after a crash is harmless) and rs=REPLICA, which is never queued
 * again: two-way rules do not loop. Then the source record becomes COMPLETED
 * and the entry goes, in one transaction.
 *
 * Failures: an unreachable destination region (or one not known yet) blocks
 * that destination with backoff (100 ms doubling to 5 s) and keeps every
 * entry PENDING, however long it lasts. A refusal (no such bucket anywhere,
 * versioning not enabled there, access denied to the role) counts a try,
 * durably; after TANDEM_S3_REPL_MAX_TRIES (default 5) the version is FAILED.
 * Entries for one destination are copied in queue order: a destination
 * whose head entry is waiting takes nothing else in that pass.
 *
 * Authorization: with an identity service, the rule's Role must exist in
 * this region's IAM, and each copy is asked for as the role's session
 * arn:aws:sts::ACCOUNT:assumed-role/ROLE/s3-replication would be:
 * s3:GetObjectVersionForReplication on the source object,
 * s3:ReplicateObject (s3:ReplicateDelete for markers, s3:ReplicateTags for a
 * tag change; an ACL change is s3:ReplicateObject) on the destination
 * object. Both are decided here, in the source region (IAM data is not yet
 * replicated between regions); the destination accepts the root's write.
 *
 * Existing objects: POST /BUCKET?x-tandem-replicate=existing|failed queues
 * every version the rules match that has no status yet (or FAILED ones),
 * oldest first per key; `tandem s3 replicate-existing` calls it. Rules with
 * ExistingObjectReplication Enabled do the same for what they select when the
 * configuration is put, in the same transaction.
 *
 * Tags, ACLs, Object Lock: a tag change of a replicated version queues
 * {"op":"tags"} entries, a PutObjectAcl {"op":"acl"} ones, a PutObjectRetention
 * or PutObjectLegalHold {"op":"lock"} ones (s3_repl_on_meta); the worker PUTs
 * (or DELETEs) ?tagging&versionId=V, PUTs ?acl&versionId=V with x-amz-acl, or
 * PUTs ?retention&versionId=V with the version's x-amz-object-lock-* headers
 * (absent: none), on the destination with x-tandem-replica: tags|acl|lock,
 * which is not queued again there. A version copy carries its retention and
 * legal hold, and "olb" when its bucket has Object Lock: a destination
 * without Object Lock refuses it (lock.c), as S3 requires. */
#ifndef TANDEM_S3_REPL_H
#define TANDEM_S3_REPL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "s3_int.h"

/*
 * s3_repl_parse - validate a ReplicationConfiguration document.
 * Returns its JSON form (owned, cJSON_Delete):
 *   {"role":ARN,"rules":[{"id","priority","enabled","prefix","tags":[{"k","v"}],
 *     "dm":bool,"dest":BUCKET,"sc":CLASS,"v1":bool}]}
 * or NULL with the S3 error in @code and a message in @msg (@cap bytes).
 */
cJSON *s3_repl_parse(const char *xml, size_t len, enum s3_code *code, char *msg, size_t cap);

/*
 * s3_repl_match - the enabled rule of @cfg (the JSON form) with the highest
 * priority whose filter selects @key with @tags (the record's "tags" array,
 * may be NULL); for a delete marker (@dm) only rules that replicate markers.
 * Borrowed from @cfg, or NULL.
 */
const cJSON *s3_repl_match(const cJSON *cfg, const char *key, const cJSON *tags, bool dm);

/*
 * s3_repl_match_all - the rules of @cfg that select @key/@tags/@dm (as
 * s3_repl_match), one per destination bucket: the highest-priority one. At
 * most @max into @out (borrowed); returns how many.
 */
enum { MAX_DESTS_PER_VERSION = 16 };
int s3_repl_match_all(const cJSON *cfg, const char *key, const cJSON *tags, bool dm,
                      const cJSON **out, int max);

/*
 * s3_repl_on_version - writer thread, inside newver_apply: queue version @vid
 * of @bname/@key (record @rec, modified: rs, rd) to every destination
 * @bucket's rules select it for.
 */
enum err_code s3_repl_on_version(struct store_txn *t, const cJSON *bucket, const char *bname,
                                 const char *key, const char *vid, cJSON *rec, struct err *e);

/*
 * s3_repl_on_meta - writer thread, inside a PutObjectTagging/DeleteObjectTagging
 * (@op "tags"), a PutObjectAcl (@op "acl") or a PutObjectRetention /
 * PutObjectLegalHold (@op "lock") of version @rec (its new tags or
 * canned ACL in place): queue the new tag set or ACL for the copy when
 * @bucket's rules say so. A version replicated from here (rs PENDING,
 * COMPLETED or FAILED) sends it to its rule's destination; a replica (rs
 * REPLICA) only by a matching rule with ReplicaModifications Enabled (the
 * two-way "replica modification sync"). Tag and ACL writes made by
 * replication itself are not passed here, so nothing loops.
 */
enum err_code s3_repl_on_meta(struct store_txn *t, const cJSON *bucket, const char *bname,
                              const char *key, const cJSON *rec, const char *op, struct err *e);

/*
 * s3_repl_claimed - whether @r says it is written by replication (an
 * x-tandem-replica header): 1 when it does and comes from the region's root,
 * 0 when it does not say so, -1 (answered AccessDenied) when anyone else says so.
 */
int s3_repl_claimed(struct http_req *r);

/*
 * s3_repl_replica_rec - PutObject with x-tandem-replica: the record to commit
 * (owned) built from the header, and in *@vid the version id to keep (arena).
 * @md5_hex is the body's MD5, @rel its file. Answers @r and returns NULL when
 * the header is refused (not root: AccessDenied; malformed: InvalidArgument;
 * ETag not the body's MD5: BadDigest).
 */
cJSON *s3_repl_replica_rec(struct http_req *r, const char *md5_hex, const char *rel,
                           const char **vid);

/* ?replication on a bucket: Get/Put/DeleteBucketReplication. */
void s3_repl_config(struct http_req *r);

/* POST /BUCKET?x-tandem-replicate=existing|failed */
void s3_repl_existing(struct http_req *r);

/* the worker (repl_worker.c): started by s3_open, stopped by s3_close; kick
 * after commits */
void s3_repl_start(struct s3 *s, const struct s3_opts *o);
void s3_repl_stop(struct s3 *s);
void s3_repl_kick(struct s3 *s);

/* Between repl.c and repl_worker.c: a version record's replication status
 * "rs" set to @status, and the status of a version from its destinations'
 * "rd" (as S3 does with several destinations: PENDING until every one is
 * done, then FAILED if any failed, else COMPLETED). */
void s3_repl_set_status(cJSON *rec, const char *status);
const char *s3_repl_overall(const cJSON *rd);

/* s3_meta_put - writer thread: version @v of the request's key stored at @k
 * after a change of its metadata, and the change queued for its replicas as
 * s3_repl_on_meta's @op ("tags", "acl"; NULL: not queued, a write made by
 * replication) by bucket @b's rules */
enum err_code s3_meta_put(struct store_txn *t, const cJSON *b, struct http_req *r, struct slice k,
                          const cJSON *v, const char *op, struct err *e);
/* s3_acl_grant_header - the @i-th x-amz-grant-* header (0..4; its name in
 * *@name) that sends the explicit grants of version @rec, in @a; NULL when
 * none of them has that permission, or @i is past the last (acl.c) */
const char *s3_acl_grant_header(struct arena *a, const cJSON *rec, size_t i, const char **name);

#endif
