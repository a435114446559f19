/* test_store.c - the LMDB store with group commit, through store.h. */
#include <dirent.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"
#include "unit_tmpdir.h"

struct fixture {
    char dir[64];
    struct store *s;
};

static struct store *open_dir(const char *dir, size_t map_size)
{
    struct store_opts o = {.dir = dir, .map_size = map_size};
    struct store *s = NULL;
    struct err e = {0};

    if (store_open(&o, &s, &e) != ERR_OK)
        fail_msg("store_open %s: %s", dir, e.msg);
    return s;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    strcpy(f->dir, "/tmp/tandem-store-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    f->s = open_dir(f->dir, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    store_close(f->s);
    rm_rf(f->dir);
    free(f);
    return 0;
}

/* ---- helpers: intents ---- */

struct kv {
    enum store_db db;
    struct slice k, v;
};

static enum err_code apply_put(struct store_txn *t, void *arg, struct err *e)
{
    struct kv *kv = arg;
    return store_put(t, kv->db, kv->k, kv->v, e);
}

static enum err_code apply_del(struct store_txn *t, void *arg, struct err *e)
{
    struct kv *kv = arg;
    return store_del(t, kv->db, kv->k, e);
}

static enum err_code put(struct store *s, enum store_db db, struct slice k, struct slice v,
                         struct err *e)
{
    struct kv kv = {db, k, v};
    return store_write(s, apply_put, &kv, e);
}

/* get_copy - read @k in a fresh snapshot; copies the value into @out (NUL-terminated). */
static enum err_code get_copy(struct store *s, enum store_db db, struct slice k, char *out,
                              size_t cap)
{
    struct store_txn *t = NULL;
    struct slice v;
    enum err_code rc;

    assert_int_equal(store_read_begin(s, &t, NULL), ERR_OK);
    rc = store_get(t, db, k, &v, NULL);
    if (rc == ERR_OK) {
        assert_true(v.len < cap);
        memcpy(out, v.ptr, v.len);
        out[v.len] = '\0';
    }
    store_txn_abort(t);
    return rc;
}

/* A done callback that counts outcomes. */
struct tally {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    enum err_code rc[16];
    struct err err[16];
};

struct tracked {
    struct tally *tally;
    int slot;
    void *inner;
    store_apply_fn *apply;
};

static enum err_code apply_tracked(struct store_txn *t, void *arg, struct err *e)
{
    struct tracked *tr = arg;
    return tr->apply(t, tr->inner, e);
}

static void done_tracked(void *arg, enum err_code rc, const struct err *e)
{
    struct tracked *tr = arg;
    struct tally *ta = tr->tally;

    pthread_mutex_lock(&ta->mu);
    if (tr->slot < 16) {
        ta->rc[tr->slot] = rc;
        ta->err[tr->slot] = *e;
    }
    ta->done++;
    pthread_cond_broadcast(&ta->cv);
    pthread_mutex_unlock(&ta->mu);
}

static void tally_wait(struct tally *ta, int n)
{
    pthread_mutex_lock(&ta->mu);
    while (ta->done < n)
        pthread_cond_wait(&ta->cv, &ta->mu);
    pthread_mutex_unlock(&ta->mu);
}

/* An intent that holds the writer thread until released, so that what is
 * queued meanwhile lands in one batch. */
struct gate {
    sem_t entered, release;
};

static enum err_code apply_gate(struct store_txn *t, void *arg, struct err *e)
{
    struct gate *g = arg;

