// Typed, growable column buffers laid out exactly as Arrow arrays are, so that writing a record
// batch copies (or compresses) buffers and never converts values. The same class holds arrays
// decoded from a file, so the reader walks the very structure the writer fills.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace otlpd::store {

enum class ColumnType : uint8_t {
  kBool,
  kInt8,
  kUInt8,
  kInt32,
  kUInt32,
  kInt64,
  kUInt64,
  kFloat64,
  kTimestampNs,  // int64 ns since the Unix epoch, UTC
  kDurationNs,   // int64 ns
  kUtf8,
  kBinary,
  kFixedBinary,
  kList,
  kStruct,
};

struct FieldSpec {
  std::string name;
  ColumnType type;
  bool nullable = true;
  int32_t byte_width = 0;  // kFixedBinary
  // kUtf8 only: the batch holds int32 indices into a dictionary that lives as long as a file.
  bool dictionary = false;
  std::vector<FieldSpec> children;  // kList: the item; kStruct: the members
};

// Bytes per value of a fixed-width type; 0 for variable-width and nested types and bool.
size_t fixedWidth(const FieldSpec& spec);

// A growable byte buffer of column data: the part of std::string's interface the store uses,
// with appends that inline to a capacity check and a store. std::string's append(ptr, n) is an
// out-of-line call (libstdc++'s explicit instantiation keeps it so) with a variable-length
// memcpy, and converting a span makes ~10 of them per attribute (issue #18).
class ColumnBuffer {
 public:
  ColumnBuffer() = default;
  ColumnBuffer(const ColumnBuffer& other) { append(other.data_, other.size_); }
  ColumnBuffer(ColumnBuffer&& other) noexcept { swap(other); }
  ColumnBuffer& operator=(const ColumnBuffer& other) {
    if (this != &other) assign(other.view());
    return *this;
  }
  ColumnBuffer& operator=(ColumnBuffer&& other) noexcept {
    swap(other);
    return *this;
  }
  ~ColumnBuffer() { std::free(data_); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }
  char* data() { return data_; }
  const char* data() const { return data_; }
  std::string_view view() const { return {data_, size_}; }
  operator std::string_view() const { return view(); }  // NOLINT: used as a std::string was
  char& operator[](size_t i) { return data_[i]; }
  const char& operator[](size_t i) const { return data_[i]; }
  char& back() { return data_[size_ - 1]; }

  void clear() { size_ = 0; }
  void reserve(size_t n) {
    if (n > capacity_) grow(n);
  }
  // New bytes are `fill`.
  void resize(size_t n, char fill = '\0') {
    if (n > size_) {
      reserve(n);
      std::memset(data_ + size_, fill, n - size_);
    }
    size_ = n;
  }
  // New bytes are left unwritten: the caller writes them before reading them.
  void resizeUninitialized(size_t n) {
    reserve(n);
    size_ = n;
  }
  // Appends `n` zero bytes. Most calls add a few bytes (the null members of an attribute or
  // two), for which memset's call and dispatch cost more than the stores: those are whole 8-byte
  // stores into the capacity, whose bytes past the new size are never read.
  void appendZeros(size_t n) {
    if (n > 64) {
      resize(size_ + n);
      return;
    }
    reserve(size_ + n + 8);
    constexpr uint64_t kZero = 0;
    for (size_t i = 0; i < n; i += 8) std::memcpy(data_ + size_ + i, &kZero, 8);
    size_ += n;
  }
  void assign(std::string_view v) {
    size_ = 0;
    append(v);
  }
  void assign(size_t n, char fill) {
    size_ = 0;
    resize(n, fill);
  }
  void append(const char* p, size_t n) {
    if (size_ + n > capacity_) grow(size_ + n);
    if (n != 0) std::memcpy(data_ + size_, p, n);  // data_ is null before the first growth
    size_ += n;
  }
  void append(std::string_view v) { append(v.data(), v.size()); }
  void append(size_t n, char fill) { resize(size_ + n, fill); }
  void push_back(char c) {
    if (size_ == capacity_) grow(size_ + 1);
    data_[size_++] = c;
  }
  // Appends the bytes of a trivially copyable value.
  template <class T>
  void appendValue(T v) {
    if (size_ + sizeof(T) > capacity_) grow(size_ + sizeof(T));
    std::memcpy(data_ + size_, &v, sizeof(T));
    size_ += sizeof(T);
  }
  void swap(ColumnBuffer& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
  }
  friend bool operator==(const ColumnBuffer& a, const ColumnBuffer& b) {
    return a.view() == b.view();
  }

