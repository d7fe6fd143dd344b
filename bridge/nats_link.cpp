// NatsLink over nats.c: connection options, bucket bind-or-create, put/get/watch.
#include "nats_link.hpp"

#include <nats/nats.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "shmsnap/error.hpp"

namespace shmsnap::bridge {
namespace {

std::string status_text(natsStatus status) {
  // nats_GetLastError carries the server's reason (e.g. "stream not found"); fall
  // back to the generic text of the status.
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  if (detail != nullptr && *detail != '\0' && last == status) {
    return detail;
  }
  return natsStatus_GetText(status);
}

}  // namespace

std::string redact_url(std::string_view url) {
  // nats://user:password@host:port or nats://token@host: keep scheme and host only.
  const std::size_t scheme = url.find("://");
  const std::size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  const std::size_t at = url.find('@', start);
  if (at == std::string_view::npos) {
    return std::string(url);
  }
  return std::string(url.substr(0, start)) + "***@" + std::string(url.substr(at + 1));
}

namespace {

std::string joined(const std::vector<std::string>& urls) {
  std::string text;
  for (const auto& url : urls) {
    text += (text.empty() ? "" : ",") + redact_url(url);
  }
  return text;
}

void check(natsStatus status, const char* what) {
  if (status != NATS_OK) {
    throw Error(Errc::invalid_argument, fmt::format("NATS option {}: {}", what, status_text(status)));
  }
}

}  // namespace

struct NatsLink::CallbackState {
  std::atomic<std::uint64_t> reconnects{0};
  std::atomic<bool> logged_disconnect{false};
  std::atomic<bool> closing{false};
  std::atomic<std::int64_t> last_error_log_ns{0};  // asynchronous errors are logged at most once a second
  std::int64_t reconnect_min_ms = 100;
  std::int64_t reconnect_max_ms = 2000;
  std::string subject_start;  // "$KV.<bucket>.": a put's subject is this plus the key
  // Results of put_async, written by nats.c's ack handler, taken by the exporter.
  // At most max_async_puts long: each outstanding put adds one result.
  std::mutex results_mutex;
  std::vector<PutResult> results;
  // Readable while `results` holds any: the exporter's poller wakes on it, so a
  // successor waiting on its key's ack goes as soon as the ack is in.
  int results_ready_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

  CallbackState() {
    if (results_ready_fd < 0) {
      throw Error(Errc::system, "cannot create an eventfd for the bridge's acknowledgements");
    }
  }
  ~CallbackState() { ::close(results_ready_fd); }
  CallbackState(const CallbackState&) = delete;
  CallbackState& operator=(const CallbackState&) = delete;
};

struct NatsLink::Handles {
  void* callback_closure = nullptr;  // the closed callback frees it; parked when never connected
  natsOptions* options = nullptr;
  natsConnection* connection = nullptr;
  jsCtx* jetstream = nullptr;
  kvStore* store = nullptr;
  NatsSettings settings;

