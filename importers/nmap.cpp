// nmap XML (-oX): hosts that are up, their addresses, host names, best OS match and open ports.
#include <algorithm>
#include <cctype>
#include <functional>
#include <memory>
#include <optional>
#include <pugixml.hpp>

#include "cmdb/schema.hpp"
#include "cmdb/text_position.hpp"
#include "importers/formats.hpp"
#include "importers/identifiers.hpp"
#include "importers/nmap_targets.hpp"
#include "importers/scopes.hpp"

namespace cmdb::importers {
namespace {

// The offset of the first entity reference that is not one of XML's own (&amp; &lt; &gt; &quot;
// &apos; and character references), outside comments; npos when none. nmap's XML defines no
// entities, and the parser would keep an undefined one as text ("&lol9;" as a host name).
size_t UndefinedEntity(std::string_view text, std::string& name) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 4, "<!--") == 0) {
      size_t end = text.find("-->", i + 4);
      if (end == std::string_view::npos) return std::string_view::npos;
      i = end + 2;
      continue;
    }
    if (text[i] != '&') continue;
    size_t semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 64) continue;
    std::string_view ref = text.substr(i + 1, semi - i - 1);
    if (ref.empty()) continue;
    bool is_name = std::isalpha(static_cast<unsigned char>(ref[0])) || ref[0] == '_';
    for (char c : ref)
      is_name = is_name && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
                            c == '.');
    if (!is_name) continue;  // a character reference (&#38;) or not a reference at all
    if (ref == "amp" || ref == "lt" || ref == "gt" || ref == "quot" || ref == "apos") continue;
    name = std::string(ref);
    return i;
  }
  return std::string_view::npos;
}

// `text` cut to 160 bytes (at a character boundary) with "..." when longer: a command line or a
// port list quoted in the report.
std::string Cut(const std::string& text) {
  if (text.size() <= 160) return text;
  size_t end = 160;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end) + "...";
}

}  // namespace

