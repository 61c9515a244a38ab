// Webhook measurements: the cost to writes of active webhooks (single-CI update latency with
// `hooks` enabled webhooks against none, alternating rounds in one process: a ratio) and the
// delivery throughput of the workers to a local receiver (events per second).
// Thread safety: single-threaded driver (the service runs its own threads).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace cmdb::bench {

// Runs `updates` single-CI updates per configuration (in 10 alternating rounds) on a SQLite
// database in `dir`, with `hooks` webhooks to a loopback receiver, then drains the outbox; twice:
// synchronous=FULL and NORMAL. Fills `out` ({"synchronous_full": {...}, "synchronous_normal":
// {...}}); false when something failed (not when the ratio is high: that is reported).
bool WebhookBench(int64_t updates, int hooks, const std::string& schema_dir, const std::string& dir,
                  nlohmann::json& out);

}  // namespace cmdb::bench
