/* random.c - the random provider: RandomPet, RandomString, RandomPassword, RandomId and
 * RandomInteger. Values come from /dev/urandom once, at create, and stay in the state; any
 * change of an input (keepers included) makes a new value, as the provider does. No region
 * is called. An import takes the value from its id, as the provider's import does (a string
 * or password itself, RandomId "[PREFIX,]B64URL", RandomInteger "RESULT,MIN,MAX[,SEED]");
 * RandomPet has no import. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "mem.h"
#include "stack_provider.h"

static enum err_code rnd(void *p, size_t n, struct err *e)
{
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(p, 1, n, f) : 0;
    if (f)
        fclose(f);
    return got == n ? ERR_OK : err_set(e, ERR_IO, "cannot read /dev/urandom");
}

static unsigned rnd_below(unsigned n)
{
    unsigned v = 0;
    struct err e = {0};
    if (rnd(&v, sizeof(v), &e) || n == 0)
        return 0;
    return v % n;
}

static long num(const cJSON *in, const char *key, long def)
{
    const cJSON *v = cJSON_GetObjectItem(in, key);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : def;
}

static bool flag(const cJSON *in, const char *key, bool def)
{
    const cJSON *v = cJSON_GetObjectItem(in, key);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}

/* every input replaces: the value is made once */
static enum err_code keep_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                                 const cJSON *new_in, const cJSON *old_out, cJSON **out,
                                 struct err *e)
{
    (void)t;
    (void)id;
    (void)old_in;
    (void)new_in;
    (void)e;
    *out = cJSON_Duplicate(old_out, 1);
    return ERR_OK;
}

static enum err_code no_delete(const struct stack_target *t, const char *id, const cJSON *in,
                               const cJSON *out, struct err *e)
{
    (void)t;
    (void)id;
    (void)in;
    (void)out;
    (void)e;
    return ERR_OK;
}

/* Refresh keeps what the state holds: nothing to read. RandomPet cannot be imported (the
 * provider has no import for it). */
static enum err_code no_read(const struct stack_target *t, const char *id, const cJSON *in,
                             cJSON **out, bool *gone, struct err *e)
{
    (void)id;
    (void)in;
    *out = NULL;
    *gone = false;
    if (t->importing)
        return err_set(e, ERR_INVALID, "import: random:RandomPet does not support import");
    return ERR_OK;
}

/* ---- RandomPet ---- */

static const char *const adjectives[] = {
    "able",   "active", "adapted", "amazing", "amused", "apt",    "bold",   "brave",
    "bright", "calm",   "clean",   "clever",  "cool",   "crisp",  "daring", "eager",
    "easy",   "epic",   "fair",    "fancy",   "fast",   "fine",   "fit",    "fond",
    "free",   "fresh",  "game",    "gentle",  "glad",   "golden", "good",   "grand",
    "happy",  "hardy",  "humble",  "ideal",   "jolly",  "keen",   "kind",   "lucky",
    "magic",  "merry",  "modest",  "neat",    "nice",   "noble",  "polite", "proud",
    "quick",  "quiet",  "rare",    "ready",   "sharp",  "smart",  "solid",  "sunny",
    "super",  "sweet",  "tidy",    "top",     "true",   "vital",  "warm",   "wise"};
static const char *const animals[] = {
    "ant",   "bass",   "bat",    "bear",  "bee",   "bird",  "bison", "boar",  "buck",
    "bull",  "calf",   "cat",    "chimp", "cobra", "colt",  "crab",  "crow",  "deer",
    "dodo",  "dog",    "dove",   "duck",  "eagle", "eel",   "elk",   "emu",   "falcon",
    "fawn",  "ferret", "finch",  "fish",  "foal",  "fox",   "frog",  "gator", "goat",
    "goose", "gull",   "hare",   "hawk",  "hen",   "heron", "horse", "ibex",  "jay",
    "koala", "lamb",   "lark",   "lion",  "llama", "lynx",  "mole",  "moose", "mouse",
    "mule",  "newt",   "otter",  "owl",   "panda", "pig",   "pony",  "puma",  "quail",
    "ram",   "raven",  "robin",  "seal",  "shark", "sheep", "snail", "swan",  "tiger",
    "toad",  "trout",  "turtle", "viper", "wasp",  "whale", "wolf",  "worm",  "yak"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static enum err_code pet_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                char **id, cJSON **out, struct err *e)
{
    long len = num(in, "length", 2);
    const char *sep = stack_prov_str(in, "separator", "-"),
               *prefix = stack_prov_str(in, "prefix", NULL);
    char name[512] = "";
    (void)t;
    (void)adopt;
    if (len < 1 || len > 20)
        return err_set(e, ERR_INVALID, "random:RandomPet: length must be 1 to 20");
    if (prefix)
        snprintf(name, sizeof(name), "%s%s", prefix, sep);
    for (long i = 0; i < len; i++) {
        const char *w = i == len - 1 ? animals[rnd_below(COUNT(animals))]
                                     : adjectives[rnd_below(COUNT(adjectives))];
        size_t n = strlen(name);
        snprintf(name + n, sizeof(name) - n, "%s%s", w, i == len - 1 ? "" : sep);
    }
    *id = xstrdup(name);
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "id", name);
    return ERR_OK;
}