    (void)t;
    (void)e;
    sem_post(&g->entered);
    sem_wait(&g->release);
    return ERR_OK;
}

/* ---- tests ---- */

static void put_get_del(void **state)
{
    struct fixture *f = *state;
    char key511[511], key512[512], buf[64];
    struct err e = {0};
    struct kv kv = {STORE_DB_DATA, SLICE("k1"), SLICE("")};

    assert_int_equal(put(f->s, STORE_DB_DATA, SLICE("k1"), SLICE("v1"), &e), ERR_OK);
    assert_int_equal(get_copy(f->s, STORE_DB_DATA, SLICE("k1"), buf, sizeof(buf)), ERR_OK);
    assert_string_equal(buf, "v1");
    assert_int_equal(put(f->s, STORE_DB_DATA, SLICE("k1"), SLICE("v2"), &e), ERR_OK);
    assert_int_equal(get_copy(f->s, STORE_DB_DATA, SLICE("k1"), buf, sizeof(buf)), ERR_OK);
    assert_string_equal(buf, "v2");
    /* databases are separate */
    assert_int_equal(get_copy(f->s, STORE_DB_META, SLICE("k1"), buf, sizeof(buf)), ERR_NOTFOUND);
    assert_int_equal(get_copy(f->s, STORE_DB_LOG, SLICE("k1"), buf, sizeof(buf)), ERR_NOTFOUND);
    /* an empty value is a value */
    assert_int_equal(put(f->s, STORE_DB_LOG, SLICE("empty"), SLICE(""), &e), ERR_OK);
    assert_int_equal(get_copy(f->s, STORE_DB_LOG, SLICE("empty"), buf, sizeof(buf)), ERR_OK);
    assert_string_equal(buf, "");

    assert_int_equal(store_write(f->s, apply_del, &kv, &e), ERR_OK);
    assert_int_equal(get_copy(f->s, STORE_DB_DATA, SLICE("k1"), buf, sizeof(buf)), ERR_NOTFOUND);
    assert_int_equal(store_write(f->s, apply_del, &kv, &e), ERR_NOTFOUND);

    /* key sizes: 1..511 bytes */
    memset(key511, 'k', sizeof(key511));
    memset(key512, 'k', sizeof(key512));
    assert_int_equal(put(f->s, STORE_DB_DATA, slice_of(key511, 511), SLICE("x"), &e), ERR_OK);
    assert_int_equal(get_copy(f->s, STORE_DB_DATA, slice_of(key511, 511), buf, sizeof(buf)),
                     ERR_OK);
    assert_int_equal(put(f->s, STORE_DB_DATA, slice_of(key512, 512), SLICE("x"), &e), ERR_INVALID);
    assert_int_equal(e.code, ERR_INVALID);
    assert_int_equal(put(f->s, STORE_DB_DATA, SLICE(""), SLICE("x"), &e), ERR_INVALID);
    assert_int_equal(get_copy(f->s, STORE_DB_DATA, slice_of(key512, 512), buf, sizeof(buf)),
                     ERR_NOTFOUND);
    assert_int_equal(get_copy(f->s, STORE_DB_DATA, SLICE(""), buf, sizeof(buf)), ERR_NOTFOUND);
}

static void read_txn_refuses_writes(void **state)
{
    struct fixture *f = *state;
    struct store_txn *t = NULL;
    struct store_cursor *c = NULL;
    struct slice k, v;
    uint64_t id;
    struct err e = {0};

    assert_int_equal(put(f->s, STORE_DB_DATA, SLICE("a"), SLICE("1"), &e), ERR_OK);
    assert_int_equal(store_read_begin(f->s, &t, &e), ERR_OK);
    assert_int_equal(store_put(t, STORE_DB_DATA, SLICE("b"), SLICE("2"), &e), ERR_INTERNAL);
    assert_int_equal(store_del(t, STORE_DB_DATA, SLICE("a"), &e), ERR_INTERNAL);
    assert_int_equal(store_next_id(t, &id, &e), ERR_INTERNAL);
    assert_int_equal(store_cursor_open(t, STORE_DB_DATA, &c, &e), ERR_OK);
    assert_int_equal(store_cursor_seek(c, SLICE("a"), &k, &v, &e), ERR_OK);
    assert_int_equal(store_cursor_del(c, &e), ERR_INTERNAL);
    store_cursor_close(c);
    store_txn_abort(t);
    store_txn_abort(NULL);
    store_cursor_close(NULL);
}

static void snapshot_isolation(void **state)
{
    struct fixture *f = *state;
    struct store_txn *t = NULL;
    struct slice v;

    assert_int_equal(put(f->s, STORE_DB_DATA, SLICE("k"), SLICE("old"), NULL), ERR_OK);
    assert_int_equal(store_read_begin(f->s, &t, NULL), ERR_OK);
    assert_int_equal(put(f->s, STORE_DB_DATA, SLICE("k"), SLICE("new"), NULL), ERR_OK);
    assert_int_equal(store_get(t, STORE_DB_DATA, SLICE("k"), &v, NULL), ERR_OK);
    assert_int_equal(v.len, 3);
    assert_memory_equal(v.ptr, "old", 3);
    store_txn_abort(t);
    /* a pooled transaction, renewed, sees the new value */
    assert_int_equal(store_read_begin(f->s, &t, NULL), ERR_OK);
    assert_int_equal(store_get(t, STORE_DB_DATA, SLICE("k"), &v, NULL), ERR_OK);
    assert_memory_equal(v.ptr, "new", 3);
    store_txn_abort(t);
}

static const struct slice walk_keys[] = {SLICE("a"), SLICE("b"),   SLICE("ba"),
                                         SLICE("c"), SLICE("d\0"), SLICE("e")};
enum { NWALK = sizeof(walk_keys) / sizeof(walk_keys[0]) };

static enum err_code apply_walk_keys(struct store_txn *t, void *arg, struct err *e)
{
    (void)arg;
    for (size_t i = 0; i < NWALK; i++) {
        enum err_code rc = store_put(t, STORE_DB_DATA, walk_keys[i], walk_keys[i], e);
        if (rc)
            return rc;
    }
    return ERR_OK;
}

static enum err_code apply_cursor_del_c(struct store_txn *t, void *arg, struct err *e)
{
    struct store_cursor *c = NULL;
    struct slice k, v;
    enum err_code rc;

