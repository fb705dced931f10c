// json_fields.cc - see json_fields.h. The only C++ source of newsclf: the
// rest of the project calls it through the C interface in json_fields.h.
#include "core/json_fields.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>
#include <vector>

#include <simdjson.h>

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Buffers grown beyond this for one huge text are given back at the next text
// that fits in it, so a rare 900 KiB article does not pin megabytes of parser
// state (about 15 bytes per input byte) per worker for good.
constexpr size_t KEEP_BYTES = size_t(64) << 10;
// Objects with more keys than this are checked for duplicates by sorting.
constexpr size_t PAIRWISE_KEYS = 16;

enum verdict { DEFER = 0, ACCEPT = 1 };

} // namespace

struct nc_jfields {
    simdjson::dom::parser parser;
    size_t max_depth = 0;
    char *buf = nullptr; // the loaded text + SIMDJSON_PADDING zero bytes
    size_t len = 0, cap = 0;
    std::vector<std::string_view> keys; // scratch: one object's keys
};

namespace {

// (Re)creates the parser's buffers for texts up to capacity bytes with our
// depth limit (simdjson grows them on its own, keeping the limit).
bool parser_reset(nc_jfields *p, size_t capacity)
{
    p->parser = simdjson::dom::parser();
    return p->parser.allocate(capacity, p->max_depth) == simdjson::SUCCESS;
}

// jansson refuses a key holding NUL and, with JSON_REJECT_DUPLICATES, a key
// that appears twice in one object.
verdict check_keys(nc_jfields *p, simdjson::dom::object obj)
{
    p->keys.clear();
    for (auto field : obj) {
        if (field.key.find('\0') != std::string_view::npos)
            return DEFER;
        p->keys.push_back(field.key); // may throw std::bad_alloc: see nc_jfields_parse
    }
    std::string_view *k = p->keys.data();
    size_t n = p->keys.size();
    if (n <= PAIRWISE_KEYS) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = 0; j < i; j++)
                if (k[i] == k[j])
                    return DEFER;
        return ACCEPT;
    }
    std::sort(k, k + n);
    return std::adjacent_find(k, k + n) == k + n ? ACCEPT : DEFER;
}

// Whether jansson accepts the value e as simdjson did (see json_fields.h).
// The recursion is bounded by the parser's depth limit.
verdict check_value(nc_jfields *p, element e)
{
    switch (e.type()) {
    case element_type::OBJECT: {
        simdjson::dom::object obj;
        if (e.get(obj) != simdjson::SUCCESS)
            return DEFER;
        verdict v = check_keys(p, obj);
        for (auto field : obj) {
            if (v != ACCEPT)
                break;
            v = check_value(p, field.value);
        }
        return v;
    }
    case element_type::ARRAY: {
        simdjson::dom::array arr;
        if (e.get(arr) != simdjson::SUCCESS)
            return DEFER;
        for (element item : arr) {
            verdict v = check_value(p, item);
            if (v != ACCEPT)
                return v;
        }
        return ACCEPT;
    }
    case element_type::UINT64: // above INT64_MAX: "too big integer" for jansson
        return DEFER;
    default:
        return ACCEPT;
    }
}

void fill(element e, nc_jf_value *out)
{
    std::string_view s;
    switch (e.type()) {
    case element_type::NULL_VALUE:
        out->type = NC_JF_NULL;
        break;
    case element_type::STRING:
        if (e.get(s) != simdjson::SUCCESS)
            break;
        out->type = NC_JF_STRING;
        out->s = s.data(); // simdjson ends each string with a NUL
        out->len = s.size();
        break;
    case element_type::INT64: {
        int64_t i = 0;
        if (e.get(i) == simdjson::SUCCESS) {
            out->type = NC_JF_INT;
            out->i = i;
        }
        break;
    }
    case element_type::DOUBLE:
        if (e.get(out->d) == simdjson::SUCCESS)
            out->type = NC_JF_REAL;
        break;
    default:
        out->type = NC_JF_OTHER;
        break;
    }
}

int parse(nc_jfields *p, const char *const *keys, size_t nkeys, nc_jf_value *out)
{
    for (size_t k = 0; k < nkeys; k++)
        out[k] = nc_jf_value{NC_JF_ABSENT, nullptr, 0, 0, 0.0};
    if (p->len > p->parser.capacity() &&
        p->parser.allocate(std::max(p->len, p->parser.capacity() * 2), p->max_depth) !=
            simdjson::SUCCESS)
        return DEFER;
    element root;
    if (p->parser.parse(p->buf, p->len, false).get(root) != simdjson::SUCCESS)
        return DEFER; // jansson finds the reason
    simdjson::dom::object obj;
    if (root.get(obj) != simdjson::SUCCESS)
        return DEFER;
    verdict v = check_value(p, root);
    if (v != ACCEPT)
        return v;
    for (auto field : obj)
        for (size_t k = 0; k < nkeys; k++)
            if (out[k].type == NC_JF_ABSENT && field.key == keys[k]) {
                fill(field.value, &out[k]);
                break;
            }
    return ACCEPT;
}

} // namespace

extern "C" {

nc_jfields *nc_jfields_new(size_t max_depth)
{
    auto *p = new (std::nothrow) nc_jfields;
    if (p == nullptr)
        return nullptr;
    p->max_depth = max_depth;
    if (!parser_reset(p, KEEP_BYTES / 16)) {
        delete p;
        return nullptr;
    }
    return p;
}

void nc_jfields_free(nc_jfields *p)
{
    if (p == nullptr)
        return;
    std::free(p->buf);
    delete p;
}

int nc_jfields_load(nc_jfields *p, const char *text, size_t len)
{
    p->len = 0;
    if (len <= KEEP_BYTES &&
        (p->cap > KEEP_BYTES + simdjson::SIMDJSON_PADDING || p->parser.capacity() > KEEP_BYTES)) {
        std::free(p->buf);
        p->buf = nullptr;
        p->cap = 0;
        std::vector<std::string_view>().swap(p->keys);
        if (!parser_reset(p, KEEP_BYTES / 16))
            return -1;
    }
    size_t need = len + simdjson::SIMDJSON_PADDING;
    if (need > p->cap) {
        size_t cap = std::max(need, p->cap * 2);
        char *b = static_cast<char *>(std::realloc(p->buf, cap));
        if (b == nullptr)
            return -1;
        p->buf = b;
        p->cap = cap;
    }
    if (len > 0)
        std::memcpy(p->buf, text, len);
    std::memset(p->buf + len, 0, simdjson::SIMDJSON_PADDING);
    p->len = len;
    return 0;
}

const char *nc_jfields_text(const nc_jfields *p, size_t *len)
{
    *len = p->len;
    return p->buf;
}

int nc_jfields_parse(nc_jfields *p, const char *const *keys, size_t nkeys, nc_jf_value *out)
{
    try {
        return parse(p, keys, nkeys, out);
    } catch (...) { // std::bad_alloc from the key scratch; simdjson reports by code
        return -1;
    }
}

} // extern "C"
