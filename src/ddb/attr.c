/* attr.c - see attr.h. Messages follow what DynamoDB returns for the same input. */
#include "attr.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "mem.h"
#include "num.h"

enum { ATTR_MAX_DEPTH = 32 };
/* the longest attribute name, in UTF-8 bytes */

static const char *const type_names[] = {
    [ATTR_INVALID] = "", [ATTR_S] = "S",       [ATTR_N] = "N",       [ATTR_B] = "B",
    [ATTR_SS] = "SS",    [ATTR_NS] = "NS",     [ATTR_BS] = "BS",     [ATTR_M] = "M",
    [ATTR_L] = "L",      [ATTR_NULL] = "NULL", [ATTR_BOOL] = "BOOL",
};

static enum attr_type type_from_name(const char *s)
{
    for (int t = ATTR_S; t <= ATTR_BOOL; t++)
        if (s && strcmp(s, type_names[t]) == 0)
            return (enum attr_type)t;
    return ATTR_INVALID;
}

enum attr_type attr_type_of(const cJSON *av)
{
    if (!cJSON_IsObject(av) || !av->child || av->child->next)
        return ATTR_INVALID;
    return type_from_name(av->child->string);
}

const char *attr_type_name(enum attr_type t)
{
    if ((unsigned)t > ATTR_BOOL)
        return "";
    return type_names[t];
}

const cJSON *attr_payload(const cJSON *av)
{
    return attr_type_of(av) == ATTR_INVALID ? NULL : av->child;
}

/* b64_decode - decode @s into a new buffer (owned, free()). False if malformed. */
static bool b64_decode(const char *s, unsigned char **out, size_t *n)
{
    size_t len = strlen(s);

    *out = xmalloc(len / 4 * 3 + 1);
    if (!base64_decode(s, len, *out, n)) {
        free(*out);
        *out = NULL;
        return false;
    }
    return true;
}

static bool parse_num(const char *s, struct num *n)
{
    return num_parse(s, strlen(s), n, NULL) == ERR_OK;
}

/* ---- validation ---- */

static enum err_code bad_payload(struct err *e, enum attr_type t)
{
    return err_set(e, ERR_INVALID,
                   "One or more parameter values were invalid: Invalid value for AttributeValue "
                   "of type %s",
                   attr_type_name(t));
}

/* not_text - a scalar payload given as a JSON number or boolean: DynamoDB
 * cannot read the request at all (attr.h: ATTR_SERIAL_MSG). Other shapes are
 * a bad value of the type. */
static enum err_code not_text(const cJSON *p, enum attr_type t, struct err *e)
{
    const char *k = cJSON_IsNumber(p)  ? "NUMBER_VALUE"
                    : cJSON_IsTrue(p)  ? "VALUE_TRUE"
                    : cJSON_IsFalse(p) ? "VALUE_FALSE"
                                       : NULL;

    if (!k)
        return bad_payload(e, t);
    return err_set(e, ERR_INVALID, "%s%s", k, ATTR_SERIAL_MSG);
}

static enum err_code normalize_num(cJSON *str, struct err *e)
{
    struct num n;
    struct buf b;
    enum err_code rc;

    rc = num_parse(str->valuestring, strlen(str->valuestring), &n, e);
    if (rc)
        return rc;
    buf_init(&b, 0);
    rc = num_format(&n, &b);
    if (rc == ERR_OK && strcmp(b.ptr, str->valuestring) != 0)
        cJSON_SetValuestring(str, b.ptr);
    buf_free(&b);
    if (rc)
        return err_set(e, rc, "cannot format number");
    return ERR_OK;
}

/* set_duplicates - DynamoDB's refusal of @set (of type @t) holding a member
 * twice; a binary set's names its type, with no space before "of". */
static enum err_code set_duplicates(const cJSON *set, enum attr_type t, struct err *e)
{
    struct buf b;
    const cJSON *m;

    buf_init(&b, 200);
    for (m = set->child; m; m = m->next)
        if (buf_printf(&b, "%s%s", m == set->child ? "" : ", ", m->valuestring))
            break;
    err_set(e, ERR_INVALID,
            "One or more parameter values were invalid: Input collection [%s]%s contains "
            "duplicates.",
            b.ptr ? b.ptr : "", t == ATTR_BS ? "of type BS" : "");
    buf_free(&b);
    return ERR_INVALID;
}

static enum err_code validate_set(cJSON *set, enum attr_type t, struct err *e)
{
    enum attr_type mt = t == ATTR_SS ? ATTR_S : t == ATTR_NS ? ATTR_N : ATTR_B;
    cJSON *m;
    enum err_code rc;

