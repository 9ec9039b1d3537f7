// maas diff A.json B.json: how two versions of a model differ.
//
//  1. identity and tensors: name, version, input/output names and sizes;
//  2. architecture: layer by layer, inputs x units and activation;
//  3. scaling: input standardisation and output scaling, max |difference|;
//  4. weights, per layer of equal shape: max |dW|, RMS dW, ||dW|| / ||W_A||
//     (Frobenius), the fraction of changed values, and the same for the bias;
//  5. output divergence over --inputs rows, or --samples rows drawn
//     uniformly from mean +- sqrt(3) std of A's input standardisation (the
//     range of uniformly spread training data with that mean and std;
//     [-sqrt 3, sqrt 3] without one): max and mean absolute and relative
//     difference per output (relative to |A|, floored at 1e-3 of the
//     output's largest |A|), and for
//     softmax outputs how often the arg-max class agrees. Both models run
//     in double.
//
// Exit status: 0 when the diff was made (differences are its result), 2 when
// a model file cannot be read, 3 when --inputs does not fit the models.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli.h"
#include "data_io.h"
#include "flags.h"
#include "maas/core/tensor_view.h"
#include "maas/local/model_file.h"

namespace maas_cli {
namespace {

std::string Num(double v) { return absl::StrFormat("%.3g", v); }

struct Stats {
  double max_abs = 0, rms = 0, rel_fro = 0, changed = 0;
};

Stats Compare(const std::vector<double>& a, const std::vector<double>& b) {
  Stats s;
  double sum2 = 0, norm2 = 0;
  std::size_t changed = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = b[i] - a[i];
    s.max_abs = std::max(s.max_abs, std::abs(d));
    sum2 += d * d;
    norm2 += a[i] * a[i];
    if (d != 0) ++changed;
  }
  if (!a.empty()) {
    s.rms = std::sqrt(sum2 / static_cast<double>(a.size()));
    s.changed = static_cast<double>(changed) / static_cast<double>(a.size());
  }
  s.rel_fro = norm2 > 0 ? std::sqrt(sum2 / norm2) : (sum2 > 0 ? INFINITY : 0.0);
  return s;
}

double MaxAbsDiff(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return INFINITY;
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

absl::StatusOr<Matrix> Run(maas::Predictor& p, const Matrix& x) {
  auto sig = p.Signature();
  if (!sig.ok()) return sig.status();
  const auto rows = static_cast<std::int64_t>(x.rows);
  const auto n_out = sig->outputs[0].shape.dim(1);
  Matrix y;
  y.rows = x.rows;
  y.cols = static_cast<std::size_t>(n_out);
  y.values.assign(y.rows * y.cols, 0.0);
  absl::Status s;
  if (sig->inputs[0].dtype == maas::DataType::kFloat64) {
    s = p.Predict({maas::ConstTensorView(sig->inputs[0].name, absl::MakeConstSpan(x.values),
                                         {rows, static_cast<std::int64_t>(x.cols)})},
                  {maas::TensorView(sig->outputs[0].name, absl::MakeSpan(y.values),
                                    {rows, n_out})});
  } else {
    std::vector<float> xf(x.values.begin(), x.values.end()), yf(y.values.size());
    s = p.Predict({maas::ConstTensorView(sig->inputs[0].name, absl::MakeConstSpan(xf),
                                         {rows, static_cast<std::int64_t>(x.cols)})},
                  {maas::TensorView(sig->outputs[0].name, absl::MakeSpan(yf), {rows, n_out})});
    y.values.assign(yf.begin(), yf.end());
  }
  if (!s.ok()) return s;
  return y;
}

}  // namespace

int Diff(const std::vector<std::string>& args) {
  if (args.size() != 2) {
    std::cerr << "usage: maas diff A.json B.json [--inputs data.csv] [--samples N]\n";
    return kExitUsage;
  }
  absl::StatusOr<maas::ModelFile> a = maas::ReadModelFile(args[0]);
  if (!a.ok()) return Fail("diff", a.status(), kExitRefused);
  absl::StatusOr<maas::ModelFile> b = maas::ReadModelFile(args[1]);
  if (!b.ok()) return Fail("diff", b.status(), kExitRefused);

  std::cout << "A: " << args[0] << "\nB: " << args[1] << "\n\n";
  Table id({"", "A", "B", ""});
  auto row = [&](const std::string& what, const std::string& va, const std::string& vb) {
    id.Add({what, va, vb, va == vb ? "" : "differs"});
  };
  row("name", a->signature.name, b->signature.name);
  row("version", a->signature.version, b->signature.version);
  row("input", absl::StrCat(a->signature.inputs[0].name, " ", a->signature.inputs[0].shape.ToString()),
      absl::StrCat(b->signature.inputs[0].name, " ", b->signature.inputs[0].shape.ToString()));
  row("output",
      absl::StrCat(a->signature.outputs[0].name, " ", a->signature.outputs[0].shape.ToString()),
      absl::StrCat(b->signature.outputs[0].name, " ", b->signature.outputs[0].shape.ToString()));
  row("layers", absl::StrCat(a->layers.size()), absl::StrCat(b->layers.size()));
  std::cout << id.ToString() << "\n";

  bool same_arch = a->layers.size() == b->layers.size();
  Table arch({"layer", "A", "B", ""});
  const std::size_t n = std::max(a->layers.size(), b->layers.size());
  for (std::size_t l = 0; l < n; ++l) {
    auto describe = [&](const maas::ModelFile& f) -> std::string {
      if (l >= f.layers.size()) return "-";
      const maas::ModelFileLayer& x = f.layers[l];
      return absl::StrCat(x.inputs, " x ", x.units, " ", maas::ActivationName(x.activation));
    };
    const std::string da = describe(*a), db = describe(*b);
    if (da != db) same_arch = false;
    arch.Add({absl::StrCat(l), da, db, da == db ? "" : "differs"});
  }
  std::cout << "architecture: " << (same_arch ? "same" : "DIFFERENT") << "\n"
            << arch.ToString() << "\n";

  Table scaling({"scaling", "A", "B", "max |B - A|"});
  auto scale_row = [&](const char* what, const std::vector<double>& va,
                       const std::vector<double>& vb) {
    scaling.Add({what, va.empty() ? "none" : absl::StrCat(va.size(), " values"),
                 vb.empty() ? "none" : absl::StrCat(vb.size(), " values"),
                 va.size() == vb.size() ? Num(MaxAbsDiff(va, vb)) : "-"});
  };
  scale_row("input_mean", a->input_mean, b->input_mean);
  scale_row("input_std", a->input_std, b->input_std);
  scale_row("output_scale", a->output_scale, b->output_scale);
  scale_row("output_offset", a->output_offset, b->output_offset);
  std::cout << scaling.ToString() << "\n";

  Table weights({"layer", "max |dW|", "rms dW", "|dW|/|W_A|", "changed", "max |db|",
                 "|db|/|b_A|"});
  for (std::size_t l = 0; l < std::min(a->layers.size(), b->layers.size()); ++l) {
    const maas::ModelFileLayer& la = a->layers[l];
    const maas::ModelFileLayer& lb = b->layers[l];
    if (la.inputs != lb.inputs || la.units != lb.units) {
      weights.Add({absl::StrCat(l), "shapes differ", "", "", "", "", ""});
      continue;
    }
    const Stats w = Compare(la.weights, lb.weights);
    const Stats bias = Compare(la.bias, lb.bias);
    weights.Add({absl::StrCat(l), Num(w.max_abs), Num(w.rms), Num(w.rel_fro),
                 absl::StrFormat("%.1f%%", 100 * w.changed), Num(bias.max_abs),
                 Num(bias.rel_fro)});
  }
  std::cout << "weights (B - A):\n" << weights.ToString() << "\n";

  // Output divergence needs both models run in-process.
  const std::size_t n_in = a->layers.front().inputs;
  const std::size_t n_out = a->layers.back().units;
  if (b->layers.front().inputs != n_in || b->layers.back().units != n_out) {
    std::cout << "outputs: not compared (the models take " << n_in << " vs "
              << b->layers.front().inputs << " inputs and give " << n_out << " vs "
              << b->layers.back().units << " outputs)\n";
    return kExitOk;
  }
  if (!HaveLocal()) {
    std::cout << "outputs: not compared (this build of maas has no runtime-sized network to "
                 "run model files)\n";
    return kExitOk;
  }
  Matrix x;
  std::string source;
  const std::string inputs = absl::GetFlag(FLAGS_inputs);
  if (!inputs.empty()) {
    absl::StatusOr<Matrix> m = ReadMatrix(inputs);
    if (!m.ok()) {
      return Fail("diff", m.status(),
                  m.status().code() == absl::StatusCode::kNotFound ? kExitUsage : kExitData);
    }
    if (m->cols != n_in) {
      return Fail("diff", absl::InvalidArgumentError(absl::StrCat(
                              inputs, ": ", m->cols, " columns, the models take ", n_in,
                              " inputs")),
                  kExitData);
    }
    x = *std::move(m);
    source = absl::StrCat(x.rows, " rows of ", inputs);
  } else {
    const int samples = absl::GetFlag(FLAGS_samples);
    if (samples <= 0) {
      std::cerr << "maas diff: --samples must be > 0\n";
      return kExitUsage;
    }
    std::mt19937_64 rng(static_cast<std::uint64_t>(absl::GetFlag(FLAGS_seed)));
    std::uniform_real_distribution<double> uniform(-std::sqrt(3.0), std::sqrt(3.0));
    x.rows = static_cast<std::size_t>(samples);
    x.cols = n_in;
    x.values.resize(x.rows * x.cols);
    for (std::size_t r = 0; r < x.rows; ++r) {
      for (std::size_t c = 0; c < n_in; ++c) {
        const double mean = a->input_mean.empty() ? 0.0 : a->input_mean[c];
        const double std = a->input_std.empty() ? 1.0 : a->input_std[c];
        x.values[r * n_in + c] = mean + std * uniform(rng);
      }
    }
    source = absl::StrCat(samples, " rows drawn uniformly from mean +- sqrt(3) std of A's "
                          "input standardisation (seed ", absl::GetFlag(FLAGS_seed), ")");
  }
  auto pa = OpenLocal(args[0], maas::DataType::kFloat64);
  if (!pa.ok()) return Fail("diff", pa.status(), kExitRefused);
  auto pb = OpenLocal(args[1], maas::DataType::kFloat64);
  if (!pb.ok()) return Fail("diff", pb.status(), kExitRefused);
  auto ya = Run(**pa, x);
  if (!ya.ok()) return Fail("diff", ya.status(), kExitData);
  auto yb = Run(**pb, x);
  if (!yb.ok()) return Fail("diff", yb.status(), kExitData);
  // Relative differences divide by |A|, floored at 1e-3 of the column's
  // largest |A| (outputs crossing zero would otherwise dominate).
  constexpr double kFloorFraction = 1e-3;
  Table out({"output", "max |B-A|", "mean |B-A|", "max rel", "mean rel", "A range"});
  double overall_max = 0;
  for (std::size_t j = 0; j < n_out; ++j) {
    double max_abs = 0, sum_abs = 0, max_rel = 0, sum_rel = 0;
    double lo = INFINITY, hi = -INFINITY, biggest = 0;
    for (std::size_t r = 0; r < x.rows; ++r) biggest = std::max(biggest, std::abs(ya->at(r, j)));
    const double floor = std::max(kFloorFraction * biggest, 1e-300);
    for (std::size_t r = 0; r < x.rows; ++r) {
      const double va = ya->at(r, j), vb = yb->at(r, j);
      const double d = std::abs(vb - va);
      const double rel = d / std::max(std::abs(va), floor);
      max_abs = std::max(max_abs, d);
      sum_abs += d;
      max_rel = std::max(max_rel, rel);
      sum_rel += rel;
      lo = std::min(lo, va);
      hi = std::max(hi, va);
    }
    overall_max = std::max(overall_max, max_abs);
    const double rows = static_cast<double>(x.rows);
    out.Add({absl::StrCat(a->signature.outputs[0].name, n_out > 1 ? absl::StrCat("[", j, "]") : ""),
             Num(max_abs), Num(sum_abs / rows), Num(max_rel), Num(sum_rel / rows),
             absl::StrCat(Num(lo), " .. ", Num(hi))});
  }
  std::cout << "outputs over " << source << ":\n" << out.ToString();
  if (a->layers.back().activation == maas::Activation::kSoftmax && n_out > 1) {
    std::size_t agree = 0;
    for (std::size_t r = 0; r < x.rows; ++r) {
      const double* ra = &ya->values[r * n_out];
      const double* rb = &yb->values[r * n_out];
      if (std::max_element(ra, ra + n_out) - ra == std::max_element(rb, rb + n_out) - rb) {
        ++agree;
      }
    }
    std::cout << absl::StrFormat("arg-max class agrees on %zu of %zu rows (%.2f%%)\n", agree,
                                 x.rows, 100.0 * static_cast<double>(agree) /
                                             static_cast<double>(x.rows));
  }
  return kExitOk;
}

}  // namespace maas_cli