static const char *const pet_inputs[] = {"length", "prefix", "separator", "keepers", NULL};
static const char *const id_out[] = {"id", NULL};

const struct stack_provider stack_provider_random_pet = {
    .type = "random:RandomPet",
    .replace_props = pet_inputs,
    .outputs = id_out,
    .inputs = pet_inputs,
    .create = pet_create,
    .update = keep_update,
    .del = no_delete,
    .read = no_read,
};

/* ---- RandomString / RandomPassword ---- */

/* A set of characters, each a whole UTF-8 sequence: overrideSpecial may hold "£", and
 * picking one byte of it would make the result invalid text (and the state unreadable). */
struct charset {
    char ch[320][5];
    unsigned n;
};

static void charset_add(struct charset *cs, const char *s)
{
    while (*s && cs->n < sizeof(cs->ch) / sizeof(cs->ch[0])) {
        unsigned char b = (unsigned char)*s;
        size_t k = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
        for (size_t i = 1; i < k; i++)
            if (((unsigned char)s[i] & 0xc0) != 0x80) {
                k = i; /* a cut sequence: as far as it goes */
                break;
            }
        memcpy(cs->ch[cs->n], s, k);
        cs->ch[cs->n][k] = 0;
        cs->n++;
        s += k;
    }
}

static enum err_code string_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                   char **id, cJSON **out, struct err *e)
{
    static const char *const sets[] = {"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz",
                                       "0123456789"};
    static const char *const use_keys[] = {"upper", "lower", "numeric"};
    static const char *const min_keys[] = {"minUpper", "minLower", "minNumeric"};
    long len = num(in, "length", -1), pos = 0;
    const char *special = stack_prov_str(in, "overrideSpecial", "!@#$%&*()-_=+[]{}<>:?");
    struct charset *all;
    size_t off = 0;
    const char **pick;
    char *s;
    (void)t;
    (void)adopt;
    if (len < 1 || len > 4096)
        return err_set(e, ERR_INVALID, "random:RandomString needs length (1 to 4096)");
    all = xcalloc(1, sizeof(*all));
    pick = xcalloc((size_t)len, sizeof(*pick));
    /* the minimums first, then any allowed character, then shuffled */
    for (int k = 0; k < 4; k++) {
        const char *set = k < 3 ? sets[k] : special;
        long min = num(in, k < 3 ? min_keys[k] : "minSpecial", 0);
        /* digits: numeric, else its deprecated alias number (the provider keeps them equal) */
        if (k < 3 && !flag(in, use_keys[k], k == 2 ? flag(in, "number", true) : true))
            continue;
        if (k == 3 && !flag(in, "special", true))
            continue;
        unsigned from = all->n;
        charset_add(all, set);
        for (long m = min; m > 0 && pos < len && all->n > from; m--)
            pick[pos++] = all->ch[from + rnd_below(all->n - from)];
    }
    if (!all->n) {
        free(all);
        free(pick);
        return err_set(e, ERR_INVALID, "random:RandomString: every character class is off");
    }
    while (pos < len)
        pick[pos++] = all->ch[rnd_below(all->n)];
    for (long i = len - 1; i > 0; i--) {
        long j = (long)rnd_below((unsigned)(i + 1));
        const char *c = pick[i];
        pick[i] = pick[j];
        pick[j] = c;
    }
    s = xcalloc((size_t)len * 4 + 1, 1);
    for (long i = 0; i < len; i++) {
        size_t k = strlen(pick[i]);
        memcpy(s + off, pick[i], k);
        off += k;
    }
    *id = xstrdup(s);
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "id", s);
    cJSON_AddStringToObject(*out, "result", s);
    free(s);
    free(all);
    free(pick);
    return ERR_OK;
}

