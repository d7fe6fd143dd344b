// Names and wire messages: everything a peer or a user can hand us is validated.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "shmsnap/detail/protocol.hpp"
#include "shmsnap/error.hpp"
#include "shmsnap/names.hpp"

namespace shmsnap {
namespace {

TEST(Names, DerivesEveryResourceNameFromPrefixAndTopic) {
  const TopicNames names("pfx", "quotes.eu-1");
  EXPECT_EQ(names.region(), "/pfx:quotes.eu-1");
  EXPECT_EQ(names.control_queue(), "/pfx:quotes.eu-1:ctl");
  EXPECT_EQ(names.notify_queue("reader_7"), "/pfx:quotes.eu-1:sub:reader_7");
}

// Every resource name over a grammar of names built from the pieces that made the
// old scheme collide ("a.sub.b" as a topic vs topic "a" with id "b.ctl"): no two
// different resources, of any prefix, topic or id, share a name.
TEST(Names, NoTwoResourcesOfAnyPrefixTopicOrIdShareAName) {
  const std::vector<std::string> pieces{"a", "b", ".", "-", "_", "sub", "ctl", "a.sub", "sub.b", "b.ctl", "x.y"};
  std::vector<std::string> names{};
  for (const std::string& first : pieces) {
    names.push_back(first);
    for (const std::string& second : pieces) {
      names.push_back(first + "." + second);
      names.push_back(first + second);
    }
  }
  std::erase_if(names, [](const std::string& name) { return !is_valid_name(name, max_subscriber_id_length); });
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::unordered_map<std::string, std::string> owner;  // resource name -> what it belongs to
  std::size_t collisions = 0;
  const auto claim = [&](const std::string& resource, const std::string& what) {
    const auto [place, fresh] = owner.emplace(resource, what);
    if (!fresh && place->second != what) {
      if (++collisions <= 5) {
        ADD_FAILURE() << resource << " is both " << place->second << " and " << what;
      }
    }
  };
  for (const std::string prefix : {"p", "p.a", "p.a.sub", "sub"}) {
    for (const std::string& topic : names) {
      const TopicNames topic_names(prefix, topic);
      const std::string where = std::string(prefix) + "|" + topic;
      claim(topic_names.region(), "region " + where);
      claim(topic_names.control_queue(), "control " + where);
      for (const std::string& id : names) {
        claim(topic_names.notify_queue(id), "notify " + where + "|" + id);
      }
    }
  }
  EXPECT_EQ(collisions, 0U) << "over " << owner.size() << " resource names";
  EXPECT_GT(owner.size(), 100'000U);
}

TEST(Names, AnEmptyPrefixVariableIsRefusedNotReadAsTheDefault) {
  setenv("SHMSNAP_PREFIX", "", 1);
  try {
    (void)resolve_prefix("");
    ADD_FAILURE() << "an empty SHMSNAP_PREFIX was accepted";
  } catch (const Error& failure) {
    EXPECT_EQ(failure.code(), Errc::invalid_argument);
    EXPECT_NE(std::string(failure.what()).find("SHMSNAP_PREFIX is set but empty"), std::string::npos);
  }
  unsetenv("SHMSNAP_PREFIX");
  EXPECT_EQ(resolve_prefix(""), default_prefix);
}

TEST(Names, RefusesNamesThatEscapeOrBreakTheNamespaceWithTheRuleStated) {
  for (const char* bad : {"", ".", "..", "a/b", "../x", "has space", "tab\t", "\xc3\xa9t\xc3\xa9"}) {
    try {
      TopicNames names("pfx", bad);
      FAIL() << "accepted topic '" << bad << "'";
    } catch (const Error& failure) {
      EXPECT_EQ(failure.code(), Errc::invalid_argument);
      EXPECT_NE(std::string(failure.what()).find("[A-Za-z0-9_.-]"), std::string::npos) << failure.what();
    }
  }
  EXPECT_THROW(TopicNames("pfx", std::string(max_topic_length + 1, 'a')), Error);
  EXPECT_THROW(TopicNames("bad/prefix", "t"), Error);
  EXPECT_THROW((void)TopicNames("pfx", "t").notify_queue(std::string(max_subscriber_id_length + 1, 'i')), Error);
}

TEST(Names, LongestNamesStillFitNameMax) {
  const TopicNames names(std::string(max_prefix_length, 'p'), std::string(max_topic_length, 't'));
  EXPECT_LE(names.notify_queue(std::string(max_subscriber_id_length, 'i')).size(), 255U);
}

TEST(Protocol, RoundTripsAHello) {
  const ControlMessage hello = make_control(ControlKind::hello, "sub-1", 42, 3, 0xABCD, hello_wants_notify);
  const Parsed<ControlMessage> parsed = parse_control(as_bytes(hello));
  ASSERT_TRUE(parsed.valid()) << parsed.problem;
  EXPECT_TRUE(parsed.problem.empty());
  EXPECT_EQ(id_of(*parsed.message), "sub-1");
  EXPECT_EQ(parsed.message->pid, 42);
  EXPECT_EQ(parsed.message->epoch, 3U);
}

TEST(Protocol, RejectsTruncatedOversizedAndForgedControlMessages) {
  const ControlMessage hello = make_control(ControlKind::hello, "ok", 42, 1, 1, 0);
  const auto bytes = as_bytes(hello);
  EXPECT_FALSE(parse_control(bytes.first(bytes.size() - 1)).valid());
  std::vector<std::byte> oversized(bytes.begin(), bytes.end());
  oversized.push_back(std::byte{0});
  EXPECT_FALSE(parse_control(oversized).valid());

  ControlMessage escaping = hello;
  std::memcpy(escaping.id, "../evil", 8);
  const Parsed<ControlMessage> escaped = parse_control(as_bytes(escaping));
  EXPECT_FALSE(escaped.valid());
  EXPECT_NE(escaped.problem.find("id"), std::string::npos);

  ControlMessage unterminated = hello;
  std::memset(unterminated.id, 'a', sizeof unterminated.id);
  EXPECT_FALSE(parse_control(as_bytes(unterminated)).valid());

  ControlMessage wrong_kind = hello;
  wrong_kind.kind = static_cast<ControlKind>(9);
  EXPECT_FALSE(parse_control(as_bytes(wrong_kind)).valid());

  ControlMessage bad_pid = hello;
  bad_pid.pid = -1;
  EXPECT_FALSE(parse_control(as_bytes(bad_pid)).valid());

  ControlMessage bad_version = hello;
  bad_version.version = 99;
  EXPECT_FALSE(parse_control(as_bytes(bad_version)).valid());
}

TEST(Protocol, RejectsUnknownNotifyKinds) {
  NotifyMessage message;
  message.kind = static_cast<NotifyKind>(0);
  EXPECT_FALSE(parse_notify(as_bytes(message)).valid());
  message.kind = NotifyKind::update;
  EXPECT_TRUE(parse_notify(as_bytes(message)).valid());
}

}  // namespace
}  // namespace shmsnap
