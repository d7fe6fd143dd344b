#include "router.hpp"

#include <algorithm>

#include "field_history.hpp"

#include "dashboard_assets.hpp"
#include "request_query.hpp"

namespace shmsnap::serve {
namespace {

Reply text_reply(unsigned status, std::string body) {
  Reply reply;
  reply.status = status;
  reply.body = std::move(body);
  return reply;
}

Reply json_reply(const nlohmann::ordered_json& value) {
  Reply reply;
  reply.content_type = "application/json";
  // Replace, never throw, on invalid UTF-8 (char[N] fields are decoded already, but
  // an outside string could still carry some).
  reply.body = value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

bool authorized(const Request& request, const std::map<std::string, std::string>& query, std::string_view token) {
  if (token.empty()) {
    return true;
  }
  constexpr std::string_view bearer = "Bearer ";
  if (request.authorization.substr(0, bearer.size()) == bearer &&
      token_matches(request.authorization.substr(bearer.size()), token)) {
    return true;
  }
  // EventSource cannot set headers, so the page passes the token in the query.
  const auto found = query.find("token");
  return found != query.end() && token_matches(found->second, token);
}

constexpr std::string_view history_suffix = "/history";

// GET /api/topics/T/history?window=SECONDS (1..900, default 60). A topic name never
// holds '/', so the suffix cannot be part of one.
Reply history_reply(const std::string& name, const std::map<std::string, std::string>& query,
                    const RouteContext& context) {
  std::chrono::seconds window{60};
  if (const auto found = query.find("window"); found != query.end()) {
    const std::string& text = found->second;
    const long longest = FieldHistory::longest_window.count();
    long seconds = 0;
    const bool digits = !text.empty() && text.size() <= 6 &&
                        std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) {
      seconds = std::stol(text);
    }
    if (!digits || seconds < 1 || seconds > longest) {
      return text_reply(400, "window must be a whole number of seconds from 1 to " + std::to_string(longest) + "\n");
    }
    window = std::chrono::seconds(seconds);
  }
  std::optional<nlohmann::ordered_json> history = context.history ? context.history(name, window) : std::nullopt;
  if (!history) {
    return text_reply(404, "no history of topic '" + name + "' under prefix '" + context.model->prefix +
                               "' (a topic has one once a value of it was read); /api/topics lists them\n");
  }
  return json_reply(*history);
}

}  // namespace

Route route(const Request& request, const RouteContext& context) {
  Route result;
  if (request.method != "GET" && request.method != "HEAD") {
    Reply reply = text_reply(405, "read-only server: only GET and HEAD\n");
    reply.headers.emplace_back("Allow", "GET, HEAD");
    result.reply = std::move(reply);
    return result;
  }
  if (context.loopback_only && !host_is_loopback(request.host)) {
    result.reply = text_reply(403, "Host '" + std::string(request.host) +
                                       "' is not a loopback address; open http://127.0.0.1:PORT/ (or start the "
                                       "server with --allow-remote)\n");
    return result;
  }
  const std::string_view path = request.target.substr(0, request.target.find('?'));
  // A browser asks for /favicon.ico by itself, whatever the page links: the same icon.
  const std::string_view asset_path = path == "/index.html" ? "/" : path == "/favicon.ico" ? "/favicon.svg" : path;
  if (const Asset* asset = find_asset(asset_path)) {
    Reply reply;
    reply.content_type = std::string(asset->content_type);
    reply.body = std::string(asset->body);
    reply.headers.emplace_back("Cache-Control", "no-cache");
    reply.headers.emplace_back("Content-Security-Policy",
                               "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:");
    result.reply = std::move(reply);
    return result;
  }
  const auto query = query_parameters(request.target);
  const bool data_route =
      path == "/metrics" || path == "/events" || path == "/api/topics" || path.substr(0, 12) == "/api/topics/";
  if (!data_route) {
    result.reply = text_reply(
        404, "not found; try /, /metrics, /api/topics, /api/topics/TOPIC, /api/topics/TOPIC/history or /events\n");
    return result;
  }
  if (context.origins != nullptr && !context.origins->allows(request.origin, request.host)) {
    result.reply = text_reply(403, "Origin '" + std::string(request.origin) +
                                       "' may not read this server's data: only its own page may (or start the "
                                       "server with --allow-origin " +
                                       std::string(request.origin) + ")\n");
    result.origin_refused = true;
    return result;
  }
  if (!authorized(request, query, context.token)) {
    Reply reply = text_reply(401, "this server needs its token: 'Authorization: Bearer TOKEN' or ?token=TOKEN\n");
    reply.headers.emplace_back("WWW-Authenticate", "Bearer");
    result.reply = std::move(reply);
    return result;
  }
  if (!context.model || context.stats == nullptr) {
    result.reply = text_reply(503, "no sample yet\n");
    return result;
  }
  if (path == "/metrics") {
    Reply reply;
    reply.content_type = metrics_content_type;
    reply.body = render_metrics(*context.model, *context.stats);
    result.reply = std::move(reply);
  } else if (path == "/events") {
    result.event_stream = true;
    const auto topic = query.find("topic");
    result.selected_topic = topic == query.end() ? std::string() : topic->second;
  } else if (path == "/api/topics") {
    result.reply = json_reply(topics_json(*context.model));
  } else if (path.size() > 12 + history_suffix.size() && path.ends_with(history_suffix)) {
    result.reply =
        history_reply(percent_decode(path.substr(12, path.size() - 12 - history_suffix.size())), query, context);
  } else {
    const std::string name = percent_decode(path.substr(12));
    if (const TopicState* topic = context.model->find(name)) {
      result.reply = json_reply(detail_json(*topic));
    } else {
      result.reply = text_reply(
          404, "no topic '" + name + "' under prefix '" + context.model->prefix + "'; /api/topics lists them\n");
    }
  }
  return result;
}

}  // namespace shmsnap::serve
