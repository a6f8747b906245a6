#pragma once

// Every file of ours includes simdjson through this header, so that all agree on one definition
// of its inline functions. The build keeps assert() on (CMakeLists.txt drops -DNDEBUG); simdjson
// then turns its On-Demand development checks into out-of-line calls on every token, which cost
// the OTLP/JSON and Zipkin decoders about a third of their time. Those checks guard simdjson's
// own API use, not our invariants: they are switched off here, and assert() is restored after.
#ifndef NDEBUG
#define NDEBUG
#define OTLPD_SIMDJSON_RESTORE_ASSERT
#endif
#include <simdjson.h>
#ifdef OTLPD_SIMDJSON_RESTORE_ASSERT
#undef NDEBUG
#undef OTLPD_SIMDJSON_RESTORE_ASSERT
#include <cassert>
#endif
