/* attr.c — OTLP attribute values read one way for every component (see attr.h). */
#include "core/attr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define V_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define V_DOUBLE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE

const Opentelemetry__Proto__Common__V1__AnyValue *attr_find(
    Opentelemetry__Proto__Common__V1__KeyValue *const *kvs, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (kvs[i] && kvs[i]->key && strcmp(kvs[i]->key, key) == 0)
            return kvs[i]->value;
    return NULL;
}

const char *attr_str(const Opentelemetry__Proto__Common__V1__AnyValue *v)
{
    return v && v->value_case == V_STRING && v->string_value && v->string_value[0]
               ? v->string_value
               : NULL;
}

bool attr_number(const Opentelemetry__Proto__Common__V1__AnyValue *v, double *out)
{
    if (!v)
        return false;
    switch (v->value_case) {
    case V_INT:
        *out = (double)v->int_value;
        return true;
    case V_DOUBLE:
        *out = v->double_value;
        break;
    case V_STRING: {
        if (!v->string_value || !v->string_value[0])
            return false;
        char *end;
        *out = strtod(v->string_value, &end);
        if (end == v->string_value)
            return false;
        while (*end == ' ')
            end++;
        if (*end != '\0')
            return false;
        break;
    }
    default:
        return false;
    }
    return isfinite(*out);
}

bool attr_count(const Opentelemetry__Proto__Common__V1__AnyValue *v, int64_t *out)
{
    if (v && v->value_case == V_INT) {
        if (v->int_value < 0)
            return false;
        *out = v->int_value;
        return true;
    }
    double d;
    if (!attr_number(v, &d) || d < 0 || d != floor(d) || d > 9e15)
        return false;
    *out = (int64_t)d;
    return true;
}
