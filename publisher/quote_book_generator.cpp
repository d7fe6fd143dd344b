// market.quote_book: a random-walk mid price on a 0.25 tick grid, a one- or
// two-tick spread, ten levels a side whose sizes grow away from the touch, and an
// exchange sequence that advances by 1-3 per update like a feed with other books.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <random>

#include <market_quote_book.hpp>

#include "generator.hpp"

namespace shmsnap::app {
namespace {

class QuoteBookGenerator final : public Generator {
 public:
  QuoteBookGenerator(std::string_view symbol, std::uint64_t seed) : random_(seed) {
    std::string upper(symbol);
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    copy_text(book_.symbol, upper);
    book_.sequence = 1'000'000;
  }

  const SchemaInfo& schema() const noexcept override { return market::QuoteBook::shmsnap_schema; }

  std::span<const std::byte> next(const Instant& now) override {
    std::normal_distribution<double> step(0.0, 0.6);
    mid_ticks_ = std::max<std::int64_t>(40, mid_ticks_ + std::llround(step(random_)));
    const int spread_ticks = std::bernoulli_distribution(0.8)(random_) ? 1 : 2;
    const double best_bid = static_cast<double>(mid_ticks_) * tick;
    const double best_ask = best_bid + spread_ticks * tick;
    std::lognormal_distribution<double> size(3.0, 0.7);
    for (int level = 0; level < 10; ++level) {
      const auto index = static_cast<std::size_t>(level);
      book_.bid_price[index] = best_bid - level * tick;
      book_.ask_price[index] = best_ask + level * tick;
      // Depth grows away from the touch, as on most books.
      book_.bid_size[index] = std::round(size(random_) * (1.0 + 0.3 * level));
      book_.ask_size[index] = std::round(size(random_) * (1.0 + 0.3 * level));
    }
    book_.sequence += std::uniform_int_distribution<std::uint64_t>(1, 3)(random_);
    book_.exchange_time_ns = now.realtime_ns;
    return std::as_bytes(std::span(&book_, 1));
  }

 private:
  static constexpr double tick = 0.25;
  std::mt19937_64 random_;
  std::int64_t mid_ticks_ = 4 * 5000;  // 5000.00
  market::QuoteBook book_{};
};

}  // namespace

std::unique_ptr<Generator> make_quote_book_generator(std::string_view symbol, std::uint64_t seed) {
  return std::make_unique<QuoteBookGenerator>(symbol, seed);
}

}  // namespace shmsnap::app
