/* life.c - opening and closing the identity service. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "clock.h"
#include "iam_int.h"
#include "jobs.h"
#include "log.h"
#include "mem.h"

static void load_key(cJSON *doc, void *arg)
{
    struct iam *iam = arg;
    struct creds_identity id;

    if (strcmp(iam_jstr(doc, "Status"), "Inactive") == 0)
        return; /* an inactive access key authenticates nothing */
    iam_creds_of(iam, doc, &id);
    if (id.expires && id.expires <= (int64_t)clock_wall_s())
        return; /* expired STS credentials */
    if (creds_add(iam->creds, &id, NULL) != ERR_OK)
        log_warn("event=iam_key_skipped key=%s", id.access_key);
}

enum err_code iam_open(const struct iam_opts *o, struct iam **out, struct err *e)
{
    struct iam *iam;
    enum err_code rc;

    *out = NULL;
    if (!o->store || !o->creds || !o->region || !o->account || strlen(o->region) >= 32 ||
        strlen(o->account) != 12)
        return err_set(e, ERR_INVALID, "iam_open: store, creds, region and account are required");
    if (o->home && strlen(o->home) >= 32)
        return err_set(e, ERR_INVALID, "iam_open: home region name too long");
    if (o->home && *o->home && strcmp(o->home, o->region) != 0 &&
        (!o->home_url || !*o->home_url || !o->access_key || !o->secret))
        return err_set(e, ERR_INVALID,
                       "the home region of identity %s is not a peer of this region: pass "
                       "--peer %s=URL",
                       o->home, o->home);
    iam = xcalloc(1, sizeof(*iam));
    iam->store = o->store;
    iam->creds = o->creds;
    snprintf(iam->region, sizeof(iam->region), "%s", o->region);
    snprintf(iam->account, sizeof(iam->account), "%s", o->account);
    iam->sts_min_duration = o->sts_min_duration > 0 ? o->sts_min_duration : 900;
    iam->oidc_ca_file = o->oidc_ca_file ? xstrdup(o->oidc_ca_file) : NULL;
    iam->home = !o->home || !*o->home || strcmp(o->home, o->region) == 0;
    snprintf(iam->home_region, sizeof(iam->home_region), "%s", iam->home ? o->region : o->home);
    if (!iam->home) {
        iam->jobs = jobs_new("iam-home", 8, 256);
        iam->home_url = xstrdup(o->home_url);
        iam->access_key = xstrdup(o->access_key);
        iam->secret = xstrdup(o->secret);
    } else {
        iam->webid_jobs = jobs_new("sts-webid", o->webid_workers ? o->webid_workers : 4,
                                   o->webid_queue ? o->webid_queue : 128);
    }
    iam->local_sessions = cJSON_CreateObject();
    iam->pending_sessions = cJSON_CreateArray();
    pthread_mutex_init(&iam->mu, NULL);
    pthread_cond_init(&iam->cv, NULL);
    pthread_mutex_init(&iam->cache_mu, NULL);
    rc = iam_doc_each(iam, "key", load_key, iam, e);
    if (rc == ERR_OK)
        rc = iam_doc_each(iam, "session", load_key, iam, e);
    if (rc == ERR_OK)
        rc = iam_sync_start(iam, e);
    if (rc) {
        iam_close(iam);
        return rc;
    }
    log_info("event=iam_open region=%s home=%s", iam->region, iam->home_region);
    *out = iam;
    return ERR_OK;
}

void iam_close(struct iam *iam)
{
    if (!iam)
        return;
    iam_stop(iam);
    jobs_free(iam->jobs);
    jobs_free(iam->webid_jobs);
    pthread_cond_destroy(&iam->cv);
    pthread_mutex_destroy(&iam->mu);
    iam_cache_free(iam);
    iam_jwks_free(iam);
    pthread_mutex_destroy(&iam->cache_mu);
    cJSON_Delete(iam->local_sessions);
    cJSON_Delete(iam->pending_sessions);
    free(iam->home_url);
    free(iam->oidc_ca_file);
    free(iam->cred_report);
    free(iam->access_key);
    free(iam->secret);
    free(iam);
}
