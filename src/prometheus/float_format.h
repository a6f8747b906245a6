// Floats as Prometheus writes them (Go's strconv 'g' with the shortest precision: "0.5",
// "100000", "1e+06", "1e-05"; "+Inf", "-Inf", "NaN"), so `le` and `quantile` label values match
// what Prometheus client libraries expose and users write in queries. Pure.
#pragma once

#include <string>

namespace otlpd::prometheus {

void appendFloat(double value, std::string& out);
inline std::string formatFloat(double value) {
  std::string s;
  appendFloat(value, s);
  return s;
}

}  // namespace otlpd::prometheus
