/* test_repl.c - the replication core: hybrid logical clock, item values,
 * log entries and batches (refusing corrupt and truncated ones), the log in a
 * real store, last-writer-wins order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hlc.h"
#include "rlog.h"
#include "store.h"

static void test_hlc_monotonic(void **state)
{
    struct repl_hlc c = REPL_HLC_INIT;
    uint64_t a, b, r;

    (void)state;
    a = repl_hlc_tick(&c, 1000);
    assert_int_equal(repl_hlc_ms(a), 1000);
    assert_int_equal(repl_hlc_logical(a), 0);
    b = repl_hlc_tick(&c, 1000); /* same millisecond: the counter moves */
    assert_true(b > a);
    assert_int_equal(repl_hlc_logical(b), 1);
    b = repl_hlc_tick(&c, 900); /* the wall clock went back: still ahead */
    assert_true(b > a);
    r = ((uint64_t)5000 << 16) | 7; /* a remote clock far ahead */
    repl_hlc_seen(&c, r);
    a = repl_hlc_tick(&c, 1001);
    assert_true(a > r);
    assert_int_equal(repl_hlc_ms(a), 5000);
    a = repl_hlc_tick(&c, 6000);
    assert_int_equal(repl_hlc_ms(a), 6000);
    assert_int_equal(repl_hlc_logical(a), 0);
    a = repl_hlc_now();
    b = repl_hlc_now();
    assert_true(b > a);
}

static void test_lww_order(void **state)
{
    (void)state;
    assert_true(repl_val_newer(2, "a", 1, "z"));
    assert_false(repl_val_newer(1, "z", 2, "a"));
    /* equal timestamps: the greater region name wins, the same way everywhere */
    assert_true(repl_val_newer(5, "us-west-2", 5, "us-east-1"));
    assert_false(repl_val_newer(5, "us-east-1", 5, "us-west-2"));
    assert_false(repl_val_newer(5, "us-east-1", 5, "us-east-1"));
}

static void test_values(void **state)
{
    struct buf b;
    struct repl_val v;
    struct err e = {0};

    (void)state;
    buf_init(&b, 0);
    repl_val_encode(&b, 0x0102030405060708ULL, "us-east-1", "{\"a\":1}", 7);
    assert_int_equal(repl_val_decode(slice_of(b.ptr, b.len), &v, &e), ERR_OK);
    assert_int_equal(v.fmt, REPL_FMT_HLC);
    assert_false(v.deleted);
    assert_true(v.ts == 0x0102030405060708ULL);
    assert_string_equal(v.origin, "us-east-1");
    assert_int_equal(v.json_len, 7);
    assert_memory_equal(v.json, "{\"a\":1}", 7);
    buf_reset(&b);
    repl_val_encode(&b, 9, "eu-west-1", NULL, 0);
    assert_int_equal(repl_val_decode(slice_of(b.ptr, b.len), &v, &e), ERR_OK);
    assert_true(v.deleted);
    assert_null(v.json);
    /* format 1 still reads */
    assert_int_equal(repl_val_decode(SLICE("\001{\"x\":{\"S\":\"y\"}}"), &v, &e), ERR_OK);
    assert_int_equal(v.fmt, REPL_FMT_JSON);
    assert_true(v.ts == 0);
    /* garbage and truncation refused */
    assert_int_equal(repl_val_decode(SLICE("\003xx"), &v, &e), ERR_INTERNAL);
    assert_int_equal(repl_val_decode(slice_of(b.ptr, 5), &v, &e), ERR_INTERNAL);
    buf_free(&b);
}

static struct repl_entry sample(uint64_t ts, bool del)
{
    struct repl_entry x;

    memset(&x, 0, sizeof(x));
    x.ts = ts;
    x.del = del;
    strcpy(x.origin, "us-east-1");
    strcpy(x.table, "Music");
    x.table_id = 42;
    x.schema = 0xdeadbeef;
    x.key = "k1\0\0";
    x.key_len = 4;
    if (!del) {
        x.image = "{\"pk\":{\"S\":\"k1\"}}";
        x.image_len = strlen(x.image);
    }
    return x;
}