  ~Handles() {
    kvStore_Destroy(store);
    jsCtx_Destroy(jetstream);
    if (connection != nullptr) {
      natsConnection_Close(connection);
      natsConnection_Destroy(connection);
    } else if (callback_closure != nullptr) {
      // A failed connect may still have queued the closed callback on nats.c's
      // thread (seen after an authorization violation), which frees the closure:
      // freeing it here too was a use after free. Park it where it stays reachable
      // instead; a few bytes per failed connect. The list is never destroyed, so
      // it still holds them when LeakSanitizer looks at exit.
      static std::mutex parked_mutex;
      static auto* const parked = new std::vector<void*>();
      const std::lock_guard lock(parked_mutex);
      parked->push_back(callback_closure);
    }
    natsOptions_Destroy(options);
  }
};

namespace {

std::size_t hash_of(const void* data, std::size_t size) {
  return std::hash<std::string_view>{}(std::string_view(static_cast<const char*>(data), size));
}

// A Key-Value delete or purge is a message whose KV-Operation header says so.
bool is_deletion(natsMsg* message) {
  const char* operation = nullptr;
  return natsMsgHeader_Get(message, "KV-Operation", &operation) == NATS_OK && operation != nullptr &&
         (std::strcmp(operation, "DEL") == 0 || std::strcmp(operation, "PURGE") == 0);
}

std::string_view key_of(natsMsg* message, std::size_t subject_start_size) {
  const char* subject = natsMsg_GetSubject(message);
  const std::string_view full = subject != nullptr ? subject : "";
  return full.substr(std::min(full.size(), subject_start_size));
}

}  // namespace

KeyWatch::~KeyWatch() {
  if (watcher_ != nullptr) {
    kvWatcher_Stop(static_cast<kvWatcher*>(watcher_));
    kvWatcher_Destroy(static_cast<kvWatcher*>(watcher_));
  }
  for (void* message : backlog_) {
    natsMsg_Destroy(static_cast<natsMsg*>(message));
  }
  natsSubscription_Destroy(static_cast<natsSubscription*>(subscription_));  // removes the interest too
}

KeyWatch::Status KeyWatch::next(std::vector<std::byte>& value, std::chrono::milliseconds timeout) {
  return watcher_ != nullptr ? next_replayed(value, timeout) : next_live(value, timeout);
}

KeyWatch::Status KeyWatch::next_replayed(std::vector<std::byte>& value, std::chrono::milliseconds timeout) {
  kvEntry* entry = nullptr;
  const natsStatus status = kvWatcher_Next(&entry, static_cast<kvWatcher*>(watcher_), timeout.count());
  if (status == NATS_TIMEOUT) {
    return Status::timed_out;
  }
  if (status != NATS_OK) {
    error_ = status_text(status);
    return Status::failed;
  }
  if (entry == nullptr) {
    end_replay();
    return Status::timed_out;  // nothing to hand over
  }
  Status result = Status::value;
  key_.assign(kvEntry_Key(entry));
  Replayed& replayed = replayed_[key_];
  if (kvEntry_Operation(entry) != kvOp_Put) {
    result = Status::deleted;
    replayed = {.hash = hash_of("", 0), .deleted = true};
  } else {
    const auto* data = static_cast<const std::byte*>(kvEntry_Value(entry));
    const auto size = static_cast<std::size_t>(kvEntry_ValueLen(entry));
    value.assign(data, data + size);
    replayed = {.hash = hash_of(data, size), .deleted = false};
  }
  kvEntry_Destroy(entry);
  return result;
}

// Every current value is delivered. The watch (and its consumer on the server)
// goes; the live messages that came meanwhile are taken, less those the replay
// already delivered, and what is put from now on comes from the subscription.
void KeyWatch::end_replay() {
  kvWatcher_Stop(static_cast<kvWatcher*>(watcher_));
  kvWatcher_Destroy(static_cast<kvWatcher*>(watcher_));
  watcher_ = nullptr;
  auto* subscription = static_cast<natsSubscription*>(subscription_);
  int pending = 0;
  if (natsSubscription_GetPending(subscription, &pending, nullptr) != NATS_OK) {
    pending = 0;
  }
  std::vector<natsMsg*> taken;
  taken.reserve(static_cast<std::size_t>(std::max(pending, 0)));
  for (int index = 0; index < pending; ++index) {
    natsMsg* message = nullptr;
    const natsStatus status = natsSubscription_NextMsg(&message, subscription, 1);
    if (status == NATS_SLOW_CONSUMER) {
      fell_behind_ = true;
    }
    if (status != NATS_OK) {
      break;
    }
    taken.push_back(message);
  }
  // Per key, the last message that carries the replayed value: it and those
  // before it are no news.
  std::unordered_map<std::string_view, std::size_t> delivered_through;
  for (std::size_t index = 0; index < taken.size(); ++index) {
    const std::string_view key = key_of(taken[index], subject_start_size_);
    const auto found = replayed_.find(std::string(key));
    if (found != replayed_.end() && found->second.deleted == is_deletion(taken[index]) &&
        found->second.hash ==
            hash_of(natsMsg_GetData(taken[index]), static_cast<std::size_t>(natsMsg_GetDataLength(taken[index])))) {
      delivered_through[key] = index;
    }
  }
  // Decide first, destroy after: the keys above point into the messages' subjects.
  std::vector<bool> no_news(taken.size(), false);
  for (std::size_t index = 0; index < taken.size(); ++index) {
    const auto found = delivered_through.find(key_of(taken[index], subject_start_size_));
    no_news[index] = found != delivered_through.end() && index <= found->second;
  }
  for (std::size_t index = 0; index < taken.size(); ++index) {
    if (no_news[index]) {
      natsMsg_Destroy(taken[index]);
    } else {
      backlog_.push_back(taken[index]);
    }
  }
  replayed_.clear();
}

KeyWatch::Status KeyWatch::next_live(std::vector<std::byte>& value, std::chrono::milliseconds timeout) {
  if (!backlog_.empty()) {
    void* message = backlog_.front();
    backlog_.pop_front();
    return take(message, value);
  }
  natsMsg* message = nullptr;
  const natsStatus status =
      natsSubscription_NextMsg(&message, static_cast<natsSubscription*>(subscription_), timeout.count());
  if (status == NATS_TIMEOUT) {
    return Status::timed_out;
  }
  if (status == NATS_SLOW_CONSUMER || fell_behind_) {
    natsMsg_Destroy(message);
    error_ = "values arrived faster than they were read and NATS dropped some";
    return Status::failed;
  }
  if (status != NATS_OK) {
    error_ = status_text(status);
    return Status::failed;
  }
  return take(message, value);
}

// Hands one live message over (and destroys it).
KeyWatch::Status KeyWatch::take(void* raw_message, std::vector<std::byte>& value) {
  auto* message = static_cast<natsMsg*>(raw_message);
  key_.assign(key_of(message, subject_start_size_));
  Status result = Status::deleted;
  if (!is_deletion(message)) {
    result = Status::value;
    const auto* data = reinterpret_cast<const std::byte*>(natsMsg_GetData(message));
    value.assign(data, data + natsMsg_GetDataLength(message));
  }
  natsMsg_Destroy(message);
  return result;
}

NatsLink::NatsLink(const NatsSettings& settings)
    : callback_state_(std::make_shared<CallbackState>()), handles_(std::make_unique<Handles>()), settings_(settings) {
  callback_state_->reconnect_min_ms = settings.reconnect_min.count();
  callback_state_->reconnect_max_ms = settings.reconnect_max.count();
  callback_state_->subject_start = fmt::format("$KV.{}.", settings.bucket);  // before any callback can run
  Handles& handles = *handles_;
  const std::string servers = joined(settings.urls);
  check(natsOptions_Create(&handles.options), "create");
  std::vector<const char*> urls;
  for (const auto& url : settings.urls) {
    urls.push_back(url.c_str());
  }
  check(natsOptions_SetServers(handles.options, urls.data(), static_cast<int>(urls.size())), "servers");
  check(natsOptions_SetName(handles.options, settings.name.c_str()), "name");
  check(natsOptions_SetTimeout(handles.options, settings.request_timeout.count()), "timeout");
  // Reconnect forever with exponential backoff: a bridge outlives any NATS outage.
  check(natsOptions_SetMaxReconnect(handles.options, -1), "max reconnect");
  // Each callback gets the shared state through a heap-held shared_ptr that the
  // closed callback (always the last one nats.c issues) releases.
  auto* shared = new std::shared_ptr<CallbackState>(callback_state_);
  handles.callback_closure = shared;
  check(natsOptions_SetCustomReconnectDelay(
            handles.options,
            [](natsConnection*, int attempts, void* closure) -> int64_t {
              const CallbackState& state = **static_cast<std::shared_ptr<CallbackState>*>(closure);
              const int shift = std::min(attempts, 16);
              return std::min<int64_t>(state.reconnect_min_ms << shift, state.reconnect_max_ms);
            },
            shared),
        "reconnect delay");
  // Buffer puts made while reconnecting up to 8 MiB, then fail them (counted).
  check(natsOptions_SetReconnectBufSize(handles.options, 8 * 1024 * 1024), "reconnect buffer");
  // Write each publish at once: asynchronous puts must not wait for nats.c's
  // flusher thread (it batches writes and added ~0.4 ms at p50 in the bench).
  check(natsOptions_SetSendAsap(handles.options, true), "send asap");
  check(natsOptions_SetPingInterval(handles.options, 2000), "ping interval");
  check(natsOptions_SetMaxPingsOut(handles.options, 2), "max pings out");
  check(natsOptions_SetDisconnectedCB(
            handles.options,
            [](natsConnection*, void* closure) {
              CallbackState& state = **static_cast<std::shared_ptr<CallbackState>*>(closure);
              if (!state.closing.load() && !state.logged_disconnect.exchange(true)) {
                spdlog::warn("NATS: disconnected; reconnecting with backoff (local state stays readable)");
              }
            },
            shared),
        "disconnected callback");
  check(natsOptions_SetReconnectedCB(
            handles.options,
            [](natsConnection* connection, void* closure) {
              CallbackState& state = **static_cast<std::shared_ptr<CallbackState>*>(closure);
              state.reconnects.fetch_add(1, std::memory_order_relaxed);
              state.logged_disconnect.store(false);
              char url[256] = {};
              natsConnection_GetConnectedUrl(connection, url, sizeof url);
              spdlog::info("NATS: reconnected to {}", redact_url(url));
            },
            shared),
        "reconnected callback");
  // Errors the server reports later (a subscription refused by its permissions) would
  // otherwise go unseen: the live values would simply never come.
  check(natsOptions_SetErrorHandler(
            handles.options,
            [](natsConnection* connection, natsSubscription*, natsStatus error, void* closure) {
              CallbackState& state = **static_cast<std::shared_ptr<CallbackState>*>(closure);
              if (error == NATS_SLOW_CONSUMER) {
                return;  // the reader's next NextMsg reports it, and it watches again
              }
              const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           std::chrono::steady_clock::now().time_since_epoch())
                                           .count();
              std::int64_t last = state.last_error_log_ns.load();
              if (now - last < 1'000'000'000 || !state.last_error_log_ns.compare_exchange_strong(last, now)) {
                return;
              }
              const char* text = nullptr;
              (void)natsConnection_GetLastError(connection, &text);
              const std::string detail = text != nullptr && *text != '\0' ? text : natsStatus_GetText(error);
              if (error == NATS_NOT_PERMITTED) {
                spdlog::warn(
                    "NATS refused: {}; a bridge needs permission to publish and subscribe to {}> (values) "
                    "and to use JetStream's API ($JS.API.>)",
                    detail, state.subject_start);
              } else {
                spdlog::warn("NATS: {}", detail);
              }
            },
            shared),
        "error handler");
  check(
      natsOptions_SetClosedCB(
          handles.options,
          [](natsConnection*, void* closure) { delete static_cast<std::shared_ptr<CallbackState>*>(closure); }, shared),
      "closed callback");
  if (!settings.user.empty()) {
    check(natsOptions_SetUserInfo(handles.options, settings.user.c_str(), settings.password.c_str()), "user");
  }
  if (!settings.token.empty()) {
    check(natsOptions_SetToken(handles.options, settings.token.c_str()), "token");
  }
  if (!settings.nkey_seed_file.empty()) {
    check(natsOptions_SetNKeyFromSeed(handles.options, settings.nkey_public.c_str(), settings.nkey_seed_file.c_str()),
          "nkey seed file");
  }
  if (!settings.creds_file.empty()) {
    check(natsOptions_SetUserCredentialsFromFiles(handles.options, settings.creds_file.c_str(), nullptr), "creds file");
  }
  if (!settings.tls_ca_file.empty() || !settings.tls_cert_file.empty()) {
    check(natsOptions_SetSecure(handles.options, true), "TLS");
  }
  if (!settings.tls_ca_file.empty()) {
    check(natsOptions_LoadCATrustedCertificates(handles.options, settings.tls_ca_file.c_str()), "TLS CA file");
  }
  if (!settings.tls_cert_file.empty()) {
    check(natsOptions_LoadCertificatesChain(handles.options, settings.tls_cert_file.c_str(),
                                            settings.tls_key_file.c_str()),
          "TLS certificate/key");
  }

