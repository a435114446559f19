/* notify.c - event notifications to Lambda functions, as S3 sends them:
 * Put/GetBucketNotificationConfiguration (?notification) and the recording of
 * the events of a write (notify_send.c delivers them).
 *
 * A configuration is validated as S3 does (known events, at most one prefix
 * and one suffix rule, no two configurations sharing an event type over
 * overlapping keys, every destination a function of this region whose
 * resource policy lets s3.amazonaws.com invoke it) and kept in the bucket's
 * record as "ntf": [{"id", "arn", "ev": [events], "pre", "suf"}]. This region
 * has no SNS, SQS or EventBridge: a topic, queue or EventBridge destination
 * fails the destination validation.
 *
 * An acknowledged write that matches a configuration records its event in the
 * same store commit as the write: 'N' seq(8 BE) -> {"arn", "ev" (the event
 * JSON text), "n" (attempts made), "at" (next attempt, ms)}. So a write is
 * acknowledged only with its notification durable, and a crash between the
 * write and the delivery loses nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "s3_int.h"
#include "s3_xml.h"

static const char *const events[] = {"s3:ReducedRedundancyLostObject",
                                     "s3:ObjectCreated:*",
                                     "s3:ObjectCreated:Put",
                                     "s3:ObjectCreated:Post",
                                     "s3:ObjectCreated:Copy",
                                     "s3:ObjectCreated:CompleteMultipartUpload",
                                     "s3:ObjectRemoved:*",
                                     "s3:ObjectRemoved:Delete",
                                     "s3:ObjectRemoved:DeleteMarkerCreated",
                                     "s3:ObjectRestore:*",
                                     "s3:ObjectRestore:Post",
                                     "s3:ObjectRestore:Completed",
                                     "s3:ObjectRestore:Delete",
                                     "s3:Replication:*",
                                     "s3:Replication:OperationFailedReplication",
                                     "s3:Replication:OperationNotTracked",
                                     "s3:Replication:OperationMissedThreshold",
                                     "s3:Replication:OperationReplicatedAfterThreshold",
                                     "s3:LifecycleTransition",
                                     "s3:IntelligentTiering",
                                     "s3:ObjectAcl:Put",
                                     "s3:LifecycleExpiration:*",
                                     "s3:LifecycleExpiration:Delete",
                                     "s3:LifecycleExpiration:DeleteMarkerCreated",
                                     "s3:ObjectTagging:*",
                                     "s3:ObjectTagging:Put",
                                     "s3:ObjectTagging:Delete",
                                     NULL};

static bool event_known(const char *ev)
{
    for (int i = 0; events[i]; i++)
        if (strcmp(events[i], ev) == 0)
            return true;
    return false;
}

/* event_covers - configured event @cfg ("s3:ObjectCreated:*") selects @name
 * ("ObjectCreated:Put", without "s3:") */
static bool event_covers(const char *cfg, const char *name)
{
    size_t n = strlen(cfg);

    if (strncmp(cfg, "s3:", 3) != 0)
        return false;
    cfg += 3;
    n -= 3;
    if (n >= 2 && strcmp(cfg + n - 2, ":*") == 0)
        return strncmp(cfg, name, n - 1) == 0;
    return strcmp(cfg, name) == 0;
}

/* events_share - two configured events select a common event type */
static bool events_share(const char *a, const char *b)
{
    return strcmp(a, b) == 0 || event_covers(a, b + 3) || event_covers(b, a + 3);
}

/* one of the two is a prefix (@suffix: a suffix) of the other, or empty */
static bool affix_overlap(const char *a, const char *b, bool suffix)
{
    size_t la = a ? strlen(a) : 0, lb = b ? strlen(b) : 0, n = la < lb ? la : lb;

    if (!n)
        return true;
    return suffix ? strcmp(a + la - n, b + lb - n) == 0 : strncmp(a, b, n) == 0;
}

static const char *jstr(const cJSON *o, const char *name)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
}

