/*
 * secret.c - which configuration keys hold secrets (nc_config_is_secret()),
 * so that their values are never printed: nc_config_dump() (--dump-config)
 * writes "********" instead, and --set and librdkafka errors leave the value
 * out. A key is secret when it contains, in any case, "password", "secret",
 * "key.pem", "ssl.key" or "sasl.oauthbearer.config".
 */
#include <string.h>
#include <strings.h>

#include "config/internal.h"

bool nc_config_is_secret(const char *key)
{
    static const char *const pats[] = {"password", "secret", "key.pem", "ssl.key",
                                       "sasl.oauthbearer.config"};
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
        size_t pl = strlen(pats[i]);
        for (const char *p = key; *p; p++)
            if (strncasecmp(p, pats[i], pl) == 0)
                return true;
    }
    return false;
}
