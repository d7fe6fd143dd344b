// Fixed-size, lock-free records so that a signal handler can walk them (see cleanup.hpp).
#include "bench/cleanup.hpp"

#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>

namespace shmsnap::bench::cleanup {
namespace {

constexpr std::size_t capacity = 1024;
constexpr std::size_t name_capacity = 256;

// A slot is published with a release store of `state` after its payload is written;
// the signal handler's acquire load pairs with it, so it never sees a half-written name.
enum SlotState : int { free_slot = 0, busy_slot = 1, live_slot = 2 };

struct NameSlot {
  std::atomic<int> state{free_slot};
  NameKind kind = NameKind::shm;
  std::array<char, name_capacity> name{};
};

struct IdSlot {
  std::atomic<int> state{free_slot};
  int value = 0;
};

std::array<NameSlot, capacity> names;
std::array<IdSlot, capacity> sysv_queues;
std::array<IdSlot, capacity> children;
std::array<IdSlot, capacity> services;

void add_id(std::array<IdSlot, capacity>& slots, int value) noexcept {
  for (auto& slot : slots) {
    int expected = free_slot;
    if (slot.state.compare_exchange_strong(expected, busy_slot, std::memory_order_acquire)) {
      slot.value = value;
      slot.state.store(live_slot, std::memory_order_release);
      return;
    }
  }
}

void remove_id(std::array<IdSlot, capacity>& slots, int value) noexcept {
  for (auto& slot : slots) {
    if (slot.state.load(std::memory_order_acquire) == live_slot && slot.value == value) {
      slot.state.store(free_slot, std::memory_order_release);
    }
  }
}

void on_fatal_signal(int signal_number) {
  terminate_services();
  remove_everything();
  _exit(128 + signal_number);
}

}  // namespace

void track(NameKind kind, std::string_view name) noexcept {
  if (name.size() >= name_capacity)
    return;
  for (auto& slot : names) {
    int expected = free_slot;
    if (slot.state.compare_exchange_strong(expected, busy_slot, std::memory_order_acquire)) {
      slot.kind = kind;
      std::memcpy(slot.name.data(), name.data(), name.size());
      slot.name[name.size()] = '\0';
      slot.state.store(live_slot, std::memory_order_release);
      return;
    }
  }
}

void untrack(NameKind kind, std::string_view name) noexcept {
  for (auto& slot : names) {
    if (slot.state.load(std::memory_order_acquire) == live_slot && slot.kind == kind &&
        std::string_view(slot.name.data()) == name) {
      slot.state.store(free_slot, std::memory_order_release);
    }
  }
}

void track_sysv_queue(int id) noexcept {
  add_id(sysv_queues, id);
}
void untrack_sysv_queue(int id) noexcept {
  remove_id(sysv_queues, id);
}
void track_child(pid_t pid) noexcept {
  add_id(children, static_cast<int>(pid));
}
void untrack_child(pid_t pid) noexcept {
  remove_id(children, static_cast<int>(pid));
}
void track_service(pid_t pid) noexcept {
  add_id(services, static_cast<int>(pid));
}
void untrack_service(pid_t pid) noexcept {
  remove_id(services, static_cast<int>(pid));
}

void remove_everything() noexcept {
  // Children first: a subscriber that still holds a queue could otherwise recreate
  // nothing, but it could keep spinning on a core after we are gone.
  for (auto& slot : children) {
    if (slot.state.load(std::memory_order_acquire) == live_slot) {
      kill(static_cast<pid_t>(slot.value), SIGKILL);
      slot.state.store(free_slot, std::memory_order_release);
    }
  }
  for (auto& slot : names) {
    if (slot.state.load(std::memory_order_acquire) != live_slot || slot.kind == NameKind::leftover)
      continue;
    if (slot.kind == NameKind::posix_mq) {
      mq_unlink(slot.name.data());
    } else {
      shm_unlink(slot.name.data());
    }
    slot.state.store(free_slot, std::memory_order_release);
  }
  for (auto& slot : sysv_queues) {
    if (slot.state.load(std::memory_order_acquire) == live_slot) {
      msgctl(slot.value, IPC_RMID, nullptr);
      slot.state.store(free_slot, std::memory_order_release);
    }
  }
}

void terminate_services() noexcept {
  for (auto& slot : services) {
    if (slot.state.load(std::memory_order_acquire) == live_slot) {
      kill(static_cast<pid_t>(slot.value), SIGTERM);
      slot.state.store(free_slot, std::memory_order_release);
    }
  }
  // Two passes: a directory can only go once the files in it are gone.
  for (const bool directories : {false, true}) {
    for (auto& slot : names) {
      if (slot.state.load(std::memory_order_acquire) != live_slot || slot.kind != NameKind::leftover)
        continue;
      if (directories ? rmdir(slot.name.data()) == 0 : unlink(slot.name.data()) == 0)
        slot.state.store(free_slot, std::memory_order_release);
    }
  }
}

void install_signal_handlers() noexcept {
  struct sigaction action {};
  action.sa_handler = on_fatal_signal;
  sigemptyset(&action.sa_mask);
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP})
    sigaction(signal_number, &action, nullptr);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGPIPE, &ignore, nullptr);
}

}  // namespace shmsnap::bench::cleanup