static enum err_code password_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                     char **id, cJSON **out, struct err *e)
{
    enum err_code rc = string_create(t, in, adopt, id, out, e);
    if (rc)
        return rc;
    free(*id);
    *id = xstrdup("none"); /* as the provider: the password is not the id */
    cJSON_ReplaceItemInObject(*out, "id", cJSON_CreateString("none"));
    return ERR_OK;
}

/* Import, as the provider takes it: the id is the value itself; its length in characters,
 * every character class allowed and no minimums are the inputs it implies. */
static enum err_code string_import(const struct stack_target *t, const char *id, bool password,
                                   cJSON **out, bool *gone)
{
    static const char *const classes[] = {"special", "upper", "lower", "numeric"};
    static const char *const mins[] = {"minSpecial", "minUpper", "minLower", "minNumeric"};
    long chars = 0;
    *out = NULL;
    *gone = false;
    if (!t->importing)
        return ERR_OK;
    for (const char *p = id; *p; p++)
        chars += ((unsigned char)*p & 0xC0) != 0x80; /* UTF-8 lead bytes */
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "id", password ? "none" : id);
    cJSON_AddStringToObject(*out, "result", id);
    cJSON_AddNumberToObject(*out, "length", (double)chars);
    for (size_t i = 0; i < 4; i++) {
        cJSON_AddBoolToObject(*out, classes[i], true);
        cJSON_AddNumberToObject(*out, mins[i], 0);
    }
    cJSON_AddBoolToObject(*out, "number", true); /* numeric's deprecated alias */
    return ERR_OK;
}

static enum err_code string_read(const struct stack_target *t, const char *id, const cJSON *in,
                                 cJSON **out, bool *gone, struct err *e)
{
    (void)in;
    (void)e;
    return string_import(t, id, false, out, gone);
}

static enum err_code password_read(const struct stack_target *t, const char *id, const cJSON *in,
                                   cJSON **out, bool *gone, struct err *e)
{
    (void)in;
    (void)e;
    return string_import(t, id, true, out, gone);
}

static const char *const string_inputs[] = {
    "length",   "special",    "upper",      "lower",           "numeric", "number", "minUpper",
    "minLower", "minNumeric", "minSpecial", "overrideSpecial", "keepers", NULL};
static const char *const string_outs[] = {"id", "result", NULL};

const struct stack_provider stack_provider_random_string = {
    .type = "random:RandomString",
    .replace_props = string_inputs,
    .outputs = string_outs,
    .inputs = string_inputs,
    .create = string_create,
    .update = keep_update,
    .del = no_delete,
    .read = string_read,
};

const struct stack_provider stack_provider_random_password = {
    .type = "random:RandomPassword",
    .replace_props = string_inputs,
    .outputs = string_outs,
    .inputs = string_inputs,
    .secret_outputs = (const char *const[]){"result", "bcryptHash", NULL},
    .create = password_create,
    .update = keep_update,
    .del = no_delete,
    .read = password_read,
};

/* ---- RandomId ---- */

/* RandomId's outputs of the bytes @b (@n of them): id and b64Url, hex (after @prefix),
 * b64Std, dec (the first eight bytes as an unsigned number). */
