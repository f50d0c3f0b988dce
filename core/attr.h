/* attr.h — reading OTLP attribute values as every LLM component must agree on them: a token
 * count the cost processor prices is the count the llm_metrics connector adds up, so both read
 * numbers, counts and strings through these few functions.
 *
 * All functions are pure and thread-safe; they borrow the values they are given and return
 * pointers into them (valid as long as the message they belong to). */
#ifndef LLMOTLP_ATTR_H
#define LLMOTLP_ATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "opentelemetry/proto/common/v1/common.pb-c.h"

/* The value of the first attribute named `key`, or NULL. Linear: attribute lists are short. */
const Opentelemetry__Proto__Common__V1__AnyValue *attr_find(
    Opentelemetry__Proto__Common__V1__KeyValue *const *kvs, size_t n, const char *key);
/* A non-empty string value, or NULL (other types, empty strings, NULL). */
const char *attr_str(const Opentelemetry__Proto__Common__V1__AnyValue *v);
/* A finite number from an int, a double, or a string that is wholly a number (legacy emitters
 * send "0.5"); false otherwise. */
bool attr_number(const Opentelemetry__Proto__Common__V1__AnyValue *v, double *out);
/* A token count: a non-negative int, or a double or string holding a whole non-negative number
 * up to 9e15; false otherwise (a fractional or negative count is not a count). */
bool attr_count(const Opentelemetry__Proto__Common__V1__AnyValue *v, int64_t *out);

#endif
