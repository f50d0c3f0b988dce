/* test_regex.c — core/regex against the behaviour of Go's regexp, which the Collector uses for
 * every pattern of its config. Each case is what Go's documented syntax (pkg regexp/syntax)
 * says a pattern does; the expected values are Go's MatchString results.
 *
 * The one idea: the shim is checked through its C API only, on subjects given as (pointer,
 * length) with bytes after the end that would change the answer if they were read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/regex.h"

static struct regex *must(const char *pattern)
{
    struct error err = {0};
    struct regex *re = regex_compile(pattern, strlen(pattern), &err);
    if (!re)
        fail_msg("'%s' does not compile: %s", pattern, err.msg);
    return re;
}

static bool search(const char *pattern, const char *s)
{
    struct regex *re = must(pattern);
    bool hit = regex_search(re, s, strlen(s));
    regex_free(re);
    return hit;
}

/* The error message for a pattern that must not compile. */
static const char *compile_error(const char *pattern, struct error *err)
{
    struct regex *re = regex_compile(pattern, strlen(pattern), err);
    if (re) {
        regex_free(re);
        fail_msg("'%s' compiled; Go's regexp refuses it", pattern);
    }
    assert_true(err->msg[0] != '\0');
    return err->msg;
}

static void test_perl_classes(void **state)
{
    (void)state;
    /* The Collector's documented example: \d is a digit class, not the letter d (POSIX ERE). */
    assert_true(search("^/v1/name/\\d+$", "/v1/name/123"));
    assert_false(search("^/v1/name/\\d+$", "/v1/name/ddd"));
    assert_true(search("^\\w+$", "snake_case9"));
    assert_false(search("^\\w+$", "kebab-case"));
    assert_true(search("a\\sb", "a\tb"));
    assert_false(search("a\\Sb", "a b"));
    /* \d is ASCII only in Go, even for Unicode digits. */
    assert_false(search("^\\d$", "\xd9\xa3")); /* ARABIC-INDIC DIGIT THREE */
}

static void test_unanchored_search(void **state)
{
    (void)state;
    /* Go's MatchString finds a match anywhere unless the pattern anchors it. */
    assert_true(search("gpt", "openai/gpt-4o"));
    assert_false(search("^gpt", "openai/gpt-4o"));
    assert_false(search("gpt$", "openai/gpt-4o"));
    assert_true(search("\\Aopenai", "openai/gpt-4o"));
    assert_true(search("4o\\z", "openai/gpt-4o"));
    /* $ without (?m) is the end of the text only, not before a final newline (unlike Perl). */
    assert_false(search("a$", "a\n"));
    assert_true(search("(?m)a$", "a\nb"));
    assert_false(search("a$", "a\nb"));
}

static void test_full_match(void **state)
{
    (void)state;
    struct regex *re = must("gpt-4o|gpt-4");
    assert_true(regex_full_match(re, "gpt-4o", 6));
    assert_true(regex_full_match(re, "gpt-4", 5));
    /* Leftmost-first would stop at gpt-4 in "gpt-4o"; a full match must still take gpt-4o. */
    assert_false(regex_full_match(re, "gpt-4o-mini", 11));
    assert_true(regex_search(re, "gpt-4o-mini", 11));
    regex_free(re);
}

static void test_word_boundary(void **state)
{
    (void)state;
    assert_true(search("\\bcat\\b", "a cat sat"));
    assert_false(search("\\bcat\\b", "concatenate"));
    assert_true(search("\\Bcat\\B", "concatenate"));
}

static void test_flags(void **state)
{
    (void)state;
    assert_true(search("(?i)^error$", "ERROR"));
    assert_false(search("^error$", "ERROR"));
    /* A flag group scoped to part of the pattern. */
    assert_true(search("^(?i:ab)C$", "aBC"));
    assert_false(search("^(?i:ab)C$", "aBc"));
    /* (?i) folds Unicode too: K matches the Kelvin sign, as in Go. */
    assert_true(search("(?i)^k$", "\xe2\x84\xaa"));
    /* `.` does not match \n unless (?s). */
    assert_false(search("^a.b$", "a\nb"));
    assert_true(search("(?s)^a.b$", "a\nb"));
    /* [^x] does match \n (Go's ClassNL). */
    assert_true(search("^a[^x]b$", "a\nb"));
}

