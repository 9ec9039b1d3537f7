# cmake -DINPUT=file -DOUTPUT=header.h -DSYMBOL=kName -DNAMESPACE=ns -P embed_file.cmake
#
# Writes a C++17 header holding INPUT's bytes as
#   inline constexpr char <SYMBOL>_data[] = {...};   (NUL-terminated)
#   inline constexpr std::string_view <SYMBOL>{<SYMBOL>_data, size};
# Used at build time so a binary carries its default model file.
foreach(var INPUT OUTPUT SYMBOL NAMESPACE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_file.cmake: ${var} is not set")
  endif()
endforeach()
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
# 16 bytes per line.
string(REGEX REPLACE "(('[^']+',){16})" "\\1\n    " bytes "${bytes}")
get_filename_component(name "${INPUT}" NAME)
string(MAKE_C_IDENTIFIER "${SYMBOL}" guard)
string(TOUPPER "MAAS_EMBEDDED_${guard}_H_" guard)
file(WRITE "${OUTPUT}.tmp"
"// Generated at build time from ${name} by examples/cmake/embed_file.cmake.\n"
"// Do not edit; edit the source file instead.\n"
"#ifndef ${guard}\n#define ${guard}\n\n#include <string_view>\n\n"
"namespace ${NAMESPACE} {\n\n"
"// The ${size} bytes of ${name}.\n"
"inline constexpr char ${SYMBOL}_data[] = {\n    ${bytes}'\\0'};\n"
"inline constexpr std::string_view ${SYMBOL}{${SYMBOL}_data, ${size}};\n\n"
"}  // namespace ${NAMESPACE}\n\n#endif  // ${guard}\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
