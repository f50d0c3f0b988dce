/* detect.c — the detectors of detect.h: one RE2 candidate pattern and one C check per kind.
 *
 * The one idea (see detect.h): patterns propose, checks decide. Boundaries are checked in C on
 * the whole text rather than with \b, so a search restarted inside the text still sees what
 * precedes it; a greedy candidate that swallowed a neighbour (a card number followed by a year)
 * is shortened by its check until it stands alone and passes. */
#include "processors/genai_content/detect.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "core/regex.h"

/* ---- character classes ------------------------------------------------------------------- */

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_alnum(int c) { return (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z'); }
static bool is_tok(int c) { return is_alnum(c) || c == '_' || c == '-'; }

/* The byte before s[i], or 0 at the start; the byte at s[i], or 0 past the end. */
static int before(const char *s, size_t i) { return i ? (unsigned char)s[i - 1] : 0; }
static int at(const char *s, size_t n, size_t i) { return i < n ? (unsigned char)s[i] : 0; }

/* ---- checks ------------------------------------------------------------------------------ */

bool gc_luhn_ok(const char *s, size_t n)
{
    int sum = 0, k = 0;
    for (size_t i = n; i-- > 0;) {
        if (s[i] == ' ' || s[i] == '-')
            continue;
        if (!is_digit(s[i]))
            return false;
        int d = s[i] - '0';
        if (k++ & 1) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return k >= 13 && k <= 19 && sum % 10 == 0;
}

bool gc_iban_ok(const char *s, size_t n)
{
    char c[40];
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ')
            continue;
        if (m == sizeof c || !(is_digit(s[i]) || (s[i] >= 'A' && s[i] <= 'Z')))
            return false;
        c[m++] = s[i];
    }
    if (m < 15 || m > 34 || !(c[0] >= 'A' && c[0] <= 'Z') || !(c[1] >= 'A' && c[1] <= 'Z') ||
        !is_digit(c[2]) || !is_digit(c[3]))
        return false;
    /* ISO 13616: the first four characters move to the end, letters count as 10..35, and the
     * number so written is 1 modulo 97. */
    unsigned rem = 0;
    for (size_t j = 0; j < m; j++) {
        char ch = c[(j + 4) % m];
        if (is_digit(ch))
            rem = (rem * 10 + (unsigned)(ch - '0')) % 97;
        else
            rem = (rem * 100 + (unsigned)(ch - 'A' + 10)) % 97;
    }
    return rem == 1;
}

/* A check gets the candidate [*b, *e) in s[0..n) and may narrow it; true keeps it. */
typedef bool (*check_fn)(const char *s, size_t n, size_t *b, size_t *e);

/* A key or token: stands alone among token characters and holds a digit and a letter (random
 * keys do; words joined by hyphens that happen to start with "sk-" do not). */
static bool check_key(const char *s, size_t n, size_t *b, size_t *e)
{
    if (is_tok(before(s, *b)) || is_tok(at(s, n, *e)))
        return false;
    bool digit = false, alpha = false;
    for (size_t i = *b + 3; i < *e; i++) {
        digit |= is_digit(s[i]);
        alpha |= ((s[i] | 32) >= 'a' && (s[i] | 32) <= 'z');
    }
    return digit && alpha;
}

static bool check_alone(const char *s, size_t n, size_t *b, size_t *e)
{
    return !is_alnum(before(s, *b)) && !is_alnum(at(s, n, *e));
}

/* JWT: header and payload are base64url JSON objects; nothing token-like glued on. */
static bool check_jwt(const char *s, size_t n, size_t *b, size_t *e)
{
    return !is_tok(before(s, *b)) && !is_tok(at(s, n, *e));
}

/* The group already is the secret; it must not run on into more of its alphabet. */
static bool check_group(const char *s, size_t n, size_t *b, size_t *e)
{
    (void)b;
    int c = at(s, n, *e);
    return !(is_alnum(c) || c == '/' || c == '+');
}

static bool check_bearer(const char *s, size_t n, size_t *b, size_t *e)
{
    (void)b;
    return !is_alnum(at(s, n, *e));
}

static bool check_email(const char *s, size_t n, size_t *b, size_t *e)
{
    (void)n;
    (void)s;
    /* The pattern takes the longest local part; a trailing '.' of a sentence is not the domain. */
    while (*e > *b && s[*e - 1] == '.')
        (*e)--;
    return true;
}

/* Whether s[b] follows the country code and check digits of an IBAN ("DE89 " or "DE89"): digits
 * there are an account number, even when the IBAN's checksum failed. */
static bool after_iban_head(const char *s, size_t b)
{
    size_t i = b;
    if (i > 0 && s[i - 1] == ' ')
        i--;
    if (i < 4)
        return false;
    const char *h = s + i - 4;
    return h[0] >= 'A' && h[0] <= 'Z' && h[1] >= 'A' && h[1] <= 'Z' && is_digit(h[2]) &&
           is_digit(h[3]) && !is_alnum(before(s, i - 4));
}

static bool check_card(const char *s, size_t n, size_t *b, size_t *e)
{
    if (is_alnum(before(s, *b)) || before(s, *b) == '.' ||
        (before(s, *b) == '-' && is_digit(before(s, *b - 1))) || after_iban_head(s, *b))
        return false;
    for (size_t end = *e; end > *b; end--) {
        if (!is_digit(s[end - 1]))
            continue;
        int next = at(s, n, end);
        if (is_alnum(next) || (next == '.' && is_digit(at(s, n, end + 1))))
            continue;
        if (gc_luhn_ok(s + *b, end - *b)) {
            *e = end;
            return true;
        }
    }
    return false;
}

static bool check_iban(const char *s, size_t n, size_t *b, size_t *e)
{
    if (is_alnum(before(s, *b)))
        return false;
    for (size_t end = *e; end > *b + 14; end--) {
        if (s[end - 1] == ' ' || is_alnum(at(s, n, end)))
            continue;
        if (gc_iban_ok(s + *b, end - *b)) {
            *e = end;
            return true;
        }
    }
    return false;
}

static bool check_ipv4(const char *s, size_t n, size_t *b, size_t *e)
{
    int p = before(s, *b);
    if (is_alnum(p) || p == '.' || is_alnum(at(s, n, *e)) ||
        (at(s, n, *e) == '.' && is_digit(at(s, n, *e + 1))))
        return false;
    unsigned v = 0;
    int digits = 0;
    for (size_t i = *b; i <= *e; i++) {
        if (i == *e || s[i] == '.') {
            if (digits == 0 || v > 255)
                return false;
            v = 0;
            digits = 0;
        } else {
            v = v * 10 + (unsigned)(s[i] - '0');
            digits++;
        }
    }
    return true;
}

static bool check_ipv6(const char *s, size_t n, size_t *b, size_t *e)
{
    int p = before(s, *b);
    if (is_alnum(p) || p == ':' || p == '.')
        return false;
    for (size_t end = *e; end > *b + 1; end--) {
        if (is_alnum(at(s, n, end)) || end - *b >= 46)
            continue;
        if (at(s, n, end) == ':' && end != *e)
            continue;
        char buf[48];
        memcpy(buf, s + *b, end - *b);
        buf[end - *b] = '\0';
        bool digit = false;
        for (size_t i = 0; buf[i]; i++)
            digit |= is_digit(buf[i]);
        unsigned char addr[16];
        /* A digit somewhere: "dead::beef" in a sentence is more often prose or code than an
         * address, "fe80::1" is an address. */
        if (digit && inet_pton(AF_INET6, buf, addr) == 1) {
            *e = end;
            return true;
        }
    }
    return false;
}

/* Phones: international form (+ and 8..15 digits), North American (3-3-4 with separators) and
 * national forms with a trunk 0 (9..11 digits). Digits glued to letters, to other digits or to a
 * '.' followed by a digit (a version, a decimal) are not a phone. */
static bool check_phone(const char *s, size_t n, size_t *b, size_t *e)
{
    int p = before(s, *b);
    /* inside a longer run of digit groups (an account number, a list of numbers) */
    if (is_alnum(p) || p == '+' || p == '.' || p == '/' || p == ':' ||
        ((p == '-' || p == ' ') && *b > 1 && is_digit(before(s, *b - 1))))
        return false;
    while (*e > *b && (s[*e - 1] == ' ' || s[*e - 1] == '-' || s[*e - 1] == '.'))
        (*e)--;
    int next = at(s, n, *e);
    if (is_alnum(next) || ((next == '.' || next == ':' || next == '-') && is_digit(at(s, n, *e + 1))))
        return false;
    size_t digits = 0;
    for (size_t i = *b; i < *e; i++)
        digits += is_digit(s[i]);
    if (s[*b] == '+')
        return digits >= 8 && digits <= 15;
    return digits >= 9 && digits <= 12;
}

/* ---- features ------------------------------------------------------------------------------
 * One pass over the text tells which detectors can match at all, so a prompt without a digit run,
 * an '@' or a key prefix costs one scan instead of a regular-expression search per detector. Each
 * feature is implied by any match of its detector's pattern (never the reverse), so a detector it
 * rules out could not have matched. Multi-byte features are tested at their rarest byte ('J' of
 * "eyJ", '-' of "sk-", '_' of "gh?_"), so the lowercase letters and spaces that make most of a
 * prompt are skipped in a tight loop. */

enum {
    F_AT = 1 << 0,        /* '@' */
    F_EYJ = 1 << 1,       /* "eyJ" */
    F_BEARER = 1 << 2,    /* "bearer", any case */
    F_SK = 1 << 3,        /* "sk-" */
    F_AKIA = 1 << 4,      /* "AKIA" or "ASIA" */
    F_SECRET = 1 << 5,    /* "secret", any case */
    F_GH = 1 << 6,        /* "gh" followed by a letter and '_', or "github_pat_" */
    F_COLONS = 1 << 7,    /* ':', at most 4 hex digits, ':' (two groups of an IPv6 address) */
    F_DOTTED = 1 << 8,    /* four runs of digits joined by single dots */
    F_IBAN = 1 << 9,      /* two capitals and two digits */
    F_DIG8 = 1 << 10,     /* 8 digits or more in a run (single separators between digits) */
    F_DIG13 = 1 << 11,    /* 13 or more */
};

/* Bytes that change no feature state once the digit run is over and no ':' is pending:
 * lowercase letters but 'b' and 's' (which may start "bearer", "secret"), white space and the
 * punctuation no feature looks at, and every non-ASCII byte. */
static const bool plain[256] = {
    ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [' '] = 1, ['!'] = 1, ['"'] = 1, ['#'] = 1, ['$'] = 1,
    ['%'] = 1, ['&'] = 1, ['\''] = 1, ['('] = 1, [')'] = 1, ['*'] = 1, ['+'] = 1, [','] = 1,
    ['/'] = 1, [';'] = 1, ['<'] = 1, ['='] = 1, ['>'] = 1, ['?'] = 1, ['['] = 1, ['\\'] = 1,
    [']'] = 1, ['^'] = 1, ['`'] = 1, ['{'] = 1, ['|'] = 1, ['}'] = 1, ['~'] = 1,
    ['a'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
    ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1,
    ['r'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
    [0x80 ... 0xFF] = 1,
};

/* s[0..n) starts with the letters of word (lowercase), in any case. */
static bool starts_nocase(const char *s, size_t n, const char *word, size_t m)
{
    if (n < m)
        return false;
    for (size_t k = 0; k < m; k++)
        if (((unsigned char)s[k] | 32) != (unsigned char)word[k])
            return false;
    return true;
}

static unsigned text_features(const char *s, size_t n)
{
    unsigned f = 0;
    size_t run = 0;       /* digits in the current run */
    bool sep = false;     /* the last byte was one separator after a digit */
    int groups = 0;       /* digit runs each followed by one '.', chained */
    bool in_digits = false;
    int hex = -1;         /* hex digits since the last ':', or -1 when no ':' is pending */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (run == 0 && hex < 0 && plain[c]) {
            /* nothing pending: such bytes only break a dotted chain */
            while (i + 1 < n && plain[(unsigned char)s[i + 1]])
                i++;
            groups = 0;
            in_digits = false;
            continue;
        }
        if (is_digit(c)) {
            run++;
            sep = false;
            if (run >= 8)
                f |= run >= 13 ? F_DIG8 | F_DIG13 : F_DIG8;
            in_digits = true;
            if (groups >= 3)
                f |= F_DOTTED;
            if (hex >= 0 && ++hex > 4)
                hex = -1;
            continue;
        }
        if (run && !sep && (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')'))
            sep = true;
        else if (!(c == ')' || c == ' ' || c == '(') || !sep)
            run = 0, sep = false;
        if (c == '.' && in_digits)
            groups++;
        else
            groups = 0;
        in_digits = false;
        if (c == ':') {
            if (hex >= 0)
                f |= F_COLONS;
            hex = 0;
        } else if (hex >= 0 && (c | 32) >= 'a' && (c | 32) <= 'f') {
            if (++hex > 4)
                hex = -1;
        } else {
            hex = -1;
        }
        switch (c) {
        case '@': f |= F_AT; break;
        case '-':
            if (i >= 2 && s[i - 2] == 's' && s[i - 1] == 'k')
                f |= F_SK;
            break;
        case '_':
            if ((i >= 3 && s[i - 3] == 'g' && s[i - 2] == 'h' && is_alnum(s[i - 1])) ||
                (i >= 10 && memcmp(s + i - 10, "github_pat", 10) == 0))
                f |= F_GH;
            break;
        case 'b': case 'B':
            if (starts_nocase(s + i, n - i, "bearer", 6))
                f |= F_BEARER;
            break;
        case 's': case 'S':
            if (starts_nocase(s + i, n - i, "secret", 6))
                f |= F_SECRET;
            break;
        default:
            break;
        }
        if (c >= 'A' && c <= 'Z') {
            if (c == 'J' && i >= 2 && s[i - 2] == 'e' && s[i - 1] == 'y')
                f |= F_EYJ;
            if (c == 'A' && i + 4 <= n &&
                (memcmp(s + i, "AKIA", 4) == 0 || memcmp(s + i, "ASIA", 4) == 0))
                f |= F_AKIA;
            if (i + 4 <= n && s[i + 1] >= 'A' && s[i + 1] <= 'Z' && is_digit(s[i + 2]) &&
                is_digit(s[i + 3]))
                f |= F_IBAN;
        }
    }
    return f;
}

/* ---- the table --------------------------------------------------------------------------- */

struct builtin {
    const char *name;
    const char *pattern;
    check_fn check;
    bool group;              /* redact capture group 1 only (the secret after its label) */
    unsigned needs;          /* features (below) the text must show to be searched at all */
};

static const struct builtin builtins[] = {
    {"jwt", "eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*", check_jwt, false,
     F_EYJ},
    {"bearer_token", "(?i)bearer[ \\t]+([A-Za-z0-9._~+/-]{16,}=*)", check_bearer, true,
     F_BEARER},
    {"anthropic_key", "sk-ant-[A-Za-z0-9_-]{20,}", check_key, false, F_SK},
    {"openai_key", "sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}", check_key, false, F_SK},
    {"aws_access_key", "(?:AKIA|ASIA)[A-Z0-9]{16}", check_alone, false, F_AKIA},
    {"aws_secret_key",
     "(?i)(?:aws_?secret_?(?:access_?)?key|secret_?access_?key)[\\\\\"']{0,3}[ \\t]*[:=][ \\t]*"
     "[\\\\\"']{0,3}([A-Za-z0-9/+=]{40})",
     check_group, true, F_SECRET},
    {"github_token", "(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}",
     check_key, false, F_GH},
    {"email", "[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}", check_email,
     false, F_AT},
    {"iban", "[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,32}", check_iban, false, F_IBAN},
    {"payment_card", "(?:4|5[1-5]|2[2-7]|3[0-9]|6)(?:[ -]?[0-9]){10,18}", check_card, false, F_DIG13},
    {"ipv6", "(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9]{1,3}(?:\\.[0-9]{1,3}){3}|[0-9A-Fa-f]{1,4})?",
     check_ipv6, false, F_COLONS},
    {"ipv4", "(?:[0-9]{1,3}\\.){3}[0-9]{1,3}", check_ipv4, false, F_DOTTED},
    {"phone",
     "\\+[1-9](?:[ .-]?\\(?[0-9]\\)?){7,14}|\\(?[0-9]{3}\\)?[ .-]?[0-9]{3}[ .-][0-9]{4}|"
     "0[1-9](?:[ .-]?[0-9]){7,10}",
     check_phone, false, F_DIG8},
};
#define NBUILTIN (sizeof builtins / sizeof builtins[0])

const char *const gc_builtin_detectors[] = {
    "jwt", "bearer_token", "anthropic_key", "openai_key", "aws_access_key", "aws_secret_key",
    "github_token", "email", "iban", "payment_card", "ipv6", "ipv4", "phone", NULL};

struct detector {
    char *name;
    char *marker;
    size_t marker_len;
    struct regex *re;
    const struct builtin *b;   /* NULL for a configured pattern */
};

struct gc_detectors {
    struct detector *d;
    size_t n;
};

static char *make_marker(const char *tmpl, const char *kind)
{
    size_t kl = strlen(kind), cap = strlen(tmpl) + 1;
    for (const char *p = tmpl; (p = strstr(p, "{kind}")); p += 6)
        cap += kl;
    char *m = malloc(cap), *o = m;
    if (!m)
        return NULL;
    for (const char *p = tmpl; *p;) {
        if (strncmp(p, "{kind}", 6) == 0) {
            memcpy(o, kind, kl);
            o += kl;
            p += 6;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return m;
}

static int add_detector(struct gc_detectors *d, const char *name, const char *pattern,
                        const struct builtin *b, const char *marker, struct error *err)
{
    struct detector *x = &d->d[d->n];
    x->re = regex_compile(pattern, strlen(pattern), err);
    if (!x->re)
        return -1;
    d->n++;
    x->b = b;
    x->name = strdup(name);
    x->marker = make_marker(marker, name);
    if (!x->name || !x->marker)
        return error_set(err, "out of memory");
    x->marker_len = strlen(x->marker);
    return 0;
}

struct gc_detectors *gc_detectors_new(bool all_builtins, const char *const *enabled,
                                      size_t n_enabled, const struct gc_pattern *patterns,
                                      size_t n_patterns, const char *marker, struct error *err)
{
    struct gc_detectors *d = calloc(1, sizeof *d);
    if (d)
        d->d = calloc(NBUILTIN + n_patterns + 1, sizeof *d->d);
    if (!d || !d->d) {
        free(d);
        error_set(err, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n_enabled && !all_builtins; i++) {
        size_t k = 0;
        while (k < NBUILTIN && strcmp(builtins[k].name, enabled[i]) != 0)
            k++;
        if (k == NBUILTIN) {
            error_set(err, "detectors[%zu]: unknown detector '%s'; known: jwt, bearer_token, "
                      "anthropic_key, openai_key, aws_access_key, aws_secret_key, github_token, "
                      "email, iban, payment_card, ipv6, ipv4, phone", i, enabled[i]);
            gc_detectors_free(d);
            return NULL;
        }
    }
    for (size_t i = 0; i < n_patterns; i++)
        if (add_detector(d, patterns[i].name, patterns[i].regex, NULL, marker, err) != 0) {
            error_prefix(err, "patterns[%zu] (%s): ", i, patterns[i].name);
            gc_detectors_free(d);
            return NULL;
        }
    for (size_t k = 0; k < NBUILTIN; k++) {
        bool on = all_builtins;
        for (size_t i = 0; i < n_enabled && !on; i++)
            on = strcmp(builtins[k].name, enabled[i]) == 0;
        if (on && add_detector(d, builtins[k].name, builtins[k].pattern, &builtins[k], marker,
                               err) != 0) {
            error_prefix(err, "detector %s: ", builtins[k].name);
            gc_detectors_free(d);
            return NULL;
        }
    }
    return d;
}

void gc_detectors_free(struct gc_detectors *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        regex_free(d->d[i].re);
        free(d->d[i].name);
        free(d->d[i].marker);
    }
    free(d->d);
    free(d);
}

size_t gc_detectors_count(const struct gc_detectors *d) { return d->n; }
const char *gc_detector_name(const struct gc_detectors *d, size_t i) { return d->d[i].name; }

/* ---- redaction --------------------------------------------------------------------------- */

struct hit {
    size_t b, e;
    size_t det;
};

struct hits {
    struct hit *h;
    size_t n, cap;
};

static int hits_add(struct hits *hs, size_t b, size_t e, size_t det)
{
    if (hs->n == hs->cap) {
        size_t cap = hs->cap ? hs->cap * 2 : 16;
        struct hit *h = realloc(hs->h, cap * sizeof *h);
        if (!h)
            return -1;
        hs->h = h;
        hs->cap = cap;
    }
    hs->h[hs->n++] = (struct hit){b, e, det};
    return 0;
}

static int hit_cmp(const void *a, const void *b)
{
    const struct hit *x = a, *y = b;
    if (x->b != y->b)
        return x->b < y->b ? -1 : 1;
    if (x->det != y->det)
        return x->det < y->det ? -1 : 1;
    return x->e > y->e ? -1 : x->e < y->e;
}

/* Steps over one UTF-8 character from s[i]. */
static size_t next_char(const char *s, size_t n, size_t i)
{
    i++;
    while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
        i++;
    return i;
}

/* Built-in candidates are short (the longest bounded one, an IBAN with spaces, is under 50
 * bytes), so a built-in searches the text in windows: each search sees at most WINDOW bytes, and
 * consecutive windows overlap by OVERLAP, so a candidate that starts near a window's end is seen
 * whole by the next. A match that reaches the end of its window may go on: it is searched again
 * in a window twice as long; an unbounded value (a key, a JWT) running across the overlap is
 * searched again from its start. This keeps a text
 * with many candidates linear, where a search over the whole rest of the text at every candidate
 * would not be. Configured patterns, whose matches may be of any length, see the whole rest. */
#define WINDOW 4096
#define OVERLAP 1024
#define LABEL_ROOM 64

/* Characters of the unbounded values (keys, tokens, JWTs, e-mail addresses). */
static bool is_value_char(int c)
{
    return is_alnum(c) || (c && strchr("._-+/=%@~", c));
}

static size_t char_start(const char *s, size_t n, size_t i)
{
    while (i > 0 && i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    return i;
}

/* Adds every range detector x finds to hs; with hs NULL, returns 1 at the first instead. */
static int find_all(const struct detector *x, size_t det, const char *s, size_t n,
                    unsigned features, struct hits *hs)
{
    if (x->b && (x->b->needs & features) != x->b->needs)
        return 0;
    size_t pos = 0, win = WINDOW;
    long st[2], en[2];
    int groups = x->b && x->b->group ? 2 : 1;
    while (pos <= n) {
        size_t len = n - pos;
        bool cut = false;
        if (x->b && len > win) {
            len = char_start(s, n, pos + win) - pos;
            cut = true;
        }
        if (!regex_submatch(x->re, s + pos, len, st, en, groups)) {
            if (!cut)
                return 0;
            /* The next window starts OVERLAP before this one's end; a value already running
             * there (a token longer than OVERLAP) is taken from its start, with room for a
             * label before it ("Bearer "). When that gives no progress, the window grows. */
            size_t np = pos + len - OVERLAP;
            while (np > pos && is_value_char(s[np - 1]))
                np--;
            np = char_start(s, n, np > pos + LABEL_ROOM ? np - LABEL_ROOM : pos);
            if (np <= pos)
                win *= 2;
            else
                pos = np;
            continue;
        }
        if (cut && (size_t)en[0] == len) {
            win *= 2; /* the match may go on past the window */
            continue;
        }
        win = WINDOW;
        size_t mb = pos + (size_t)st[0], me = pos + (size_t)en[0];
        size_t b = mb, e = me;
        if (groups == 2 && st[1] >= 0) {
            b = pos + (size_t)st[1];
            e = pos + (size_t)en[1];
        }
        bool ok = e > b && (!x->b || x->b->check(s, n, &b, &e));
        if (ok && !hs)
            return 1;
        if (ok) {
            if (hits_add(hs, b, e, det) != 0)
                return -1;
            pos = me > mb ? me : next_char(s, n, mb);
        } else {
            pos = next_char(s, n, mb);
        }
    }
    return 0;
}

/* Length of the valid UTF-8 sequence at s[i] (shortest form, no surrogates, at most U+10FFFF),
 * or 0 when the byte starts none. */
static size_t utf8_len(const unsigned char *s, size_t n, size_t i)
{
    unsigned char c = s[i];
    if (c < 0x80)
        return 1;
    size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (!len || len > n - i)
        return 0;
    uint32_t cp = c & (0x7F >> len);
    for (size_t k = 1; k < len; k++) {
        if ((s[i + k] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i + k] & 0x3F);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* A copy of s with each byte that starts no valid UTF-8 sequence replaced by U+FFFD, or NULL
 * (with *nomem false) when s is valid already. The regex shim would make that copy at every
 * search; made once here, a text with many candidates stays linear. */
static char *utf8_sanitized(const char *s, size_t n, size_t *out_len, bool *nomem)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, bad = 0;
    while (i < n) {
        uint64_t w;
        if (n - i >= 8 && (memcpy(&w, u + i, 8), !(w & 0x8080808080808080ULL))) {
            i += 8; /* eight ASCII bytes */
            continue;
        }
        size_t l = utf8_len(u, n, i);
        bad += !l;
        i += l ? l : 1;
    }
    *nomem = false;
    if (!bad)
        return NULL;
    char *o = malloc(n + 2 * bad + 1);
    if (!o) {
        *nomem = true;
        return NULL;
    }
    size_t w = 0;
    for (i = 0; i < n;) {
        size_t l = utf8_len(u, n, i);
        if (l) {
            memcpy(o + w, s + i, l);
            w += l;
            i += l;
        } else {
            memcpy(o + w, "\xEF\xBF\xBD", 3);
            w += 3;
            i++;
        }
    }
    o[w] = '\0';
    *out_len = w;
    return o;
}

static long redact_valid(const struct gc_detectors *d, const char *s, size_t n, char **out,
                         size_t *out_len, uint64_t *counts);

static int detect_valid(const struct gc_detectors *d, const char *s, size_t n)
{
    unsigned features = text_features(s, n);
    for (size_t i = 0; i < d->n; i++) {
        int r = find_all(&d->d[i], i, s, n, features, NULL);
        if (r != 0)
            return r;
    }
    return 0;
}

int gc_detect(const struct gc_detectors *d, const char *s, size_t n)
{
    bool nomem;
    size_t cl = 0;
    char *clean = utf8_sanitized(s, n, &cl, &nomem);
    if (nomem)
        return -1;
    if (!clean)
        return detect_valid(d, s, n);
    int r = detect_valid(d, clean, cl);
    free(clean);
    return r;
}

long gc_redact(const struct gc_detectors *d, const char *s, size_t n, char **out, size_t *out_len,
               uint64_t *counts)
{
    bool nomem;
    size_t cl = 0;
    char *clean = utf8_sanitized(s, n, &cl, &nomem);
    if (nomem)
        return -1;
    if (!clean)
        return redact_valid(d, s, n, out, out_len, counts);
    /* Found something: the text leaves as valid UTF-8 (U+FFFD where a byte was not). */
    long k = redact_valid(d, clean, cl, out, out_len, counts);
    free(clean);
    return k;
}

static long redact_valid(const struct gc_detectors *d, const char *s, size_t n, char **out,
                         size_t *out_len, uint64_t *counts)
{
    struct hits hs = {0};
    unsigned features = text_features(s, n);
    for (size_t i = 0; i < d->n; i++)
        if (find_all(&d->d[i], i, s, n, features, &hs) != 0) {
            free(hs.h);
            return -1;
        }
    if (hs.n == 0)
        return 0;
    qsort(hs.h, hs.n, sizeof *hs.h, hit_cmp);
    /* Union of overlapping ranges; the first (leftmost, then highest priority) names it. */
    size_t m = 0;
    for (size_t i = 1; i < hs.n; i++) {
        if (hs.h[i].b < hs.h[m].e) {
            if (hs.h[i].e > hs.h[m].e)
                hs.h[m].e = hs.h[i].e;
        } else {
            hs.h[++m] = hs.h[i];
        }
    }
    m++;
    size_t len = n;
    for (size_t i = 0; i < m; i++)
        len = len - (hs.h[i].e - hs.h[i].b) + d->d[hs.h[i].det].marker_len;
    char *o = malloc(len + 1);
    if (!o) {
        free(hs.h);
        return -1;
    }
    size_t w = 0, r = 0;
    for (size_t i = 0; i < m; i++) {
        const struct detector *x = &d->d[hs.h[i].det];
        memcpy(o + w, s + r, hs.h[i].b - r);
        w += hs.h[i].b - r;
        memcpy(o + w, x->marker, x->marker_len);
        w += x->marker_len;
        r = hs.h[i].e;
        if (counts)
            counts[hs.h[i].det]++;
    }
    memcpy(o + w, s + r, n - r);
    w += n - r;
    o[w] = '\0';
    free(hs.h);
    *out = o;
    *out_len = w;
    return (long)m;
}
