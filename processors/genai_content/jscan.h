/* jscan.h — a validating scan of GenAI message JSON (gen_ai.input.messages, gen_ai.output.messages,
 * gen_ai.system_instructions) that hands each content string to a visitor, without building a
 * tree and without allocating (except one scratch buffer for a long escaped string).
 *
 * The one idea: most messages have nothing to change, and proving that needs only one pass that
 * checks the text is JSON of the expected shape and shows every content string to the detectors.
 * The scan answers CLEAN only when it is sure the tree walk of policy.c (json-c, strict) would
 * read the same document, find the same shape and see no string the visitor objected to; every
 * other answer sends the value to that walk, which decides as it always did. So the scan may be
 * stricter than json-c (RFC 8259 only: json-c's extensions such as NaN, single quotes, raw control
 * characters or "-01" are left to it), never looser.
 *
 * What is content: in each message part (an object with a string `type`), every string value
 * except those of the structural keys type, id, name, mime_type, modality, and except `content`
 * of a part of type "blob", however deeply nested; object keys are never content. Messages are
 * objects with a string `role` and an array `parts`; for system instructions the root is the
 * parts array itself.
 *
 * Thread-safety: no state outside the call. Errors: GC_JSCAN_NOMEM (the scratch buffer, or the
 * visitor said so). */
#ifndef LLMOTLP_GENAI_CONTENT_JSCAN_H
#define LLMOTLP_GENAI_CONTENT_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

enum gc_jscan {
    GC_JSCAN_CLEAN,    /* valid, of the shape, and the visitor objected to no content string */
    GC_JSCAN_CHANGE,   /* the visitor objected to a content string (the scan stopped there) */
    GC_JSCAN_INVALID,  /* not RFC 8259 JSON, a NUL byte, or a value nested deeper than
                        * GC_JSCAN_DEPTH */
    GC_JSCAN_SHAPE,    /* valid JSON, not the messages shape */
    GC_JSCAN_UNSURE,   /* valid JSON that json-c may read otherwise: invalid UTF-8, a lone
                        * surrogate escape, an escaped key or "type" value in a message or part,
                        * a repeated role, parts or type key */
    GC_JSCAN_NOMEM,
};

/* Values nested deeper than this (the whole text is level 1, scalars count as a level) are
 * refused, as the json-c tokener of policy.c does. */
#define GC_JSCAN_DEPTH 64

/* Sees one content string s[0..n), unescaped (valid UTF-8; may hold NUL bytes from \u0000):
 * 0 to go on, 1 when the string must change (the scan stops, GC_JSCAN_CHANGE), -1 on out of
 * memory. */
typedef int (*gc_jscan_visit)(void *ud, const char *s, size_t n);

/* Scans s[0..n) as an array of messages, or as an array of parts when parts_only (system
 * instructions). visit may be NULL (validation and shape only). */
enum gc_jscan gc_jscan_messages(const char *s, size_t n, bool parts_only, gc_jscan_visit visit,
                                void *ud);

#endif
