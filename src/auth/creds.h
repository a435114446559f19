/* creds.h - the access keys a region knows and whom each belongs to.
 *
 * Static keys come from the root credentials (TANDEM_ACCESS_KEY_ID /
 * TANDEM_SECRET_ACCESS_KEY or flags) and from an optional credentials file;
 * temporary keys (with a session token and an expiry) are added later by STS.
 * Thread-safe: lookups take a read lock, additions a write lock. */
#ifndef TANDEM_CREDS_H
#define TANDEM_CREDS_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct creds_identity {
    char access_key[129];
    char secret[129];
    char account[13];         /* 12-digit account id */
    char user[65];            /* user name; "root" for the account root */
    char arn[256];            /* arn:aws:iam::ACCOUNT:root or arn:aws:iam::ACCOUNT:user/NAME */
    char session_token[1025]; /* empty for long-term keys */
    int64_t expires;          /* Unix seconds; 0 = never */
    bool root;                /* the account root: allowed everything */
};

struct creds;

/* creds_new - an empty registry (owned, creds_free()). */
struct creds *creds_new(void);
void creds_free(struct creds *c); /* NULL ok */

/* creds_add - register (or replace) @id, copied. @id->arn is derived when
 * empty. ERR_INVALID if the key or secret is empty or too long. */
enum err_code creds_add(struct creds *c, const struct creds_identity *id, struct err *e);

/*
 * creds_load_file - add every key declared in a JSON file:
 *
 *   {"credentials": [
 *      {"accessKeyId": "AKIA...", "secretAccessKey": "...",
 *       "account": "123456789012", "user": "alice", "root": false}, ...]}
 *
 * "account" defaults to the registry's default account (creds_set_account),
 * "user" to "root" with root true. Errors name the file and the entry.
 */
enum err_code creds_load_file(struct creds *c, const char *path, struct err *e);

/* creds_set_account / creds_account - the account id the region runs as
 * (default "000000000000"). */
void creds_set_account(struct creds *c, const char *account);
const char *creds_account(const struct creds *c);

/* creds_remove - forget @access_key (a deleted IAM access key); false if unknown. */
bool creds_remove(struct creds *c, const char *access_key);

/* creds_lookup - copy the identity of @access_key into @out; false if unknown. */
bool creds_lookup(struct creds *c, const char *access_key, struct creds_identity *out);

#endif
