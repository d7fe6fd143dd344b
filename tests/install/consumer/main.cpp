// Publishes one tick and reads it back through a subscriber: proof that the
// installed package, its schema compiler and its headers work from outside.
#include <unistd.h>

#include <consumer_tick.hpp>
#include <cstdio>
#include <cstring>
#include <string>

#include <shmsnap/publisher.hpp>
#include <shmsnap/subscriber.hpp>

int main() {
  const std::string prefix = "consumer" + std::to_string(getpid());
  auto publisher = shmsnap::Publisher<consumer::Tick>::create("ticks", {.prefix = prefix});
  consumer::Tick tick{};
  tick.count = 42;
  std::memcpy(tick.label, "answer", 6);
  publisher.publish(tick);
  auto subscriber = shmsnap::Subscriber<consumer::Tick>::open("ticks", {.prefix = prefix});
  const bool ok = subscriber.has_value() && subscriber.latest().count == 42;
  std::printf("consumer read count=%llu label=%s: %s\n", static_cast<unsigned long long>(subscriber.latest().count),
              subscriber.latest().label, ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
