#include "runtime_env/elf_dynamic.h"

#include <elf.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace moray::runtime_env {

namespace {

bool ReadAt(std::ifstream& in, uint64_t offset, void* out, size_t size) {
  in.clear();
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(static_cast<char*>(out), static_cast<std::streamsize>(size));
  return static_cast<size_t>(in.gcount()) == size;
}

std::string ReadString(std::ifstream& in, uint64_t offset) {
  in.clear();
  in.seekg(static_cast<std::streamoff>(offset));
  std::string text;
  std::getline(in, text, '\0');
  return text;
}

}  // namespace

absl::StatusOr<ElfDynamic> ReadElfDynamic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open " + path);
  Elf64_Ehdr ehdr;
  if (!ReadAt(in, 0, &ehdr, sizeof(ehdr)) ||
      std::string_view(reinterpret_cast<const char*>(ehdr.e_ident), 4) !=
          std::string_view(ELFMAG, SELFMAG) ||
      ehdr.e_ident[EI_CLASS] != ELFCLASS64 || ehdr.e_ident[EI_DATA] != ELFDATA2LSB ||
      ehdr.e_phentsize != sizeof(Elf64_Phdr)) {
    return absl::InvalidArgumentError(path + " is not a 64-bit little-endian ELF file");
  }
  std::vector<Elf64_Phdr> phdrs(ehdr.e_phnum);
  if (!ReadAt(in, ehdr.e_phoff, phdrs.data(), phdrs.size() * sizeof(Elf64_Phdr))) {
    return absl::InvalidArgumentError(path + ": truncated program headers");
  }
  ElfDynamic result;
  const Elf64_Phdr* dynamic = nullptr;
  for (const Elf64_Phdr& ph : phdrs) {
    if (ph.p_type == PT_DYNAMIC) dynamic = &ph;
  }
  if (dynamic == nullptr) return result;  // a static program
  std::vector<Elf64_Dyn> entries(dynamic->p_filesz / sizeof(Elf64_Dyn));
  if (!ReadAt(in, dynamic->p_offset, entries.data(), entries.size() * sizeof(Elf64_Dyn))) {
    return absl::InvalidArgumentError(path + ": truncated dynamic section");
  }
  uint64_t strtab = 0;
  for (const Elf64_Dyn& d : entries) {
    if (d.d_tag == DT_STRTAB) strtab = d.d_un.d_ptr;
  }
  // DT_STRTAB is an address: find the file offset through the loadable segment holding it.
  uint64_t strtab_offset = 0;
  bool mapped = false;
  for (const Elf64_Phdr& ph : phdrs) {
    if (ph.p_type == PT_LOAD && strtab >= ph.p_vaddr && strtab < ph.p_vaddr + ph.p_filesz) {
      strtab_offset = ph.p_offset + (strtab - ph.p_vaddr);
      mapped = true;
    }
  }
  if (!mapped) return absl::InvalidArgumentError(path + ": no string table in a loaded segment");
  std::string rpath, runpath;
  for (const Elf64_Dyn& d : entries) {
    if (d.d_tag == DT_NULL) break;
    if (d.d_tag == DT_NEEDED) result.needed.push_back(ReadString(in, strtab_offset + d.d_un.d_val));
    if (d.d_tag == DT_RUNPATH) runpath = ReadString(in, strtab_offset + d.d_un.d_val);
    if (d.d_tag == DT_RPATH) rpath = ReadString(in, strtab_offset + d.d_un.d_val);
  }
  const std::string& search = runpath.empty() ? rpath : runpath;
  for (absl::string_view dir : absl::StrSplit(search, ':', absl::SkipEmpty())) {
    result.runpath.emplace_back(dir);
  }
  return result;
}

bool FindsNeededLibrary(const ElfDynamic& dynamic, const std::string& origin_dir,
                        std::string_view prefix) {
  for (const std::string& needed : dynamic.needed) {
    if (!needed.starts_with(prefix)) continue;
    bool found = false;
    for (const std::string& dir : dynamic.runpath) {
      const std::string expanded =
          absl::StrReplaceAll(dir, {{"${ORIGIN}", origin_dir}, {"$ORIGIN", origin_dir}});
      std::error_code ec;
      if (std::filesystem::exists(expanded + "/" + needed, ec)) found = true;
    }
    if (!found) return false;
  }
  return true;
}

}  // namespace moray::runtime_env
