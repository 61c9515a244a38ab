#include "api/request_log.hpp"

#include <cstdio>
#include <random>

#include "api/json_codec.hpp"
#include "cmdb/clock.hpp"
#include "cmdb/time_util.hpp"

namespace cmdb::api {

bool ParseLogFormat(std::string_view text, LogFormat& out) {
  if (text == "text") return out = LogFormat::kText, true;
  if (text == "json") return out = LogFormat::kJson, true;
  return false;
}

std::string RequestIdFor(std::string_view incoming) {
  bool ok = !incoming.empty() && incoming.size() <= kMaxRequestIdLength;
  for (size_t i = 0; ok && i < incoming.size(); ++i) {
    char c = incoming[i];
    ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
  }
  if (ok) return std::string(incoming);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

void EventLog::Request(const RequestLogEntry& e) {
  if (!out_) return;
  std::string now = FormatTimestamp(Clock::System()->NowMicros());
  std::string line;
  if (format_ == LogFormat::kText) {
    char tail[64];
    if (e.refused)
      std::snprintf(tail, sizeof tail, " %d refused\n", e.status);
    else
      std::snprintf(tail, sizeof tail, " %d %.2fms\n", e.status, e.latency_ms);
    line = now + " " + (e.method.empty() ? "-" : e.method + " " + e.path) + tail;
  } else {
    Json j = {{"time", now},
              {"event", "request"},
              {"request_id", e.request_id},
              {"method", e.method},
              {"route", e.route},
              {"path", e.path},
              {"status", e.status},
              {"latency_ms", static_cast<double>(static_cast<int64_t>(e.latency_ms * 1000)) / 1000},
              {"bytes", e.bytes},
              {"actor", e.actor},
              {"remote", e.remote}};
    if (e.refused) j["refused"] = true;
    line = j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  }
  std::lock_guard l(mu_);
  *out_ << line << std::flush;
}

void EventLog::Event(std::string_view event,
                     const std::vector<std::pair<std::string, std::string>>& fields) {
  if (!out_) return;
  std::string now = FormatTimestamp(Clock::System()->NowMicros());
  std::string line;
  if (format_ == LogFormat::kText) {
    line = now + " cmdbd: " + std::string(event);
    for (const auto& [k, v] : fields) line += " " + k + "=" + v;
    for (char& c : line) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    line += "\n";
  } else {
    Json j = {{"time", now}, {"event", std::string(event)}};
    for (const auto& [k, v] : fields) j[k] = v;
    line = j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  }
  std::lock_guard l(mu_);
  *out_ << line << std::flush;
}

}  // namespace cmdb::api
