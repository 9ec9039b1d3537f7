#include "maas/core/model_signature.h"

#include <array>
#include <string>
#include <vector>

#include "doctest/doctest.h"
#include "testing/status_doctest.h"

namespace {

maas::ModelSignature TwoInputSig() {
  maas::ModelSignature sig;
  sig.name = "closure";
  sig.inputs = {{"state", maas::DataType::kFloat32, {maas::kDynamic, 16}},
                {"params", maas::DataType::kFloat32, {maas::kDynamic, 2}}};
  sig.outputs = {{"force", maas::DataType::kFloat32, {maas::kDynamic, 8}}};
  return sig;
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

}  // namespace

TEST_SUITE("ModelSignature") {
  TEST_CASE("valid inputs give the batch size and the signature order") {
    auto sig = TwoInputSig();
    std::vector<float> x(4 * 16), p(4 * 2);
    maas::ConstTensorView in[] = {
        {"params", absl::MakeConstSpan(p), {4, 2}},  // order does not matter
        {"state", absl::MakeConstSpan(x), {4, 16}}};
    std::array<maas::ConstTensorView, 2> ordered;
    auto batch = sig.ValidateInputs(in, absl::MakeSpan(ordered));
    REQUIRE(batch.ok());
    CHECK(*batch == 4);
    CHECK(ordered[0].name() == "state");
    CHECK(ordered[1].name() == "params");
  }

  TEST_CASE("unnamed views are matched by position") {
    auto sig = TwoInputSig();
    std::vector<float> x(16), p(2);
    maas::ConstTensorView in[] = {{"", absl::MakeConstSpan(x), {1, 16}},
                                  {"", absl::MakeConstSpan(p), {1, 2}}};
    std::array<maas::ConstTensorView, 2> ordered;
    CHECK(sig.ValidateInputs(in, absl::MakeSpan(ordered)).ok());
  }

  TEST_CASE("mismatches name the tensor and give expected and actual values") {
    auto sig = TwoInputSig();
    std::array<maas::ConstTensorView, 2> ordered;
    std::vector<float> x(4 * 15), p(4 * 2), p3(3 * 2);
    std::vector<double> xd(4 * 16);

    SUBCASE("shape") {
      maas::ConstTensorView in[] = {{"state", absl::MakeConstSpan(x), {4, 15}},
                                    {"params", absl::MakeConstSpan(p), {4, 2}}};
      auto r = sig.ValidateInputs(in, absl::MakeSpan(ordered));
      CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
      CHECK(Message(r.status()) == "input 'state': expected shape [-1,16], got [4,15]");
    }
    SUBCASE("datatype") {
      maas::ConstTensorView in[] = {{"state", absl::MakeConstSpan(xd), {4, 16}},
                                    {"params", absl::MakeConstSpan(p), {4, 2}}};
      auto r = sig.ValidateInputs(in, absl::MakeSpan(ordered));
      CHECK(Message(r.status()) == "input 'state': expected datatype FP32, got FP64");
    }
    SUBCASE("batch size") {
      std::vector<float> x16(4 * 16);
      maas::ConstTensorView in[] = {{"state", absl::MakeConstSpan(x16), {4, 16}},
                                    {"params", absl::MakeConstSpan(p3), {3, 2}}};
      auto r = sig.ValidateInputs(in, absl::MakeSpan(ordered));
      CHECK(Message(r.status()) ==
            "input 'params': batch size 3 differs from batch size 4 of input 'state'");
    }
    SUBCASE("count") {
      maas::ConstTensorView in[] = {{"state", absl::MakeConstSpan(x), {4, 15}}};
      auto r = sig.ValidateInputs(in, absl::MakeSpan(ordered));
      CHECK(Message(r.status()) == "expected 2 inputs ('state', 'params'), got 1");
    }
    SUBCASE("unknown name") {
      maas::ConstTensorView in[] = {{"stat", absl::MakeConstSpan(x), {4, 15}},
                                    {"params", absl::MakeConstSpan(p), {4, 2}}};
      auto r = sig.ValidateInputs(in, absl::MakeSpan(ordered));
      CHECK(Message(r.status()) ==
            "unknown input 'stat'; the model's inputs are 'state', 'params'");
    }
    SUBCASE("duplicate") {
      maas::ConstTensorView in[] = {{"params", absl::MakeConstSpan(p), {4, 2}},
                                    {"params", absl::MakeConstSpan(p), {4, 2}}};
      auto r = sig.ValidateInputs(in, absl::MakeSpan(ordered));
      CHECK(Message(r.status()) == "input 'params' is given more than once");
    }
    SUBCASE("buffer too small for the declared shape") {
      std::vector<float> short_x(10);
      maas::ConstTensorView in[] = {{"state", absl::MakeConstSpan(short_x), {4, 16}},
                                    {"params", absl::MakeConstSpan(p), {4, 2}}};
      auto r = sig.ValidateInputs(in, absl::MakeSpan(ordered));
      CHECK(Message(r.status()) ==
            "input 'state': shape [4,16] needs 64 elements but the buffer holds 10");
    }
  }

  TEST_CASE("max_batch_size is enforced") {
    auto sig = TwoInputSig();
    sig.max_batch_size = 2;
    std::vector<float> x(4 * 16), p(4 * 2);
    maas::ConstTensorView in[] = {{"state", absl::MakeConstSpan(x), {4, 16}},
                                  {"params", absl::MakeConstSpan(p), {4, 2}}};
    std::array<maas::ConstTensorView, 2> ordered;
    auto r = sig.ValidateInputs(in, absl::MakeSpan(ordered));
    CHECK(Message(r.status()) == "batch size 4 exceeds the model's maximum of 2");
  }

  TEST_CASE("outputs are checked against the batch size") {
    auto sig = TwoInputSig();
    std::array<maas::TensorView, 1> ordered;
    std::vector<float> y(4 * 8), y7(4 * 7);
    maas::TensorView good[] = {{"force", absl::MakeSpan(y), {4, 8}}};
    CHECK(sig.ValidateOutputs(good, 4, absl::MakeSpan(ordered)).ok());
    maas::TensorView wrong_batch[] = {{"force", absl::MakeSpan(y), {4, 8}}};
    CHECK(Message(sig.ValidateOutputs(wrong_batch, 3, absl::MakeSpan(ordered))) ==
          "output 'force': expected shape [3,8] for batch size 3, got [4,8]");
    maas::TensorView narrow[] = {{"force", absl::MakeSpan(y7), {4, 7}}};
    CHECK(Message(sig.ValidateOutputs(narrow, 4, absl::MakeSpan(ordered))) ==
          "output 'force': expected shape [4,8] for batch size 4, got [4,7]");
  }

  TEST_CASE("DebugString describes the model in one line") {
    auto sig = TwoInputSig();
    sig.version = "3";
    CHECK(sig.DebugString() ==
          "closure v3: inputs state:FP32[-1,16], params:FP32[-1,2] -> outputs "
          "force:FP32[-1,8]");
  }
}
