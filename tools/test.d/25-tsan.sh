# ThreadSanitizer: the transport (both engines, its connection pool), the
# remote model and the resilience decorators, shared by many threads against
# a real KServe server and the in-process test servers, the metrics and the
# routing classes (batching, async, rollouts, replicas, router) (tests
# labelled tsan).
# maas locks with std::mutex (core/detail/mutex.h), which TSan understands;
# Debian's Abseil is not built with TSan, so maas does not use absl::Mutex.
run_config tsan --label tsan \
  --targets "maas_remote_scripted_transport_test maas_remote_model_test maas_remote_concurrency_test maas_resilience_test maas_metrics_test maas_routing_test maas_routing_server_test" -- \
  -DCMAKE_BUILD_TYPE=Release -DMAAS_SANITIZE=thread -DMAAS_WERROR=ON \
  -DMAAS_BUILD_EXAMPLES=OFF -DMAAS_BUILD_C_API=OFF -DMAAS_BUILD_CLI=OFF -DMAAS_INSTALL=OFF