  natsStatus status = natsConnection_Connect(&handles.connection, handles.options);
  if (status != NATS_OK) {
    throw Error(Errc::not_found, fmt::format("cannot connect to NATS at {}: {}; start nats-server (with -js) there, "
                                             "or check --nats, the credentials and the TLS files",
                                             servers, status_text(status)));
  }
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = settings.request_timeout.count();
  js_options.PublishAsync.MaxPending = static_cast<int64_t>(max_async_puts);
  js_options.PublishAsync.AckHandlerClosure = shared;
  // Runs on nats.c's thread for every put_async: a positive ack, a server error,
  // or a timeout after MaxWait.
  js_options.PublishAsync.AckHandler = [](jsCtx*, natsMsg* message, jsPubAck* ack, jsPubAckErr* error, void* closure) {
    CallbackState& state = **static_cast<std::shared_ptr<CallbackState>*>(closure);
    PutResult result;
    const char* subject = natsMsg_GetSubject(message);
    const std::string_view full = subject != nullptr ? subject : "";
    result.key = std::string(full.substr(std::min(full.size(), state.subject_start.size())));
    result.ok = ack != nullptr && error == nullptr;
    if (!result.ok) {
      result.error = error != nullptr && error->ErrText != nullptr ? error->ErrText
                     : error != nullptr                            ? natsStatus_GetText(error->Err)
                                                                   : "no acknowledgement";
    }
    natsMsg_Destroy(message);
    const std::lock_guard lock(state.results_mutex);
    state.results.push_back(std::move(result));
    if (state.results.size() == 1) {
      const std::uint64_t one = 1;
      [[maybe_unused]] const ssize_t written = ::write(state.results_ready_fd, &one, sizeof one);
    }
  };
  status = natsConnection_JetStream(&handles.jetstream, handles.connection, &js_options);
  if (status != NATS_OK) {
    throw Error(Errc::system, fmt::format("NATS at {}: cannot use JetStream: {}", servers, status_text(status)));
  }
  // Bind first: an existing bucket keeps its configuration (an operator may have
  // tuned it); create it only when missing.
  status = js_KeyValue(&handles.store, handles.jetstream, settings.bucket.c_str());
  if (status != NATS_OK) {
    kvConfig config;
    kvConfig_Init(&config);
    config.Bucket = settings.bucket.c_str();
    config.History = 1;
    config.Replicas = settings.replicas;
    status = js_CreateKeyValue(&handles.store, handles.jetstream, &config);
    if (status != NATS_OK) {
      throw Error(Errc::system,
                  fmt::format("NATS at {}: cannot create Key-Value bucket '{}' (history 1, {} replicas): {}; is the "
                              "server started with -js (JetStream), and are there enough cluster nodes for the "
                              "replicas?",
                              servers, settings.bucket, settings.replicas, status_text(status)));
    }
    spdlog::info("NATS: created Key-Value bucket '{}' (history 1, {} replicas)", settings.bucket, settings.replicas);
  }
}