/* configs_overlap - two configurations would both take some event of some key */
static bool configs_overlap(const cJSON *a, const cJSON *b)
{
    const cJSON *x, *y;

    if (!affix_overlap(jstr(a, "pre"), jstr(b, "pre"), false) ||
        !affix_overlap(jstr(a, "suf"), jstr(b, "suf"), true))
        return false;
    cJSON_ArrayForEach(x, cJSON_GetObjectItem(a, "ev"))
    {
        cJSON_ArrayForEach(y, cJSON_GetObjectItem(b, "ev"))
        {
            if (events_share(x->valuestring, y->valuestring))
                return true;
        }
    }
    return false;
}

/* ---- PutBucketNotificationConfiguration ---- */

struct parse {
    struct http_req *r;
    cJSON *cfgs;        /* the configurations read */
    const char *bad[8]; /* destinations that fail validation: ARN, reason */
    int nbad;
};

/* filter - the Filter of a configuration into @c; false after answering */
static bool filter(struct parse *p, const struct s3_xml *f, cJSON *c)
{
    const struct s3_xml *k = s3_xml_child(f, "S3Key"), *n;

    if (f && (!k || f->child != k || k->next)) {
        s3_error(p->r, S3E_MALFORMED_XML, NULL);
        return false;
    }
    for (n = k ? k->child : NULL; n; n = n->next) {
        const char *name = s3_xml_text(n, "Name"), *value = s3_xml_text(n, "Value");
        const char *field;
        if (strcmp(n->name, "FilterRule") != 0 || !name || !value) {
            s3_error(p->r, S3E_MALFORMED_XML, NULL);
            return false;
        }
        if (strcasecmp(name, "prefix") != 0 && strcasecmp(name, "suffix") != 0) {
            s3_error_arg(p->r, S3E_INVALID_ARGUMENT,
                         "filter rule name must be either prefix or suffix", "FilterRule.Name",
                         name);
            return false;
        }
        field = strcasecmp(name, "prefix") == 0 ? "pre" : "suf";
        if (cJSON_GetObjectItem(c, field)) {
            s3_error_arg(p->r, S3E_INVALID_ARGUMENT,
                         arena_sprintf(p->r->arena,
                                       "Cannot specify more than one %s rule in a filter.",
                                       *field == 'p' ? "prefix" : "suffix"),
                         "FilterRule.Name", name);
            return false;
        }
        if (strlen(value) > 1024) {
            s3_error_arg(p->r, S3E_INVALID_ARGUMENT, "The filter rule value is too long.",
                         "FilterRule.Value", value);
            return false;
        }
        cJSON_AddStringToObject(c, field, value);
    }
    return true;
}

/* function_config - one CloudFunctionConfiguration; false after answering */
static bool function_config(struct parse *p, const struct s3_xml *x)
{
    const char *id = s3_xml_text(x, "Id"), *arn = s3_xml_text(x, "CloudFunction");
    const struct s3_xml *n;
    cJSON *c = cJSON_CreateObject(), *ev = cJSON_AddArrayToObject(c, "ev");
    char made[33];

    cJSON_AddItemToArray(p->cfgs, c);
    if (!arn || !*arn) {
        s3_error(p->r, S3E_MALFORMED_XML, NULL);
        return false;
    }
    if (!id || !*id) { /* S3 names a configuration given no Id */
        s3_new_id(made);
        id = made;
    }
    if (strlen(id) > 255) {
        s3_error_arg(p->r, S3E_INVALID_ARGUMENT, "The ID must be at most 255 characters long.",
                     "Id", id);
        return false;
    }
    cJSON_AddStringToObject(c, "id", id);
    cJSON_AddStringToObject(c, "arn", arn);
    for (n = x->child; n; n = n->next) {
        if (strcmp(n->name, "Event") == 0) {
            if (!event_known(n->text)) {
                s3_error_arg(p->r, S3E_INVALID_ARGUMENT,
                             "The event is not supported for notifications", "Event", n->text);
                return false;
            }
            cJSON_AddItemToArray(ev, cJSON_CreateString(n->text));
        } else if (strcmp(n->name, "Filter") == 0) {
            if (!filter(p, n, c))
                return false;
        } else if (strcmp(n->name, "Id") != 0 && strcmp(n->name, "CloudFunction") != 0 &&
                   strcmp(n->name, "InvocationRole") != 0) {
            s3_error(p->r, S3E_MALFORMED_XML, NULL);
            return false;
        }
    }
    if (!cJSON_GetArraySize(ev)) {
        s3_error(p->r, S3E_MALFORMED_XML, NULL);
        return false;
    }
    return true;
}