    if (!cJSON_IsArray(set))
        return bad_payload(e, t);
    if (!set->child) {
        if (t == ATTR_SS)
            return err_set(e, ERR_INVALID,
                           "One or more parameter values were invalid: An string set  may not be "
                           "empty");
        if (t == ATTR_NS)
            return err_set(e, ERR_INVALID,
                           "One or more parameter values were invalid: An number set  may not be "
                           "empty");
        return err_set(e, ERR_INVALID,
                       "One or more parameter values were invalid: Binary sets should not be "
                       "empty");
    }
    for (m = set->child; m; m = m->next) {
        if (!cJSON_IsString(m))
            return bad_payload(e, t);
        if (mt == ATTR_N) {
            rc = normalize_num(m, e);
            if (rc)
                return rc;
        } else if (mt == ATTR_B) {
            unsigned char *d;
            size_t n;
            if (!b64_decode(m->valuestring, &d, &n))
                return bad_payload(e, t);
            free(d);
        }
    }
    /* Sets are small in practice (an item is at most 400 KB), so a quadratic
     * scan is fine. NS members are canonical now, so text equality is numeric. */
    for (m = set->child; m; m = m->next)
        for (const cJSON *o = m->next; o; o = o->next) {
            bool dup;
            if (mt == ATTR_B) {
                unsigned char *x, *y;
                size_t nx, ny;
                b64_decode(m->valuestring, &x, &nx);
                b64_decode(o->valuestring, &y, &ny);
                dup = nx == ny && memcmp(x, y, nx) == 0;
                free(x);
                free(y);
            } else {
                dup = strcmp(m->valuestring, o->valuestring) == 0;
            }
            if (dup)
                return set_duplicates(set, t, e);
        }
    return ERR_OK;
}

static enum err_code validate(cJSON *av, int depth, struct err *e)
{
    cJSON *m, *next, *p = NULL;
    int known = 0;
    enum attr_type t = ATTR_INVALID;
    enum err_code rc;

    if (depth > ATTR_MAX_DEPTH)
        return err_set(e, ERR_INVALID,
                       "One or more parameter values were invalid: Nesting Levels have exceeded "
                       "supported limits");
    if (!cJSON_IsObject(av))
        return err_set(e, ERR_INVALID,
                       "Supplied AttributeValue is empty, must contain exactly one of the "
                       "supported datatypes");
    /* Unknown members and JSON nulls are what an SDK would leave unset: drop
     * them, so the stored form has exactly one member. */
    for (m = av->child; m; m = next) {
        enum attr_type mt = type_from_name(m->string);
        next = m->next;
        if (mt == ATTR_INVALID || cJSON_IsNull(m)) {
            cJSON_Delete(cJSON_DetachItemViaPointer(av, m));
            continue;
        }
        known++;
        t = mt;
        p = m;
    }
    if (known == 0)
        return err_set(e, ERR_INVALID,
                       "Supplied AttributeValue is empty, must contain exactly one of the "
                       "supported datatypes");
    if (known > 1)
        return err_set(e, ERR_INVALID,
                       "Supplied AttributeValue has more than one datatypes set, must contain "
                       "exactly one of the supported datatypes");
    switch (t) {
    case ATTR_S:
        return cJSON_IsString(p) ? ERR_OK : not_text(p, t, e);
    case ATTR_N:
        if (!cJSON_IsString(p))
            return not_text(p, t, e);
        return normalize_num(p, e);
    case ATTR_B: {
        unsigned char *d;
        size_t n;
        if (!cJSON_IsString(p))
            return not_text(p, t, e);
        if (!b64_decode(p->valuestring, &d, &n))
            return bad_payload(e, t);
        free(d);
        return ERR_OK;
    }
    case ATTR_SS:
    case ATTR_NS:
    case ATTR_BS:
        return validate_set(p, t, e);
    case ATTR_M:
        if (!cJSON_IsObject(p))
            return bad_payload(e, t);
        for (m = p->child; m; m = m->next) {
            rc = validate(m, depth + 1, e);
            if (rc)
                return rc;
        }
        return ERR_OK;
    case ATTR_L:
        if (!cJSON_IsArray(p))
            return bad_payload(e, t);
        for (m = p->child; m; m = m->next) {
            rc = validate(m, depth + 1, e);
            if (rc)
                return rc;
        }
        return ERR_OK;
    case ATTR_NULL:
        /* DynamoDB takes {"NULL": false} as a NULL since June 2026 (it refused
         * it before): the value reads back {"NULL": true} */
        if (cJSON_IsFalse(p))
            cJSON_ReplaceItemInObjectCaseSensitive(av, "NULL", cJSON_CreateTrue());
        else if (!cJSON_IsTrue(p))
            return err_set(e, ERR_INVALID,
                           "One or more parameter values were invalid: Null attribute value types "
                           "must have the value of true");
        return ERR_OK;
    case ATTR_BOOL:
        return cJSON_IsBool(p) ? ERR_OK : bad_payload(e, t);
    case ATTR_INVALID:
        break;
    }
    return err_set(e, ERR_INTERNAL, "unreachable attribute type");
}

