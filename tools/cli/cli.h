// -----------------------------------------------------------------------------
// File: tools/cli/cli.h
// -----------------------------------------------------------------------------
//
// Shared pieces of the `maas` command: exit codes, how a status becomes an
// exit code and a message, text tables, opening models (remote or local).

#ifndef MAAS_TOOLS_CLI_CLI_H_
#define MAAS_TOOLS_CLI_CLI_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "maas/core/data_type.h"
#include "maas/core/predictor.h"
#include "maas/remote/remote_model.h"

namespace maas_cli {

// Exit codes of every subcommand.
inline constexpr int kExitOk = 0;        // done
inline constexpr int kExitUsage = 1;     // bad command line
inline constexpr int kExitRefused = 2;   // the server or the model said no
inline constexpr int kExitData = 3;      // the data does not fit (file, shape)

// Fail()
//
// Prints "maas <command>: <CODE>: <message>" (plus the HTTP status when the
// status came from a reply) on stderr and returns `exit_code`.
int Fail(absl::string_view command, const absl::Status& status, int exit_code);

// Table
//
// A text table with left-aligned columns; `Print` pads every column to its
// widest cell. Numbers are formatted by the caller.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string ToString() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// RemoteOptions
//
// What the command line says about a remote model.
struct RemoteOptions {
  std::string url;
  std::string model;
  std::string version;
  bool v1 = false;
  bool binary = false;
  absl::Duration timeout = absl::Seconds(30);
  std::size_t connections = 8;
};

// ConnectRemote()
//
// A RemoteModel for `o` (no network traffic yet).
absl::StatusOr<std::unique_ptr<maas::RemoteModel>> ConnectRemote(const RemoteOptions& o);

// OpenLocal()
//
// A predictor running the model file at `path` in-process, sized at run time
// (maas::DynamicNetwork), in `dtype` (kFloat32 or kFloat64; kInvalid: the
// file's datatype). `kUnimplemented` when this build has no runtime-sized
// network; else fails as maas::LoadDynamicModel.
absl::StatusOr<std::unique_ptr<maas::Predictor>> OpenLocal(const std::string& path,
                                                           maas::DataType dtype);

// LocalPrecision()
//
// The --fp32 / --fp64 flags as a datatype for OpenLocal (kInvalid: the
// file's). Prints and returns false when both are set.
bool LocalPrecision(absl::string_view command, maas::DataType* dtype);

// HaveLocal()
//
// True when `OpenLocal` can run model files in this build.
bool HaveLocal();

// Subcommands: each returns an exit code. `args` are the positional
// arguments after the subcommand name.
int Health(const std::vector<std::string>& args);
int Metadata(const std::vector<std::string>& args);
int Models(const std::vector<std::string>& args);
int Predict(const std::vector<std::string>& args);
int Diff(const std::vector<std::string>& args);
int Perf(const std::vector<std::string>& args);
int Attrib(const std::vector<std::string>& args);  // attrib.cc

}  // namespace maas_cli

#endif  // MAAS_TOOLS_CLI_CLI_H_
