/* report.c - what audits read of an account as a whole: the credential
 * report (GenerateCredentialReport and GetCredentialReport, the CSV of every
 * user's credentials; IAM User Guide, "Getting credential reports") and
 * GetAccountSummary (entity counts and IAM's quotas).
 *
 * The columns are IAM's. A region keeps no passwords, MFA devices or
 * signing certificates and does not record when a key was last used, so those
 * columns say so as IAM says it for a user without them (false, N/A). The
 * first row is the account root's. The report is made by the region asked and
 * kept there for four hours, as IAM keeps it: the first GenerateCredentialReport
 * answers STARTED, later ones COMPLETE (a new report once the last is four
 * hours old); GetCredentialReport answers ReportNotPresent before any,
 * ReportExpired after four hours. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "codec.h"
#include "iam_int.h"
#include "mem.h"

enum { REPORT_TTL_S = 4 * 3600, KEYS_SHOWN = 2 };

static const char HEADER[] =
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n";

static void collect(cJSON *doc, void *arg)
{
    cJSON_AddItemToArray(arg, cJSON_Duplicate(doc, true));
}

/* when - an ISO 8601 time as the report writes it ("...+00:00"), or N/A. */
static void when(struct buf *b, const char *iso)
{
    size_t n = strlen(iso);

    if (!n) {
        buf_puts(b, "N/A");
    } else if (iso[n - 1] == 'Z') {
        buf_append(b, iso, n - 1);
        buf_puts(b, "+00:00");
    } else {
        buf_puts(b, iso);
    }
}

/* keys_cols - the two access key column groups for the keys of @owner
 * ("" for the root's own keys) among @keys. */
static void keys_cols(struct buf *b, const cJSON *keys, const char *owner, bool root)
{
    const cJSON *k;
    int shown = 0;

    cJSON_ArrayForEach(k, keys)
    {
        bool mine = root ? cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(k, "Root"))
                         : strcmp(iam_jstr(k, "UserName"), owner) == 0 &&
                               !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(k, "Root"));
        if (!mine || shown == KEYS_SHOWN)
            continue;
        buf_printf(b, ",%s,", strcmp(iam_jstr(k, "Status"), "Inactive") ? "true" : "false");
        when(b, iam_jstr(k, "CreateDate"));
        buf_puts(b, ",N/A,N/A,N/A"); /* last use is not recorded */
        shown++;
    }
    for (; shown < KEYS_SHOWN; shown++)
        buf_puts(b, ",false,N/A,N/A,N/A,N/A");
}

static char *build(struct iam_call *c)
{
    cJSON *users = cJSON_CreateArray(), *keys = cJSON_CreateArray();
    const cJSON *u;
    struct err e = {0};
    struct buf b;
    char *out;

    iam_doc_each(c->iam, "user", collect, users, &e);
    iam_doc_each(c->iam, "key", collect, keys, &e);
    buf_init(&b, 0);
    buf_puts(&b, HEADER);
    buf_printf(&b,
               "<root_account>,arn:aws:iam::%s:root,N/A,not_supported,no_information,"
               "not_supported,not_supported,false",
               c->iam->account);
    keys_cols(&b, keys, "", true);
    buf_puts(&b, ",false,N/A,false,N/A\n");
    cJSON_ArrayForEach(u, users)
    {
        buf_printf(&b, "%s,%s,", iam_jstr(u, "UserName"), iam_jstr(u, "Arn"));
        when(&b, iam_jstr(u, "CreateDate"));
        buf_puts(&b, ",false,N/A,N/A,N/A,false"); /* no password, no MFA */
        keys_cols(&b, keys, iam_jstr(u, "UserName"), false);
        buf_puts(&b, ",false,N/A,false,N/A\n");
    }
    cJSON_Delete(users);
    cJSON_Delete(keys);
    out = xstrdup(b.ptr);
    buf_free(&b);
    return out;
}