 private:
  // Out of line: the rare path. At least doubles, so appends are amortised O(1).
  [[gnu::noinline]] void grow(size_t need);

  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// The distinct strings of one dictionary-encoded column, in first-seen order.
class Dictionary {
 public:
  // The index of `value`, added when new. Most lookups hit a small direct-mapped cache on a
  // cheap hash of the length and the first and last 8 bytes (one compare of the bytes), so
  // that only the first sight of a value hashes it in full: a lookup per attribute key of every
  // row made the full hash map lookup ~20% of the store's CPU (issue #18).
  int32_t indexOf(std::string_view value) {
    const int32_t cached = cachedIndexOf(value);
    return cached >= 0 ? cached : indexOfSlow(value);
  }
  // The index of `value` if the dictionary holds it or has now seen it twice (it is added on its
  // second sight), else -1: the value is remembered as seen once and left out, so that values
  // that never repeat (ids, URLs with ids) do not grow the dictionary. "Seen" is a table of
  // hashes that outlives clear(): a value seen in the previous file is admitted at once, and one
  // whose slot a later value took counts as unseen (it may then be left out once more).
  int32_t indexIfRepeated(std::string_view value) {
    const int32_t cached = cachedIndexOf(value);
    return cached >= 0 ? cached : indexIfRepeatedSlow(value);
  }
  // indexIfRepeated() for a value of attribute key `key` (the key's index in its own dictionary).
  // A key whose values did not repeat (fewer than 1 in 64 of its last kKeyWindow) is not looked
  // up for its next kKeySkip values: they are left out without hashing them. A URL with an id or
  // a client address then costs what it cost before str_dict existed.
  int32_t indexIfRepeatedForKey(std::string_view value, int32_t key) {
    if (key < 0 || static_cast<size_t>(key) >= kMostTrackedKeys) return indexIfRepeated(value);
    if (static_cast<size_t>(key) >= by_key_.size()) by_key_.resize(static_cast<size_t>(key) + 1);
    KeyAdmission& k = by_key_[static_cast<size_t>(key)];
    if (k.skip > 0) {
      --k.skip;
      return -1;
    }
    const int32_t i = indexIfRepeated(value);
    ++k.tried;
    if (i >= 0) ++k.repeated;
    if (k.tried == kKeyWindow) {
      if (k.repeated * 64 < k.tried) k.skip = kKeySkip;
      k.tried = k.repeated = 0;
    }
    return i;
  }
  static constexpr uint32_t kKeyWindow = 1024;
  static constexpr uint32_t kKeySkip = 15 * 1024;
  size_t size() const { return offsets_.size() - 1; }
  std::string_view at(size_t i) const {
    return std::string_view(data_).substr(offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  void clear();
  // Lookups the cache did not answer (hashed in full, and the map or the table of values seen
  // once searched), since construction: what the cache saves, for tests and benchmarks.
  uint64_t slowLookups() const { return slow_lookups_; }
  size_t byteSize() const { return data_.size() + offsets_.size() * sizeof(uint32_t); }
  // Whether `value` is one of the values (a linear scan: a reader's dictionaries are filled by
  // add() and have no hash index).
  bool contains(std::string_view value) const {
    for (size_t i = 0; i < size(); ++i) {
      if (at(i) == value) return true;
    }
    return false;
  }
  // Past this many bytes of values, indexIfRepeated() admits no more: a file's dictionary of
  // repeated strings stays small, and what repeats past it is stored as it comes.
  static constexpr size_t kMostAdmittedBytes = size_t{2} << 20;
  // Appends values decoded from a dictionary batch.
  void add(std::string_view value);
  // How many values dictionary batches have already carried to the current file, and whether
  // the first (non-delta) one was written: every dictionary must precede the first batch.
  size_t emitted = 0;
  bool sent = false;

 private:
  // Direct-mapped: with a value's slot shared by another one in use, the two evict each other.
  // A few hundred repeated values (methods, routes, addresses) in 1024 slots shared ~22% of
  // them; in 4096, ~6% (16 KiB per dictionary that is looked up in).
  static constexpr size_t kCacheBits = 12;
  static constexpr size_t kCacheSlots = size_t{1} << kCacheBits;
  static size_t cacheSlot(std::string_view v) {
    // Fixed-size loads only: a copy of a variable length into a local and a load of it back
    // stalls on store forwarding (that made this cache no faster than the map).
    const char* p = v.data();
    const size_t n = v.size();
    uint64_t head = 0, tail = 0;
    if (n >= 8) {
      std::memcpy(&head, p, 8);
      std::memcpy(&tail, p + n - 8, 8);
    } else if (n >= 4) {
      uint32_t a, b;
      std::memcpy(&a, p, 4);
      std::memcpy(&b, p + n - 4, 4);
      head = a;
      tail = b;
    } else if (n > 0) {
      head = static_cast<uint8_t>(p[0]) | (uint64_t{static_cast<uint8_t>(p[n / 2])} << 8) |
             (uint64_t{static_cast<uint8_t>(p[n - 1])} << 16);
    }
    // One 64x64->128 multiply folds every input bit into the slot's bits. A multiply-xor kept
    // the last bytes of a value (the high bytes of `tail`) out of most of them, so values that
    // differ only there (203.0.113.7, 203.0.113.9) shared slots: with 1024 slots, a quarter of
    // loadgen's client addresses missed the cache (counted with a uprobe on the slow path).
    const unsigned __int128 m = static_cast<unsigned __int128>(head ^ 0x9e3779b97f4a7c15ull) *
                                (tail ^ (n * 0xc2b2ae3d27d4eb4full));
    const uint64_t h = static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64);
    return static_cast<size_t>(h >> (64 - kCacheBits));
  }
  int32_t indexOfSlow(std::string_view value);
  int32_t indexIfRepeatedSlow(std::string_view value);
  // The index from the cache, or -1.
  int32_t cachedIndexOf(std::string_view value) const {
    if (cache_ == nullptr) return -1;
    const uint32_t slot = cache_[cacheSlot(value)];
    if (slot == 0) return -1;
    const uint32_t i = slot - 1;
    const uint32_t begin = offsets_[i];
    if (offsets_[i + 1] - begin == value.size() &&
        sameBytes(data_.data() + begin, value.data(), value.size())) {
      return static_cast<int32_t>(i);
    }
    return -1;
  }
  // memcmp() == 0, inline for the short values most lookups compare (keys, methods, routes): the
  // call into libc per key and per repeated value of every row was ~4% of the store's CPU at
  // saturation (issue #18). Only bytes within [0, n) are loaded.
  static bool sameBytes(const char* a, const char* b, size_t n) {
    if (n >= 8 && n <= 32) {
      // Two 8-byte words from each end (they overlap for n < 32).
      const size_t m = n >= 16 ? 8 : n - 8;
      uint64_t a0, a1, a2, a3, b0, b1, b2, b3;
      std::memcpy(&a0, a, 8);
      std::memcpy(&b0, b, 8);
      std::memcpy(&a1, a + m, 8);
      std::memcpy(&b1, b + m, 8);
      std::memcpy(&a2, a + n - 8 - m, 8);
      std::memcpy(&b2, b + n - 8 - m, 8);
      std::memcpy(&a3, a + n - 8, 8);
      std::memcpy(&b3, b + n - 8, 8);
      return ((a0 ^ b0) | (a1 ^ b1) | (a2 ^ b2) | (a3 ^ b3)) == 0;
    }
    if (n >= 4 && n < 8) {
      uint32_t a0, a1, b0, b1;
      std::memcpy(&a0, a, 4);
      std::memcpy(&b0, b, 4);
      std::memcpy(&a1, a + n - 4, 4);
      std::memcpy(&b1, b + n - 4, 4);
      return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    // An empty value may be a view of nullptr, which memcmp must not be given.
    return n == 0 || std::memcmp(a, b, n) == 0;
  }

  // indexIfRepeatedForKey()'s counts per attribute key, forgotten by clear() (a new file numbers
  // its keys anew); keys numbered past kMostTrackedKeys are always looked up.
  struct KeyAdmission {
    uint32_t tried = 0, repeated = 0, skip = 0;
  };
  static constexpr size_t kMostTrackedKeys = 4096;
  std::vector<KeyAdmission> by_key_;

  // Hashes of values seen once by indexIfRepeated(), direct-mapped (a collision forgets the
  // older value); 0 = empty. Allocated by its first miss.
  static constexpr size_t kSeenSlots = size_t{1} << 16;
  std::unique_ptr<uint64_t[]> seen_;

  // Index + 1 of a value whose cacheSlot() is the slot; 0 = empty. Allocated by the first
  // lookup (a reader's dictionaries, filled by add(), never need it).
  std::unique_ptr<uint32_t[]> cache_;
  // absl's map and hash: a lookup per attribute key of every row (layout 2) made std's
  // unordered_map and _Hash_bytes ~10% of converting a span.
  absl::flat_hash_map<std::string, int32_t> index_;
  std::vector<uint32_t> offsets_{0};
  std::string data_;
  uint64_t slow_lookups_ = 0;
};

class Column {
 public:
  // A dictionary-encoded field (or one nested below) gets a new dictionary appended to
  // `dictionaries`, so their order is depth-first field order.
  Column(const FieldSpec& spec, std::vector<std::unique_ptr<Dictionary>>* dictionaries);

  const FieldSpec& spec() const { return *spec_; }
  size_t length() const { return length_; }
  size_t nullCount() const { return null_count_; }
  Column& child(size_t i) { return children_[i]; }
  const Column& child(size_t i) const { return children_[i]; }
  size_t childCount() const { return children_.size(); }
  Dictionary* dictionary() const { return dictionary_; }

  // --- building: one call appends one row. Lists and structs are closed after their items or
  // members were appended to the children.
  // Forced inline: GCC outlines it otherwise, and a call per null member of every attribute
  // value struct cost ~25% of converting a span.
  [[gnu::always_inline]] void appendNull() {
    if (validity_.empty()) materializeValidity();
    pushValidityBit(false);
    ++null_count_;
    // Most nulls are members of attribute value structs: a zero of a fixed width or an empty
    // string.
    if (layout_ == Layout::kFixed) {
      appendZeros();
    } else if (layout_ == Layout::kBytes) {
      appendOffset(data_.size());
    } else {
      appendNullValue();
    }
    ++length_;
  }
  // appendNull() for a column whose layout the caller knows (the members of an attribute value
  // struct): no dispatch on the layout, which varies from member to member.
  template <size_t kWidth>
  [[gnu::always_inline]] void appendFixedNull() {
    assert(layout_ == Layout::kFixed && width_ == kWidth);
    nullSlot();
    values_.appendValue(FixedZero<kWidth>{});
    ++length_;
  }
  [[gnu::always_inline]] void appendBoolNull() {
    assert(layout_ == Layout::kBool);
    if ((length_ & 7) == 0) values_.push_back('\0');
    nullSlot();
    ++length_;
  }
  [[gnu::always_inline]] void appendBytesNull() {
    assert(layout_ == Layout::kBytes);
    nullSlot();
    appendOffset(data_.size());
    ++length_;
  }
  // Nulls until the column has `rows` rows, in bulk. A leaf member of a struct only: the wire
  // conversion appends to the one member of an attribute value that the value uses and lets the
  // others lag behind (see padLaggingMembers()), which saves five appends per attribute.
  [[gnu::always_inline]] void padNullsTo(size_t rows) {
    if (length_ < rows) appendNulls(rows - length_);
  }
  // Every struct's members (and theirs, below lists and structs) padded with nulls to the
  // struct's rows: what a batch must be before anything but the conversion reads it.
  void padLaggingMembers();
  void appendInt(int64_t v) {
    switch (width_) {
      case 1:
        appendRaw(static_cast<uint8_t>(v));
        break;
      case 4:
        appendRaw(static_cast<uint32_t>(v));
        break;
      default:
        appendRaw(v);
    }
    valid();
  }
  void appendDouble(double v) {
    appendRaw(v);
    valid();
  }
  void appendBool(bool v);
  void appendBytes(std::string_view v);
  // A dictionary column's last appended index, -1 when it has no rows.
  int32_t lastIndex() const {
    if (values_.size() < 4) return -1;
    int32_t i;
    std::memcpy(&i, values_.data() + values_.size() - 4, 4);
    return i;
  }
  // A dictionary column: appends `v` and returns true if its dictionary holds it or has now seen
  // it twice (Dictionary::indexIfRepeated); else appends nothing and returns false.
  bool appendBytesIfRepeated(std::string_view v, int32_t key) {
    const int32_t i = dictionary_->indexIfRepeatedForKey(v, key);
    if (i < 0) return false;
    appendRaw(i);
    valid();
    return true;
  }
  void endList() {
    appendOffset(children_[0].length());
    valid();
  }
  void endStruct() { valid(); }
  // Appends copies of rows [begin, end) of this same column (children included), as memcpys of
  // the buffers: rows that repeat (a resource on every span) are converted once per request.
  void appendCopyOfRows(size_t begin, size_t end);
  void repeatLastRow() { appendCopyOfRows(length_ - 1, length_); }
  // The last row `count` more times, in O(log count) bulk copies: every row from the last one on
  // is the same, so each copy doubles them.
  void repeatLastRow(size_t count);
  // Drops the rows from `rows` on (children included), leaving the buffers as if only the first
  // `rows` rows had been appended: a conversion that gives up half-way is undone.
  void truncate(size_t rows);
  void clear();
  // Exchanges the rows (buffers, lengths, children's rows) with `other`, a column of the same
  // spec in another table; each keeps its dictionary. O(1) per column: the store hands a full
  // batch to its writer thread this way (double buffering).
  void swapRows(Column& other);
  // Dictionary columns (children included): rebuilds the dictionary with only the values the rows
  // refer to, in order of first reference, and rewrites the rows' indices to match.
  void compactDictionaries();

  // --- reading
  bool isNull(size_t i) const {
    return !validity_.empty() && (static_cast<uint8_t>(validity_[i >> 3]) & (1u << (i & 7))) == 0;
  }
  int64_t intAt(size_t i) const;
  uint64_t uintAt(size_t i) const { return static_cast<uint64_t>(intAt(i)); }
  double doubleAt(size_t i) const {
    double v;
    std::memcpy(&v, values_.data() + i * 8, 8);
    return v;
  }
  bool boolAt(size_t i) const {
    return (static_cast<uint8_t>(values_[i >> 3]) & (1u << (i & 7))) != 0;
  }
  std::string_view bytesAt(size_t i) const;
  // [begin, end) of the row's items in child(0).
  std::pair<size_t, size_t> listRange(size_t i) const { return {offsetAt(i), offsetAt(i + 1)}; }

  // --- raw Arrow buffers. validity is empty while no row is null; offsets hold int32s.
  ColumnBuffer& validityBuffer() { return validity_; }
  ColumnBuffer& valuesBuffer() { return values_; }
  std::string_view valuesView() const { return values_; }
  ColumnBuffer& offsetsBuffer() { return offsets_; }
  ColumnBuffer& dataBuffer() { return data_; }
  // Used by the decoder after it filled the buffers.
  void setDecoded(size_t length, size_t null_count) {
    length_ = length;
    null_count_ = null_count;
  }

 private:
  template <class T>
  void appendRaw(T v) {
    values_.appendValue(v);
  }
  void appendOffset(size_t v) { offsets_.appendValue(static_cast<int32_t>(v)); }
  size_t offsetAt(size_t i) const {
    int32_t o;
    std::memcpy(&o, offsets_.data() + i * 4, 4);
    return static_cast<size_t>(o);
  }
  // The validity bitmap, once materialised, holds exactly ceil(length_ / 8) bytes, so appending
  // a bit never needs a bounds check beyond "is this the first bit of a new byte".
  void valid() {
    if (!validity_.empty()) pushValidityBit(true);
    ++length_;
  }
  void pushValidityBit(bool set) {
    if ((length_ & 7) == 0) validity_.push_back('\0');
    if (set)
      reinterpret_cast<uint8_t&>(validity_.back()) |= static_cast<uint8_t>(1u << (length_ & 7));
  }
  void appendZeros() {
    switch (width_) {
      case 1:
        values_.push_back('\0');
        break;
      case 4:
        appendRaw(uint32_t{0});
        break;
      case 8:
        appendRaw(uint64_t{0});
        break;
      default:
        values_.append(width_, '\0');
    }
  }
  template <size_t kWidth>
  struct FixedZero {
    char bytes[kWidth] = {};
  };
  // The validity part of a null row.
  [[gnu::always_inline]] void nullSlot() {
    if (validity_.empty()) materializeValidity();
    pushValidityBit(false);
    ++null_count_;
  }
  void materializeValidity();
  void appendNullValue();
  void appendNulls(size_t count);

  // How a row occupies the buffers, cached from the spec so that appends branch on one byte:
  // kFixed: width_ bytes of values (integers, floats, fixed binary, dictionary indices); kBool:
  // a bit of values; kBytes: an offset and data (non-dictionary strings and binary).
  enum class Layout : uint8_t { kFixed, kBool, kBytes, kList, kStruct };

  const FieldSpec* spec_;
  Dictionary* dictionary_;
  Layout layout_;
  uint32_t width_;
  size_t length_ = 0;
  size_t null_count_ = 0;
  ColumnBuffer validity_;
  ColumnBuffer values_;
  ColumnBuffer offsets_;
  ColumnBuffer data_;
  std::vector<Column> children_;
};

// The columns of one schema plus the dictionaries of its dictionary-encoded fields (numbered in
// depth-first field order, which is also their Arrow dictionary id).
class ColumnTable {
 public:
  explicit ColumnTable(const std::vector<FieldSpec>* fields);
  ColumnTable(const ColumnTable&) = delete;
  ColumnTable& operator=(const ColumnTable&) = delete;

  const std::vector<FieldSpec>& fields() const { return *fields_; }
  Column& column(size_t i) { return columns_[i]; }
  const Column& column(size_t i) const { return columns_[i]; }
  size_t columnCount() const { return columns_.size(); }
  size_t rows() const { return columns_.empty() ? 0 : columns_[0].length(); }
  std::vector<std::unique_ptr<Dictionary>>& dictionaries() { return dictionaries_; }
  // Rows go, dictionaries stay: the next batch of the same file refers to them.
  void clearRows();
  // Double buffering (the store's writer thread): exchanges the rows with `other`, a table of
  // the same fields, and appends to `other`'s dictionaries the values this table's gained since
  // the last call, so that its dictionaries stay an exact prefix-copy of these and the indices
  // in the swapped rows mean the same there. `other`'s dictionaries must never be cleared on
  // their own (startNewFile() on it only marks them unsent while it holds rows).
  void swapRowsInto(ColumnTable& other);
  // Drops the rows from `rows` on. Dictionaries keep the values those rows added (unreferenced,
  // and harmless to readers).
  void truncateRows(size_t rows);
  // For a new file: forgets the dictionaries when no row refers to them any more, else marks
  // them unsent so that the new file gets them in full.
  void startNewFile();
  // For a new file, before its first batch: every dictionary keeps only the values this table's
  // rows refer to (see Column::compactDictionaries), so that a file carries the values its rows
  // use and not every value seen since the process started: a client sending a unique span name
  // per span must not grow the store's memory, or each new file's dictionaries, without bound.
  void compactDictionaries();
  // Makes this table's dictionaries exact copies of `other`'s (indices included), which it must
  // then stay a prefix-copy of (swapRowsInto); this table must hold no rows.
  void copyDictionariesFrom(ColumnTable& other);
  // Bytes held by the dictionaries' values (their lookup index holds about as much again).
  size_t dictionaryBytes() const;
  // Bytes held in column buffers, to bound a batch's memory.
  size_t byteSize() const;
  // Column::padLaggingMembers() of every column.
  void padLaggingMembers();

 private:
  const std::vector<FieldSpec>* fields_;
  std::vector<std::unique_ptr<Dictionary>> dictionaries_;
  std::vector<Column> columns_;
};

}  // namespace otlpd::store
