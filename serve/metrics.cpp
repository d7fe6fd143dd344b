#include "metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace shmsnap::serve {
namespace {

using prometheus::Labels;

prometheus::Family<prometheus::Gauge>& gauge(prometheus::Registry& registry, const std::string& name,
                                             const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

prometheus::Family<prometheus::Counter>& counter(prometheus::Registry& registry, const std::string& name,
                                                 const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

// A fresh registry starts every counter at 0, so Increment(total) exposes the total.
void set_counter(prometheus::Family<prometheus::Counter>& family, const Labels& labels, double total) {
  family.Add(labels).Increment(total);
}

double relaxed(const std::atomic<std::uint64_t>& value) {
  return static_cast<double>(value.load(std::memory_order_relaxed));
}

}  // namespace

std::string render_metrics(const ModelSnapshot& model, const ServerStats& stats) {
  prometheus::Registry registry;
  auto& up = gauge(registry, "shmsnap_topic_publisher_up", "1 while the topic's publisher process runs");
  auto& pid = gauge(registry, "shmsnap_topic_publisher_pid", "process id of the topic's publisher");
  auto& epoch = gauge(registry, "shmsnap_topic_epoch", "publisher incarnation; grows when a dead one is replaced");
  auto& stale = gauge(registry, "shmsnap_topic_stale", "1 when the topic has no live publisher");
  auto& published = counter(registry, "shmsnap_topic_published_total", "snapshots published in this epoch");
  auto& rate = gauge(registry, "shmsnap_topic_publish_rate_hertz",
                     "publishes per second, from the publisher's sequence and publish times over the last 10 s");
  auto& age = gauge(registry, "shmsnap_topic_snapshot_age_seconds", "time since the newest snapshot was published");
  auto& heartbeat = gauge(registry, "shmsnap_topic_heartbeat_age_seconds", "time since the publisher's heartbeat");
  auto& heartbeat_future = gauge(registry, "shmsnap_topic_heartbeat_in_future",
                                 "1 when the header's heartbeat is later than now (corrupt or tampered header)");
  auto& refused = gauge(registry, "shmsnap_topic_descriptor_refused",
                        "1 when the topic's schema descriptor was refused; its values are not decoded");
  auto& subscribers = gauge(registry, "shmsnap_topic_subscribers", "entries in the topic's subscriber table");
  auto& notified = counter(registry, "shmsnap_topic_notified_total", "notifications delivered to all subscribers");
  auto& coalesced =
      counter(registry, "shmsnap_topic_coalesced_total", "notifications folded into a pending one (full queue)");
  auto& retries =
      counter(registry, "shmsnap_topic_read_retries_total", "seqlock read retries of this server's own reads");
  auto& valid = gauge(registry, "shmsnap_topic_region_valid", "1 when the topic's region passed validation");
  auto& subscriber_alive = gauge(registry, "shmsnap_subscriber_alive", "1 while the subscriber process runs");
  auto& subscriber_notified =
      counter(registry, "shmsnap_subscriber_notified_total", "notifications delivered to this subscriber");
  auto& subscriber_coalesced = counter(registry, "shmsnap_subscriber_coalesced_total",
                                       "notifications folded into a pending one for this subscriber");

  for (const TopicState& topic : model.topics) {
    const Labels labels{{"prefix", model.prefix}, {"topic", topic.name}};
    valid.Add(labels).Set(topic.valid ? 1 : 0);
    if (!topic.valid) {
      continue;
    }
    up.Add(labels).Set(topic.publisher_up ? 1 : 0);
    pid.Add(labels).Set(topic.publisher_pid);
    epoch.Add(labels).Set(static_cast<double>(topic.epoch));
    stale.Add(labels).Set(topic.stale ? 1 : 0);
    set_counter(published, labels, static_cast<double>(topic.published_total));
    rate.Add(labels).Set(topic.publish_rate_hz);
    if (topic.snapshot_age_seconds) {
      age.Add(labels).Set(*topic.snapshot_age_seconds);
    }
    if (topic.heartbeat_age_seconds) {
      heartbeat.Add(labels).Set(*topic.heartbeat_age_seconds);
    }
    heartbeat_future.Add(labels).Set(topic.heartbeat_in_future ? 1 : 0);
    refused.Add(labels).Set(topic.descriptor_refused ? 1 : 0);
    subscribers.Add(labels).Set(static_cast<double>(topic.subscribers.size()));
    set_counter(notified, labels, static_cast<double>(topic.notified_total));
    set_counter(coalesced, labels, static_cast<double>(topic.coalesced_total));
    if (topic.read_retries) {
      set_counter(retries, labels, static_cast<double>(*topic.read_retries));
    }
    for (const SubscriberState& row : topic.subscribers) {
      const Labels row_labels{{"prefix", model.prefix}, {"topic", topic.name}, {"subscriber", row.id}};
      subscriber_alive.Add(row_labels).Set(row.alive ? 1 : 0);
      set_counter(subscriber_notified, row_labels, static_cast<double>(row.notified));
      set_counter(subscriber_coalesced, row_labels, static_cast<double>(row.coalesced));
    }
  }

  auto& topics = gauge(registry, "shmsnap_serve_topics", "topics found under the prefix");
  topics.Add({{"prefix", model.prefix}}).Set(static_cast<double>(model.topics.size()));
  set_counter(counter(registry, "shmsnap_serve_connections_accepted_total", "client connections accepted"), {},
              relaxed(stats.connections_accepted));
  set_counter(counter(registry, "shmsnap_serve_connections_refused_total", "connections closed over the limit"), {},
              relaxed(stats.connections_refused));
  gauge(registry, "shmsnap_serve_connections_open", "client connections open now")
      .Add({})
      .Set(relaxed(stats.connections_open));
  set_counter(counter(registry, "shmsnap_serve_requests_total", "HTTP requests answered"), {}, relaxed(stats.requests));
  set_counter(counter(registry, "shmsnap_serve_bad_requests_total", "requests refused as malformed or oversized"), {},
              relaxed(stats.bad_requests));
  set_counter(counter(registry, "shmsnap_serve_unauthorized_total", "requests without the right token"), {},
              relaxed(stats.unauthorized));
  set_counter(counter(registry, "shmsnap_serve_descriptor_parses_total",
                      "schema descriptors parsed (each is parsed once per publisher, refused or not)"),
              {}, static_cast<double>(model.descriptor_parses) + relaxed(stats.descriptor_parses));
  set_counter(counter(registry, "shmsnap_serve_origin_refused_total",
                      "requests and WebSocket upgrades refused for a foreign Origin (see --allow-origin)"),
              {}, relaxed(stats.origin_refused));
  set_counter(counter(registry, "shmsnap_serve_events_conflated_total",
                      "event-stream events replaced by a newer one while the client was still reading"),
              {}, relaxed(stats.events_conflated));
  set_counter(counter(registry, "shmsnap_serve_slow_clients_dropped_total",
                      "clients dropped because they did not read their push data in time"),
              {}, relaxed(stats.slow_clients_dropped));
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

}  // namespace shmsnap::serve
