// ExtractZip: the central directory, then each entry's local header and data; stored and
// deflated entries (zlib raw inflate), CRC-32 checked. Unix modes and symlinks come from the
// external attributes when the archive was made on Unix. Not supported (InvalidArgument): ZIP64
// archives, encrypted entries, other compression methods.
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "runtime_env/extractor.h"
#include "runtime_env/package_internal.h"

namespace moray::runtime_env {
namespace {

constexpr uint32_t kEndOfCentralDir = 0x06054b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kLocalHeader = 0x04034b50;

absl::Status Corrupt(std::string_view what) {
  return absl::InvalidArgumentError(Cat("not a valid .zip archive: ", what));
}

uint16_t U16(std::string_view b, size_t at) {
  return static_cast<uint16_t>(static_cast<unsigned char>(b[at]) |
                               static_cast<unsigned char>(b[at + 1]) << 8);
}
uint32_t U32(std::string_view b, size_t at) {
  return static_cast<uint32_t>(U16(b, at)) | static_cast<uint32_t>(U16(b, at + 2)) << 16;
}

struct ZipEntry {
  std::string name;
  uint16_t method = 0;
  uint16_t flags = 0;
  uint32_t crc = 0;
  uint64_t compressed = 0;
  uint64_t size = 0;
  uint64_t local_offset = 0;
  uint32_t unix_mode = 0;  // 0: not made on Unix
};

// The entry's data, decompressed, handed to `sink` in pieces; checks size and CRC.
template <typename Sink>
absl::Status Inflate(const ZipEntry& e, std::string_view data, Sink sink) {
  uLong crc = crc32(0L, Z_NULL, 0);
  uint64_t produced = 0;
  if (e.method == 0) {
    if (data.size() != e.size) return Corrupt(Cat(e.name, ": stored sizes differ"));
    crc = crc32_z(crc, reinterpret_cast<const Bytef*>(data.data()), data.size());
    produced = data.size();
    if (auto s = sink(data); !s.ok()) return s;
  } else {
    z_stream z{};
    if (inflateInit2(&z, -15) != Z_OK) return absl::InternalError("zlib inflateInit2 failed");
    std::string buf(256 * 1024, '\0');
    absl::Status status;
    int rc = Z_OK;
    while (status.ok() && rc != Z_STREAM_END) {
      if (z.avail_in == 0 && !data.empty()) {
        size_t n = std::min<size_t>(data.size(), 1u << 30);
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
        z.avail_in = static_cast<uInt>(n);
        data.remove_prefix(n);
      }
      z.next_out = reinterpret_cast<Bytef*>(buf.data());
      z.avail_out = static_cast<uInt>(buf.size());
      rc = inflate(&z, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END) {
        status = Corrupt(Cat(e.name, ": ", z.msg != nullptr ? z.msg : "bad deflate data"));
        break;
      }
      size_t n = buf.size() - z.avail_out;
      crc = crc32_z(crc, reinterpret_cast<const Bytef*>(buf.data()), n);
      produced += n;
      status = sink(std::string_view(buf.data(), n));
      if (rc == Z_OK && n == 0 && z.avail_in == 0 && data.empty()) {
        status = Corrupt(Cat(e.name, ": truncated"));
      }
    }
    inflateEnd(&z);
    if (!status.ok()) return status;
  }
  if (produced != e.size || crc != e.crc) {
    return Corrupt(Cat(e.name, ": size or CRC-32 does not match"));
  }
  return absl::OkStatus();
}

absl::Status ExtractEntry(std::string_view zip, const ZipEntry& e, Extractor& out) {
  if (e.flags & 1) return absl::InvalidArgumentError(Cat(e.name, " is encrypted"));
  if (e.method != 0 && e.method != 8) {
    return absl::InvalidArgumentError(Cat("zip entry ", e.name, " uses compression method ",
                                          e.method,
                                          "; only stored and deflated entries are supported"));
  }
  if (e.local_offset + 30 > zip.size() || U32(zip, e.local_offset) != kLocalHeader) {
    return Corrupt(Cat(e.name, ": bad local header"));
  }
  uint64_t start =
      e.local_offset + 30 + U16(zip, e.local_offset + 26) + U16(zip, e.local_offset + 28);
  if (start + e.compressed > zip.size()) return Corrupt(Cat(e.name, ": truncated"));
  std::string_view data = zip.substr(start, e.compressed);

  const bool is_dir =
      (e.unix_mode != 0 && S_ISDIR(e.unix_mode)) || (!e.name.empty() && e.name.back() == '/');
  if (is_dir) return out.Directory(e.name, e.unix_mode & 0777);
  if (e.unix_mode != 0 && S_ISLNK(e.unix_mode)) {
    std::string target;
    auto s = Inflate(e, data, [&](std::string_view piece) {
      target.append(piece);
      return target.size() > 4096 ? Corrupt(Cat(e.name, ": link target too long"))
                                  : absl::OkStatus();
    });
    if (!s.ok()) return s;
    return out.Symlink(e.name, target);
  }
  auto file = out.CreateFile(e.name, e.unix_mode & 0777);
  if (!file.ok()) return file.status();
  auto s = Inflate(e, data, [&](std::string_view piece) { return file->Write(piece); });
  if (!s.ok()) return s;
  return file->Close();
}

}  // namespace

absl::Status ExtractZip(std::string_view zip, Extractor& out) {
  // The end-of-central-directory record: 22 bytes plus a comment of up to 64 KiB, at the end.
  if (zip.size() < 22) return Corrupt("too short");
  size_t eocd = std::string_view::npos;
  const size_t lowest = zip.size() > 22 + 0xffff ? zip.size() - 22 - 0xffff : 0;
  for (size_t at = zip.size() - 22 + 1; at-- > lowest;) {
    if (U32(zip, at) == kEndOfCentralDir) {
      eocd = at;
      break;
    }
  }
  if (eocd == std::string_view::npos) return Corrupt("no end of central directory");
  const uint16_t count = U16(zip, eocd + 10);
  const uint32_t cd_size = U32(zip, eocd + 12);
  const uint32_t cd_offset = U32(zip, eocd + 16);
  if (count == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff) {
    return absl::InvalidArgumentError("ZIP64 archives are not supported");
  }
  if (static_cast<uint64_t>(cd_offset) + cd_size > zip.size()) {
    return Corrupt("central directory out of range");
  }
  size_t at = cd_offset;
  for (uint16_t i = 0; i < count; ++i) {
    if (at + 46 > zip.size() || U32(zip, at) != kCentralHeader) {
      return Corrupt("bad central directory entry");
    }
    ZipEntry e;
    const uint16_t made_by_host = U16(zip, at + 4) >> 8;
    e.flags = U16(zip, at + 8);
    e.method = U16(zip, at + 10);
    e.crc = U32(zip, at + 16);
    e.compressed = U32(zip, at + 20);
    e.size = U32(zip, at + 24);
    const uint16_t name_len = U16(zip, at + 28);
    const uint16_t extra_len = U16(zip, at + 30);
    const uint16_t comment_len = U16(zip, at + 32);
    if (made_by_host == 3) e.unix_mode = U32(zip, at + 38) >> 16;  // 3: Unix
    e.local_offset = U32(zip, at + 42);
    if (at + 46 + name_len > zip.size()) return Corrupt("bad central directory entry");
    e.name = std::string(zip.substr(at + 46, name_len));
    at += 46 + name_len + extra_len + comment_len;
    if (auto s = ExtractEntry(zip, e, out); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace moray::runtime_env