/* destination - a destination this region cannot deliver to (SNS, SQS,
 * EventBridge), or a function S3 may not invoke: kept for the refusal */
static void destination_bad(struct parse *p, const char *arn, const char *why)
{
    if (p->nbad < 4) {
        p->bad[2 * p->nbad] = arn;
        p->bad[2 * p->nbad + 1] = why;
        p->nbad++;
    }
}

static bool parse_config(struct parse *p, const struct s3_xml *root)
{
    const struct s3_xml *n;
    const cJSON *a, *b;

    for (n = root->child; n; n = n->next) {
        if (strcmp(n->name, "CloudFunctionConfiguration") == 0) {
            if (!function_config(p, n))
                return false;
        } else if (strcmp(n->name, "TopicConfiguration") == 0 ||
                   strcmp(n->name, "QueueConfiguration") == 0) {
            const char *arn = s3_xml_text(n, n->name[0] == 'T' ? "Topic" : "Queue");
            if (!arn || !s3_xml_child(n, "Event")) {
                s3_error(p->r, S3E_MALFORMED_XML, NULL);
                return false;
            }
            destination_bad(p, arn,
                            arena_sprintf(p->r->arena, "This region has no %s: %s",
                                          n->name[0] == 'T' ? "SNS topics" : "SQS queues", arn));
        } else if (strcmp(n->name, "EventBridgeConfiguration") == 0) {
            destination_bad(p, "EventBridgeConfiguration", "This region has no EventBridge");
        } else {
            s3_error(p->r, S3E_MALFORMED_XML, NULL);
            return false;
        }
    }
    cJSON_ArrayForEach(a, p->cfgs)
    {
        for (b = a->next; b; b = b->next) {
            if (strcmp(jstr(a, "id"), jstr(b, "id")) == 0) {
                s3_error_arg(p->r, S3E_INVALID_ARGUMENT,
                             "Same ID used for multiple configurations.", "Id", jstr(a, "id"));
                return false;
            }
            if (configs_overlap(a, b)) {
                s3_error(p->r, S3E_INVALID_ARGUMENT,
                         "Configurations overlap. Configurations on the same bucket cannot share "
                         "a common event type.");
                return false;
            }
        }
    }
    return true;
}

struct ntfw {
    struct s3_w w;
    char *json; /* the configurations, NULL: none */
};

static enum err_code ntf_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct ntfw *nw = arg;
    struct s3_req *q = s3_req_of(nw->w.r);
    cJSON *b = s3_bucket_get(t, nw->w.r->arena, q->bucket);
    enum err_code rc;
    char *s;

    if (!b) {
        nw->w.fail = S3E_NO_SUCH_BUCKET;
        return ERR_CONFLICT;
    }
    cJSON_DeleteItemFromObject(b, "ntf");
    if (nw->json)
        cJSON_AddItemToObject(b, "ntf", cJSON_Parse(nw->json));
    s = cJSON_PrintUnformatted(b);
    rc = store_put(t, STORE_DB_S3, s3_key_bucket(nw->w.r->arena, q->bucket), slice_str(s), e);
    free(s);
    cJSON_Delete(b);
    return rc;
}

static void ntf_ok(struct s3_w *w)
{
    s3_ok(w->r, 200, NULL);
}

