// NatsLink: the bridge's one connection to NATS and its Key-Value bucket (nats.c).
// Connects with reconnects forever (exponential backoff), binds or creates the
// bucket (history 1), and offers put/get/watch. Constructed and destroyed on one
// thread; put/get/watch may be called from any thread (nats.c is thread-safe).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace shmsnap::bridge {

/// How to reach NATS. Secrets (password, token, seed and creds files' contents) are
/// handed to nats.c and never logged.
struct NatsSettings {
  std::vector<std::string> urls{"nats://127.0.0.1:4222"};  ///< several for a cluster
  std::string bucket = "shmsnap";
  int replicas = 1;  ///< copies of the bucket in a JetStream cluster (1..5)
  std::string user;
  std::string password;
  std::string token;
  std::string nkey_public;     ///< with nkey_seed_file
  std::string nkey_seed_file;  ///< file holding the user's NKey seed
  std::string creds_file;      ///< a .creds file (JWT + seed)
  std::string tls_ca_file;
  std::string tls_cert_file;  ///< with tls_key_file: client certificate
  std::string tls_key_file;
  std::chrono::milliseconds request_timeout{2000};  ///< each put/get round trip
  std::chrono::milliseconds reconnect_min{100};     ///< first reconnect delay
  std::chrono::milliseconds reconnect_max{2000};    ///< backoff cap
  std::string name = "shmsnap-bridge";              ///< client name shown by the server
};

/// The most put_async calls that may be outstanding at once on one link.
inline constexpr std::size_t max_async_puts = 4096;

/// `url` with any credentials (user:password@, token@) replaced by "***@", for logs.
[[nodiscard]] std::string redact_url(std::string_view url);

/// Outcome of a get.
enum class GetStatus { ok, not_found, failed };

/// The server's answer to one put_async: acknowledged (stored), or why not.
struct PutResult {
  std::string key;
  bool ok = false;
  std::string error;  ///< "" when ok
};

/// One watched key, or every key of a wildcard pattern: blocking next() with a
/// timeout. The keys' current values come first, replayed by a JetStream watch;
/// after that, puts and deletes come straight from core NATS as they are made. So
/// values keep arriving while the bucket's stream elects a new leader after a node
/// died (seconds in which a JetStream watch delivers nothing and cannot be
/// re-created), and each value is delivered once, not by both paths.
class KeyWatch {
 public:
  /// What next() found.
  enum class Status { value, deleted, timed_out, failed };
  ~KeyWatch();
  KeyWatch(const KeyWatch&) = delete;
  KeyWatch& operator=(const KeyWatch&) = delete;

  /// Waits up to `timeout` for the next change of a key; the current values come
  /// first. `value` receives the bytes when Status::value, key() the key that
  /// changed. Status::failed when values were lost (this reader fell too far
  /// behind): watch again to read the current values.
  Status next(std::vector<std::byte>& value, std::chrono::milliseconds timeout);
  /// The key of the last value or deletion next() reported.
  [[nodiscard]] const std::string& key() const noexcept { return key_; }
  /// Whether the last value was put just now (delivered as it was put), rather
  /// than replayed as a key's current value, which may be old.
  [[nodiscard]] bool live() const noexcept { return watcher_ == nullptr; }
  /// What went wrong, for Status::failed.
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

 private:
  friend class NatsLink;
  KeyWatch(void* subscription, void* watcher, std::size_t subject_start_size)
      : subscription_(subscription), watcher_(watcher), subject_start_size_(subject_start_size) {}
  Status next_replayed(std::vector<std::byte>& value, std::chrono::milliseconds timeout);
  Status next_live(std::vector<std::byte>& value, std::chrono::milliseconds timeout);
  void end_replay();
  Status take(void* message, std::vector<std::byte>& value);
  void* subscription_;              // natsSubscription*: live puts and deletes, from before the replay began
  void* watcher_;                   // kvWatcher* while the current values are replayed, then nullptr
  std::size_t subject_start_size_;  // "$KV.<bucket>." precedes the key in a subject
  // What the replay delivered, by key: a hash of the value, or of "" with `deleted`.
  // The live messages that arrived during the replay up to the same value of a key
  // were delivered already (or are older): they are dropped, not delivered twice.
  struct Replayed {
    std::size_t hash = 0;
    bool deleted = false;
  };
  std::unordered_map<std::string, Replayed> replayed_;
  std::deque<void*> backlog_;  // natsMsg*: live messages that came during the replay, left to deliver
  bool fell_behind_ = false;   // NATS dropped live messages while the backlog was taken
  std::string key_;
  std::string error_;
};

class NatsLink {
 public:
  /// Connects and binds (or creates) the bucket. Throws shmsnap::Error naming the
  /// servers and what to check (server running with -js, credentials, TLS files).
  explicit NatsLink(const NatsSettings& settings);
  ~NatsLink();
  NatsLink(const NatsLink&) = delete;
  NatsLink& operator=(const NatsLink&) = delete;

  /// Puts `value` under `key`. False (and `error`) on failure: disconnected,
  /// timed out, or refused by the server.
  bool put(const std::string& key, std::span<const std::byte> value, std::string& error) noexcept;
  /// Reads the current value of `key`.
  GetStatus get(const std::string& key, std::vector<std::byte>& value, std::string& error) noexcept;
  /// Hands a put of `value` under `key` to NATS without waiting for the server:
  /// its PutResult comes later through take_put_results (after at most
  /// request_timeout). The caller bounds how many are outstanding (at most
  /// max_async_puts). False (and `error`) when NATS refused it at once.
  bool put_async(const std::string& key, std::span<const std::byte> value, std::string& error) noexcept;
  /// Moves the results of finished put_async calls into `results` (appended),
  /// oldest first. Any thread.
  void take_put_results(std::vector<PutResult>& results);
  /// Readable while put results wait to be taken (an eventfd that
  /// take_put_results reads empty): for a poller to wake on.
  [[nodiscard]] int put_results_fd() const noexcept;
  /// Deletes `key` (a delete marker watchers see). False (and `error`) on failure.
  bool remove(const std::string& key, std::string& error) noexcept;
  /// Watches one key, or every key a NATS wildcard pattern matches ("host1.>").
  /// Throws shmsnap::Error when the server refuses.
  [[nodiscard]] std::unique_ptr<KeyWatch> watch(const std::string& key);

  /// The server's max_payload (bytes): the largest value a put can carry.
  [[nodiscard]] std::int64_t max_payload() const noexcept;
  /// Completed reconnects since construction.
  [[nodiscard]] std::uint64_t reconnects() const noexcept;
  /// True while connected.
  [[nodiscard]] bool connected() const noexcept;
  /// The URL of the server in use (no credentials), or "" while disconnected.
  [[nodiscard]] std::string connected_url() const;

 private:
  struct Handles;
  /// What nats.c's callbacks touch. They run on nats.c's threads and may run after
  /// this object is gone (a disconnect reported while closing), so they share it.
  struct CallbackState;
  std::shared_ptr<CallbackState> callback_state_;
  std::unique_ptr<Handles> handles_;
  NatsSettings settings_;
};

}  // namespace shmsnap::bridge