Status ParseNmap(std::string_view text, CandidateSet& out) {
  std::string entity;
  if (size_t at = UndefinedEntity(text, entity); at != std::string_view::npos) {
    auto [line, column] = PositionAt(text, at);
    return Status::Invalid("malformed XML at line " + std::to_string(line) + ", column " +
                           std::to_string(column) + ": the entity &" + entity +
                           "; is not defined (nmap XML uses only XML's own: &amp; &lt; &gt; "
                           "&quot; &apos;)")
        .With("line", line)
        .With("column", column);
  }
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_buffer(text.data(), text.size());
  if (!parsed) {
    // A file cut off (an interrupted scan, a partial copy) lacks the closing </nmaprun>: say so,
    // at its end, rather than name the unclosed element the parser stopped at.
    std::string_view trimmed = text.substr(0, text.find_last_not_of(" \t\r\n") + 1);
    if (text.find_last_not_of(" \t\r\n") == std::string_view::npos) trimmed = {};
    constexpr std::string_view kClose = "</nmaprun>";
    bool started = text.find("<nmaprun") != std::string_view::npos;  // not just any bad XML
    if (started && (trimmed.size() < kClose.size() ||
                    trimmed.substr(trimmed.size() - kClose.size()) != kClose)) {
      auto [line, column] = PositionAt(text, text.size());
      return Status::Invalid("the nmap XML ends early at line " + std::to_string(line) +
                             ", column " + std::to_string(column) +
                             ": the file is truncated (no closing </nmaprun>)")
          .With("line", line)
          .With("column", column);
    }
    auto [line, column] = PositionAt(text, static_cast<size_t>(parsed.offset));
    return Status::Invalid("malformed XML at line " + std::to_string(line) + ", column " +
                           std::to_string(column) + ": " + parsed.description())
        .With("line", line)
        .With("column", column);
  }
  pugi::xml_node run = doc.child("nmaprun");
  if (!run)
    return Status::Invalid("not an nmap XML report: the root element must be <nmaprun>")
        .With("element", "/");
  // A full scan covers what this run scanned, and nothing it cannot tell: the hosts and
  // addresses among the targets of its command line (none when a target is not an address: a
  // host name, -iL, an unreadable form), and on those hosts the ports its <scaninfo>s list (none
  // without one, a ping scan, or when one does not read as port ranges).
  std::optional<NmapTargets> targets = NmapTargets::FromArgs(run.attribute("args").value());
  auto ports = std::make_shared<NmapPorts>();
  bool ports_known = true;
  for (pugi::xml_node info : run.children("scaninfo"))
    ports_known = ports->Add(info.attribute("protocol").value(),
                             info.attribute("services").value()) && ports_known;
  ports_known = ports_known && !ports->empty();
  const std::string args = run.attribute("args").value();
  std::string services;  // for the report: "tcp 22,443; udp 53"
  for (pugi::xml_node info : run.children("scaninfo")) {
    services += (services.empty() ? "" : "; ") + std::string(info.attribute("protocol").value()) +
                " " + info.attribute("services").value();
  }
  if (targets) {
    auto scanned = [targets](const char* attr) -> std::function<bool(const AttrMap&)> {
      return [targets, attr](const AttrMap& a) {
        Value v = a.Get(attr);
        return v.is_string() && targets->Contains(std::string(v.as_string()));
      };
    };
    const std::string among = "those whose address is a target of `" + Cut(args) + "`";
    out.covers.push_back({"DiscoveredHost", "", Value(), {}, "", scanned("ip_address"), among});
    out.covers.push_back({"IPAddress", "", Value(), {}, "", scanned("address"), among});
    if (ports_known) {
      out.covers.push_back({"NetworkPort", "", Value(), {}, "EXPOSES",
                            [ports](const AttrMap& a) {
                              Value port = a.Get("port"), protocol = a.Get("protocol");
                              return port.is_int() && protocol.is_string() &&
                                     ports->Contains(std::string(protocol.as_string()),
                                                     port.as_int());
                            },
                            "on a covered host, those of <scaninfo> " + Cut(services)});
    } else {
      out.covers.push_back({"NetworkPort", "", Value(), {}, "", {},
                            services.empty() ? "no <scaninfo> says which ports were scanned"
                                             : "the <scaninfo> services do not read as port "
                                               "ranges: " + Cut(services),
                            true});
    }
  } else {
    // Nothing covered (the list must not be empty: that means "the candidates' classes").
    out.covers.push_back({"DiscoveredHost", "", Value(), {}, "", {},
                          "which addresses were scanned cannot be told: a target of `" +
                              Cut(args) + "` is not an address",
                          true});
  }
  int index = 0;
  // Hosts come in document order: their lines are counted on from the previous host's, so the
  // whole file is scanned once (counting from the start for each host made imports quadratic).
  size_t counted_to = 0;
  int64_t line = 1;
  for (pugi::xml_node host : run.children("host")) {
    ++index;
    size_t offset =
        std::min(static_cast<size_t>(std::max<ptrdiff_t>(host.offset_debug(), 0)), text.size());
    if (offset < counted_to) counted_to = 0, line = 1;  // not in order after all: count again
    line += std::count(text.begin() + counted_to, text.begin() + offset, '\n');
    counted_to = offset;
    std::string where = "<host> #" + std::to_string(index) + " (line " + std::to_string(line) + ")";
    if (std::string state = host.child("status").attribute("state").value(); state != "up") {
      out.skipped.push_back({where, "the host is " + (state.empty() ? "of unknown state" : state)});
      continue;
    }
    Candidate h;
    h.class_name = "DiscoveredHost";
    h.location = where;
    std::string ip, mac, name;
    std::vector<std::pair<std::string, std::string>> addresses;  // address, type
    std::string loopback;  // a loopback address: the scanning machine itself
    for (pugi::xml_node a : host.children("address")) {
      std::string type = a.attribute("addrtype").value(), addr = a.attribute("addr").value();
      if (addr.empty()) continue;
      // One form (the schema's IP form): nmap may print 2001:DB8:0:0:0:0:0:10.
      if (type == "ipv6") addr = CanonicalIp(addr).value_or(addr);
      if (type != "mac" && IsLoopbackAddress(addr)) {
        loopback = addr;
        continue;
      }
      if (type == "mac") {
        // One form whoever reports it (nmap prints upper case); a placeholder or malformed MAC
        // is no identifier (a malformed one is said so, in skipped: the host is imported).
        MacAddress m = ReadMac(addr);
        if (m.kind == MacAddress::kMalformed)
          out.skipped.push_back(
              {where + " mac address",
               "not a MAC address: \"" + addr + "\" (not used as an identifier)"});
        mac = m.value;
      } else {
        addresses.emplace_back(addr, type);
        if (ip.empty() || (type == "ipv4" && addresses.front().second != "ipv4")) ip = addr;
      }
    }
    if (ip.empty() && mac.empty() && !loopback.empty()) {
      // Every scanner's 127.0.0.1 would be one global CI: not a host of the network.
      out.skipped.push_back({where, "the host is the scanning machine's loopback address " +
                                        loopback + " (not a host of the network)"});
      continue;
    }
    if (ip.empty() && mac.empty()) {
      out.skipped.push_back({where, "a host without an IP or MAC address cannot be identified"});
      continue;
    }
    for (pugi::xml_node hn : host.child("hostnames").children("hostname")) {
      std::string n = hn.attribute("name").value();
      if (!n.empty() && (name.empty() || std::string(hn.attribute("type").value()) == "user")) {
        if (name.empty() || std::string(hn.attribute("type").value()) == "user") name = n;
      }
    }
    std::string fqdn = name.find('.') != std::string::npos ? name : "";
    std::string short_name = fqdn.empty() ? name : name.substr(0, name.find('.'));
    h.attrs.Set("name", Value(name.empty() ? (ip.empty() ? mac : ip) : name));
    if (!short_name.empty()) h.attrs.Set("hostname", Value(short_name));
    if (!fqdn.empty()) {
      h.attrs.Set("fqdn", Value(fqdn));
      h.attrs.Set("domain", Value(fqdn.substr(fqdn.find('.') + 1)));
    }
    if (!ip.empty()) h.attrs.Set("ip_address", Value(ip));
    if (!mac.empty()) h.attrs.Set("mac_address", Value(mac));
    // The best OS match.
    int best = -1;
    for (pugi::xml_node m : host.child("os").children("osmatch")) {
      int accuracy = m.attribute("accuracy").as_int();
      if (accuracy > best) {
        best = accuracy;
        h.attrs.Set("os", Value(std::string(m.attribute("name").value())));
      }
    }
    h.ref = "host:" + (ip.empty() ? mac : ip);
    for (const auto& [addr, type] : addresses) {
      Candidate a;
      a.class_name = "IPAddress";
      a.ref = "ip:" + addr;
      a.location = where;
      a.attrs.Set("name", Value(addr));
      a.attrs.Set("address", Value(addr));
      if (!mac.empty() && type == "ipv4") a.attrs.Set("mac_address", Value(mac));
      if (!name.empty()) a.attrs.Set("dns_name", Value(name));
      out.rels.push_back({"HAS_ADDRESS", h.ref, a.ref, {}, where});
      out.cis.push_back(std::move(a));
    }
    for (pugi::xml_node p : host.child("ports").children("port")) {
      pugi::xml_node state = p.child("state");
      if (std::string(state.attribute("state").value()) != "open") continue;
      std::string proto = p.attribute("protocol").value(), portid = p.attribute("portid").value();
      for (char& ch : proto) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (proto.empty()) {  // nmap writes tcp, udp or sctp
        out.skipped.push_back({where + " port " + portid, "a port without a protocol is not imported"});
        continue;
      }
      // A port number is 0 to 65535 in decimal: "ssh", "-1" or "70000" is no port.
      bool number = !portid.empty() && portid.size() <= 5 &&
                    portid.find_first_not_of("0123456789") == std::string::npos &&
                    std::stol(portid) <= 65535;
      if (!number) {
        out.skipped.push_back({where + " port " + portid + "/" + proto,
                               "portid \"" + portid +
                                   "\" is not a port number (0 to 65535): the port is not imported"});
        continue;
      }
      Candidate port;
      port.class_name = "NetworkPort";
      port.ref = h.ref + "/" + portid + "/" + proto;
      port.parent_ref = h.ref;
      port.location = where + " port " + portid + "/" + proto;
      port.attrs.Set("name", Value(portid + "/" + proto));
      port.attrs.Set("port", Value(static_cast<int64_t>(p.attribute("portid").as_llong())));
      port.attrs.Set("protocol", Value(proto));
      port.attrs.Set("state", Value(std::string("open")));
      pugi::xml_node svc = p.child("service");
      auto set = [&](const char* attr, const char* xml) {
        std::string v = svc.attribute(xml).value();
        if (!v.empty()) port.attrs.Set(attr, Value(v));
      };
      set("service", "name");
      set("product", "product");
      set("product_version", "version");
      out.rels.push_back({"EXPOSES", h.ref, port.ref, {}, port.location});
      out.cis.push_back(std::move(port));
    }
    out.cis.push_back(std::move(h));
  }
  return Status::Ok();
}

}  // namespace cmdb::importers