NatsLink::~NatsLink() {
  callback_state_->closing.store(true);  // closing is no outage: no "disconnected" warning
  handles_.reset();
}

bool NatsLink::put(const std::string& key, std::span<const std::byte> value, std::string& error) noexcept {
  std::uint64_t revision = 0;
  const natsStatus status =
      kvStore_Put(&revision, handles_->store, key.c_str(), value.data(), static_cast<int>(value.size()));
  if (status != NATS_OK) {
    error = status_text(status);
    return false;
  }
  return true;
}

GetStatus NatsLink::get(const std::string& key, std::vector<std::byte>& value, std::string& error) noexcept {
  kvEntry* entry = nullptr;
  const natsStatus status = kvStore_Get(&entry, handles_->store, key.c_str());
  if (status == NATS_NOT_FOUND) {
    return GetStatus::not_found;
  }
  if (status != NATS_OK) {
    error = status_text(status);
    return GetStatus::failed;
  }
  const auto* data = static_cast<const std::byte*>(kvEntry_Value(entry));
  value.assign(data, data + kvEntry_ValueLen(entry));
  kvEntry_Destroy(entry);
  return GetStatus::ok;
}

bool NatsLink::put_async(const std::string& key, std::span<const std::byte> value, std::string& error) noexcept {
  // A Key-Value put is a JetStream publish to the key's subject; kvStore_Put waits
  // for its ack, this one leaves the ack to the handler above.
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MaxWait = settings_.request_timeout.count();
  const std::string subject = callback_state_->subject_start + key;
  const natsStatus status =
      js_PublishAsync(handles_->jetstream, subject.c_str(), value.data(), static_cast<int>(value.size()), &options);
  if (status != NATS_OK) {
    error = status_text(status);
    return false;
  }
  return true;
}

