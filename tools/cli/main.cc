// The `maas` command: look at inference servers and model files, run
// predictions from data files, compare model versions, measure speed.
//
//   maas health URL
//   maas metadata URL MODEL [--version V]
//   maas models URL
//   maas predict (URL MODEL | --local FILE) --input data.csv|.npy|.json [--output out]
//   maas diff A.json B.json [--inputs data.csv] [--samples N]
//   maas perf (URL MODEL | --local FILE) [--batch-sizes 1,16,256] [--concurrency 1,4]
//             [--modes json,binary,local] [--csv out.csv] [--plot out.png]
//   maas attrib FILE --input F [--baseline zero|mean|F] [--steps N] [--target J]
//
// Exit status: 0 ok, 1 usage, 2 the server or model said no (its code is
// printed), 3 the data does not fit (file:line:column printed).

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/strings/ascii.h"
#include "cli.h"
#include "flags.h"
#include "maas/remote/http_status.h"
#include "maas/remote/http_client_transport.h"

ABSL_FLAG(std::string, version, "", "model version on the server (default: the server's choice)");
ABSL_FLAG(std::string, protocol, "v2", "v2 (Open Inference Protocol / KServe V2) or v1 (TF Serving REST)");
ABSL_FLAG(bool, binary, false, "predict: use the V2 binary tensor data extension");
ABSL_FLAG(double, timeout, 30.0, "seconds allowed for each server call");
ABSL_FLAG(std::string, local, "", "run this maas model file in-process instead of a server model");
ABSL_FLAG(std::string, input, "", "predict: input rows (.csv, .npy or .json)");
ABSL_FLAG(std::string, output, "-", "predict: where to write the outputs (.csv, .npy, .json; - = stdout CSV)");
ABSL_FLAG(bool, fp32, false, "--local: run the network in float (default: the file's datatype)");
ABSL_FLAG(bool, fp64, false, "--local: run the network in double (default: the file's datatype)");
ABSL_FLAG(std::string, inputs, "", "diff: input rows to compare the outputs on (default: sampled)");
ABSL_FLAG(int32_t, samples, 1000, "diff: number of sampled input rows when --inputs is not given");
ABSL_FLAG(int32_t, seed, 1, "diff/perf: seed of the sampled inputs");
ABSL_FLAG(std::vector<std::string>, batch_sizes, std::vector<std::string>({"1", "16", "256"}),
          "perf: batch sizes (rows per request)");
ABSL_FLAG(std::vector<std::string>, concurrency, std::vector<std::string>({"1", "4"}),
          "perf: numbers of concurrent clients");
ABSL_FLAG(std::vector<std::string>, modes, std::vector<std::string>(),
          "perf: json, binary, local (default: json,binary for a server; plus local with --local)");
ABSL_FLAG(int32_t, requests, 400, "perf: requests per remote measurement at most (local ones run --seconds)");
ABSL_FLAG(double, seconds, 1.0, "perf: seconds per measurement at most");
ABSL_FLAG(int32_t, warmup, 5, "perf: warm-up requests per client before measuring");
ABSL_FLAG(std::string, csv, "", "perf: write the measurements as CSV to this file");
ABSL_FLAG(std::string, plot, "", "perf: draw the measurements into this PNG (needs matplotlib)");
ABSL_FLAG(std::string, python, "", "perf --plot: Python with matplotlib (default: $MAAS_PYTHON, else python3)");
ABSL_FLAG(std::string, progress, "auto", "perf: bar, lines or auto (a bar on a terminal)");
ABSL_FLAG(std::vector<std::string>, header, std::vector<std::string>(),
          "extra HTTP header 'Name: value' for every request (repeatable: comma-separated)");

