/* regex.cc — the C shim over RE2 declared in core/regex.h; the only C++ in llmotlp.
 *
 * The one idea: RE2 is already Go's engine and syntax; this file only fixes the options to Go's
 * defaults, turns the few remaining differences into Go's behaviour before RE2 sees the text
 * (invalid UTF-8 in the subject, `\C` and `(?<name>` in the pattern), and keeps C++ exceptions
 * from crossing into C. */
#include "core/regex.h"

extern "C" {
#include "core/otlp.h"
}

#include <stdlib.h>
#include <string.h>

#include <map>
#include <new>
#include <string>
#include <vector>

#include <re2/re2.h>

struct regex {
    RE2 *re;
    std::string pattern;
    std::vector<std::string> group_names;   /* [0] unused; "" for unnamed groups */
};

/* Length of the valid UTF-8 sequence at s (n > 0 bytes left), or 0 when Go's utf8.DecodeRune
 * would return (RuneError, 1) there. otlp_utf8_seq is that check; only NUL, which it refuses
 * for protobuf strings, is one valid byte here. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    return s[0] == 0 ? 1 : otlp_utf8_seq(s, n);
}

/* Offset of the first byte Go would decode as RuneError, or len when s is valid UTF-8. */
static size_t utf8_first_invalid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = utf8_seq_len(s + i, len - i);
        if (k == 0)
            return i;
        i += k;
    }
    return len;
}

/* The pattern as RE2 should read it: Go's `(?<name>` (Go 1.22) spelled `(?P<name>`, which this
 * RE2 release also knows. NULL with err when the pattern holds `\C`, which RE2 reads as "any byte"
 * and Go refuses. \Q...\E quotes and [...] classes are skipped as Go's parser does. */
static bool go_to_re2(const char *p, size_t len, std::string &out, struct error *err)
{
    out.reserve(len + 8);
    bool in_class = false;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (c == '\\' && i + 1 < len) {
            char e = p[i + 1];
            if (e == 'C') {
                error_set(err, "invalid escape sequence: \\C");
                return false;
            }
            if (e == 'Q' && !in_class) {
                /* Literal text up to \E (or the end), copied unchanged. */
                const char *end = NULL;
                for (size_t j = i + 2; j + 1 < len; j++)
                    if (p[j] == '\\' && p[j + 1] == 'E') {
                        end = p + j + 2;
                        break;
                    }
                size_t stop = end ? (size_t)(end - p) : len;
                out.append(p + i, stop - i);
                i = stop - 1;
                continue;
            }
            out.push_back(c);
            out.push_back(e);
            i++;
            continue;
        }
        if (in_class) {
            if (c == ']')
                in_class = false;
            out.push_back(c);
            continue;
        }
        if (c == '[') {
            in_class = true;
            out.push_back(c);
            /* A ']' right after '[' or '[^' is a literal member, not the end. */
            if (i + 1 < len && p[i + 1] == '^') {
                out.push_back('^');
                i++;
            }
            if (i + 1 < len && p[i + 1] == ']') {
                out.push_back(']');
                i++;
            }
            continue;
        }
        if (c == '(' && i + 3 < len && p[i + 1] == '?' && p[i + 2] == '<' && p[i + 3] != '=' &&
            p[i + 3] != '!') {
            out.append("(?P<");
            i += 2;
            continue;
        }
        out.push_back(c);
    }
    return true;
}