static void test_entry_roundtrip(void **state)
{
    struct repl_entry x = sample(77, false), y;
    struct buf b;
    struct err e = {0};

    (void)state;
    buf_init(&b, 0);
    repl_entry_encode(&b, &x);
    assert_int_equal(repl_entry_decode(b.ptr, b.len, &y, &e), ERR_OK);
    assert_true(y.ts == 77);
    assert_false(y.del);
    assert_string_equal(y.origin, "us-east-1");
    assert_string_equal(y.table, "Music");
    assert_true(y.table_id == 42);
    assert_true(y.schema == 0xdeadbeef);
    assert_int_equal(y.key_len, 4);
    assert_int_equal(y.image_len, x.image_len);
    assert_memory_equal(y.image, x.image, x.image_len);
    for (size_t n = 0; n < b.len; n++) /* every truncation refused */
        assert_int_equal(repl_entry_decode(b.ptr, n, &y, &e), ERR_INVALID);
    buf_free(&b);
}

struct seen {
    int n;
    uint64_t seqs[8];
};

static enum err_code collect(const struct repl_entry *x, void *arg, struct err *e)
{
    struct seen *s = arg;

    (void)e;
    s->seqs[s->n++] = x->seq;
    return ERR_OK;
}

static void test_batch(void **state)
{
    struct repl_entry x = sample(1, false), d = sample(2, true);
    struct buf b, ent;
    struct seen s = {0};
    struct err e = {0};
    size_t count = 0;

    (void)state;
    buf_init(&b, 0);
    buf_init(&ent, 0);
    repl_batch_begin(&b);
    repl_entry_encode(&ent, &x);
    repl_batch_add(&b, 10, ent.ptr, ent.len);
    buf_reset(&ent);
    repl_entry_encode(&ent, &d);
    repl_batch_add(&b, 11, ent.ptr, ent.len);
    repl_batch_end(&b);
    assert_int_equal(repl_batch_decode(b.ptr, b.len, collect, &s, &count, &e), ERR_OK);
    assert_int_equal(count, 2);
    assert_int_equal(s.n, 2);
    assert_true(s.seqs[0] == 10 && s.seqs[1] == 11);
    /* truncated anywhere or one bit flipped: refused, nothing delivered */
    for (size_t n = 0; n < b.len; n++) {
        s.n = 0;
        assert_int_equal(repl_batch_decode(b.ptr, n, collect, &s, &count, &e), ERR_INVALID);
        assert_int_equal(s.n, 0);
    }
    for (size_t i = 0; i < b.len; i++) {
        ((char *)b.ptr)[i] ^= 0x10;
        s.n = 0;
        assert_int_equal(repl_batch_decode(b.ptr, b.len, collect, &s, &count, &e), ERR_INVALID);
        assert_int_equal(s.n, 0);
        ((char *)b.ptr)[i] ^= 0x10;
    }
    /* an empty batch is fine */
    buf_reset(&b);
    repl_batch_begin(&b);
    repl_batch_end(&b);
    assert_int_equal(repl_batch_decode(b.ptr, b.len, collect, &s, &count, &e), ERR_OK);
    assert_int_equal(count, 0);
    buf_free(&b);
    buf_free(&ent);
}

struct append_arg {
    int n;
    int64_t base_ms;
};

static enum err_code append_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct append_arg *a = arg;

    for (int i = 0; i < a->n; i++) {
        struct repl_entry x = sample(((uint64_t)(a->base_ms + i) << 16), i % 2);
        enum err_code rc = repl_log_append(t, &x, e);

        if (rc)
            return rc;
    }
    return repl_pos_put(t, "us-west-2", 99, e);
}

static enum err_code trim_apply(struct store_txn *t, void *arg, struct err *e)
{
    size_t *n = arg;

    return repl_log_trim(t, 1003, 100, n, e);
}

