/* verify.c - `tandem verify` (cli_repl.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsc.h"
#include "cli_repl.h"
#include "cli_repl_int.h"

struct ranges {
    unsigned count[256];
    char hash[256][65];
};

struct keyhash {
    char *key; /* hex */
    char hash[65];
};

struct keys {
    struct keyhash *v;
    size_t n, cap;
};

static enum err_code get_ranges(const struct cli_repl_args *a, const struct cli_repl_ep *ep,
                                struct ranges *out, struct err *e)
{
    struct awsc_resp resp;
    char query[400], *line, *save = NULL;
    enum err_code rc;
    int seen = 0;

    snprintf(query, sizeof(query), "table=%s", a->table);
    rc = cli_repl_get(a, ep, "/_tandem/repl/digest", query, &resp, e);
    if (!rc) {
        for (line = strtok_r(resp.body.ptr ? resp.body.ptr : (char *)"", "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
            unsigned idx, cnt;
            char h[65];

            if (sscanf(line, "%2x %u %64s", &idx, &cnt, h) == 3 && idx < 256) {
                out->count[idx] = cnt;
                memcpy(out->hash[idx], h, 65);
                seen++;
            }
        }
        if (seen != 256)
            rc = err_set(e, ERR_IO, "%s: malformed range hashes", ep->url);
    }
    awsc_resp_free(&resp);
    return rc;
}

static enum err_code get_keys(const struct cli_repl_args *a, const struct cli_repl_ep *ep, int b,
                              struct keys *out, struct err *e)
{
    struct awsc_resp resp;
    char query[400], *line, *save = NULL;
    enum err_code rc;

    snprintf(query, sizeof(query), "bucket=%02x&table=%s", b, a->table);
    rc = cli_repl_get(a, ep, "/_tandem/repl/digest", query, &resp, e);
    if (!rc) {
        for (line = strtok_r(resp.body.ptr ? resp.body.ptr : (char *)"", "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
            char *sp = strchr(line, ' ');

            if (!sp || strlen(sp + 1) != 64)
                continue;
            if (out->n == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 64;
                out->v = realloc(out->v, out->cap * sizeof(*out->v));
                if (!out->v)
                    abort();
            }
            *sp = '\0';
            out->v[out->n].key = strdup(line);
            memcpy(out->v[out->n].hash, sp + 1, 65);
            out->n++;
        }
    }
    awsc_resp_free(&resp);
    return rc;
}

static const char *find(const struct keys *k, const char *key)
{
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->v[i].key, key) == 0)
            return k->v[i].hash;
    return NULL;
}

/* printable - the key encoding shown as text where it is text. */
static void printable(const char *hex, char *out, size_t cap)
{
    size_t n = strlen(hex) / 2, o = 0;

    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        unsigned v;

        sscanf(hex + 2 * i, "%2x", &v);
        if (v == 0 && i + 2 >= n)
            break; /* the partition key's terminator */
        out[o++] = v >= 0x20 && v < 0x7f ? (char)v : '.';
    }
    out[o] = '\0';
}

static void keys_free(struct keys *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->v[i].key);
    free(k->v);
    memset(k, 0, sizeof(*k));
}

int cli_verify_main(int argc, char **argv)
{
    struct cli_repl_args a;
    struct ranges *r;
    struct err e = {0};
    size_t divergent = 0, items = 0, bad_ranges = 0;
    int rc = cli_repl_parse(argc, argv, &a, true), status = 0;

    if (rc >= 0) {
        fputs("usage: tandem verify --table NAME --endpoint REGION=URL --endpoint REGION=URL "
              "[...]\n  [--access-key ID --secret-key SECRET]\n"
              "exit status 0: the replicas agree; 1: divergent items (each printed); 2: error\n",
              rc ? stderr : stdout);
        return rc;
    }
    for (size_t i = 0; i < a.n; i++) {
        if (!a.ep[i].region) {
            fprintf(stderr, "tandem verify: --endpoint must be REGION=URL\n");
            return 2;
        }
    }
    r = calloc(a.n, sizeof(*r));
    if (!r)
        abort();
    for (size_t i = 0; i < a.n; i++) {
        if (get_ranges(&a, &a.ep[i], &r[i], &e)) {
            fprintf(stderr, "tandem verify: %s: %s\n", a.ep[i].region, e.msg);
            free(r);
            return 2;
        }
    }
    for (int b = 0; b < 256; b++) {
        struct keys k[CLI_REPL_MAX];
        bool same = true;

        items += r[0].count[b];
        for (size_t i = 1; i < a.n; i++)
            same &= r[i].count[b] == r[0].count[b] && strcmp(r[i].hash[b], r[0].hash[b]) == 0;
        if (same)
            continue;
        bad_ranges++;
        memset(k, 0, sizeof(k));
        for (size_t i = 0; i < a.n && !status; i++) {
            if (get_keys(&a, &a.ep[i], b, &k[i], &e)) {
                fprintf(stderr, "tandem verify: %s: %s\n", a.ep[i].region, e.msg);
                status = 2;
            }
        }
        /* every key any region has, once */
        for (size_t i = 0; i < a.n && !status; i++) {
            for (size_t j = 0; j < k[i].n; j++) {
                const char *key = k[i].v[j].key;
                bool first = true, differs = false;
                const char *h0 = find(&k[0], key);
                char text[200];

                for (size_t p = 0; p < i; p++)
                    first &= find(&k[p], key) == NULL;
                if (!first)
                    continue;
                for (size_t p = 1; p < a.n; p++) {
                    const char *hp = find(&k[p], key);

                    differs |= !h0 != !hp || (h0 && hp && strcmp(h0, hp) != 0);
                }
                if (!differs)
                    continue;
                divergent++;
                printable(key, text, sizeof(text));
                printf("divergent table=%s key=\"%s\" (encoded %s)", a.table, text, key);
                for (size_t p = 0; p < a.n; p++) {
                    const char *hp = find(&k[p], key);

                    printf(" %s=%.12s", a.ep[p].region, hp ? hp : "absent");
                }
                putchar('\n');
            }
        }
        for (size_t i = 0; i < a.n; i++)
            keys_free(&k[i]);
    }
    free(r);
    if (status)
        return status;
    printf("table %s: %zu items in %zu regions compared, %zu of 256 ranges differ, %zu divergent "
           "items\n",
           a.table, items, a.n, bad_ranges, divergent);
    return divergent || bad_ranges ? 1 : 0;
}