void iam_op_credential_report(struct iam_call *c, bool generate)
{
    struct iam *iam = c->iam;
    int64_t now = (int64_t)clock_wall_s(), at;
    char *report = NULL, stamp[32];
    struct buf b;

    if (!iam_allowed(c, generate ? "iam:GenerateCredentialReport" : "iam:GetCredentialReport", "*"))
        return;
    if (generate) {
        bool first, fresh;
        pthread_mutex_lock(&iam->mu);
        first = !iam->cred_report;
        fresh = !first && now - iam->cred_report_at < REPORT_TTL_S;
        pthread_mutex_unlock(&iam->mu);
        if (!fresh) {
            report = build(c);
            pthread_mutex_lock(&iam->mu);
            free(iam->cred_report);
            iam->cred_report = report;
            iam->cred_report_at = now;
            pthread_mutex_unlock(&iam->mu);
        }
        iam_reply(c, first ? "<State>STARTED</State><Description>No report exists. Starting a "
                             "new report generation task</Description>"
                           : "<State>COMPLETE</State>");
        return;
    }
    pthread_mutex_lock(&iam->mu);
    at = iam->cred_report_at;
    if (iam->cred_report && now - at < REPORT_TTL_S)
        report = xstrdup(iam->cred_report);
    pthread_mutex_unlock(&iam->mu);
    if (!report) {
        if (at)
            iam_fail(c, 410, "ReportExpired",
                     "The credential report has expired. To generate a new credential report, "
                     "use GenerateCredentialReport.");
        else
            iam_fail(c, 410, "ReportNotPresent",
                     "Unable to find credential report. To generate a credential report, use "
                     "GenerateCredentialReport.");
        return;
    }
    buf_init(&b, 0);
    buf_puts(&b, "<Content>");
    {
        char *b64 = xmalloc(base64_encoded_len(strlen(report)) + 1);
        base64_encode(report, strlen(report), b64);
        buf_puts(&b, b64);
        free(b64);
    }
    iam_now_iso(stamp, at - now);
    buf_printf(&b,
               "</Content><ReportFormat>text/csv</ReportFormat><GeneratedTime>%s"
               "</GeneratedTime>",
               stamp);
    iam_reply(c, b.ptr);
    buf_free(&b);
    free(report);
}

struct counter {
    int n;
    int versions; /* policies: their versions */
};

static void count(cJSON *doc, void *arg)
{
    struct counter *k = arg;

    k->n++;
    k->versions += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "Versions"));
}

static int count_of(struct iam_call *c, const char *kind, int *versions)
{
    struct counter k = {0, 0};

    iam_doc_each(c->iam, kind, count, &k, NULL);
    if (versions)
        *versions = k.versions;
    return k.n;
}

void iam_op_account_summary(struct iam_call *c)
{
    /* the counts, then IAM's default quotas (the ones a region enforces are
     * the same numbers: iam_int.h) */
    static const struct {
        const char *key;
        int value;
    } quotas[] = {
        {"UsersQuota", 5000},
        {"GroupsQuota", 300},
        {"RolesQuota", 1000},
        {"PoliciesQuota", 1500},
        {"InstanceProfilesQuota", 1000},
        {"ServerCertificatesQuota", 20},
        {"PolicyVersionsInUseQuota", 10000},
        {"VersionsPerPolicyQuota", MAX_VERSIONS},
        {"AccessKeysPerUserQuota", MAX_KEYS_PER_USER},
        {"GroupsPerUserQuota", MAX_GROUPS_PER_USER},
        {"AttachedPoliciesPerUserQuota", MAX_ATTACHED},
        {"AttachedPoliciesPerRoleQuota", MAX_ATTACHED},
        {"AttachedPoliciesPerGroupQuota", MAX_ATTACHED},
        {"PolicySizeQuota", 6144},
        {"UserPolicySizeQuota", MAX_USER_INLINE},
        {"RolePolicySizeQuota", MAX_ROLE_INLINE},
        {"GroupPolicySizeQuota", MAX_GROUP_INLINE},
        {"AssumeRolePolicySizeQuota", MAX_TRUST},
        {"SigningCertificatesPerUserQuota", 2},
        {"GlobalEndpointTokenVersion", 1},
    };
    int versions = 0;
    struct buf b;

    if (!iam_allowed(c, "iam:GetAccountSummary", "*"))
        return;
    buf_init(&b, 0);
    buf_puts(&b, "<SummaryMap>");
#define ENTRY(k, v) buf_printf(&b, "<entry><key>%s</key><value>%d</value></entry>", (k), (v))
    ENTRY("Users", count_of(c, "user", NULL));
    ENTRY("Groups", count_of(c, "group", NULL));
    ENTRY("Roles", count_of(c, "role", NULL));
    ENTRY("Policies", count_of(c, "policy", &versions));
    ENTRY("PolicyVersionsInUse", versions);
    ENTRY("InstanceProfiles", count_of(c, "instance-profile", NULL));
    ENTRY("Providers", count_of(c, "oidc", NULL));
    /* the credentials the region was started with are the root's */
    ENTRY("AccountAccessKeysPresent", 1);
    ENTRY("AccountMFAEnabled", 0);
    ENTRY("AccountSigningCertificatesPresent", 0);
    ENTRY("MFADevices", 0);
    ENTRY("MFADevicesInUse", 0);
    ENTRY("ServerCertificates", 0);
    for (size_t i = 0; i < sizeof(quotas) / sizeof(quotas[0]); i++)
        ENTRY(quotas[i].key, quotas[i].value);
#undef ENTRY
    buf_puts(&b, "</SummaryMap>");
    iam_reply(c, b.ptr);
    buf_free(&b);
}
