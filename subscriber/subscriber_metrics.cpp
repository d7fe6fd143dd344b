#include "subscriber_metrics.hpp"

#include <map>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "metrics_endpoint.hpp"

namespace shmsnap::app {

namespace {

// Latency buckets from 1 us to ~1 s, x2 each: shared-memory delivery is
// microseconds; the tail under load is milliseconds.
prometheus::Histogram::BucketBoundaries latency_buckets() {
  prometheus::Histogram::BucketBoundaries bounds;
  for (double seconds = 1e-6; seconds < 1.5; seconds *= 2) {
    bounds.push_back(seconds);
  }
  return bounds;
}

}  // namespace

struct SubscriberMetrics::State {
  struct Topic {
    prometheus::Counter* refreshes = nullptr;
    prometheus::Counter* skipped = nullptr;
    prometheus::Gauge* stale = nullptr;
    prometheus::Gauge* attached = nullptr;
    prometheus::Histogram* latency = nullptr;
  };

  std::string id;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& refreshes = prometheus::BuildCounter()
                                                           .Name("shmsnap_subscriber_refreshes_total")
                                                           .Help("snapshots delivered by this subscriber")
                                                           .Register(*registry);
  prometheus::Family<prometheus::Counter>& skipped = prometheus::BuildCounter()
                                                         .Name("shmsnap_subscriber_skipped_total")
                                                         .Help("publishes never seen (latest-value semantics)")
                                                         .Register(*registry);
  prometheus::Family<prometheus::Gauge>& stale = prometheus::BuildGauge()
                                                     .Name("shmsnap_subscriber_stale")
                                                     .Help("1 while the last delivered state is stale")
                                                     .Register(*registry);
  prometheus::Family<prometheus::Gauge>& attached = prometheus::BuildGauge()
                                                        .Name("shmsnap_subscriber_attached")
                                                        .Help("1 while the topic's publisher is followed")
                                                        .Register(*registry);
  prometheus::Family<prometheus::Histogram>& latency = prometheus::BuildHistogram()
                                                           .Name("shmsnap_subscriber_latency_seconds")
                                                           .Help("receive - publish time of delivered snapshots")
                                                           .Register(*registry);
  std::map<std::string, Topic> topics;  // daemon thread only

  std::unique_ptr<metrics::MetricsEndpoint> endpoint;  // last: stops serving before the metrics go

  Topic& topic(const std::string& name) {
    auto found = topics.find(name);
    if (found == topics.end()) {
      const prometheus::Labels labels{{"topic", name}, {"subscriber", id}};
      Topic entry{&refreshes.Add(labels), &skipped.Add(labels), &stale.Add(labels), &attached.Add(labels),
                  &latency.Add(labels, latency_buckets())};
      found = topics.emplace(name, entry).first;
    }
    return found->second;
  }
};

SubscriberMetrics::SubscriberMetrics(const http::Endpoint& endpoint, bool allow_remote,
                                     const std::string& subscriber_id)
    : state_(std::make_unique<State>()) {
  state_->id = subscriber_id;
  state_->endpoint = std::make_unique<metrics::MetricsEndpoint>(endpoint, allow_remote, "--metrics", state_->registry);
}

SubscriberMetrics::~SubscriberMetrics() = default;

void SubscriberMetrics::record_refresh(const std::string& topic, std::int64_t latency_ns, std::uint64_t skipped,
                                       bool stale) {
  State::Topic& entry = state_->topic(topic);
  entry.refreshes->Increment();
  if (skipped > 0) {
    entry.skipped->Increment(static_cast<double>(skipped));
  }
  entry.stale->Set(stale ? 1 : 0);
  if (latency_ns >= 0) {
    entry.latency->Observe(static_cast<double>(latency_ns) / 1e9);
  }
}

void SubscriberMetrics::record_attached(const std::string& topic, bool attached) {
  state_->topic(topic).attached->Set(attached ? 1 : 0);
}

http::Endpoint SubscriberMetrics::endpoint() const {
  return state_->endpoint->endpoint();
}

}  // namespace shmsnap::app
