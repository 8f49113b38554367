// armap eval pois: the pois product of a map package against ground truth.
#include "tools/commands.h"

namespace armap::tools {

void RegisterPoisCommands(CLI::App& app, int* exit_code) {}

}  // namespace armap::tools
