#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::processors::lookup {

// `lookup` (otlpd's own): enriches every resource from a table in a CSV, JSON or YAML file keyed
// by resource attributes — deployment metadata, team ownership, SLA tier, compliance class.
//
//   lookup:
//     file: /etc/otlpd/services.csv     # required
//     format: csv                       # csv | json | yaml; default: from the file's extension
//     keys: [service.name]              # resource attributes that key the table (the default)
//     default: "*"                      # the key value of the table's default row (the default),
//                                       # or a mapping of attributes used when no row matches
//     on_conflict: keep                 # keep | overwrite attributes the resource already has
//     reload_interval: 10s              # how often the file is checked for changes; 0 = never
//     attribute_prefix: ""              # put before every column name
//
// The file is loaded at start (a missing or bad file fails the start), then polled (mtime, size,
// inode) and reloaded atomically: each batch is enriched from one table, never a mix. A bad
// version keeps the old table, is logged once and counted (otlpd_lookup_reload_errors_total).
// Hits and misses per processor: otlpd_lookup_hits_total, otlpd_lookup_misses_total.
std::unique_ptr<pipeline::ProcessorFactory> makeLookupFactory();

}  // namespace otlpd::processors::lookup