namespace maas_cli {

int Fail(absl::string_view command, const absl::Status& status, int exit_code) {
  std::string http;
  if (std::optional<int> code = maas::HttpStatusOf(status);
      code.has_value() && !absl::StrContains(status.message(), absl::StrCat("HTTP ", *code))) {
    http = absl::StrCat(" [HTTP ", *code, "]");
  }
  std::cerr << "maas " << command << ": " << absl::StatusCodeToString(status.code()) << ": "
            << status.message() << http << "\n";
  return exit_code;
}

std::string Table::ToString() const {
  std::vector<std::size_t> width;
  for (const auto& row : rows_) {
    if (row.size() > width.size()) width.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (std::size_t r = 0; r < rows_.size(); ++r) {
    std::string line;
    for (std::size_t i = 0; i < rows_[r].size(); ++i) {
      line += rows_[r][i];
      if (i + 1 < rows_[r].size()) line.append(width[i] - rows_[r][i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    if (r == 0) {
      std::size_t total = 0;
      for (std::size_t i = 0; i < width.size(); ++i) total += width[i] + (i + 1 < width.size() ? 2 : 0);
      out += std::string(total, '-') + "\n";
    }
  }
  return out;
}

bool LocalPrecision(absl::string_view command, maas::DataType* dtype) {
  const bool fp32 = absl::GetFlag(FLAGS_fp32), fp64 = absl::GetFlag(FLAGS_fp64);
  if (fp32 && fp64) {
    std::cerr << "maas " << command << ": --fp32 and --fp64 exclude each other\n";
    return false;
  }
  *dtype = fp32 ? maas::DataType::kFloat32
         : fp64 ? maas::DataType::kFloat64
                : maas::DataType::kInvalid;
  return true;
}

absl::StatusOr<std::unique_ptr<maas::RemoteModel>> ConnectRemote(const RemoteOptions& o) {
  maas::RemoteModelOptions opts;
  opts.model = o.model.empty() ? std::string("-") : o.model;
  opts.version = o.version;
  opts.protocol = o.v1 ? maas::RemoteProtocol::kTfServingV1 : maas::RemoteProtocol::kKServeV2;
  opts.binary = o.binary;
  opts.timeout = o.timeout;
  maas::HttpTransportOptions http;
  // Credentials from the environment, never from the command line (which
  // other users of the machine can see).
  if (const char* token = std::getenv("MAAS_BEARER_TOKEN"); token != nullptr && *token) {
    http.bearer_token = token;
  }
  if (const char* key = std::getenv("MAAS_API_KEY"); key != nullptr && *key) {
    http.api_key = key;
  }
  for (const std::string& h : absl::GetFlag(FLAGS_header)) {
    const std::size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--header '", h, "': expected 'Name: value'"));
    }
    http.headers.emplace_back(std::string(absl::StripAsciiWhitespace(h.substr(0, colon))),
                              std::string(absl::StripAsciiWhitespace(h.substr(colon + 1))));
  }
  http.total_timeout = o.timeout;
  http.read_timeout = o.timeout;
  http.max_idle_connections = o.connections;
  return maas::ConnectRemoteModel(o.url, std::move(opts), std::move(http));
}

}  // namespace maas_cli

namespace {

constexpr const char* kUsage =
    "maas: look at inference servers and maas model files.\n"
    "\n"
    "usage:\n"
    "  maas health URL                      is the server live and ready? what is it?\n"
    "  maas metadata URL MODEL              the model's inputs/outputs, datatypes, shapes, versions\n"
    "  maas metadata --local FILE           a model file's tensors, layers, scaling, metadata\n"
    "  maas models URL                      the server's model repository index\n"
    "  maas predict URL MODEL --input F     predict on the rows of F (.csv, .npy, .json)\n"
    "  maas predict --local FILE --input F  the same with a maas model file, in-process\n"
    "  maas diff A.json B.json              compare two model files: architecture, scaling,\n"
    "                                       weights per layer, output divergence\n"
    "  maas perf URL MODEL [--local FILE]   throughput and latency p50/p90/p99 over batch\n"
    "  maas perf --local FILE               sizes and concurrency: JSON vs binary vs local\n"
    "  maas attrib FILE --input F           input attributions of a model file per row and\n"
    "                                       output: gradient x input, integrated gradients\n"
    "                                       from --baseline zero|mean|F (--steps N,\n"
    "                                       --target J) and their completeness residual\n"    "\n"
    "options (dashes or underscores):\n"
    "  --version V --protocol v2|v1 --binary --timeout S --header 'Name: value'\n"
    "  --input F --output F (.csv/.npy/.json, - = stdout) --fp32 --fp64 (--local precision)\n"
    "  --inputs F --samples N --seed N                                   (diff)\n"
    "  --batch-sizes 1,16,256 --concurrency 1,4 --modes json,binary,local\n"
    "  --requests N --seconds S --warmup N --csv F --plot F.png --progress bar|lines  (perf)\n"
    "\n"
    "credentials: $MAAS_BEARER_TOKEN (Authorization: Bearer) and $MAAS_API_KEY (X-API-Key)\n"
    "exit status: 0 ok, 1 usage, 2 the server or model said no, 3 the data does not fit\n";

}  // namespace

int main(int argc, char** argv) {
  // Abseil flag names use underscores; accept --batch-sizes as well.
  std::vector<std::string> storage(argv, argv + argc);
  for (std::size_t i = 1; i < storage.size(); ++i) {
    std::string& a = storage[i];
    if (a == "--") break;
    if (absl::StartsWith(a, "--")) {
      const std::size_t eq = a.find('=');
      std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      std::replace(name.begin(), name.end(), '-', '_');
      a = absl::StrCat("--", name, eq == std::string::npos ? "" : a.substr(eq));
    }
    if (a == "--help" || a == "-h" || a == "--helpfull") {
      std::cout << kUsage;
      return maas_cli::kExitOk;
    }
  }
  std::vector<char*> args;
  for (std::string& s : storage) args.push_back(s.data());
  absl::SetProgramUsageMessage(kUsage);
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view) { return false; };
  absl::SetFlagsUsageConfig(config);
  // Unknown flags make ParseCommandLine print the problem and exit(1).
  std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  if (positional.size() < 2) {
    std::cerr << kUsage;
    return maas_cli::kExitUsage;
  }
  const std::string command = positional[1];
  const std::vector<std::string> rest(positional.begin() + 2, positional.end());
  if (command == "help") {
    std::cout << kUsage;
    return maas_cli::kExitOk;
  }
  if (command == "health") return maas_cli::Health(rest);
  if (command == "metadata") return maas_cli::Metadata(rest);
  if (command == "models") return maas_cli::Models(rest);
  if (command == "predict") return maas_cli::Predict(rest);
  if (command == "diff") return maas_cli::Diff(rest);
  if (command == "perf") return maas_cli::Perf(rest);
  if (command == "attrib") return maas_cli::Attrib(rest);
  std::cerr << "maas: unknown command '" << command << "'\n\n" << kUsage;
  return maas_cli::kExitUsage;
}
