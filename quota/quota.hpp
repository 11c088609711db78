// The quota module: named limits with upstream's defaults, per-domain
// overrides, usage counters and the CONTROL quota texts. Pure code: no system
// calls, no globals.
#pragma once

#include "quota/items.hpp"   // Item, name(), parse_name(), Limits, within(), names_list()
#include "quota/report.hpp"  // format_settings(), format_domain(), ...
#include "quota/table.hpp"   // Table
#include "quota/usage.hpp"   // Usage
