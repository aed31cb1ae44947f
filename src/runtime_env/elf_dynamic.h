// Reads what the dynamic loader would read from an ELF file — its DT_NEEDED libraries and its
// DT_RUNPATH (or DT_RPATH) — to tell whether a program copied into the node's code cache still
// finds libmoray from there: a build-tree program carries an absolute RUNPATH (found anywhere),
// an installed one `$ORIGIN/../lib` (found only beside its original location).
//
//   absl::StatusOr<ElfDynamic> dyn = ReadElfDynamic("/cache/code/ab12.../app");
//   bool found = FindsNeededLibrary(*dyn, "/cache/code/ab12...", "libmoray.so");
//
// Thread model: free functions, any thread. Only 64-bit little-endian ELF (x86-64, AArch64).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace moray::runtime_env {

struct ElfDynamic {
  std::vector<std::string> needed;   // DT_NEEDED, in order
  std::vector<std::string> runpath;  // DT_RUNPATH split at ':', else DT_RPATH; $ORIGIN unexpanded
};

// InvalidArgument for a file that is not a 64-bit little-endian ELF or whose dynamic section is
// malformed; a static program gives an empty ElfDynamic.
[[nodiscard]] absl::StatusOr<ElfDynamic> ReadElfDynamic(const std::string& path);

// Whether a needed library whose name starts with `prefix` is found in one of the run paths
// ($ORIGIN and ${ORIGIN} meaning `origin_dir`, the directory the program lies in). True when no
// needed library starts with `prefix` (nothing to find).
bool FindsNeededLibrary(const ElfDynamic& dynamic, const std::string& origin_dir,
                        std::string_view prefix);

}  // namespace moray::runtime_env
