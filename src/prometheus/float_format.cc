#include "prometheus/float_format.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <system_error>

namespace otlpd::prometheus {

void appendFloat(double value, std::string& out) {
  if (std::isnan(value)) {
    out.append("NaN");
    return;
  }
  if (std::isinf(value)) {
    out.append(value > 0 ? "+Inf" : "-Inf");
    return;
  }
  char buf[32];
  // Shortest round-trip digits in scientific form: d[.ddd]e±XX.
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  if (ec != std::errc()) {
    out.append("NaN");
    return;
  }
  const char* p = buf;
  const bool negative = *p == '-';
  if (negative) ++p;
  const char* e = p;
  while (e < end && *e != 'e') ++e;
  // The buffer is not terminated: parse the exponent within it.
  int exponent = 0;
  const char* exp_begin = e + 1;
  if (exp_begin < end && *exp_begin == '+') ++exp_begin;
  std::from_chars(exp_begin, end, exponent);
  // The significant digits without the point.
  char digits[24];
  int nd = 0;
  for (const char* q = p; q < e; ++q) {
    if (*q != '.') digits[nd++] = *q;
  }
  // Go: the exponent form when exp < -4 || exp >= 6 for the shortest precision.
  if (negative) out.push_back('-');
  if (exponent < -4 || exponent >= 6) {
    out.push_back(digits[0]);
    if (nd > 1) {
      out.push_back('.');
      out.append(digits + 1, static_cast<size_t>(nd - 1));
    }
    out.push_back('e');
    const int a = std::abs(exponent);
    out.push_back(exponent < 0 ? '-' : '+');
    if (a < 10) out.push_back('0');
    out.append(std::to_string(a));
    return;
  }
  if (exponent < 0) {
    out.append("0.");
    out.append(static_cast<size_t>(-exponent - 1), '0');
    out.append(digits, static_cast<size_t>(nd));
    return;
  }
  // exponent + 1 digits before the point.
  const int before = exponent + 1;
  if (nd <= before) {
    out.append(digits, static_cast<size_t>(nd));
    out.append(static_cast<size_t>(before - nd), '0');
  } else {
    out.append(digits, static_cast<size_t>(before));
    out.push_back('.');
    out.append(digits + before, static_cast<size_t>(nd - before));
  }
}

}  // namespace otlpd::prometheus
