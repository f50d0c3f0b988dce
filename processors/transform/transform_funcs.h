/* transform_funcs.h — the OTTL functions of the Collector's transform processor that are not in
 * OTTL's standard library (convert_sum_to_gauge, extract_sum_metric, copy_metric, ...), by the
 * context the Collector registers each in.
 *
 * transform_functions[ctx] is a NULL-terminated list for ottl_statement_parse_ex and
 * ottl_infer_hints_add (NULL where a context has none): metric context convert_sum_to_gauge,
 * convert_gauge_to_sum, extract_sum_metric, extract_count_metric,
 * convert_summary_quantile_val_to_gauge, copy_metric, scale_metric; datapoint context
 * convert_summary_sum_val_to_sum, convert_summary_count_val_to_sum, merge_histogram_buckets.
 * Immutable; the functions are thread-safe as any compiled statement (ottl.h). */
#ifndef LLMOTLP_TRANSFORM_FUNCS_H
#define LLMOTLP_TRANSFORM_FUNCS_H

#include "core/ottl/ottl.h"

extern const struct ottl_function *const *const transform_functions[OTTL_CTX_COUNT];

#endif