extern "C" struct regex *regex_compile(const char *pattern, size_t len, struct error *err)
{
    struct regex *r = NULL;
    try {
        std::string re2_pattern;
        if (!go_to_re2(pattern, len, re2_pattern, err))
            return NULL;
        RE2::Options o;
        o.set_encoding(RE2::Options::EncodingUTF8);
        o.set_posix_syntax(false);      /* Perl syntax: \d \w \s \b \A \z (?flags), as Go */
        o.set_perl_classes(true);
        o.set_word_boundary(true);
        o.set_longest_match(false);     /* leftmost-first, as Go's (non-POSIX) regexp */
        o.set_literal(false);
        o.set_never_nl(false);
        o.set_dot_nl(false);            /* `.` skips \n unless (?s) */
        o.set_never_capture(false);
        o.set_case_sensitive(true);     /* (?i) turns it off per pattern */
        o.set_one_line(false);          /* ^ $ are text anchors unless (?m); Perl mode ignores it */
        o.set_max_mem(REGEX_MAX_MEM);
        o.set_log_errors(false);        /* errors are returned, never printed */
        r = new struct regex;
        r->re = NULL;
        r->pattern.assign(pattern, len);
        r->re = new RE2(re2::StringPiece(re2_pattern.data(), re2_pattern.size()), o);
        if (!r->re->ok()) {
            error_set(err, "%s", r->re->error().c_str());
            regex_free(r);
            return NULL;
        }
        r->group_names.assign((size_t)r->re->NumberOfCapturingGroups() + 1, std::string());
        for (const auto &g : r->re->CapturingGroupNames())
            if (g.first > 0 && (size_t)g.first < r->group_names.size())
                r->group_names[(size_t)g.first] = g.second;
        return r;
    } catch (const std::bad_alloc &) {
        regex_free(r);
        error_set(err, "out of memory compiling a regular expression");
        return NULL;
    } catch (...) {
        regex_free(r);
        error_set(err, "cannot compile regular expression");
        return NULL;
    }
}

static bool run(const struct regex *r, const char *s, size_t len, RE2::Anchor anchor)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t bad = utf8_first_invalid(u, len);
    if (bad == len)
        return r->re->Match(re2::StringPiece(s, len), 0, len, anchor, NULL, 0);
    /* Go's view of the text: every byte that does not start a valid sequence is U+FFFD. */
    try {
        std::string t;
        t.reserve(len + 16);
        t.append(s, bad);
        for (size_t i = bad; i < len;) {
            size_t k = u[i] < 0x80 ? 1 : utf8_seq_len(u + i, len - i);
            if (k == 0) {
                t.append("\xEF\xBF\xBD");
                i++;
            } else {
                t.append(s + i, k);
                i += k;
            }
        }
        return r->re->Match(re2::StringPiece(t.data(), t.size()), 0, t.size(), anchor, NULL, 0);
    } catch (...) {
        return false;
    }
}

extern "C" bool regex_search(const struct regex *re, const char *s, size_t len)
{
    return run(re, s, len, RE2::UNANCHORED);
}

extern "C" bool regex_full_match(const struct regex *re, const char *s, size_t len)
{
    return run(re, s, len, RE2::ANCHOR_BOTH);
}

extern "C" int regex_num_groups(const struct regex *re)
{
    return re->re->NumberOfCapturingGroups();
}

extern "C" int regex_group_index(const struct regex *re, const char *name, size_t len)
{
    try {
        const std::map<std::string, int> &g = re->re->NamedCapturingGroups();
        auto it = g.find(std::string(name, len));
        return it == g.end() ? -1 : it->second;
    } catch (...) {
        return -1;
    }
}

/* Go's allMatches loop over a subject RE2 can read (valid UTF-8): `map`, when not empty, turns an
 * offset of t into the offset of the original subject (t is then the U+FFFD copy). */
