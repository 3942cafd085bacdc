// The administrator's HTTP API under /v1/admin/ (docs/protocol.md §6), authenticated by the
// admin token (compared in constant time): users, enrolment codes, devices and their states,
// missing attachments, bundles and the province report. The same operations as the CLI, through
// the Service's public methods.
#pragma once

#include <string>

#include "context.hpp"

namespace tram::server::api {

class Attachments;
class Bundles;

class Admin {
 public:
  Admin(Service& service, Attachments& attachments, Bundles& bundles, std::string token)
      : service_(service), attachments_(attachments), bundles_(bundles), token_(std::move(token)) {}
  // `path` is what follows /v1/admin/.
  Response handle(const Request& req, const std::string& path);

 private:
  Service& service_;
  Attachments& attachments_;
  Bundles& bundles_;
  std::string token_;
};

}  // namespace tram::server::api