int NatsLink::put_results_fd() const noexcept {
  return callback_state_->results_ready_fd;
}

void NatsLink::take_put_results(std::vector<PutResult>& results) {
  const std::lock_guard lock(callback_state_->results_mutex);
  std::uint64_t count = 0;
  [[maybe_unused]] const ssize_t taken = ::read(callback_state_->results_ready_fd, &count, sizeof count);
  for (auto& result : callback_state_->results) {
    results.push_back(std::move(result));
  }
  callback_state_->results.clear();
}

bool NatsLink::remove(const std::string& key, std::string& error) noexcept {
  const natsStatus status = kvStore_Delete(handles_->store, key.c_str());
  if (status != NATS_OK) {
    error = status_text(status);
    return false;
  }
  return true;
}

std::unique_ptr<KeyWatch> NatsLink::watch(const std::string& key) {
  // Subscribe first, so no put falls between the replay and the live values; a
  // put seen by both is delivered twice, which an importer takes as a heartbeat.
  natsSubscription* subscription = nullptr;
  const std::string subject = callback_state_->subject_start + key;
  natsStatus status = natsConnection_SubscribeSync(&subscription, handles_->connection, subject.c_str());
  if (status != NATS_OK) {
    throw Error(Errc::system, fmt::format("NATS: cannot subscribe to key '{}' of bucket '{}': {}", key,
                                          settings_.bucket, status_text(status)));
  }
  kvWatcher* watcher = nullptr;
  kvWatchOptions options;
  kvWatchOptions_Init(&options);
  options.Timeout = settings_.request_timeout.count();
  status = kvStore_Watch(&watcher, handles_->store, key.c_str(), &options);
  if (status != NATS_OK) {
    natsSubscription_Destroy(subscription);
    throw Error(Errc::system, fmt::format("NATS: cannot watch key '{}' of bucket '{}': {}", key, settings_.bucket,
                                          status_text(status)));
  }
  return std::unique_ptr<KeyWatch>(new KeyWatch(subscription, watcher, callback_state_->subject_start.size()));
}

std::uint64_t NatsLink::reconnects() const noexcept {
  return callback_state_->reconnects.load(std::memory_order_relaxed);
}

std::int64_t NatsLink::max_payload() const noexcept {
  return natsConnection_GetMaxPayload(handles_->connection);
}

bool NatsLink::connected() const noexcept {
  return natsConnection_Status(handles_->connection) == NATS_CONN_STATUS_CONNECTED;
}

std::string NatsLink::connected_url() const {
  char url[256] = {};
  if (natsConnection_GetConnectedUrl(handles_->connection, url, sizeof url) != NATS_OK) {
    return "";
  }
  return redact_url(url);
}

}  // namespace shmsnap::bridge
