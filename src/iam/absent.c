/* absent.c - the reads of IAM credentials and settings a region never has:
 * MFA devices, SSH public keys, signing certificates, service-specific
 * credentials, login profiles (console passwords), the account's aliases and
 * password policy, SAML providers and server certificates.
 *
 * Tools read them as a matter of course (Terraform and the Pulumi AWS
 * provider list a user's MFA devices, keys and certificates and delete its
 * login profile before they delete the user; audits read the password policy
 * and the aliases), so each answers as IAM does for an account that has none:
 * an empty list, or NoSuchEntity in IAM's words. A user named that does not
 * exist is NoSuchEntity, as for every user call. */
#include <stdio.h>
#include <string.h>

#include "iam_int.h"

/* user_ok - the UserName parameter (the caller when absent, as IAM takes it)
 * names an existing user the caller may ask about with @action; NULL after
 * answering. */
static const char *user_ok(struct iam_call *c, const char *action)
{
    const char *name = iam_caller_user(c);
    cJSON *doc;

    if (!name || !iam_allowed(c, action, iam_arn_of(c, "user", "/", name)) ||
        !(doc = iam_load(c, "user", name)))
        return NULL;
    cJSON_Delete(doc);
    return name;
}

/* empty_list - a List* answer with list @elem and nothing in it. */
static void empty_list(struct iam_call *c, const char *elem, bool paged)
{
    char body[128];

    snprintf(body, sizeof(body), "<%s/>%s", elem, paged ? "<IsTruncated>false</IsTruncated>" : "");
    iam_reply(c, body);
}

bool iam_op_absent(struct iam_call *c)
{
    static const struct {
        const char *action, *list;
    } user_lists[] = {
        {"ListMFADevices", "MFADevices"},
        {"ListSSHPublicKeys", "SSHPublicKeys"},
        {"ListSigningCertificates", "Certificates"},
        {"ListServiceSpecificCredentials", "ServiceSpecificCredentials"},
    };
    static const struct {
        const char *action, *list;
        bool paged;
    } account_lists[] = {
        {"ListAccountAliases", "AccountAliases", true},
        {"ListVirtualMFADevices", "VirtualMFADevices", true},
        {"ListSAMLProviders", "SAMLProviderList", false},
        {"ListServerCertificates", "ServerCertificateMetadataList", true},
    };
    const char *a = c->action, *user;
    char perm[80];

    snprintf(perm, sizeof(perm), "iam:%s", a);
    for (size_t i = 0; i < sizeof(user_lists) / sizeof(user_lists[0]); i++) {
        if (strcmp(a, user_lists[i].action) != 0)
            continue;
        /* ListServiceSpecificCredentials with AllUsers lists the account's */
        if (iam_param(c, "AllUsers") && strcmp(iam_param(c, "AllUsers"), "true") == 0) {
            if (iam_allowed(c, perm, "*"))
                empty_list(c, user_lists[i].list, true);
        } else if (user_ok(c, perm)) {
            empty_list(c, user_lists[i].list, true);
        }
        return true;
    }
    for (size_t i = 0; i < sizeof(account_lists) / sizeof(account_lists[0]); i++) {
        if (strcmp(a, account_lists[i].action) != 0)
            continue;
        if (iam_allowed(c, perm, "*"))
            empty_list(c, account_lists[i].list, account_lists[i].paged);
        return true;
    }
    if (strcmp(a, "GetLoginProfile") == 0 || strcmp(a, "DeleteLoginProfile") == 0) {
        if ((user = user_ok(c, perm)))
            iam_fail(c, 404, "NoSuchEntity", "Login Profile for User %.64s cannot be found.", user);
        return true;
    }
    if (strcmp(a, "GetAccountPasswordPolicy") == 0) {
        if (iam_allowed(c, perm, "*"))
            iam_fail(c, 404, "NoSuchEntity",
                     "The Password Policy with domain name %s cannot be found.", c->iam->account);
        return true;
    }
    return false;
}
