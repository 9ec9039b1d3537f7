# Warning and sanitizer flags for maas' own tests, examples and benchmarks.
# Never applied to the maas::maas interface target: consumers keep their flags.
add_library(maas_warnings INTERFACE)
target_compile_options(maas_warnings INTERFACE
  -Wall -Wextra -Wpedantic
  -Wshadow            # a layer member shadowed by a local is a classic kernel bug
  -Wconversion        # silent narrowing of sizes and indices
  -Wno-sign-conversion  # size_t/ptrdiff_t mixing in index math is checked by tests instead
  # GCC 12 reports a false -Wrestrict inside std::string::assign(const char*)
  # when inlined under -std=c++20 (GCC bug 105651, fixed in 13).
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>
  $<$<BOOL:${MAAS_WERROR}>:-Werror>)
if(MAAS_SANITIZE)
  string(REPLACE ";" "," _maas_san "${MAAS_SANITIZE}")
  target_compile_options(maas_warnings INTERFACE -fsanitize=${_maas_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(maas_warnings INTERFACE -fsanitize=${_maas_san})
endif()
