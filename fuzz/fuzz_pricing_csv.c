/* fuzz_pricing_csv.c — our pricing CSV importer (pricing/prices.csv's format: header, RFC 4180
 * quoting, price/discount/alias/pattern rows), from memory into an in-memory DB.
 * The one idea and the assertions are in fuzz_pricing.h: memory safety, idempotence. */
#include "fuzz/fuzz_pricing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_pricing_run(PRICING_IMPORT_CSV, data, size);
}
