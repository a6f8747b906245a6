// From discovered target groups to scrape targets, as Prometheus builds them: the job's defaults
// as `__`-labels, relabel_configs, a default port, `instance` from `__address__`, and the URL
// from `__scheme__`, `__address__`, `__metrics_path__` and `__param_*`. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "prometheus/scrape_translator.h"
#include "receivers/prometheus/config.h"

namespace otlpd::receivers::prometheus {

struct ResolvedTarget {
  otlpd::prometheus::ScrapeTarget target;  // labels, job, instance, scheme
  std::string host;                        // without brackets
  uint16_t port = 0;
  std::string path_and_query;  // what the GET asks for
  absl::Duration interval;
  absl::Duration timeout;

  std::string url() const;
  // Equal for targets that are the same scrape: URL and labels.
  std::string identity() const;
};

struct TargetResolution {
  std::vector<ResolvedTarget> targets;  // without duplicates
  size_t dropped = 0;                   // by relabel_configs
  std::vector<std::string> errors;      // targets that could not be built, and why
};

TargetResolution resolveTargets(const ScrapeConfig& config, const std::vector<TargetGroup>& groups);

}  // namespace otlpd::receivers::prometheus
