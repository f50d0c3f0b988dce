/* pricing_names.c — the model-name rules of the pricing lookup, as tables: each cloud spells one
 * model its own way, and the lookup must land on the one row that prices it.
 *
 * The one idea: a name is peeled in fixed steps (LiteLLM "provider/" prefixes, Bedrock region
 * and vendor prefixes and "-v1:0" suffixes, Vertex "@version", dated suffixes), each step
 * recording the name it leaves, so candidates run from the most specific spelling to the most
 * general; every candidate name is then tried under the span's provider first, then under the
 * providers the name itself hints at (its prefix or vendor) and the maker whose list price a
 * cloud bills (Claude on Bedrock and Vertex → anthropic, Gemini on any Google endpoint →
 * gcp.gemini, Azure OpenAI → openai). A cloud's own row, when an operator adds one, wins because
 * the span's provider comes first. */
#include "core/pricing_names.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* LiteLLM (and OpenRouter-style) "prefix/" → gen_ai.provider.name; NULL = no provider hint. */
static const char *const prefix_providers[][2] = {
    {"openai", "openai"},           {"anthropic", "anthropic"},
    {"gemini", "gcp.gemini"},       {"vertex_ai", "gcp.vertex_ai"},
    {"vertex_ai_beta", "gcp.vertex_ai"}, {"google", "gcp.gemini"},
    {"bedrock", "aws.bedrock"},     {"bedrock_converse", "aws.bedrock"},
    {"azure", "azure.ai.openai"},   {"azure_ai", "azure.ai.inference"},
    {"mistral", "mistral_ai"},      {"mistralai", "mistral_ai"},
    {"groq", "groq"},               {"deepseek", "deepseek"},
    {"xai", "x_ai"},                {"cohere", "cohere"},
    {"perplexity", "perplexity"},   {"watsonx", "ibm.watsonx.ai"},
};

/* Bedrock cross-region inference profiles: "us.anthropic.claude-…". */
static const char *const bedrock_regions[] = {"us.", "us-gov.", "eu.", "apac.", "global.", "jp.",
                                              "au."};

/* Bedrock model ids "vendor.model-…" → the vendor's provider name. */
static const char *const bedrock_vendors[][2] = {
    {"anthropic.", "anthropic"}, {"mistral.", "mistral_ai"}, {"cohere.", "cohere"},
    {"meta.", "meta"},           {"amazon.", "aws.bedrock"}, {"ai21.", "ai21"},
    {"deepseek.", "deepseek"},   {"openai.", "openai"},
};

/* Providers that bill another maker's list price for that maker's models (unless a row of their
 * own exists): span provider, model prefix, the maker. */
static const char *const resellers[][3] = {
    {"aws.bedrock", "claude", "anthropic"},
    {"gcp.vertex_ai", "claude", "anthropic"},
    {"gcp.gen_ai", "claude", "anthropic"},
    {"gcp.vertex_ai", "gemini", "gcp.gemini"},
    {"gcp.gen_ai", "gemini", "gcp.gemini"},
    {"gcp.vertex_ai", "mistral", "mistral_ai"},
    {"aws.bedrock", "mistral", "mistral_ai"},
    {"azure.ai.openai", "", "openai"},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct names {
    char v[8][128];
    const char *rule[8];
    size_t n;
};

static void add_name(struct names *ns, const char *s, const char *rule)
{
    if (!*s || ns->n == N(ns->v) || strlen(s) >= sizeof ns->v[0])
        return;
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i], s) == 0)
            return;
    snprintf(ns->v[ns->n], sizeof ns->v[0], "%s", s);
    ns->rule[ns->n++] = rule;
}

struct provs {
    char v[8][64];
    size_t n;
};

static void add_prov(struct provs *ps, const char *p)
{
    if (!p || ps->n == N(ps->v) || strlen(p) >= sizeof ps->v[0])
        return;
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->v[i], p) == 0)
            return;
    snprintf(ps->v[ps->n++], sizeof ps->v[0], "%s", p);
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* "-2025-04-14" or "-20250929" at the end (a 20xx date): the dated snapshot of the model. */
static bool strip_dated_suffix(char *s)
{
    size_t n = strlen(s);
    if (n > 11 && s[n - 11] == '-' && s[n - 6] == '-' && s[n - 3] == '-' &&
        all_digits(s + n - 10, 4) && all_digits(s + n - 5, 2) && all_digits(s + n - 2, 2) &&
        s[n - 10] == '2') {
        s[n - 11] = '\0';
        return true;
    }
    if (n > 9 && s[n - 9] == '-' && all_digits(s + n - 8, 8) && s[n - 8] == '2' &&
        s[n - 7] == '0') {
        s[n - 9] = '\0';
        return true;
    }
    return false;
}

