/* combine.c - see combine.h. */
#include "core/combine.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *const nc_combine_input_names[NC_COMBINE_NIN] = {
    "document", "passage_max", "passage_top2_mean", "log1p_passages", "has_passages"};

static const char *const rule_names[] = {"max", "learned"};

const char *nc_combine_rule_name(enum nc_combine_rule r)
{
    return rule_names[r == NC_COMBINE_LEARNED];
}

int nc_combine_rule_parse(const char *s)
{
    for (int r = 0; r < 2; r++)
        if (s && strcmp(s, rule_names[r]) == 0)
            return r;
    return -1;
}

void nc_combine_inputs(const struct nc_label_score *s, double x[NC_COMBINE_NIN])
{
    uint32_t np = s->npassages;
    x[0] = s->doc;
    x[1] = np ? s->pmax : 0.0;
    x[2] = np >= 2 ? 0.5 * (s->pmax + s->p2nd) : x[1];
    x[3] = log1p((double)np);
    x[4] = np ? 1.0 : 0.0;
}

double nc_logistic(double z)
{
    if (z >= 0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

double nc_combine_prob(const struct nc_combine *c, const struct nc_label_score *s)
{
    if (c->rule == NC_COMBINE_MAX)
        return nc_platt_prob(&c->platt, nc_label_score_max(s));
    double x[NC_COMBINE_NIN], z = c->bias;
    nc_combine_inputs(s, x);
    for (size_t i = 0; i < NC_COMBINE_NIN; i++)
        z += c->w[i] * x[i];
    return nc_logistic(z);
}

int nc_combine_to_json(const struct nc_combine *c, json_t *label)
{
    int rc = json_object_set_new(label, "rule", json_string(nc_combine_rule_name(c->rule)));
    if (c->rule == NC_COMBINE_MAX)
        return rc | json_object_set_new(label, "platt", json_pack("{s:f,s:f}", "A", c->platt.A,
                                                                  "B", c->platt.B));
    json_t *in = json_array(), *w = json_array();
    for (size_t i = 0; i < NC_COMBINE_NIN; i++) {
        rc |= json_array_append_new(in, json_string(nc_combine_input_names[i]));
        rc |= json_array_append_new(w, json_real(c->w[i]));
    }
    return rc | json_object_set_new(label, "combiner",
                                    json_pack("{s:o,s:o,s:f}", "inputs", in, "weights", w, "bias",
                                              c->bias));
}

/* Sane coefficients are far below this; larger ones are a damaged manifest. */
#define COEF_LIMIT 1e6

static int coef_ok(json_t *v)
{
    return json_is_number(v) && fabs(json_number_value(v)) <= COEF_LIMIT;
}

static int learned_from_json(json_t *cj, size_t k, struct nc_combine *c, char *err, size_t errlen)
{
    json_t *in = json_object_get(cj, "inputs"), *w = json_object_get(cj, "weights");
    json_t *b = json_object_get(cj, "bias");
    int same = json_is_array(in) && json_array_size(in) == NC_COMBINE_NIN;
    for (size_t i = 0; same && i < NC_COMBINE_NIN; i++) {
        json_t *name = json_array_get(in, i);
        same = json_is_string(name) && strcmp(json_string_value(name), nc_combine_input_names[i]) == 0;
    }
    if (!same) {
        snprintf(err, errlen,
                 "manifest: labels[%zu].combiner.inputs are not [\"%s\", \"%s\", \"%s\", \"%s\", "
                 "\"%s\"]: the model was built by an incompatible newsclf",
                 k, nc_combine_input_names[0], nc_combine_input_names[1],
                 nc_combine_input_names[2], nc_combine_input_names[3], nc_combine_input_names[4]);
        return -1;
    }
    int ok = json_is_array(w) && json_array_size(w) == NC_COMBINE_NIN && coef_ok(b);
    for (size_t i = 0; ok && i < NC_COMBINE_NIN; i++)
        ok = coef_ok(json_array_get(w, i));
    if (!ok) {
        snprintf(err, errlen,
                 "manifest: labels[%zu].combiner needs %d weights and a bias, numbers within "
                 "+-%g",
                 k, NC_COMBINE_NIN, COEF_LIMIT);
        return -1;
    }
    for (size_t i = 0; i < NC_COMBINE_NIN; i++)
        c->w[i] = json_number_value(json_array_get(w, i));
    c->bias = json_number_value(b);
    return 0;
}

int nc_combine_from_json(json_t *label, int format_version, size_t k, struct nc_combine *c,
                         char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    int rule = NC_COMBINE_MAX;
    if (format_version >= 2) {
        json_t *r = json_object_get(label, "rule");
        rule = nc_combine_rule_parse(json_is_string(r) ? json_string_value(r) : NULL);
        if (rule < 0) {
            snprintf(err, errlen, "manifest: labels[%zu].rule must be \"max\" or \"learned\"", k);
            return -1;
        }
    }
    c->rule = (enum nc_combine_rule)rule;
    if (rule == NC_COMBINE_LEARNED)
        return learned_from_json(json_object_get(label, "combiner"), k, c, err, errlen);
    json_t *pl = json_object_get(label, "platt");
    json_t *A = json_object_get(pl, "A"), *B = json_object_get(pl, "B");
    if (!json_is_number(A) || !json_is_number(B) || !isfinite(json_number_value(A)) ||
        !isfinite(json_number_value(B))) {
        snprintf(err, errlen, "manifest: labels[%zu].platt must have numbers A and B", k);
        return -1;
    }
    c->platt.A = json_number_value(A);
    c->platt.B = json_number_value(B);
    return 0;
}
