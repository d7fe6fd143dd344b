#include "serve_command.hpp"

#include <memory>

#include "server.hpp"

namespace shmsnap::serve {

void register_serve_command(CLI::App& app, std::function<int()>& action, app::Io& io) {
  struct Flags {
    std::string listen = "127.0.0.1:9464";
    std::string foxglove;
    Options options;
    unsigned sample_ms = 100;
    std::size_t max_send_kib = 1024;
    unsigned header_timeout_s = 10;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = app.add_subcommand(
      "serve",
      "web dashboard (GET /), Prometheus metrics (GET /metrics), JSON API (/api/topics, /api/topics/TOPIC) and "
      "optionally a Foxglove WebSocket endpoint for every topic of the prefix; read-only, loopback by default");
  command->add_option("--listen", flags->listen, "HOST:PORT of the dashboard and metrics")->capture_default_str();
  app::add_prefix_option(*command, flags->options.prefix);
  app::add_socket_dir_option(*command, flags->options.socket_dir)
      ->description(
          "socket mode: serve the topics of DIR/*.sock (a directory shared between containers) instead of the "
          "prefix's /dev/shm names; default $SHMSNAP_SOCKET_DIR, unset: named mode");
  command->add_option("--foxglove", flags->foxglove,
                      "HOST:PORT of a Foxglove WebSocket server (foxglove.websocket.v1), e.g. 127.0.0.1:8765");
  command->add_flag("--allow-remote", flags->options.allow_remote,
                    "allow a non-loopback address (everyone who reaches it reads every topic; add --token)");
  command->add_option("--token", flags->options.token,
                      "require 'Authorization: Bearer TOKEN' (or ?token=TOKEN) for data, metrics and Foxglove");
  command->add_option("--allow-origin", flags->options.allow_origins,
                      "a web page origin (SCHEME://HOST[:PORT]) served elsewhere that may read the data and the "
                      "Foxglove WebSocket; repeatable. The server's own page and non-browser clients need none");
  command->add_option("--sample-ms", flags->sample_ms, "how often topics are read and pushed, in milliseconds")
      ->capture_default_str()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
      ->check(CLI::Range(10U, 10000U));
  command
      ->add_option("--max-connections", flags->options.limits.max_connections,
                   "clients per listener; more are answered 503 and closed")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  command
      ->add_option("--max-send-kib", flags->max_send_kib,
                   "push data queued per client, in KiB; a client further behind is dropped")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  command->add_option("--header-timeout", flags->header_timeout_s, "seconds a request's headers may take to arrive")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  command->callback([flags, &action, &io] {
    action = [flags, &io] {
      Options options = flags->options;
      options.listen = parse_endpoint(flags->listen);
      if (!flags->foxglove.empty()) {
        options.foxglove = true;
        options.foxglove_listen = parse_endpoint(flags->foxglove);
      }
      options.sample_period = std::chrono::milliseconds(flags->sample_ms);
      options.limits.max_send_buffer_bytes = flags->max_send_kib * 1024;
      options.limits.header_timeout = std::chrono::seconds(flags->header_timeout_s);
      Server server(options);
      const Endpoint http = server.http_endpoint();
      io.out << "serving http=" << http.host << ":" << http.port;
      if (const auto foxglove = server.foxglove_endpoint()) {
        io.out << " foxglove=" << foxglove->host << ":" << foxglove->port;
      }
      io.out << std::endl;
      server.run(io.stop);
      return static_cast<int>(app::exit_ok);
    };
  });
}

}  // namespace shmsnap::serve
