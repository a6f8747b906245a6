// libotlpd.so is made of the objects of otlpd_lib (linked whole); this file only gives the
// target a source of its own.
#include "otlpd/collector.h"