static void test_greediness(void **state)
{
    (void)state;
    /* Non-greedy and ungreedy (?U) are accepted and change nothing for a yes/no match. */
    assert_true(search("^<.+?>$", "<a><b>"));
    assert_true(search("(?U)^a+b$", "aaab"));
    assert_true(search("colou?r", "color"));
    assert_true(search("^(ab){2,3}$", "ababab"));
    assert_false(search("^(ab){2,3}$", "abababab"));
}

static void test_alternation_and_groups(void **state)
{
    (void)state;
    assert_true(search("^(openai|anthropic)/", "anthropic/claude"));
    assert_false(search("^(openai|anthropic)/", "mistral/large"));
    assert_true(search("^(?:a|b)+$", "abba"));
    assert_true(search("^(?P<provider>[a-z]+)/", "openai/x"));
    /* Go 1.22's (?<name>...) spelling of a named group. */
    assert_true(search("^(?<provider>[a-z]+)/", "openai/x"));
    assert_true(search("\\Qa.b\\E$", "xa.b"));
    assert_false(search("\\Qa.b\\E$", "xaxb"));
}

static void test_unicode_classes(void **state)
{
    (void)state;
    assert_true(search("^\\p{L}+$", "h\xc3\xa9llo"));        /* héllo */
    assert_false(search("^\\p{L}+$", "h3llo"));
    assert_true(search("^\\p{Greek}+$", "\xce\xb1\xce\xb2")); /* αβ */
    assert_true(search("^\\PL$", "7"));
    assert_true(search("^[[:alpha:]]+$", "abc"));
    assert_false(search("^[[:alpha:]]+$", "ab1"));
    /* `.` is one code point, not one byte. */
    assert_true(search("^.$", "\xe2\x82\xac")); /* € */
}

static void test_invalid_patterns(void **state)
{
    (void)state;
    struct error err;
    memset(&err, 0, sizeof err);
    assert_non_null(strstr(compile_error("(abc", &err), "missing )"));
    memset(&err, 0, sizeof err);
    assert_non_null(strstr(compile_error("[a-", &err), "missing ]"));
    memset(&err, 0, sizeof err);
    assert_non_null(strstr(compile_error("a**", &err), "bad repetition operator"));
    memset(&err, 0, sizeof err);
    /* Go's limit of 1000 on a repeat count, and on nested counts multiplied together. */
    assert_non_null(strstr(compile_error("x{1001}", &err), "invalid repetition size"));
    memset(&err, 0, sizeof err);
    assert_non_null(strstr(compile_error("((a{100}){100}){100}", &err), "invalid repetition size"));
    memset(&err, 0, sizeof err);
    assert_non_null(strstr(compile_error("\\8", &err), "invalid escape sequence"));
    /* Perl constructs Go does not have. */
    memset(&err, 0, sizeof err);
    assert_non_null(strstr(compile_error("(?=a)", &err), "invalid perl operator"));
    memset(&err, 0, sizeof err);
    assert_non_null(strstr(compile_error("(a)\\1", &err), "invalid escape sequence"));
    /* RE2's "any byte" escape, which Go refuses. */
    memset(&err, 0, sizeof err);
    assert_string_equal(compile_error("a\\Cb", &err), "invalid escape sequence: \\C");
    /* ...but quoted, or as an escaped backslash followed by C, it is plain text. */
    assert_true(search("^\\Q\\C\\E$", "\\C"));
    assert_true(search("^\\\\C$", "\\C"));
    /* An invalid UTF-8 pattern is refused, as by Go. */
    memset(&err, 0, sizeof err);
    assert_non_null(strstr(compile_error("a\xff", &err), "UTF-8"));
}

static void test_memory_bound(void **state)
{
    (void)state;
    /* Within Go's repeat limits, but RE2 compiles a Unicode class into byte ranges, and a
     * thousand copies of \pL would need more than REGEX_MAX_MEM: refused at compile time (Go,
     * whose program keeps \pL as one instruction, accepts this one; a documented difference). */
    struct error err = {0};
    assert_non_null(strstr(compile_error("\\pL{1000}", &err), "pattern too large"));
    memset(&err, 0, sizeof err);
    assert_non_null(strstr(compile_error("[\\pL\\pN]{1000}", &err), "pattern too large"));
    /* The same count of a small class fits. */
    assert_false(search("^x{1000}$", "xx"));
}