static int each_match(const struct regex *r, const std::string *copy, const char *s, size_t len,
                      const std::vector<long> &map, regex_match_fn fn, void *ud)
{
    const char *t = copy ? copy->data() : (s ? s : ""); /* offsets need a non-NULL base */
    size_t tlen = copy ? copy->size() : len;
    int ngroups = r->re->NumberOfCapturingGroups();
    if (ngroups < 0)
        return -1;
    size_t nsub = (size_t)ngroups + 1;
    std::vector<re2::StringPiece> sub(nsub);
    std::vector<long> m(2 * nsub);
    re2::StringPiece text(t, tlen);
    size_t pos = 0;
    long prev_end = -1;
    while (pos <= tlen) {
        if (!r->re->Match(text, pos, tlen, RE2::UNANCHORED, sub.data(), (int)nsub))
            break;
        long start = (long)(sub[0].data() - t), end = start + (long)sub[0].size();
        bool accept = true;
        if ((size_t)end == pos) {
            /* An empty match: never right after the previous match; the search moves on by one
             * rune (t is valid UTF-8 here). */
            if (start == prev_end)
                accept = false;
            if (pos < tlen) {
                size_t w = utf8_seq_len((const unsigned char *)t + pos, tlen - pos);
                pos += w ? w : 1;
            } else {
                pos = tlen + 1;
            }
        } else {
            pos = (size_t)end;
        }
        prev_end = end;
        if (!accept)
            continue;
        for (size_t i = 0; i < nsub; i++) {
            if (sub[i].data() == NULL) {
                m[2 * i] = m[2 * i + 1] = -1;
                continue;
            }
            long a = (long)(sub[i].data() - t), b = a + (long)sub[i].size();
            m[2 * i] = map.empty() ? a : map[(size_t)a];
            m[2 * i + 1] = map.empty() ? b : map[(size_t)b];
        }
        int rc = fn(m.data(), m.size(), ud);
        if (rc != 0)
            return rc;
    }
    return 0;
}

extern "C" int regex_each_match(const struct regex *re, const char *s, size_t len,
                                regex_match_fn fn, void *ud)
{
    try {
        const unsigned char *u = (const unsigned char *)s;
        size_t bad = utf8_first_invalid(u, len);
        std::vector<long> map;
        if (bad == len)
            return each_match(re, NULL, s, len, map, fn, ud);
        /* Go's view of the text, as run() builds it, with where each byte of the copy came from:
         * the three bytes of a U+FFFD stand for one byte of the subject. */
        std::string t;
        t.reserve(len + 16);
        map.reserve(len + 17);
        for (size_t i = 0; i < len;) {
            size_t k = u[i] < 0x80 ? 1 : utf8_seq_len(u + i, len - i);
            if (k == 0) {
                t.append("\xEF\xBF\xBD");
                for (int j = 0; j < 3; j++)
                    map.push_back((long)i);
                i++;
            } else {
                t.append(s + i, k);
                for (size_t j = 0; j < k; j++)
                    map.push_back((long)(i + j));
                i += k;
            }
        }
        map.push_back((long)len);
        return each_match(re, &t, s, len, map, fn, ud);
    } catch (...) {
        return -1;
    }
}

extern "C" const char *regex_group_name(const struct regex *re, int i)
{
    if (i < 1 || (size_t)i >= re->group_names.size())
        return NULL;
    return re->group_names[(size_t)i].c_str();
}

/* The first match of the walk: Go's FindStringSubmatchIndex is FindAllStringSubmatchIndex's
 * first element. */
struct first_match { long *starts, *ends; int n; };

static int take_first(const long *m, size_t nm, void *ud)
{
    struct first_match *f = (struct first_match *)ud;
    for (int i = 0; i < f->n; i++) {
        bool have = (size_t)(2 * i + 1) < nm;
        f->starts[i] = have ? m[2 * i] : -1;
        f->ends[i] = have ? m[2 * i + 1] : -1;
    }
    return 1;
}

extern "C" bool regex_submatch(const struct regex *r, const char *s, size_t len, long *starts,
                               long *ends, int n)
{
    if (n <= 0)
        return false;
    struct first_match f = {starts, ends, n};
    return regex_each_match(r, s, len, take_first, &f) == 1;
}

extern "C" const char *regex_pattern(const struct regex *re)
{
    return re->pattern.c_str();
}

extern "C" void regex_free(struct regex *re)
{
    if (!re)
        return;
    delete re->re;
    delete re;
}
