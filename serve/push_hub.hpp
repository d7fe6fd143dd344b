// PushHub: fans each new ModelSnapshot out to the clients that stream updates
// (Server-Sent Events sessions, Foxglove sessions). It holds them weakly, so a
// closed client just disappears. Used on the server's I/O thread only.
#pragma once

#include <memory>
#include <vector>

#include "topic_model.hpp"

namespace shmsnap::serve {

/// A client that wants every sample. push() must not block: it queues (bounded)
/// and writes asynchronously, or drops the client.
class PushClient {
 public:
  virtual ~PushClient() = default;
  /// Called on the I/O thread with each new sample.
  virtual void push(const std::shared_ptr<const ModelSnapshot>& snapshot) = 0;
};

class PushHub {
 public:
  /// Registers `client` until it is destroyed.
  void add(const std::shared_ptr<PushClient>& client) { clients_.push_back(client); }
  /// Hands `snapshot` to every live client and forgets the closed ones.
  void broadcast(const std::shared_ptr<const ModelSnapshot>& snapshot) {
    std::vector<std::weak_ptr<PushClient>> alive;
    alive.reserve(clients_.size());
    for (const auto& weak : clients_) {
      if (auto client = weak.lock()) {
        client->push(snapshot);
        alive.push_back(weak);
      }
    }
    clients_ = std::move(alive);
  }

 private:
  std::vector<std::weak_ptr<PushClient>> clients_;
};

}  // namespace shmsnap::serve
