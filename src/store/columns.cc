#include "store/columns.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <new>

namespace otlpd::store {

size_t fixedWidth(const FieldSpec& spec) {
  if (spec.dictionary) return 4;
  switch (spec.type) {
    case ColumnType::kInt8:
    case ColumnType::kUInt8:
      return 1;
    case ColumnType::kInt32:
    case ColumnType::kUInt32:
      return 4;
    case ColumnType::kInt64:
    case ColumnType::kUInt64:
    case ColumnType::kFloat64:
    case ColumnType::kTimestampNs:
    case ColumnType::kDurationNs:
      return 8;
    case ColumnType::kFixedBinary:
      return static_cast<size_t>(spec.byte_width);
    default:
      return 0;
  }
}

int32_t Dictionary::indexOfSlow(std::string_view value) {
  ++slow_lookups_;
  if (cache_ == nullptr) cache_ = std::make_unique<uint32_t[]>(kCacheSlots);  // zeroed
  int32_t i;
  auto it = index_.find(absl::string_view(value.data(), value.size()));
  if (it != index_.end()) {
    i = it->second;
  } else {
    i = static_cast<int32_t>(size());
    index_.emplace(std::string(value), i);
    add(value);
  }
  cache_[cacheSlot(value)] = static_cast<uint32_t>(i) + 1;
  return i;
}

int32_t Dictionary::indexIfRepeatedSlow(std::string_view value) {
  ++slow_lookups_;
  if (cache_ == nullptr) cache_ = std::make_unique<uint32_t[]>(kCacheSlots);  // zeroed
  if (seen_ == nullptr) seen_ = std::make_unique<uint64_t[]>(kSeenSlots);     // zeroed
  const uint64_t hash =
      absl::Hash<absl::string_view>{}(absl::string_view(value.data(), value.size())) | 1;
  uint64_t& seen = seen_[hash & (kSeenSlots - 1)];
  // Not in its slot: not seen since the slot last changed. Most such values are first sightings
  // (ids, URLs), and the dictionary is not searched for them. A value the dictionary holds whose
  // slot another value took is stored in str once more: a few bytes, never a wrong answer.
  if (seen != hash) {
    seen = hash;
    return -1;
  }
  auto it = index_.find(absl::string_view(value.data(), value.size()));
  if (it != index_.end()) {
    cache_[cacheSlot(value)] = static_cast<uint32_t>(it->second) + 1;
    return it->second;
  }
  if (data_.size() >= kMostAdmittedBytes) return -1;
  const auto i = static_cast<int32_t>(size());
  index_.emplace(std::string(value), i);
  add(value);
  cache_[cacheSlot(value)] = static_cast<uint32_t>(i) + 1;
  return i;
}

void ColumnBuffer::grow(size_t need) {
  size_t capacity = std::max<size_t>({need, capacity_ * 2, 64});
  void* p = std::realloc(data_, capacity);
  if (p == nullptr) throw std::bad_alloc();  // as std::string's growth would
  data_ = static_cast<char*>(p);
  capacity_ = capacity;
}

void Dictionary::add(std::string_view value) {
  data_.append(value);
  offsets_.push_back(static_cast<uint32_t>(data_.size()));
}

void Dictionary::clear() {
  by_key_.clear();
  index_.clear();
  cache_.reset();
  offsets_.assign(1, 0);
  data_.clear();
  emitted = 0;
  sent = false;
}

Column::Column(const FieldSpec& spec, std::vector<std::unique_ptr<Dictionary>>* dictionaries)
    : spec_(&spec),
      dictionary_(nullptr),
      layout_(Layout::kFixed),
      width_(static_cast<uint32_t>(fixedWidth(spec))) {
  if (!spec.dictionary) {
    switch (spec.type) {
      case ColumnType::kBool:
        layout_ = Layout::kBool;
        break;
      case ColumnType::kUtf8:
      case ColumnType::kBinary:
        layout_ = Layout::kBytes;
        break;
      case ColumnType::kList:
        layout_ = Layout::kList;
        break;
      case ColumnType::kStruct:
        layout_ = Layout::kStruct;
        break;
      default:
        break;
    }
  }
  if (spec.dictionary) {
    dictionaries->push_back(std::make_unique<Dictionary>());
    dictionary_ = dictionaries->back().get();
  }
  children_.reserve(spec.children.size());
  for (const FieldSpec& c : spec.children) children_.emplace_back(c, dictionaries);
  clear();
}

void Column::clear() {
  length_ = 0;
  null_count_ = 0;
  validity_.clear();
  values_.clear();
  offsets_.clear();
  data_.clear();
  if (!spec_->dictionary &&
      (spec_->type == ColumnType::kUtf8 || spec_->type == ColumnType::kBinary ||
       spec_->type == ColumnType::kList)) {
    appendOffset(0);
  }
  for (Column& c : children_) c.clear();
}

void Column::materializeValidity() {
  // Every row so far is valid: whole bytes of ones, then the partial last byte.
  validity_.assign(length_ / 8, static_cast<char>(0xFF));
  if ((length_ & 7) != 0) validity_.push_back(static_cast<char>((1u << (length_ & 7)) - 1));
}

void Column::appendNulls(size_t count) {
  assert(layout_ == Layout::kFixed || layout_ == Layout::kBool || layout_ == Layout::kBytes);
  if (validity_.empty()) materializeValidity();
  const size_t rows = length_ + count;
  // A null's bit is 0, and the bits past the last row of a bitmap are 0 already.
  validity_.appendZeros((rows + 7) / 8 - validity_.size());
  switch (layout_) {
    case Layout::kFixed:
      values_.appendZeros(count * width_);
      break;
    case Layout::kBool:
      values_.appendZeros((rows + 7) / 8 - values_.size());
      break;
    default: {
      const auto end = static_cast<int32_t>(data_.size());
      const size_t out = offsets_.size();
      offsets_.resizeUninitialized(out + count * 4);
      for (size_t i = 0; i < count; ++i) std::memcpy(offsets_.data() + out + i * 4, &end, 4);
    }
  }
  null_count_ += count;
  length_ = rows;
}

void Column::padLaggingMembers() {
  if (layout_ == Layout::kList) {
    children_[0].padLaggingMembers();
  } else if (layout_ == Layout::kStruct) {
    for (Column& c : children_) {
      if (c.length_ < length_) c.appendNulls(length_ - c.length_);
      c.padLaggingMembers();
    }
  }
}

void ColumnTable::padLaggingMembers() {
  for (Column& c : columns_) c.padLaggingMembers();
}

// The value slot of a null row: zeros, an empty offset range, or null members.
void Column::appendNullValue() {
  if (spec_->dictionary) {
    appendRaw(int32_t{0});
    return;
  }
  switch (spec_->type) {
    case ColumnType::kBool:
      if ((length_ & 7) == 0) values_.push_back('\0');
      break;
    case ColumnType::kUtf8:
    case ColumnType::kBinary:
      appendOffset(data_.size());
      break;
    case ColumnType::kList:
      appendOffset(children_[0].length());
      break;
    case ColumnType::kStruct:
      for (Column& c : children_) c.appendNull();
      break;
    case ColumnType::kInt8:
    case ColumnType::kUInt8:
      values_.push_back('\0');
      break;
    case ColumnType::kInt32:
    case ColumnType::kUInt32:
      appendRaw(uint32_t{0});
      break;
    case ColumnType::kInt64:
    case ColumnType::kUInt64:
    case ColumnType::kFloat64:
    case ColumnType::kTimestampNs:
    case ColumnType::kDurationNs:
      appendRaw(uint64_t{0});
      break;
    default:
      values_.append(fixedWidth(*spec_), '\0');
  }
}

namespace {

bool bitAt(const ColumnBuffer& bits, size_t i) {
  return (static_cast<uint8_t>(bits[i >> 3]) & (1u << (i & 7))) != 0;
}

// Appends `n` bytes that start at `offset` of `buffer` itself (reserved first: no aliasing).
void appendSelf(ColumnBuffer& buffer, size_t offset, size_t n) {
  buffer.reserve(buffer.size() + n);
  buffer.append(buffer.data() + offset, n);
}

// Set bits per byte value (no popcount instruction is assumed).
constexpr auto kOnes = [] {
  std::array<uint8_t, 256> ones{};
  for (unsigned i = 0; i < 256; ++i) ones[i] = static_cast<uint8_t>((i & 1) + ones[i / 2]);
  return ones;
}();

// Appends bits [begin, begin + n) of a bitmap of `length` bits to its end, up to eight at a time
// (repeated rows copy a validity bit per attribute member). Returns how many of them are zero.
// The copied bits all lie below `length`, and only bits from `length` on are written, so the
// byte the two may share is read correctly.
size_t appendBitsOfSelf(ColumnBuffer& bitmap, size_t length, size_t begin, size_t n) {
  bitmap.resize((length + n + 7) / 8, '\0');
  auto* p = reinterpret_cast<uint8_t*>(bitmap.data());
  const size_t bytes = bitmap.size();
  size_t zeros = 0;
  for (size_t i = 0; i < n;) {
    const size_t k = std::min<size_t>(8, n - i);
    const size_t src = begin + i;
    const size_t src_byte = src >> 3;
    unsigned window = p[src_byte];
    if (src_byte + 1 < bytes) window |= static_cast<unsigned>(p[src_byte + 1]) << 8;
    const unsigned bits = (window >> (src & 7)) & ((1u << k) - 1);
    zeros += k - kOnes[bits];
    const size_t dst = length + i;
    const size_t dst_byte = dst >> 3;
    const unsigned shifted = bits << (dst & 7);
    p[dst_byte] |= static_cast<uint8_t>(shifted);
    if ((shifted >> 8) != 0) p[dst_byte + 1] |= static_cast<uint8_t>(shifted >> 8);
    i += k;
  }
  return zeros;
}

}  // namespace

void Column::appendCopyOfRows(size_t begin, size_t end) {
  assert(begin <= end && end <= length_);
  const size_t n = end - begin;
  if (n == 0) return;
  const bool has_validity = !validity_.empty();
  if (spec_->dictionary) {
    appendSelf(values_, begin * 4, n * 4);
  } else {
    switch (spec_->type) {
      case ColumnType::kBool:
        (void)appendBitsOfSelf(values_, length_, begin, n);
        break;
      case ColumnType::kUtf8:
      case ColumnType::kBinary:
      case ColumnType::kList: {
        const size_t first = offsetAt(begin);
        const size_t last = offsetAt(end);
        // Offsets of the copies: the originals shifted by what the copy starts after.
        const size_t base = spec_->type == ColumnType::kList ? children_[0].length() : data_.size();
        // Sized once and written in place: a scope's rows copy thousands of offsets at a time.
        const size_t out = offsets_.size();
        offsets_.resize(out + n * 4);
        char* p = offsets_.data();
        const auto shift = static_cast<int32_t>(base - first);
        for (size_t i = 0; i < n; ++i) {
          int32_t o;
          std::memcpy(&o, p + (begin + 1 + i) * 4, 4);
          o += shift;
          std::memcpy(p + out + i * 4, &o, 4);
        }
        if (spec_->type == ColumnType::kList) {
          children_[0].appendCopyOfRows(first, last);
        } else {
          appendSelf(data_, first, last - first);
        }
        break;
      }
      case ColumnType::kStruct:
        for (Column& c : children_) {
          c.padNullsTo(length_);  // the rows copied must have all their members
          c.appendCopyOfRows(begin, end);
        }
        break;
      default: {
        const size_t w = fixedWidth(*spec_);
        appendSelf(values_, begin * w, n * w);
      }
    }
  }
  if (has_validity) null_count_ += appendBitsOfSelf(validity_, length_, begin, n);
  length_ += n;
}

namespace {

// Keeps the first `bits` bits of a bitmap: whole bytes, the partial last byte's bits past the end
// cleared (appending sets bits by OR).
void truncateBits(ColumnBuffer& bitmap, size_t bits) {
  bitmap.resize((bits + 7) / 8);
  if ((bits & 7) != 0) {
    reinterpret_cast<uint8_t&>(bitmap.back()) &= static_cast<uint8_t>((1u << (bits & 7)) - 1);
  }
}

}  // namespace

void Column::truncate(size_t rows) {
  // rows == length_ still truncates: a row left open has appended items to the children already.
  if (rows > length_) return;
  if (spec_->dictionary) {
    values_.resize(rows * 4);
  } else {
    switch (spec_->type) {
      case ColumnType::kBool:
        truncateBits(values_, rows);
        break;
      case ColumnType::kUtf8:
      case ColumnType::kBinary:
        data_.resize(offsetAt(rows));
        offsets_.resize((rows + 1) * 4);
        break;
      case ColumnType::kList:
        children_[0].truncate(offsetAt(rows));
        offsets_.resize((rows + 1) * 4);
        break;
      case ColumnType::kStruct:
        for (Column& c : children_) c.truncate(rows);
        break;
      default:
        values_.resize(rows * fixedWidth(*spec_));
    }
  }
  if (!validity_.empty()) {
    for (size_t i = rows; i < length_; ++i) null_count_ -= bitAt(validity_, i) ? 0 : 1;
    // No null left: back to the form of a column that never had one.
    if (null_count_ == 0) {
      validity_.clear();
    } else {
      truncateBits(validity_, rows);
    }
  }
  length_ = rows;
}

void Column::repeatLastRow(size_t count) {
  assert(length_ > 0);
  const size_t row = length_ - 1;
  while (count > 0) {
    const size_t n = std::min(count, length_ - row);
    appendCopyOfRows(row, row + n);
    count -= n;
  }
}

void Column::appendBool(bool v) {
  if ((length_ & 7) == 0) values_.push_back('\0');
  if (v)
    reinterpret_cast<uint8_t&>(values_[length_ >> 3]) |= static_cast<uint8_t>(1u << (length_ & 7));
  valid();
}

void Column::appendBytes(std::string_view v) {
  if (dictionary_ != nullptr) {
    appendRaw(dictionary_->indexOf(v));
  } else if (layout_ == Layout::kFixed) {
    assert(v.size() == width_);
    values_.append(v);
  } else {
    data_.append(v);
    appendOffset(data_.size());
  }
  valid();
}

int64_t Column::intAt(size_t i) const {
  const char* p = values_.data();
  switch (spec_->type) {
    case ColumnType::kInt8:
      return static_cast<int8_t>(p[i]);
    case ColumnType::kUInt8:
      return static_cast<uint8_t>(p[i]);
    case ColumnType::kInt32: {
      int32_t v;
      std::memcpy(&v, p + i * 4, 4);
      return v;
    }
    case ColumnType::kUInt32: {
      uint32_t v;
      std::memcpy(&v, p + i * 4, 4);
      return v;
    }
    default: {
      int64_t v;
      std::memcpy(&v, p + i * 8, 8);
      return v;
    }
  }
}

std::string_view Column::bytesAt(size_t i) const {
  if (spec_->dictionary) {
    int32_t idx;
    std::memcpy(&idx, values_.data() + i * 4, 4);
    if (dictionary_ == nullptr || idx < 0 || static_cast<size_t>(idx) >= dictionary_->size()) {
      return {};
    }
    return dictionary_->at(static_cast<size_t>(idx));
  }
  if (spec_->type == ColumnType::kFixedBinary) {
    const auto w = static_cast<size_t>(spec_->byte_width);
    return std::string_view(values_).substr(i * w, w);
  }
  const size_t b = offsetAt(i), e = offsetAt(i + 1);
  return std::string_view(data_).substr(b, e - b);
}

ColumnTable::ColumnTable(const std::vector<FieldSpec>* fields) : fields_(fields) {
  columns_.reserve(fields->size());
  for (const FieldSpec& f : *fields) columns_.emplace_back(f, &dictionaries_);
}

void Column::swapRows(Column& other) {
  std::swap(length_, other.length_);
  std::swap(null_count_, other.null_count_);
  validity_.swap(other.validity_);
  values_.swap(other.values_);
  offsets_.swap(other.offsets_);
  data_.swap(other.data_);
  for (size_t i = 0; i < children_.size(); ++i) children_[i].swapRows(other.children_[i]);
}

void Column::compactDictionaries() {
  for (Column& c : children_) c.compactDictionaries();
  if (dictionary_ == nullptr) return;
  Dictionary compacted;
  std::vector<int32_t> new_index(dictionary_->size(), -1);
  char* indices = values_.data();
  for (size_t row = 0; row < length_; ++row) {
    int32_t index = 0;
    // A null row's index is never read; 0 keeps it in range of any non-empty dictionary.
    if (validity_.empty() || bitAt(validity_, row)) {
      int32_t old_index;
      std::memcpy(&old_index, indices + row * 4, 4);
      assert(old_index >= 0 && static_cast<size_t>(old_index) < new_index.size());
      int32_t& mapped = new_index[static_cast<size_t>(old_index)];
      if (mapped < 0) {
        mapped = static_cast<int32_t>(compacted.size());
        compacted.add(dictionary_->at(static_cast<size_t>(old_index)));
      }
      index = mapped;
    }
    std::memcpy(indices + row * 4, &index, 4);
  }
  dictionary_->clear();
  for (size_t i = 0; i < compacted.size(); ++i) dictionary_->add(compacted.at(i));
}

void ColumnTable::compactDictionaries() {
  for (Column& c : columns_) c.compactDictionaries();
}

void ColumnTable::copyDictionariesFrom(ColumnTable& other) {
  assert(rows() == 0);
  for (size_t i = 0; i < dictionaries_.size(); ++i) {
    Dictionary& mine = *dictionaries_[i];
    const Dictionary& theirs = *other.dictionaries_[i];
    mine.clear();
    // Through indexOf: this table's dictionaries are the ones appends look values up in.
    for (size_t v = 0; v < theirs.size(); ++v) mine.indexOf(theirs.at(v));
    assert(mine.size() == theirs.size());
  }
}

size_t ColumnTable::dictionaryBytes() const {
  size_t n = 0;
  for (const auto& d : dictionaries_) n += d->byteSize();
  return n;
}

void ColumnTable::swapRowsInto(ColumnTable& other) {
  for (size_t i = 0; i < columns_.size(); ++i) columns_[i].swapRows(other.columns_[i]);
  for (size_t i = 0; i < dictionaries_.size(); ++i) {
    const Dictionary& mine = *dictionaries_[i];
    Dictionary& theirs = *other.dictionaries_[i];
    for (size_t v = theirs.size(); v < mine.size(); ++v) theirs.add(mine.at(v));
  }
}

void ColumnTable::clearRows() {
  for (Column& c : columns_) c.clear();
}

void ColumnTable::truncateRows(size_t rows) {
  for (Column& c : columns_) c.truncate(rows);
}

void ColumnTable::startNewFile() {
  for (auto& d : dictionaries_) {
    if (rows() == 0) {
      d->clear();
    } else {
      d->emitted = 0;
      d->sent = false;
    }
  }
}

namespace {
size_t columnBytes(Column& c) {
  size_t n = c.validityBuffer().size() + c.valuesBuffer().size() + c.offsetsBuffer().size() +
             c.dataBuffer().size();
  for (size_t i = 0; i < c.childCount(); ++i) n += columnBytes(c.child(i));
  return n;
}
}  // namespace

size_t ColumnTable::byteSize() const {
  size_t n = 0;
  for (const Column& c : columns_) n += columnBytes(const_cast<Column&>(c));
  return n;
}

}  // namespace otlpd::store