enum err_code attr_validate(cJSON *av, struct err *e)
{
    return validate(av, 1, e);
}

enum err_code attr_validate_item(cJSON *item, struct err *e)
{
    enum err_code rc;

    if (!cJSON_IsObject(item))
        return err_set(e, ERR_INVALID,
                       "One or more parameter values were invalid: Item is not a map");
    for (cJSON *m = item->child; m; m = m->next) {
        if (strlen(m->string) > ATTR_NAME_MAX)
            return err_set(e, ERR_INVALID,
                           "One or more parameter values were invalid: " ATTR_NAME_TOO_LONG);
        rc = attr_validate(m, e);
        if (rc)
            return rc;
    }
    return ERR_OK;
}

/* ---- size ---- */

size_t attr_str_len(const char *s)
{
    /* One pass, no string search per C0 80: a search that checks the whole
     * rest of the string (as ASan's strict_string_checks does for strchr)
     * made a 400 KB string of U+0000 take minutes. */
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;

    for (; *p; p++, n++)
        if (p[0] == 0xC0 && p[1] == 0x80)
            p++;
    return n;
}

size_t attr_str_bytes(const char *s, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] == 0xC0 && i + 1 < n && (unsigned char)s[i + 1] == 0x80) {
            out[o++] = '\0';
            i++;
        } else {
            out[o++] = s[i];
        }
    }
    return o;
}

static size_t b64_len(const char *s)
{
    size_t len = strlen(s), n;

    if (len < 4)
        return 0;
    n = len / 4 * 3;
    if (s[len - 1] == '=')
        n--;
    if (s[len - 2] == '=')
        n--;
    return n;
}

/* num_size - what a number costs, as DynamoDB measures it against 400 KB
 * (nubo-db/dynamodb-conformance, captured 2026-08-18): one byte, plus half
 * the significant digits before the point and half those after it, each half
 * rounded up, plus one for a minus sign. Digits straddling the point cost a
 * byte more than the documented "one byte per two digits" (3.14159 is 5);
 * the exponent costs nothing (1E125 is 2). */
static size_t num_size(const char *s)
{
    struct num n;
    unsigned whole, frac;

    if (!parse_num(s, &n))
        return strlen(s);
    if (n.sign == 0)
        return 1;
    whole = n.exp <= 0 ? 0 : (unsigned)n.exp < n.ndigits ? (unsigned)n.exp : n.ndigits;
    frac = n.ndigits - whole;
    return 1 + (whole + 1) / 2 + (frac + 1) / 2 + (n.sign < 0);
}

size_t attr_size(const char *name, const cJSON *av)
{
    size_t sz = name ? attr_str_len(name) : 0;
    const cJSON *p = attr_payload(av), *m;

    if (!p)
        return sz;
    switch (attr_type_of(av)) {
    case ATTR_S:
        return sz + attr_str_len(p->valuestring);
    case ATTR_N:
        return sz + num_size(p->valuestring);
    case ATTR_B:
        return sz + b64_len(p->valuestring);
    case ATTR_SS:
        for (m = p->child; m; m = m->next)
            sz += attr_str_len(m->valuestring);
        return sz;
    case ATTR_NS:
        for (m = p->child; m; m = m->next)
            sz += num_size(m->valuestring);
        return sz;
    case ATTR_BS:
        for (m = p->child; m; m = m->next)
            sz += b64_len(m->valuestring);
        return sz;
    case ATTR_M:
        sz += 3;
        for (m = p->child; m; m = m->next)
            sz += attr_size(m->string, m) + 1;
        return sz;
    case ATTR_L:
        sz += 3;
        for (m = p->child; m; m = m->next)
            sz += attr_size(NULL, m) + 1;
        return sz;
    case ATTR_NULL:
    case ATTR_BOOL:
        return sz + 1;
    case ATTR_INVALID:
        break;
    }
    return sz;
}

size_t attr_item_size(const cJSON *item)
{
    size_t sz = 0;

    if (!cJSON_IsObject(item))
        return 0;
    for (const cJSON *m = item->child; m; m = m->next)
        sz += attr_size(m->string, m);
    return sz;
}

/* ---- equality and order ---- */

static int bytes_cmp(const unsigned char *a, size_t na, const unsigned char *b, size_t nb)
{
    int c = memcmp(a, b, na < nb ? na : nb);

    if (c)
        return c;
    return na < nb ? -1 : na > nb ? 1 : 0;
}