static void test_log_in_store(void **state)
{
    char dir[] = "/tmp/test_repl_XXXXXX";
    struct store_opts o = {0};
    struct store *s = NULL;
    struct store_txn *t = NULL;
    struct append_arg a = {.n = 5, .base_ms = 1000};
    struct buf b;
    struct seen seen = {0};
    struct err e = {0};
    uint64_t first, last, lastseq, pos;
    size_t count, trimmed = 0;

    (void)state;
    assert_non_null(mkdtemp(dir));
    o.dir = dir;
    o.nosync = true;
    assert_int_equal(store_open(&o, &s, &e), ERR_OK);
    assert_int_equal(store_write(s, append_apply, &a, &e), ERR_OK);
    assert_int_equal(store_read_begin(s, &t, &e), ERR_OK);
    assert_int_equal(repl_log_bounds(t, &first, &last, &e), ERR_OK);
    assert_true(first == 1 && last == 5);
    assert_int_equal(repl_pos_get(t, "us-west-2", &pos, &e), ERR_OK);
    assert_true(pos == 99);
    assert_int_equal(repl_pos_get(t, "eu-west-1", &pos, &e), ERR_OK);
    assert_true(pos == 0);
    buf_init(&b, 0);
    assert_int_equal(repl_log_read(t, 2, 3, 1 << 20, &b, &count, &lastseq, &e), ERR_OK);
    assert_int_equal(count, 3);
    assert_true(lastseq == 4);
    assert_int_equal(repl_batch_decode(b.ptr, b.len, collect, &seen, &count, &e), ERR_OK);
    assert_true(seen.seqs[0] == 2 && seen.seqs[2] == 4);
    store_txn_abort(t);
    /* entries older than 1003 ms go; the sequence keeps counting */
    assert_int_equal(store_write(s, trim_apply, &trimmed, &e), ERR_OK);
    assert_int_equal(trimmed, 3);
    assert_int_equal(store_write(s, append_apply, &a, &e), ERR_OK);
    assert_int_equal(store_read_begin(s, &t, &e), ERR_OK);
    assert_int_equal(repl_log_bounds(t, &first, &last, &e), ERR_OK);
    assert_true(first == 4 && last == 10);
    store_txn_abort(t);
    buf_free(&b);
    store_close(s);
    {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
    }
}

static enum err_code trim_all_apply(struct store_txn *t, void *arg, struct err *e)
{
    size_t *n = arg;

    return repl_log_trim(t, INT64_MAX, 100, n, e);
}

static void bounds_of(struct store *s, uint64_t *first, uint64_t *last)
{
    struct store_txn *t = NULL;
    struct err e = {0};

    assert_int_equal(store_read_begin(s, &t, &e), ERR_OK);
    assert_int_equal(repl_log_bounds(t, first, last, &e), ERR_OK);
    store_txn_abort(t);
}

/* Sequence numbers come from the log's newest entry, or once everything was
 * trimmed from the counter the trim left: after a full trim and a reopen
 * (a restart), appends continue past every number given out before. */
static void test_seq_after_full_trim_and_reopen(void **state)
{
    char dir[] = "/tmp/test_repl_XXXXXX";
    struct store_opts o = {0};
    struct store *s = NULL;
    struct append_arg a = {.n = 4, .base_ms = 1000};
    struct err e = {0};
    uint64_t first, last;
    size_t trimmed = 0;

    (void)state;
    assert_non_null(mkdtemp(dir));
    o.dir = dir;
    o.nosync = true;
    assert_int_equal(store_open(&o, &s, &e), ERR_OK);
    bounds_of(s, &first, &last);
    assert_true(first == 0 && last == 0); /* nothing ever logged */
    assert_int_equal(store_write(s, append_apply, &a, &e), ERR_OK);
    assert_int_equal(store_write(s, trim_all_apply, &trimmed, &e), ERR_OK);
    assert_int_equal(trimmed, 4);
    bounds_of(s, &first, &last);
    assert_true(first == 5 && last == 4); /* everything trimmed */
    store_close(s);
    s = NULL;
    assert_int_equal(store_open(&o, &s, &e), ERR_OK);
    bounds_of(s, &first, &last);
    assert_true(first == 5 && last == 4);
    assert_int_equal(store_write(s, append_apply, &a, &e), ERR_OK);
    bounds_of(s, &first, &last);
    assert_true(first == 5 && last == 8);
    /* a trim that leaves entries keeps the numbering too */
    assert_int_equal(store_write(s, trim_apply, &trimmed, &e), ERR_OK);
    assert_int_equal(store_write(s, append_apply, &a, &e), ERR_OK);
    bounds_of(s, &first, &last);
    assert_true(last == 12);
    store_close(s);
    {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
    }
}

static void test_wait(void **state)
{
    (void)state;
    repl_log_committed(5);
    assert_true(repl_log_wait(4, 1000) >= 5); /* already there: no wait */
    assert_true(repl_log_wait(5, 10) == 5);   /* nothing new: times out */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hlc_monotonic), cmocka_unit_test(test_lww_order),
        cmocka_unit_test(test_values),        cmocka_unit_test(test_entry_roundtrip),
        cmocka_unit_test(test_batch),         cmocka_unit_test(test_log_in_store),
        cmocka_unit_test(test_wait),          cmocka_unit_test(test_seq_after_full_trim_and_reopen),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
