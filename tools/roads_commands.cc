// armap eval roads: the roads product of a map package against ground truth.
#include "tools/commands.h"

namespace armap::tools {

void RegisterRoadsCommands(CLI::App& app, int* exit_code) {}

}  // namespace armap::tools
