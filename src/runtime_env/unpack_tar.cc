// ExtractTarGz: gzip (zlib, members concatenated allowed) streamed through a tar parser that
// knows ustar, PAX extended headers (path, linkpath) and GNU long names; file data goes to disk
// as it is inflated, so an archive never sits uncompressed in memory.
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "runtime_env/extractor.h"
#include "runtime_env/package_internal.h"

namespace moray::runtime_env {
namespace {

constexpr size_t kBlock = 512;

absl::Status Corrupt(std::string_view what) {
  return absl::InvalidArgumentError(Cat("not a valid .tar.gz archive: ", what));
}

// Inflates a gzip stream held in memory, on demand.
class GzipReader {
 public:
  explicit GzipReader(std::string_view in) : rest_(in) { ok_ = inflateInit2(&z_, 15 + 16) == Z_OK; }
  ~GzipReader() { inflateEnd(&z_); }

  // Fills `buf` with exactly `n` bytes; false at the end of the data (`error` set when the
  // stream is corrupt, empty when it merely ended).
  bool Read(char* buf, size_t n, std::string& error) {
    if (!ok_) {
      error = "zlib inflateInit2 failed";
      return false;
    }
    z_.next_out = reinterpret_cast<Bytef*>(buf);
    z_.avail_out = static_cast<uInt>(n);
    while (z_.avail_out > 0) {
      if (z_.avail_in == 0 && !rest_.empty()) {  // zlib counts in 32 bits: feed 1 GiB at most
        size_t n = std::min<size_t>(rest_.size(), 1u << 30);
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(rest_.data()));
        z_.avail_in = static_cast<uInt>(n);
        rest_.remove_prefix(n);
      }
      if (ended_) {
        if (z_.avail_in == 0) return false;
        inflateReset(&z_);  // another gzip member follows
        ended_ = false;
      }
      int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        ended_ = true;
        continue;
      }
      if (rc == Z_BUF_ERROR && z_.avail_in == 0) {
        error = "the gzip data is truncated";
        return false;
      }
      if (rc != Z_OK) {
        error = z_.msg != nullptr ? z_.msg : "gzip data corrupt";
        return false;
      }
    }
    return true;
  }

 private:
  std::string_view rest_;  // not yet given to zlib
  z_stream z_{};
  bool ok_ = false;
  bool ended_ = false;
};

// A numeric field: octal (space or NUL terminated), or base-256 when the top bit is set.
std::optional<uint64_t> Number(const char* field, size_t width) {
  if (static_cast<unsigned char>(field[0]) & 0x80) {
    uint64_t v = static_cast<unsigned char>(field[0]) & 0x7f;
    for (size_t i = 1; i < width; ++i) v = (v << 8) | static_cast<unsigned char>(field[i]);
    return v;
  }
  uint64_t v = 0;
  size_t i = 0;
  while (i < width && field[i] == ' ') ++i;
  for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i) v = v * 8 + (field[i] - '0');
  if (i < width && field[i] != ' ' && field[i] != '\0') return std::nullopt;
  return v;
}

std::string Field(const char* field, size_t width) {
  return std::string(field, strnlen(field, width));
}

class TarReader {
 public:
  TarReader(std::string_view bytes, Extractor& out) : in_(bytes), out_(out) {}

