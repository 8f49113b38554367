// armap eval whitemodel: the whitemodel product of a map package against ground truth.
#include "tools/commands.h"

namespace armap::tools {

void RegisterWhiteModelCommands(CLI::App& app, int* exit_code) {}

}  // namespace armap::tools
