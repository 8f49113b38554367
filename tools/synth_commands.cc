#include "tools/commands.h"
namespace armap::tools {
void RegisterSynthCommands(CLI::App& app, int* exit_code) {}
}
