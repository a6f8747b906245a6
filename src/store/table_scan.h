// The store's scan (otlpd/store/reader.h) one level down: each record batch with matching rows
// as its decoded column table and the rows that match, for readers that want columns rather
// than OTLP requests (the library's span columns).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "otlpd/store/reader.h"
#include "store/columns.h"

namespace otlpd::store {

// `selected[row]` is 1 for the rows that match the query. Returning false stops the scan.
using TableFunction =
    std::function<bool(const ColumnTable& table, const std::vector<uint8_t>& selected)>;

// What StoreReader(directory).scan does, with tables instead of requests. Empty string on
// success, else what went wrong.
std::string scanTables(const std::string& directory, const ScanQuery& query,
                       const TableFunction& on_table, ScanStats* stats = nullptr);

}  // namespace otlpd::store