static void test_pathological_stays_linear(void **state)
{
    (void)state;
    /* Classic catastrophic backtracking: (a+)+$ against many a's then a b. A backtracking engine
     * takes 2^n steps; RE2 one pass. n = 100000 would not end in a backtracker. */
    size_t n = 100000;
    char *s = malloc(n + 2);
    assert_non_null(s);
    memset(s, 'a', n);
    s[n] = 'b';
    s[n + 1] = '\0';
    struct regex *re = must("^(a+)+$");
    assert_false(regex_search(re, s, n + 1));
    assert_true(regex_search(re, s, n));
    regex_free(re);
    re = must("(x+x+)+y");
    memset(s, 'x', n);
    assert_false(regex_search(re, s, n));
    regex_free(re);
    free(s);
}

static void test_subject_not_nul_terminated(void **state)
{
    (void)state;
    /* The match sees exactly len bytes: what follows them must not count. */
    const char buf[] = {'1', '2', '3', 'x', 'y', 'z'};
    struct regex *re = must("^\\d+$");
    assert_true(regex_search(re, buf, 3));
    assert_false(regex_search(re, buf, 4));
    regex_free(re);
    re = must("xyz");
    assert_false(regex_search(re, buf, 3));
    assert_true(regex_search(re, buf, 6));
    regex_free(re);
    /* NUL bytes inside the subject are text like any other, not its end. */
    const char nul[] = {'a', '\0', 'b'};
    re = must("^a\\x00b$");
    assert_true(regex_search(re, nul, 3));
    regex_free(re);
    re = must("b$");
    assert_true(regex_search(re, nul, 3));
    regex_free(re);
    /* An empty subject. */
    re = must("^$");
    assert_true(regex_search(re, "", 0));
    regex_free(re);
}

static void test_pattern_not_nul_terminated(void **state)
{
    (void)state;
    const char p[] = {'^', 'a', 'b', '$', 'c'};
    struct error err = {0};
    struct regex *re = regex_compile(p, 4, &err);
    assert_non_null(re);
    assert_string_equal(regex_pattern(re), "^ab$");
    assert_true(regex_search(re, "ab", 2));
    regex_free(re);
}

/* Go reads each byte that does not start a valid UTF-8 sequence as U+FFFD (width 1); RE2 in
 * UTF-8 mode would match nothing at such a byte. These are Go's answers. */
static void test_invalid_utf8_subject_as_go(void **state)
{
    (void)state;
    struct regex *re = must("^a.b$");
    assert_true(regex_search(re, "a\xff" "b", 3));
    /* A truncated 3-byte sequence is two invalid bytes, hence two runes. */
    assert_false(regex_search(re, "a\xe2\x82" "b", 4));
    regex_free(re);
    re = must("^a..b$");
    assert_true(regex_search(re, "a\xe2\x82" "b", 4));
    /* An encoded surrogate (ED A0 80) is three invalid bytes in Go. */
    assert_false(regex_search(re, "a\xed\xa0\x80" "b", 5));
    regex_free(re);
    re = must("^a...b$");
    assert_true(regex_search(re, "a\xed\xa0\x80" "b", 5));
    /* An overlong NUL (C0 80) is two. */
    assert_false(regex_search(re, "a\xc0\x80" "b", 4));
    regex_free(re);
    re = must("^a\\x{FFFD}b$");
    assert_true(regex_search(re, "a\x80" "b", 3));
    /* ...and a real U+FFFD is the same rune. */
    assert_true(regex_search(re, "a\xef\xbf\xbd" "b", 5));
    regex_free(re);
    /* [^x] and \PL match an invalid byte; \pL does not. */
    assert_true(search("^[^x]$", "\xfe"));
    assert_true(search("^\\PL$", "\xfe"));
    assert_false(search("^\\pL$", "\xfe"));
    /* Valid text after an invalid byte still matches as itself (€ is one rune). */
    assert_true(search("^.\xe2\x82\xac$", "\xff\xe2\x82\xac"));
    /* Unanchored search across an invalid byte. */
    assert_true(search("gpt", "\xff\xffgpt\xff"));
    /* The largest code point is valid; one past it (F4 90 80 80) is four invalid bytes. */
    assert_true(search("^.$", "\xf4\x8f\xbf\xbf"));
    assert_true(search("^....$", "\xf4\x90\x80\x80"));
}

/* ---- regex_each_match: Go's FindAllStringSubmatchIndex ---- */

struct got {
    long m[64];
    size_t n;
};

static int record(const long *m, size_t n, void *ud)
{
    struct got *g = ud;
    for (size_t i = 0; i < n && g->n < 64; i++)
        g->m[g->n++] = m[i];
    return 0;
}

