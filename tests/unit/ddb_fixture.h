/* ddb_fixture.h - the DynamoDB API on a real store in a temporary directory,
 * shared by the ddb unit tests (tests/unit only; linked into the test_ddb*
 * programs that tests/unit/CMakeLists.txt lists).
 *
 * The store runs with nosync (the tests check what the API answers, not what
 * survives a power loss) and a 256 MiB map; the directory is
 * /tmp/PROGRAM.XXXXXX and is removed with the fixture. */
#ifndef TANDEM_DDB_FIXTURE_H
#define TANDEM_DDB_FIXTURE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "ddb.h"
#include "store.h"

struct ddb_fixture {
    char dir[64];
    struct store *store;
    struct ddb *ddb;
};

/* ddb_fixture_open - a fresh store and a ddb on it. @dop (NULL: none) gives
 * the ddb's options; its store, region ("us-east-1") and account
 * ("123456789012") are set here. Fails the test on an error. */
struct ddb_fixture *ddb_fixture_open(const struct ddb_opts *dop);

/* ddb_fixture_reopen - close the ddb and the store and open them again on the
 * same directory, the store with @so (its dir is set here, and its map size
 * when 0) and the ddb with the default options. */
void ddb_fixture_reopen(struct ddb_fixture *f, const struct store_opts *so);

/* ddb_fixture_close - close everything and remove the directory. */
void ddb_fixture_close(struct ddb_fixture *f);

/* ddb_fixture_setup / ddb_fixture_teardown - cmocka's group or test set-up
 * and tear-down: ddb_fixture_open(NULL) into *@state, ddb_fixture_close. */
int ddb_fixture_setup(void **state);
int ddb_fixture_teardown(void **state);

/* ddb_fixture_call - one request @op with JSON @body through ddb_handle (or
 * ddb_streams_handle when @streams); returns the status, the answer parsed
 * into *@out (owned; the test fails when it is not JSON). */
int ddb_fixture_call(struct ddb_fixture *f, bool streams, const char *op, const char *body,
                     cJSON **out);

#endif