static cJSON *id_outputs(const unsigned char *b, size_t n, const char *prefix)
{
    char hex[2100], b64[1400], url[1400], dec[80], *p, *h;
    cJSON *o = cJSON_CreateObject();
    unsigned long long v = 0;
    hex_encode(b, n, hex);
    base64_encode(b, n, b64);
    strcpy(url, b64);
    for (p = url; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    while (p > url && p[-1] == '=')
        *--p = 0;
    for (size_t i = 0; i < n && i < 8; i++)
        v = (v << 8) | b[i];
    snprintf(dec, sizeof(dec), "%llu", v);
    h = xmalloc(strlen(prefix) + strlen(hex) + 1);
    sprintf(h, "%s%s", prefix, hex);
    cJSON_AddStringToObject(o, "id", url);
    cJSON_AddStringToObject(o, "hex", h);
    cJSON_AddStringToObject(o, "b64Std", b64);
    cJSON_AddStringToObject(o, "b64Url", url);
    cJSON_AddStringToObject(o, "dec", dec);
    free(h);
    return o;
}

static enum err_code id_create(const struct stack_target *t, const cJSON *in, bool adopt, char **id,
                               cJSON **out, struct err *e)
{
    long n = num(in, "byteLength", -1);
    unsigned char b[1024];
    enum err_code rc;
    (void)t;
    (void)adopt;
    if (n < 1 || n > (long)sizeof(b))
        return err_set(e, ERR_INVALID, "random:RandomId needs byteLength (1 to 1024)");
    if ((rc = rnd(b, (size_t)n, e)))
        return rc;
    *out = id_outputs(b, (size_t)n, stack_prov_str(in, "prefix", ""));
    *id = xstrdup(stack_prov_str(*out, "id", ""));
    return ERR_OK;
}

/* Import, as the provider takes it: "B64URL" or "PREFIX,B64URL". */
static enum err_code id_read(const struct stack_target *t, const char *id, const cJSON *in,
                             cJSON **out, bool *gone, struct err *e)
{
    const char *comma = strrchr(id, ',');
    const char *url = comma ? comma + 1 : id;
    size_t len = strlen(url), n = 0;
    char *std = xmalloc(len + 4), prefix[256];
    unsigned char *b = xmalloc(len + 4);
    bool ok;
    (void)in;
    *out = NULL;
    *gone = false;
    if (!t->importing) {
        free(std);
        free(b);
        return ERR_OK;
    }
    for (size_t i = 0; i < len; i++)
        std[i] = url[i] == '-' ? '+' : url[i] == '_' ? '/' : url[i];
    while (len % 4)
        std[len++] = '=';
    std[len] = 0;
    ok = len > 0 && len < 1400 && base64_decode(std, len, b, &n) && n > 0;
    snprintf(prefix, sizeof(prefix), "%.*s", comma ? (int)(comma - id) : 0, id);
    if (ok) {
        *out = id_outputs(b, n, prefix);
        cJSON_AddNumberToObject(*out, "byteLength", (double)n);
        if (comma)
            cJSON_AddStringToObject(*out, "prefix", prefix);
    }
    free(std);
    free(b);
    return ok ? ERR_OK
              : err_set(e, ERR_INVALID,
                        "import: random:RandomId takes B64URL or PREFIX,B64URL, not '%s'", id);
}

static const char *const rid_inputs[] = {"byteLength", "prefix", "keepers", NULL};
static const char *const rid_outs[] = {"id", "hex", "b64Std", "b64Url", "dec", NULL};

const struct stack_provider stack_provider_random_id = {
    .type = "random:RandomId",
    .replace_props = rid_inputs,
    .outputs = rid_outs,
    .inputs = rid_inputs,
    .create = id_create,
    .update = keep_update,
    .del = no_delete,
    .read = id_read,
};

/* ---- RandomInteger ---- */

static enum err_code int_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                char **id, cJSON **out, struct err *e)
{
    long lo = num(in, "min", 0), hi = num(in, "max", -1), v;
    char s[40];
    (void)t;
    (void)adopt;
    if (!cJSON_IsNumber(cJSON_GetObjectItem(in, "min")) ||
        !cJSON_IsNumber(cJSON_GetObjectItem(in, "max")) || hi < lo)
        return err_set(e, ERR_INVALID, "random:RandomInteger needs min <= max");
    v = lo + (long)rnd_below((unsigned)(hi - lo + 1));
    snprintf(s, sizeof(s), "%ld", v);
    *id = xstrdup(s);
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "id", s);
    cJSON_AddNumberToObject(*out, "result", (double)v);
    return ERR_OK;
}

/* Import, as the provider takes it: "RESULT,MIN,MAX" or "RESULT,MIN,MAX,SEED". */
static enum err_code int_read(const struct stack_target *t, const char *id, const cJSON *in,
                              cJSON **out, bool *gone, struct err *e)
{
    long v, lo, hi;
    int used = 0;
    char s[40];
    (void)in;
    *out = NULL;
    *gone = false;
    if (!t->importing)
        return ERR_OK;
    if (sscanf(id, "%ld,%ld,%ld%n", &v, &lo, &hi, &used) != 3 || (id[used] && id[used] != ','))
        return err_set(e, ERR_INVALID,
                       "import: random:RandomInteger takes RESULT,MIN,MAX[,SEED], not '%s'", id);
    snprintf(s, sizeof(s), "%ld", v);
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "id", s); /* the result, as at create */
    cJSON_AddNumberToObject(*out, "result", (double)v);
    cJSON_AddNumberToObject(*out, "min", (double)lo);
    cJSON_AddNumberToObject(*out, "max", (double)hi);
    if (id[used] == ',')
        cJSON_AddStringToObject(*out, "seed", id + used + 1);
    return ERR_OK;
}

static const char *const int_inputs[] = {"min", "max", "seed", "keepers", NULL};

const struct stack_provider stack_provider_random_integer = {
    .type = "random:RandomInteger",
    .replace_props = int_inputs,
    .outputs = string_outs,
    .inputs = int_inputs,
    .create = int_create,
    .update = keep_update,
    .del = no_delete,
    .read = int_read,
};
