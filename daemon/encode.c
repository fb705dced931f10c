/* encode.c - see encode.h. */
#include "encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

size_t nc_encode_labels_csv(const nc_model *m, const nc_result *r, char *buf, size_t buflen)
{
    size_t n = 0;
    if (buflen)
        buf[0] = '\0';
    for (size_t k = 0; k < r->nlabels; k++) {
        if (!r->on[k])
            continue;
        int w = snprintf(buf + n, buflen > n ? buflen - n : 0, "%s%s", n ? "," : "",
                         nc_model_label(m, k));
        if (w < 0 || (size_t)w >= (buflen > n ? buflen - n : 0)) {
            if (buflen)
                buf[n < buflen ? n : buflen - 1] = '\0';
            return n;
        }
        n += (size_t)w;
    }
    return n;
}

static json_t *article_value(const nc_article *a, const struct nc_encode_opts *o)
{
    json_t *src = nc_article_json(a);
    if (!src) { /* plain text */
        size_t blen;
        const char *body = nc_article_body(a, &blen);
        json_t *obj = json_object();
        json_object_set_new(obj, "body", json_stringn(body ? body : "", blen));
        if (o->article_mode == NC_ARTICLE_LIST) {
            int wanted = 0;
            for (size_t i = 0; i < o->nfields; i++)
                wanted |= strcmp(o->fields[i], "body") == 0;
            if (!wanted)
                json_object_del(obj, "body");
        }
        return obj;
    }
    if (o->article_mode == NC_ARTICLE_ALL)
        return json_incref(src);
    json_t *obj = json_object();
    for (size_t i = 0; i < o->nfields; i++) {
        json_t *v = json_object_get(src, o->fields[i]);
        if (v)
            json_object_set(obj, o->fields[i], v);
    }
    return obj;
}

char *nc_encode_result(const nc_model *m, const nc_article *a, const nc_result *r,
                       const struct nc_encode_opts *opts, size_t *len, char *err, size_t errlen)
{
    static const struct nc_encode_opts defaults = {NC_ARTICLE_NONE, NULL, 0, NULL};
    if (!opts)
        opts = &defaults;
    json_t *root = json_object();
    json_t *labels = json_array(), *scores = json_object(), *decision = json_object();
    if (!root || !labels || !scores || !decision)
        goto oom;
    const char *id = nc_article_id(a);
    json_object_set_new(root, "schema_version", json_integer(NC_SCHEMA_VERSION));
    json_object_set_new(root, "id", id ? json_string(id) : json_null());
    if (r->skipped == NC_SKIP_NONE) {
        for (size_t k = 0; k < r->nlabels; k++) {
            const char *name = nc_model_label(m, k);
            /* json_real() refuses NaN and infinities: never emit a partial record. */
            if ((r->on[k] && json_array_append_new(labels, json_string(name)) != 0) ||
                json_object_set_new(scores, name, json_real(r->prob[k])) != 0 ||
                json_object_set_new(decision, name, json_real(r->decision[k])) != 0) {
                snprintf(err, errlen, "cannot encode the scores of label %s", name);
                json_decref(labels);
                json_decref(scores);
                json_decref(decision);
                json_decref(root);
                return NULL;
            }
        }
    }
    json_object_set_new(root, "labels", labels);
    json_object_set_new(root, "scores", scores);
    json_object_set_new(root, "decision", decision);
    labels = scores = decision = NULL;
    if (r->skipped == NC_SKIP_LANGUAGE)
        json_object_set_new(root, "skipped", json_string("language"));
    json_object_set_new(root, "model", json_pack("{s:s,s:s}", "name", nc_model_name(m), "version",
                                                 nc_model_version(m)));
    if (opts->input) {
        const struct nc_input_meta *in = opts->input;
        json_t *ij = json_object();
        json_object_set_new(ij, "topic", json_string(in->topic ? in->topic : ""));
        json_object_set_new(ij, "partition", json_integer(in->partition));
        json_object_set_new(ij, "offset", json_integer(in->offset));
        json_object_set_new(ij, "timestamp", in->timestamp_ms >= 0 ? json_integer(in->timestamp_ms)
                                                                    : json_null());
        json_object_set_new(root, "input", ij);
        char ts[40];
        nc_format_rfc3339_ms(in->classified_at_ms, ts, sizeof(ts));
        json_object_set_new(root, "classified_at", json_string(ts));
    }
    /* Our scores are written with 6 significant digits; the article's own
     * numbers must pass through untouched, so it is spliced in on its own:
     * its text as received when the article has it (nc_article_raw), else
     * the parsed object dumped. */
    char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(root);
    if (!s)
        goto oom2;
    *len = strlen(s);
    if (opts->article_mode == NC_ARTICLE_NONE)
        return s;
    size_t alen;
    const char *raw = opts->article_mode == NC_ARTICLE_ALL ? nc_article_raw(a, &alen) : NULL;
    char *as = NULL;
    if (!raw) {
        json_t *art = article_value(a, opts);
        as = art ? json_dumps(art, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) : NULL;
        json_decref(art);
        if (!as) {
            free(s);
            goto oom2;
        }
        alen = strlen(as);
    }
    static const char key[] = ",\"article\":";
    char *out = realloc(s, *len + sizeof(key) - 1 + alen + 1);
    if (!out) {
        free(s);
        free(as);
        goto oom2;
    }
    /* Replace the closing brace: {...} -> {...,"article":{...}} */
    size_t n = *len - 1;
    memcpy(out + n, key, sizeof(key) - 1);
    n += sizeof(key) - 1;
    memcpy(out + n, raw ? raw : as, alen);
    n += alen;
    out[n++] = '}';
    out[n] = '\0';
    free(as);
    *len = n;
    return out;
oom:
    json_decref(labels);
    json_decref(scores);
    json_decref(decision);
    json_decref(root);
oom2:
    snprintf(err, errlen, "out of memory while encoding");
    return NULL;
}