  absl::Status Run() {
    char h[kBlock];
    std::optional<std::string> long_path, long_link;
    for (;;) {
      if (!in_.Read(h, kBlock, error_)) {
        if (!error_.empty()) return Corrupt(error_);
        return absl::OkStatus();  // no end-of-archive blocks: accepted
      }
      bool zero = true;
      for (char c : h) zero = zero && c == 0;
      if (zero) return absl::OkStatus();
      if (auto s = CheckSum(h); !s.ok()) return s;
      auto size = Number(h + 124, 12);
      auto mode = Number(h + 100, 8);
      if (!size || !mode) return Corrupt("a header has a malformed number");
      std::string path = Field(h, 100);
      if (std::memcmp(h + 257, "ustar", 5) == 0 && h[345] != '\0') {
        path = Cat(Field(h + 345, 155), "/", path);
      }
      std::string link = Field(h + 157, 100);
      const char type = h[156];
      if (type == 'x' || type == 'L' || type == 'K') {
        auto data = ReadData(*size);
        if (!data.ok()) return data.status();
        if (type == 'x') {
          if (auto s = ParsePax(*data, long_path, long_link); !s.ok()) return s;
        } else {
          (type == 'L' ? long_path : long_link) = Field(data->data(), data->size());
        }
        continue;
      }
      if (long_path) path = *std::exchange(long_path, std::nullopt);
      if (long_link) link = *std::exchange(long_link, std::nullopt);
      absl::Status s;
      switch (type) {
        case '0':
        case '\0':
        case '7':
          s = File(path, static_cast<uint32_t>(*mode), *size);
          break;
        case '5':
          s = out_.Directory(path, static_cast<uint32_t>(*mode));
          if (s.ok()) s = Skip(*size + Padding(*size));
          break;
        case '2':
          s = out_.Symlink(path, link);
          if (s.ok()) s = Skip(*size + Padding(*size));
          break;
        case '1':
          s = out_.Hardlink(path, link);
          if (s.ok()) s = Skip(*size + Padding(*size));
          break;
        default:  // global headers, devices, fifos: nothing to make
          s = Skip(*size + Padding(*size));
          break;
      }
      if (!s.ok()) return s;
    }
  }

 private:
  static absl::Status CheckSum(const char* h) {
    auto expected = Number(h + 148, 8);
    unsigned sum = 0;
    for (size_t i = 0; i < kBlock; ++i) {
      sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
    }
    if (!expected || *expected != sum) return Corrupt("a header checksum does not match");
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> ReadData(uint64_t size) {
    if (size > (64u << 20)) return Corrupt("an extended header is implausibly large");
    std::string data(size, '\0');
    if (size > 0 && !in_.Read(data.data(), size, error_)) return Truncated();
    if (auto s = Skip(Padding(size)); !s.ok()) return s;
    return data;
  }

  static uint64_t Padding(uint64_t size) { return (kBlock - size % kBlock) % kBlock; }

  absl::Status Truncated() { return Corrupt(error_.empty() ? "it ends inside an entry" : error_); }

  // Skips `size` bytes.
  absl::Status Skip(uint64_t size) {
    char buf[kBlock * 8];
    uint64_t left = size;
    while (left > 0) {
      size_t n = std::min<uint64_t>(left, sizeof(buf));
      if (!in_.Read(buf, n, error_)) return Truncated();
      left -= n;
    }
    return absl::OkStatus();
  }

  absl::Status File(const std::string& path, uint32_t mode, uint64_t size) {
    auto file = out_.CreateFile(path, mode);
    if (!file.ok()) return file.status();
    if (buf_.empty()) buf_.resize(256 * 1024);
    std::string& buf = buf_;
    uint64_t left = size;
    while (left > 0) {
      size_t n = std::min<uint64_t>(left, buf.size());
      if (!in_.Read(buf.data(), n, error_)) return Truncated();
      if (auto s = file->Write(std::string_view(buf.data(), n)); !s.ok()) return s;
      left -= n;
    }
    if (auto s = file->Close(); !s.ok()) return s;
    return Skip(Padding(size));
  }

  static absl::Status ParsePax(std::string_view data, std::optional<std::string>& path,
                               std::optional<std::string>& link) {
    while (!data.empty()) {
      size_t space = data.find(' ');
      size_t len = 0;
      if (space == std::string_view::npos || !absl::SimpleAtoi(Sv(data.substr(0, space)), &len) ||
          len <= space + 1 || len > data.size() || data[len - 1] != '\n') {
        return Corrupt("a PAX header is malformed");
      }
      std::string_view record = data.substr(space + 1, len - space - 2);
      data.remove_prefix(len);
      size_t eq = record.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view key = record.substr(0, eq);
      if (key == "path") path = std::string(record.substr(eq + 1));
      if (key == "linkpath") link = std::string(record.substr(eq + 1));
    }
    return absl::OkStatus();
  }

  GzipReader in_;
  Extractor& out_;
  std::string buf_;  // file data, reused
  std::string error_;
};

}  // namespace

absl::Status ExtractTarGz(std::string_view bytes, Extractor& out) {
  return TarReader(bytes, out).Run();
}

}  // namespace moray::runtime_env
