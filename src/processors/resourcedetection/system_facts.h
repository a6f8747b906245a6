// The system detector's adapter to the host: names, machine id, uname, os-release. The only I/O of
// the resourcedetection processor, run once when it starts.
#pragma once

#include "processors/resourcedetection/detectors.h"

namespace otlpd::processors::resourcedetection {

// Reads the host's facts. The FQDN (a DNS lookup, which may block) only when `want_fqdn`.
SystemFacts readSystemFacts(bool want_fqdn);

}  // namespace otlpd::processors::resourcedetection
