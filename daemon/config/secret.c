/*
 * secret.c - which configuration keys hold secrets (nc_config_is_secret()),
 * so that their values are never printed: nc_config_dump() (--dump-config)
 * writes "********" instead, and --set and librdkafka errors leave the value
 * out.
 *
 * The rule looks at the name only, so it covers any key, known or not - a
 * pass-through property librdkafka added later, or a misspelt one whose
 * value is still the secret that was meant. Case is ignored. A key is secret
 * when
 *   - its last dotted component contains "password", "secret", "token" or
 *     "key", or a near miss of "password" (at most two edits: "pasword",
 *     "passwd") or of "secret" (one edit: "secrt");
 *   - or the whole key contains "password", "secret", "key.pem", "ssl.key"
 *     or "sasl.oauthbearer.config" (the PEM key and its location, the
 *     OAUTHBEARER configuration string that carries a client secret).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "config/internal.h"

static bool contains_ci(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, nl) == 0)
            return true;
    return false;
}

bool nc_config_is_secret(const char *key)
{
    static const char *const anywhere[] = {"password", "secret", "key.pem", "ssl.key",
                                           "sasl.oauthbearer.config"};
    static const char *const in_last[] = {"token", "key"};
    static const struct {
        const char *word;
        size_t edits;
    } near[] = {{"password", 2}, {"secret", 1}};

    for (size_t i = 0; i < sizeof anywhere / sizeof anywhere[0]; i++)
        if (contains_ci(key, anywhere[i]))
            return true;
    const char *dot = strrchr(key, '.');
    const char *last = dot ? dot + 1 : key;
    for (size_t i = 0; i < sizeof in_last / sizeof in_last[0]; i++)
        if (contains_ci(last, in_last[i]))
            return true;
    char lower[129];
    size_t n = strlen(last);
    if (n >= sizeof lower)
        n = sizeof lower - 1;
    for (size_t i = 0; i < n; i++)
        lower[i] = (char)tolower((unsigned char)last[i]);
    lower[n] = '\0';
    for (size_t i = 0; i < sizeof near / sizeof near[0]; i++)
        if (cfg_edit_distance(near[i].word, lower, true) <= near[i].edits)
            return true;
    return false;
}