static void put_config(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    const char *skip = http_req_header(r, "x-amz-skip-destination-validation");
    struct parse p = {.r = r};
    struct s3_xml *x;
    struct err e = {0};
    struct ntfw *nw;
    const struct s3_invoker *inv = s3_notify_invoker(q->s3);
    const cJSON *c;

    if (!s3_allow(r, "s3:PutBucketNotification", q->bucket, NULL))
        return;
    if (s3_xml_parse(r->arena, r->body.ptr, r->body.len, &x, &e) ||
        strcmp(x->name, "NotificationConfiguration") != 0) {
        s3_error(r, S3E_MALFORMED_XML, NULL);
        return;
    }
    p.cfgs = cJSON_CreateArray();
    arena_on_free(r->arena, s3_json_free, p.cfgs);
    if (!parse_config(&p, x))
        return;
    cJSON_ArrayForEach(c, p.cfgs)
    {
        char why[256] = "";
        if (skip && strcasecmp(skip, "true") == 0)
            break;
        if (!inv ||
            !inv->may_invoke(inv->ud, jstr(c, "arn"), q->bucket, q->s3->account, why, sizeof(why)))
            destination_bad(&p, jstr(c, "arn"),
                            arena_strdup(r->arena, why[0] ? why : "Not authorized to invoke"));
    }
    if (p.nbad) {
        /* S3 names each destination and why, as ArgumentNameN / ArgumentValueN */
        const char *pairs[16];
        for (int i = 0; i < p.nbad; i++) {
            pairs[4 * i] = arena_sprintf(r->arena, "ArgumentName%d", i + 1);
            pairs[4 * i + 1] = p.bad[2 * i];
            pairs[4 * i + 2] = arena_sprintf(r->arena, "ArgumentValue%d", i + 1);
            pairs[4 * i + 3] = p.bad[2 * i + 1];
        }
        s3_error_elems(r, S3E_INVALID_ARGUMENT,
                       "Unable to validate the following destination configurations", pairs,
                       (size_t)p.nbad * 2);
        return;
    }
    nw = arena_calloc(r->arena, sizeof(*nw));
    if (cJSON_GetArraySize(p.cfgs)) {
        char *s = cJSON_PrintUnformatted(p.cfgs);
        nw->json = arena_strdup(r->arena, s);
        free(s);
    }
    nw->w.r = r;
    nw->w.apply = ntf_apply;
    nw->w.ok = ntf_ok;
    s3_submit(&nw->w);
}

/* ---- GetBucketNotificationConfiguration ---- */

static void get_config(struct http_req *r, const cJSON *bucket)
{
    struct s3_req *q = s3_req_of(r);
    const cJSON *c, *ev;
    struct buf b;

    if (!s3_allow(r, "s3:GetBucketNotification", q->bucket, NULL))
        return;
    s3_xml_start(&b, "NotificationConfiguration");
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(bucket, "ntf"))
    {
        buf_puts(&b, "<CloudFunctionConfiguration>");
        xmlw_elem(&b, "Id", jstr(c, "id"), XMLW_CTRL);
        xmlw_elem(&b, "CloudFunction", jstr(c, "arn"), XMLW_CTRL);
        cJSON_ArrayForEach(ev, cJSON_GetObjectItem(c, "ev"))
            xmlw_elem(&b, "Event", ev->valuestring, XMLW_CTRL);
        if (jstr(c, "pre") || jstr(c, "suf")) {
            buf_puts(&b, "<Filter><S3Key>");
            for (int i = 0; i < 2; i++) {
                const char *v = jstr(c, i ? "suf" : "pre");
                if (!v)
                    continue;
                buf_puts(&b,
                         i ? "<FilterRule><Name>Suffix</Name>" : "<FilterRule><Name>Prefix</Name>");
                xmlw_elem(&b, "Value", v, XMLW_CTRL);
                buf_puts(&b, "</FilterRule>");
            }
            buf_puts(&b, "</S3Key></Filter>");
        }
        buf_puts(&b, "</CloudFunctionConfiguration>");
    }
    buf_puts(&b, "</NotificationConfiguration>");
    s3_ok(r, 200, &b);
}