/* Bedrock's "-v1:0", "-v2", ":0" version suffixes. */
static bool strip_bedrock_version(char *s)
{
    size_t n = strlen(s);
    char *colon = strrchr(s, ':');
    if (colon && colon[1] && all_digits(colon + 1, strlen(colon + 1))) {
        *colon = '\0';
        n = strlen(s);
    } else {
        colon = NULL;
    }
    char *v = strrchr(s, '-');
    if (v && v[1] == 'v' && v[2] && all_digits(v + 2, strlen(v + 2))) {
        *v = '\0';
        return true;
    }
    (void)n;
    return colon != NULL;
}

size_t pricing_name_candidates(const char *provider, const char *model,
                               struct pricing_candidate *out, size_t cap)
{
    struct names ns = {.n = 0};
    struct provs ps = {.n = 0};
    if (!model || !*model || cap == 0)
        return 0;
    if (provider && !*provider)
        provider = NULL;
    if (provider && strlen(provider) >= sizeof out[0].provider)
        return 0; /* no row can have such a provider: nothing to try (nor to hint from) */

    char s[256];
    size_t i = 0;
    for (; model[i] && i + 1 < sizeof s; i++)
        s[i] = (char)tolower((unsigned char)model[i]);
    s[i] = '\0';
    add_name(&ns, model, "exact");
    add_name(&ns, s, "lowercase");
    add_prov(&ps, provider ? provider : "");

    /* LiteLLM "provider/model", possibly nested ("openrouter/openai/gpt-4o"). */
    char *name = s;
    for (char *slash; (slash = strchr(name, '/')) != NULL; name = slash + 1) {
        *slash = '\0';
        for (size_t k = 0; k < N(prefix_providers); k++)
            if (strcmp(name, prefix_providers[k][0]) == 0)
                add_prov(&ps, prefix_providers[k][1]);
    }
    add_name(&ns, name, "provider/ prefix");

    /* Bedrock: [region.]vendor.model[-vN[:M]] */
    bool bedrock = false;
    for (size_t k = 0; k < N(bedrock_regions); k++)
        if (starts(name, bedrock_regions[k]) && strchr(name + strlen(bedrock_regions[k]), '.')) {
            name += strlen(bedrock_regions[k]);
            bedrock = true;
            break;
        }
    for (size_t k = 0; k < N(bedrock_vendors); k++)
        if (starts(name, bedrock_vendors[k][0]) && name[strlen(bedrock_vendors[k][0])]) {
            name += strlen(bedrock_vendors[k][0]);
            add_prov(&ps, bedrock_vendors[k][1]);
            bedrock = true;
            break;
        }
    if (bedrock || (provider && strcmp(provider, "aws.bedrock") == 0))
        strip_bedrock_version(name);
    add_name(&ns, name, "bedrock id");

    /* Vertex "model@20250929" = the dated snapshot "model-20250929"; "@001" etc. = the model. */
    char *at = strchr(name, '@');
    if (at) {
        *at = '\0';
        char dated[300];
        if (strlen(at + 1) == 8 && all_digits(at + 1, 8)) {
            snprintf(dated, sizeof dated, "%.250s-%.8s", name, at + 1);
            add_name(&ns, dated, "vertex @version");
        }
        add_name(&ns, name, "vertex @version");
    }

    /* A dated snapshot falls back to the undated model when no dated row exists. */
    char undated[256];
    snprintf(undated, sizeof undated, "%s", name);
    if (strip_dated_suffix(undated))
        add_name(&ns, undated, "dated suffix");

    /* Who else bills this model: the maker, for a reseller cloud. */
    if (provider)
        for (size_t k = 0; k < N(resellers); k++)
            if (strcmp(provider, resellers[k][0]) == 0 && starts(undated, resellers[k][1]))
                add_prov(&ps, resellers[k][2]);
    for (size_t k = 1; k < ps.n; k++) /* a hinted provider may be a reseller too */
        for (size_t r = 0; r < N(resellers); r++)
            if (strcmp(ps.v[k], resellers[r][0]) == 0 && starts(undated, resellers[r][1]))
                add_prov(&ps, resellers[r][2]);

    size_t n = 0;
    for (size_t a = 0; a < ns.n; a++)
        for (size_t b = 0; b < ps.n && n < cap; b++) {
            snprintf(out[n].provider, sizeof out[n].provider, "%s", ps.v[b]);
            snprintf(out[n].model, sizeof out[n].model, "%s", ns.v[a]);
            out[n].rule = b == 0 ? ns.rule[a] : "provider of the name";
            n++;
        }
    return n;
}
