"""Conan 2 recipe for maas, a header-only C++17 library.

Header-library style: `package_type = "header-library"`, the package id
ignores settings, and `build()` only runs maas' own CMake configure so that
`package()` can install the headers together with maas' own CMake package
(maasConfig.cmake, targets `maas::maas` and `maas::http`) and pkg-config
files. Consumers therefore see exactly the same `find_package(maas)` as with
a plain `cmake --install`, whether the dependencies come from Conan Center or
from the system.

Options:
  with_http  (default True)  the HTTP transport, CMake target `maas::http`.

Dependencies: abseil, nlohmann_json, and with `with_http` the HTTP library
(`_HTTP_REQUIREMENT` below, the only place that names it). On a connected
machine they come from Conan Center; offline on Debian 12 they come from the
system packages through the profile `profiles/debian12` ([platform_requires]).

    conan create packaging/conan -pr:a packaging/conan/profiles/debian12
"""
import os
import re

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy, load

required_conan_version = ">=2.0"

# The Conan reference of the library behind maas::http (cmake/ decides which
# library the transport links; keep this line in step with it).
_HTTP_REQUIREMENT = "libcurl/[>=7.88 <9]"


class MaasConan(ConanFile):
    name = "maas"
    description = ("One predict interface for in-process and remote ML models "
                   "in simulation codes (header-only C++17)")
    topics = ("machine-learning", "inference", "simulation", "header-only")
    license = "MIT"
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {"with_http": [True, False]}
    default_options = {"with_http": True}
    no_copy_source = True

    # The maas checkout this recipe lives in (packaging/conan/ -> root).
    def _root(self):
        return os.path.join(self.recipe_folder, "..", "..")

    def set_version(self):
        text = load(self, os.path.join(self._root(), "include", "maas", "version.h"))
        parts = [re.search(rf"#define MAAS_VERSION_{p} (\d+)", text).group(1)
                 for p in ("MAJOR", "MINOR", "PATCH")]
        self.version = ".".join(parts)

    def export_sources(self):
        root = self._root()
        copy(self, "CMakeLists.txt", root, self.export_sources_folder)
        copy(self, "LICENSE*", root, self.export_sources_folder)
        copy(self, "*", os.path.join(root, "cmake"),
             os.path.join(self.export_sources_folder, "cmake"))
        copy(self, "*", os.path.join(root, "include"),
             os.path.join(self.export_sources_folder, "include"))

    def layout(self):
        cmake_layout(self)

    def requirements(self):
        self.requires("abseil/[>=20220623 <20300000]")
        self.requires("nlohmann_json/[>=3.10 <4]")
        if self.options.with_http:
            self.requires(_HTTP_REQUIREMENT)

    def validate(self):
        check_min_cppstd(self, 17)

    def package_id(self):
        # Header-only: one package for every compiler and build type; the
        # option stays in the id because it changes what is installed.
        self.info.settings.clear()
        self.info.requires.clear()

    def generate(self):
        tc = CMakeToolchain(self)
        tc.cache_variables["MAAS_BUILD_TESTS"] = False
        tc.cache_variables["MAAS_BUILD_EXAMPLES"] = False
        tc.cache_variables["MAAS_BUILD_BENCHMARKS"] = False
        tc.cache_variables["MAAS_BUILD_C_API"] = False
        tc.cache_variables["MAAS_BUILD_CLI"] = False
        tc.cache_variables["MAAS_BUILD_FORTRAN"] = False
        tc.cache_variables["MAAS_BUILD_HTTP"] = bool(self.options.with_http)
        tc.cache_variables["MAAS_INSTALL"] = True
        tc.generate()
        CMakeDeps(self).generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()

    def package(self):
        cmake = CMake(self)
        cmake.install()
        copy(self, "LICENSE*", self.source_folder,
             os.path.join(self.package_folder, "licenses"))

    def package_info(self):
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        # CMake consumers use maas' own package config (installed above):
        # CMakeDeps writes none, and CMakeToolchain puts the package folder
        # on CMAKE_PREFIX_PATH, where find_package(maas) finds
        # share/cmake/maas/maasConfig.cmake.
        # (builddirs must be a component's: Conan aggregates components.)
        self.cpp_info.set_property("cmake_find_mode", "none")
        core = self.cpp_info.components["maas"]
        core.builddirs = ["."]
        core.bindirs = []
        core.libdirs = []
        # The rest is for the other generators (PkgConfigDeps, ...).
        core.set_property("pkg_config_name", "maas")
        core.requires = ["abseil::abseil", "nlohmann_json::nlohmann_json"]
        if self.options.with_http:
            http = self.cpp_info.components["http"]
            http.bindirs = []
            http.libdirs = []
            http.set_property("pkg_config_name", "maas-http")
            http.requires = ["maas", _HTTP_REQUIREMENT.split("/")[0] + "::"
                             + _HTTP_REQUIREMENT.split("/")[0]]
            if self.settings.os in ("Linux", "FreeBSD"):
                http.system_libs = ["pthread"]