/* str_cmp - UTF-8 byte order of two strings held with U+0000 as C0 80:
 * that pair compares as 0x00 unless @nul_high. */
static int str_cmp(const char *a, const char *b, bool nul_high)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

    for (;;) {
        unsigned cx = *x, cy = *y;

        if (!nul_high && cx == 0xC0 && x[1] == 0x80)
            cx = 0, x++;
        else if (!cx)
            cx = 0x100; /* the end: before everything, even U+0000 */
        if (!nul_high && cy == 0xC0 && y[1] == 0x80)
            cy = 0, y++;
        else if (!cy)
            cy = 0x100;
        if (cx == 0x100 || cy == 0x100)
            return cx == cy ? 0 : cx == 0x100 ? -1 : 1;
        if (cx != cy)
            return cx < cy ? -1 : 1;
        x++;
        y++;
    }
}

/* scalar_cmp - compare two payload strings of scalar type @t. *@ok false on bad input. */
static int scalar_cmp(enum attr_type t, const char *a, const char *b, bool nul_high, bool *ok)
{
    *ok = true;
    if (t == ATTR_S)
        return str_cmp(a, b, nul_high);
    if (t == ATTR_N) {
        struct num x, y;
        if (!parse_num(a, &x) || !parse_num(b, &y)) {
            *ok = false;
            return 0;
        }
        int c = num_cmp(&x, &y);
        return c < 0 ? -1 : c > 0;
    }
    if (t == ATTR_B) {
        unsigned char *x = NULL, *y = NULL;
        size_t nx = 0, ny = 0;
        int c = 0;
        if (b64_decode(a, &x, &nx) && b64_decode(b, &y, &ny))
            c = bytes_cmp(x, nx, y, ny);
        else
            *ok = false;
        free(x);
        free(y);
        return c;
    }
    *ok = false;
    return 0;
}

static bool set_has(const cJSON *set, enum attr_type mt, const char *v)
{
    bool ok;

    for (const cJSON *m = set->child; m; m = m->next)
        if (cJSON_IsString(m) && scalar_cmp(mt, m->valuestring, v, false, &ok) == 0 && ok)
            return true;
    return false;
}

bool attr_equal(const cJSON *a, const cJSON *b)
{
    enum attr_type t = attr_type_of(a);
    const cJSON *pa, *pb, *m, *o;
    bool ok;

    if (t == ATTR_INVALID || t != attr_type_of(b))
        return false;
    pa = a->child;
    pb = b->child;
    switch (t) {
    case ATTR_S:
    case ATTR_N:
    case ATTR_B:
        if (!cJSON_IsString(pa) || !cJSON_IsString(pb))
            return false;
        return scalar_cmp(t, pa->valuestring, pb->valuestring, false, &ok) == 0 && ok;
    case ATTR_SS:
    case ATTR_NS:
    case ATTR_BS: {
        enum attr_type mt = t == ATTR_SS ? ATTR_S : t == ATTR_NS ? ATTR_N : ATTR_B;
        if (cJSON_GetArraySize(pa) != cJSON_GetArraySize(pb))
            return false;
        for (m = pa->child; m; m = m->next)
            if (!cJSON_IsString(m) || !set_has(pb, mt, m->valuestring))
                return false;
        return true;
    }
    case ATTR_M:
        if (cJSON_GetArraySize(pa) != cJSON_GetArraySize(pb))
            return false;
        for (m = pa->child; m; m = m->next) {
            o = cJSON_GetObjectItemCaseSensitive(pb, m->string);
            if (!o || !attr_equal(m, o))
                return false;
        }
        return true;
    case ATTR_L:
        for (m = pa->child, o = pb->child; m && o; m = m->next, o = o->next)
            if (!attr_equal(m, o))
                return false;
        return !m && !o;
    case ATTR_NULL:
        return true;
    case ATTR_BOOL:
        return cJSON_IsTrue(pa) == cJSON_IsTrue(pb);
    case ATTR_INVALID:
        break;
    }
    return false;
}

static int compare(const cJSON *a, const cJSON *b, bool nul_high, bool *ok)
{
    enum attr_type t = attr_type_of(a);
    int c;

    *ok = false;
    if (t != attr_type_of(b) || (t != ATTR_S && t != ATTR_N && t != ATTR_B))
        return 0;
    if (!cJSON_IsString(a->child) || !cJSON_IsString(b->child))
        return 0;
    c = scalar_cmp(t, a->child->valuestring, b->child->valuestring, nul_high, ok);
    return *ok ? c : 0;
}

int attr_compare(const cJSON *a, const cJSON *b, bool *ok)
{
    return compare(a, b, false, ok);
}

int attr_compare_nul_high(const cJSON *a, const cJSON *b, bool *ok)
{
    return compare(a, b, true, ok);
}
