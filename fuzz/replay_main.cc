// The driver of the fuzz targets in ordinary builds (without libFuzzer): every input of the given
// corpus directories is run once (the seeds and the regression inputs of crashes found), then, for
// --mutate-seconds, inputs mutated from them without coverage guidance (bit flips, byte changes,
// cuts, insertions, splices). `make test` runs it for every target; the coverage-guided fuzzing
// with sanitizers is `make fuzz`. A crash writes the input to ./crash-<target>-replay before the
// process dies.
// Usage: otlpd_fuzz_replay <target> <corpus dir>... [--mutate-seconds N]
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

// Every target's entry point, renamed by fuzz/CMakeLists.txt (fuzz_targets.inc is generated).
#define OTLPD_FUZZ_TARGET(name) extern "C" int name##_fuzz_one_input(const uint8_t*, size_t);
#include "fuzz_targets.inc"
#undef OTLPD_FUZZ_TARGET

namespace {
struct Target {
  const char* name;
  int (*one_input)(const uint8_t*, size_t);
};
#define OTLPD_FUZZ_TARGET(name) {#name, name##_fuzz_one_input},
const Target kTargets[] = {
#include "fuzz_targets.inc"
};
#undef OTLPD_FUZZ_TARGET
}  // namespace

namespace {

const std::string* g_current = nullptr;
int (*g_one_input)(const uint8_t*, size_t) = nullptr;
char g_crash_path[512];

void onCrash(int sig) {
  if (g_current != nullptr) {
    const int fd = ::open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      (void)!::write(fd, g_current->data(), g_current->size());
      ::close(fd);
    }
    static const char kMsg[] = "replay: crashing input written to ";
    (void)!::write(2, kMsg, sizeof kMsg - 1);
    (void)!::write(2, g_crash_path, std::strlen(g_crash_path));
    (void)!::write(2, "\n", 1);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void run(const std::string& input) {
  g_current = &input;
  g_one_input(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  g_current = nullptr;
}

std::string mutate(const std::vector<std::string>& corpus, std::mt19937_64& rng) {
  auto below = [&](size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  std::string s = corpus[below(corpus.size())];
  const int rounds = 1 + static_cast<int>(below(4));
  for (int r = 0; r < rounds; ++r) {
    switch (below(7)) {
      case 0:  // flip a bit
        if (!s.empty()) s[below(s.size())] ^= static_cast<char>(1u << below(8));
        break;
      case 1:  // set a byte to an interesting value
        if (!s.empty()) {
          static const uint8_t kValues[] = {0, 1, 0x7f, 0x80, 0xff, '"', '\\', '{', '\n', '%'};
          s[below(s.size())] = static_cast<char>(kValues[below(sizeof kValues)]);
        }
        break;
      case 2:  // cut the end
        s.resize(below(s.size() + 1));
        break;
      case 3:  // erase a range
        if (!s.empty()) {
          const size_t at = below(s.size());
          s.erase(at, below(s.size() - at + 1));
        }
        break;
      case 4:  // insert random bytes
      {
        std::string bytes(1 + below(8), '\0');
        for (char& c : bytes) c = static_cast<char>(rng());
        s.insert(below(s.size() + 1), bytes);
        break;
      }
      case 5:  // duplicate a range
        if (!s.empty()) {
          const size_t at = below(s.size());
          s.insert(below(s.size() + 1), s.substr(at, 1 + below(64)));
        }
        break;
      default:  // splice with another input
      {
        const std::string& other = corpus[below(corpus.size())];
        s = s.substr(0, below(s.size() + 1)) + other.substr(below(other.size() + 1));
        break;
      }
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: %s <target> <corpus dir>... [--mutate-seconds N]\ntargets:", argv[0]);
    for (const Target& t : kTargets) std::fprintf(stderr, " %s", t.name);
    std::fprintf(stderr, "\n");
    return 2;
  }
  const std::string name = argv[1];
  for (const Target& t : kTargets) {
    if (name == t.name) g_one_input = t.one_input;
  }
  if (g_one_input == nullptr) {
    std::fprintf(stderr, "no fuzz target %s\n", name.c_str());
    return 2;
  }
  std::vector<std::string> dirs;
  double mutate_seconds = 0;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--mutate-seconds") == 0 && i + 1 < argc) {
      mutate_seconds = std::atof(argv[++i]);
    } else {
      dirs.emplace_back(argv[i]);
    }
  }
  std::snprintf(g_crash_path, sizeof g_crash_path, "crash-%s", name.c_str());
  // On an alternate stack, so that a stack overflow is caught too.
  static char alt_stack[256 * 1024];
  stack_t ss{};
  ss.ss_sp = alt_stack;
  ss.ss_size = sizeof alt_stack;
  ::sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_handler = onCrash;
  sa.sa_flags = SA_ONSTACK;
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) ::sigaction(sig, &sa, nullptr);

  std::vector<std::string> corpus;
  for (const std::string& dir : dirs) {
    std::error_code ec;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
      if (!e.is_regular_file()) continue;
      std::ifstream in(e.path(), std::ios::binary);
      std::ostringstream bytes;
      bytes << in.rdbuf();
      corpus.push_back(bytes.str());
    }
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "%s: no inputs in the corpus directories\n", name.c_str());
    return 1;
  }
  for (const std::string& input : corpus) run(input);
  size_t mutated = 0;
  if (mutate_seconds > 0) {
    // A fixed seed per run of the same corpus keeps a failure reproducible.
    const char* seed_env = std::getenv("OTLPD_FUZZ_SEED");
    std::mt19937_64 rng(seed_env != nullptr ? std::strtoull(seed_env, nullptr, 10) : 1);
    const auto end =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(mutate_seconds);
    while (std::chrono::steady_clock::now() < end) {
      for (int i = 0; i < 16; ++i, ++mutated) run(mutate(corpus, rng));
    }
  }
  std::printf("%s: %zu corpus inputs and %zu mutated inputs ran, no crash\n", name.c_str(),
              corpus.size(), mutated);
  return 0;
}