static struct got find_all(const char *pattern, const char *s, size_t len)
{
    struct regex *re = must(pattern);
    struct got g = { .n = 0 };
    assert_int_equal(regex_each_match(re, s, len, record, &g), 0);
    regex_free(re);
    return g;
}

static void test_each_match_as_go(void **state)
{
    (void)state;
    /* Go's documented FindAllStringSubmatchIndex example: a(x*)b on "-ab-axxb-". */
    struct got g = find_all("a(x*)b", "-ab-axxb-", 9);
    long want1[] = { 1, 3, 2, 2, 4, 8, 5, 7 };
    assert_int_equal(g.n, 8);
    assert_memory_equal(g.m, want1, sizeof want1);
    /* Empty matches: one per rune, none right after a match. */
    g = find_all("a*", "baaab", 5);
    long want2[] = { 0, 0, 1, 4, 5, 5 };
    assert_int_equal(g.n, 6);
    assert_memory_equal(g.m, want2, sizeof want2);
    /* A group that took no part is -1. */
    g = find_all("(a)|b", "b", 1);
    long want3[] = { 0, 1, -1, -1 };
    assert_int_equal(g.n, 4);
    assert_memory_equal(g.m, want3, sizeof want3);
    /* Invalid UTF-8: the bad byte is one U+FFFD rune, offsets are the subject's. */
    g = find_all(".", "a\xff" "b", 3);
    long want4[] = { 0, 1, 1, 2, 2, 3 };
    assert_int_equal(g.n, 6);
    assert_memory_equal(g.m, want4, sizeof want4);
    /* The subject's end is respected (bytes after it would match). */
    g = find_all("x", "axx", 1);
    assert_int_equal(g.n, 0);

    struct regex *re = must("(?P<first>a)(b)(?<third>c)");
    assert_int_equal(regex_num_groups(re), 3);
    assert_int_equal(regex_group_index(re, "first", 5), 1);
    assert_int_equal(regex_group_index(re, "third", 5), 3);
    assert_int_equal(regex_group_index(re, "second", 6), -1);
    regex_free(re);
}

/* Group names and submatch offsets, as Go's SubexpNames and FindStringSubmatchIndex give them;
 * offsets fall on the subject's own bytes even where Go read an invalid byte as U+FFFD. */
static void test_submatch_as_go(void **state)
{
    (void)state;
    struct error err = {0};
    struct regex *re = regex_compile("(?P<a>.)b(c)?(?<d>d)?", 21, &err);
    assert_non_null(re);
    assert_int_equal(regex_num_groups(re), 3);
    assert_string_equal(regex_group_name(re, 1), "a");
    assert_string_equal(regex_group_name(re, 2), "");
    assert_string_equal(regex_group_name(re, 3), "d");
    assert_null(regex_group_name(re, 4));
    long st[4], en[4];
    assert_true(regex_submatch(re, "xxabd", 5, st, en, 4));
    assert_int_equal(st[0], 2);
    assert_int_equal(en[0], 5);
    assert_int_equal(st[1], 2);
    assert_int_equal(en[1], 3);
    assert_int_equal(st[2], -1);
    assert_int_equal(st[3], 4);
    assert_int_equal(en[3], 5);
    assert_true(regex_submatch(re, "\xff" "b", 2, st, en, 2));
    assert_int_equal(st[0], 0);
    assert_int_equal(en[0], 2);
    assert_int_equal(st[1], 0);
    assert_int_equal(en[1], 1);
    assert_false(regex_submatch(re, "zzz", 3, st, en, 4));
    regex_free(re);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_perl_classes),
        cmocka_unit_test(test_unanchored_search),
        cmocka_unit_test(test_full_match),
        cmocka_unit_test(test_word_boundary),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_greediness),
        cmocka_unit_test(test_alternation_and_groups),
        cmocka_unit_test(test_unicode_classes),
        cmocka_unit_test(test_invalid_patterns),
        cmocka_unit_test(test_memory_bound),
        cmocka_unit_test(test_pathological_stays_linear),
        cmocka_unit_test(test_subject_not_nul_terminated),
        cmocka_unit_test(test_pattern_not_nul_terminated),
        cmocka_unit_test(test_invalid_utf8_subject_as_go),
        cmocka_unit_test(test_each_match_as_go),
        cmocka_unit_test(test_submatch_as_go),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