void s3_notify_config(struct http_req *r)
{
    cJSON *b = s3_bucket_or_404(r);

    if (!b)
        return;
    if (strcmp(r->method, "GET") == 0)
        get_config(r, b);
    else if (strcmp(r->method, "PUT") == 0)
        put_config(r);
    else
        s3_error(r, S3E_METHOD_NOT_ALLOWED, NULL);
}

/* ---- recording events ---- */

/* record - the events of @name ("ObjectCreated:Put") on @key that @bucket's
 * configurations select, as pending deliveries in @t */
static enum err_code record(struct store_txn *t, struct s3_newver *nv, const cJSON *bucket,
                            const char *name, const char *vid, const cJSON *v, struct err *e)
{
    struct http_req *r = nv->r;
    struct s3_req *q = s3_req_of(r);
    const cJSON *c, *ev;
    enum err_code rc = ERR_OK;

    cJSON_ArrayForEach(c, cJSON_GetObjectItem(bucket, "ntf"))
    {
        const char *pre = jstr(c, "pre"), *suf = jstr(c, "suf");
        size_t kl = strlen(nv->key);
        bool hit = false;
        cJSON_ArrayForEach(ev, cJSON_GetObjectItem(c, "ev")) hit =
            hit || event_covers(ev->valuestring, name);
        if (!hit || (pre && strncmp(nv->key, pre, strlen(pre)) != 0) ||
            (suf && (strlen(suf) > kl || strcmp(nv->key + kl - strlen(suf), suf) != 0)))
            continue;
        uint64_t seq;
        if ((rc = store_next_id(t, &seq, e)))
            return rc;
        struct s3_event_args a = {.region = q->s3->region,
                                  .account = q->s3->account,
                                  .name = name,
                                  .who = q->anonymous ? NULL : &q->who,
                                  .ip = r->remote_addr,
                                  .request_id = q->request_id,
                                  .config_id = jstr(c, "id"),
                                  .bucket = nv->bucket,
                                  .key = nv->key,
                                  .vid = nv->versioned ? vid : NULL,
                                  .version = v,
                                  .seq = seq};
        if ((rc = s3_notify_queue(t, jstr(c, "arn"), &a, e)))
            return rc;
        atomic_store(&q->s3->ntf_fresh, true);
    }
    return rc;
}

enum err_code s3_notify_created(struct store_txn *t, struct s3_newver *nv, const cJSON *bucket,
                                struct err *e)
{
    const char *name;

    if (!cJSON_GetObjectItem(bucket, "ntf"))
        return ERR_OK;
    if (json_true_ci(nv->rec, "dm"))
        name = s3_req_of(nv->r)->internal ? "LifecycleExpiration:DeleteMarkerCreated"
                                          : "ObjectRemoved:DeleteMarkerCreated";
    else if (nv->upload_id)
        name = "ObjectCreated:CompleteMultipartUpload";
    else if (nv->kind == 1)
        name = "ObjectCreated:Copy";
    else if (s3_req_of(nv->r)->post_status)
        name = "ObjectCreated:Post";
    else
        name = "ObjectCreated:Put";
    return record(t, nv, bucket, name, nv->vid, json_true_ci(nv->rec, "dm") ? NULL : nv->rec, e);
}

enum err_code s3_notify_removed(struct store_txn *t, struct s3_newver *nv, const char *vid,
                                struct err *e)
{
    cJSON *b = s3_bucket_get(t, nv->r->arena, nv->bucket);
    enum err_code rc = ERR_OK;

    if (b && cJSON_GetObjectItem(b, "ntf"))
        rc = record(t, nv, b,
                    s3_req_of(nv->r)->internal ? "LifecycleExpiration:Delete"
                                               : "ObjectRemoved:Delete",
                    vid, NULL, e);
    cJSON_Delete(b);
    return rc;
}