    (void)arg;
    rc = store_cursor_open(t, STORE_DB_DATA, &c, e);
    if (rc)
        return rc;
    rc = store_cursor_seek(c, SLICE("c"), &k, &v, e);
    if (rc == ERR_OK)
        rc = store_cursor_del(c, e);
    store_cursor_close(c);
    return rc;
}

static void expect_key(enum err_code rc, struct slice k, const char *want, size_t wlen)
{
    if (!want) {
        assert_int_equal(rc, ERR_NOTFOUND);
        return;
    }
    assert_int_equal(rc, ERR_OK);
    assert_int_equal(k.len, wlen);
    assert_memory_equal(k.ptr, want, wlen);
}

#define EXPECT(rc, k, lit) expect_key((rc), (k), (lit), sizeof(lit) - 1)
#define EXPECT_NONE(rc, k) expect_key((rc), (k), NULL, 0)

static void cursor_walk(void **state)
{
    struct fixture *f = *state;
    struct store_txn *t = NULL;
    struct store_cursor *c = NULL;
    struct slice k, v;
    struct err e = {0};
    char longkey[600];
    size_t i = 0;
    enum err_code rc;

    assert_int_equal(store_write(f->s, apply_walk_keys, NULL, &e), ERR_OK);
    assert_int_equal(store_read_begin(f->s, &t, &e), ERR_OK);
    assert_int_equal(store_cursor_open(t, STORE_DB_DATA, &c, &e), ERR_OK);

    /* forward walk from the empty key, then past the end */
    for (rc = store_cursor_seek(c, SLICE(""), &k, &v, &e); rc == ERR_OK;
         rc = store_cursor_next(c, &k, &v, &e), i++) {
        assert_true(i < NWALK);
        assert_true(slice_eq(k, walk_keys[i]));
        assert_true(slice_eq(v, walk_keys[i]));
    }
    assert_int_equal(rc, ERR_NOTFOUND);
    assert_int_equal(i, NWALK);
    /* backward walk */
    i = NWALK;
    for (rc = store_cursor_seek_le(c, SLICE("\xff"), &k, &v, &e); rc == ERR_OK;
         rc = store_cursor_prev(c, &k, &v, &e)) {
        assert_true(i > 0);
        assert_true(slice_eq(k, walk_keys[--i]));
    }
    assert_int_equal(rc, ERR_NOTFOUND);
    assert_int_equal(i, 0);

    /* seek: first key >= */
    EXPECT(store_cursor_seek(c, SLICE("a"), &k, &v, &e), k, "a");
    EXPECT(store_cursor_seek(c, SLICE("0"), &k, &v, &e), k, "a");
    EXPECT(store_cursor_seek(c, SLICE("b"), &k, &v, &e), k, "b");
    EXPECT(store_cursor_seek(c, SLICE("b\0"), &k, &v, &e), k, "ba");
    EXPECT(store_cursor_seek(c, SLICE("bb"), &k, &v, &e), k, "c");
    EXPECT(store_cursor_seek(c, SLICE("d"), &k, &v, &e), k, "d\0");
    EXPECT(store_cursor_seek(c, SLICE("d\0\0"), &k, &v, &e), k, "e");
    EXPECT(store_cursor_seek(c, SLICE("e"), &k, &v, &e), k, "e");
    EXPECT_NONE(store_cursor_seek(c, SLICE("e\0"), &k, &v, &e), k);
    EXPECT_NONE(store_cursor_seek(c, SLICE("f"), &k, &v, &e), k);
    /* seek then step */
    EXPECT(store_cursor_seek(c, SLICE("bb"), &k, &v, &e), k, "c");
    EXPECT(store_cursor_prev(c, &k, &v, &e), k, "ba");
    EXPECT(store_cursor_next(c, &k, &v, &e), k, "c");

    /* seek_le: last key <= */
    EXPECT(store_cursor_seek_le(c, SLICE("b"), &k, &v, &e), k, "b");
    EXPECT(store_cursor_seek_le(c, SLICE("b\0"), &k, &v, &e), k, "b");
    EXPECT(store_cursor_seek_le(c, SLICE("bz"), &k, &v, &e), k, "ba");
    EXPECT(store_cursor_seek_le(c, SLICE("a"), &k, &v, &e), k, "a");
    EXPECT(store_cursor_seek_le(c, SLICE("a\0"), &k, &v, &e), k, "a");
    EXPECT(store_cursor_seek_le(c, SLICE("d"), &k, &v, &e), k, "c");
    EXPECT(store_cursor_seek_le(c, SLICE("zzz"), &k, &v, &e), k, "e");
    EXPECT_NONE(store_cursor_seek_le(c, SLICE("0"), &k, &v, &e), k);
    EXPECT_NONE(store_cursor_seek_le(c, SLICE(""), &k, &v, &e), k);
    EXPECT(store_cursor_seek_le(c, SLICE("bb"), &k, &v, &e), k, "ba");
    EXPECT(store_cursor_next(c, &k, &v, &e), k, "c");

    /* seek keys longer than any stored key still compare by bytes */
    memset(longkey, 'b', sizeof(longkey));
    EXPECT(store_cursor_seek(c, slice_of(longkey, sizeof(longkey)), &k, &v, &e), k, "c");
    EXPECT(store_cursor_seek_le(c, slice_of(longkey, sizeof(longkey)), &k, &v, &e), k, "ba");

    store_cursor_close(c);
    store_txn_abort(t);

    /* an empty database */
    assert_int_equal(store_read_begin(f->s, &t, &e), ERR_OK);
    assert_int_equal(store_cursor_open(t, STORE_DB_LOG, &c, &e), ERR_OK);
    EXPECT_NONE(store_cursor_seek(c, SLICE(""), &k, &v, &e), k);
    EXPECT_NONE(store_cursor_seek_le(c, SLICE("x"), &k, &v, &e), k);
    store_cursor_close(c);
    store_txn_abort(t);

    /* delete under a cursor in a write intent */
    assert_int_equal(store_write(f->s, apply_cursor_del_c, NULL, &e), ERR_OK);
    assert_int_equal(store_read_begin(f->s, &t, &e), ERR_OK);
    assert_int_equal(store_cursor_open(t, STORE_DB_DATA, &c, &e), ERR_OK);
    EXPECT(store_cursor_seek(c, SLICE("c"), &k, &v, &e), k, "d\0");
    EXPECT(store_cursor_prev(c, &k, &v, &e), k, "ba");
    store_cursor_close(c);
    store_txn_abort(t);
}

/* B: writes, then fails; C: writes; D: must see C's write and not B's. */
static enum err_code apply_write_then_fail(struct store_txn *t, void *arg, struct err *e)
{
    enum err_code rc = store_put(t, STORE_DB_DATA, SLICE("x"), SLICE("from B"), e);
    (void)arg;
    if (rc)
        return rc;
    rc = store_put(t, STORE_DB_META, SLICE("x"), SLICE("from B"), e);
    if (rc)
        return rc;
    return err_set(e, ERR_CONFLICT, "The conditional request failed");
}

static enum err_code apply_check_batch(struct store_txn *t, void *arg, struct err *e)
{
    struct slice v;
    (void)arg;
    if (store_get(t, STORE_DB_DATA, SLICE("x"), &v, e) != ERR_NOTFOUND)
        return err_set(e, ERR_INTERNAL, "saw the failed intent's write");
    if (store_get(t, STORE_DB_DATA, SLICE("y"), &v, e) != ERR_OK)
        return err_set(e, ERR_INTERNAL, "did not see the earlier intent's write");
    return store_put(t, STORE_DB_DATA, SLICE("z"), SLICE("from D"), e);
}

static enum err_code apply_next_ids(struct store_txn *t, void *arg, struct err *e)
{
    uint64_t *ids = arg;
    for (int i = 0; i < 3; i++) {
        enum err_code rc = store_next_id(t, &ids[i], e);
        if (rc)
            return rc;
    }
    return ERR_OK;
}

static void nested_rollback(void **state)
{
    struct fixture *f = *state;
    struct tally ta = {.done = 0};
    struct gate g;
    struct kv c_kv = {STORE_DB_DATA, SLICE("y"), SLICE("from C")};
    uint64_t ids[3] = {0};
    struct tracked tr[5] = {
        {&ta, 0, &g, apply_gate},      {&ta, 1, NULL, apply_write_then_fail},
        {&ta, 2, &c_kv, apply_put},    {&ta, 3, NULL, apply_check_batch},
        {&ta, 4, ids, apply_next_ids},
    };
    struct store_stats st;
    char buf[64];

    pthread_mutex_init(&ta.mu, NULL);
    pthread_cond_init(&ta.cv, NULL);
    sem_init(&g.entered, 0, 0);
    sem_init(&g.release, 0, 0);
    store_submit(f->s, apply_tracked, done_tracked, &tr[0]);
    sem_wait(&g.entered); /* the writer is busy: the rest queue up */
    for (int i = 1; i < 5; i++)
        store_submit(f->s, apply_tracked, done_tracked, &tr[i]);
    sem_post(&g.release);
    tally_wait(&ta, 5);

    assert_int_equal(ta.rc[0], ERR_OK);
    assert_int_equal(ta.rc[1], ERR_CONFLICT);
    assert_int_equal(ta.err[1].code, ERR_CONFLICT);
    assert_string_equal(ta.err[1].msg, "The conditional request failed");
    assert_int_equal(ta.rc[2], ERR_OK);
    if (ta.rc[3] != ERR_OK)
        fail_msg("D: %s", ta.err[3].msg);
    assert_int_equal(ta.rc[4], ERR_OK);
    assert_true(ids[0] < ids[1] && ids[1] < ids[2]);

    assert_int_equal(get_copy(f->s, STORE_DB_DATA, SLICE("x"), buf, sizeof(buf)), ERR_NOTFOUND);
    assert_int_equal(get_copy(f->s, STORE_DB_META, SLICE("x"), buf, sizeof(buf)), ERR_NOTFOUND);
    assert_int_equal(get_copy(f->s, STORE_DB_DATA, SLICE("y"), buf, sizeof(buf)), ERR_OK);
    assert_string_equal(buf, "from C");
    assert_int_equal(get_copy(f->s, STORE_DB_DATA, SLICE("z"), buf, sizeof(buf)), ERR_OK);
    store_get_stats(f->s, &st);
    assert_true(st.max_batch_seen >= 4);
    assert_int_equal(st.intents, 5);
    assert_int_equal(st.commits, 2);

    sem_destroy(&g.entered);
    sem_destroy(&g.release);
    pthread_cond_destroy(&ta.cv);
    pthread_mutex_destroy(&ta.mu);
}

enum { NTHREADS = 32, PER_THREAD = 200 };

struct worker {
    struct store *s;
    int id;
    int failures;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    for (int i = 0; i < PER_THREAD; i++) {
        char key[32], val[32];
        struct err e;

        snprintf(key, sizeof(key), "t%02d-%04d", w->id, i);
        snprintf(val, sizeof(val), "v%d", i);
        if (put(w->s, STORE_DB_DATA, slice_str(key), slice_str(val), &e) != ERR_OK)
            w->failures++;
    }
    return NULL;
}

static void concurrent_writers(void **state)
{
    struct fixture *f = *state;
    pthread_t th[NTHREADS];
    struct worker w[NTHREADS];
    struct store_stats st;
    struct store_txn *t = NULL;
    struct store_cursor *c = NULL;
    struct slice k, v;
    int count = 0;
    enum err_code rc;

    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (struct worker){f->s, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    assert_int_equal(store_read_begin(f->s, &t, NULL), ERR_OK);
    assert_int_equal(store_cursor_open(t, STORE_DB_DATA, &c, NULL), ERR_OK);
    for (rc = store_cursor_seek(c, SLICE("t"), &k, &v, NULL); rc == ERR_OK;
         rc = store_cursor_next(c, &k, &v, NULL))
        count++;
    store_cursor_close(c);
    store_txn_abort(t);
    assert_int_equal(count, NTHREADS * PER_THREAD);

    store_get_stats(f->s, &st);
    print_message("commits=%llu intents=%llu max_batch_seen=%llu\n", (unsigned long long)st.commits,
                  (unsigned long long)st.intents, (unsigned long long)st.max_batch_seen);
    assert_int_equal(st.intents, NTHREADS * PER_THREAD);
    assert_true(st.max_batch_seen > 1);
    assert_true(st.commits < st.intents);
}

static void dir_lock(void **state)
{
    struct fixture *f = *state;
    struct store_opts o = {.dir = f->dir};
    struct store *s2 = NULL;
    struct err e = {0};
    char want[160];
    pid_t pid;
    int status;

    /* in this process: flock conflicts across open file descriptions */
    assert_int_equal(store_open(&o, &s2, &e), ERR_IN_USE);
    assert_null(s2);
    snprintf(want, sizeof(want), "data directory %s is in use by another process", f->dir);
    assert_string_equal(e.msg, want);

    /* from another process */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct store *s3 = NULL;
        enum err_code rc = store_open(&o, &s3, NULL);
        _exit(rc == ERR_IN_USE ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    /* released by close */
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(store_open(&o, &s2, &e), ERR_OK);
    f->s = s2;
}

static void reopen_and_ids(void **state)
{
    struct fixture *f = *state;
    uint64_t ids[3] = {0}, later[3] = {0};
    char buf[64];

    assert_int_equal(put(f->s, STORE_DB_META, SLICE("table:t1"), SLICE("desc"), NULL), ERR_OK);
    assert_int_equal(store_write(f->s, apply_next_ids, ids, NULL), ERR_OK);
    assert_true(ids[0] >= 1 && ids[0] < ids[1] && ids[1] < ids[2]);
    store_close(f->s);
    f->s = open_dir(f->dir, 0);
    assert_int_equal(get_copy(f->s, STORE_DB_META, SLICE("table:t1"), buf, sizeof(buf)), ERR_OK);
    assert_string_equal(buf, "desc");
    assert_int_equal(store_write(f->s, apply_next_ids, later, NULL), ERR_OK);
    assert_true(later[0] > ids[2]);
    assert_true(later[0] < later[1] && later[1] < later[2]);
}

static void close_drains_queue(void **state)
{
    struct fixture *f = *state;
    enum { N = 100 };
    struct tally ta = {.done = 0};
    struct kv kv[N];
    struct tracked tr[N];
    char keys[N][16];
    char buf[16];

    pthread_mutex_init(&ta.mu, NULL);
    pthread_cond_init(&ta.cv, NULL);
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof(keys[i]), "q%03d", i);
        kv[i] = (struct kv){STORE_DB_DATA, slice_str(keys[i]), SLICE("v")};
        tr[i] = (struct tracked){&ta, i, &kv[i], apply_put};
        store_submit(f->s, apply_tracked, done_tracked, &tr[i]);
    }
    store_close(f->s);
    assert_int_equal(ta.done, N);
    for (int i = 0; i < 16; i++)
        assert_int_equal(ta.rc[i], ERR_OK);
    f->s = open_dir(f->dir, 0);
    for (int i = 0; i < N; i++)
        assert_int_equal(get_copy(f->s, STORE_DB_DATA, slice_str(keys[i]), buf, sizeof(buf)),
                         ERR_OK);
    pthread_cond_destroy(&ta.cv);
    pthread_mutex_destroy(&ta.mu);
}

static void map_full(void **state)
{
    struct fixture *f = *state;
    enum { MAP = 1 << 20, BIG = 2 * MAP, CHUNK = 64 << 10 };
    char *big = calloc(1, BIG);
    struct tally ta = {.done = 0};
    struct gate g;
    struct kv huge = {STORE_DB_DATA, SLICE("huge"), slice_of(big, BIG)};
    struct kv small = {STORE_DB_DATA, SLICE("small"), SLICE("ok")};
    struct tracked tr[3] = {
        {&ta, 0, &g, apply_gate}, {&ta, 1, &huge, apply_put}, {&ta, 2, &small, apply_put}};
    struct err e = {0};
    char buf[16];
    int i;

    store_close(f->s);
    rm_rf(f->dir);
    f->s = open_dir(f->dir, MAP);
    assert_int_equal(put(f->s, STORE_DB_DATA, SLICE("first"), SLICE("1"), &e), ERR_OK);

    /* in one batch: the intent that fills the map fails alone */
    pthread_mutex_init(&ta.mu, NULL);
    pthread_cond_init(&ta.cv, NULL);
    sem_init(&g.entered, 0, 0);
    sem_init(&g.release, 0, 0);
    store_submit(f->s, apply_tracked, done_tracked, &tr[0]);
    sem_wait(&g.entered);
    store_submit(f->s, apply_tracked, done_tracked, &tr[1]);
    store_submit(f->s, apply_tracked, done_tracked, &tr[2]);
    sem_post(&g.release);
    tally_wait(&ta, 3);
    assert_int_equal(ta.rc[1], ERR_IO);
    assert_string_equal(ta.err[1].msg, "storage is full");
    if (ta.rc[2] != ERR_OK)
        fail_msg("small write after map full: %s", ta.err[2].msg);
    assert_int_equal(get_copy(f->s, STORE_DB_DATA, SLICE("small"), buf, sizeof(buf)), ERR_OK);
    assert_int_equal(get_copy(f->s, STORE_DB_DATA, SLICE("huge"), buf, sizeof(buf)), ERR_NOTFOUND);

    /* fill it up with separate writes */
    for (i = 0; i < 64; i++) {
        char key[16];
        snprintf(key, sizeof(key), "fill%02d", i);
        if (put(f->s, STORE_DB_DATA, slice_str(key), slice_of(big, CHUNK), &e) != ERR_OK)
            break;
    }
    assert_true(i > 0 && i < 64);
    assert_int_equal(e.code, ERR_IO);
    assert_string_equal(e.msg, "storage is full");
    /* reads keep working, and so does freeing space */
    assert_int_equal(get_copy(f->s, STORE_DB_DATA, SLICE("first"), buf, sizeof(buf)), ERR_OK);
    assert_string_equal(buf, "1");
    struct store_txn *t = NULL;
    struct slice v;
    assert_int_equal(store_read_begin(f->s, &t, NULL), ERR_OK);
    assert_int_equal(store_get(t, STORE_DB_DATA, SLICE("fill00"), &v, NULL), ERR_OK);
    assert_int_equal(v.len, CHUNK);
    store_txn_abort(t);
    struct kv del = {STORE_DB_DATA, SLICE("fill00"), SLICE("")};
    assert_int_equal(store_write(f->s, apply_del, &del, &e), ERR_OK);
    assert_int_equal(put(f->s, STORE_DB_DATA, SLICE("after"), SLICE("2"), &e), ERR_OK);

    sem_destroy(&g.entered);
    sem_destroy(&g.release);
    pthread_cond_destroy(&ta.cv);
    pthread_mutex_destroy(&ta.mu);
    free(big);
}

static void open_failures(void **state)
{
    struct fixture *f = *state;
    char path[128];
    struct store_opts o = {0};
    struct store *s = NULL;
    struct err e = {0};
    FILE *fp;

    /* no directory given */
    assert_int_equal(store_open(&o, &s, &e), ERR_INVALID);
    assert_null(s);

    /* the data directory is a regular file */
    snprintf(path, sizeof(path), "%s/file", f->dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    o.dir = path;
    assert_int_equal(store_open(&o, &s, &e), ERR_IO);
    assert_null(s);
    assert_true(strlen(e.msg) > 0);

    /* a parent that does not exist */
    snprintf(path, sizeof(path), "%s/no/such", f->dir);
    assert_int_equal(store_open(&o, &s, &e), ERR_IO);

    /* a read-only data directory; root ignores modes, so try as nobody */
    snprintf(path, sizeof(path), "%s/ro", f->dir);
    assert_int_equal(mkdir(path, 0555), 0);
    assert_int_equal(chmod(path, 0555), 0);
    assert_int_equal(chmod(f->dir, 0755), 0);
    if (geteuid() == 0) {
        pid_t pid = fork();
        int status;

        assert_true(pid >= 0);
        if (pid == 0) {
            struct err ce = {0};
            if (setgid(65534) != 0 || setuid(65534) != 0)
                _exit(2);
            _exit(store_open(&o, &s, &ce) == ERR_IO && strstr(ce.msg, "ermission") ? 0 : 1);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    } else {
        assert_int_equal(store_open(&o, &s, &e), ERR_IO);
        assert_non_null(strstr(e.msg, "ermission"));
    }
    assert_null(s);
}

/* ---- durability: one flush per commit, reports one flush later ---- */

static struct store *open_batch(const char *parent, const char *name, unsigned max_batch)
{
    char dir[128];
    struct store_opts o = {.max_batch = max_batch};
    struct store *s = NULL;
    struct err e = {0};

    snprintf(dir, sizeof(dir), "%s/%s", parent, name);
    o.dir = dir;
    if (store_open(&o, &s, &e) != ERR_OK)
        fail_msg("store_open %s: %s", dir, e.msg);
    return s;
}

/* A put that notes the commit it became part of, and what was durable when
 * it was reported. */
struct noted {
    struct store *s;
    struct kv kv;
    uint64_t txn, durable_at_done;
    struct tally *ta;
};

static enum err_code apply_noted(struct store_txn *t, void *arg, struct err *e)
{
    struct noted *n = arg;

    n->txn = store_txn_id(t);
    return apply_put(t, &n->kv, e);
}

static void done_noted(void *arg, enum err_code rc, const struct err *e)
{
    struct noted *n = arg;
    struct store_stats st;

    (void)e;
    store_get_stats(n->s, &st);
    n->durable_at_done = st.durable_id;
    pthread_mutex_lock(&n->ta->mu);
    n->ta->rc[0] = rc ? rc : n->ta->rc[0];
    n->ta->done++;
    pthread_cond_broadcast(&n->ta->cv);
    pthread_mutex_unlock(&n->ta->mu);
}

static void done_gate(void *arg, enum err_code rc, const struct err *e)
{
    (void)arg;
    (void)rc;
    (void)e;
}

enum { PIPELINED = 40 };

/* Back-to-back batches: each commit's log record starts flushing at once
 * (records that arrive while every lane is flushing share the next flush),
 * and no intent is reported before its commit is durable. */
static void pipelined_commits(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_batch(f->dir, "pipe", 4);
    struct tally ta = {.done = 0};
    struct noted n[PIPELINED];
    char keys[PIPELINED][16];
    struct gate g;
    struct store_stats st;
    struct store_txn *t = NULL;
    struct slice v;

    pthread_mutex_init(&ta.mu, NULL);
    pthread_cond_init(&ta.cv, NULL);
    sem_init(&g.entered, 0, 0);
    sem_init(&g.release, 0, 0);
    store_submit(s, apply_gate, done_gate, &g);
    sem_wait(&g.entered);
    for (int i = 0; i < PIPELINED; i++) {
        snprintf(keys[i], sizeof(keys[i]), "p%03d", i);
        n[i] = (struct noted){
            .s = s, .kv = {STORE_DB_DATA, slice_str(keys[i]), SLICE("v")}, .ta = &ta};
        store_submit(s, apply_noted, done_noted, &n[i]);
    }
    sem_post(&g.release);
    tally_wait(&ta, PIPELINED);
    assert_int_equal(ta.rc[0], ERR_OK);
    for (int i = 0; i < PIPELINED; i++) {
        assert_true(n[i].txn > 0);
        assert_true(n[i].durable_at_done >= n[i].txn);
    }
    /* 4 per commit, and each commit a new id */
    assert_int_equal(n[PIPELINED - 1].txn - n[0].txn, PIPELINED / 4 - 1);
    store_get_stats(s, &st);
    assert_int_equal(st.commits, 1 + PIPELINED / 4);
    assert_true(st.syncs >= 1 && st.syncs <= PIPELINED / 4);
    assert_int_equal(st.durable_id, n[PIPELINED - 1].txn);

    assert_int_equal(store_read_durable(s, &t, NULL), ERR_OK);
    assert_int_equal(store_txn_id(t), st.durable_id);
    assert_int_equal(store_get(t, STORE_DB_DATA, SLICE("p039"), &v, NULL), ERR_OK);
    store_txn_abort(t);
    store_close(s);
    sem_destroy(&g.entered);
    sem_destroy(&g.release);
    pthread_cond_destroy(&ta.cv);
    pthread_mutex_destroy(&ta.mu);
}

struct durable_reader {
    struct store *s;
    uint64_t txn;
    atomic_int returned;
};

static void *durable_reader_main(void *arg)
{
    struct durable_reader *r = arg;
    struct store_txn *t = NULL;

    if (store_read_durable(r->s, &t, NULL) == ERR_OK) {
        r->txn = store_txn_id(t);
        store_txn_abort(t);
    }
    atomic_store(&r->returned, 1);
    return NULL;
}

/* A commit the writer has not seen durable yet (it is held in the next
 * intent): its intent is not reported, plain readers see it, durable readers
 * wait for it. */
static void report_waits_for_next_flush(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_batch(f->dir, "one", 1);
    struct tally ta = {.done = 0};
    struct noted n;
    struct gate g0, g1;
    struct durable_reader r = {.s = NULL};
    struct store_stats st;
    struct store_txn *t = NULL;
    struct slice v;
    pthread_t th;

    pthread_mutex_init(&ta.mu, NULL);
    pthread_cond_init(&ta.cv, NULL);
    sem_init(&g0.entered, 0, 0);
    sem_init(&g0.release, 0, 0);
    sem_init(&g1.entered, 0, 0);
    sem_init(&g1.release, 0, 0);
    /* batches of one: [g0], [put a], [g1] back to back */
    store_submit(s, apply_gate, done_gate, &g0);
    sem_wait(&g0.entered);
    n = (struct noted){.s = s, .kv = {STORE_DB_DATA, SLICE("a"), SLICE("1")}, .ta = &ta};
    store_submit(s, apply_noted, done_noted, &n);
    store_submit(s, apply_gate, done_gate, &g1);
    sem_post(&g0.release);
    sem_wait(&g1.entered); /* "a" is committed; the writer is held before it reports */

    pthread_mutex_lock(&ta.mu);
    assert_int_equal(ta.done, 0);
    pthread_mutex_unlock(&ta.mu);
    store_get_stats(s, &st);
    assert_true(st.durable_id < n.txn);
    assert_int_equal(store_read_begin(s, &t, NULL), ERR_OK);
    assert_int_equal(store_txn_id(t), n.txn);
    assert_int_equal(store_get(t, STORE_DB_DATA, SLICE("a"), &v, NULL), ERR_OK);
    store_txn_abort(t);

    r.s = s;
    atomic_init(&r.returned, 0);
    assert_int_equal(pthread_create(&th, NULL, durable_reader_main, &r), 0);
    usleep(100 * 1000);
    assert_int_equal(atomic_load(&r.returned), 0);

    /* g1 changes nothing and logs nothing; once free, the writer finds
     * "a"'s record flushed (one flush), reports it and lets the reader in. */
    sem_post(&g1.release);
    pthread_join(th, NULL);
    assert_int_equal(r.txn, n.txn);
    tally_wait(&ta, 1);
    assert_int_equal(ta.rc[0], ERR_OK);
    assert_true(n.durable_at_done >= n.txn);
    store_get_stats(s, &st);
    assert_int_equal(st.syncs, 1);
    store_close(s);
    sem_destroy(&g0.entered);
    sem_destroy(&g0.release);
    sem_destroy(&g1.entered);
    sem_destroy(&g1.release);
    pthread_cond_destroy(&ta.cv);
    pthread_mutex_destroy(&ta.mu);
}

/* A put that also notes a stream record number; @fail: then it fails. */
struct seq_put {
    struct kv kv;
    uint64_t n;
    bool fail;
};

static enum err_code apply_seq_put(struct store_txn *t, void *arg, struct err *e)
{
    struct seq_put *p = arg;
    enum err_code rc = apply_put(t, &p->kv, e);

    store_seq_note(t, STORE_SEQ_STREAM, p->n);
    if (!rc && p->fail)
        rc = err_set(e, ERR_CONFLICT, "refused");
    return rc;
}

static void done_seq_put(void *arg, enum err_code rc, const struct err *e)
{
    (void)arg;
    (void)rc;
    (void)e;
}

/* A disk whose log flushes wait while the test holds them (10 s at most). */
static atomic_int hold_flushes;

static int held_flush(int fd)
{
    for (int i = 0; i < 10000 && atomic_load(&hold_flushes); i++)
        usleep(1000);
    return fdatasync(fd);
}

/* store_seq_durable: a record number is handed out only once its commit is
 * durable, without waiting; a noting intent that failed holds back nothing
 * once the commits before it are durable. */
static void seq_durable(void **state)
{
    struct fixture *f = *state;
    char dir[128];
    struct store_opts o = {.dir = dir, .max_batch = 1, .log_flush = held_flush};
    struct store *s = NULL;
    struct err oe = {0};
    struct seq_put ok = {.kv = {STORE_DB_DATA, SLICE("r7"), SLICE("x")}, .n = 7};
    struct seq_put bad = {.kv = {STORE_DB_DATA, SLICE("r8"), SLICE("x")}, .n = 8, .fail = true};
    struct seq_put more[6];
    char keys[6][8];
    struct gate g0, g1;
    struct store_stats st;
    struct store_txn *t = NULL;
    struct slice v;
    uint64_t ok_txn;

    snprintf(dir, sizeof(dir), "%s/seq", f->dir);
    assert_int_equal(store_open(&o, &s, &oe), ERR_OK);
    assert_int_equal(store_seq_durable(s, STORE_SEQ_STREAM), UINT64_MAX);
    sem_init(&g0.entered, 0, 0);
    sem_init(&g0.release, 0, 0);
    sem_init(&g1.entered, 0, 0);
    sem_init(&g1.release, 0, 0);
    /* batches of one: [g0], [note 7], [note 8, fails], [g1] */
    store_submit(s, apply_gate, done_gate, &g0);
    sem_wait(&g0.entered);
    atomic_store(&hold_flushes, 1); /* until 7's commit is seen not durable */
    store_submit(s, apply_seq_put, done_seq_put, &ok);
    store_submit(s, apply_seq_put, done_seq_put, &bad);
    store_submit(s, apply_gate, done_gate, &g1);
    sem_post(&g0.release);
    sem_wait(&g1.entered); /* 7 is committed, not flushed past */

    assert_int_equal(store_read_begin(s, &t, NULL), ERR_OK);
    ok_txn = store_txn_id(t);
    assert_int_equal(store_get(t, STORE_DB_DATA, SLICE("r7"), &v, NULL), ERR_OK);
    assert_int_equal(store_seq_durable(s, STORE_SEQ_STREAM), 6);
    store_txn_abort(t);
    store_get_stats(s, &st);
    assert_true(st.durable_id < ok_txn);
    atomic_store(&hold_flushes, 0);

    /* the idle flush makes 7 durable; the failed 8 holds nothing back */
    sem_post(&g1.release);
    for (int i = 0; i < 500 && st.durable_id < ok_txn; i++) {
        usleep(10 * 1000);
        store_get_stats(s, &st);
    }
    assert_true(st.durable_id >= ok_txn);
    assert_int_equal(store_seq_durable(s, STORE_SEQ_STREAM), UINT64_MAX);

    /* more noting commits than kept apart: the cap stays at or below the
     * lowest number not yet durable and comes back once all are */
    store_submit(s, apply_gate, done_gate, &g0);
    sem_wait(&g0.entered);
    for (int i = 0; i < 6; i++) {
        snprintf(keys[i], sizeof(keys[i]), "m%d", i);
        more[i] = (struct seq_put){.kv = {STORE_DB_DATA, slice_str(keys[i]), SLICE("x")},
                                   .n = 10 + (uint64_t)i};
        store_submit(s, apply_seq_put, done_seq_put, &more[i]);
    }
    store_submit(s, apply_gate, done_gate, &g1);
    sem_post(&g0.release);
    sem_wait(&g1.entered);
    {
        uint64_t cap = store_seq_durable(s, STORE_SEQ_STREAM);

        assert_true(cap >= 9 && cap < 15);
    }
    sem_post(&g1.release);
    {
        struct err e = {0};

        assert_int_equal(put(s, STORE_DB_DATA, SLICE("last"), SLICE("x"), &e), ERR_OK);
    }
    assert_int_equal(store_seq_durable(s, STORE_SEQ_STREAM), UINT64_MAX);
    store_close(s);
    sem_destroy(&g0.entered);
    sem_destroy(&g0.release);
    sem_destroy(&g1.entered);
    sem_destroy(&g1.release);
}

/* A put that notes a stream record number and what was reported to it: the
 * outcome, and (on the writer thread, at the report) how far the durable id
 * and the stream cap were. */
struct failing {
    struct store *s;
    struct kv kv;
    uint64_t n, txn, durable_at_done, cap_at_done;
    enum err_code rc;
    char msg[sizeof(((struct err *)0)->msg)];
    struct tally *ta;
};

static enum err_code apply_failing(struct store_txn *t, void *arg, struct err *e)
{
    struct failing *p = arg;

    p->txn = store_txn_id(t);
    store_seq_note(t, STORE_SEQ_STREAM, p->n);
    return apply_put(t, &p->kv, e);
}

static void done_failing(void *arg, enum err_code rc, const struct err *e)
{
    struct failing *p = arg;
    struct store_stats st;

    store_get_stats(p->s, &st);
    p->durable_at_done = st.durable_id;
    p->cap_at_done = store_seq_durable(p->s, STORE_SEQ_STREAM);
    p->rc = rc;
    snprintf(p->msg, sizeof(p->msg), "%s", rc && e ? e->msg : "");
    pthread_mutex_lock(&p->ta->mu);
    p->ta->done++;
    pthread_cond_broadcast(&p->ta->cv);
    pthread_mutex_unlock(&p->ta->mu);
}

enum { FAILING = 5 };

/* submit_failing - [gate], then FAILING noting puts in one batch (numbers
 * from @n0, keys "@prefix0".."@prefix4"), released once queued. */
static void submit_failing(struct store *s, struct failing *p, char keys[][16], const char *prefix,
                           uint64_t n0, struct tally *ta)
{
    struct gate g;

    sem_init(&g.entered, 0, 0);
    sem_init(&g.release, 0, 0);
    store_submit(s, apply_gate, done_gate, &g);
    sem_wait(&g.entered);
    for (int i = 0; i < FAILING; i++) {
        snprintf(keys[i], 16, "%s%d", prefix, i);
        p[i] = (struct failing){.s = s,
                                .kv = {STORE_DB_DATA, slice_str(keys[i]), SLICE("x")},
                                .n = n0 + (uint64_t)i,
                                .ta = ta};
        store_submit(s, apply_failing, done_failing, &p[i]);
    }
    sem_post(&g.release);
    tally_wait(ta, FAILING);
    sem_destroy(&g.entered);
    sem_destroy(&g.release);
}

/* A flush that fails: every writer waiting on it gets ERR_IO, none is
 * reported durable, the stream cap does not pass their records; the writer
 * retries the flush and the store goes on. */
static void flush_failure(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_batch(f->dir, "flushfail", 0);
    struct tally ta = {.done = 0};
    struct failing p[FAILING];
    char keys[FAILING][16], buf[8];
    struct store_stats st;
    struct err e = {0};

    pthread_mutex_init(&ta.mu, NULL);
    pthread_cond_init(&ta.cv, NULL);
    store_inject_failures(s, 0, 1);
    submit_failing(s, p, keys, "f", 1, &ta);
    for (int i = 0; i < FAILING; i++) {
        assert_int_equal(p[i].rc, ERR_IO);
        assert_non_null(strstr(p[i].msg, "flush"));
        assert_true(p[i].durable_at_done < p[i].txn);
        assert_true(p[i].cap_at_done < 1);
    }
    /* the commit stays (its outcome was unknown) and the retried flush
     * makes it durable; later writes are acknowledged again */
    assert_int_equal(put(s, STORE_DB_DATA, SLICE("after"), SLICE("x"), &e), ERR_OK);
    assert_int_equal(get_copy(s, STORE_DB_DATA, SLICE("f0"), buf, sizeof(buf)), ERR_OK);
    store_get_stats(s, &st);
    assert_true(st.syncs >= 2);
    assert_true(st.durable_id > p[0].txn);
    assert_int_equal(store_seq_durable(s, STORE_SEQ_STREAM), UINT64_MAX);
    store_close(s);
    pthread_cond_destroy(&ta.cv);
    pthread_mutex_destroy(&ta.mu);
}

/* A commit that fails: every writer of its batch gets ERR_IO, nothing of it
 * stays or is reported durable, the next batch commits. */
static void commit_failure(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_batch(f->dir, "commitfail", 0);
    struct tally ta = {.done = 0};
    struct failing p[FAILING];
    char keys[FAILING][16], buf[8];
    struct store_stats before, st;
    struct err e = {0};

    pthread_mutex_init(&ta.mu, NULL);
    pthread_cond_init(&ta.cv, NULL);
    store_get_stats(s, &before);
    store_inject_failures(s, 2, 0); /* the gate's batch, then the puts' */
    submit_failing(s, p, keys, "c", 1, &ta);
    store_get_stats(s, &st);
    for (int i = 0; i < FAILING; i++) {
        assert_int_equal(p[i].rc, ERR_IO);
        assert_non_null(strstr(p[i].msg, "commit"));
        assert_true(p[i].durable_at_done < p[i].txn);
        /* no record of it exists, so none is held back */
        assert_int_equal(p[i].cap_at_done, UINT64_MAX);
        assert_int_equal(get_copy(s, STORE_DB_DATA, slice_str(keys[i]), buf, sizeof(buf)),
                         ERR_NOTFOUND);
    }
    assert_int_equal(st.commits, before.commits);
    assert_int_equal(st.durable_id, before.durable_id);

    /* the numbers of the failed batch are written again by the next one */
    ta.done = 0;
    submit_failing(s, p, keys, "c", 1, &ta);
    for (int i = 0; i < FAILING; i++) {
        assert_int_equal(p[i].rc, ERR_OK);
        assert_true(p[i].durable_at_done >= p[i].txn);
        assert_int_equal(get_copy(s, STORE_DB_DATA, slice_str(keys[i]), buf, sizeof(buf)), ERR_OK);
    }
    assert_int_equal(store_seq_durable(s, STORE_SEQ_STREAM), UINT64_MAX);
    assert_int_equal(put(s, STORE_DB_DATA, SLICE("after"), SLICE("x"), &e), ERR_OK);
    store_close(s);
    pthread_cond_destroy(&ta.cv);
    pthread_mutex_destroy(&ta.mu);
}

/* An acknowledged write survives kill -9 of the process right after it. */
static void acked_survives_kill(void **state)
{
    struct fixture *f = *state;
    char dir[128], buf[16];
    pid_t pid;
    int status;
    struct store *s;

    snprintf(dir, sizeof(dir), "%s/kill", f->dir);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct store *cs = open_dir(dir, 0);
        struct err e = {0};

        for (int i = 0; i < 50; i++) {
            char k[16];

            snprintf(k, sizeof(k), "k%02d", i);
            if (put(cs, STORE_DB_DATA, slice_str(k), SLICE("acked"), &e) != ERR_OK)
                _exit(1);
        }
        kill(getpid(), SIGKILL);
        _exit(3);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    s = open_dir(dir, 0);
    for (int i = 0; i < 50; i++) {
        char k[16];

        snprintf(k, sizeof(k), "k%02d", i);
        assert_int_equal(get_copy(s, STORE_DB_DATA, slice_str(k), buf, sizeof(buf)), ERR_OK);
        assert_string_equal(buf, "acked");
    }
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(put_get_del, setup, teardown),
        cmocka_unit_test_setup_teardown(read_txn_refuses_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(snapshot_isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(cursor_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(nested_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(dir_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(reopen_and_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(close_drains_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(map_full, setup, teardown),
        cmocka_unit_test_setup_teardown(open_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(pipelined_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(report_waits_for_next_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(seq_durable, setup, teardown),
        cmocka_unit_test_setup_teardown(flush_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(commit_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(acked_survives_kill, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
